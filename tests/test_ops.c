/* frost-test-labels: asan */
/* Per-op tests: tiny graphs built with the GraphDef writer, results checked
 * against values computed by hand (TensorFlow semantics), with the compiler's
 * optimisations on and off. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "frost.h"
#include "pb/pbwriter.h"
#include "testutil.h"
#include "tgraph.h"

#define D(...) ((const int64_t[]){__VA_ARGS__})
#define I32(...) ((const int32_t[]){__VA_ARGS__})
#define F(...) ((const float[]){__VA_ARGS__})
#define IN(...) ((const char *const[]){__VA_ARGS__, NULL})

static frost_compile_stats last_stats; /* of the last optimised compile */

/* Compiles the writer's graph (output `out`, inputs autodetected; tg_options)
 * and runs `batch` items into t->out.  Returns the number of output floats,
 * -1 on error (printed); tg_free(t) afterwards. */
static int run_graph(tg_model *t, fr_gdw *w, const char *out, int nin, const float *const *ins, int batch, int no_opt) {
    size_t len;
    const uint8_t *bytes = fr_gdw_finish(w, &len);
    frost_options o;
    tg_options(&o);
    o.debug_flags = no_opt ? FROST_DEBUG_NO_OPTIMIZE : 0;
    if (!no_opt) memset(&last_stats, 0, sizeof last_stats);
    if (tg_build(t, bytes, len, out, &o) != FROST_OK) {
        fprintf(stderr, "compile failed: %s: %s\n", frost_strerror(t->status), tg_msg(t));
        return -1;
    }
    if (!no_opt) frost_model_stats(t->model, &last_stats);
    if (frost_model_input_count(t->model) != nin)
        fprintf(stderr, "unexpected input count %d\n", frost_model_input_count(t->model));
    else if (tg_run(t, batch, ins, NULL) != FROST_OK)
        fprintf(stderr, "run failed: %s\n", tg_msg(t));
    else
        return (int)(batch * frost_model_output_size(t->model, 0));
    return -1;
}

/* Checks the graph's output against `want` (n floats) with optimisation on
 * and off; frees w. */
static void expect(const char *what, fr_gdw *w, const char *out, int nin, const float *const *ins, int batch,
                   const float *want, int n, double tol) {
    for (int no_opt = 0; no_opt < 2; no_opt++) {
        tg_model t;
        int got = run_graph(&t, w, out, nin, ins, batch, no_opt);
        CHECK_MSG(got == n, "%s (no_optimize=%d): %d outputs, expected %d", what, no_opt, got, n);
        if (got == n) {
            double d = tu_max_abs_diff(t.out[0], want, (size_t)n);
            CHECK_MSG(d <= tol, "%s (no_optimize=%d): max abs diff %g", what, no_opt, d);
            if (d > tol)
                for (int i = 0; i < n; i++) fprintf(stderr, "  [%d] got %.7g want %.7g\n", i, t.out[0][i], want[i]);
        }
        tg_free(&t);
    }
    fr_gdw_free(w);
}

static float seq[64];

