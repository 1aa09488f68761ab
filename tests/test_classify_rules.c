/* frost-test-labels: asan */
/* The classifier's rules of the library, against hand-computed cases:
 * frost_top_k (ties by lower index, NaN below every number, k > n, k <= 0,
 * NULL arguments, and a brute-force ranking of random scores) and
 * frost_graph_image_spec / frost_model_image_spec (the only Placeholder or
 * the one named "input", a named one, a node that is not a Placeholder, the
 * declared size, the caller's, label_image's 299, conflicts, the declared
 * channel count kept (grayscale), inputs that are not images, the output). */
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "frost.h"
#include "pb/pbwriter.h"
#include "testutil.h"

#define D(...) ((const int64_t[]){__VA_ARGS__})
#define I32(...) ((const int32_t[]){__VA_ARGS__})
#define IN(...) ((const char *const[]){__VA_ARGS__, NULL})
#define COUNT(a) (sizeof(a) / sizeof *(a))

/* ----------------------------------------------------------------- top k */

/* frost_top_k(scores, n, k) gives exactly want[0..nw) (indices). */
static void top_is(const char *what, const float *scores, size_t n, int k, const int *want, int nw) {
    int idx[64], got = -7;
    float val[64];
    for (int i = 0; i < 64; i++) idx[i] = -1, val[i] = -1.0f;
    CHECK_MSG(frost_top_k(scores, n, k, idx, val, &got) == FROST_OK && got == nw, "%s: %d results, want %d", what,
              got, nw);
    for (int i = 0; i < nw && i < got; i++) {
        CHECK_MSG(idx[i] == want[i], "%s: rank %d is index %d, want %d", what, i, idx[i], want[i]);
        CHECK_MSG(memcmp(&val[i], &scores[want[i]], sizeof(float)) == 0, "%s: rank %d score", what, i);
    }
    CHECK_MSG(idx[nw] == -1 && val[nw] == -1.0f, "%s: wrote past its %d results", what, nw);
}

/* The ranking by its definition: repeatedly the best not yet taken. */
static int ranks_above(const float *s, int a, int b) {
    if (isnan(s[a]) != isnan(s[b])) return !isnan(s[a]);
    if (!isnan(s[a]) && s[a] != s[b]) return s[a] > s[b];
    return a < b;
}

