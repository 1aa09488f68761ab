/* frost-test-labels: asan */
/* int8 execution (FROST_PRECISION_INT8, docs/int8.md) against the FakeQuant
 * semantics in float on the reference kernels (FROST_PRECISION_FP32, the
 * oracle, which never runs int8): small graphs with random data,
 *   x -> FakeQuantWithMinMaxVars -> Conv2D / DepthwiseConv2dNative / MatMul
 *     -> BiasAdd -> (Relu | Relu6) -> FakeQuantWithMinMaxVars -> y
 * with the weights as `frost quantize` writes them (int8 Const -> Cast -> Mul
 * by a scale per tensor or per output channel) or as graphs trained with
 * quantization have them (float Const -> FakeQuant), input ranges with zero
 * point 0 (u8: [0, 6]) and signed ones (zero point 128: [-4, 4]; 96:
 * [-3, 5]).  Each result must lie within one quantization step of the
 * output (the int8 path rounds ties to even where TensorFlow rounds half
 * up), and the profile must show the step on an int8 kernel.  Also: a chain
 * of quantized steps with a max pool between them and an output that stays
 * float, FP32 graphs without FakeQuant bit-identical under int8, and weights
 * whose input-channel pairs saturate u8 x s8 16-bit sums without VNNI (there
 * the step must run split, int8_pairs.c; ctest runs this test a second time
 * as test_int8_avx2, with ONEDNN_MAX_CPU_ISA=AVX2, and under valgrind). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/backend.h"
#ifdef FROST_HAVE_ONEDNN
#include "backend/onednn/internal.h"
#endif
#include "frost.h"
#include "graph/int8.h"
#include "pb/pb.h"
#include "pb/pbwriter.h"
#include "testutil.h"
#include "tgraph.h"

#define D(...) ((const int64_t[]){__VA_ARGS__})
#define F(...) ((const float[]){__VA_ARGS__})
#define IN(...) ((const char *const[]){__VA_ARGS__, NULL})

static uint32_t rng = 12345u;
static float frand(void) { /* [0, 1) */
    rng = rng * 1664525u + 1013904223u;
    return (float)(rng >> 8) / 16777216.0f;
}

typedef enum { OP_CONV, OP_DEPTHWISE, OP_MATMUL } op_kind;
/* W_INT8_WIDE: per channel, magnitudes 100..128, one sign for input
 * channels 2j and 2j+1: the pairs whose 16-bit sums saturate without VNNI */
/* W_INT8_FEW_WIDE: those of W_INT8_WIDE on input channels 2 and 3 (of
 * opposite signs but in every fourth output channel), magnitudes up to 20
 * elsewhere: the pairs cut only there */
typedef enum { W_INT8_TENSOR, W_INT8_CHANNEL, W_FAKE_QUANT, W_INT8_WIDE, W_INT8_FEW_WIDE } w_kind;

typedef struct {
    const char *what;
    op_kind op;
    w_kind weights;
    int k, stride, cin, cout; /* depthwise: cout = cin * multiplier */
    float in_min, in_max, out_min, out_max;
    const char *act; /* NULL, "Relu", "Relu6" */
} case_t;

/* Weights whose pairs oneDNN's u8 x s8 kernels saturate without VNNI (split). */
static int wide_weights(const case_t *c) { return c->weights == W_INT8_WIDE || c->weights == W_INT8_FEW_WIDE; }

/* A convolution's padding: pad, else SAME at stride 1, VALID above */
static const char *conv_pad(const case_t *c, const char *pad) {
    return pad ? pad : c->stride > 1 ? "VALID" : "SAME";
}

static void fq_vars(fr_gdw *w, const char *name, const char *x, float mn, float mx) {
    char lo[96], hi[96];
    snprintf(lo, sizeof lo, "%s/min", name);
    snprintf(hi, sizeof hi, "%s/max", name);
    fr_gdw_const_f(w, lo, 0, NULL, &mn);
    fr_gdw_const_f(w, hi, 0, NULL, &mx);
    fr_gdw_node(w, name, "FakeQuantWithMinMaxVars", IN(x, lo, hi));
    fr_gdw_node_end(w);
}

/* The filter `name` of `n` weights over `cols` output channels (the last
 * axis, or [cin, mult] for a depthwise one given as dims), as c->weights says. */