static void conv_tests(void) {
    float ones9[9];
    for (int i = 0; i < 9; i++) ones9[i] = 1;
    /* SAME, stride 2, odd size 5: pad 1 top/left, 1 bottom/right */
    fr_gdw *w = tg_writer("x", 4, D(-1, 5, 5, 1));
    fr_gdw_const_f(w, "k", 4, D(3, 3, 1, 1), ones9);
    tg_window(w, "y", "Conv2D", IN("x", "k"), "SAME", 0, 2);
    const float *in[] = {seq};
    expect("Conv2D SAME 5x5 s2", w, "y", 1, in, 1, F(16, 33, 28, 69, 117, 87, 76, 123, 88), 9, 1e-5);
    /* SAME, stride 2, even size 6: pad 0 top/left, 1 bottom/right */
    w = tg_writer("x", 4, D(-1, 6, 6, 1));
    fr_gdw_const_f(w, "k", 4, D(3, 3, 1, 1), ones9);
    tg_window(w, "y", "Conv2D", IN("x", "k"), "SAME", 0, 2);
    /* out(0,0) = rows 0-2, cols 0-2 of 1..36; out(2,2) = rows 4-5, cols 4-5 */
    float want6[9];
    for (int oy = 0; oy < 3; oy++)
        for (int ox = 0; ox < 3; ox++) {
            float s = 0;
            for (int y = 2 * oy; y < 2 * oy + 3 && y < 6; y++)
                for (int x = 2 * ox; x < 2 * ox + 3 && x < 6; x++) s += (float)(y * 6 + x + 1);
            want6[oy * 3 + ox] = s;
        }
    CHECK(want6[0] == 72 && want6[8] == 130);
    expect("Conv2D SAME 6x6 s2", w, "y", 1, in, 1, want6, 9, 1e-5);
    /* VALID with dilation 2: taps at rows/cols 0, 2, 4 */
    w = tg_writer("x", 4, D(-1, 5, 5, 1));
    fr_gdw_const_f(w, "k", 4, D(3, 3, 1, 1), ones9);
    tg_window(w, "y", "Conv2D", IN("x", "k"), "VALID", 0, 1);
    fr_gdw_attr_ints(w, "dilations", 4, D(1, 2, 2, 1));
    expect("Conv2D VALID dilation 2", w, "y", 1, in, 1, F(117), 1, 1e-5);
    /* EXPLICIT padding: 1 row on top, 2 columns on the right, 1x1 kernel of 2 */
    w = tg_writer("x", 4, D(-1, 2, 2, 1));
    fr_gdw_const_f(w, "k", 4, D(1, 1, 1, 1), F(2));
    tg_window(w, "y", "Conv2D", IN("x", "k"), "EXPLICIT", 0, 1);
    fr_gdw_attr_ints(w, "explicit_paddings", 8, D(0, 0, 1, 0, 0, 2, 0, 0));
    expect("Conv2D EXPLICIT", w, "y", 1, in, 1, F(0, 0, 0, 0, 2, 4, 0, 0, 6, 8, 0, 0), 12, 1e-6);
    /* two input and two output channels, bias, relu: x = (1, 2) at one pixel */
    w = tg_writer("x", 4, D(-1, 1, 1, 2));
    fr_gdw_const_f(w, "k", 4, D(1, 1, 2, 2), F(1, -1, 10, -10)); /* [ci][co] */
    fr_gdw_const_f(w, "b", 1, D(2), F(0.5f, 100));
    tg_window(w, "c", "Conv2D", IN("x", "k"), "VALID", 0, 1);
    fr_gdw_node(w, "ba", "BiasAdd", IN("c", "b"));
    fr_gdw_node(w, "y", "Relu", IN("ba"));
    /* co0 = 1*1 + 2*10 + 0.5 = 21.5; co1 = -1 - 20 + 100 = 79; second item x = (-3, 0): co0 = -2.5 -> 0, co1 = 103 */
    const float *in2[] = {F(1, 2, -3, 0)};
    expect("Conv2D+BiasAdd+Relu batch 2", w, "y", 1, in2, 2, F(21.5f, 79, 0, 103), 4, 1e-5);
}

static void depthwise_tests(void) {
    /* input 2x2, 2 channels (c0 = 1,2,3,4; c1 = 10,20,30,40), multiplier 2, 2x2 VALID filter
       with w[.][.][c][m] = {c0: 1, 2; c1: 3, -1} at every tap: out channel c*2+m */
    fr_gdw *w = tg_writer("x", 4, D(-1, 2, 2, 2));
    float k[16];
    for (int t = 0; t < 4; t++) k[t * 4 + 0] = 1, k[t * 4 + 1] = 2, k[t * 4 + 2] = 3, k[t * 4 + 3] = -1;
    fr_gdw_const_f(w, "k", 4, D(2, 2, 2, 2), k);
    tg_window(w, "y", "DepthwiseConv2dNative", IN("x", "k"), "VALID", 0, 1);
    const float *in[] = {F(1, 10, 2, 20, 3, 30, 4, 40)};
    expect("Depthwise multiplier 2", w, "y", 1, in, 1, F(10, 20, 300, -100), 4, 1e-5);
    /* SAME stride 2 on 3x3, multiplier 1, 3x3 kernel of ones: corners of a 2x2 output */
    w = tg_writer("x", 4, D(-1, 3, 3, 1));
    float ones[9];
    for (int i = 0; i < 9; i++) ones[i] = 1;
    fr_gdw_const_f(w, "k", 4, D(3, 3, 1, 1), ones);
    tg_window(w, "y", "DepthwiseConv2dNative", IN("x", "k"), "SAME", 0, 2);
    /* out 2x2, pad total 2 -> 1 before: out(0,0) = rows/cols 0-1: 1+2+4+5; out(0,1) = rows 0-1, col 1-2: 2+3+5+6 */
    const float *in3[] = {seq};
    expect("Depthwise SAME s2", w, "y", 1, in3, 1, F(12, 16, 24, 28), 4, 1e-5);
}

