/* frost-test-labels: asan */
/* TensorFlow's FakeQuant ops (FakeQuantWithMinMaxArgs / Vars / VarsPerChannel)
 * against values computed by hand from TensorFlow's Nudge() and forward
 * functors (tensorflow/core/kernels/fake_quant_ops_functor.h):
 *   quant_min = narrow_range ? 1 : 0, quant_max = 2^num_bits - 1
 *   scale = (max - min) / (quant_max - quant_min)
 *   zero_point_from_min = quant_min - min / scale, nudged_zp = round, clamped to [quant_min, quant_max]
 *   nudged_min = (quant_min - nudged_zp) * scale, nudged_max = (quant_max - nudged_zp) * scale
 *   out = floor((clamp(x, nudged_min, nudged_max) - nudged_min) / scale - quant_zero + 0.5) * scale
 * (quant_zero = nudged_zp); min == max == 0 gives zeros.  OpenCV 4.6's
 * TensorFlow importer has no FakeQuant layer, so it cannot be the oracle
 * here.  Also: the errors for bad ranges, and a graph through a convolution
 * on the default backend (which leaves FakeQuant to the reference kernels). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "frost.h"
#include "pb/pbwriter.h"
#include "testutil.h"
#include "tgraph.h"

#define D(...) ((const int64_t[]){__VA_ARGS__})
#define F(...) ((const float[]){__VA_ARGS__})
#define IN(...) ((const char *const[]){__VA_ARGS__, NULL})

/* Graph: x [1, n] (or [1, 1, n/c, c] for per channel) -> op -> "fq". */
typedef struct {
    const char *op;
    int num_bits, narrow; /* num_bits 0: attribute absent (default 8) */
    int channels;         /* > 0: per channel over the last axis */
    const float *min, *max;
    int nonconst_min;     /* min a run-time value (an error) */
} fq_case;

static const uint8_t *write_graph(fr_gdw **wp, const fq_case *c, int n, size_t *len) {
    int C = c->channels > 0 ? c->channels : 1;
    fr_gdw *w = c->channels > 0 ? tg_writer("x", 4, D(-1, 1, n / C, C)) : tg_writer("x", 2, D(-1, n));
    int args = !strcmp(c->op, "FakeQuantWithMinMaxArgs");
    if (!args) {
        int64_t vd[1] = {C};
        if (c->nonconst_min)
            fr_gdw_node(w, "mn", "Identity", IN("x")); /* a run-time value */
        else
            fr_gdw_const_f(w, "mn", c->channels > 0 ? 1 : 0, vd, c->min);
        fr_gdw_const_f(w, "mx", c->channels > 0 ? 1 : 0, vd, c->max);
        fr_gdw_node(w, "fq", c->op, IN("x", "mn", "mx"));
    } else {
        fr_gdw_node(w, "fq", c->op, IN("x"));
        fr_gdw_attr_float(w, "min", c->min[0]);
        fr_gdw_attr_float(w, "max", c->max[0]);
    }
    if (c->num_bits) fr_gdw_attr_int(w, "num_bits", c->num_bits);
    if (c->narrow) fr_gdw_attr_bool(w, "narrow_range", 1);
    *wp = w;
    return fr_gdw_finish(w, len);
}

static void expect_values(const char *what, const fq_case *c, const float *x, const float *want, int n) {
    fr_gdw *w;
    size_t len;
    const uint8_t *pb = write_graph(&w, c, n, &len);
    for (int no_opt = 0; no_opt < 2; no_opt++) {
        frost_options o;
        tg_options(&o);
        o.debug_flags = no_opt ? FROST_DEBUG_NO_OPTIMIZE : 0;
        tg_model t;
        const char *x_in = "x";
        o.inputs = &x_in;
        o.num_inputs = 1;
        if (tg_build(&t, pb, len, "fq", &o) != FROST_OK || tg_run1(&t, 1, x, NULL) != FROST_OK) {
            CHECK_MSG(0, "%s: %s", what, tg_msg(&t));
        } else {
            double d = tu_max_abs_diff(t.out[0], want, (size_t)n);
            CHECK_MSG(d <= 2e-7, "%s (no_optimize=%d): max abs diff %g", what, no_opt, d);
            if (d > 2e-7)
                for (int i = 0; i < n; i++)
                    fprintf(stderr, "  x %.9g: got %.9g want %.9g\n", x[i], t.out[0][i], want[i]);
        }
        tg_free(&t);
    }
    fr_gdw_free(w);
}

static void expect_error(const char *what, const fq_case *c, const char *needle) {
    fr_gdw *w;
    size_t len;
    const uint8_t *pb = write_graph(&w, c, 4, &len);
    tg_model t;
    frost_options o;
    tg_options(&o);
    const char *x_in = "x";
    o.inputs = &x_in;
    o.num_inputs = 1;
    frost_status st = tg_build(&t, pb, len, "fq", &o);
    CHECK_MSG(st == FROST_E_GRAPH || st == FROST_E_SHAPE, "%s: status %s", what, frost_strerror(st));
    const char *m = tg_msg(&t);
    CHECK_MSG(strstr(m, "node 'fq'") && strstr(m, needle), "%s: message '%s' lacks \"%s\"", what, m, needle);
    tg_free(&t);
    fr_gdw_free(w);
}

