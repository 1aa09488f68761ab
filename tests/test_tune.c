/* Tuning records (src/kernels/tune.c, src/runtime/tune.c): text round trip,
 * corrupt records (clear errors), records for another CPU, model or thread
 * count (ignored, with a note), the per-user cache, and each forced pick on
 * every layer: the kernel the profile names and outputs within FP32's 1e-4
 * of the reference kernels.
 * frost-test-labels: asan */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "kernels/tune.h"
#include "runtime/runtime.h"
#include "testutil.h"
#include "tgraph.h"

/* x [1, 20, 20, 32] -> 3x3 conv (64) -> 1x7 conv (32) -> 5x5 conv (32) ->
 * 3x3 stride-2 conv (16): layers c1..c4, each + Relu. */
static uint8_t *net(size_t *len) {
    fr_gdw *w = tg_writer("x", 4, (const int64_t[]){-1, 20, 20, 32});
    const struct {
        const char *name, *in;
        int kh, kw, cin, cout, s;
    } L[] = {{"c1", "x", 3, 3, 32, 64, 1}, {"c2", "c1r", 1, 7, 64, 32, 1}, {"c3", "c2r", 5, 5, 32, 32, 1},
             {"c4", "c3r", 3, 3, 32, 16, 2}};
    uint32_t x = 12345;
    for (int l = 0; l < 4; l++) {
        size_t n = (size_t)L[l].kh * L[l].kw * L[l].cin * L[l].cout;
        float *k = malloc(n * sizeof *k);
        for (size_t i = 0; i < n; i++) x = x * 1664525u + 1013904223u, k[i] = ((float)(x >> 8) * 0x1p-24f - 0.5f) * 0.2f;
        char kn[16], rn[16];
        snprintf(kn, sizeof kn, "%s_k", L[l].name);
        snprintf(rn, sizeof rn, "%sr", L[l].name);
        fr_gdw_const_f(w, kn, 4, (const int64_t[]){L[l].kh, L[l].kw, L[l].cin, L[l].cout}, k);
        free(k);
        tg_window(w, L[l].name, "Conv2D", (const char *[]){L[l].in, kn, NULL}, "SAME", 0, L[l].s);
        fr_gdw_node(w, rn, "Relu", (const char *[]){L[l].name, NULL});
        fr_gdw_node_end(w);
    }
    const uint8_t *b = fr_gdw_finish(w, len);
    uint8_t *copy = malloc(*len);
    memcpy(copy, b, *len);
    fr_gdw_free(w);
    return copy;
}

static void put(const char *path, const char *text) {
    FILE *f = fopen(path, "w");
    if (f) fputs(text, f), fclose(f);
}

static void compile_with(tg_model *t, const uint8_t *pb, size_t len, const char *tune_file, int threads, int profile) {
    frost_options o;
    frost_options_init(&o);
    o.max_batch = 2;
    o.threads = threads;
    o.tune_file = tune_file;
    o.profiling = profile;
    tg_free(t);
    tg_build(t, pb, len, "c4r", &o);
}

