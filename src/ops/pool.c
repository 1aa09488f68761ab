/* MaxPool and AvgPool (NHWC). */
#include <string.h>

#include "ops/ops.h"

static int lower_pool(fr_builder *b, const fr_node *n) {
    int x = fr_b_input(b, 0);
    if (x < 0) return -1;
    char fmt[16], padding[16];
    fr_b_attr_str(b, "data_format", fmt, sizeof fmt);
    if (fmt[0] && strcmp(fmt, "NHWC")) return fr_b_fail(b, FROST_E_GRAPH, "data_format %s is not supported (NHWC only)", fmt);
    if (!fr_b_attr_str(b, "padding", padding, sizeof padding)) return fr_b_fail(b, FROST_E_GRAPH, "no padding attribute");
    int64_t k[4] = {1, 1, 1, 1}, st[4] = {1, 1, 1, 1};
    int nk = fr_b_attr_ints(b, "ksize", k, 4), ns = fr_b_attr_ints(b, "strides", st, 4);
    if (b->status) return -1;
    if (nk != 4 || ns != 4 || k[0] != 1 || k[3] != 1 || st[0] != 1 || st[3] != 1)
        return fr_b_fail(b, FROST_E_GRAPH, "ksize/strides must be [1, h, w, 1]");
    const fr_ival *xv = fr_b_val(b, x);
    if (xv->v.rank != 4) return fr_b_fail(b, FROST_E_SHAPE, "input must have rank 4, has %d", xv->v.rank);
    fr_step s;
    memset(&s, 0, sizeof s);
    s.kind = FR_STEP_POOL;
    fr_pool_params *p = &s.p.pool;
    p->op = !strcmp(n->op, "MaxPool") ? FR_POOL_MAX : FR_POOL_AVG;
    p->kh = (int)k[1];
    p->kw = (int)k[2];
    p->stride_h = (int)st[1];
    p->stride_w = (int)st[2];
    int64_t dims[4] = {xv->v.dims[0], 0, 0, xv->v.dims[3]};
    if (fr_conv_dim(b, padding, xv->v.dims[1], k[1], st[1], 1, NULL, &dims[1], &p->pad_top, &p->pad_bottom) ||
        fr_conv_dim(b, padding, xv->v.dims[2], k[2], st[2], 1, NULL, &dims[2], &p->pad_left, &p->pad_right))
        return -1;
    if (p->kh > 1 << 16 || p->kw > 1 << 16) return fr_b_fail(b, FROST_E_GRAPH, "window too large");
    return fr_ops_emit(b, &s, &x, 1, 4, dims);
}

const fr_op_def fr_ops_pool[] = {
    {"MaxPool", lower_pool},
    {"AvgPool", lower_pool},
    {NULL, NULL},
};