static void pool_tests(void) {
    const float *in[] = {seq};
    fr_gdw *w = tg_writer("x", 4, D(-1, 3, 3, 1));
    tg_window(w, "y", "AvgPool", IN("x"), "SAME", 3, 1);
    /* divisors: 4 at corners, 6 at edges, 9 in the centre */
    expect("AvgPool SAME 3x3 border divisors", w, "y", 1, in, 1,
           F(12 / 4.f, 21 / 6.f, 16 / 4.f, 27 / 6.f, 5, 33 / 6.f, 24 / 4.f, 39 / 6.f, 28 / 4.f), 9, 1e-6);
    w = tg_writer("x", 4, D(-1, 3, 3, 1));
    tg_window(w, "y", "AvgPool", IN("x"), "SAME", 2, 2);
    expect("AvgPool SAME 2x2 s2 on 3x3", w, "y", 1, in, 1, F(3, 4.5f, 7.5f, 9), 4, 1e-6);
    /* MaxPool: padding never wins, even over negative values */
    float neg[9];
    for (int i = 0; i < 9; i++) neg[i] = -(float)(i + 1);
    const float *inn[] = {neg};
    w = tg_writer("x", 4, D(-1, 3, 3, 1));
    tg_window(w, "y", "MaxPool", IN("x"), "SAME", 2, 2);
    expect("MaxPool SAME negative", w, "y", 1, inn, 1, F(-1, -3, -7, -9), 4, 0);
    /* MaxPool VALID 2x2 s1 */
    w = tg_writer("x", 4, D(-1, 3, 3, 1));
    tg_window(w, "y", "MaxPool", IN("x"), "VALID", 2, 1);
    expect("MaxPool VALID", w, "y", 1, in, 1, F(5, 6, 8, 9), 4, 0);
}

/* AvgPool -> 1x1 Conv2D + BiasAdd + Relu: the compiler runs the convolution
 * first and pools its output with the bias and activation (no_optimize
 * keeps the graph's order; both must give the hand-computed values). */
static void pool_conv_commute_test(void) {
    /* x[pos][c] = 2 pos + c + 1 on a 3x3 grid of 2 channels; the 1x1 conv
     * (2, -1) gives 2 x0 - x1 = 2 pos = x0 - 1 per pixel, so
     * y = relu(avg3x3(x0) - 1 - 4) where avg3x3(x0) = 2 avg(pos) + 1 over
     * the in-bounds neighbours: 5 6 7 / 8 9 10 / 11 12 13. */
    float x[18];
    for (int i = 0; i < 18; i++) x[i] = (float)(i + 1);
    fr_gdw *w = tg_writer("x", 4, D(-1, 3, 3, 2));
    tg_window(w, "pool", "AvgPool", IN("x"), "SAME", 3, 1);
    fr_gdw_const_f(w, "k", 4, D(1, 1, 2, 1), F(2, -1));
    tg_window(w, "conv", "Conv2D", IN("pool", "k"), "SAME", 0, 1);
    fr_gdw_const_f(w, "b", 1, D(1), F(-4));
    fr_gdw_node(w, "bias", "BiasAdd", IN("conv", "b"));
    fr_gdw_node(w, "y", "Relu", IN("bias"));
    const float *in[] = {x};
    expect("AvgPool -> 1x1 Conv2D + BiasAdd + Relu", w, "y", 1, in, 1, F(0, 1, 2, 3, 4, 5, 6, 7, 8), 9, 1e-5);
    /* BiasAdd and Relu fused into the convolution (2), then moved (+1) */
    CHECK_MSG(last_stats.fused_ops == 3, "the pool and the convolution commute (fused_ops %d)", last_stats.fused_ops);
}

static void binary_one(const char *op, const float *want) {
    /* x [N,2,1] = (1, 2) against c [3] = (10, 20, 30) -> [N,2,3] */
    fr_gdw *w = tg_writer("x", 3, D(-1, 2, 1));
    fr_gdw_const_f(w, "c", 1, D(3), F(10, 20, 30));
    fr_gdw_node(w, "y", op, IN("x", "c"));
    const float *in[] = {F(1, 2)};
    expect(op, w, "y", 1, in, 1, want, 6, 1e-6);
}

