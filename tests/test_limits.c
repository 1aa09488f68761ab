/* frost-test-labels: asan */
/* Sizes that come from a GraphDef are limited with FROST_E_LIMIT and a clear
 * message, checked before anything of that size is allocated and without
 * integer overflow: the node count (FR_MAX_NODES), the element count of a
 * constant (2^28, from its dimensions' product), and of every value the
 * compiler infers (placeholder shapes, broadcasting); the rank (8) and
 * max_batch (65536) too.  Pixel counts, the
 * compile-time data budget and the activation arena are tested in
 * test_image_robust and test_batch; request body size, JSON depth and
 * instance counts of the server in test_serve_hostile. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "frost.h"
#include "graph/graph.h"
#include "pb/pbwriter.h"
#include "testutil.h"

#define D(...) ((const int64_t[]){__VA_ARGS__})
#define IN(...) ((const char *const[]){__VA_ARGS__, NULL})

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + t.tv_nsec * 1e-9;
}

/* Loads the graph and (when it loads) compiles `out` at max_batch 4;
 * returns the first failure's status and message. */
static frost_status load_compile(const uint8_t *bytes, size_t len, const char *out, char **err) {
    frost_graph *g = NULL;
    frost_model *m = NULL;
    *err = NULL;
    frost_status st = frost_graph_load_memory(bytes, len, 0, &g, err);
    if (st == FROST_OK && out) {
        frost_options o;
        frost_options_init(&o);
        o.outputs = &out;
        o.num_outputs = 1;
        o.max_batch = 4;
        o.backend = FROST_BACKEND_REFERENCE;
        st = frost_model_compile(g, &o, &m, err);
    }
    frost_model_free(m);
    frost_graph_free(g);
    return st;
}

static void expect_limit(const char *label, fr_gdw *w, const char *out, const char *words) {
    size_t len;
    const uint8_t *bytes = fr_gdw_finish(w, &len);
    char *err = NULL;
    double t0 = now();
    frost_status st = load_compile(bytes, len, out, &err);
    double dt = now() - t0;
    CHECK_MSG(st == FROST_E_LIMIT, "%s: status %s (%s)", label, frost_strerror(st), err ? err : "");
    CHECK_MSG(err && strstr(err, words), "%s: message '%s' should say '%s'", label, err ? err : "", words);
    CHECK_MSG(dt < 1.0, "%s: took %.2f s", label, dt);
    frost_free(err);
    fr_gdw_free(w);
}

/* A GraphDef of n empty NodeDefs (field 1, length 0: two bytes each). */
static void node_count_test(void) {
    size_t n = (size_t)FR_MAX_NODES + 1;
    uint8_t *b = malloc(2 * n);
    if (!b) return;
    for (size_t i = 0; i < n; i++) b[2 * i] = 0x0a, b[2 * i + 1] = 0;
    char *err = NULL;
    double t0 = now();
    frost_graph *g = NULL;
    frost_status st = frost_graph_load_memory(b, 2 * n, 0, &g, &err);
    double dt = now() - t0;
    CHECK_MSG(st == FROST_E_LIMIT && !g, "%zu nodes: status %s (%s)", n, frost_strerror(st), err ? err : "");
    CHECK_MSG(err && strstr(err, "nodes") && strstr(err, "limit"), "node limit message: %s", err ? err : "");
    CHECK_MSG(dt < 1.0, "%zu nodes refused in %.2f s", n, dt);
    frost_free(err);
    frost_graph_free(g);
    /* One node fewer is within the limit: it fails for what the nodes are
     * (unnamed), not for their number. */
    err = NULL;
    st = frost_graph_load_memory(b, 2 * (n - 1), 0, &g, &err);
    CHECK_MSG(st != FROST_OK && st != FROST_E_LIMIT, "%zu nodes: status %s (%s)", n - 1, frost_strerror(st),
              err ? err : "");
    frost_free(err);
    frost_graph_free(g);
    free(b);
}

/* A Const whose shape holds more than 2^28 elements: refused at load, with
 * the node named, whether the product is just over the limit or overflows
 * 64 bits; exactly 2^28 elements (a splat of zeros) still loads. */
