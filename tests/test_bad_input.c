/* frost-test-labels: asan */
/* Bad input gives a clear error status and message, never a crash or a leak
 * (run under ASan/UBSan and valgrind too): truncated and corrupted GraphDefs,
 * unknown names, cycles, missing nodes, shape mismatches, bad arguments. */
#include <stdlib.h>
#include <string.h>

#include "frost.h"
#include "pb/pbwriter.h"
#include "testutil.h"
#include "tgraph.h"

#define D(...) ((const int64_t[]){__VA_ARGS__})
#define I32(...) ((const int32_t[]){__VA_ARGS__})
#define IN(...) ((const char *const[]){__VA_ARGS__, NULL})

/* Loads, compiles, and (if that works) runs once on zeros.  Returns the
 * first failing status, its message in t; tg_free(t) afterwards. */
static frost_status try_all(tg_model *t, const void *data, size_t len, const frost_options *o) {
    frost_status st = tg_build(t, data, len, NULL, o);
    return st == FROST_OK ? tg_run(t, 1, NULL, NULL) : st;
}

/* try_all's status alone. */
static frost_status status_of(const void *data, size_t len, const frost_options *o) {
    tg_model t;
    frost_status st = try_all(&t, data, len, o);
    tg_free(&t);
    return st;
}

static void expect_status(const char *what, fr_gdw *w, const frost_options *o, frost_status want, const char *needle) {
    size_t len;
    const uint8_t *b = fr_gdw_finish(w, &len);
    tg_model t;
    frost_status st = try_all(&t, b, len, o);
    const char *msg = tg_msg(&t);
    CHECK_MSG(st == want, "%s: got %s (%s), want %s", what, frost_strerror(st), msg, frost_strerror(want));
    if (want != FROST_OK) CHECK_MSG(*msg && (!needle || strstr(msg, needle)), "%s: message '%s' lacks '%s'", what, msg, needle ? needle : "");
    tg_free(&t);
}