static void elementwise_tests(void) {
    binary_one("Add", F(11, 21, 31, 12, 22, 32));
    binary_one("AddV2", F(11, 21, 31, 12, 22, 32));
    binary_one("Sub", F(-9, -19, -29, -8, -18, -28));
    binary_one("Mul", F(10, 20, 30, 20, 40, 60));
    binary_one("RealDiv", F(0.1f, 0.05f, 1 / 30.f, 0.2f, 0.1f, 2 / 30.f));
    binary_one("Maximum", F(10, 20, 30, 10, 20, 30));
    binary_one("Minimum", F(1, 1, 1, 2, 2, 2));
    /* two run-time inputs broadcasting both ways: a [N,2,1] + b [N,1,3] */
    fr_gdw *w = tg_writer("a", 3, D(-1, 2, 1));
    fr_gdw_placeholder(w, "b", 3, D(-1, 1, 3));
    fr_gdw_node(w, "y", "Sub", IN("a", "b"));
    const float *in2[] = {F(1, 2), F(10, 20, 30)};
    expect("Sub broadcast both", w, "y", 2, in2, 1, F(-9, -19, -29, -8, -18, -28), 6, 1e-6);
    /* per-channel constant on the left: c - x and c * x */
    w = tg_writer("x", 2, D(-1, 3));
    fr_gdw_const_f(w, "c", 2, D(1, 3), F(1, 2, 3));
    fr_gdw_node(w, "m", "Mul", IN("c", "x"));
    fr_gdw_node(w, "y", "Sub", IN("c", "m"));
    const float *in[] = {F(4, 5, 6)};
    expect("c - c*x", w, "y", 1, in, 1, F(1 - 4, 2 - 10, 3 - 18), 3, 1e-6);
    /* unary ops on (-2, 0.25, 4, 9) */
    static const struct {
        const char *op;
        float want[4];
    } un[] = {
        {"Relu", {0, 0.25f, 4, 9}},
        {"Relu6", {0, 0.25f, 4, 6}},
        {"Sigmoid", {0.11920292f, 0.56217650f, 0.98201379f, 0.99987661f}},
        {"Tanh", {-0.96402758f, 0.24491866f, 0.99932930f, 0.99999997f}},
        {"LeakyRelu", {-0.4f, 0.25f, 4, 9}},
        {"Neg", {2, -0.25f, -4, -9}},
    };
    for (size_t i = 0; i < sizeof un / sizeof *un; i++) {
        w = tg_writer("x", 2, D(-1, 4));
        fr_gdw_node(w, "y", un[i].op, IN("x"));
        const float *iu[] = {F(-2, 0.25f, 4, 9)};
        expect(un[i].op, w, "y", 1, iu, 1, un[i].want, 4, 1e-6);
    }
    const float *ip[] = {F(0.25f, 4, 9, 16)};
    w = tg_writer("x", 2, D(-1, 4));
    fr_gdw_node(w, "y", "Sqrt", IN("x"));
    expect("Sqrt", w, "y", 1, ip, 1, F(0.5f, 2, 3, 4), 4, 1e-6);
    w = tg_writer("x", 2, D(-1, 4));
    fr_gdw_node(w, "y", "Rsqrt", IN("x"));
    expect("Rsqrt", w, "y", 1, ip, 1, F(2, 0.5f, 1 / 3.f, 0.25f), 4, 1e-6);
    /* Softmax over the last axis */
    w = tg_writer("x", 2, D(-1, 3));
    fr_gdw_node(w, "y", "Softmax", IN("x"));
    const float *is[] = {F(1, 2, 3, 1000, 1000, 1000)};
    expect("Softmax", w, "y", 1, is, 2, F(0.09003057f, 0.24472847f, 0.66524096f, 1 / 3.f, 1 / 3.f, 1 / 3.f), 6, 1e-6);
}

