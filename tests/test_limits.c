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
#include "tgraph.h"

#define D(...) ((const int64_t[]){__VA_ARGS__})
#define IN(...) ((const char *const[]){__VA_ARGS__, NULL})

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + t.tv_nsec * 1e-9;
}

/* Loads the writer's graph and (when `out` is not NULL and it loads)
 * compiles `out` with the reference kernels at max_batch 4; returns the
 * first failure's status, its message in t.  Frees w. */
static frost_status load_compile(tg_model *t, fr_gdw *w, const char *out) {
    size_t len;
    const uint8_t *bytes = fr_gdw_finish(w, &len);
    frost_options o;
    tg_options(&o);
    o.max_batch = 4;
    frost_status st = out ? tg_build(t, bytes, len, out, &o) : tg_load(t, bytes, len);
    fr_gdw_free(w);
    return st;
}

static void expect_limit(const char *label, fr_gdw *w, const char *out, const char *words) {
    tg_model t;
    double t0 = now();
    frost_status st = load_compile(&t, w, out);
    double dt = now() - t0;
    CHECK_MSG(st == FROST_E_LIMIT, "%s: status %s (%s)", label, frost_strerror(st), tg_msg(&t));
    CHECK_MSG(strstr(tg_msg(&t), words), "%s: message '%s' should say '%s'", label, tg_msg(&t), words);
    CHECK_MSG(dt < 1.0, "%s: took %.2f s", label, dt);
    tg_free(&t);
}

/* A GraphDef of n empty NodeDefs (field 1, length 0: two bytes each). */
static void node_count_test(void) {
    size_t n = (size_t)FR_MAX_NODES + 1;
    uint8_t *b = malloc(2 * n);
    if (!b) return;
    for (size_t i = 0; i < n; i++) b[2 * i] = 0x0a, b[2 * i + 1] = 0;
    tg_model t;
    double t0 = now();
    frost_status st = tg_load(&t, b, 2 * n);
    double dt = now() - t0;
    CHECK_MSG(st == FROST_E_LIMIT && !t.graph, "%zu nodes: status %s (%s)", n, frost_strerror(st), tg_msg(&t));
    CHECK_MSG(strstr(tg_msg(&t), "nodes") && strstr(tg_msg(&t), "limit"), "node limit message: %s", tg_msg(&t));
    CHECK_MSG(dt < 1.0, "%zu nodes refused in %.2f s", n, dt);
    tg_free(&t);
    /* One node fewer is within the limit: it fails for what the nodes are
     * (unnamed), not for their number. */
    st = tg_load(&t, b, 2 * (n - 1));
    CHECK_MSG(st != FROST_OK && st != FROST_E_LIMIT, "%zu nodes: status %s (%s)", n - 1, frost_strerror(st),
              tg_msg(&t));
    tg_free(&t);
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
    tg_model t;
    frost_status st = load_compile(&t, w, NULL);
    CHECK_MSG(st == FROST_OK, "Const [0, 2^62, 2^62] loads: %s (%s)", frost_strerror(st), tg_msg(&t));
    tg_free(&t);
    /* Exactly 2^28 elements: within the element limit (loads). */
    w = fr_gdw_new();
    fr_gdw_node(w, "big", "Const", NULL);
    fr_gdw_attr_type(w, "dtype", FR_DT_FLOAT);
    fr_gdw_attr_tensor_f(w, "value", 2, D(1 << 14, 1 << 14), 1, (const float[]){0}, 0);
    fr_gdw_node_end(w);
    st = load_compile(&t, w, NULL);
    CHECK_MSG(st == FROST_OK, "Const of 2^28 elements loads: %s (%s)", frost_strerror(st), tg_msg(&t));
    tg_free(&t);
}

/* Values the compiler infers: a placeholder's own shape and a broadcast. */
static void inferred_elements_test(void) {
    fr_gdw *w = tg_writer("x", 4, D(-1, 1 << 16, 1 << 16, 3));
    fr_gdw_node(w, "y", "Relu", IN("x"));
    expect_limit("Placeholder [-1, 65536, 65536, 3]", w, "y", "too large");

    w = tg_writer("x", 4, D(-1, (int64_t)1 << 62, (int64_t)1 << 62, (int64_t)1 << 62));
    fr_gdw_node(w, "y", "Relu", IN("x"));
    expect_limit("Placeholder [-1, 2^62, 2^62, 2^62] (overflows int64)", w, "y", "too large");

    w = tg_writer("a", 3, D(-1, 1 << 16, 1));
    fr_gdw_placeholder(w, "b", 3, D(-1, 1, 1 << 16));
    fr_gdw_node(w, "sum", "AddV2", IN("a", "b"));
    expect_limit("AddV2 broadcast [65536,1] + [1,65536]", w, "sum", "sum");
}

/* Rank above FROST_MAX_RANK (8) in a shape attribute: refused at load with
 * the node named; max_batch above 65536: refused by compile. */
static void rank_and_batch_test(void) {
    fr_gdw *w = tg_writer("rank9", 9, D(1, 1, 1, 1, 1, 1, 1, 1, 1));
    fr_gdw_node(w, "y", "Relu", IN("rank9"));
    tg_model t;
    frost_status st = load_compile(&t, w, "y");
    CHECK_MSG(st != FROST_OK && strstr(tg_msg(&t), "rank9") && strstr(tg_msg(&t), "rank"), "rank 9: %s (%s)",
              frost_strerror(st), tg_msg(&t));
    tg_free(&t);

    w = tg_writer("x", 2, D(-1, 4));
    fr_gdw_node(w, "y", "Relu", IN("x"));
    size_t len;
    const uint8_t *bytes = fr_gdw_finish(w, &len);
    CHECK(tg_load(&t, bytes, len) == FROST_OK);
    frost_options o;
    frost_options_init(&o);
    o.max_batch = (1 << 16) + 1;
    st = tg_compile(&t, NULL, &o);
    CHECK_MSG(st == FROST_E_INVALID_ARGUMENT && !t.model && t.error, "max_batch 65537: %s (%s)", frost_strerror(st),
              tg_msg(&t));
    o.max_batch = 1 << 16;
    st = tg_compile(&t, NULL, &o);
    CHECK_MSG(st == FROST_OK, "max_batch 65536: %s", frost_strerror(st));
    tg_free(&t);
    fr_gdw_free(w);
}

int main(void) {
    node_count_test();
    rank_and_batch_test();
    const_elements_test();
    inferred_elements_test();
    return tu_done();
}
