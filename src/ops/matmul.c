/* MatMul (2-D, transpose_a / transpose_b). */
#include <string.h>

#include "ops/ops.h"

static int lower_matmul(fr_builder *b, const fr_node *n) {
    int a = fr_b_input(b, 0), w = fr_b_input(b, 1);
    if (a < 0 || w < 0) return -1;
    int ta = (int)fr_b_attr_int(b, "transpose_a", 0), tb = (int)fr_b_attr_int(b, "transpose_b", 0);
    if (b->status) return -1;
    const fr_ival *av = fr_b_val(b, a), *wv = fr_b_val(b, w);
    if (av->v.rank != 2 || wv->v.rank != 2) return fr_b_fail(b, FROST_E_SHAPE, "MatMul needs two matrices (ranks %d, %d)", av->v.rank, wv->v.rank);
    int64_t M = ta ? av->v.dims[1] : av->v.dims[0], K = ta ? av->v.dims[0] : av->v.dims[1];
    int64_t K2 = tb ? wv->v.dims[1] : wv->v.dims[0], N = tb ? wv->v.dims[0] : wv->v.dims[1];
    if (K != K2) return fr_b_fail(b, FROST_E_SHAPE, "inner dimensions differ (%lld vs %lld)", (long long)K, (long long)K2);
    if (M > INT32_MAX || K > INT32_MAX || N > INT32_MAX) return fr_b_fail(b, FROST_E_SHAPE, "matrix too large");
    fr_step s;
    memset(&s, 0, sizeof s);
    s.kind = FR_STEP_MATMUL;
    fr_matmul_params *p = &s.p.matmul;
    p->m = (int)M;
    p->k = (int)K;
    p->n = (int)N;
    p->residual = -1;
    int64_t dims[2] = {M, N};
    int out;
    if (wv->v.kind == FR_VALUE_CONST && !ta && av->v.kind != FR_VALUE_CONST) {
        if (tb) {
            float *t = fr_b_alloc(b, sizeof(float) * (size_t)(K * N) + 4);
            if (!t) return -1;
            const float *src = fr_b_data(b, w);
            if (!src) return -1;
            for (int64_t k = 0; k < K; k++)
                for (int64_t j = 0; j < N; j++) t[k * N + j] = src[j * K + k];
            p->weights = t;
        } else {
            p->weights = fr_b_data(b, w);
            if (!p->weights) return -1;
        }
        out = fr_b_emit(b, &s, &a, 1, 2, dims, 0);
    } else {
        p->transpose_a = ta;
        p->transpose_b = tb;
        int ins[2] = {a, w};
        out = fr_b_emit(b, &s, ins, 2, 2, dims, 0);
    }
    if (out < 0) return -1;
    fr_b_set_output(b, 0, out);
    return 0;
}

const fr_op_def fr_ops_matmul[] = {
    {"MatMul", lower_matmul},
    {NULL, NULL},
};
