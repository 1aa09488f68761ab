/* String inputs and ParseExample / ParseExampleV2: TensorFlow Serving's
 * half_plus_two classify and regress signatures fed serialized tf.Example
 * protos written here by an encoder of our own (independent of frost's
 * protobuf code), checked against y = 0.5 x + 2 (and + 3); malformed
 * Examples and misuse give clear errors; the parser's own cases (int64,
 * defaults, merged fields) directly. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "feed/example.h"
#include "frost.h"
#include "pb/pb.h"
#include "testutil.h"

/* ---------------------------------------------------------------- a tiny protobuf encoder */

typedef struct {
    unsigned char b[512];
    size_t n;
} buf;

static void put_varint(buf *o, uint64_t v) {
    do {
        unsigned char c = v & 0x7f;
        v >>= 7;
        o->b[o->n++] = (unsigned char)(c | (v ? 0x80 : 0));
    } while (v);
}
static void put_tag(buf *o, unsigned field, unsigned wire) { put_varint(o, (uint64_t)field << 3 | wire); }
static void put_bytes(buf *o, unsigned field, const void *p, size_t n) {
    put_tag(o, field, 2);
    put_varint(o, n);
    memcpy(o->b + o->n, p, n);
    o->n += n;
}
static void put_f32(buf *o, float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    for (int i = 0; i < 4; i++) o->b[o->n++] = (unsigned char)(u >> (8 * i));
}

/* Feature: float_list {value: v[0..n)} packed or one field a value; kind 3 int64_list; kind 1 bytes_list */
static buf feature(int kind, const float *v, int n, int packed) {
    buf list = {.n = 0}, f = {.n = 0};
    if (kind == 2 && packed) {
        buf p = {.n = 0};
        for (int i = 0; i < n; i++) put_f32(&p, v[i]);
        put_bytes(&list, 1, p.b, p.n);
    } else {
        for (int i = 0; i < n; i++) {
            if (kind == 2) put_tag(&list, 1, 5), put_f32(&list, v[i]);
            else if (kind == 3) put_tag(&list, 1, 0), put_varint(&list, (uint64_t)(int64_t)v[i]);
            else put_bytes(&list, 1, "abc", 3);
        }
    }
    put_bytes(&f, (unsigned)kind, list.b, list.n);
    return f;
}

/* Example {features {feature {key, value}}...}: entries appended to *features */
static void entry(buf *features, const char *key, buf value) {
    buf e = {.n = 0};
    put_bytes(&e, 1, key, strlen(key));
    put_bytes(&e, 2, value.b, value.n);
    put_bytes(features, 1, e.b, e.n);
}
static buf example(buf features) {
    buf ex = {.n = 0};
    put_bytes(&ex, 1, features.b, features.n);
    return ex;
}
static buf example_x(float x, int packed) {
    buf fs = {.n = 0};
    entry(&fs, "x", feature(2, &x, 1, packed));
    return example(fs);
}

/* ---------------------------------------------------------------- the fixtures */

static frost_model *load_signature(const char *rel, const char *key) {
    char *err = NULL;
    frost_savedmodel *sm = NULL;
    frost_graph *g = NULL;
    frost_model *m = NULL;
    const char *dir = tu_path("%s/savedmodels/%s", tu_shared_dir(), rel);
    frost_status st = frost_savedmodel_open(dir, &sm, &err);
    int s = sm ? frost_savedmodel_find_signature(sm, -1, key) : -1;
    if (st == FROST_OK) st = s < 0 ? FROST_E_NOT_FOUND : frost_savedmodel_graph(sm, -1, s, &g, &err);
    frost_options o;
    frost_options_init(&o);
    o.threads = 1;
    o.max_batch = 8;
    if (st == FROST_OK) st = frost_model_compile(g, &o, &m, &err);
    CHECK_MSG(st == FROST_OK, "%s %s: %s", rel, key, err ? err : frost_strerror(st));
    frost_free(err);
    frost_graph_free(g);
    frost_savedmodel_free(sm);
    return m;
}

/* Runs strings s[0..n) through a one-input one-output string model. */
static frost_status run_strings(frost_context *c, const buf *ex, int n, float *y) {
    frost_string s[8];
    for (int i = 0; i < n; i++) s[i] = (frost_string){ex[i].b, ex[i].n};
    frost_status st = frost_context_set_string_input(c, 0, s, n);
    if (st != FROST_OK) return st;
    const float *in[1] = {NULL};
    float *out[1] = {y};
    return frost_context_run(c, n, in, out);
}

