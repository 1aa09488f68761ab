/* Reference reductions: Mean, Sum, Prod, Max, Min over an axis mask. */
#include <float.h>

#include "backend/reference/reference.h"

void fr_kernel_reduce(const fr_plan *plan, const fr_step *s, void *arena) {
    const fr_value *xv = &plan->values[s->inputs[0]], *ov = &plan->values[s->output];
    const float *x = fr_value_ptr(plan, arena, s->inputs[0]);
    float *o = fr_value_ptr(plan, arena, s->output);
    fr_reduce_op op = s->p.reduce.op;
    unsigned mask = s->p.reduce.axes_mask;
    int r = xv->rank;
    float init = op == FR_RED_PROD ? 1.0f : op == FR_RED_MAX ? -FLT_MAX : op == FR_RED_MIN ? FLT_MAX : 0.0f;
    for (size_t i = 0; i < ov->count; i++) o[i] = init;
    /* output stride of each input dim (0 for reduced dims) */
    int64_t os[FROST_MAX_RANK], m = 1;
    for (int i = r - 1; i >= 0; i--) {
        os[i] = (mask & (1u << i)) ? 0 : m;
        if (!(mask & (1u << i))) m *= xv->dims[i];
    }
    int64_t idx[FROST_MAX_RANK] = {0}, oi = 0;
    for (size_t i = 0; i < xv->count; i++) {
        float v = x[i];
        switch (op) {
        case FR_RED_MEAN: case FR_RED_SUM: o[oi] += v; break;
        case FR_RED_PROD: o[oi] *= v; break;
        case FR_RED_MAX: if (v > o[oi]) o[oi] = v; break;
        case FR_RED_MIN: if (v < o[oi]) o[oi] = v; break;
        }
        fr_ref_advance(r, xv->dims, os, idx, &oi);
    }
    if (op == FR_RED_MEAN && ov->count) {
        float n = (float)(xv->count / ov->count);
        for (size_t i = 0; i < ov->count; i++) o[i] /= n;
    }
}
