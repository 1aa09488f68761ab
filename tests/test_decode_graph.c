/* Graphs that take encoded image bytes: DecodeJpeg / DecodeBmp /
 * DecodeImage -> Cast -> ExpandDims -> ResizeBilinear -> (x - 128) / 128,
 * fed the file's bytes as a string input, equal bit for bit to frost's own
 * pipeline (frost_image_load + frost_image_preprocess, which test_image_*
 * check against TensorFlow's formulas) with the node's dct_method; and the
 * graphs frost refuses, each with the node named. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "frost.h"
#include "pb/pb.h"
#include "pb/pbwriter.h"
#include "testutil.h"
#include "tgraph.h"

#define S 64 /* the resize target */

/* contents (string [] or [-1]) -> OP -> Cast -> ExpandDims -> [ResizeBilinear] -> Sub -> RealDiv */
static uint8_t *image_graph(const char *op, const char *dct, int rank, int resize, int align, size_t *len) {
    fr_gdw *w = tg_image_writer(op, 3, dct, rank);
    fr_gdw_const_i32(w, "size", 1, (int64_t[]){2}, (int32_t[]){S, S});
    if (resize) {
        fr_gdw_node(w, "resize", "ResizeBilinear", (const char *[]){"expand", "size", NULL});
        fr_gdw_attr_bool(w, "align_corners", align);
        fr_gdw_node_end(w);
    }
    fr_gdw_const_f(w, "mean", 0, NULL, (float[]){128});
    fr_gdw_node(w, "sub", "Sub", (const char *[]){resize ? "resize" : "expand", "mean", NULL});
    fr_gdw_node_end(w);
    fr_gdw_node(w, "y", "RealDiv", (const char *[]){"sub", "mean", NULL});
    fr_gdw_node_end(w);
    return tg_finish(w, len);
}

static frost_status compile(const uint8_t *pb, size_t len, frost_model **m, char **err) {
    frost_graph *g = NULL;
    frost_options o;
    frost_options_init(&o);
    o.threads = 1;
    o.max_batch = 4;
    o.backend = FROST_BACKEND_REFERENCE;
    frost_status st = frost_graph_load_memory(pb, len, 1, &g, err);
    if (st == FROST_OK) st = frost_model_compile(g, &o, m, err);
    frost_graph_free(g);
    return st;
}

/* The graph's output for `file` against frost's pipeline (dct as given). */
static void check_image(const char *op, const char *dct_attr, int dct, const char *file, int align, float *out) {
    size_t len, n;
    uint8_t *pb = image_graph(op, dct_attr, 0, 1, align, &len);
    const char *path = tu_path("%s/images/%s", tu_shared_dir(), file);
    uint8_t *bytes = tu_read_file(path, &n);
    frost_model *m = NULL;
    char *err = NULL;
    CHECK_MSG(pb && bytes && compile(pb, len, &m, &err) == FROST_OK, "%s %s: %s", op, file, err ? err : "");
    frost_free(err);
    frost_context *c = NULL;
    if (m && frost_context_create(m, &c, NULL) == FROST_OK) {
        CHECK(frost_model_input_dtype(m, 0) == FROST_DTYPE_STRING && frost_model_output_size(m, 0) == S * S * 3);
        float *y = calloc(2 * S * S * 3, sizeof *y), *want = calloc(S * S * 3, sizeof *want);
        frost_string s[2] = {{bytes, n}, {bytes, n}};
        const float *in[1] = {NULL};
        float *o[1] = {y};
        CHECK_MSG(frost_context_set_string_input(c, 0, s, 2) == FROST_OK && frost_context_run(c, 2, in, o) == FROST_OK,
                  "%s: %s", file, frost_context_error(c));
        frost_decode_options d;
        frost_decode_options_init(&d);
        d.dct_method = dct;
        frost_image *img = NULL;
        frost_preprocess pp = {S, S, 128, 128, align ? FROST_RESIZE_ALIGN_CORNERS : FROST_RESIZE_TF1};
        CHECK(frost_image_load(path, &d, &img, NULL) == FROST_OK && frost_image_preprocess(img, &pp, want) == FROST_OK);
        CHECK_MSG(!memcmp(y, want, S * S * 3 * sizeof *y) && !memcmp(y + S * S * 3, want, S * S * 3 * sizeof *y),
                  "%s %s (%s): not bit-identical to frost_image_preprocess (max diff %g)", op, file,
                  dct_attr ? dct_attr : "", tu_max_abs_diff(y, want, S * S * 3));
        if (out) memcpy(out, y, S * S * 3 * sizeof *y);
        frost_image_free(img);
        free(y);
        free(want);
    }
    frost_context_free(c);
    frost_model_free(m);
    free(pb);
    free(bytes);
}