static void weights(fr_gdw *w, const case_t *c, const char *name, int rank, const int64_t *dims, int n, int cols) {
    char q[96], cast[96], sc[96], mn[96], mx[96];
    snprintf(q, sizeof q, "%s/int8", name);
    snprintf(cast, sizeof cast, "%s/dequantize", name);
    snprintf(sc, sizeof sc, "%s/scale", name);
    if (c->weights == W_FAKE_QUANT) { /* float weights, FakeQuant narrow [-a, a] per tensor */
        float *v = malloc(sizeof(float) * (size_t)n), a = 0.5f;
        for (int i = 0; i < n; i++) v[i] = (frand() * 2.0f - 1.0f) * a * 1.1f; /* some clip */
        fr_gdw_const_f(w, q, rank, dims, v);
        snprintf(mn, sizeof mn, "%s/min", name);
        snprintf(mx, sizeof mx, "%s/max", name);
        float lo = -a, hi = a;
        fr_gdw_const_f(w, mn, 0, NULL, &lo);
        fr_gdw_const_f(w, mx, 0, NULL, &hi);
        fr_gdw_node(w, name, "FakeQuantWithMinMaxVars", IN(q, mn, mx));
        fr_gdw_attr_bool(w, "narrow_range", 1);
        fr_gdw_node_end(w);
        free(v);
        return;
    }
    int8_t *v = malloc((size_t)n);
    for (int i = 0; i < n; i++) {
        int mag = 100 + (int)(frand() * 28.0f), neg = (i / cols / 2 + i % cols) % 2;
        int ci = (i / cols) % (c->cin > 0 ? c->cin : 1), few = c->weights == W_INT8_FEW_WIDE;
        if (few && ci / 2 == 1 && (i % cols) % 4) neg = ci % 2; /* a pair of opposite signs: nothing cut */
        if (c->weights == W_INT8_WIDE || (few && ci / 2 == 1)) v[i] = (int8_t)(neg ? -mag - 1 : mag);
        else if (few) v[i] = (int8_t)((int)(frand() * 41.0f) - 20);
        else v[i] = (int8_t)((int)(frand() * 255.0f) - 127);
    }
    fr_gdw_node_begin(w, q, "Const");
    fr_gdw_attr_type(w, "dtype", FR_DT_INT8);
    fr_gdw_attr_tensor(w, "value", FR_DT_INT8, rank, dims, v, (size_t)n);
    fr_gdw_node_end(w);
    free(v);
    fr_gdw_node(w, cast, "Cast", IN(q));
    fr_gdw_attr_type(w, "SrcT", FR_DT_INT8);
    fr_gdw_attr_type(w, "DstT", FR_DT_FLOAT);
    fr_gdw_node_end(w);
    int per_channel = c->weights == W_INT8_CHANNEL || wide_weights(c);
    float s[512];
    for (int i = 0; i < cols; i++) s[i] = (0.2f + frand()) / 127.0f / sqrtf((float)(n / cols));
    if (per_channel && c->op == OP_DEPTHWISE) fr_gdw_const_f(w, sc, 2, D(c->cin, c->cout / c->cin), s);
    else fr_gdw_const_f(w, sc, per_channel ? 1 : 0, D(cols), s);
    fr_gdw_node(w, name, "Mul", IN(cast, sc));
    fr_gdw_node_end(w);
}

/* The graph of case c (a convolution's padding: conv_pad): input x, output "y". */
static const uint8_t *case_graph(fr_gdw **wp, const case_t *c, int h, const char *pad, size_t *len) {
    int matmul = c->op == OP_MATMUL;
    fr_gdw *w = matmul ? tg_writer("x", 2, D(-1, c->cin)) : tg_writer("x", 4, D(-1, h, h, c->cin));
    fq_vars(w, "fq_in", "x", c->in_min, c->in_max);
    if (matmul) {
        weights(w, c, "wt", 2, D(c->cin, c->cout), c->cin * c->cout, c->cout);
        fr_gdw_node(w, "op", "MatMul", IN("fq_in", "wt"));
        fr_gdw_node_end(w);
    } else if (c->op == OP_DEPTHWISE) {
        int mult = c->cout / c->cin;
        weights(w, c, "wt", 4, D(c->k, c->k, c->cin, mult), c->k * c->k * c->cout, c->cout);
        tg_window(w, "op", "DepthwiseConv2dNative", IN("fq_in", "wt"), "SAME", 0, c->stride);
    } else {
        weights(w, c, "wt", 4, D(c->k, c->k, c->cin, c->cout), c->k * c->k * c->cin * c->cout, c->cout);
        tg_window(w, "op", "Conv2D", IN("fq_in", "wt"), conv_pad(c, pad), 0, c->stride);
    }
    float bias[512];
    for (int i = 0; i < c->cout; i++) bias[i] = frand() - 0.4f;
    fr_gdw_const_f(w, "b", 1, D(c->cout), bias);
    fr_gdw_node(w, "ba", "BiasAdd", IN("op", "b"));
    fr_gdw_node_end(w);
    const char *last = "ba";
    if (c->act) {
        fr_gdw_node(w, "act", c->act, IN("ba"));
        fr_gdw_node_end(w);
        last = "act";
    }
    fq_vars(w, "y", last, c->out_min, c->out_max);
    *wp = w;
    return fr_gdw_finish(w, len);
}

