/* frost-test-labels: asan */
/* The graph / model / context API: queries, histogram, stats, profiling,
 * loading from memory without a copy, several batch sizes, and several
 * threads sharing one model (each with its own context); the Winograd
 * options reaching the kernels. */
#include <dirent.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "frost.h"
#include "kernels/kernels.h"
#include "pb/pbwriter.h"
#include "runtime/runtime.h"
#include "testutil.h"
#include "tgraph.h"

#define D(...) ((const int64_t[]){__VA_ARGS__})
#define I32(...) ((const int32_t[]){__VA_ARGS__})
#define IN(...) ((const char *const[]){__VA_ARGS__, NULL})

/* x [N,4,4,2] -> Conv 3x3 (2->3) + BiasAdd + Relu -> AvgPool 2x2 -> Mean[1,2] -> y; plus an unused branch. */
static const uint8_t *small_graph(fr_gdw *w, size_t *len) {
    float k[3 * 3 * 2 * 3];
    for (int i = 0; i < 54; i++) k[i] = (float)((i * 7) % 11) / 10.0f - 0.5f;
    fr_gdw_placeholder(w, "x", 4, D(-1, 4, 4, 2));
    fr_gdw_const_f(w, "k", 4, D(3, 3, 2, 3), k);
    fr_gdw_const_f(w, "b", 1, D(3), (const float[]){0.1f, -0.2f, 0.3f});
    fr_gdw_node(w, "k_read", "Identity", IN("k"));
    tg_window(w, "conv", "Conv2D", IN("x", "k_read"), "SAME", 0, 1);
    fr_gdw_node(w, "bias", "BiasAdd", IN("conv", "b"));
    fr_gdw_node(w, "relu", "Relu", IN("bias", "^k_read"));
    tg_window(w, "pool", "AvgPool", IN("relu"), "VALID", 2, 2);
    fr_gdw_const_i32(w, "axes", 1, D(2), I32(1, 2));
    fr_gdw_node(w, "y", "Mean", IN("pool", "axes"));
    fr_gdw_node(w, "other", "Sigmoid", IN("x"));
    return fr_gdw_finish(w, len);
}

static void graph_queries(const frost_graph *g) {
    CHECK(frost_graph_node_count(g) == 11);
    CHECK(frost_graph_placeholder_count(g) == 1 && !strcmp(frost_graph_placeholder_name(g, 0), "x"));
    frost_shape s;
    CHECK(frost_graph_placeholder_shape(g, 0, &s) == FROST_OK && s.rank == 4 && s.dims[0] == -1 && s.dims[3] == 2);
    CHECK(frost_graph_sink_count(g) == 2);
    CHECK(!strcmp(frost_graph_sink_name(g, 0), "y") && !strcmp(frost_graph_sink_name(g, 1), "other"));
    CHECK(frost_graph_op_type_count(g) == 9);
    CHECK(!strcmp(frost_graph_op_type_name(g, 0), "Const") && frost_graph_op_type_uses(g, 0) == 3);
    CHECK(frost_graph_op_type_uses(g, 1) == 1 && strcmp(frost_graph_op_type_name(g, 1), frost_graph_op_type_name(g, 2)) < 0);
    CHECK(frost_graph_param_count(g) == 54 + 3 + 2);
    CHECK(frost_graph_sink_name(g, 2) == NULL && frost_graph_op_type_name(g, -1) == NULL);
}

typedef struct {
    const frost_model *m;
    int batch;
    const float *in;
    const float *want;
    int ok;
} thread_arg;

static void *worker(void *p) {
    thread_arg *a = p;
    frost_context *c = NULL;
    float out[64 * 3];
    a->ok = frost_context_create(a->m, &c, NULL) == FROST_OK;
    for (int r = 0; r < 50 && a->ok; r++) {
        a->ok = frost_context_run1(c, a->batch, a->in, out) == FROST_OK;
        for (int i = 0; a->ok && i < a->batch * 3; i++) a->ok = out[i] == a->want[i % 3 + 3 * (i / 3)];
    }
    frost_context_free(c);
    return NULL;
}