static void top_k_cases(void) {
    const float nan = NAN, inf = INFINITY;
    top_is("plain", (const float[]){0.1f, 0.5f, 0.3f, 0.9f, 0.2f}, 5, 3, (const int[]){3, 1, 2}, 3);
    top_is("ties: lower index first", (const float[]){0.1f, 0.5f, 0.5f, 0.9f, 0.5f}, 5, 4, (const int[]){3, 1, 2, 4},
           4);
    top_is("all equal", (const float[]){1, 1, 1, 1}, 4, 2, (const int[]){0, 1}, 2);
    top_is("-0 and +0 tie", (const float[]){-0.0f, 0.0f}, 2, 2, (const int[]){0, 1}, 2);
    top_is("NaN last", (const float[]){0.5f, nan, 0.5f, 0.9f, nan}, 5, 5, (const int[]){3, 0, 2, 1, 4}, 5);
    top_is("NaN cut off", (const float[]){nan, 0.5f, nan, 0.9f, 0.1f}, 5, 3, (const int[]){3, 1, 4}, 3);
    top_is("NaN below -Inf", (const float[]){nan, -inf, nan, 0.0f, inf}, 5, 5, (const int[]){4, 3, 1, 0, 2}, 5);
    top_is("all NaN", (const float[]){nan, nan, nan}, 3, 2, (const int[]){0, 1}, 2);
    top_is("k > n", (const float[]){2, 1, 3}, 3, 10, (const int[]){2, 0, 1}, 3);
    top_is("k == n", (const float[]){2, 1, 3}, 3, 3, (const int[]){2, 0, 1}, 3);
    top_is("k == 1", (const float[]){2, 7, 3, 7}, 4, 1, (const int[]){1}, 1);
    top_is("k == 0", (const float[]){2, 1, 3}, 3, 0, NULL, 0);
    top_is("no scores", NULL, 0, 5, NULL, 0);

    /* invalid arguments: nothing written */
    const float s[3] = {1, 2, 3};
    int idx[3] = {-1, -1, -1}, n = -7;
    CHECK(frost_top_k(s, 3, -1, idx, NULL, &n) == FROST_E_INVALID_ARGUMENT && n == -7 && idx[0] == -1);
    CHECK(frost_top_k(s, 3, 2, idx, NULL, NULL) == FROST_E_INVALID_ARGUMENT && idx[0] == -1);
    CHECK(frost_top_k(NULL, 3, 2, idx, NULL, &n) == FROST_E_INVALID_ARGUMENT && n == -7);
    CHECK(frost_top_k(s, 3, 2, NULL, NULL, &n) == FROST_E_INVALID_ARGUMENT && n == -7);
    CHECK(frost_top_k(s, (size_t)INT_MAX + 1, 2, idx, NULL, &n) == FROST_E_INVALID_ARGUMENT && n == -7);
    /* NULL is fine where nothing would be written */
    CHECK(frost_top_k(s, 3, 0, NULL, NULL, &n) == FROST_OK && n == 0);
    CHECK(frost_top_k(s, 3, 2, idx, NULL, &n) == FROST_OK && n == 2 && idx[0] == 2 && idx[1] == 1);

    /* random scores with many ties and NaNs against the definition */
    uint32_t seed = 12345;
    for (int round = 0; round < 300; round++) {
        float sc[40];
        int got[40], want[40], taken[40] = {0}, ng = 0;
        seed = seed * 1664525u + 1013904223u;
        int count = 1 + (int)(seed >> 8) % 40, k = (int)(seed >> 20) % 45;
        for (int i = 0; i < count; i++) {
            seed = seed * 1664525u + 1013904223u;
            unsigned r = (seed >> 16) % 8;
            sc[i] = r == 0 ? NAN : r == 1 ? -INFINITY : (float)(r % 4) - 1.5f;
        }
        int nw = k < count ? k : count;
        for (int j = 0; j < nw; j++) {
            int best = -1;
            for (int i = 0; i < count; i++)
                if (!taken[i] && (best < 0 || ranks_above(sc, i, best))) best = i;
            taken[best] = 1;
            want[j] = best;
        }
        CHECK(frost_top_k(sc, (size_t)count, k, got, NULL, &ng) == FROST_OK && ng == nw);
        CHECK_MSG(ng != nw || !memcmp(got, want, sizeof(int) * (size_t)nw), "random round %d (count %d, k %d)",
                  round, count, k);
    }
}

/* ------------------------------------------------------------ image spec */

/* Appends Conv 3x3 (c -> 2) + Mean over [1,2] of `x`, named prefix_conv / prefix_y. */
static void conv_mean(fr_gdw *w, const char *x, int c, const char *prefix) {
    float k[3 * 3 * 4 * 2];
    for (int i = 0; i < 72; i++) k[i] = (float)(i % 7) / 7.0f - 0.4f;
    char kn[64], cn[64], an[64], yn[64];
    snprintf(kn, sizeof kn, "%s_k", prefix);
    snprintf(cn, sizeof cn, "%s_conv", prefix);
    snprintf(an, sizeof an, "%s_axes", prefix);
    snprintf(yn, sizeof yn, "%s_y", prefix);
    fr_gdw_const_f(w, kn, 4, D(3, 3, c, 2), k);
    fr_gdw_node(w, cn, "Conv2D", IN(x, kn));
    fr_gdw_attr_str(w, "padding", "SAME");
    fr_gdw_attr_ints(w, "strides", 4, D(1, 1, 1, 1));
    fr_gdw_const_i32(w, an, 1, D(2), I32(1, 2));
    fr_gdw_node(w, yn, "Mean", IN(cn, an));
}