/* Whether the compiled model runs an int8 kernel for a step whose node is
 * `node` (profiling on). */
/* Whether the profile names `kernel_part` in the kernel of the step of
 * `node` (profiling on). */
static int step_kernel_has(tg_model *t, const char *node, const char *kernel_part) {
    const frost_op_profile *p = NULL;
    int n = 0;
    if (frost_context_profile(t->ctx, &p, &n) != FROST_OK) return 0;
    for (int i = 0; i < n; i++)
        if (p[i].name && !strcmp(p[i].name, node) && p[i].kernel && strstr(p[i].kernel, kernel_part)) return 1;
    return 0;
}

/* Whether int8 compiles run int8 kernels here (oneDNN from AVX2 on). */
static int int8_here(void) {
#ifdef FROST_HAVE_ONEDNN
    const fr_backend *be = fr_backend_onednn();
    return be && be->int8 && be->int8();
#else
    return 0;
#endif
}

/* The output step of the nudged range [out_min, out_max]. */
static float out_step(float mn, float mx) {
    return (mx - mn) / 255.0f;
}

/* Whether oneDNN's u8 x s8 sums saturate here (no VNNI): int8_pairs.c's split. */
static int int8_split_here(void) {
#ifdef FROST_HAVE_ONEDNN
    return int8_here() && !fr_dn_int8_vnni();
#else
    return 0;
#endif
}

/* frost_options.debug_flags of the int8 compiles (FROST_DEBUG_PORTABLE_KERNELS:
 * frost's loops next to oneDNN's in their portable forms) */
static unsigned int8_debug_flags;

/* Runs pb with `batch` items of x on the reference kernels (float) and on
 * the default backend in int8; compares the outputs (n per item).  split:
 * int8_node's weights saturate without VNNI, so there it must be split. */
static void compare(const char *what, const uint8_t *pb, size_t len, const float *x, int batch, size_t n, float tol,
                    const char *int8_node, int ref_exact, int split) {
    frost_options ref, i8;
    tg_options(&ref);
    tg_options(&i8);
    i8.backend = FROST_BACKEND_AUTO;
    i8.precision = FROST_PRECISION_INT8;
    i8.profiling = 1;
    i8.debug_flags = int8_debug_flags;
    tg_model a, b;
    if (tg_build(&a, pb, len, "y", &ref) != FROST_OK || tg_run1(&a, batch, x, NULL) != FROST_OK) {
        CHECK_MSG(0, "%s: reference: %s", what, tg_msg(&a));
        tg_free(&a);
        return;
    }
    if (tg_build(&b, pb, len, "y", &i8) != FROST_OK || tg_run1(&b, batch, x, NULL) != FROST_OK) {
        CHECK_MSG(0, "%s: int8: %s", what, tg_msg(&b));
    } else {
        size_t total = n * (size_t)batch, differ = 0;
        double d = tu_max_abs_diff(a.out[0], b.out[0], total);
        for (size_t i = 0; i < total; i++) differ += a.out[0][i] != b.out[0][i];
        CHECK_MSG(d <= tol, "%s: max abs diff %g > one step %g (%zu of %zu differ)", what, d, (double)tol, differ,
                  total);
        /* most agree exactly: a step off is a rounding tie or an accumulation's last bit */
        CHECK_MSG(differ * 20 <= total, "%s: %zu of %zu outputs differ", what, differ, total);
        if (int8_node && int8_here())
            CHECK_MSG(step_kernel_has(&b, int8_node, "int8"), "%s: %s does not run on an int8 kernel", what,
                      int8_node);
        if (int8_node && split && int8_split_here())
            CHECK_MSG(step_kernel_has(&b, int8_node, "int8:pairs:"), "%s: %s is not split", what, int8_node);
    }
    /* the reference kernels in an int8 compile (the FakeQuant fused into the
     * step before it): FakeQuant's float semantics, bit for bit (ref_exact;
     * else, branches quantized onto a concatenation's grid directly, within
     * the tolerance) */
    tg_model r;
    i8.backend = FROST_BACKEND_REFERENCE;
    if (tg_build(&r, pb, len, "y", &i8) != FROST_OK || tg_run1(&r, batch, x, NULL) != FROST_OK)
        CHECK_MSG(0, "%s: reference int8 compile: %s", what, tg_msg(&r));
    else if (ref_exact)
        CHECK_MSG(!memcmp(a.out[0], r.out[0], sizeof(float) * n * (size_t)batch),
                  "%s: the reference kernels differ in an int8 compile", what);
    else
        CHECK_MSG(tu_max_abs_diff(a.out[0], r.out[0], n * (size_t)batch) <= tol,
                  "%s: the reference kernels in an int8 compile: max abs diff %g", what,
                  tu_max_abs_diff(a.out[0], r.out[0], n * (size_t)batch));
    tg_free(&r);
    tg_free(&a);
    tg_free(&b);
}