/* Uniform in [-1, 1). */
static float rnd(uint32_t *s) {
    *s = *s * 1664525u + 1013904223u;
    return (float)(*s >> 8) / (float)(1u << 23) - 1.0f;
}

/* x [-1, h, h, c] -> Conv2D (kh x kw, SAME, stride 1, HWIO weights k, c -> c)
 * -> Relu "y", loaded into t (checked). */
static frost_status conv_relu_graph(tg_model *t, int h, int c, int kh, int kw, const float *k) {
    fr_gdw *w = tg_writer("x", 4, D(-1, h, h, c));
    fr_gdw_const_f(w, "k", 4, D(kh, kw, c, c), k);
    tg_window(w, "conv", "Conv2D", IN("x", "k"), "SAME", 0, 1);
    fr_gdw_node(w, "y", "Relu", IN("conv"));
    size_t len;
    const uint8_t *bytes = fr_gdw_finish(w, &len);
    CHECK(bytes && tg_load(t, bytes, len) == FROST_OK);
    fr_gdw_free(w);
    return t->status;
}

/* The 3x3 64 -> 64 convolution on 8x8 maps of the tests below, batch up to
 * 16, on 2 threads: its weights k and an input of 16 items from seed, then
 * the model (with debug_flags, and micro_batch as frost_options has it). */
enum { C64_H = 8, C64_C = 64, C64_B = 16, C64_K = 9 * C64_C * C64_C, C64_N = C64_B * C64_H * C64_H * C64_C };

static void conv64_data(uint32_t seed, float *k, float *in) {
    for (int i = 0; i < C64_K; i++) k[i] = rnd(&seed) * 0.2f;
    for (int i = 0; i < C64_N; i++) in[i] = rnd(&seed);
}

static frost_status conv64_model(tg_model *t, const float *k, unsigned debug_flags, int micro_batch) {
    frost_options o;
    frost_options_init(&o);
    o.max_batch = C64_B;
    o.threads = 2;
    o.micro_batch = micro_batch;
    o.debug_flags = debug_flags;
    frost_status st = conv_relu_graph(t, C64_H, C64_C, 3, 3, k);
    return st == FROST_OK ? tg_compile(t, NULL, &o) : st;
}

/* The Winograd options reach the kernels: a 1x7 convolution (64->64 on
 * 17x17, the shape of Inception v3's) runs frost's 1-D F(2, 7) by default
 * in place of oneDNN's AVX2 or AVX-512 direct kernel, directly with no_winograd (also
 * over winograd) and with onednn_only; every result within 1e-4 of the
 * reference kernels. */
static void winograd_options(void) {
    enum { H = 17, C = 64, K = 7 };
    static float k[K * C * C], in[2 * H * H * C], ref[2 * H * H * C], out[2 * H * H * C];
    uint32_t seed = 7;
    for (size_t i = 0; i < sizeof k / sizeof *k; i++) k[i] = rnd(&seed) * 0.2f;
    for (size_t i = 0; i < sizeof in / sizeof *in; i++) in[i] = rnd(&seed);
    tg_model t;
    if (conv_relu_graph(&t, H, C, 1, K, k) != FROST_OK) { tg_free(&t); return; }
    static const struct {
        const char *what;
        int backend, winograd, no_winograd, onednn_only;
        int want; /* 1: frost's F(2, 7) on AVX2 / AVX-512 CPUs, 0: never Winograd, -1: not checked */
    } v[] = {
        {"reference", FROST_BACKEND_REFERENCE, 0, 0, 0, 0},
        {"default", FROST_BACKEND_AUTO, 0, 0, 0, 1},
        {"no_winograd", FROST_BACKEND_AUTO, 0, 1, 0, 0},
        {"winograd + no_winograd", FROST_BACKEND_AUTO, 1, 1, 0, 0},
        {"onednn_only", FROST_BACKEND_AUTO, 0, 0, 1, 0},
        {"winograd", FROST_BACKEND_AUTO, 1, 0, 0, -1},
    };
    for (size_t i = 0; i < sizeof v / sizeof *v; i++) {
        frost_options o;
        frost_options_init(&o);
        o.backend = (frost_backend)v[i].backend;
        o.winograd = v[i].no_winograd ? FROST_WINOGRAD_OFF : v[i].winograd ? FROST_WINOGRAD_ALL : FROST_WINOGRAD_DEFAULT;
        o.debug_flags = v[i].onednn_only ? FROST_DEBUG_ONEDNN_ONLY : 0;
        o.profiling = 1;
        o.threads = 2;
        o.max_batch = 2;
        CHECK_MSG(tg_compile(&t, NULL, &o) == FROST_OK, "%s: %s", v[i].what, tg_msg(&t));
        if (!t.ctx) continue;
        CHECK_MSG(tg_run1(&t, 2, in, i ? out : ref) == FROST_OK, "%s", v[i].what);
        if (i) CHECK_MSG(tu_max_rel_diff(out, ref, sizeof out / sizeof *out) <= 1e-4, "%s", v[i].what);
        frost_compile_stats st;
        const frost_op_profile *prof = NULL;
        int n = 0;
        CHECK(frost_model_stats(t.model, &st) == FROST_OK);
        CHECK(frost_context_profile(t.ctx, &prof, &n) == FROST_OK && n == 1);
        if (n == 1 && v[i].want >= 0 && !strcmp(st.backend, "onednn")) {
            int wino = strstr(prof[0].kernel, "winograd") != NULL;
            int want = v[i].want && tu_avx2_fma();
            CHECK_MSG(wino == want, "%s: kernel %s", v[i].what, prof[0].kernel);
            if (want) CHECK_MSG(!strcmp(prof[0].kernel, "frost:winograd_f2_1x7"), "%s: %s", v[i].what, prof[0].kernel);
        }
    }
    tg_free(&t);
}

