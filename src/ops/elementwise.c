/* Elementwise ops: binary with broadcasting, BiasAdd, unary activations. */
#include <string.h>

#include "ops/ops.h"

int fr_broadcast_shape(fr_builder *b, const fr_value *x, const fr_value *y, int *rank, int64_t *dims) {
    int r = x->rank > y->rank ? x->rank : y->rank;
    for (int i = 0; i < r; i++) {
        int ix = x->rank - r + i, iy = y->rank - r + i;
        int64_t a = ix >= 0 ? x->dims[ix] : 1, c = iy >= 0 ? y->dims[iy] : 1;
        if (a != c && a != 1 && c != 1)
            return fr_b_fail(b, FROST_E_SHAPE, "shapes cannot be broadcast (dimension %d: %lld vs %lld)", i,
                             (long long)a, (long long)c);
        dims[i] = a == 1 ? c : a;
    }
    *rank = r;
    return 0;
}

/* Is constant c a per-channel vector for runtime x (only its last dim may be != 1, equal to x's last dim or 1)? */
static int per_channel(const fr_value *x, const fr_value *c) {
    if (x->rank < 1 || c->rank > x->rank) return 0;
    for (int i = 0; i + 1 < c->rank; i++)
        if (c->dims[i] != 1) return 0;
    return c->count == 1 || (c->rank >= 1 && c->dims[c->rank - 1] == x->dims[x->rank - 1]);
}

static int emit_scale_shift(fr_builder *b, int x, int cst, int mode /* 0 add, 1 mul, 2 sub */, int *out) {
    const fr_ival *xv = fr_b_val(b, x);
    int C = (int)xv->v.dims[xv->v.rank - 1];
    const float *cd = fr_b_data(b, cst);
    float *sc = cd ? fr_b_alloc(b, sizeof(float) * (size_t)C) : NULL, *sh = sc ? fr_b_alloc(b, sizeof(float) * (size_t)C) : NULL;
    if (!sc || !sh) return -1;
    xv = fr_b_val(b, x);
    const fr_ival *cv = fr_b_val(b, cst);
    for (int c = 0; c < C; c++) {
        float k = cd[cv->v.count == 1 ? 0 : c];
        sc[c] = mode == 1 ? k : 1.0f;
        sh[c] = mode == 0 ? k : mode == 2 ? -k : 0.0f;
    }
    fr_step s;
    memset(&s, 0, sizeof s);
    s.kind = FR_STEP_SCALE_SHIFT;
    s.p.scale_shift.channels = C;
    s.p.scale_shift.scale = sc;
    s.p.scale_shift.shift = sh;
    int64_t dims[FROST_MAX_RANK];
    memcpy(dims, xv->v.dims, sizeof dims);
    *out = fr_b_emit(b, &s, &x, 1, xv->v.rank, dims, 0);
    return *out < 0 ? -1 : 0;
}

