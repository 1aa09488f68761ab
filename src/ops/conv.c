/* Conv2D and DepthwiseConv2dNative (NHWC; filters HWIO / [kh][kw][cin][mult]). */
#include <string.h>

#include "ops/ops.h"

/* Output size and padding of one spatial dimension.  0 ok, -1 fails the node. */
int fr_conv_dim(fr_builder *b, const char *padding, int64_t in, int64_t k, int64_t s, int64_t d, const int64_t *explicit_pad,
                int64_t *out, int *pad_before, int *pad_after) {
    if (k < 1 || s < 1 || d < 1 || k > 1 << 20 || s > 1 << 20 || d > 1 << 20)
        return fr_b_fail(b, FROST_E_GRAPH, "bad kernel size, stride or dilation");
    int64_t ek = (k - 1) * d + 1;
    if (!strcmp(padding, "SAME")) {
        *out = (in + s - 1) / s;
        int64_t total = (*out - 1) * s + ek - in;
        if (total < 0) total = 0;
        *pad_before = (int)(total / 2);
        *pad_after = (int)(total - total / 2);
    } else if (!strcmp(padding, "VALID")) {
        if (in < ek) return fr_b_fail(b, FROST_E_SHAPE, "input size %lld is smaller than the window %lld", (long long)in, (long long)ek);
        *out = (in - ek + s) / s;
        *pad_before = *pad_after = 0;
    } else if (!strcmp(padding, "EXPLICIT") && explicit_pad) {
        if (explicit_pad[0] < 0 || explicit_pad[1] < 0 || explicit_pad[0] > 1 << 20 || explicit_pad[1] > 1 << 20)
            return fr_b_fail(b, FROST_E_GRAPH, "bad explicit padding");
        int64_t padded = in + explicit_pad[0] + explicit_pad[1];
        if (padded < ek) return fr_b_fail(b, FROST_E_SHAPE, "padded input is smaller than the window");
        *out = (padded - ek) / s + 1;
        *pad_before = (int)explicit_pad[0];
        *pad_after = (int)explicit_pad[1];
    } else {
        return fr_b_fail(b, FROST_E_GRAPH, "unsupported padding '%s'", padding);
    }
    return 0;
}

static int lower_conv(fr_builder *b, const fr_node *n) {
    int depthwise = !strcmp(n->op, "DepthwiseConv2dNative");
    int x = fr_b_input(b, 0), w = fr_b_input(b, 1);
    if (x < 0 || w < 0) return -1;
    char fmt[16], padding[16];
    fr_b_attr_str(b, "data_format", fmt, sizeof fmt);
    if (fmt[0] && strcmp(fmt, "NHWC")) return fr_b_fail(b, FROST_E_GRAPH, "data_format %s is not supported (NHWC only)", fmt);
    if (!fr_b_attr_str(b, "padding", padding, sizeof padding)) return fr_b_fail(b, FROST_E_GRAPH, "no padding attribute");
    int64_t strides[4] = {1, 1, 1, 1}, dil[4] = {1, 1, 1, 1}, ep[8] = {0};
    int ns = fr_b_attr_ints(b, "strides", strides, 4), nd = fr_b_attr_ints(b, "dilations", dil, 4);
    int ne = fr_b_attr_ints(b, "explicit_paddings", ep, 8);
    if (b->status) return -1;
    if ((ns && ns != 4) || (nd && nd != 4) || strides[0] != 1 || strides[3] != 1 || dil[0] != 1 || dil[3] != 1)
        return fr_b_fail(b, FROST_E_GRAPH, "strides/dilations must be [1, h, w, 1]");
    if (!strcmp(padding, "EXPLICIT") && ne != 8) return fr_b_fail(b, FROST_E_GRAPH, "explicit_paddings must have 8 values");
    const fr_ival *xv = fr_b_val(b, x), *wv = fr_b_val(b, w);
    if (xv->v.rank != 4) return fr_b_fail(b, FROST_E_SHAPE, "input must have rank 4, has %d", xv->v.rank);
    if (wv->v.rank != 4) return fr_b_fail(b, FROST_E_SHAPE, "filter must have rank 4, has %d", wv->v.rank);
    if (wv->v.kind != FR_VALUE_CONST) return fr_b_fail(b, FROST_E_GRAPH, "the filter must be a constant");
    fr_step s;
    memset(&s, 0, sizeof s);
    s.kind = FR_STEP_CONV;
    fr_conv_params *c = &s.p.conv;
    c->kh = (int)wv->v.dims[0];
    c->kw = (int)wv->v.dims[1];
    c->cin = (int)xv->v.dims[3];
    if (wv->v.dims[2] != xv->v.dims[3])
        return fr_b_fail(b, FROST_E_SHAPE, "filter has %lld input channels, input has %lld", (long long)wv->v.dims[2],
                         (long long)xv->v.dims[3]);
    if (depthwise) {
        c->groups = c->cin;
        c->cout = (int)(wv->v.dims[2] * wv->v.dims[3]);
    } else {
        c->groups = 1;
        c->cout = (int)wv->v.dims[3];
    }
    if (c->kh < 1 || c->kw < 1 || c->cout < 1 || c->cin < 1) return fr_b_fail(b, FROST_E_SHAPE, "empty filter or input");
    c->stride_h = (int)strides[1];
    c->stride_w = (int)strides[2];
    c->dil_h = (int)dil[1];
    c->dil_w = (int)dil[2];
    c->residual = -1;
    c->weights = wv->v.data;
    c->weights_raw = wv->v.data ? NULL : wv->raw; /* lazy: the backend reads the bytes */
    int64_t dims[4] = {xv->v.dims[0], 0, 0, c->cout};
    if (fr_conv_dim(b, padding, xv->v.dims[1], c->kh, c->stride_h, c->dil_h, ep + 2, &dims[1], &c->pad_top, &c->pad_bottom) ||
        fr_conv_dim(b, padding, xv->v.dims[2], c->kw, c->stride_w, c->dil_w, ep + 4, &dims[2], &c->pad_left, &c->pad_right))
        return -1;
    return fr_ops_emit(b, &s, &x, 1, 4, dims);
}

const fr_op_def fr_ops_conv[] = {
    {"Conv2D", lower_conv},
    {"DepthwiseConv2dNative", lower_conv},
    {NULL, NULL},
};