static void graph_errors(void) {
    frost_options o;
    frost_options_init(&o);
    o.backend = FROST_BACKEND_REFERENCE;
    /* cycle */
    fr_gdw *w = tg_writer("x", 2, D(-1, 2));
    fr_gdw_node(w, "a", "Add", IN("x", "b"));
    fr_gdw_node(w, "b", "Relu", IN("a"));
    fr_gdw_node(w, "y", "Relu", IN("b"));
    frost_options_init(&o);
    expect_status("cycle", w, &o, FROST_E_GRAPH, "cycle");
    fr_gdw_free(w);
    /* an input that names no node */
    w = tg_writer("x", 2, D(-1, 2));
    fr_gdw_node(w, "y", "Add", IN("x", "nowhere:0"));
    expect_status("missing node", w, &o, FROST_E_GRAPH, "nowhere");
    fr_gdw_free(w);
    /* shape mismatch */
    w = tg_writer("x", 2, D(-1, 2));
    fr_gdw_placeholder(w, "z", 2, D(-1, 3));
    fr_gdw_node(w, "y", "Add", IN("x", "z"));
    expect_status("shape mismatch", w, &o, FROST_E_SHAPE, "'y'");
    fr_gdw_free(w);
    /* conv filter with the wrong channel count */
    w = tg_writer("x", 4, D(-1, 3, 3, 2));
    fr_gdw_const_f(w, "k", 4, D(1, 1, 3, 1), (const float[]){1, 2, 3});
    tg_window(w, "y", "Conv2D", IN("x", "k"), "SAME", 0, 1);
    expect_status("conv channels", w, &o, FROST_E_SHAPE, "channels");
    fr_gdw_free(w);
    /* reshape to a wrong size */
    w = tg_writer("x", 2, D(-1, 6));
    fr_gdw_const_i32(w, "s", 1, D(2), I32(-1, 4));
    fr_gdw_node(w, "y", "Reshape", IN("x", "s"));
    expect_status("reshape", w, &o, FROST_E_SHAPE, "reshape");
    fr_gdw_free(w);
    /* unknown output / input names */
    w = tg_writer("x", 2, D(-1, 2));
    fr_gdw_placeholder(w, "x2", 2, D(-1, 2));
    fr_gdw_node(w, "y", "Add", IN("x", "x2"));
    const char *bad_out = "nope:0", *bad_in = "nada", *only_x = "x", *y = "y";
    frost_options_init(&o);
    o.outputs = &bad_out;
    o.num_outputs = 1;
    expect_status("unknown output", w, &o, FROST_E_NOT_FOUND, "nope");
    frost_options_init(&o);
    o.inputs = &bad_in;
    o.num_inputs = 1;
    expect_status("unknown input", w, &o, FROST_E_NOT_FOUND, "nada");
    /* a placeholder the output needs but that is not an input */
    frost_options_init(&o);
    o.inputs = &only_x;
    o.num_inputs = 1;
    o.outputs = &y;
    o.num_outputs = 1;
    expect_status("missing input", w, &o, FROST_E_GRAPH, "x2");
    frost_options_init(&o);
    o.max_batch = -1;
    expect_status("bad option", w, &o, FROST_E_INVALID_ARGUMENT, NULL);
    fr_gdw_free(w);
    /* placeholder of unknown shape, with and without input_shapes */
    w = fr_gdw_new();
    fr_gdw_placeholder(w, "x", -1, NULL);
    fr_gdw_node(w, "y", "Relu", IN("x"));
    frost_options_init(&o);
    expect_status("unknown input shape", w, &o, FROST_E_SHAPE, "'x'");
    frost_shape sh = {2, {-1, 5}};
    o.input_shapes = &sh;
    expect_status("input_shapes given", w, &o, FROST_OK, NULL);
    fr_gdw_free(w);
    /* an integer placeholder */
    w = fr_gdw_new();
    fr_gdw_node(w, "x", "Placeholder", NULL);
    fr_gdw_attr_type(w, "dtype", 3);
    fr_gdw_attr_shape(w, "shape", 2, D(-1, 2));
    fr_gdw_node(w, "y", "Relu", IN("x"));
    frost_options_init(&o);
    expect_status("int32 input", w, &o, FROST_E_GRAPH, "int32");
    fr_gdw_free(w);
    /* duplicate node names, a node without op */
    w = fr_gdw_new();
    w->allow_duplicates = 1;
    fr_gdw_placeholder(w, "x", 2, D(-1, 2));
    fr_gdw_node(w, "x", "Relu", IN("x"));
    expect_status("duplicate name", w, &o, FROST_E_GRAPH, "'x'");
    fr_gdw_free(w);
    w = fr_gdw_new();
    fr_gdw_node(w, "x", "", NULL);
    expect_status("no op", w, &o, FROST_E_PARSE, "'x'");
    fr_gdw_free(w);
    /* content size that does not match the shape */
    w = tg_writer("x", 1, D(-1));
    fr_gdw_node(w, "c", "Const", NULL);
    fr_gdw_attr_tensor_f(w, "value", 1, D(3), 2, (const float[]){1, 2}, 1);
    fr_gdw_node(w, "y", "Add", IN("x", "c"));
    expect_status("content size", w, &o, FROST_E_PARSE, "'c'");
    fr_gdw_free(w);
    /* empty graph */
    CHECK(status_of("", 0, &o) == FROST_E_GRAPH);
}