static int lower_binary(fr_builder *b, const fr_node *n) {
    static const struct {
        const char *name;
        fr_binary_op op;
    } map[] = {{"Add", FR_BIN_ADD},     {"AddV2", FR_BIN_ADD},     {"BiasAdd", FR_BIN_ADD},
               {"Sub", FR_BIN_SUB},     {"Mul", FR_BIN_MUL},       {"RealDiv", FR_BIN_DIV},
               {"Maximum", FR_BIN_MAX}, {"Minimum", FR_BIN_MIN},   {"SquaredDifference", FR_BIN_SQUARED_DIFF}};
    fr_binary_op op = FR_BIN_ADD;
    for (size_t i = 0; i < sizeof map / sizeof *map; i++)
        if (!strcmp(n->op, map[i].name)) op = map[i].op;
    int x = fr_b_input(b, 0), y = fr_b_input(b, 1);
    if (x < 0 || y < 0) return -1;
    const fr_ival *xv = fr_b_val(b, x), *yv = fr_b_val(b, y);
    int bias_add = !strcmp(n->op, "BiasAdd");
    if (bias_add) {
        char fmt[16];
        fr_b_attr_str(b, "data_format", fmt, sizeof fmt);
        if (fmt[0] && strcmp(fmt, "NHWC")) return fr_b_fail(b, FROST_E_GRAPH, "data_format %s is not supported (NHWC only)", fmt);
        if (yv->v.rank != 1 || xv->v.rank < 1 || yv->v.dims[0] != xv->v.dims[xv->v.rank - 1])
            return fr_b_fail(b, FROST_E_SHAPE, "bias must be a vector of the last dimension's size");
    }
    int rank;
    int64_t dims[FROST_MAX_RANK];
    if (fr_broadcast_shape(b, &xv->v, &yv->v, &rank, dims)) return -1;
    int out;
    int xc = xv->v.kind == FR_VALUE_CONST, yc = yv->v.kind == FR_VALUE_CONST;
    /* x op per-channel-constant becomes a scale-shift step that the compiler
     * can fold into a preceding convolution (BiasAdd and batch norms) */
    if (b->optimize && xc != yc && (op == FR_BIN_ADD || op == FR_BIN_MUL || (op == FR_BIN_SUB && yc))) {
        int rt = xc ? y : x, cst = xc ? x : y;
        const fr_ival *rv = fr_b_val(b, rt);
        if (rv->v.rank == rank && per_channel(&rv->v, &fr_b_val(b, cst)->v)) {
            if (emit_scale_shift(b, rt, cst, op == FR_BIN_ADD ? 0 : op == FR_BIN_MUL ? 1 : 2, &out)) return -1;
            fr_b_set_output(b, 0, out);
            return 0;
        }
    }
    fr_step s;
    memset(&s, 0, sizeof s);
    s.kind = FR_STEP_BINARY;
    s.p.binary.op = op;
    int ins[2] = {x, y};
    return fr_ops_emit(b, &s, ins, 2, rank, dims);
}

static int lower_unary(fr_builder *b, const fr_node *n) {
    static const struct {
        const char *name;
        fr_unary_op op;
    } map[] = {{"Relu", FR_UN_RELU},   {"Relu6", FR_UN_RELU6}, {"LeakyRelu", FR_UN_LEAKY_RELU},
               {"Sigmoid", FR_UN_SIGMOID}, {"Tanh", FR_UN_TANH}, {"Sqrt", FR_UN_SQRT},
               {"Rsqrt", FR_UN_RSQRT}, {"Exp", FR_UN_EXP},     {"Neg", FR_UN_NEG},
               {"Square", FR_UN_SQUARE}, {"Abs", FR_UN_ABS}};
    fr_step s;
    memset(&s, 0, sizeof s);
    s.kind = FR_STEP_UNARY;
    for (size_t i = 0; i < sizeof map / sizeof *map; i++)
        if (!strcmp(n->op, map[i].name)) s.p.unary.op = map[i].op;
    if (s.p.unary.op == FR_UN_LEAKY_RELU) s.p.unary.alpha = fr_b_attr_float(b, "alpha", 0.2f);
    int x = fr_b_input(b, 0);
    if (x < 0) return -1;
    const fr_ival *xv = fr_b_val(b, x);
    int64_t dims[FROST_MAX_RANK];
    memcpy(dims, xv->v.dims, sizeof dims);
    return fr_ops_emit(b, &s, &x, 1, xv->v.rank, dims);
}

const fr_op_def fr_ops_elementwise[] = {
    {"Add", lower_binary},     {"AddV2", lower_binary},   {"BiasAdd", lower_binary},   {"Sub", lower_binary},
    {"Mul", lower_binary},     {"RealDiv", lower_binary}, {"Maximum", lower_binary},   {"Minimum", lower_binary},
    {"SquaredDifference", lower_binary},
    {"Relu", lower_unary},     {"Relu6", lower_unary},    {"LeakyRelu", lower_unary},  {"Sigmoid", lower_unary},
    {"Tanh", lower_unary},     {"Sqrt", lower_unary},     {"Rsqrt", lower_unary},      {"Exp", lower_unary},
    {"Neg", lower_unary},      {"Square", lower_unary},   {"Abs", lower_unary},
    {NULL, NULL},
};