static void test_text(void) {
    const char *good = "frost-tune 1\n# a comment\ncpu Some CPU  \nisa avx2 fma\nthreads 2\nmodel 00000000000000ff\n"
                       "batches 1,16\nmicro_batch 4\nthread_split 2x1\nlayer b/conv igemm\nlayer a/conv winograd-large\n";
    fr_tune_record r;
    char why[256];
    CHECK_MSG(fr_tune_parse(good, strlen(good), &r, why, sizeof why) == 0, "%s", why);
    CHECK(!strcmp(r.cpu, "Some CPU") && !strcmp(r.isa, "avx2 fma") && r.threads == 2 && r.model == 0xff && r.micro == 4 &&
          r.split == 2);
    CHECK(r.n_layers == 2 && fr_tune_find(&r, "a/conv") == FR_TUNE_WINO_LARGE && fr_tune_find(&r, "b/conv") == FR_TUNE_IGEMM &&
          fr_tune_find(&r, "c/conv") == -1);
    char *text = fr_tune_format(&r);
    fr_tune_record r2;
    CHECK(text && fr_tune_parse(text, strlen(text), &r2, why, sizeof why) == 0);
    char *text2 = fr_tune_format(&r2);
    CHECK_MSG(text2 && !strcmp(text, text2) && strstr(text, "\nthread_split 2x1\n"), "round trip:\n%s---\n%s", text,
              text2 ? text2 : "");
    free(text), free(text2);
    fr_tune_free(&r), fr_tune_free(&r2);
    const char *none = "frost-tune 1\ncpu c\nisa i\nthreads 1\nmodel 00000000000000ff\nmicro_batch none\n";
    CHECK_MSG(fr_tune_parse(none, strlen(none), &r, why, sizeof why) == 0 && r.micro == -1, "%s", why);
    text = fr_tune_format(&r);
    CHECK_MSG(text && strstr(text, "\nmicro_batch none\n"), "%s", text ? text : "");
    free(text);
    fr_tune_free(&r);
    const struct {
        const char *text, *want;
    } bad[] = {
        {"", "empty"},
        {"frost-tune 2\n", "version '2'"},
        {"P\x01\x02\n", "not a tuning record"},
        {"frost-tune 1\ncpu c\nisa i\nthreads 2\nmodel 00000000000000ff\nlayer x fastest\n", "line 6: layer x: unknown pick"},
        {"frost-tune 1\ncpu c\nisa i\nthreads 0\nmodel 00000000000000ff\n", "line 4: threads"},
        {"frost-tune 1\ncpu c\nisa i\nthreads 2\nmodel ff\n", "line 5: model"},
        {"frost-tune 1\ncpu c\nisa i\nthreads 2\n", "incomplete"},
        {"frost-tune 1\ncpu c\ncpu d\n", "line 3: 'cpu' given twice"},
        {"frost-tune 1\nspeed 9\n", "line 2: unknown key 'speed'"},
        {"frost-tune 1\ncpu c\nisa i\nthreads 2\nmodel 00000000000000ff\nlayer x igemm\nlayer x backend\n", "twice"},
        {"frost-tune 1\ncpu c\nisa i\nthreads 2\nmodel 00000000000000ff\nlayer a b igemm\n", "line 6: layer"},
        {"frost-tune 1\ncpu c\nisa i\nthreads 2\nmodel 00000000000000ff\nmicro_batch 0\n", "line 6: micro_batch"},
        {"frost-tune 1\ncpu c\nisa i\nthreads 2\nmodel 00000000000000ff\nmicro_batch 4x\n", "line 6: micro_batch"},
        {"frost-tune 1\nmicro_batch 2\nmicro_batch 2\n", "line 3: 'micro_batch' given twice"},
        {"frost-tune 1\ncpu c\nisa i\nthreads 2\nmodel 00000000000000ff\nthread_split 2\n", "line 6: thread_split"},
        {"frost-tune 1\ncpu c\nisa i\nthreads 2\nmodel 00000000000000ff\nthread_split 0x2\n", "line 6: thread_split"},
        {"frost-tune 1\ncpu c\nisa i\nthreads 2\nmodel 00000000000000ff\nthread_split 2x1y\n", "line 6: thread_split"},
        {"frost-tune 1\ncpu c\nisa i\nthreads 2\nmodel 00000000000000ff\nthread_split 3x1\n", "does not make the record's 2"},
        {"frost-tune 1\nthread_split 2x1\nthread_split 2x1\n", "line 3: 'thread_split' given twice"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        fr_tune_record rb;
        why[0] = 0;
        int rc = fr_tune_parse(bad[i].text, strlen(bad[i].text), &rb, why, sizeof why);
        CHECK_MSG(rc == -1 && strstr(why, bad[i].want), "bad record %zu: rc %d, '%s' (want '%s')", i, rc, why, bad[i].want);
    }
}

/* Each pick forced on every layer: the kernels the profile names, the outputs against the reference. */
static void test_forced(const uint8_t *pb, size_t len, const char *dir) {
    float in[2 * 20 * 20 * 32];
    uint32_t x = 99;
    for (size_t i = 0; i < sizeof in / sizeof in[0]; i++) x = x * 1664525u + 1013904223u, in[i] = (float)(x >> 8) * 0x1p-24f;
    tg_model ref = {0};
    frost_options o;
    tg_options(&o);
    o.max_batch = 2;
    tg_build(&ref, pb, len, "c4r", &o);
    size_t nout = 2 * 10 * 10 * 16;
    float *want = malloc(nout * sizeof *want), *got = malloc(nout * sizeof *got);
    CHECK_MSG(ref.ctx && tg_run1(&ref, 2, in, want) == FROST_OK, "reference: %s", tg_msg(&ref));
    tg_model t = {0};
    compile_with(&t, pb, len, "", 2, 0);
    /* a layer is named by its step: the last node fused (the Relu), as profiles name it */
    const char *layers[] = {"c1r", "c2r", "c3r", "c4r"};
    /* what each pick makes of each layer: the kernel name has this (NULL: not frost's) */
    const char *expect[4][4] = {
        {NULL, NULL, NULL, NULL},                                          /* backend */
        {"igemm", "igemm", "igemm", "igemm"},                              /* igemm */
        {"f2x2_3x3", "f2_1x7", NULL /* F(2x2, 5x5): none */, "?rules"},      /* winograd (strided: the rules) */
        {"f4x4_3x3", "f2_1x7" /* 1x7: F(2, 7) */, "f4x4_5x5", "?rules"}}; /* winograd-large */
    const char *picks[4] = {"backend", "igemm", "winograd", "winograd-large"};
    char path[700];
    snprintf(path, sizeof path, "%s/forced.tune", dir);
    for (int p = 0; p < 4 && t.model; p++) {
        const char *pk[4] = {picks[p], picks[p], picks[p], picks[p]};
        char *text = NULL, *err = NULL;
        CHECK_MSG(frost_model_tune_record(t.model, layers, pk, 4, "1,2", &text, &err) == FROST_OK, "%s", err ? err : "");
        put(path, text ? text : "");
        frost_free(text), frost_free(err);
        tg_model f = {0};
        compile_with(&f, pb, len, path, 2, 1);
        CHECK_MSG(f.ctx && strstr(frost_model_tune_note(f.model), "4 layer(s)"), "%s: %s / %s", picks[p], tg_msg(&f),
                  f.model ? frost_model_tune_note(f.model) : "");
        if (!f.ctx || tg_run1(&f, 2, in, got) != FROST_OK) {
            CHECK_MSG(0, "%s: run: %s", picks[p], tg_msg(&f));
            tg_free(&f);
            continue;
        }
        double worst = 0;
        for (size_t i = 0; i < nout; i++) {
            double d = fabs((double)got[i] - want[i]) / (1 + fabs(want[i]));
            if (d > worst) worst = d;
        }
        CHECK_MSG(worst <= 1e-4, "%s: max relative difference %g from the reference", picks[p], worst);
        const frost_op_profile *prof;
        int n = 0;
        CHECK(frost_context_profile(f.ctx, &prof, &n) == FROST_OK);
        for (int l = 0; l < 4; l++) {
            const char *kernel = NULL;
            for (int e = 0; e < n; e++)
                if (!strcmp(prof[e].name, layers[l])) kernel = prof[e].kernel;
            const char *e = expect[p][l];
            CHECK_MSG(kernel != NULL, "%s: no profile entry for %s", picks[p], layers[l]);
            if (!kernel || (e && e[0] == '?')) continue; /* left to the rules */
            int own = !strncmp(kernel, "frost:", 6);
            CHECK_MSG(e ? own && strstr(kernel, e) != NULL : !own, "%s on %s ran %s", picks[p], layers[l], kernel);
        }
        tg_free(&f);
    }
    tg_free(&t);
    tg_free(&ref);
    free(want), free(got);
}

/* Records for another CPU, model or thread count; explicit corrupt records; the cache. */
static void test_matching(const uint8_t *pb, size_t len, const char *dir) {
    tg_model t = {0};
    compile_with(&t, pb, len, "", 2, 0);
    if (!t.model) {
        CHECK_MSG(0, "compile: %s", tg_msg(&t));
        return;
    }
    CHECK(!strcmp(frost_model_tune_note(t.model), ""));
    char *text = NULL, path[700], other[700];
    const char *layers[] = {"c1r"}, *picks[] = {"igemm"};
    CHECK(frost_model_tune_record(t.model, layers, picks, 1, "1", &text, NULL) == FROST_OK && text);
    char *err = NULL;
    CHECK(frost_model_tune_record(t.model, layers, (const char *[]){"fastest"}, 1, "1", &(char *){NULL}, &err) ==
              FROST_E_INVALID_ARGUMENT && err && strstr(err, "unknown pick"));
    frost_free(err);
    snprintf(path, sizeof path, "%s/good.tune", dir);
    put(path, text);
    tg_model u = {0};
    compile_with(&u, pb, len, path, 2, 0);
    CHECK_MSG(u.model && strstr(frost_model_tune_note(u.model), "1 layer(s)"), "%s", u.model ? frost_model_tune_note(u.model) : tg_msg(&u));
    compile_with(&u, pb, len, path, 1, 0); /* 1 thread: measured with 2 */
    CHECK_MSG(u.model && strstr(frost_model_tune_note(u.model), "ignored: measured with 2 threads"), "%s",
              u.model ? frost_model_tune_note(u.model) : tg_msg(&u));
    /* another CPU, another model */
    const char *swaps[][3] = {{"cpu ", "cpu Imaginary CPU 9000\n", "another CPU"},
                              {"model ", "model 0123456789abcdef\n", "another model"},
                              {"isa ", "isa sse2\n", "other instruction sets"}};
    for (int s = 0; s < 3; s++) {
        char *line = strstr(text, swaps[s][0]), *nl = line ? strchr(line, '\n') : NULL;
        if (!nl) continue;
        snprintf(other, sizeof other, "%s/other%d.tune", dir, s);
        FILE *f = fopen(other, "w");
        if (!f) continue;
        fprintf(f, "%.*s%s%s", (int)(line - text), text, swaps[s][1], nl + 1);
        fclose(f);
        compile_with(&u, pb, len, other, 2, 0);
        CHECK_MSG(u.model && strstr(frost_model_tune_note(u.model), swaps[s][2]), "%s: %s", swaps[s][2],
                  u.model ? frost_model_tune_note(u.model) : tg_msg(&u));
    }
    /* an explicit record that does not parse, or is missing: an error naming it */
    snprintf(other, sizeof other, "%s/corrupt.tune", dir);
    put(other, "frost-tune 1\ncpu x\nlayer c1\n");
    compile_with(&u, pb, len, other, 2, 0);
    CHECK_MSG(!u.model && u.status == FROST_E_PARSE && strstr(tg_msg(&u), "corrupt.tune") && strstr(tg_msg(&u), "line"),
              "%d %s", u.status, tg_msg(&u));
    snprintf(other, sizeof other, "%s/missing.tune", dir);
    compile_with(&u, pb, len, other, 2, 0);
    CHECK_MSG(!u.model && u.status == FROST_E_IO && strstr(tg_msg(&u), "missing.tune"), "%s", tg_msg(&u));
    /* the cache: found by default; a corrupt one ignored with a note */
    char cache[600];
    snprintf(cache, sizeof cache, "%s/cache", dir);
    setenv("XDG_CACHE_HOME", cache, 1);
    char *where = NULL;
    CHECK(frost_model_tune_path(t.model, &where) == FROST_OK && where && strstr(where, "/cache/frost/"));
    mkdir(cache, 0755);
    snprintf(other, sizeof other, "%s/frost", cache);
    mkdir(other, 0755);
    if (where) remove(where); /* from an earlier run */
    compile_with(&u, pb, len, NULL, 2, 0);
    CHECK_MSG(u.model && !strcmp(frost_model_tune_note(u.model), ""), "no record in the cache: %s",
              u.model ? frost_model_tune_note(u.model) : tg_msg(&u));
    if (where) put(where, text);
    compile_with(&u, pb, len, NULL, 2, 0);
    CHECK_MSG(u.model && strstr(frost_model_tune_note(u.model), "1 layer(s)") && strstr(frost_model_tune_note(u.model), where),
              "the cache's record: %s", u.model ? frost_model_tune_note(u.model) : tg_msg(&u));
    if (where) put(where, "garbage\n");
    compile_with(&u, pb, len, NULL, 2, 0);
    CHECK_MSG(u.model && strstr(frost_model_tune_note(u.model), "ignored"), "a corrupt cached record: %s",
              u.model ? frost_model_tune_note(u.model) : tg_msg(&u));
    compile_with(&u, pb, len, "", 2, 0);
    CHECK(u.model && !strcmp(frost_model_tune_note(u.model), ""));
    unsetenv("XDG_CACHE_HOME");
    frost_free(where);
    frost_free(text);
    tg_free(&u);
    tg_free(&t);
}

/* A record's pass size: taken where the options leave it to the compile (0),
 * not over an explicit one; the outputs as in one pass. */
/* t compiled with 2 threads and no record; at `path` (dir/name) a record for
 * it with no layers and the line `extra`.  0 when both are there. */
static int record_with(const uint8_t *pb, size_t len, tg_model *t, const char *dir, const char *name, const char *extra,
                       char *path, size_t path_len) {
    compile_with(t, pb, len, "", 2, 0);
    char *text = NULL;
    if (!t->model || frost_model_tune_record(t->model, NULL, NULL, 0, "2", &text, NULL) != FROST_OK || !text) {
        CHECK_MSG(0, "compile / record: %s", tg_msg(t));
        tg_free(t);
        return -1;
    }
    snprintf(path, path_len, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    if (f) fprintf(f, "%s%s\n", text, extra), fclose(f);
    frost_free(text);
    return 0;
}

static void test_micro(const uint8_t *pb, size_t len, const char *dir) {
    tg_model t = {0};
    char path[700];
    if (record_with(pb, len, &t, dir, "micro.tune", "micro_batch 1", path, sizeof path)) return;
    tg_model u = {0};
    compile_with(&u, pb, len, path, 2, 0);
    CHECK_MSG(u.model && frost_model_micro_batch(u.model) == 1 && strstr(frost_model_tune_note(u.model), "micro_batch 1"),
              "%s", u.model ? frost_model_tune_note(u.model) : tg_msg(&u));
    float in[2 * 20 * 20 * 32], a[2 * 10 * 10 * 16], b[2 * 10 * 10 * 16];
    uint32_t x = 7;
    for (size_t i = 0; i < sizeof in / sizeof in[0]; i++) x = x * 1664525u + 1013904223u, in[i] = (float)(x >> 8) * 0x1p-24f;
    CHECK(t.model && u.model && frost_context_run1(t.ctx, 2, in, a) == FROST_OK && frost_context_run1(u.ctx, 2, in, b) == FROST_OK);
    double worst = tu_max_rel_diff(b, a, sizeof a / sizeof a[0]);
    CHECK_MSG(worst < 1e-4, "passes of 1 vs one pass: %g", worst);
    /* an explicit micro_batch wins over the record's */
    frost_options o;
    frost_options_init(&o);
    o.max_batch = 2;
    o.threads = 2;
    o.tune_file = path;
    o.micro_batch = -1;
    tg_free(&u);
    tg_build(&u, pb, len, "c4r", &o);
    CHECK_MSG(u.model && frost_model_micro_batch(u.model) == 0, "%s", tg_msg(&u));
    tg_free(&u);
    tg_free(&t);
}

/* A record's thread split: frost_model_thread_split() says it where the
 * record applies (1 and all the threads otherwise); the library refuses to
 * write a split that does not divide the threads. */
static void test_split(const uint8_t *pb, size_t len, const char *dir) {
    tg_model t = {0};
    char path[700];
    if (record_with(pb, len, &t, dir, "split.tune", "thread_split 2x1", path, sizeof path)) return;
    int each = 0;
    CHECK_MSG(frost_model_thread_split(t.model, &each) == 1 && each == 2, "no record: %d x %d",
              frost_model_thread_split(t.model, NULL), each);
    CHECK(frost_model_thread_split(NULL, &each) == 1 && each == 0);
    char *bad = NULL;
    CHECK(fr_model_tune_record(t.model, NULL, NULL, 0, "2", 0, 3, &bad, NULL) == FROST_E_INVALID_ARGUMENT && !bad);
    CHECK(fr_model_tune_record(t.model, NULL, NULL, 0, "2", 0, 2, &bad, NULL) == FROST_OK && bad &&
          strstr(bad, "\nthread_split 2x1\n"));
    frost_free(bad);
    tg_model u = {0};
    compile_with(&u, pb, len, path, 2, 0);
    CHECK_MSG(u.model && frost_model_thread_split(u.model, &each) == 2 && each == 1 &&
                  strstr(frost_model_tune_note(u.model), "thread_split 2x1"),
              "%s", u.model ? frost_model_tune_note(u.model) : tg_msg(&u));
    /* compiled with 1 thread, the 2-thread record does not apply */
    compile_with(&u, pb, len, path, 1, 0);
    CHECK_MSG(u.model && frost_model_thread_split(u.model, &each) == 1 && each == 1 &&
                  strstr(frost_model_tune_note(u.model), "ignored"),
              "%s", u.model ? frost_model_tune_note(u.model) : tg_msg(&u));
    tg_free(&u);
    tg_free(&t);
}

/* `frost tune` end to end: a record of the four layers, for this model, that compiles pick up. */
static void test_cli(const uint8_t *pb, size_t len, const char *dir) {
    const char *bin = getenv("FROST_BIN");
    if (!bin) return;
    char model[600], rec[600], cmd[2048];
    snprintf(model, sizeof model, "%s/net.pb", dir);
    snprintf(rec, sizeof rec, "%s/cli.tune", dir);
    tu_write_file(model, pb, len);
    remove(rec);
    snprintf(cmd, sizeof cmd, "'%s' tune '%s' --batch 1,2 --threads 2 --budget 1 --rounds 3 -o '%s' > '%s/tune.out' 2>&1",
             bin, model, rec, dir);
    int rc = system(cmd);
    CHECK_MSG(rc == 0, "frost tune exit status %d", rc);
    FILE *f = fopen(rec, "rb");
    char text[8192] = {0};
    size_t n = f ? fread(text, 1, sizeof text - 1, f) : 0;
    if (f) fclose(f);
    fr_tune_record r;
    char why[256] = "";
    CHECK_MSG(n && fr_tune_parse(text, n, &r, why, sizeof why) == 0, "the record: %s", why);
    if (!n || why[0]) return;
    CHECK_MSG(r.n_layers == 4 && fr_tune_find(&r, "c1r") >= 0 && fr_tune_find(&r, "c4r") >= 0 && r.threads == 2,
              "%d layers:\n%s", r.n_layers, text);
    CHECK_MSG(r.micro == 0 || r.micro == 1 || r.micro == -1, "micro_batch %d at batch 2", r.micro);
    snprintf(cmd, sizeof cmd, "%s/tune.out", dir); /* the pass sizes measured: one pass, passes of 1 */
    char *out = tu_read_file(cmd, NULL);
    CHECK_MSG(out && strstr(out, "items per pass at batch 2") && strstr(out, " all") && strstr(out, " 1 "), "%s",
              out ? out : "(no output)");
    /* the thread splits measured: one context of 2 threads, 2 of 1 */
    CHECK_MSG(out && strstr(out, "contexts at once at batch 2") && strstr(out, "): 1 ") && strstr(out, ", 2 "), "%s",
              out ? out : "(no output)");
    CHECK_MSG(r.split == 0 || r.split == 2, "thread_split %d with 2 threads", r.split);
    free(out);
    fr_tune_free(&r);
    tg_model t = {0};
    compile_with(&t, pb, len, rec, 2, 0);
    CHECK_MSG(t.model && strstr(frost_model_tune_note(t.model), "4 layer(s)"), "compiled with it: %s",
              t.model ? frost_model_tune_note(t.model) : tg_msg(&t));
    tg_free(&t);
    /* a bad flag: usage error */
    snprintf(cmd, sizeof cmd, "'%s' tune '%s' --batch 0 > /dev/null 2>&1", bin, model);
    rc = system(cmd);
    CHECK_MSG(WIFEXITED(rc) && WEXITSTATUS(rc) == 2, "--batch 0: status %d", rc);
}

int main(void) {
    const char *tmp = getenv("FROST_TMP");
    char dir[400];
    snprintf(dir, sizeof dir, "%s", tmp && *tmp ? tmp : "/tmp");
    size_t len = 0;
    uint8_t *pb = net(&len);
    test_text();
    test_matching(pb, len, dir);
    test_micro(pb, len, dir);
    test_split(pb, len, dir);
#ifdef FROST_HAVE_ONEDNN
    test_forced(pb, len, dir);
    test_cli(pb, len, dir);
#endif
    free(pb);
    return tu_done();
}