static void batchnorm_tests(void) {
    /* y = scale * (x - mean) / sqrt(var + eps) + offset, eps = 1 */
    static const char *const ops[] = {"FusedBatchNorm", "FusedBatchNormV3"};
    for (int k = 0; k < 2; k++) {
        fr_gdw *w = tg_writer("x", 4, D(-1, 1, 1, 2));
        fr_gdw_const_f(w, "s", 1, D(2), F(2, 3));
        fr_gdw_const_f(w, "o", 1, D(2), F(0.5f, -1));
        fr_gdw_const_f(w, "m", 1, D(2), F(1, 0));
        fr_gdw_const_f(w, "v", 1, D(2), F(3, 8));
        fr_gdw_node(w, "y", ops[k], IN("x", "s", "o", "m", "v"));
        fr_gdw_attr_float(w, "epsilon", 1.0f);
        fr_gdw_attr_bool(w, "is_training", 0);
        const float *in[] = {F(1, 2, 3, 6)};
        /* (1,2): 2*0/2+0.5 = 0.5, 3*2/3-1 = 1; (3,6): 2*2/2+0.5 = 2.5, 3*6/3-1 = 5 */
        expect(ops[k], w, "y", 1, in, 2, F(0.5f, 1, 2.5f, 5), 4, 1e-6);
    }
    /* FusedBatchNorm after a convolution (folded into its weights when optimising) + Relu6 */
    fr_gdw *w = tg_writer("x", 4, D(-1, 1, 1, 2));
    fr_gdw_const_f(w, "k", 4, D(1, 1, 2, 2), F(1, 0, 0, 1));
    tg_window(w, "c", "Conv2D", IN("x", "k"), "VALID", 0, 1);
    fr_gdw_const_f(w, "s", 1, D(2), F(2, 3));
    fr_gdw_const_f(w, "o", 1, D(2), F(0.5f, -1));
    fr_gdw_const_f(w, "m", 1, D(2), F(1, 0));
    fr_gdw_const_f(w, "v", 1, D(2), F(3, 8));
    fr_gdw_node(w, "bn", "FusedBatchNormV3", IN("c", "s", "o", "m", "v"));
    fr_gdw_attr_float(w, "epsilon", 1.0f);
    fr_gdw_attr_bool(w, "is_training", 0);
    fr_gdw_node(w, "y", "Relu6", IN("bn"));
    const float *in[] = {F(1, 2, 3, 9)};
    expect("Conv2D+FusedBatchNormV3+Relu6", w, "y", 1, in, 2, F(0.5f, 1, 2.5f, 6), 4, 1e-6);
    CHECK(last_stats.folded_batchnorms == 1 && last_stats.steps == 1);
    /* decomposed batch norm as in TF-slim frozen graphs: Add eps -> Rsqrt -> Mul / Mul -> Sub -> Add -> Relu */
    w = tg_writer("x", 4, D(-1, 1, 1, 2));
    fr_gdw_const_f(w, "k", 4, D(1, 1, 2, 2), F(1, 0, 0, 1));
    tg_window(w, "conv", "Conv2D", IN("x", "k"), "VALID", 0, 1);
    fr_gdw_const_f(w, "var", 1, D(2), F(3, 15));
    fr_gdw_const_f(w, "mean", 1, D(2), F(1, 0));
    fr_gdw_const_f(w, "beta", 1, D(2), F(0.5f, -1));
    fr_gdw_node(w, "eps", "Const", NULL);
    fr_gdw_attr_type(w, "dtype", 1);
    fr_gdw_attr_tensor_f(w, "value", 0, NULL, 1, F(1.0f), 0);
    fr_gdw_node(w, "var_id", "Identity", IN("var"));
    fr_gdw_node(w, "add", "Add", IN("var_id", "eps"));
    fr_gdw_node(w, "r", "Rsqrt", IN("add"));
    fr_gdw_node(w, "mul", "Mul", IN("conv", "r"));
    fr_gdw_node(w, "mul_1", "Mul", IN("mean", "r"));
    fr_gdw_node(w, "sub", "Sub", IN("beta", "mul_1"));
    fr_gdw_node(w, "add_1", "Add", IN("mul", "sub"));
    fr_gdw_node(w, "y", "Relu", IN("add_1"));
    /* r = (0.5, 0.25): x=(1,2): (1-1)*0.5+0.5 = 0.5, 2*0.25-1 = -0.5 -> 0; x=(5,12): 2.5, 2 */
    const float *in2[] = {F(1, 2, 5, 12)};
    expect("decomposed batch norm", w, "y", 1, in2, 2, F(0.5f, 0, 2.5f, 2), 4, 1e-6);
    CHECK_MSG(last_stats.steps == 1 && last_stats.folded_batchnorms >= 1, "steps %d folded bn %d", last_stats.steps,
              last_stats.folded_batchnorms);
}

static void matmul_tests(void) {
    const float *in[] = {F(1, 2, 3)};
    fr_gdw *w = tg_writer("a", 2, D(-1, 3));
    fr_gdw_const_f(w, "b", 2, D(3, 2), F(1, 2, 3, 4, 5, 6));
    fr_gdw_node(w, "y", "MatMul", IN("a", "b"));
    expect("MatMul", w, "y", 1, in, 1, F(22, 28), 2, 1e-5);
    w = tg_writer("a", 2, D(-1, 3));
    fr_gdw_const_f(w, "b", 2, D(2, 3), F(1, 3, 5, 2, 4, 6));
    fr_gdw_node(w, "y", "MatMul", IN("a", "b"));
    fr_gdw_attr_bool(w, "transpose_b", 1);
    expect("MatMul transpose_b", w, "y", 1, in, 1, F(22, 28), 2, 1e-5);
    /* transpose_a: a reshaped to [3, 1] */
    w = tg_writer("a", 2, D(-1, 3));
    fr_gdw_const_i32(w, "shape", 1, D(2), I32(3, -1));
    fr_gdw_node(w, "at", "Reshape", IN("a", "shape"));
    fr_gdw_const_f(w, "b", 2, D(3, 2), F(1, 2, 3, 4, 5, 6));
    fr_gdw_node(w, "y", "MatMul", IN("at", "b"));
    fr_gdw_attr_bool(w, "transpose_a", 1);
    expect("MatMul transpose_a", w, "y", 1, in, 1, F(22, 28), 2, 1e-5);
    /* MatMul + BiasAdd + Relu, batch 2 */
    w = tg_writer("a", 2, D(-1, 3));
    fr_gdw_const_f(w, "b", 2, D(3, 2), F(1, 2, 3, 4, 5, 6));
    fr_gdw_const_f(w, "bias", 1, D(2), F(-30, 1));
    fr_gdw_node(w, "mm", "MatMul", IN("a", "b"));
    fr_gdw_node(w, "ba", "BiasAdd", IN("mm", "bias"));
    fr_gdw_node(w, "y", "Relu", IN("ba"));
    const float *in2[] = {F(1, 2, 3, 2, 2, 2)};
    expect("MatMul+BiasAdd+Relu", w, "y", 1, in2, 2, F(0, 29, 0, 25), 4, 1e-5);
}

