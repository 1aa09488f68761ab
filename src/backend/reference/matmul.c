/* Reference MatMul (2-D; constant weights [K][N], or both operands at run time with transposes). */
#include "backend/reference/reference.h"

void fr_kernel_matmul(const fr_plan *plan, const fr_step *s, void *arena) {
    const fr_matmul_params *p = &s->p.matmul;
    const float *a = fr_value_ptr(plan, arena, s->inputs[0]);
    float *o = fr_value_ptr(plan, arena, s->output);
    const float *res = p->residual >= 0 ? fr_value_ptr(plan, arena, p->residual) : NULL;
    size_t M = (size_t)p->m, K = (size_t)p->k, N = (size_t)p->n;
    if (p->weights) {
        for (size_t i = 0; i < M; i++) {
            float *op = o + i * N;
            for (size_t j = 0; j < N; j++) op[j] = p->bias ? p->bias[j] : 0.0f;
            for (size_t k = 0; k < K; k++) {
                float av = a[i * K + k];
                const float *wr = p->weights + k * N;
                for (size_t j = 0; j < N; j++) op[j] += av * wr[j];
            }
        }
    } else {
        const float *bm = fr_value_ptr(plan, arena, s->inputs[1]);
        for (size_t i = 0; i < M; i++)
            for (size_t j = 0; j < N; j++) {
                float acc = p->bias ? p->bias[j] : 0.0f;
                for (size_t k = 0; k < K; k++) {
                    float av = p->transpose_a ? a[k * M + i] : a[i * K + k];
                    float bv = p->transpose_b ? bm[j * K + k] : bm[k * N + j];
                    acc += av * bv;
                }
                o[i * N + j] = acc;
            }
    }
    for (size_t i = 0; i < M * N; i++) {
        float v = o[i] + (res ? res[i] : 0.0f);
        o[i] = fr_apply_act(v, p->act, p->alpha);
    }
    fr_fake_quant_apply(p->out_quant, o, M * N);
}