static frost_graph *finish(fr_gdw *w) {
    size_t len;
    const uint8_t *bytes = fr_gdw_finish(w, &len);
    frost_graph *g = NULL;
    CHECK(bytes && frost_graph_load_memory(bytes, len, 0, &g, NULL) == FROST_OK);
    return g;
}

/* A graph of one Placeholder `name` [rank: dims] of c channels -> Conv + Mean "a_y". */
static frost_graph *image_graph(fr_gdw *w, const char *name, int rank, const int64_t *dims, int c) {
    fr_gdw_placeholder(w, name, rank, dims);
    conv_mean(w, name, c, "a");
    return finish(w);
}

/* Compiles g (input shape `shape` when not NULL, max batch 2); NULL on failure. */
static frost_model *compile(const frost_graph *g, const frost_shape *shape) {
    frost_options o;
    frost_options_init(&o);
    o.input_shapes = shape;
    o.max_batch = 2;
    frost_model *m = NULL;
    char *err = NULL;
    CHECK_MSG(frost_model_compile(g, &o, &m, &err) == FROST_OK, "%s", err ? err : "");
    frost_free(err);
    return m;
}

/* spec has these values (name/output NULL-able). */
static void spec_is(const char *what, const frost_image_spec *s, int input, const char *name, const char *output,
                    int h, int wd, int c, int needs_shape) {
    CHECK_MSG(s->input == input, "%s: input %d, want %d", what, s->input, input);
    CHECK_MSG(name ? s->input_name && !strcmp(s->input_name, name) : !s->input_name, "%s: input name %s, want %s",
              what, s->input_name ? s->input_name : "NULL", name ? name : "NULL");
    CHECK_MSG(output ? s->output_name && !strcmp(s->output_name, output) : !s->output_name,
              "%s: output %s, want %s", what, s->output_name ? s->output_name : "NULL", output ? output : "NULL");
    CHECK_MSG(s->height == h && s->width == wd && s->channels == c, "%s: %dx%dx%d, want %dx%dx%d", what, s->height,
              s->width, s->channels, h, wd, c);
    CHECK_MSG(s->needs_shape == needs_shape, "%s: needs_shape %d", what, s->needs_shape);
    if (h) CHECK_MSG(s->shape.rank == 4 && s->shape.dims[0] == -1 && s->shape.dims[1] == h && s->shape.dims[2] == wd &&
                         s->shape.dims[3] == c,
                     "%s: shape", what);
    else CHECK_MSG(s->shape.rank == -1, "%s: shape rank %d", what, s->shape.rank);
}

/* frost_graph_image_spec with (input, width, height) gives `want_status`. */
static frost_image_spec graph_spec(const frost_graph *g, const char *input, int width, int height,
                                   frost_status want_status, const char *want_msg) {
    frost_image_spec s;
    char *err = NULL;
    frost_status st = frost_graph_image_spec(g, input, width, height, &s, &err);
    CHECK_MSG(st == want_status, "graph spec (%s, %d, %d): status %d, want %d (%s)", input ? input : "NULL", width,
              height, st, want_status, err ? err : "");
    if (want_msg) CHECK_MSG(err && strstr(err, want_msg), "message '%s' lacks '%s'", err ? err : "", want_msg);
    else CHECK(!err);
    frost_free(err);
    return s;
}

/* One Placeholder graphs: the spec of the graph (with the caller's width x
 * height), then of the model compiled with spec.shape where it is needed. */