static void array_tests(void) {
    /* StridedSlice: [N,4,6] of 0..23; [:, 1:3, ::-2] */
    const float *in[] = {seq};
    float s0[24];
    for (int i = 0; i < 24; i++) s0[i] = (float)i;
    const float *in0[] = {s0};
    fr_gdw *w = tg_writer("x", 3, D(-1, 4, 6));
    fr_gdw_const_i32(w, "b", 1, D(3), I32(0, 1, -1));
    fr_gdw_const_i32(w, "e", 1, D(3), I32(0, 3, 0));
    fr_gdw_const_i32(w, "s", 1, D(3), I32(1, 1, -2));
    fr_gdw_node(w, "y", "StridedSlice", IN("x", "b", "e", "s"));
    fr_gdw_attr_int(w, "begin_mask", 1);
    fr_gdw_attr_int(w, "end_mask", 5);
    expect("StridedSlice negative stride", w, "y", 1, in0, 1, F(11, 9, 7, 17, 15, 13), 6, 0);
    /* [..., newaxis, 2] with shrink: x[:, :, 2] as [N,4,1] */
    w = tg_writer("x", 3, D(-1, 4, 6));
    fr_gdw_const_i32(w, "b", 1, D(3), I32(0, 0, 2));
    fr_gdw_const_i32(w, "e", 1, D(3), I32(0, 0, 3));
    fr_gdw_const_i32(w, "s", 1, D(3), I32(1, 1, 1));
    fr_gdw_node(w, "y", "StridedSlice", IN("x", "b", "e", "s"));
    fr_gdw_attr_int(w, "ellipsis_mask", 1);
    fr_gdw_attr_int(w, "new_axis_mask", 2);
    fr_gdw_attr_int(w, "shrink_axis_mask", 4);
    expect("StridedSlice ellipsis/new_axis/shrink", w, "y", 1, in0, 1, F(2, 8, 14, 20), 4, 0);
    /* ConcatV2 on the last axis: [N,2,2] + [N,2,1] */
    w = tg_writer("a", 3, D(-1, 2, 2));
    fr_gdw_placeholder(w, "b", 3, D(-1, 2, 1));
    fr_gdw_const_i32(w, "ax", 0, NULL, I32(-1));
    fr_gdw_node(w, "y", "ConcatV2", IN("a", "b", "ax"));
    const float *inc[] = {F(1, 2, 3, 4), F(10, 20)};
    expect("ConcatV2 axis -1", w, "y", 2, inc, 1, F(1, 2, 10, 3, 4, 20), 6, 0);
    /* Pad [N,2] with [[0,0],[1,2]] */
    w = tg_writer("x", 2, D(-1, 2));
    fr_gdw_const_i32(w, "p", 2, D(2, 2), I32(0, 0, 1, 2));
    fr_gdw_node(w, "y", "Pad", IN("x", "p"));
    expect("Pad", w, "y", 1, in, 1, F(0, 1, 2, 0, 0), 5, 0);
    /* Mean over [1, 2] with and without keep_dims; Reshape -1, Squeeze, ExpandDims */
    for (int keep = 0; keep < 2; keep++) {
        w = tg_writer("x", 4, D(-1, 2, 2, 2));
        fr_gdw_const_i32(w, "ax", 1, D(2), I32(1, 2));
        fr_gdw_node(w, "y", "Mean", IN("x", "ax"));
        fr_gdw_attr_bool(w, "keep_dims", keep);
        expect("Mean", w, "y", 1, in, 1, F(4, 5), 2, 1e-6);
    }
    w = tg_writer("x", 4, D(-1, 1, 1, 3));
    fr_gdw_node(w, "sq", "Squeeze", IN("x"));
    fr_gdw_attr_ints(w, "squeeze_dims", 2, D(1, 2));
    fr_gdw_const_i32(w, "one", 0, NULL, I32(1));
    fr_gdw_node(w, "ex", "ExpandDims", IN("sq", "one"));
    fr_gdw_const_i32(w, "shape", 1, D(2), I32(-1, 3));
    fr_gdw_node(w, "y", "Reshape", IN("ex", "shape"));
    expect("Squeeze/ExpandDims/Reshape", w, "y", 1, in, 2, F(1, 2, 3, 4, 5, 6), 6, 0);
    /* Transpose [N,2,3] -> [N,3,2] */
    w = tg_writer("x", 3, D(-1, 2, 3));
    fr_gdw_const_i32(w, "perm", 1, D(3), I32(0, 2, 1));
    fr_gdw_node(w, "y", "Transpose", IN("x", "perm"));
    expect("Transpose", w, "y", 1, in, 1, F(1, 4, 2, 5, 3, 6), 6, 0);
}

