/* frost-test-labels: asan */
/* Batch semantics of the compiler: Reshape targets frozen at batch 1
 * (TF-slim's Predictions/Reshape_1) run at any batch, genuinely wrong
 * reshapes still fail, outputs whose leading dimension is not the batch are
 * reported with their real shape and refused beyond batch 1, and compile-time
 * resource limits (FROST_E_LIMIT) stop tiny graphs that ask for gigabytes. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "frost.h"
#include "pb/pbwriter.h"
#include "testutil.h"
#include "tgraph.h"

#define D(...) ((const int64_t[]){__VA_ARGS__})
#define I32(...) ((const int32_t[]){__VA_ARGS__})
#define IN(...) ((const char *const[]){__VA_ARGS__, NULL})

/* Compiles the writer's graph with `out` as output (tg_options) into t. */
static frost_status compile(tg_model *t, fr_gdw *w, const char *out) {
    size_t len;
    const uint8_t *bytes = fr_gdw_finish(w, &len);
    frost_status st = tg_build(t, bytes, len, out, NULL);
    fr_gdw_free(w);
    return st;
}

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + t.tv_nsec * 1e-9;
}

/* Placeholder[-1,2,2,3] -> Reshape(const [1,12]) -> Softmax, at batch 1 and 3. */
static void slim_reshape_test(void) {
    fr_gdw *w = tg_writer("x", 4, D(-1, 2, 2, 3));
    fr_gdw_const_i32(w, "shape", 1, D(2), I32(1, 12));
    fr_gdw_node(w, "r", "Reshape", IN("x", "shape"));
    fr_gdw_node(w, "y", "Softmax", IN("r"));
    tg_model t;
    CHECK_MSG(compile(&t, w, "y") == FROST_OK, "compile: %s", tg_msg(&t));
    if (!t.model) { tg_free(&t); return; }
    frost_shape sh;
    CHECK(frost_model_output_shape(t.model, 0, &sh) == FROST_OK && sh.rank == 2 && sh.dims[0] == -1 &&
          sh.dims[1] == 12);
    CHECK(frost_model_output_size(t.model, 0) == 12);
    CHECK(t.ctx != NULL);
    /* item b: x[i] = (i % 12) * 0.25 * (b + 1) - b  */
    float x[3 * 12], want[3 * 12];
    for (int b = 0; b < 3; b++) {
        double e[12], sum = 0;
        for (int i = 0; i < 12; i++) {
            x[b * 12 + i] = (float)(i * 0.25 * (b + 1) - b);
            sum += e[i] = exp((double)x[b * 12 + i]);
        }
        for (int i = 0; i < 12; i++) want[b * 12 + i] = (float)(e[i] / sum);
    }
    for (int batch = 1; batch <= 3; batch += 2) {
        frost_status st = tg_run1(&t, batch, x, NULL);
        CHECK_MSG(st == FROST_OK, "batch %d: %s", batch, tg_msg(&t));
        if (st != FROST_OK) continue;
        double d = tu_max_abs_diff(t.out[0], want, (size_t)batch * 12);
        CHECK_MSG(d < 1e-6, "batch %d: max abs diff %g", batch, d);
    }
    tg_free(&t);
}

/* The writer's graph compiles and runs at batch 1; at batch 2 the Reshape
 * 'r' fails with FROST_E_SHAPE and a message that says `words`. */
static void expect_batch1_only(fr_gdw *w, const char *words) {
    tg_model t;
    CHECK(compile(&t, w, "y") == FROST_OK);
    CHECK(t.ctx != NULL);
    if (t.ctx) {
        CHECK(tg_run1(&t, 1, NULL, NULL) == FROST_OK);
        CHECK(tg_run1(&t, 2, NULL, NULL) == FROST_E_SHAPE);
        CHECK_MSG(strstr(tg_msg(&t), "'r'") && strstr(tg_msg(&t), words), "%s", tg_msg(&t));
    }
    tg_free(&t);
}

/* Reshapes that are wrong stay errors. */
static void wrong_reshape_tests(void) {
    /* 12 elements per item into [1,13]: wrong at batch 1 already */
    fr_gdw *w = tg_writer("x", 4, D(-1, 2, 2, 3));
    fr_gdw_const_i32(w, "shape", 1, D(2), I32(1, 13));
    fr_gdw_node(w, "r", "Reshape", IN("x", "shape"));
    tg_model t;
    CHECK(compile(&t, w, "r") == FROST_E_SHAPE && !t.model);
    CHECK_MSG(strstr(tg_msg(&t), "'r'") && strstr(tg_msg(&t), "cannot reshape 12 elements into 13"), "%s", tg_msg(&t));
    tg_free(&t);

    /* [2,6]: fine at batch 1, but the leading 2 is not "one item", so batch 2 fails */
    w = tg_writer("x", 4, D(-1, 2, 2, 3));
    fr_gdw_const_i32(w, "shape", 1, D(2), I32(2, 6));
    fr_gdw_node(w, "r", "Reshape", IN("x", "shape"));
    fr_gdw_node(w, "y", "Relu", IN("r"));
    expect_batch1_only(w, "cannot reshape 24 elements into 12");

    /* [1,24] of a value whose leading dim is not the batch (concat on axis 0):
     * no batch substitution, batch 2 fails */
    w = tg_writer("x", 4, D(-1, 2, 2, 3));
    fr_gdw_const_i32(w, "ax", 0, NULL, I32(0));
    fr_gdw_node(w, "cat", "ConcatV2", IN("x", "x", "ax"));
    fr_gdw_const_i32(w, "shape", 1, D(2), I32(1, 24));
    fr_gdw_node(w, "r", "Reshape", IN("cat", "shape"));
    fr_gdw_node(w, "y", "Relu", IN("r"));
    expect_batch1_only(w, "cannot reshape 48 elements into 24");
}