/* A model holds its weights once, whatever batch sizes run: a 3x3
 * convolution 64->64 on 8x8 (16 tiles of 2x2 per image: direct at any
 * batch; 256 at batch 16, where a per-batch choice took Winograd and held
 * its transformed weights next to the direct ones of batch 1). */
static void weights_once(void) {
    enum { H = C64_H, C = C64_C, B = C64_B };
    static float k[C64_K], in[C64_N], out[C64_N], one[H * H * C];
    conv64_data(11, k, in);
    tg_model t;
    CHECK(conv64_model(&t, k, 0, -1) == FROST_OK); /* micro_batch -1: one pass at batch 16 on any cache size */
    if (t.ctx) {
        frost_compile_stats s1, s16;
        CHECK(tg_run1(&t, 1, in, one) == FROST_OK && frost_model_stats(t.model, &s1) == FROST_OK);
        CHECK(tg_run1(&t, B, in, out) == FROST_OK && frost_model_stats(t.model, &s16) == FROST_OK);
        CHECK(tu_max_rel_diff(out, one, sizeof one / sizeof *one) <= 1e-5);
        if (!strcmp(s1.backend, "onednn")) /* the reference backend reads the weights in place */
            CHECK_MSG(s1.weight_bytes >= (size_t)s1.params * 4 && s1.weight_bytes <= (size_t)s1.params * 4 + 4096,
                      "%zu bytes for %lld parameters", s1.weight_bytes, (long long)s1.params);
        CHECK_MSG(s16.weight_bytes == s1.weight_bytes, "batch 1: %zu bytes, then batch %d: %zu", s1.weight_bytes, B,
                  s16.weight_bytes);
        CHECK(frost_context_arena_bytes(t.ctx) >= (size_t)(B + 1) * sizeof one);
    }
    tg_free(&t);
}

/* Runs split into passes (frost_options.micro_batch): the same results as
 * one pass, an arena per pass size; refused (and never picked) where the
 * items of a run are not independent; the automatic choice. */