static void api_errors(void) {
    frost_graph_free(NULL);
    frost_model_free(NULL);
    frost_context_free(NULL);
    frost_free(NULL);
    char *err = NULL;
    frost_graph *g = NULL;
    CHECK(frost_graph_load("/nonexistent/model.pb", &g, &err) == FROST_E_IO && g == NULL);
    CHECK(err && strstr(err, "/nonexistent/model.pb"));
    frost_free(err);
    frost_model *m = NULL;
    CHECK(frost_model_load(NULL, NULL, &m, NULL) == FROST_E_INVALID_ARGUMENT);
    CHECK(frost_model_compile(NULL, NULL, &m, NULL) == FROST_E_INVALID_ARGUMENT);
    CHECK(frost_context_create(NULL, NULL, NULL) == FROST_E_INVALID_ARGUMENT);
    CHECK(frost_context_run(NULL, 1, NULL, NULL) == FROST_E_INVALID_ARGUMENT);
    /* run-time argument checks */
    fr_gdw *w = tg_writer("x", 2, D(-1, 2));
    fr_gdw_node(w, "y", "Relu", IN("x"));
    size_t len;
    const uint8_t *b = fr_gdw_finish(w, &len);
    CHECK(frost_graph_load_memory(b, len, 1, &g, NULL) == FROST_OK);
    fr_gdw_free(w);
    frost_options o;
    frost_options_init(&o);
    o.max_batch = 2;
    CHECK(frost_model_compile(g, &o, &m, NULL) == FROST_OK);
    frost_graph_free(g); /* the model keeps what it needs */
    frost_context *c = NULL;
    CHECK(frost_context_create(m, &c, NULL) == FROST_OK);
    float in[6] = {-1, 2, -3, 4, 5, 6}, out[6];
    CHECK(frost_context_run1(c, 3, in, out) == FROST_E_LIMIT && strstr(frost_context_error(c), "batch"));
    CHECK(frost_context_run1(c, 0, in, out) == FROST_E_LIMIT);
    CHECK(frost_context_run1(c, 1, NULL, out) == FROST_E_INVALID_ARGUMENT);
    CHECK(frost_context_run1(c, 2, in, out) == FROST_OK && out[0] == 0 && out[3] == 4 && *frost_context_error(c) == 0);
    const frost_op_profile *p;
    int n;
    CHECK(frost_context_profile(c, &p, &n) == FROST_E_INVALID_ARGUMENT);
    frost_context_free(c);
    frost_model_free(m);
}

/* The real model truncated at many offsets and with bytes flipped: errors, no crashes. */
static void corrupt_model(void) {
    const char *shared = tu_shared_dir();
    if (!shared) return;
    size_t len = 0;
    uint8_t *data = tu_read_file(tu_path("%s/models/mobilenet_v1_0.25_128_quant_float.pb", shared), &len);
    if (!data) return;
    frost_options o;
    frost_options_init(&o);
    o.max_batch = 1;
    o.backend = FROST_BACKEND_REFERENCE; /* this test is about the reader and compiler */
    /* FROST_TEST_QUICK (set by the valgrind run): fewer cuts and flips */
    int quick = getenv("FROST_TEST_QUICK") != NULL;
    int parse_errors = 0, tries = 0;
    for (size_t cut = 0; cut < len; cut += len / (quick ? 11 : 97) + 1) {
        tg_model t;
        frost_status st = try_all(&t, data, cut, &o);
        tries++;
        CHECK_MSG(st != FROST_OK || cut == 0 ? 1 : 1, "cut %zu", cut);
        if (st != FROST_OK) CHECK_MSG(*tg_msg(&t), "truncated at %zu: %s without a message", cut, frost_strerror(st));
        parse_errors += st == FROST_E_PARSE;
        tg_free(&t);
    }
    CHECK(parse_errors > tries / 2);
    /* truncate at the last bytes too */
    int tail_errors = 0;
    for (size_t k = 1; k < 40; k++) tail_errors += status_of(data, len - k, &o) != FROST_OK;
    CHECK(tail_errors >= 30); /* a cut exactly after the last node gives a valid graph */
    /* byte flips: deterministic pseudo-random positions, mostly in the small header region */
    uint8_t *copy = malloc(len);
    uint32_t rng = 12345;
    int ok_runs = 0;
    for (int t = 0; t < (quick ? 12 : 120) && copy; t++) {
        memcpy(copy, data, len);
        for (int f = 0; f < 1 + t % 4; f++) {
            rng = rng * 1103515245u + 12345u;
            size_t pos = (t % 2) ? (rng >> 8) % len : (rng >> 8) % 4096;
            rng = rng * 1103515245u + 12345u;
            copy[pos] ^= (uint8_t)(1u << ((rng >> 16) % 8));
        }
        tg_model m;
        frost_status st = try_all(&m, copy, len, &o);
        if (st == FROST_OK) ok_runs++;
        else CHECK_MSG(*tg_msg(&m), "flip %d: %s without a message", t, frost_strerror(st));
        tg_free(&m);
    }
    printf("corrupt_model: %d truncations (%d parse errors), %d flipped models still ran\n", tries, parse_errors, ok_runs);
    free(copy);
    free(data);
}

int main(void) {
    graph_errors();
    api_errors();
    corrupt_model();
    return tu_done();
}
