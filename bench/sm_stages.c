/* Where a SavedModel's load time goes, next to the same network frozen.
 *
 *     build/sm_stages SAVEDMODEL_DIR FROZEN.pb [ROUNDS]    medians per stage, interleaved
 *     build/sm_stages --loop PATH N                         N loads of PATH (for perf record)
 *     build/sm_stages --graph-loop PATH N                   N graph loads of PATH (no compile)
 *
 * Stages of a SavedModel load: open (saved_model.pb parsed, the bundle's
 * index read and its shard mapped), graph (the signature frozen and imported
 * as a frost_graph), compile, free; of a frozen .pb: load, compile, free.
 * The freezing and the import are also timed apart (freeze alone, and the
 * import of its bytes), after the load of each round. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "frost.h"
#include "savedmodel/savedmodel.h"

static double now_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec * 1e-6;
}

static long minflt(void) {
    struct rusage u;
    getrusage(RUSAGE_SELF, &u);
    return u.ru_minflt;
}

static int cmp_d(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n) {
    qsort(v, (size_t)n, sizeof *v, cmp_d);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

static void check(frost_status st, char *err, const char *what) {
    if (st == FROST_OK) return;
    fprintf(stderr, "sm_stages: %s: %s\n", what, err ? err : frost_strerror(st));
    exit(1);
}

enum { PB_LOAD, PB_COMPILE, PB_FREE, SM_OPEN, SM_GRAPH, SM_COMPILE, SM_FREE, SM_FREEZE, SM_IMPORT, N_STAGES };
static const char *stage_name[N_STAGES] = {"pb: load",     "pb: compile", "pb: free",
                                           "sm: open",     "sm: graph",   "sm: compile",
                                           "sm: free",     "(sm: freeze alone)", "(sm: import of its bytes)"};

/* Time and minor faults of one round's stages: lap() closes a stage. */
static double lap_t, round_t[N_STAGES], round_f[N_STAGES];
static long lap_f;

static void lap_start(void) {
    lap_f = minflt();
    lap_t = now_ms();
}

static void lap(int stage) {
    double t = now_ms();
    long f = minflt();
    round_t[stage] = t - lap_t;
    round_f[stage] = (double)(f - lap_f);
    lap_start();
}

/* The two stages both loads end with: compile g, then free it and the model. */
static void compile_and_free(frost_graph *g, int compile_stage, int free_stage) {
    char *err = NULL;
    frost_model *m;
    check(frost_model_compile(g, NULL, &m, &err), err, "compile");
    lap(compile_stage);
    frost_graph_free(g);
    frost_model_free(m);
    lap(free_stage);
}

static void load_pb(const char *pb) {
    char *err = NULL;
    frost_graph *g;
    lap_start();
    check(frost_graph_load(pb, &g, &err), err, pb);
    lap(PB_LOAD);
    compile_and_free(g, PB_COMPILE, PB_FREE);
}

static void load_sm(const char *dir) {
    char *err = NULL;
    frost_savedmodel *sm;
    frost_graph *g;
    lap_start();
    check(frost_savedmodel_open(dir, &sm, &err), err, dir);
    lap(SM_OPEN);
    check(frost_savedmodel_graph(sm, -1, -1, &g, &err), err, "graph");
    frost_savedmodel_free(sm);
    lap(SM_GRAPH);
    compile_and_free(g, SM_COMPILE, SM_FREE);
}

/* the freezing and the import of its bytes, apart */
static void freeze_apart(const char *dir) {
    char *err = NULL;
    frost_savedmodel *sm;
    check(frost_savedmodel_open(dir, &sm, &err), err, dir);
    int mg = fr_sm_default_meta_graph(sm, &err), sg = mg >= 0 ? fr_sm_default_signature(sm, mg, &err) : -1;
    if (sg < 0) check(FROST_E_NOT_FOUND, err, "signature");
    fr_sm_frozen f;
    frost_graph *g;
    lap_start();
    check(fr_sm_freeze(sm, mg, sg, FR_SM_FREEZE_EXTERNAL, &f, &err), err, "freeze");
    lap(SM_FREEZE);
    check(frost_graph_load_memory(f.data, f.size, 0, &g, &err), err, "import");
    lap(SM_IMPORT);
    frost_graph_free(g);
    fr_sm_frozen_free(&f);
    frost_savedmodel_free(sm);
}

int main(int argc, char **argv) {
    char *err = NULL;
    int loop = argc == 4 ? !strcmp(argv[1], "--loop") ? 1 : !strcmp(argv[1], "--graph-loop") ? 2 : 0 : 0;
    if (loop) {
        for (int i = 0, n = atoi(argv[3]); i < n; i++) {
            frost_graph *g;
            check(frost_graph_load(argv[2], &g, &err), err, argv[2]);
            frost_model *m = NULL;
            if (loop == 1) check(frost_model_compile(g, NULL, &m, &err), err, "compile");
            frost_graph_free(g);
            frost_model_free(m);
        }
        return 0;
    }
    if (argc < 3) {
        fprintf(stderr, "usage: sm_stages SAVEDMODEL_DIR FROZEN.pb [ROUNDS] | --loop PATH N | --graph-loop PATH N\n");
        return 2;
    }
    int rounds = argc > 3 ? atoi(argv[3]) : 21;
    if (rounds < 1) rounds = 1;
    double *t[N_STAGES], *flt[N_STAGES];
    for (int s = 0; s < N_STAGES; s++) {
        t[s] = calloc((size_t)rounds, sizeof(double));
        flt[s] = calloc((size_t)rounds, sizeof(double));
    }
    for (int r = -1; r < rounds; r++) { /* round -1 warms up; the order alternates */
        if (r % 2) load_pb(argv[2]), load_sm(argv[1]);
        else load_sm(argv[1]), load_pb(argv[2]);
        freeze_apart(argv[1]);
        for (int s = 0; r >= 0 && s < N_STAGES; s++) t[s][r] = round_t[s], flt[s][r] = round_f[s];
    }
    double tot_pb = 0, tot_sm = 0;
    printf("%-28s %8s %8s\n", "stage (median of rounds)", "ms", "faults");
    for (int s = 0; s < N_STAGES; s++) {
        double m = median(t[s], rounds);
        if (s <= PB_FREE) tot_pb += m;
        else if (s <= SM_FREE) tot_sm += m;
        printf("%-28s %8.3f %8.0f\n", stage_name[s], m, median(flt[s], rounds));
        free(t[s]);
        free(flt[s]);
    }
    printf("%-28s %8.3f\n%-28s %8.3f  (%.2fx)\n", "pb: sum", tot_pb, "sm: sum", tot_sm, tot_sm / tot_pb);
    return 0;
}