static void test_values(void) {
    /* Vars, 8 bits, [-1, 1]: scale = 2/255, which in float is 0.00784313772 (4.6e-10 above 2/255),
     * so zero_point_from_min = 0 - (-1)/scale = 127.4999926 (not 127.5) -> round() = 127;
     * nudged_min = -127 * scale = -0.996078491, nudged_max = 128 * scale = 1.00392163, quant_zero 127.
     *   0.3: (0.3 + 0.996078491) / scale = 165.25; - 127 + 0.5 = 38.75 -> 38 -> 38 * scale = 0.298039228
     *   0.5: 191.25 -> 64.75 -> 64 -> 0.501960814
     *   -2 -> clamped to nudged_min -0.996078491;  1.5 -> nudged_max 1.00392163;  0 -> 0 exactly
     *   -0.004: 126.49 -> -0.01 -> floor -1 -> -0.00784313772 */
    fq_case vars = {"FakeQuantWithMinMaxVars", 0, 0, 0, F(-1), F(1), 0};
    expect_values("Vars [-1,1] 8 bits", &vars, F(0.3f, 0.5f, -2.0f, 1.5f, 0.0f, -0.004f),
                  F(0.298039228f, 0.501960814f, -0.996078491f, 1.00392163f, 0.0f, -0.00784313772f), 6);

    /* Args [0, 6], 8 bits: scale = 6/255 = 0.0235294118, inv_scale = 255/6 = 42.5,
     * zero_point_from_min = 0 -> nudged range [0, 6], quant_zero 0.
     *   3: 3 * 42.5 = 127.5 + 0.5 = 128 -> 128 * 6/255 = 3.01176471
     *   1: 42.5 + 0.5 = 43 -> 1.01176471;  -1 -> 0;  7 -> 6;  5.99: 254.575 -> 255.075 -> 255 -> 6 */
    fq_case args = {"FakeQuantWithMinMaxArgs", 8, 0, 0, F(0), F(6), 0};
    expect_values("Args [0,6] 8 bits", &args, F(3.0f, 1.0f, -1.0f, 7.0f, 5.99f), F(3.01176471f, 1.01176471f, 0.0f, 6.0f, 6.0f),
                  5);

    /* Vars, narrow_range, 8 bits, [-0.1, 0.2]: quant range 1..255, scale = 0.3/254 = 0.00118110236;
     * zero_point_from_min = 1 + 0.1/scale = 85.667 -> 86; nudged_min = (1 - 86) * scale = -0.100393701,
     * nudged_max = (255 - 86) * scale = 0.199606299, quant_zero = 85.
     *   0.05: (0.05 + 0.100393701) / scale = 127.333; - 85 + 0.5 = 42.833 -> 42 -> 42 * scale = 0.0496062992
     *   1 -> 0.199606299;  -1 -> -0.100393701 */
    fq_case narrow = {"FakeQuantWithMinMaxVars", 8, 1, 0, F(-0.1f), F(0.2f), 0};
    expect_values("Vars narrow [-0.1,0.2]", &narrow, F(0.05f, 1.0f, -1.0f), F(0.0496062992f, 0.199606299f, -0.100393701f), 3);

    /* Vars, 4 bits, [-3.3, 2.7]: quant 0..15, scale = 6/15 = 0.4; zero_point_from_min = 3.3/0.4 = 8.25 -> 8;
     * nudged range [-3.2, 2.8].
     *   1.1: (1.1 + 3.2) / 0.4 = 10.75; - 8 + 0.5 = 3.25 -> 3 -> 1.2
     *   -0.5: 2.7 / 0.4 = 6.75 -> -0.75 -> -1 -> -0.4;  -3.3 -> -3.2;  2.79 -> 6.975 -> 7 -> 2.8 */
    fq_case four = {"FakeQuantWithMinMaxVars", 4, 0, 0, F(-3.3f), F(2.7f), 0};
    expect_values("Vars 4 bits [-3.3,2.7]", &four, F(1.1f, -0.5f, -3.3f, 2.79f), F(1.2f, -0.4f, -3.2f, 2.8f), 4);

    /* Vars, 8 bits, [0.5, 2] (0 outside the range): scale = 1.5/255 = 0.00588235294;
     * zero_point_from_min = -0.5/scale = -85 < 0 -> 0: the range moves to [0, 1.5].
     *   1: 170 + 0.5 -> 170 -> 1.0;  2 -> 1.5;  0.2: 34 -> 0.2 */
    fq_case shifted = {"FakeQuantWithMinMaxVars", 8, 0, 0, F(0.5f), F(2.0f), 0};
    expect_values("Vars [0.5,2] nudged to [0,1.5]", &shifted, F(1.0f, 2.0f, 0.2f), F(1.0f, 1.5f, 0.2f), 3);

    /* min == max == 0: zeros (TensorFlow's special case) */
    fq_case zero = {"FakeQuantWithMinMaxVars", 8, 0, 0, F(0), F(0), 0};
    expect_values("Vars [0,0]", &zero, F(1.0f, -3.0f), F(0.0f, 0.0f), 2);

    /* Per channel over the last axis (3 channels, 2 pixels): channel 0 [-1, 1] and
     * channel 1 [0, 6] as above, channel 2 [0, 0] -> zeros. */
    fq_case pc = {"FakeQuantWithMinMaxVarsPerChannel", 8, 0, 3, F(-1, 0, 0), F(1, 6, 0), 0};
    expect_values("PerChannel", &pc, F(0.3f, 3.0f, 5.0f, -2.0f, 7.0f, -1.0f),
                  F(0.298039228f, 3.01176471f, 0.0f, -0.996078491f, 6.0f, 0.0f), 6);
}