static void micro_batches(void) {
    enum { H = 9, C = 16, B = 5 };
    static float k[9 * C * C], in[B * H * H * C], whole[B * H * H * C], split[B * H * H * C];
    uint32_t seed = 13;
    for (size_t i = 0; i < sizeof k / sizeof *k; i++) k[i] = rnd(&seed) * 0.2f;
    for (size_t i = 0; i < sizeof in / sizeof *in; i++) in[i] = rnd(&seed);
    tg_model t1, t2;
    frost_options o;
    frost_options_init(&o);
    o.max_batch = 8;
    o.micro_batch = -1;
    CHECK(conv_relu_graph(&t1, H, C, 3, 3, k) == FROST_OK && tg_compile(&t1, NULL, &o) == FROST_OK &&
          frost_model_micro_batch(t1.model) == 0);
    o.micro_batch = 2;
    CHECK(conv_relu_graph(&t2, H, C, 3, 3, k) == FROST_OK && tg_compile(&t2, NULL, &o) == FROST_OK &&
          frost_model_micro_batch(t2.model) == 2);
    frost_context *c1 = t1.ctx, *c2 = t2.ctx;
    CHECK(c1 && c2);
    if (c1 && c2) {
        frost_compile_stats st;
        frost_model_stats(t2.model, &st);
        CHECK(tg_run1(&t1, B, in, whole) == FROST_OK && tg_run1(&t2, B, in, split) == FROST_OK);
        CHECK(tu_max_rel_diff(split, whole, sizeof whole / sizeof *whole) <= 1e-5);
        /* passes of 2, 2 and 1: the arenas of batch 2 and 1, not of 5 */
        CHECK(frost_context_arena_bytes(c2) < frost_context_arena_bytes(c1));
        CHECK(frost_context_arena_bytes(c2) >= 3 * st.arena_bytes && frost_context_arena_bytes(c2) <= 4 * st.arena_bytes);
        CHECK(tg_run1(&t2, 2, in + 3 * H * H * C, split) == FROST_OK);
        CHECK(tu_max_rel_diff(split, whole + 3 * H * H * C, 2 * H * H * C) <= 1e-5);
        /* reserve builds the pass sizes only */
        frost_context *cr = NULL;
        CHECK(frost_context_create(t2.model, &cr, NULL) == FROST_OK && frost_context_reserve(cr, 7) == FROST_OK);
        CHECK(frost_context_arena_bytes(cr) == frost_context_arena_bytes(c2));
        frost_context_free(cr);
    }
    tg_free(&t1);
    tg_free(&t2);

    /* y = x + sum of x over the batch: every item depends on all */
    fr_gdw *w = tg_writer("x", 2, D(-1, 8));
    fr_gdw_const_i32(w, "ax", 1, D(1), (const int32_t[]){0});
    fr_gdw_node(w, "s", "Sum", IN("x", "ax"));
    fr_gdw_attr_bool(w, "keep_dims", 1);
    fr_gdw_node(w, "y", "Add", IN("x", "s"));
    size_t len;
    const uint8_t *bytes = fr_gdw_finish(w, &len);
    CHECK(bytes && tg_load(&t1, bytes, len) == FROST_OK);
    fr_gdw_free(w);
    o.micro_batch = 2;
    CHECK(tg_compile(&t1, NULL, &o) == FROST_E_INVALID_ARGUMENT && strstr(tg_msg(&t1), "not independent") != NULL);
    o.micro_batch = 0;
    CHECK(tg_compile(&t1, NULL, &o) == FROST_OK && frost_model_micro_batch(t1.model) == 0);
    if (t1.ctx) { /* batch 3 in one pass: y = x + column sums */
        float xs[24];
        for (int i = 0; i < 24; i++) xs[i] = (float)(i % 7) - 2.5f;
        CHECK(tg_run1(&t1, 3, xs, NULL) == FROST_OK);
        const float *ys = t1.out[0];
        for (int i = 0; i < 24; i++)
            CHECK_MSG(ys[i] == xs[i] + (xs[i % 8] + xs[8 + i % 8] + xs[16 + i % 8]), "y[%d] = %g", i, ys[i]);
    }
    tg_free(&t1);

    /* automatic: memory-bound networks (under 400 FLOPs per arena byte) in
     * passes that fill the last-level cache */
    CHECK(fr_micro_auto(1137482752, 7024640, 32 << 20) == 4);        /* MobileNet v1 */
    CHECK(fr_micro_auto(11426436288LL, 12212416, 32 << 20) == 0);    /* Inception v3 */
    CHECK(fr_micro_auto(601551104, 6823936, 16 << 20) == 2);         /* MobileNet v2, 16 MiB */
    CHECK(fr_micro_auto(1137482752, 7024640, 0) == 0);               /* cache unknown */
    CHECK(fr_micro_auto(27140608, 393216, 32 << 20) == 64);          /* 0.25 MobileNet: never splits 64 */
}