static void one_placeholder_cases(void) {
    static const struct {
        const char *what, *name;
        int rank;
        int64_t dims[4];
        int width, height;                   /* asked for */
        int want_h, want_w, want_c, want_ns; /* graph spec */
        frost_status model;                  /* model spec */
        const char *model_msg;
    } cases[] = {
        {"declared 8x6", "img", 4, {-1, 8, 6, 3}, 0, 0, 8, 6, 3, 0, FROST_OK, NULL},
        {"declared, size that agrees", "img", 4, {-1, 8, 6, 3}, 6, 8, 8, 6, 3, 0, FROST_OK, NULL},
        {"open size: 299", "x", 4, {-1, -1, -1, 3}, 0, 0, 299, 299, 3, 1, FROST_OK, NULL},
        {"open size, given", "x", 4, {-1, -1, -1, 3}, 12, 10, 10, 12, 3, 1, FROST_OK, NULL},
        {"open width only", "x", 4, {-1, 5, -1, 3}, 0, 0, 5, 299, 3, 1, FROST_OK, NULL},
        {"unknown rank", "u", -1, {0}, 7, 0, 299, 7, 3, 1, FROST_OK, NULL},
        /* grayscale: the declared single channel is kept (3 would contradict
         * the graph); the model compiles and has no image input */
        {"grayscale", "gray", 4, {-1, -1, -1, 1}, 0, 0, 299, 299, 1, 1, FROST_E_SHAPE,
         "input 'gray' of shape [-1,299,299,1] is not an NHWC image with 3 channels"},
    };
    for (size_t i = 0; i < COUNT(cases); i++) {
        fr_gdw *w = fr_gdw_new();
        int channels = cases[i].dims[3] > 0 ? (int)cases[i].dims[3] : 3;
        frost_graph *g = image_graph(w, cases[i].name, cases[i].rank, cases[i].dims, channels);
        frost_image_spec s = graph_spec(g, NULL, cases[i].width, cases[i].height, FROST_OK, NULL);
        spec_is(cases[i].what, &s, 0, cases[i].name, "a_y", cases[i].want_h, cases[i].want_w, cases[i].want_c,
                cases[i].want_ns);
        frost_model *m = compile(g, s.needs_shape ? &s.shape : NULL);
        char *err = NULL;
        CHECK_MSG(m && frost_model_image_spec(m, &s, &err) == cases[i].model, "%s: model spec", cases[i].what);
        if (cases[i].model == FROST_OK)
            spec_is(cases[i].what, &s, 0, cases[i].name, "a_y", cases[i].want_h, cases[i].want_w, 3, 0);
        else
            CHECK_MSG(s.input == -1 && err && strstr(err, cases[i].model_msg), "%s: %s", cases[i].what,
                      err ? err : "(none)");
        frost_free(err);
        frost_model_free(m);
        frost_graph_free(g);
        fr_gdw_free(w);
    }
}

