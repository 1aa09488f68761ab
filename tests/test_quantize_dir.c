/* frost-test-labels: asan */
/* Quantization calibrated on a directory of images, in the library
 * (frost_quantizer_observe_dir, frost_quantize_graph) and at load time
 * (frost_options.calibrate_dir with FROST_PRECISION_INT8), on a small graph:
 * x [?, 12, 12, 3] -> conv 3x3 (3 -> 4) -> bias -> relu -> conv 1x1 (4 -> 5)
 * -> bias -> y, calibrated on BMP files in a temporary directory (with a
 * text file and a hidden file to skip, and a sub-directory to walk).
 * Checks: the load-time model gives the same outputs, to the bit, as the
 * graph `frost quantize` writes (quantizer + observe_dir + graphdef) compiled
 * with precision int8; the default flags leave the input layer float (its
 * weights stay float: no Cast) and quantize the second; augmentation (five
 * views an image) changes the ranges; max_images; the
 * errors of a missing directory, one without images, calibrate_dir without
 * precision int8, and a model whose input takes no images. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "frost.h"
#include "imgtest.h"
#include "pb/pbwriter.h"
#include "testutil.h"
#include "tgraph.h"

#define IN(...) ((const char *const[]){__VA_ARGS__, NULL})
#define S 12

static const uint8_t *write_graph(fr_gdw **wp, size_t *len) {
    fr_gdw *w = tg_writer("x", 4, (const int64_t[]){-1, S, S, 3});
    float k1[3 * 3 * 3 * 4], b1[4] = {0.1f, -0.2f, 0.05f, 0.0f}, k2[4 * 5], b2[5] = {0.3f, -0.1f, 0.0f, 0.2f, -0.3f};
    for (int i = 0; i < 108; i++) k1[i] = (float)((i * 37) % 17 - 8) / 40.0f;
    for (int i = 0; i < 20; i++) k2[i] = (float)((i * 11) % 13 - 6) / 7.0f;
    fr_gdw_const_f(w, "k1", 4, (const int64_t[]){3, 3, 3, 4}, k1);
    fr_gdw_const_f(w, "b1", 1, (const int64_t[]){4}, b1);
    fr_gdw_const_f(w, "k2", 4, (const int64_t[]){1, 1, 4, 5}, k2);
    fr_gdw_const_f(w, "b2", 1, (const int64_t[]){5}, b2);
    fr_gdw_node(w, "c1", "Conv2D", IN("x", "k1"));
    fr_gdw_attr_str(w, "padding", "SAME");
    fr_gdw_attr_ints(w, "strides", 4, (const int64_t[]){1, 1, 1, 1});
    fr_gdw_node(w, "a1", "BiasAdd", IN("c1", "b1"));
    fr_gdw_node(w, "r1", "Relu", IN("a1"));
    fr_gdw_node(w, "c2", "Conv2D", IN("r1", "k2"));
    fr_gdw_attr_str(w, "padding", "VALID");
    fr_gdw_attr_ints(w, "strides", 4, (const int64_t[]){1, 1, 1, 1});
    fr_gdw_node(w, "y", "BiasAdd", IN("c2", "b2"));
    *wp = w;
    return fr_gdw_finish(w, len);
}

/* A 24-bit BMP of w x h pattern pixels (seed) at path. */
static void write_bmp(const char *path, int w, int h, uint32_t seed) {
    uint8_t *px = it_pattern(w, h, 3, seed);
    size_t n = 0;
    uint8_t *bmp = it_write_bmp(w, h, 24, 40, 0, px, (size_t)w * 3, NULL, 0, NULL, &n);
    CHECK(bmp && tu_write_file(path, bmp, n) == 0);
    free(bmp), free(px);
}

static frost_preprocess pp = {0, 0, 127.5f, 127.5f, FROST_RESIZE_TF1};

static void options(frost_options *o, const char **in, const char **out) {
    frost_options_init(o);
    o->inputs = in, o->num_inputs = 1, o->outputs = out, o->num_outputs = 1;
}

/* y for `batch` images through `model`. */
static void run(frost_model *m, const float *x, int batch, float *y) {
    frost_context *ctx = NULL;
    CHECK(frost_context_create(m, &ctx, NULL) == FROST_OK);
    CHECK(ctx && frost_context_run1(ctx, batch, x, y) == FROST_OK);
    frost_context_free(ctx);
}

/* The quantized GraphDef as frost quantize writes it, with `flags`; NULL on failure (checked). */
static void *quantize_bytes(const frost_graph *g, const char *dir, unsigned flags, int max_images, int *images,
                            size_t *len) {
    const char *in = "x", *out = "y";
    frost_options o;
    options(&o, &in, &out);
    o.max_batch = 8; /* frost quantize's */
    frost_quantizer *q = NULL;
    char *err = NULL;
    void *pb = NULL;
    frost_status st = frost_quantizer_create(g, &o, flags, &q, &err);
    if (st == FROST_OK) st = frost_quantizer_observe_dir(q, dir, &pp, max_images, images, &err);
    if (st == FROST_OK) st = frost_quantizer_graphdef(q, &pb, len, &err);
    CHECK_MSG(st == FROST_OK, "quantize %s: %s", dir, err ? err : "");
    frost_free(err);
    frost_quantizer_free(q);
    return pb;
}