/* Case c on h x h inputs (pad: conv_pad) */
static void run_case_at(const case_t *c, int h, const char *pad) {
    int batch = 2;
    fr_gdw *w;
    size_t len;
    const uint8_t *pb = case_graph(&w, c, h, pad, &len);
    size_t nin = c->op == OP_MATMUL ? (size_t)c->cin : (size_t)h * h * c->cin;
    size_t nout = c->op == OP_MATMUL ? (size_t)c->cout : 0;
    if (c->op != OP_MATMUL) {
        int valid = c->op == OP_CONV && !strcmp(conv_pad(c, pad), "VALID");
        int oh = valid ? (h - c->k) / c->stride + 1 : (h + c->stride - 1) / c->stride;
        nout = (size_t)oh * oh * c->cout;
    }
    float *x = malloc(sizeof(float) * nin * (size_t)batch);
    float span = c->in_max - c->in_min;
    for (size_t i = 0; i < nin * (size_t)batch; i++) x[i] = c->in_min - 0.05f * span + frand() * 1.1f * span;
    /* a source zero point (a range below 0) takes oneDNN's jit_int8 kernels,
     * which AVX-VNNI CPUs lack for depthwise ones: only u8 ranges must run int8 */
    compare(c->what, pb, len, x, batch, nout, out_step(c->out_min, c->out_max) * 1.0001f,
            c->in_min >= 0 || c->op != OP_DEPTHWISE ? "y" : NULL, 1, wide_weights(c));
    free(x);
    fr_gdw_free(w);
}

static void run_case(const case_t *c) {
    run_case_at(c, 9, NULL);
}

/* Weights w<tag>, then op (SAME, stride 1) over x, then act (NULL: none)
 * as r<tag>, then FakeQuant [lo, hi] as fq<tag>. */
static void layer(fr_gdw *w, const case_t *c, const char *tag, const char *op, const char *x, int k, int cin,
                  int cout, const char *act, float lo, float hi) {
    char wn[16], cn[16], rn[16], fn[16];
    snprintf(wn, sizeof wn, "w%s", tag);
    snprintf(cn, sizeof cn, "c%s", tag);
    snprintf(rn, sizeof rn, "r%s", tag);
    snprintf(fn, sizeof fn, "fq%s", tag);
    int dw = !strcmp(op, "DepthwiseConv2dNative"), n = k * k * cin * (dw ? cout / cin : cout);
    weights(w, c, wn, 4, D(k, k, cin, dw ? cout / cin : cout), n, cout);
    tg_window(w, cn, op, IN(x, wn), "SAME", 0, 1);
    if (act) {
        fr_gdw_node(w, rn, act, IN(cn));
        fr_gdw_node_end(w);
    }
    fq_vars(w, fn, act ? rn : cn, lo, hi);
}

/* x [0, 6] -> conv 3x3 relu -> FQ [0, 4] -> max pool 2 -> FQ [0, 3] -> depthwise 3x3 relu6 -> FQ [0, 6]
 * -> 1x1 conv -> FQ [-3, 5] -> Add(itself) (float: the FakeQuant's output back in f32) -> y. */
static void test_chain(void) {
    case_t c = {"chain", OP_CONV, W_INT8_CHANNEL, 3, 1, 8, 16, 0, 6, 0, 4, "Relu"};
    fr_gdw *w = tg_writer("x", 4, D(-1, 10, 10, 8));
    fq_vars(w, "fq0", "x", 0.0f, 6.0f);
    layer(w, &c, "1", "Conv2D", "fq0", 3, 8, 16, "Relu", 0.0f, 4.0f);
    tg_window(w, "mp", "MaxPool", IN("fq1"), "VALID", 2, 2);
    fq_vars(w, "fq2", "mp", 0.0f, 3.0f);
    c.op = OP_DEPTHWISE, c.cin = c.cout = 16;
    layer(w, &c, "3", "DepthwiseConv2dNative", "fq2", 3, 16, 16, "Relu6", 0.0f, 6.0f);
    c.op = OP_CONV, c.cout = 12;
    layer(w, &c, "4", "Conv2D", "fq3", 1, 16, 12, NULL, -3.0f, 5.0f);
    fr_gdw_node(w, "y", "Add", IN("fq4", "fq4"));
    fr_gdw_node_end(w);
    size_t len;
    const uint8_t *pb = fr_gdw_finish(w, &len);
    float x[3 * 10 * 10 * 8];
    for (size_t i = 0; i < sizeof x / sizeof x[0]; i++) x[i] = frand() * 6.5f - 0.2f;
    /* a step off early may move a later output by one of its steps: 2 steps of the last, doubled */
    compare("chain", pb, len, x, 3, 5 * 5 * 12, 2.0f * 2.0f * out_step(-3, 5) * 1.0001f, "fq3", 1, 0);
    fr_gdw_free(w);
}