static void test_errors(void) {
    fq_case c = {"FakeQuantWithMinMaxVars", 8, 0, 0, F(1), F(-1), 0};
    expect_error("min > max", &c, "min 1 is greater than max -1");
    c.min = F(NAN), c.max = F(1);
    expect_error("NaN min", &c, "not finite");
    c.min = F(-1), c.max = F(INFINITY);
    expect_error("inf max", &c, "not finite");
    c.min = F(2), c.max = F(2);
    expect_error("zero width", &c, "zero width");
    c.min = F(-1), c.max = F(1), c.num_bits = 1;
    expect_error("num_bits 1", &c, "num_bits is 1");
    c.num_bits = 17;
    expect_error("num_bits 17", &c, "num_bits is 17");
    c.num_bits = 8, c.nonconst_min = 1;
    expect_error("run-time min", &c, "must be constants");
    fq_case a = {"FakeQuantWithMinMaxArgs", 8, 0, 0, F(1), F(1), 0};
    expect_error("Args min == max", &a, "must be smaller than max");
    fq_case pc = {"FakeQuantWithMinMaxVarsPerChannel", 8, 0, 2, F(-1, 1), F(1, -1), 0};
    expect_error("PerChannel min > max", &pc, "range of channel 1 is empty");
}

/* x [1, 2, 2, 1] -> FakeQuantVars [-1, 1] -> 1x1 Conv2D (w 0.7) -> FakeQuantArgs [-2, 6] -> y,
 * on the reference kernels and on the default backend (oneDNN where built).
 * First stage as in test_values: 0.3, 0.5, -2 -> 0.298039228, 0.501960814, -0.996078491, and 1 (just
 * below nudged_max): (1 + 0.996078491) / scale = 254.49999 + 0.5 - 127 -> 127 or 128 by float rounding, so
 * 0.996078431 or 1.00392163; times 0.7: 0.20862746, 0.35137257, -0.69725494, 0.69725490 or 0.70274514.
 * Second stage: scale = 8/255 = 0.0313725490, zero_point_from_min = 2/scale = 63.75 -> 64,
 * nudged range [-2.00784314, 5.99215686], quant_zero 64: in steps of the scale the products are
 * 6.65, 11.2, -22.225, 22.225 or 22.4 (plus 64) -> 7, 11, -22, 22 -> 0.219607843, 0.345098039, -0.690196078, 0.690196078. */
static void test_graph(void) {
    fr_gdw *w = tg_writer("x", 4, D(-1, 2, 2, 1));
    fr_gdw_const_f(w, "mn", 0, NULL, F(-1));
    fr_gdw_const_f(w, "mx", 0, NULL, F(1));
    fr_gdw_node(w, "fq_in", "FakeQuantWithMinMaxVars", IN("x", "mn", "mx"));
    fr_gdw_const_f(w, "k", 4, D(1, 1, 1, 1), F(0.7f));
    tg_window(w, "conv", "Conv2D", IN("fq_in", "k"), "SAME", 0, 1);
    fr_gdw_node(w, "y", "FakeQuantWithMinMaxArgs", IN("conv"));
    fr_gdw_attr_float(w, "min", -2.0f);
    fr_gdw_attr_float(w, "max", 6.0f);
    size_t len;
    const uint8_t *pb = fr_gdw_finish(w, &len);
    const float want[4] = {0.219607843f, 0.345098039f, -0.690196078f, 0.690196078f};
    for (int backend = 0; backend < 2; backend++) {
        frost_options o;
        tg_options(&o);
        if (backend) o.backend = FROST_BACKEND_AUTO;
        tg_model t;
        if (tg_build(&t, pb, len, "y", &o) != FROST_OK || tg_run1(&t, 1, F(0.3f, 0.5f, -2.0f, 1.0f), NULL) != FROST_OK) {
            CHECK_MSG(0, "graph (backend %d): %s", backend, tg_msg(&t));
        } else {
            double d = tu_max_abs_diff(t.out[0], want, 4);
            CHECK_MSG(d <= 2e-7, "graph (backend %d): max abs diff %g", backend, d);
        }
        tg_free(&t);
    }
    fr_gdw_free(w);
}

int main(void) {
    test_values();
    test_errors();
    test_graph();
    return tu_done();
}
