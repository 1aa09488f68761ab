/* Graph plumbing: Const, Placeholder, Identity-like ops, NoOp, Cast, Shape. */
#include <math.h>
#include <string.h>

#include "ops/ops.h"

static int lower_const(fr_builder *b, const fr_node *n) {
    fr_pb_tensor t;
    const char *why = "";
    int rc = fr_node_const_tensor(b->g, n, &t, &why);
    if (rc == -3) return fr_b_fail(b, FROST_E_GRAPH, "Const has no 'value' tensor");
    if (rc != 0) return fr_b_fail(b, rc == -2 ? FROST_E_LIMIT : FROST_E_PARSE, "%s", why);
    if (t.dtype == FR_DT_STRING) return fr_b_fail(b, FROST_E_GRAPH, "string constants are not supported");
    const float *data;
    int owned = 0;
    if (t.dtype == FR_DT_FLOAT && t.content && ((uintptr_t)t.content & 3) == 0) {
        data = (const float *)(const void *)t.content; /* used in place */
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    } else if (t.dtype == FR_DT_FLOAT && t.content && b->g->map && t.content_len >= 4096) {
        /* unaligned, in the file map: copied only when read as floats
         * (fr_b_data); a convolution filter reaches the backend as bytes */
        int id = fr_b_const(b, t.dtype, t.shape.rank, t.shape.dims, NULL, 0);
        if (id < 0) return -1;
        fr_b_val(b, id)->raw = t.content;
        fr_b_set_output(b, 0, id);
        return 0;
#endif
    } else {
        float *d = fr_b_alloc(b, (size_t)t.count * sizeof(float));
        if (!d) return -1;
        fr_pb_tensor_to_float(&t, d);
        if (t.content) fr_graph_release_range(b->g, t.content, t.content_len); /* copied */
        data = d;
        owned = 1;
    }
    int id = fr_b_const(b, t.dtype, t.shape.rank, t.shape.dims, data, owned);
    if (id < 0) return -1;
    fr_b_set_output(b, 0, id);
    return 0;
}

static int lower_placeholder(fr_builder *b, const fr_node *n) {
    return fr_b_fail(b, FROST_E_GRAPH, "Placeholder '%s' is needed by the outputs but is not an input", n->name);
}

static int lower_identity(fr_builder *b, const fr_node *n) {
    int x = fr_b_input(b, 0);
    if (x < 0) return -1;
    fr_b_set_output(b, 0, x);
    return 0;
}

static int lower_noop(fr_builder *b, const fr_node *n) { return 0; }

static int lower_cast(fr_builder *b, const fr_node *n) {
    int x = fr_b_input(b, 0);
    if (x < 0) return -1;
    int dst = (int)fr_b_attr_int(b, "DstT", FR_DT_FLOAT);
    fr_ival *v = fr_b_val(b, x);
    if (v->v.kind != FR_VALUE_CONST) {
        if (dst != FR_DT_FLOAT) return fr_b_fail(b, FROST_E_GRAPH, "run-time Cast to %s is not supported", fr_dtype_name(dst));
        fr_b_set_output(b, 0, x);
        return 0;
    }
    if (dst == FR_DT_FLOAT || dst == FR_DT_DOUBLE || dst == FR_DT_HALF) { /* the values as they are: shared */
        const float *src = fr_b_data(b, x);
        if (!src) return -1;
        v = fr_b_val(b, x);
        int id = fr_b_const(b, dst, v->v.rank, v->v.dims, src, 0);
        if (id < 0) return -1;
        fr_b_set_output(b, 0, id);
        return 0;
    }
    size_t cnt = v->v.count;
    const float *src = fr_b_data(b, x);
    float *d = src ? fr_b_alloc(b, cnt * sizeof(float)) : NULL;
    if (!d) return -1;
    v = fr_b_val(b, x);
    for (size_t i = 0; i < cnt; i++) {
        float f = src[i];
        switch (dst) {
        case FR_DT_FLOAT: case FR_DT_DOUBLE: d[i] = f; break;
        case FR_DT_HALF: d[i] = f; break;
        case FR_DT_BOOL: d[i] = f != 0.0f; break;
        case FR_DT_UINT8: d[i] = (float)(uint8_t)(int64_t)f; break;
        default: d[i] = truncf(f); break;
        }
    }
    int id = fr_b_const(b, dst, v->v.rank, v->v.dims, d, 1);
    if (id < 0) return -1;
    fr_b_set_output(b, 0, id);
    return 0;
}

static int lower_shape(fr_builder *b, const fr_node *n) {
    int x = fr_b_input(b, 0);
    if (x < 0) return -1;
    int dt = (int)fr_b_attr_int(b, "out_type", FR_DT_INT32);
    const fr_ival *v = fr_b_val(b, x);
    int rank = v->v.rank;
    float *d = fr_b_alloc(b, (size_t)(rank + 1) * sizeof(float));
    if (!d) return -1;
    v = fr_b_val(b, x);
    for (int i = 0; i < rank; i++) d[i] = (float)v->v.dims[i];
    int64_t dims[1] = {rank};
    int id = fr_b_const(b, dt, 1, dims, d, 1);
    if (id < 0) return -1;
    fr_b_set_output(b, 0, id);
    return 0;
}

const fr_op_def fr_ops_basic[] = {
    {"Const", lower_const},
    {"Placeholder", lower_placeholder},
    {"PlaceholderWithDefault", lower_identity},
    {"Identity", lower_identity},
    {"Snapshot", lower_identity},
    {"StopGradient", lower_identity},
    {"PreventGradient", lower_identity},
    {"NoOp", lower_noop},
    {"Cast", lower_cast},
    {"Shape", lower_shape},
    {NULL, NULL},
};