/* Inception's pattern: branches (conv 1x1 relu -> FQ [0, 3], conv 3x3 relu6 -> FQ [0, 6], max pool ->
 * FQ [0, 5]) concatenated -> FQ [0, 6] -> conv 1x1 -> FQ [-2, 4] -> y.  The int8 compile quantizes the
 * branches onto the concatenation's grid directly (one rounding for two: a step of it at most). */
static void test_concat(void) {
    case_t c = {"concat", OP_CONV, W_INT8_CHANNEL, 1, 1, 8, 8, 0, 6, 0, 3, "Relu"};
    fr_gdw *w = tg_writer("x", 4, D(-1, 7, 7, 8));
    fq_vars(w, "fq0", "x", 0.0f, 6.0f);
    layer(w, &c, "a", "Conv2D", "fq0", 1, 8, 8, "Relu", 0.0f, 3.0f);
    layer(w, &c, "b", "Conv2D", "fq0", 3, 8, 16, "Relu6", 0.0f, 6.0f);
    tg_window(w, "mp", "MaxPool", IN("fq0"), "SAME", 3, 1);
    fq_vars(w, "fqm", "mp", 0.0f, 5.0f);
    int32_t axis = 3;
    fr_gdw_const_i32(w, "axis", 0, NULL, &axis);
    fr_gdw_node(w, "cat", "ConcatV2", IN("fqa", "fqb", "fqm", "axis"));
    fr_gdw_attr_int(w, "N", 3);
    fr_gdw_node_end(w);
    fq_vars(w, "fqc", "cat", 0.0f, 6.0f);
    weights(w, &c, "wc", 4, D(1, 1, 32, 12), 32 * 12, 12);
    tg_window(w, "cc", "Conv2D", IN("fqc", "wc"), "SAME", 0, 1);
    fq_vars(w, "y", "cc", -2.0f, 4.0f);
    size_t len;
    const uint8_t *pb = fr_gdw_finish(w, &len);
    float x[2 * 7 * 7 * 8];
    for (size_t i = 0; i < sizeof x / sizeof x[0]; i++) x[i] = frand() * 6.5f - 0.2f;
    compare("concat", pb, len, x, 2, 7 * 7 * 12, 3.0f * out_step(-2, 4) * 1.0001f, "y", 0, 0);
    fr_gdw_free(w);
}

/* Inception v3's nested pattern (Mixed_7b): a branch that is itself a concatenation.  x -> FQ [0, 6];
 * a: conv 1x1 relu -> FQ [0, 3]; i: conv 1x1 relu -> FQ [0, 4] -> (conv 3x3 relu -> FQ [0, 5], conv 1x1
 * relu -> FQ [0, 2]) concatenated -> FQ [0, 5]; m: max pool 3 -> FQ [0, 5]; (a, i, m) concatenated ->
 * FQ [0, 6] -> FQ [0, 6] as y.  The inner concatenation's branches go onto its grid (a copy in u8); the
 * outer one's inputs lie on three grids, so its FakeQuant is fused into it (out_quant): each input's
 * codes onto the output's grid in u8, where the FP32 compile concatenates in float and quantizes. */