/* The caller's own OpenMP loop calling frost from each of its threads
 * (here a team of fr_team_run(), the runtime oneDNN uses): every thread
 * has its context of one 2-thread model; their steps run on their own
 * threads, each taking one core, with the results of the model alone. */
typedef struct {
    const frost_model *m;
    const float *in, *want;
    size_t n;
    int ok[2];
} nested_job;

static void nested_task(void *data, int ithr, int team) {
    nested_job *j = data;
    static float out[2][C64_N];
    frost_context *c = NULL;
    int ok = team == 2 && ithr < 2 && frost_context_create(j->m, &c, NULL) == FROST_OK;
    for (int r = 0; ok && r < 3; r++)
        ok = frost_context_run1(c, C64_B, j->in, out[ithr]) == FROST_OK &&
             tu_max_rel_diff(out[ithr], j->want, j->n) <= 1e-5;
    frost_context_free(c);
    if (ithr < 2) j->ok[ithr] = ok;
}

static void nested_callers(void) {
    static float k[C64_K], in[C64_N], want[C64_N];
    conv64_data(7, k, in);
    tg_model t;
    /* oneDNN's kernels: their teams and the cores they take */
    CHECK(conv64_model(&t, k, FROST_DEBUG_ONEDNN_ONLY, 0) == FROST_OK);
    fr_team team;
    fr_team_init(&team);
    if (t.ctx && team.parallel && tg_run1(&t, C64_B, in, want) == FROST_OK) {
        nested_job j = {t.model, in, want, sizeof want / sizeof *want, {0, 0}};
        fr_team_run(&team, 2, nested_task, &j);
        CHECK_MSG(j.ok[0] && j.ok[1], "two callers' threads of one OpenMP team: %d %d", j.ok[0], j.ok[1]);
    }
    tg_free(&t);
}

/* A process forked after it ran a model on 2 threads: libgomp's threads are
 * not in the child, whose first OpenMP team would wait for them forever.
 * The child runs the parent's model and compiles and runs a new one (on one
 * thread: src/kernels/team.c), with the parent's results; the parent's own
 * runs after it keep their 2 threads. */
static int fork_runs(tg_model *t, const float *k, const float *in, const float *want, float *out) {
    tg_model fresh;
    int ok = tg_run1(t, C64_B, in, out) == FROST_OK && tu_max_rel_diff(out, want, C64_N) <= 1e-5;
    ok = ok && conv64_model(&fresh, k, 0, 0) == FROST_OK && fresh.ctx && tg_run1(&fresh, C64_B, in, out) == FROST_OK &&
         tu_max_rel_diff(out, want, C64_N) <= 1e-5;
    tg_free(&fresh);
    return ok;
}

/* A process that forks after it compiled a model but ran no team of more
 * than one thread (a prefork server's parent): its child's runs keep their
 * 2 threads (the OpenMP runtime starts its threads there, so the child has
 * a thread more than the one that called fork), with the parent's results.
 * Run first in the process, before any run starts the runtime's threads. */
static int tasks(void) {
    DIR *d = opendir("/proc/self/task");
    int n = 0;
    for (struct dirent *e; d && (e = readdir(d));) n += e->d_name[0] != '.';
    if (d) closedir(d);
    return n;
}

static void fork_after_compile(void) {
    static float k[C64_K], in[C64_N], out[C64_N];
    conv64_data(3, k, in);
    tg_model t;
    CHECK(conv64_model(&t, k, FROST_DEBUG_ONEDNN_ONLY, 0) == FROST_OK);
    if (!t.ctx) {
        tg_free(&t);
        return;
    }
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) _exit(tasks() == 1 && tg_run1(&t, C64_B, in, out) == FROST_OK && tasks() >= 2 ? 0 : 1);
    CHECK(pid > 0);
    CHECK(tu_child_ok(pid, 60, "a child forked after a compile: its run on 2 threads"));
    tg_free(&t);
}

