/* Reductions: Mean, Sum, Prod, Max, Min (axes constant, keep_dims). */
#include <float.h>
#include <string.h>

#include "ops/ops.h"

static int lower_reduce(fr_builder *b, const fr_node *n) {
    int x = fr_b_input(b, 0), ax = fr_b_input(b, 1);
    if (x < 0 || ax < 0) return -1;
    int keep = (int)(fr_b_attr_int(b, "keep_dims", 0) || fr_b_attr_int(b, "keepdims", 0));
    int64_t axes[FROST_MAX_RANK * 2];
    int na = fr_b_const_ints(b, ax, axes, FROST_MAX_RANK * 2, "the reduction axes");
    if (na < 0) return -1;
    const fr_ival *xv = fr_b_val(b, x);
    int r = xv->v.rank;
    unsigned mask = 0;
    for (int i = 0; i < na; i++) {
        int64_t a = axes[i] < 0 ? axes[i] + r : axes[i];
        if (a < 0 || a >= r) return fr_b_fail(b, FROST_E_SHAPE, "reduction axis %lld out of range for rank %d", (long long)axes[i], r);
        mask |= 1u << a;
    }
    fr_step s;
    memset(&s, 0, sizeof s);
    s.kind = FR_STEP_REDUCE;
    s.p.reduce.axes_mask = mask;
    s.p.reduce.op = !strcmp(n->op, "Mean") ? FR_RED_MEAN : !strcmp(n->op, "Sum") ? FR_RED_SUM
                  : !strcmp(n->op, "Prod") ? FR_RED_PROD : !strcmp(n->op, "Max") ? FR_RED_MAX : FR_RED_MIN;
    int64_t dims[FROST_MAX_RANK];
    int orank = 0;
    for (int i = 0; i < r; i++) {
        if (mask & (1u << i)) {
            if (keep) dims[orank++] = 1;
        } else {
            dims[orank++] = xv->v.dims[i];
        }
    }
    int out = fr_b_emit(b, &s, &x, 1, orank, dims, 0);
    if (out < 0) return -1;
    fr_b_set_output(b, 0, out);
    return 0;
}

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
    size_t os[FROST_MAX_RANK], m = 1;
    for (int i = r - 1; i >= 0; i--) {
        os[i] = (mask & (1u << i)) ? 0 : m;
        if (!(mask & (1u << i))) m *= (size_t)xv->dims[i];
    }
    int64_t idx[FROST_MAX_RANK] = {0};
    size_t oi = 0;
    for (size_t i = 0; i < xv->count; i++) {
        float v = x[i];
        switch (op) {
        case FR_RED_MEAN: case FR_RED_SUM: o[oi] += v; break;
        case FR_RED_PROD: o[oi] *= v; break;
        case FR_RED_MAX: if (v > o[oi]) o[oi] = v; break;
        case FR_RED_MIN: if (v < o[oi]) o[oi] = v; break;
        }
        for (int d = r - 1; d >= 0; d--) {
            idx[d]++;
            oi += os[d];
            if (idx[d] < xv->dims[d]) break;
            oi -= os[d] * (size_t)idx[d];
            idx[d] = 0;
        }
    }
    if (op == FR_RED_MEAN && ov->count) {
        float n = (float)(xv->count / ov->count);
        for (size_t i = 0; i < ov->count; i++) o[i] /= n;
    }
}

const fr_op_def fr_ops_reduce[] = {
    {"Mean", lower_reduce}, {"Sum", lower_reduce}, {"Prod", lower_reduce},
    {"Max", lower_reduce},  {"Min", lower_reduce}, {NULL, NULL},
};