static void test_nested_concat(void) {
    case_t c = {"nested concat", OP_CONV, W_INT8_CHANNEL, 1, 1, 8, 8, 0, 6, 0, 3, "Relu"};
    fr_gdw *w = tg_writer("x", 4, D(-1, 6, 6, 8));
    int32_t axis = 3;
    fr_gdw_const_i32(w, "axis", 0, NULL, &axis);
    fq_vars(w, "fq0", "x", 0.0f, 6.0f);
    layer(w, &c, "a", "Conv2D", "fq0", 1, 8, 8, "Relu", 0.0f, 3.0f);
    layer(w, &c, "i", "Conv2D", "fq0", 1, 8, 16, "Relu", 0.0f, 4.0f);
    layer(w, &c, "i1", "Conv2D", "fqi", 3, 16, 8, "Relu", 0.0f, 5.0f);
    layer(w, &c, "i2", "Conv2D", "fqi", 1, 16, 24, "Relu", 0.0f, 2.0f);
    fr_gdw_node(w, "icat", "ConcatV2", IN("fqi1", "fqi2", "axis"));
    fr_gdw_attr_int(w, "N", 2);
    fr_gdw_node_end(w);
    fq_vars(w, "fqicat", "icat", 0.0f, 5.0f);
    tg_window(w, "mp", "MaxPool", IN("fq0"), "SAME", 3, 1);
    fq_vars(w, "fqm", "mp", 0.0f, 5.0f);
    fr_gdw_node(w, "cat", "ConcatV2", IN("fqa", "fqicat", "fqm", "axis"));
    fr_gdw_attr_int(w, "N", 3);
    fr_gdw_node_end(w);
    fq_vars(w, "fqc", "cat", 0.0f, 6.0f);
    fq_vars(w, "y", "fqc", 0.0f, 6.0f);
    size_t len;
    const uint8_t *pb = fr_gdw_finish(w, &len);
    float x[2 * 6 * 6 * 8];
    for (size_t i = 0; i < sizeof x / sizeof x[0]; i++) x[i] = frand() * 6.5f - 0.2f;
    /* the inner branches' one rounding for two, a tie of oneDNN's: two steps of the output's grid */
    compare("nested concat", pb, len, x, 2, 6 * 6 * 48, 2.0f * out_step(0, 6) * 1.0001f, "fqa", 0, 0);
    if (int8_here()) { /* both concatenations in u8 */
        frost_options o;
        tg_options(&o);
        o.backend = FROST_BACKEND_AUTO;
        o.precision = FROST_PRECISION_INT8;
        o.profiling = 1;
        tg_model m;
        if (tg_build(&m, pb, len, "y", &o) != FROST_OK || tg_run1(&m, 2, x, NULL) != FROST_OK) {
            CHECK_MSG(0, "nested concat: %s", tg_msg(&m));
        } else {
            CHECK_MSG(step_kernel_has(&m, "fqicat", "frost:int8:concat"), "nested concat: the inner one not in u8");
            CHECK_MSG(step_kernel_has(&m, "fqc", "frost:int8:concat_quantize"),
                      "nested concat: the outer one's FakeQuant not fused");
        }
        tg_free(&m);
    }
    fr_gdw_free(w);
}

/* int8 precision leaves a graph without FakeQuant as FP32 runs it, bit for bit. */
static void test_fp32_unchanged(void) {
    fr_gdw *w = tg_writer("x", 4, D(-1, 6, 6, 4));
    float k[3 * 3 * 4 * 8], b[8];
    for (size_t i = 0; i < sizeof k / sizeof k[0]; i++) k[i] = frand() - 0.5f;
    for (int i = 0; i < 8; i++) b[i] = frand();
    fr_gdw_const_f(w, "k", 4, D(3, 3, 4, 8), k);
    tg_window(w, "c", "Conv2D", IN("x", "k"), "SAME", 0, 1);
    fr_gdw_const_f(w, "b", 1, D(8), b);
    fr_gdw_node(w, "y", "BiasAdd", IN("c", "b"));
    fr_gdw_node_end(w);
    size_t len;
    const uint8_t *pb = fr_gdw_finish(w, &len);
    float x[2 * 6 * 6 * 4];
    for (size_t i = 0; i < sizeof x / sizeof x[0]; i++) x[i] = frand();
    tg_model m[2];
    for (int p = 0; p < 2; p++) {
        frost_options o;
        tg_options(&o);
        o.backend = FROST_BACKEND_AUTO;
        o.precision = p ? FROST_PRECISION_INT8 : FROST_PRECISION_FP32;
        if (tg_build(&m[p], pb, len, "y", &o) != FROST_OK || tg_run1(&m[p], 2, x, NULL) != FROST_OK)
            CHECK_MSG(0, "fp32 graph, precision %d: %s", p, tg_msg(&m[p]));
    }
    if (m[0].out && m[1].out)
        CHECK_MSG(!memcmp(m[0].out[0], m[1].out[0], sizeof(float) * 2 * 6 * 6 * 8), "fp32 graph: int8 changed it");
    tg_free(&m[0]);
    tg_free(&m[1]);
    fr_gdw_free(w);
}

/* fr_int8_weight_scales against the plain column-by-column search (the
 * oracle): for each column the largest |w| and the first k (127, 128 with a
 * negative extreme, then 126 down to 1) for which every weight is an integer
 * multiple of max / k in [-128, 127]. */
static int oracle_scales(const float *w, size_t rows, int cols, float *scale) {
    for (int c = 0; c < cols; c++) {
        float m = 0.0f, smax = 0.0f;
        for (size_t r = 0; r < rows; r++) {
            float v = w[r * (size_t)cols + (size_t)c];
            if (!isfinite(v)) return 0;
            if (fabsf(v) > m) m = fabsf(v), smax = v;
        }
        if (m == 0.0f) {
            scale[c] = 1.0f;
            continue;
        }
        int k = 0;
        for (int t = 128; t >= 1 && !k; t--) {
            int kk = t == 128 ? 127 : t == 127 ? 128 : t; /* 127, then 128, then 126 ... 1 */
            if (kk == 128 && !(smax < 0.0f)) continue;
            int fits = 1;
            for (size_t r = 0; r < rows && fits; r++) {
                float v = w[r * (size_t)cols + (size_t)c] / (m / (float)kk), n = roundf(v);
                fits = fabsf(v - n) <= 1e-3f && n >= -128.0f && n <= 127.0f;
            }
            if (fits) k = kk;
        }
        if (!k) return 0;
        scale[c] = m / (float)k;
    }
    return 1;
}