static void check_signature(const char *rel, const char *key, float b) {
    frost_model *m = load_signature(rel, key);
    if (!m) return;
    frost_shape sh;
    CHECK(frost_model_input_count(m) == 1 && frost_model_input_dtype(m, 0) == FROST_DTYPE_STRING &&
          frost_model_input_size(m, 0) == 1 && frost_model_input_shape(m, 0, &sh) == FROST_OK && sh.rank == 1 &&
          sh.dims[0] == -1);
    CHECK(frost_model_output_count(m) == 1 && frost_model_output_dtype(m, 0) == FROST_DTYPE_FLOAT &&
          frost_model_output_size(m, 0) == 1 && frost_model_input_dtype(m, 1) == FROST_DTYPE_INVALID);
    frost_context *c = NULL;
    CHECK(frost_context_create(m, &c, NULL) == FROST_OK);
    if (!c) {
        frost_model_free(m);
        return;
    }
    /* x = 1 packed, 2 unpacked, 5 among other features and after an earlier x (the last wins) */
    buf ex[4];
    ex[0] = example_x(1, 1);
    ex[1] = example_x(2, 0);
    buf fs = {.n = 0};
    float junk[3] = {7, 8, 9}, five = 5, zero = 0;
    entry(&fs, "x", feature(2, &zero, 1, 1));
    entry(&fs, "other", feature(3, junk, 3, 0));
    entry(&fs, "x2", feature(2, junk, 1, 1));
    entry(&fs, "name", feature(1, NULL, 2, 0));
    entry(&fs, "x", feature(2, &five, 1, 0));
    ex[2] = example(fs);
    float y[4] = {0};
    frost_status st = run_strings(c, ex, 3, y);
    CHECK_MSG(st == FROST_OK, "%s %s: %s", rel, key, frost_context_error(c));
    const float x[3] = {1, 2, 5};
    for (int i = 0; i < 3 && st == FROST_OK; i++)
        CHECK_MSG(y[i] == 0.5f * x[i] + b, "%s %s: y(%g) = %g, want %g", rel, key, x[i], y[i], 0.5f * x[i] + b);
    /* batch 1, the same result */
    CHECK(run_strings(c, &ex[1], 1, y) == FROST_OK && y[0] == 1 + b);

    /* errors, naming the feature and the item */
    buf bad = {.n = 0};
    buf none = example(bad); /* no features: x is required (its default is empty) */
    ex[0] = example_x(3, 1);
    ex[1] = none;
    st = run_strings(c, ex, 2, y);
    CHECK_MSG(st == FROST_E_PARSE && strstr(frost_context_error(c), "item 1") &&
                  strstr(frost_context_error(c), "'x' is required") && strstr(frost_context_error(c), "ParseExample"),
              "%s", frost_context_error(c));
    buf fi = {.n = 0};
    entry(&fi, "x", feature(3, &five, 1, 0));
    ex[0] = example(fi);
    CHECK(run_strings(c, ex, 1, y) == FROST_E_PARSE && strstr(frost_context_error(c), "int64_list"));
    buf f2 = {.n = 0};
    entry(&f2, "x", feature(2, junk, 2, 1));
    ex[0] = example(f2);
    CHECK(run_strings(c, ex, 1, y) == FROST_E_PARSE && strstr(frost_context_error(c), "has 2 values"));
    /* bytes that are no Example: a truncated varint, a wrong wire type, a length past the end */
    static const char *const junk_bytes[] = {"\x0a", "\x0a\x05\x0a\x03", "\x08\x01", "\x0a\x80"};
    for (int i = 0; i < 4; i++) {
        memset(&ex[0], 0, sizeof ex[0]);
        ex[0].n = strlen(junk_bytes[i]);
        memcpy(ex[0].b, junk_bytes[i], ex[0].n);
        st = run_strings(c, ex, 1, y);
        CHECK_MSG(st == FROST_E_PARSE && strstr(frost_context_error(c), "tf.Example"), "%d: %s", i,
                  frost_context_error(c));
    }
    /* misuse: nothing bound, a count that is not the batch, not a string input */
    const float *in[1] = {NULL};
    float *out[1] = {y};
    CHECK(frost_context_run(c, 1, in, out) == FROST_E_INVALID_ARGUMENT && strstr(frost_context_error(c), "bound"));
    frost_string s1 = {ex[0].b, ex[0].n};
    CHECK(frost_context_set_string_input(c, 0, &s1, 1) == FROST_OK);
    CHECK(frost_context_run(c, 2, in, out) == FROST_E_INVALID_ARGUMENT);
    CHECK(frost_context_set_string_input(c, 1, &s1, 1) == FROST_E_INVALID_ARGUMENT);
    CHECK(frost_context_set_string_input(c, 0, NULL, 1) == FROST_E_INVALID_ARGUMENT);
    CHECK(frost_context_set_string_input(c, 0, &s1, 9) == FROST_E_INVALID_ARGUMENT);
    /* and it still works */
    ex[0] = example_x(-4, 1);
    CHECK(run_strings(c, ex, 1, y) == FROST_OK && y[0] == -2 + b);
    frost_context_free(c);
    frost_model_free(m);
}