static void fork_after_run(void) {
    static float k[C64_K], in[C64_N], want[C64_N], out[C64_N];
    conv64_data(5, k, in);
    tg_model t;
    CHECK(conv64_model(&t, k, 0, 0) == FROST_OK);
    if (!t.ctx || tg_run1(&t, C64_B, in, want) != FROST_OK) {
        CHECK(0);
        tg_free(&t);
        return;
    }
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) _exit(fork_runs(&t, k, in, want, out) ? 0 : 1);
    CHECK(pid > 0);
    CHECK(tu_child_ok(pid, 60, "a child forked after a 2-thread run"));
    CHECK_MSG(fork_runs(&t, k, in, want, out), "the parent's runs after the fork");
    tg_free(&t);
}

int main(void) {
    fork_after_compile(); /* first: no team has run yet */
    fr_gdw *w = fr_gdw_new();
    size_t len;
    const uint8_t *bytes = small_graph(w, &len);
    frost_graph *g = NULL;
    char *err = NULL;
    CHECK(frost_graph_load_memory(bytes, len, 0, &g, &err) == FROST_OK && err == NULL);
    if (!g) return tu_done();
    graph_queries(g);

    /* model with explicit output, default inputs; profiling on */
    frost_options o;
    frost_options_init(&o);
    const char *outs[] = {"y:0"};
    o.outputs = outs;
    o.num_outputs = 1;
    o.profiling = 1;
    o.max_batch = 8;
    o.backend = FROST_BACKEND_REFERENCE;
    frost_model *m = NULL;
    CHECK(frost_model_compile(g, &o, &m, &err) == FROST_OK);
    frost_model *plain = NULL;
    o.debug_flags = FROST_DEBUG_NO_OPTIMIZE;
    CHECK(frost_model_compile(g, &o, &plain, &err) == FROST_OK);
    frost_graph_free(g);
    if (!m || !plain) return tu_done();
    CHECK(frost_model_input_count(m) == 1 && frost_model_output_count(m) == 1);
    CHECK(!strcmp(frost_model_input_name(m, 0), "x") && !strcmp(frost_model_output_name(m, 0), "y"));
    frost_shape s;
    CHECK(frost_model_input_shape(m, 0, &s) == FROST_OK && s.rank == 4 && s.dims[0] == -1 && s.dims[1] == 4);
    CHECK(frost_model_output_shape(m, 0, &s) == FROST_OK && s.rank == 2 && s.dims[0] == -1 && s.dims[1] == 3);
    CHECK(frost_model_input_size(m, 0) == 32 && frost_model_output_size(m, 0) == 3);
    CHECK(frost_model_max_batch(m) == 8);
    CHECK(frost_model_input_shape(m, 1, &s) == FROST_E_INVALID_ARGUMENT);
    frost_compile_stats st, sp;
    CHECK(frost_model_stats(m, &st) == FROST_OK && frost_model_stats(plain, &sp) == FROST_OK);
    CHECK(st.graph_nodes == 11 && st.pruned_nodes == 1); /* "other" */
    CHECK(st.identity_nodes == 2);                        /* k_read + one control edge */
    CHECK(st.fused_ops == 2 && st.steps == 3);            /* Conv+BiasAdd+Relu, AvgPool, Mean */
    CHECK(sp.fused_ops == 0 && sp.steps == 5);
    CHECK(st.params == 54 + 3 && st.flops == 2 * 16 * 3 * 18);
    CHECK(st.arena_bytes > 0 && !strcmp(st.backend, "reference"));

    /* runs at batch 1..8, compare optimised and plain; profile names */
    float in[8 * 32], out[8 * 3], ref[8 * 3];
    for (int i = 0; i < 8 * 32; i++) in[i] = (float)((i * 13) % 17) / 8.0f - 1.0f;
    frost_context *c = NULL, *cp = NULL;
    CHECK(frost_context_create(m, &c, NULL) == FROST_OK && frost_context_create(plain, &cp, NULL) == FROST_OK);
    for (int b = 1; b <= 8; b++) {
        CHECK(frost_context_run1(c, b, in, out) == FROST_OK);
        CHECK(frost_context_run1(cp, b, in, ref) == FROST_OK);
        CHECK(tu_max_abs_diff(out, ref, (size_t)b * 3) <= 1e-5);
    }
    /* batch item k of a batch run equals a batch-1 run of item k */
    float one[3];
    CHECK(frost_context_run1(c, 1, in + 5 * 32, one) == FROST_OK);
    CHECK(frost_context_run1(c, 8, in, out) == FROST_OK && !memcmp(one, out + 15, sizeof one));
    const frost_op_profile *prof = NULL;
    int n = 0;
    CHECK(frost_context_profile(c, &prof, &n) == FROST_OK && n == 3);
    if (n == 3) {
        CHECK(!strcmp(prof[0].name, "relu") && !strcmp(prof[0].op, "Conv2D+BiasAdd+Relu") && prof[0].runs == 2);
        CHECK(!strcmp(prof[0].kernel, "reference") && prof[0].flops == 8 * 2 * 16 * 3 * 18 && prof[0].total_ms >= 0);
        CHECK(!strcmp(prof[2].op, "Mean"));
    }
    frost_context_profile_reset(c);
    CHECK(frost_context_profile(c, &prof, &n) == FROST_OK && n == 3 && prof[0].runs == 0);

    /* reserve: builds a batch size's plan without running; bounds as for runs */
    frost_context *cr = NULL;
    CHECK(frost_context_create(m, &cr, NULL) == FROST_OK);
    CHECK(frost_context_arena_bytes(cr) == 0 && frost_context_arena_bytes(NULL) == 0);
    CHECK(frost_context_reserve(cr, 0) == FROST_E_LIMIT && strstr(frost_context_error(cr), "outside") != NULL);
    CHECK(frost_context_reserve(cr, 9) == FROST_E_LIMIT && frost_context_arena_bytes(cr) == 0);
    CHECK(frost_context_reserve(cr, 1) == FROST_OK && frost_context_arena_bytes(cr) == st.arena_bytes);
    CHECK(frost_context_reserve(cr, 3) == FROST_OK && frost_context_error(cr)[0] == 0);
    /* one arena per batch size: batch 3's holds 3 items' activations */
    CHECK(frost_context_arena_bytes(cr) > 3 * st.arena_bytes && frost_context_arena_bytes(cr) <= 5 * st.arena_bytes);
    CHECK(frost_context_run1(cr, 3, in, out) == FROST_OK && frost_context_run1(cp, 3, in, ref) == FROST_OK);
    CHECK(tu_max_abs_diff(out, ref, 3 * 3) <= 1e-5);
    CHECK(frost_context_reserve(NULL, 1) == FROST_E_INVALID_ARGUMENT);
    frost_context_free(cr);

    /* four threads, one model, different batch sizes at once */
    float want[8 * 3];
    CHECK(frost_context_run1(c, 8, in, want) == FROST_OK);
    pthread_t th[4];
    thread_arg args[4];
    for (int t = 0; t < 4; t++) {
        args[t] = (thread_arg){m, t + 1 + (t == 3) * 4, in, want, 0};
        pthread_create(&th[t], NULL, worker, &args[t]);
    }
    for (int t = 0; t < 4; t++) {
        pthread_join(th[t], NULL);
        CHECK_MSG(args[t].ok, "thread %d", t);
    }
    frost_context_free(c);
    frost_context_free(cp);
    frost_model_free(m);
    frost_model_free(plain);
    fr_gdw_free(w);

    /* the default output (sinks) and frost_model_load on a file */
    const char *shared = tu_shared_dir();
    if (shared) {
        CHECK(frost_model_load(tu_path("%s/models/mobilenet_v1_0.25_128_quant_float.pb", shared), NULL, &m, NULL) == FROST_OK);
        CHECK(m && !strcmp(frost_model_output_name(m, 0), "MobilenetV1/Predictions/Reshape_1"));
        CHECK(m && frost_model_input_size(m, 0) == 128 * 128 * 3 && frost_model_output_size(m, 0) == 1001);
        frost_model_free(m);
    }
    winograd_options();
    weights_once();
    nested_callers();
    fork_after_run();
    micro_batches();
    return tu_done();
}