static void image_spec_cases(void) {
    one_placeholder_cases();
    frost_image_spec s;
    fr_gdw *w = fr_gdw_new();
    frost_graph *g = image_graph(w, "img", 4, D(-1, 8, 6, 3), 3);
    s = graph_spec(g, "img:0", 6, 8, FROST_OK, NULL);
    spec_is("named", &s, 0, "img:0", "a_y", 8, 6, 3, 0);
    s = graph_spec(g, NULL, 100, 0, FROST_E_INVALID_ARGUMENT, "conflict");
    spec_is("conflict cleared", &s, -1, NULL, NULL, 0, 0, 0, 0);
    graph_spec(g, NULL, 0, 7, FROST_E_INVALID_ARGUMENT, "conflict");
    /* a node that is not a Placeholder: the caller's size (else 299), 3 channels, a shape to give */
    s = graph_spec(g, "a_conv", 0, 0, FROST_OK, NULL);
    spec_is("not a Placeholder", &s, -1, "a_conv", "a_y", FROST_IMAGE_DEFAULT_SIZE, FROST_IMAGE_DEFAULT_SIZE, 3, 1);
    s = graph_spec(g, "a_conv", 40, 30, FROST_OK, NULL);
    spec_is("not a Placeholder, sized", &s, -1, "a_conv", "a_y", 30, 40, 3, 1);
    /* arguments */
    CHECK(frost_graph_image_spec(NULL, NULL, 0, 0, &s, NULL) == FROST_E_INVALID_ARGUMENT);
    CHECK(frost_graph_image_spec(g, NULL, 0, 0, NULL, NULL) == FROST_E_INVALID_ARGUMENT);
    graph_spec(g, NULL, -1, 0, FROST_E_INVALID_ARGUMENT, "negative");
    frost_model *m = compile(g, NULL);
    CHECK(frost_model_image_spec(NULL, &s, NULL) == FROST_E_INVALID_ARGUMENT);
    CHECK(frost_model_image_spec(m, NULL, NULL) == FROST_E_INVALID_ARGUMENT);
    frost_model_free(m);
    frost_graph_free(g);
    fr_gdw_free(w);

    /* several Placeholders: the one named "input"; else none chosen (OK);
     * several sinks: no output; a rank-2 Placeholder is not an image */
    w = fr_gdw_new();
    fr_gdw_placeholder(w, "v", 2, D(-1, 5));
    fr_gdw_node(w, "vy", "Relu", IN("v"));
    fr_gdw_placeholder(w, "input", 4, D(-1, 4, 4, 3));
    conv_mean(w, "input", 3, "a");
    g = finish(w);
    s = graph_spec(g, NULL, 0, 0, FROST_OK, NULL);
    spec_is("the one named input", &s, 1, "input", NULL, 4, 4, 3, 0);
    s = graph_spec(g, "v", 0, 0, FROST_OK, NULL);
    spec_is("a rank-2 Placeholder", &s, 0, "v", NULL, 0, 0, 0, 0);
    /* the model with both inputs: the image one is found after the other */
    frost_options o;
    frost_options_init(&o);
    o.inputs = (const char *const[]){"v", "input"};
    o.num_inputs = 2;
    o.outputs = (const char *const[]){"vy", "a_y"};
    o.num_outputs = 2;
    m = NULL;
    CHECK(frost_model_compile(g, &o, &m, NULL) == FROST_OK);
    CHECK(m && frost_model_image_spec(m, &s, NULL) == FROST_OK);
    spec_is("model, second input", &s, 1, "input", NULL, 4, 4, 3, 0);
    frost_model_free(m);
    /* only the rank-2 input: none, and the message names it */
    o.inputs = (const char *const[]){"v"};
    o.num_inputs = 1;
    o.outputs = (const char *const[]){"vy"};
    o.num_outputs = 1;
    m = NULL;
    char *err = NULL;
    CHECK(frost_model_compile(g, &o, &m, NULL) == FROST_OK);
    CHECK(m && frost_model_image_spec(m, &s, &err) == FROST_E_SHAPE);
    spec_is("no image input", &s, -1, NULL, "vy", 0, 0, 0, 0);
    CHECK_MSG(err && strstr(err, "input 'v' of shape [-1,5] is not an NHWC image"), "%s", err ? err : "(none)");
    frost_free(err);
    frost_model_free(m);
    frost_graph_free(g);
    fr_gdw_free(w);

    w = fr_gdw_new();
    fr_gdw_placeholder(w, "p", 4, D(-1, 4, 4, 3));
    conv_mean(w, "p", 3, "a");
    fr_gdw_placeholder(w, "q", 4, D(-1, 4, 4, 3));
    conv_mean(w, "q", 3, "b");
    g = finish(w);
    s = graph_spec(g, NULL, 0, 0, FROST_OK, NULL);
    spec_is("two Placeholders, none named input", &s, -1, NULL, NULL, 0, 0, 0, 0);
    s = graph_spec(g, "q", 0, 0, FROST_OK, NULL);
    spec_is("two Placeholders, named", &s, 1, "q", NULL, 4, 4, 3, 0);
    frost_graph_free(g);
    fr_gdw_free(w);
}

int main(void) {
    top_k_cases();
    image_spec_cases();
    return tu_done();
}