/* ---------------------------------------------------------------- the parser alone */

static void test_parser(void) {
    /* int64 and float features of several values, a default, a required one */
    float fv[4] = {1.5f, -2, 3, 1e30f}, iv[3] = {-7, 0, 16777215};
    buf fs = {.n = 0};
    entry(&fs, "f", feature(2, fv, 4, 0));
    entry(&fs, "i", feature(3, iv, 3, 0));
    buf ex = example(fs);
    buf ex2 = ex; /* a second `features` field: merged */
    buf more = {.n = 0};
    float g = 9;
    entry(&more, "g", feature(2, &g, 1, 1));
    buf exm = example(more);
    memcpy(ex2.b + ex2.n, exm.b, exm.n);
    ex2.n += exm.n;
    const float gdef = 4;
    const int64_t hdef[2] = {5, 6};
    fr_example_feature ft[4] = {{"f", 1, FR_DT_FLOAT, 4, NULL, NULL},
                                {"i", 1, FR_DT_INT64, 3, NULL, NULL},
                                {"g", 1, FR_DT_FLOAT, 1, &gdef, NULL},
                                {"h", 1, FR_DT_INT64, 2, NULL, hdef}};
    float of[4], og;
    int64_t oi[3], oh[2];
    void *outs[4] = {of, oi, &og, oh};
    char *err = NULL;
    CHECK(fr_example_parse(ex.b, ex.n, ft, 4, outs, &err) == FROST_OK);
    CHECK(!memcmp(of, fv, sizeof of) && oi[0] == -7 && oi[1] == 0 && oi[2] == 16777215 && og == 4 && oh[0] == 5 &&
          oh[1] == 6);
    CHECK(fr_example_parse(ex2.b, ex2.n, ft, 4, outs, &err) == FROST_OK && og == 9);
    /* an empty Example: the required features are missing */
    CHECK(fr_example_parse((const uint8_t *)"", 0, ft, 4, outs, &err) == FROST_E_PARSE && err &&
          strstr(err, "'f' is required"));
    free(err);
    err = NULL;
    /* every truncation of a valid Example: an error or a missing feature, never a crash */
    for (size_t n = 0; n < ex.n; n++) {
        frost_status st = fr_example_parse(ex.b, n, ft, 4, outs, &err);
        CHECK(st == FROST_E_PARSE && err);
        free(err);
        err = NULL;
    }
}

int main(void) {
    test_parser();
    if (!tu_shared_dir() || access(tu_path("%s/savedmodels/saved_model_half_plus_two_cpu", tu_shared_dir()), F_OK)) {
        printf("../shared/savedmodels not found: the fixture tests are skipped\n");
        tu_done();
        return tu_failed ? 1 : 77;
    }
    static const char *const models[] = {"saved_model_half_plus_two_cpu/00000123",
                                          "saved_model_half_plus_two_tf2_cpu/00000123"};
    for (int i = 0; i < 2; i++) {
        check_signature(models[i], "classify_x_to_y", 2);
        check_signature(models[i], "regress_x_to_y", 2);
        check_signature(models[i], "regress_x_to_y2", 3);
    }
    return tu_done();
}
