/* Softmax and batch normalisation (inference). */
#include <math.h>
#include <string.h>

#include "ops/ops.h"

static int lower_softmax(fr_builder *b, const fr_node *n) {
    int x = fr_b_input(b, 0);
    if (x < 0) return -1;
    const fr_ival *xv = fr_b_val(b, x);
    if (xv->v.rank < 1) return fr_b_fail(b, FROST_E_SHAPE, "softmax needs rank >= 1");
    fr_step s;
    memset(&s, 0, sizeof s);
    s.kind = FR_STEP_SOFTMAX;
    int64_t dims[FROST_MAX_RANK];
    memcpy(dims, xv->v.dims, sizeof dims);
    return fr_ops_emit(b, &s, &x, 1, xv->v.rank, dims);
}

static int lower_batchnorm(fr_builder *b, const fr_node *n) {
    int in[5];
    for (int i = 0; i < 5; i++)
        if ((in[i] = fr_b_input(b, i)) < 0) return -1;
    char fmt[16];
    fr_b_attr_str(b, "data_format", fmt, sizeof fmt);
    if (fmt[0] && strcmp(fmt, "NHWC")) return fr_b_fail(b, FROST_E_GRAPH, "data_format %s is not supported (NHWC only)", fmt);
    if (fr_b_attr_int(b, "is_training", 1)) return fr_b_fail(b, FROST_E_GRAPH, "is_training=true is not supported (inference only)");
    float eps = fr_b_attr_float(b, "epsilon", 1e-4f);
    if (b->status) return -1;
    const fr_ival *xv = fr_b_val(b, in[0]);
    if (xv->v.rank < 1) return fr_b_fail(b, FROST_E_SHAPE, "input must have rank >= 1");
    int C = (int)xv->v.dims[xv->v.rank - 1];
    static const char *const names[] = {"x", "scale", "offset", "mean", "variance"};
    for (int i = 1; i < 5; i++) {
        const fr_ival *v = fr_b_val(b, in[i]);
        if (v->v.kind != FR_VALUE_CONST) return fr_b_fail(b, FROST_E_GRAPH, "%s must be a constant", names[i]);
        if (v->v.rank != 1 || v->v.dims[0] != C)
            return fr_b_fail(b, FROST_E_SHAPE, "%s must have %d elements", names[i], C);
    }
    float *sc = fr_b_alloc(b, sizeof(float) * (size_t)C), *sh = fr_b_alloc(b, sizeof(float) * (size_t)C);
    if (!sc || !sh) return -1;
    const float *g = fr_b_data(b, in[1]), *beta = fr_b_data(b, in[2]);
    const float *mean = fr_b_data(b, in[3]), *var = fr_b_data(b, in[4]);
    if (!g || !beta || !mean || !var) return -1;
    for (int c = 0; c < C; c++) {
        sc[c] = g[c] / sqrtf(var[c] + eps);
        sh[c] = beta[c] - mean[c] * sc[c];
    }
    fr_step s;
    memset(&s, 0, sizeof s);
    s.kind = FR_STEP_SCALE_SHIFT;
    s.p.scale_shift.channels = C;
    s.p.scale_shift.scale = sc;
    s.p.scale_shift.shift = sh;
    xv = fr_b_val(b, in[0]);
    int64_t dims[FROST_MAX_RANK];
    memcpy(dims, xv->v.dims, sizeof dims);
    int out = fr_b_emit(b, &s, &in[0], 1, xv->v.rank, dims, 0);
    if (out < 0) return -1;
    fr_b_set_output(b, 0, out);
    fr_b_set_output(b, 1, in[3]);
    fr_b_set_output(b, 2, in[4]);
    fr_b_set_output(b, 3, in[3]);
    fr_b_set_output(b, 4, in[4]);
    return 0;
}

const fr_op_def fr_ops_nn[] = {
    {"Softmax", lower_softmax},
    {"FusedBatchNorm", lower_batchnorm},
    {"FusedBatchNormV2", lower_batchnorm},
    {"FusedBatchNormV3", lower_batchnorm},
    {NULL, NULL},
};