/* A graph that fails to load or compile: its status, and that its message has `what`. */
static void check_refused(const uint8_t *pb, size_t len, frost_status want, const char *what) {
    frost_model *m = NULL;
    char *err = NULL;
    frost_status st = compile(pb, len, &m, &err);
    CHECK_MSG(st == want && err && strstr(err, what), "want '%s': %s", what, err ? err : "(none)");
    frost_free(err);
    frost_model_free(m);
}

int main(void) {
    size_t len;
    uint8_t *pb;
    /* refused: no resize (a run-time shape reaches Sub), a batch of strings
     * into DecodeJpeg (tf.map_fn), an unsupported dct_method, a While loop */
    pb = image_graph("DecodeJpeg", NULL, 0, 0, 0, &len);
    check_refused(pb, len, FROST_E_SHAPE, "'sub'");
    free(pb);
    pb = image_graph("DecodeJpeg", NULL, 1, 1, 0, &len);
    check_refused(pb, len, FROST_E_UNSUPPORTED_OP, "tf.map_fn");
    free(pb);
    pb = image_graph("DecodeJpeg", "FLOAT", 0, 1, 0, &len);
    check_refused(pb, len, FROST_E_UNSUPPORTED_OP, "dct_method");
    free(pb);
    pb = image_graph("While", NULL, 0, 1, 0, &len);
    check_refused(pb, len, FROST_E_UNSUPPORTED_OP, "While");
    free(pb);
    if (!tu_shared_dir()) {
        printf("../shared not found: the image tests are skipped\n");
        tu_done();
        return tu_failed ? 1 : 77;
    }
    float *fast = calloc(S * S * 3, sizeof *fast), *accurate = calloc(S * S * 3, sizeof *accurate);
    check_image("DecodeJpeg", NULL, FROST_DCT_INTEGER_FAST, "grace_hopper.jpg", 0, fast);
    check_image("DecodeJpeg", "INTEGER_FAST", FROST_DCT_INTEGER_FAST, "grace_hopper.jpg", 1, NULL);
    check_image("DecodeJpeg", "INTEGER_ACCURATE", FROST_DCT_INTEGER_ACCURATE, "grace_hopper.jpg", 0, accurate);
    CHECK_MSG(memcmp(fast, accurate, S * S * 3 * sizeof *fast), "dct_method changes nothing");
    check_image("DecodeImage", NULL, FROST_DCT_INTEGER_FAST, "grace_hopper.jpg", 0, NULL);
    check_image("DecodeImage", NULL, FROST_DCT_INTEGER_FAST, "cat.bmp", 0, NULL);
    check_image("DecodeBmp", NULL, FROST_DCT_INTEGER_FAST, "bird.bmp", 0, NULL);
    free(fast);
    free(accurate);
    /* DecodeBmp fed a JPEG, DecodeJpeg fed a BMP or garbage: the run fails naming the node */
    static const char *const ops[] = {"DecodeBmp", "DecodeJpeg", "DecodeJpeg"};
    static const char *const files[] = {"grace_hopper.jpg", "cat.bmp", NULL};
    for (int i = 0; i < 3; i++) {
        pb = image_graph(ops[i], NULL, 0, 1, 0, &len);
        frost_model *m = NULL;
        frost_context *c = NULL;
        size_t n = 5;
        uint8_t *bytes = files[i] ? tu_read_file(tu_path("%s/images/%s", tu_shared_dir(), files[i]), &n)
                                  : (uint8_t *)strdup("\xff\xd8\xff\x00\x01");
        if (compile(pb, len, &m, NULL) == FROST_OK && frost_context_create(m, &c, NULL) == FROST_OK) {
            float *y = calloc(S * S * 3, sizeof *y);
            frost_string s = {bytes, n};
            const float *in[1] = {NULL};
            float *o[1] = {y};
            frost_status st = frost_context_set_string_input(c, 0, &s, 1);
            if (st == FROST_OK) st = frost_context_run(c, 1, in, o);
            CHECK_MSG(st == FROST_E_IMAGE && strstr(frost_context_error(c), "'decode'"), "%s: %s", ops[i],
                      frost_context_error(c));
            free(y);
        } else {
            CHECK(0);
        }
        frost_context_free(c);
        frost_model_free(m);
        free(bytes);
        free(pb);
    }
    return tu_done();
}