/* Keras Flatten: Reshape(x, Pack(StridedSlice(Shape(x), 0, shrink), Prod(Shape(x)[1:]))) then MatMul;
   must fold at every batch size. */
static void keras_flatten_test(void) {
    fr_gdw *w = tg_writer("x", 4, D(-1, 1, 2, 2));
    fr_gdw_node(w, "shape", "Shape", IN("x"));
    fr_gdw_const_i32(w, "b0", 1, D(1), I32(0));
    fr_gdw_const_i32(w, "e1", 1, D(1), I32(1));
    fr_gdw_const_i32(w, "s1", 1, D(1), I32(1));
    fr_gdw_node(w, "n", "StridedSlice", IN("shape", "b0", "e1", "s1"));
    fr_gdw_attr_int(w, "shrink_axis_mask", 1);
    fr_gdw_const_i32(w, "e0", 1, D(1), I32(0));
    fr_gdw_node(w, "rest", "StridedSlice", IN("shape", "e1", "e0", "s1"));
    fr_gdw_attr_int(w, "end_mask", 1);
    fr_gdw_const_i32(w, "ax0", 1, D(1), I32(0));
    fr_gdw_node(w, "prod", "Prod", IN("rest", "ax0"));
    fr_gdw_node(w, "pack", "Pack", IN("n", "prod"));
    fr_gdw_attr_int(w, "axis", 0);
    fr_gdw_node(w, "flat", "Reshape", IN("x", "pack"));
    fr_gdw_const_f(w, "wt", 2, D(4, 1), F(1, 10, 100, 1000));
    fr_gdw_node(w, "y", "MatMul", IN("flat", "wt"));
    for (int batch = 1; batch <= 3; batch += 2) {
        tg_model t;
        int n = run_graph(&t, w, "y", 1, (const float *const[]){F(1, 2, 3, 4, 5, 6, 7, 8, 9, 1, 1, 1)}, batch, 0);
        CHECK(n == batch);
        if (n >= 1) CHECK_NEAR(t.out[0][0], 4321, 1e-3);
        if (n == 3) {
            CHECK_NEAR(t.out[0][1], 8765, 1e-3);
            CHECK_NEAR(t.out[0][2], 1119, 1e-3);
        }
        tg_free(&t);
    }
    CHECK(last_stats.steps == 2); /* Reshape copy + MatMul: the shape arithmetic folded */
    fr_gdw_free(w);
}

/* A residual Add of two convolutions, then Relu: fused on, plain off, same numbers. */
static void residual_test(void) {
    fr_gdw *w = tg_writer("x", 4, D(-1, 1, 1, 2));
    fr_gdw_const_f(w, "k1", 4, D(1, 1, 2, 2), F(1, 2, 3, 4));
    fr_gdw_const_f(w, "k2", 4, D(1, 1, 2, 2), F(-1, 0, 0, -1));
    tg_window(w, "c1", "Conv2D", IN("x", "k1"), "VALID", 0, 1);
    tg_window(w, "c2", "Conv2D", IN("c1", "k2"), "VALID", 0, 1);
    fr_gdw_const_f(w, "half", 0, NULL, F(0.5f));
    fr_gdw_node(w, "h", "Mul", IN("c1", "half"));
    fr_gdw_node(w, "add", "AddV2", IN("h", "c2"));
    fr_gdw_node(w, "y", "Relu", IN("add"));
    /* x = (1, 1): c1 = (4, 6); c2 = (-4, -6); h = (2, 3); add = (-2, -3) -> 0
       x = (1, -1): c1 = (-2, -2); c2 = (2, 2); h = (-1, -1); add = (1, 1) */
    const float *in[] = {F(1, 1, 1, -1)};
    expect("residual Add + Relu", w, "y", 1, in, 2, F(0, 0, 1, 1), 4, 1e-6);
}