static void test_weight_scales(void) {
    enum { ROWS = 37, COLS = 9 };
    float w[ROWS * COLS], s1[COLS], s2[COLS];
    unsigned char raw[ROWS * COLS * sizeof(float) + 1];
    uint32_t seed = 7;
    /* column kinds: 127 steps, a full grid with -128, coarser grids, all zero, off any grid */
    static const float steps_of[COLS] = {127, 128, 50, 3, 1, 0, 127, -1, 127};
    for (int trial = 0; trial < 40; trial++) {
        for (int c = 0; c < COLS; c++) {
            float k = steps_of[c], scale = 0.01f * (float)(c + 1 + trial);
            for (int r = 0; r < ROWS; r++) {
                seed = seed * 1664525u + 1013904223u;
                int q = k > 0 ? (int)(seed >> 8) % (int)(k < 128 ? k : 127) : 0;
                if (seed & 1) q = -q;
                float v = k == 0 ? 0.0f : k < 0 ? (float)(seed >> 8) * 1e-7f : (float)q * scale;
                w[r * COLS + c] = v;
            }
            if (k > 0) w[(trial % ROWS) * COLS + c] = (k == 128 ? -128.0f : k) * scale; /* the extreme */
        }
        if (trial % 4 == 1) w[5 * COLS + 7] = 0.0f;  /* still off the grid */
        if (trial % 4 == 2) for (int r = 0; r < ROWS; r++) w[r * COLS + 7] = (float)(r % 5) * 0.3f; /* on a grid */
        if (trial == 3) w[11 * COLS + 2] = NAN;
        if (trial == 4) w[2 * COLS + 4] = INFINITY;
        if (trial % 4 == 3) w[9 * COLS + 7] = 1e30f; /* far off */
        int want = oracle_scales(w, ROWS, COLS, s1);
        int got = fr_int8_weight_scales(w, NULL, ROWS, COLS, s2);
        CHECK_MSG(got == want, "trial %d: fits %d, oracle %d", trial, got, want);
        if (got && want) CHECK_MSG(!memcmp(s1, s2, sizeof s1), "trial %d: the scales differ from the oracle's", trial);
        /* the same from unaligned bytes */
        memcpy(raw + 1, w, sizeof w);
        float s3[COLS];
        int got_raw = fr_int8_weight_scales(NULL, raw + 1, ROWS, COLS, s3);
        CHECK_MSG(got_raw == got && (!got || !memcmp(s2, s3, sizeof s2)), "trial %d: raw bytes differ", trial);
        /* the on-grid columns alone always fit, each with the oracle's scale */
        float g[ROWS * 6];
        for (int r = 0; r < ROWS; r++)
            for (int c = 0; c < 6; c++) {
                float v = w[r * COLS + c];
                g[r * 6 + c] = isfinite(v) ? v : 0.0f;
            }
        int want_g = oracle_scales(g, ROWS, 6, s1), got_g = fr_int8_weight_scales(g, NULL, ROWS, 6, s2);
        CHECK_MSG(want_g && got_g && !memcmp(s1, s2, 6 * sizeof(float)), "trial %d: on-grid columns (%d / %d)", trial,
                  got_g, want_g);
    }
}

