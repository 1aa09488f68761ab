/* Reductions: Mean, Sum, Prod, Max, Min (axes constant, keep_dims). */
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
    return fr_ops_emit(b, &s, &x, 1, orank, dims);
}

const fr_op_def fr_ops_reduce[] = {
    {"Mean", lower_reduce}, {"Sum", lower_reduce}, {"Prod", lower_reduce},
    {"Max", lower_reduce},  {"Min", lower_reduce}, {NULL, NULL},
};