static void unsupported_test(void) {
    fr_gdw *w = tg_writer("x", 2, D(-1, 2));
    fr_gdw_node(w, "foo1", "FooOp", IN("x"));
    fr_gdw_node(w, "foo2", "FooOp", IN("foo1"));
    fr_gdw_node(w, "bar1", "BarOp", IN("foo2"));
    fr_gdw_node(w, "y", "Relu", IN("bar1"));
    size_t len;
    const uint8_t *b = fr_gdw_finish(w, &len);
    tg_model t;
    CHECK(tg_load(&t, b, len) == FROST_E_UNSUPPORTED_OP && t.graph == NULL);
    const char *err = t.error;
    CHECK_MSG(err && strstr(err, "FooOp") && strstr(err, "BarOp") && strstr(err, "foo1") && strstr(err, "bar1"),
              "message: %s", err ? err : "(none)");
    tg_free(&t);
    fr_gdw_free(w);
}

/* Const decoding: splat, int64, half, unaligned tensor_content, unknown fields. */
static void const_tests(void) {
    /* splat: one float_val for a [2,3] tensor */
    fr_gdw *w = tg_writer("x", 2, D(-1, 3));
    fr_gdw_node(w, "c", "Const", NULL);
    fr_gdw_attr_type(w, "dtype", 1);
    fr_gdw_attr_tensor_f(w, "value", 2, D(2, 3), 2, F(1, 7), 0);
    fr_gdw_node(w, "y", "Add", IN("x", "c"));
    const float *in[] = {F(0, 0, 0)};
    expect("splat float_val", w, "y", 1, in, 1, F(1, 7, 7, 7, 7, 7), 6, 0);
    /* DT_HALF: half_val holds the 16 bits (1.0 = 0x3c00, -2.5 = 0xc100) */
    w = tg_writer("x", 2, D(-1, 2));
    fr_gdw_node(w, "c", "Const", NULL);
    fr_gdw_attr_type(w, "dtype", 19);
    {
        /* TensorProto: dtype=19, shape [2], half_val packed {0x3c00, 0xc100} */
        const uint8_t t[] = {0x08, 19, 0x12, 0x04, 0x12, 0x02, 0x08, 0x02, 0x6a, 0x06, 0x80, 0xf8, 0x00, 0x80, 0x82, 0x03};
        uint8_t av[2 + sizeof t];
        av[0] = 0x42;
        av[1] = sizeof t;
        memcpy(av + 2, t, sizeof t);
        fr_gdw_attr_raw(w, "value", av, sizeof av);
    }
    fr_gdw_node(w, "y", "Add", IN("x", "c"));
    expect("DT_HALF constant", w, "y", 1, (const float *const[]){F(0, 0)}, 1, F(1, -2.5f), 2, 0);
    /* int64 axis for Mean, and an unknown NodeDef field (99) that must be skipped */
    w = tg_writer("x", 2, D(-1, 4));
    fr_gdw_node(w, "ax", "Const", NULL);
    fr_gdw_attr_type(w, "dtype", 9);
    fr_gdw_attr_tensor_i(w, "value", 9, 1, D(1), 1, D(-1));
    fr_gdw_attr_raw(w, "unused", "\x9a\x06\x03" "abc", 6); /* AttrValue with an unknown field 99 */
    fr_gdw_node(w, "y", "Mean", IN("x", "ax"));
    expect("int64 axis + unknown field", w, "y", 1, (const float *const[]){F(1, 2, 3, 6)}, 1, F(3), 1, 0);
}

/* Degenerate graphs: the output is the input (through Identity), or two outputs are one tensor. */
static void plumbing_tests(void) {
    fr_gdw *w = tg_writer("x", 2, D(-1, 3));
    fr_gdw_node(w, "y", "Identity", IN("x"));
    expect("output = input", w, "y", 1, (const float *const[]){F(1, -2, 3)}, 1, F(1, -2, 3), 3, 0);
    w = tg_writer("x", 2, D(-1, 2));
    fr_gdw_node(w, "s", "Snapshot", IN("x"));
    fr_gdw_node(w, "p", "PlaceholderWithDefault", IN("s"));
    fr_gdw_node(w, "y", "StopGradient", IN("p"));
    fr_gdw_node(w, "n", "NoOp", IN("^y"));
    expect("identity chain", w, "y", 1, (const float *const[]){F(5, 6)}, 1, F(5, 6), 2, 0);
}

int main(void) {
    for (int i = 0; i < 64; i++) seq[i] = (float)(i + 1);
    conv_tests();
    depthwise_tests();
    pool_tests();
    pool_conv_commute_test();
    elementwise_tests();
    batchnorm_tests();
    matmul_tests();
    array_tests();
    keras_flatten_test();
    residual_test();
    unsupported_test();
    const_tests();
    plumbing_tests();
    return tu_done();
}