int main(void) {
    static const case_t cases[] = {
        {"conv 3x3 u8 per tensor relu", OP_CONV, W_INT8_TENSOR, 3, 1, 16, 32, 0, 6, 0, 5, "Relu"},
        {"conv 3x3 u8 per channel relu6", OP_CONV, W_INT8_CHANNEL, 3, 1, 16, 32, 0, 6, 0, 6, "Relu6"},
        {"conv 1x1 s8 range per channel", OP_CONV, W_INT8_CHANNEL, 1, 1, 24, 16, -4, 4, -6, 6, NULL},
        {"conv 3x3 stride 2 signed range relu", OP_CONV, W_INT8_CHANNEL, 3, 2, 3, 16, -3, 5, 0, 4, "Relu"},
        {"conv 3x3 fake-quant weights relu6", OP_CONV, W_FAKE_QUANT, 3, 1, 8, 16, 0, 6, 0, 6, "Relu6"},
        {"depthwise 3x3 per channel relu6", OP_DEPTHWISE, W_INT8_CHANNEL, 3, 1, 32, 32, 0, 6, 0, 6, "Relu6"},
        {"depthwise 3x3 x2 stride 2 signed range", OP_DEPTHWISE, W_INT8_TENSOR, 3, 2, 8, 16, -4, 4, -3, 5, NULL},
        {"depthwise 3x3 fake-quant weights relu", OP_DEPTHWISE, W_FAKE_QUANT, 3, 1, 16, 16, -3, 5, 0, 3, "Relu"},
        {"matmul u8 per channel relu", OP_MATMUL, W_INT8_CHANNEL, 0, 0, 64, 40, 0, 6, 0, 4, "Relu"},
        {"matmul signed range per tensor", OP_MATMUL, W_INT8_TENSOR, 0, 0, 48, 24, -3, 5, -4, 4, NULL},
        {"matmul fake-quant weights relu6", OP_MATMUL, W_FAKE_QUANT, 0, 0, 32, 16, -4, 4, 0, 6, "Relu6"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) run_case(&cases[i]);
    test_chain();
    test_concat();
    test_nested_concat();
    test_fp32_unchanged();
    test_weight_scales();
    /* weights that saturate u8 x s8 pair sums without VNNI (int8_pairs.c;
     * ctest runs this test with ONEDNN_MAX_CPU_ISA=AVX2 too): its rest on
     * rows of 32 pixels and fewer, padded by the source's zero point (a
     * signed range: not 0), at strides 1 and 2 (VALID, and SAME padded on
     * one side only) */
    static const case_t wide[] = {
        {"conv 3x3 wide weights", OP_CONV, W_INT8_WIDE, 3, 1, 16, 32, 0, 6, -40, 40, NULL},
        {"conv 1x1 wide weights signed range relu", OP_CONV, W_INT8_WIDE, 1, 1, 64, 24, -3, 5, 0, 30, "Relu"},
        {"matmul wide weights", OP_MATMUL, W_INT8_WIDE, 0, 0, 96, 40, 0, 6, -40, 40, NULL},
    };
    for (size_t i = 0; i < sizeof wide / sizeof wide[0]; i++) run_case(&wide[i]);
    static const struct {
        case_t c;
        int h;
        const char *pad;
    } wide_at[] = {
        {{"conv 3x3 wide weights signed range 41x41", OP_CONV, W_INT8_WIDE, 3, 1, 16, 24, -3, 5, -40, 40, NULL}, 41, NULL},
        {{"conv 3x3 stride 2 wide weights relu 75x75", OP_CONV, W_INT8_WIDE, 3, 2, 8, 16, 0, 6, 0, 40, "Relu"}, 75, NULL},
        {{"conv 3x3 stride 2 SAME wide weights signed range 20x20", OP_CONV, W_INT8_WIDE, 3, 2, 16, 24, -3, 5, -40, 40,
          NULL},
         20,
         "SAME"},
        /* a row's last columns (14: 8 + 4 + 2 bytes a channel) in a partial 16 x 16 transpose */
        {{"conv 3x3 wide weights signed range 14x14", OP_CONV, W_INT8_WIDE, 3, 1, 32, 16, -3, 5, -40, 40, NULL},
         14,
         "SAME"},
        /* 16 x 16 byte transposes at stride 2 from an odd padded column (left pad 1) */
        {{"conv 3x3 stride 2 SAME wide weights signed range 35x35", OP_CONV, W_INT8_WIDE, 3, 2, 16, 24, -3, 5, -40, 40,
          NULL},
         35,
         "SAME"},
        {{"conv 5x5 wide weights signed range 12x12", OP_CONV, W_INT8_WIDE, 5, 1, 8, 16, -2, 6, -40, 40, NULL}, 12, NULL},
        /* input channels 2, 3 of 32 cut: transposed alone; two output channels in 8 */
        {{"conv 3x3 few wide weights signed range 37x37", OP_CONV, W_INT8_FEW_WIDE, 3, 1, 32, 32, -3, 5, -4, 4,
          NULL},
         37,
         NULL},
        {{"conv 3x3 stride 2 few wide weights relu 40x40", OP_CONV, W_INT8_FEW_WIDE, 3, 2, 32, 16, 0, 6, 0, 4, "Relu"},
         40,
         "SAME"},
    };
    for (int portable = 0; portable <= 1; portable++) { /* the AVX2 loops of int8_pairs.c, then the portable ones */
        int8_debug_flags = portable ? FROST_DEBUG_PORTABLE_KERNELS : 0;
        for (size_t i = 0; i < sizeof wide_at / sizeof wide_at[0]; i++)
            run_case_at(&wide_at[i].c, wide_at[i].h, wide_at[i].pad);
    }
    return tu_done();
}
