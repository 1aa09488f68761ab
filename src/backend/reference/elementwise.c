/* Reference elementwise steps: binary (numpy broadcasting), unary, per-channel scale-shift. */
#include <math.h>

#include "backend/reference/reference.h"

static inline float binop(fr_binary_op op, float a, float c) {
    switch (op) {
    case FR_BIN_ADD: return a + c;
    case FR_BIN_SUB: return a - c;
    case FR_BIN_MUL: return a * c;
    case FR_BIN_DIV: return a / c;
    case FR_BIN_MAX: return a > c ? a : c;
    case FR_BIN_MIN: return a < c ? a : c;
    case FR_BIN_SQUARED_DIFF: return (a - c) * (a - c);
    }
    return 0;
}

void fr_kernel_binary(const fr_plan *plan, const fr_step *s, void *arena) {
    const fr_value *ov = &plan->values[s->output];
    const fr_value *av = &plan->values[s->inputs[0]], *bv = &plan->values[s->inputs[1]];
    const float *a = fr_value_ptr(plan, arena, s->inputs[0]), *c = fr_value_ptr(plan, arena, s->inputs[1]);
    float *o = fr_value_ptr(plan, arena, s->output);
    int r = ov->rank;
    fr_binary_op op = s->p.binary.op;
    fr_act act = s->p.binary.act;
    float alpha = s->p.binary.alpha;
    if (av->count == ov->count && bv->count == ov->count) {
        for (size_t i = 0; i < ov->count; i++) o[i] = fr_apply_act(binop(op, a[i], c[i]), act, alpha);
        return;
    }
    /* strides of a and b over the output's dims (0 where broadcast) */
    size_t sa[FROST_MAX_RANK], sb[FROST_MAX_RANK];
    size_t ma = 1, mb = 1;
    for (int i = r - 1; i >= 0; i--) {
        int ia = av->rank - r + i, ib = bv->rank - r + i;
        int64_t da = ia >= 0 ? av->dims[ia] : 1, db = ib >= 0 ? bv->dims[ib] : 1;
        sa[i] = da == 1 ? 0 : ma;
        sb[i] = db == 1 ? 0 : mb;
        ma *= (size_t)da;
        mb *= (size_t)db;
    }
    if (ov->count == 0) return;
    if (r == 0) {
        o[0] = fr_apply_act(binop(op, a[0], c[0]), act, alpha);
        return;
    }
    int64_t idx[FROST_MAX_RANK] = {0};
    size_t inner = (size_t)ov->dims[r - 1], ia = 0, ib = 0;
    for (size_t base = 0; base < ov->count; base += inner) {
        for (size_t k = 0; k < inner; k++)
            o[base + k] = fr_apply_act(binop(op, a[ia + k * sa[r - 1]], c[ib + k * sb[r - 1]]), act, alpha);
        for (int d = r - 2; d >= 0; d--) {
            idx[d]++;
            ia += sa[d];
            ib += sb[d];
            if (idx[d] < ov->dims[d]) break;
            ia -= sa[d] * (size_t)idx[d];
            ib -= sb[d] * (size_t)idx[d];
            idx[d] = 0;
        }
    }
}

void fr_kernel_unary(const fr_plan *plan, const fr_step *s, void *arena) {
    const fr_value *ov = &plan->values[s->output];
    const float *x = fr_value_ptr(plan, arena, s->inputs[0]);
    float *o = fr_value_ptr(plan, arena, s->output);
    float alpha = s->p.unary.alpha;
    size_t n = ov->count;
    switch (s->p.unary.op) {
    case FR_UN_RELU: for (size_t i = 0; i < n; i++) o[i] = x[i] > 0 ? x[i] : 0; break;
    case FR_UN_RELU6: for (size_t i = 0; i < n; i++) o[i] = x[i] > 0 ? (x[i] < 6 ? x[i] : 6) : 0; break;
    case FR_UN_LEAKY_RELU: for (size_t i = 0; i < n; i++) o[i] = x[i] < 0 ? alpha * x[i] : x[i]; break;
    case FR_UN_SIGMOID: for (size_t i = 0; i < n; i++) o[i] = 1.0f / (1.0f + expf(-x[i])); break;
    case FR_UN_TANH: for (size_t i = 0; i < n; i++) o[i] = tanhf(x[i]); break;
    case FR_UN_SQRT: for (size_t i = 0; i < n; i++) o[i] = sqrtf(x[i]); break;
    case FR_UN_RSQRT: for (size_t i = 0; i < n; i++) o[i] = 1.0f / sqrtf(x[i]); break;
    case FR_UN_EXP: for (size_t i = 0; i < n; i++) o[i] = expf(x[i]); break;
    case FR_UN_NEG: for (size_t i = 0; i < n; i++) o[i] = -x[i]; break;
    case FR_UN_SQUARE: for (size_t i = 0; i < n; i++) o[i] = x[i] * x[i]; break;
    case FR_UN_ABS: for (size_t i = 0; i < n; i++) o[i] = fabsf(x[i]); break;
    }
}

void fr_kernel_scale_shift(const fr_plan *plan, const fr_step *s, void *arena) {
    const fr_scale_shift_params *p = &s->p.scale_shift;
    const fr_value *ov = &plan->values[s->output];
    const float *x = fr_value_ptr(plan, arena, s->inputs[0]);
    float *o = fr_value_ptr(plan, arena, s->output);
    size_t C = (size_t)p->channels;
    if (!C) return;
    for (size_t base = 0; base < ov->count; base += C)
        for (size_t c = 0; c < C; c++) o[base + c] = fr_apply_act(x[base + c] * p->scale[c] + p->shift[c], p->act, p->alpha);
}