static int count_op(const frost_graph *g, const char *op) {
    for (int i = 0; i < frost_graph_op_type_count(g); i++)
        if (!strcmp(frost_graph_op_type_name(g, i), op)) return frost_graph_op_type_uses(g, i);
    return 0;
}

/* Compiles g (or g with calibrate_dir = dir) for int8 and returns the status; message in *err. */
static frost_status compile(const frost_graph *g, const char *dir, frost_precision precision, frost_model **m,
                            char **err) {
    const char *in = "x", *out = "y";
    frost_options o;
    options(&o, &in, &out);
    o.precision = precision;
    o.calibrate_dir = dir;
    o.calibrate_preprocess = &pp;
    return frost_model_compile(g, &o, m, err);
}

int main(void) {
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/frost_qdir_XXXXXX", tu_tmp_dir());
    if (!mkdtemp(dir)) {
        fprintf(stderr, "cannot make a directory in %s\n", tu_tmp_dir());
        return 1;
    }
    CHECK(mkdir(tu_path("%s/sub", dir), 0700) == 0 && mkdir(tu_path("%s/empty", dir), 0700) == 0);
    write_bmp(tu_path("%s/a.bmp", dir), 20, 16, 1);
    write_bmp(tu_path("%s/b.bmp", dir), 16, 24, 2);
    write_bmp(tu_path("%s/sub/c.bmp", dir), 30, 30, 3);
    write_bmp(tu_path("%s/.hidden.bmp", dir), 8, 8, 4);
    CHECK(tu_write_file(tu_path("%s/notes.txt", dir), "not an image\n", 13) == 0);

    fr_gdw *w;
    size_t len;
    const uint8_t *bytes = write_graph(&w, &len);
    frost_graph *g = NULL;
    CHECK(frost_graph_load_memory(bytes, len, 1, &g, NULL) == FROST_OK);
    fr_gdw_free(w);

    /* frost quantize's graph (default flags) compiled for int8 vs the load-time model */
    int images = 0;
    size_t qlen = 0;
    void *qpb = quantize_bytes(g, dir, FROST_QUANTIZE_DEFAULT, 0, &images, &qlen);
    CHECK_MSG(images == 3, "3 images found (hidden file and text file skipped): %d", images);
    frost_graph *qg = NULL;
    CHECK(qpb && frost_graph_load_memory(qpb, qlen, 1, &qg, NULL) == FROST_OK);
    /* the input layer float (k1 not int8), the second conv int8 (k2: Cast + Mul), FakeQuant on r1 */
    CHECK_MSG(qg && count_op(qg, "Cast") == 1 && count_op(qg, "FakeQuantWithMinMaxVars") == 1,
              "Cast %d, FakeQuant %d", qg ? count_op(qg, "Cast") : -1,
              qg ? count_op(qg, "FakeQuantWithMinMaxVars") : -1);
    frost_model *m_file = NULL, *m_load = NULL;
    char *err = NULL;
    CHECK(qg && compile(qg, NULL, FROST_PRECISION_INT8, &m_file, &err) == FROST_OK);
    frost_free(err);
    err = NULL;
    frost_status st = compile(g, dir, FROST_PRECISION_INT8, &m_load, &err);
    CHECK_MSG(st == FROST_OK, "calibrate_dir: %s", err ? err : "");
    frost_free(err);
    float x[2 * S * S * 3], y_file[2 * S * S * 5], y_load[2 * S * S * 5], y_fp32[2 * S * S * 5];
    for (int i = 0; i < 2 * S * S * 3; i++) x[i] = (float)((i * 29) % 31 - 15) / 15.0f;
    if (m_file && m_load) {
        run(m_file, x, 2, y_file);
        run(m_load, x, 2, y_load);
        CHECK_MSG(memcmp(y_file, y_load, sizeof y_file) == 0, "load-time quantization = frost quantize's graph: max diff %g",
                  tu_max_abs_diff(y_file, y_load, 2 * S * S * 5));
        frost_model *m_fp = NULL;
        CHECK(compile(g, NULL, FROST_PRECISION_FP32, &m_fp, NULL) == FROST_OK);
        if (m_fp) {
            run(m_fp, x, 2, y_fp32);
            double d = tu_max_abs_diff(y_fp32, y_load, 2 * S * S * 5);
            CHECK_MSG(d > 0.0 && d < 0.5, "quantized, close to FP32: max diff %g", d);
        }
        frost_model_free(m_fp);
    }
    frost_model_free(m_file);
    frost_model_free(m_load);
    frost_graph_free(qg);

    /* frost_quantize_graph is the same graph */
    frost_graph *qg2 = NULL;
    const char *in = "x", *out = "y";
    frost_options o;
    options(&o, &in, &out);
    CHECK(frost_quantize_graph(g, &o, FROST_QUANTIZE_DEFAULT, dir, &pp, &qg2, NULL) == FROST_OK);
    frost_graph_free(qg2);

    /* without augmentation: other ranges; with the input layer quantized: k1 int8 too; max_images */
    size_t len_plain = 0, len_int8in = 0, len_one = 0;
    int n_one = 0;
    void *plain = quantize_bytes(g, dir, FROST_QUANTIZE_DEFAULT | FROST_QUANTIZE_AUGMENT, 0, NULL, &len_plain);
    void *int8in = quantize_bytes(g, dir, FROST_QUANTIZE_PER_CHANNEL, 0, NULL, &len_int8in);
    void *one = quantize_bytes(g, dir, FROST_QUANTIZE_DEFAULT, 1, &n_one, &len_one);
    CHECK_MSG(plain && qpb && (len_plain != qlen || memcmp(plain, qpb, qlen)), "augmentation changes the ranges");
    frost_graph *g2 = NULL;
    CHECK(int8in && frost_graph_load_memory(int8in, len_int8in, 1, &g2, NULL) == FROST_OK);
    CHECK_MSG(g2 && count_op(g2, "Cast") == 2 && count_op(g2, "FakeQuantWithMinMaxVars") == 2,
              "input layer quantized: Cast %d, FakeQuant %d", g2 ? count_op(g2, "Cast") : -1,
              g2 ? count_op(g2, "FakeQuantWithMinMaxVars") : -1);
    frost_graph_free(g2);
    CHECK_MSG(n_one == 1, "max_images 1: %d images", n_one);
    frost_free(plain), frost_free(int8in), frost_free(one), frost_free(qpb);

    /* errors: each names the directory and says what is wrong */
    struct {
        const char *dir;
        frost_precision precision;
        frost_status st;
        const char *needle;
    } bad[] = {
        {tu_path("%s/missing", dir), FROST_PRECISION_INT8, FROST_E_IO, "cannot read the calibration directory"},
        {tu_path("%s/empty", dir), FROST_PRECISION_INT8, FROST_E_INVALID_ARGUMENT, "no image in the calibration directory"},
        {dir, FROST_PRECISION_FP32, FROST_E_INVALID_ARGUMENT, "precision int8 only"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        frost_model *m = NULL;
        err = NULL;
        st = compile(g, bad[i].dir, bad[i].precision, &m, &err);
        CHECK_MSG(st == bad[i].st && !m && err && strstr(err, bad[i].needle) &&
                      (bad[i].precision != FROST_PRECISION_INT8 || strstr(err, bad[i].dir)),
                  "%s: %s (%s)", bad[i].dir, frost_strerror(st), err ? err : "no message");
        frost_free(err);
    }
    frost_quantizer *q = NULL;
    options(&o, &in, &out);
    CHECK(frost_quantizer_create(g, &o, FROST_QUANTIZE_DEFAULT, &q, NULL) == FROST_OK);
    CHECK(frost_quantizer_observe_dir(q, NULL, &pp, 0, NULL, NULL) == FROST_E_INVALID_ARGUMENT);
    CHECK(frost_quantizer_observe_dir(q, dir, &pp, -1, NULL, NULL) == FROST_E_INVALID_ARGUMENT);
    frost_preprocess wrong = pp;
    wrong.width = S + 1, wrong.height = S;
    CHECK(frost_quantizer_observe_dir(q, dir, &wrong, 0, NULL, NULL) == FROST_E_INVALID_ARGUMENT);
    frost_quantizer_free(q);
    CHECK(frost_quantizer_create(g, &o, 0x100u, &q, NULL) == FROST_E_INVALID_ARGUMENT && !q);

    /* a model whose input is no image ([?, 7]): a clear error */
    fr_gdw *w2 = tg_writer("x", 2, (const int64_t[]){-1, 7});
    fr_gdw_node(w2, "y", "Relu", IN("x"));
    const uint8_t *b2 = fr_gdw_finish(w2, &len);
    frost_graph *gv = NULL;
    frost_model *mv = NULL;
    CHECK(frost_graph_load_memory(b2, len, 1, &gv, NULL) == FROST_OK);
    err = NULL;
    st = gv ? compile(gv, dir, FROST_PRECISION_INT8, &mv, &err) : FROST_E_INTERNAL;
    CHECK_MSG(st != FROST_OK && !mv && err, "vector input: %s (%s)", frost_strerror(st), err ? err : "");
    frost_free(err);
    frost_graph_free(gv);
    fr_gdw_free(w2);

    frost_graph_free(g);
    remove(tu_path("%s/a.bmp", dir)), remove(tu_path("%s/b.bmp", dir)), remove(tu_path("%s/sub/c.bmp", dir));
    remove(tu_path("%s/.hidden.bmp", dir)), remove(tu_path("%s/notes.txt", dir));
    rmdir(tu_path("%s/sub", dir)), rmdir(tu_path("%s/empty", dir)), rmdir(dir);
    return tu_done();
}