static void const_elements_test(void) {
    static const struct {
        const char *label;
        int rank;
        int64_t dims[4];
    } cases[] = {
        {"2^28 + 2^14 elements", 2, {(1 << 14) + 1, 1 << 14}},
        {"65536 x 65536", 2, {65536, 65536}},
        {"2^40 x 2^40 x 2^40 (overflows int64)", 3, {(int64_t)1 << 40, (int64_t)1 << 40, (int64_t)1 << 40}},
        {"2^62 x 4 (overflows int64)", 2, {(int64_t)1 << 62, 4}},
        {"1 x 2^29 x 1 x 1", 4, {1, (int64_t)1 << 29, 1, 1}},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        fr_gdw *w = fr_gdw_new();
        fr_gdw_node(w, "huge_const", "Const", NULL);
        fr_gdw_attr_type(w, "dtype", FR_DT_FLOAT);
        fr_gdw_attr_tensor_f(w, "value", cases[i].rank, cases[i].dims, 1, (const float[]){0}, 0);
        fr_gdw_node(w, "y", "Relu", IN("huge_const"));
        char label[128];
        snprintf(label, sizeof label, "Const of %s", cases[i].label);
        expect_limit(label, w, "y", "huge_const");
    }
    /* An empty dimension makes the product 0, whatever the others are. */
    fr_gdw *w = fr_gdw_new();
    fr_gdw_node(w, "empty", "Const", NULL);
    fr_gdw_attr_type(w, "dtype", FR_DT_FLOAT);
    fr_gdw_attr_tensor_f(w, "value", 3, D(0, (int64_t)1 << 62, (int64_t)1 << 62), 0, NULL, 0);
    fr_gdw_node_end(w);
    size_t len;
    const uint8_t *bytes = fr_gdw_finish(w, &len);
    char *err = NULL;
    frost_status st = load_compile(bytes, len, NULL, &err);
    CHECK_MSG(st == FROST_OK, "Const [0, 2^62, 2^62] loads: %s (%s)", frost_strerror(st), err ? err : "");
    frost_free(err);
    fr_gdw_free(w);
    /* Exactly 2^28 elements: within the element limit (loads). */
    w = fr_gdw_new();
    fr_gdw_node(w, "big", "Const", NULL);
    fr_gdw_attr_type(w, "dtype", FR_DT_FLOAT);
    fr_gdw_attr_tensor_f(w, "value", 2, D(1 << 14, 1 << 14), 1, (const float[]){0}, 0);
    fr_gdw_node_end(w);
    bytes = fr_gdw_finish(w, &len);
    st = load_compile(bytes, len, NULL, &err);
    CHECK_MSG(st == FROST_OK, "Const of 2^28 elements loads: %s (%s)", frost_strerror(st), err ? err : "");
    frost_free(err);
    fr_gdw_free(w);
}

/* Values the compiler infers: a placeholder's own shape and a broadcast. */
static void inferred_elements_test(void) {
    fr_gdw *w = fr_gdw_new();
    fr_gdw_placeholder(w, "x", 4, D(-1, 1 << 16, 1 << 16, 3));
    fr_gdw_node(w, "y", "Relu", IN("x"));
    expect_limit("Placeholder [-1, 65536, 65536, 3]", w, "y", "too large");

    w = fr_gdw_new();
    fr_gdw_placeholder(w, "x", 4, D(-1, (int64_t)1 << 62, (int64_t)1 << 62, (int64_t)1 << 62));
    fr_gdw_node(w, "y", "Relu", IN("x"));
    expect_limit("Placeholder [-1, 2^62, 2^62, 2^62] (overflows int64)", w, "y", "too large");

    w = fr_gdw_new();
    fr_gdw_placeholder(w, "a", 3, D(-1, 1 << 16, 1));
    fr_gdw_placeholder(w, "b", 3, D(-1, 1, 1 << 16));
    fr_gdw_node(w, "sum", "AddV2", IN("a", "b"));
    expect_limit("AddV2 broadcast [65536,1] + [1,65536]", w, "sum", "sum");
}

/* Rank above FROST_MAX_RANK (8) in a shape attribute: refused at load with
 * the node named; max_batch above 65536: refused by compile. */
static void rank_and_batch_test(void) {
    fr_gdw *w = fr_gdw_new();
    fr_gdw_placeholder(w, "rank9", 9, D(1, 1, 1, 1, 1, 1, 1, 1, 1));
    fr_gdw_node(w, "y", "Relu", IN("rank9"));
    size_t len;
    const uint8_t *bytes = fr_gdw_finish(w, &len);
    char *err = NULL;
    frost_status st = load_compile(bytes, len, "y", &err);
    CHECK_MSG(st != FROST_OK && err && strstr(err, "rank9") && strstr(err, "rank"), "rank 9: %s (%s)",
              frost_strerror(st), err ? err : "");
    frost_free(err);
    fr_gdw_free(w);

    w = fr_gdw_new();
    fr_gdw_placeholder(w, "x", 2, D(-1, 4));
    fr_gdw_node(w, "y", "Relu", IN("x"));
    bytes = fr_gdw_finish(w, &len);
    frost_graph *g = NULL;
    frost_model *m = NULL;
    CHECK(frost_graph_load_memory(bytes, len, 0, &g, NULL) == FROST_OK);
    frost_options o;
    frost_options_init(&o);
    o.max_batch = (1 << 16) + 1;
    err = NULL;
    st = frost_model_compile(g, &o, &m, &err);
    CHECK_MSG(st == FROST_E_INVALID_ARGUMENT && !m && err, "max_batch 65537: %s (%s)", frost_strerror(st),
              err ? err : "");
    frost_free(err);
    frost_model_free(m);
    m = NULL;
    o.max_batch = 1 << 16;
    st = frost_model_compile(g, &o, &m, NULL);
    CHECK_MSG(st == FROST_OK, "max_batch 65536: %s", frost_strerror(st));
    frost_model_free(m);
    frost_graph_free(g);
    fr_gdw_free(w);
}

int main(void) {
    node_count_test();
    rank_and_batch_test();
    const_elements_test();
    inferred_elements_test();
    return tu_done();
}