/* ConcatV2 on axis 0: the output's leading dim is 2 x batch, not the batch. */
static void concat_axis0_test(void) {
    fr_gdw *w = tg_writer("x", 4, D(-1, 2, 1, 2));
    fr_gdw_const_i32(w, "ax", 0, NULL, I32(0));
    fr_gdw_node(w, "cat", "ConcatV2", IN("x", "x", "ax"));
    fr_gdw_const_f(w, "k", 0, NULL, (const float[]){2.0f});
    fr_gdw_node(w, "y", "Mul", IN("cat", "k"));
    tg_model t;
    CHECK_MSG(compile(&t, w, "y") == FROST_OK, "%s", tg_msg(&t));
    if (!t.model) { tg_free(&t); return; }
    /* reported consistently: the real batch-1 shape, and its element count */
    frost_shape sh;
    CHECK(frost_model_output_shape(t.model, 0, &sh) == FROST_OK);
    CHECK_MSG(sh.rank == 4 && sh.dims[0] == 2 && sh.dims[1] == 2 && sh.dims[2] == 1 && sh.dims[3] == 2,
              "rank %d dims %lld,%lld,%lld,%lld", sh.rank, (long long)sh.dims[0], (long long)sh.dims[1],
              (long long)sh.dims[2], (long long)sh.dims[3]);
    CHECK(frost_model_output_size(t.model, 0) == 8);
    float x[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    CHECK(t.ctx != NULL);
    CHECK(tg_run1(&t, 1, x, NULL) == FROST_OK);
    const float want[8] = {2, 4, 6, 8, 2, 4, 6, 8};
    CHECK(t.status == FROST_OK && tu_max_abs_diff(t.out[0], want, 8) == 0);
    /* and refused beyond batch 1 with a clear message */
    CHECK(tg_run1(&t, 2, x, NULL) == FROST_E_SHAPE);
    CHECK_MSG(strstr(tg_msg(&t), "output 'y'") && strstr(tg_msg(&t), "leading dimension is not the batch"), "%s",
              tg_msg(&t));
    tg_free(&t);
}

/* Compile-time limits: a folded constant over the data budget, and an arena
 * over 4 GiB; both fail fast with FROST_E_LIMIT naming the node / value. */
/* Compiling the writer's graph fails within a second with FROST_E_LIMIT,
 * saying both `a` and `b`. */
static void expect_limit(fr_gdw *w, const char *a, const char *b) {
    tg_model t;
    double t0 = now();
    frost_status st = compile(&t, w, "y");
    double dt = now() - t0;
    CHECK_MSG(st == FROST_E_LIMIT && !t.model, "status %s", frost_strerror(st));
    CHECK_MSG(strstr(tg_msg(&t), a) && strstr(tg_msg(&t), b), "%s", tg_msg(&t));
    CHECK_MSG(dt < 1.0, "%.2f s", dt);
    tg_free(&t);
}

static void limit_tests(void) {
    /* Pad of a one-element constant to [2^23 + 1, 8] (256 MiB) */
    fr_gdw *w = tg_writer("x", 2, D(-1, 8));
    fr_gdw_const_f(w, "one", 2, D(1, 1), (const float[]){1.0f});
    fr_gdw_const_i32(w, "pads", 2, D(2, 2), I32(0, 1 << 23, 0, 7));
    fr_gdw_node(w, "big", "Pad", IN("one", "pads"));
    fr_gdw_node(w, "y", "Add", IN("x", "big"));
    expect_limit(w, "'big'", "budget");

    /* five 1 GiB activations alive at once (x, ab, c, d, cd): 5 GiB of arena */
    w = tg_writer("x", 3, D(-1, 1 << 27, 2));
    fr_gdw_node(w, "a", "Exp", IN("x"));
    fr_gdw_node(w, "b", "Neg", IN("x"));
    fr_gdw_node(w, "c", "Abs", IN("x"));
    fr_gdw_node(w, "d", "Square", IN("x"));
    fr_gdw_node(w, "ab", "Add", IN("a", "b"));
    fr_gdw_node(w, "cd", "Add", IN("c", "d"));
    fr_gdw_node(w, "s", "Add", IN("ab", "cd"));
    fr_gdw_node(w, "y", "Add", IN("s", "x"));
    expect_limit(w, "activations need more than", "value '");

    /* the 1,427-byte fuzzer finding (scale / shift vectors of 77.5 M channels) */
    const char *src = getenv("FROST_SRC");
    char path[4096];
    snprintf(path, sizeof path, "%s/tests/crashers/fuzz_graph/compile_limit_pad_620MB.pb", src ? src : ".");
    double t0 = now();
    frost_model *m = NULL;
    char *err = NULL;
    frost_options o;
    frost_options_init(&o);
    o.max_batch = 1;
    frost_status st = frost_model_load(path, &o, &m, &err);
    double dt = now() - t0;
    CHECK_MSG(st == FROST_E_LIMIT && !m, "%s: status %s", path, frost_strerror(st));
    CHECK_MSG(err && strstr(err, "node '"), "%s", err ? err : "");
    CHECK_MSG(dt < 1.0, "%.2f s", dt);
    frost_free(err);
    frost_model_free(m);
}

int main(void) {
    slim_reshape_test();
    wrong_reshape_tests();
    concat_axis0_test();
    limit_tests();
    return tu_done();
}
