/* frost tune: measures, inside the running network on this machine, each
 * convolution's implementations (the backend's own, frost's indirect GEMM,
 * the Winograd kernels that apply) and writes a tuning record with the
 * fastest per layer, which every later compile of the model on this CPU with
 * this thread count picks up (frost_options.tune_file).
 *
 * One compile per candidate, each forcing that implementation on every
 * layer it applies to (a record of its own); the candidates run in turn,
 * round after round, with per-layer profiling, so noise hits them alike;
 * each layer keeps the candidate with the lowest median time per image
 * (summed over the batch sizes), if it beats the built-in rules' choice by
 * 3 %; the assembled record is then timed against the rules, whole, and
 * kept only if it is faster. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/cli.h"
#include "common/engine_flags.h"
#include "common/model_source.h"
#include "frost.h"

#define TN_CANDS 5 /* the rules, then each pick forced */
#define TN_MAX_BATCHES 8
#define TN_MAX_ROUNDS 64

static const char *const CAND_NAMES[TN_CANDS] = {"rules", "backend", "igemm", "winograd", "winograd-large"};

typedef struct {
    const char *model, *out, *batches_arg;
    int batches[TN_MAX_BATCHES], n_batches;
    double budget_s;
    int rounds, quiet;
    engine_flags engine;
    model_source source;
} tn_flags;

typedef struct {
    char *name;
    int64_t flops;
    const char *kernel[TN_CANDS];                   /* what ran, per candidate */
    double ms[TN_CANDS][TN_MAX_BATCHES][TN_MAX_ROUNDS]; /* per run */
    double best[TN_CANDS];                            /* median ms per image, summed over batches; <0 n/a */
    int pick;                                         /* the candidate kept */
} tn_layer;

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static void usage(FILE *o) {
    fprintf(o, "usage: frost tune MODEL [options]\n"
               "\n"
               "Measures each convolution's implementations inside the running network on this\n"
               "machine and writes a tuning record of the fastest per layer; classify, run,\n"
               "inspect, bench and serve then use it for this model, CPU and thread count.\n"
               "\n"
               "  --batch=B[,B...]   batch sizes to measure (default 1,16); a layer's time is\n"
               "                     summed per image over them\n"
               "  --threads=N        compute threads (default: all cores): the record is for N\n"
               "  --budget=SECONDS   time for the measuring rounds (default 60; at least 3 rounds)\n"
               "  --rounds=R         at most R rounds (default 9)\n"
               "  -o FILE            where to write the record (default: the per-user cache,\n"
               "                     ~/.cache/frost/DIGEST-Nt.tune, where compiles look)\n"
               "  --quiet            no table\n"
               "%s",
            model_source_help);
}

static int parse(tn_flags *f, int argc, char **argv) {
    memset(f, 0, sizeof *f);
    engine_flags_init(&f->engine);
    f->budget_s = 60;
    f->rounds = 9;
    f->batches_arg = "1,16";
    for (int i = 1; i < argc;) { /* each parser advances i past what it takes */
        const char *v = NULL;
        int r, budget = 0;
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) return usage(stdout), -1;
        if ((r = cli_flag(argc, argv, &i, "batch", &v)) != 0) {
            if (r < 0) return 2;
            f->batches_arg = v;
        } else if ((r = cli_flag(argc, argv, &i, "budget", &v)) != 0) {
            if (r < 0 || cli_parse_int("budget", v, 1, 86400, &budget)) return 2;
            f->budget_s = budget;
        } else if ((r = cli_flag(argc, argv, &i, "rounds", &v)) != 0) {
            if (r < 0 || cli_parse_int("rounds", v, 3, TN_MAX_ROUNDS, &f->rounds)) return 2;
        } else if ((r = cli_flag(argc, argv, &i, "o", &v)) != 0 || (r = cli_flag(argc, argv, &i, "out", &v)) != 0) {
            if (r < 0) return 2;
            f->out = v;
        } else if ((r = cli_switch(argc, argv, &i, "quiet", &f->quiet)) != 0) {
            if (r < 0) return 2;
        } else if ((r = engine_flags_parse(&f->engine, EF_THREADS, argc, argv, &i)) != 0 ||
                   (r = model_source_parse(&f->source, argc, argv, &i)) != 0) {
            if (r < 0) return 2;
        } else if (argv[i][0] == '-' && argv[i][1]) {
            fprintf(stderr, "frost tune: unknown option %s (see --help)\n", argv[i]);
            return 2;
        } else if (!f->model) {
            f->model = argv[i++];
        } else {
            fprintf(stderr, "frost tune: one model at a time (%s, %s)\n", f->model, argv[i]);
            return 2;
        }
    }
    if (!f->model) return usage(stderr), 2;
    for (const char *p = f->batches_arg; *p;) {
        char *e;
        long b = strtol(p, &e, 10);
        if (e == p || b < 1 || b > 4096 || f->n_batches == TN_MAX_BATCHES || (*e && *e != ',')) {
            fprintf(stderr, "frost tune: --batch: '%s' is not a list of batch sizes (1 to 4096, at most %d)\n",
                    f->batches_arg, TN_MAX_BATCHES);
            return 2;
        }
        f->batches[f->n_batches++] = (int)b;
        p = *e ? e + 1 : e;
    }
    return 0;
}

typedef struct {
    frost_model *m;
    frost_context *ctx;
    float **in, **out;
    int nin, nout;
} tn_cand;

static int max_batch(const tn_flags *f) {
    int b = 1;
    for (int k = 0; k < f->n_batches; k++)
        if (f->batches[k] > b) b = f->batches[k];
    return b;
}

/* Compiles candidate c with the record at tune_file ("" for the rules) and
 * makes its context and random inputs.  -1 with a message printed. */
static int cand_open(const tn_flags *f, const frost_graph *g, const frost_image_spec *spec, const char *tune_file,
                     tn_cand *c) {
    frost_options o;
    frost_options_init(&o);
    engine_flags_apply(&f->engine, &o);
    o.max_batch = max_batch(f);
    o.profiling = 1;
    o.tune_file = tune_file;
    if (spec->input_name) o.inputs = &spec->input_name, o.num_inputs = 1;
    if (spec->input_name && spec->needs_shape) o.input_shapes = &spec->shape;
    if (spec->output_name) o.outputs = &spec->output_name, o.num_outputs = 1;
    char *err = NULL;
    frost_status st = frost_model_compile(g, &o, &c->m, &err);
    if (st == FROST_OK) st = frost_context_create(c->m, &c->ctx, &err);
    if (st != FROST_OK) {
        fprintf(stderr, "frost tune: %s: %s\n", f->model, err ? err : frost_strerror(st));
        frost_free(err);
        return -1;
    }
    c->nin = frost_model_input_count(c->m);
    c->nout = frost_model_output_count(c->m);
    c->in = calloc((size_t)c->nin + 1, sizeof *c->in);
    c->out = calloc((size_t)c->nout + 1, sizeof *c->out);
    if (!c->in || !c->out) return -1;
    unsigned x = 2463534242u;
    for (int i = 0; i < c->nin; i++) {
        if (frost_model_input_dtype(c->m, i) != FROST_DTYPE_FLOAT) {
            fprintf(stderr, "frost tune: %s: input %s is not float32 (tune feeds random float tensors)\n", f->model,
                    frost_model_input_name(c->m, i));
            return -1;
        }
        size_t n = frost_model_input_size(c->m, i) * (size_t)o.max_batch;
        if (!(c->in[i] = malloc(n * sizeof(float)))) return -1;
        for (size_t k = 0; k < n; k++) x ^= x << 13, x ^= x >> 17, x ^= x << 5, c->in[i][k] = (float)(x >> 8) * 0x1p-24f;
    }
    for (int j = 0; j < c->nout; j++)
        if (!(c->out[j] = malloc(frost_model_output_size(c->m, j) * (size_t)o.max_batch * sizeof(float)))) return -1;
    return 0;
}

static void cand_close(tn_cand *c) {
    for (int i = 0; c->in && i < c->nin; i++) free(c->in[i]);
    for (int j = 0; c->out && j < c->nout; j++) free(c->out[j]);
    free(c->in);
    free(c->out);
    frost_context_free(c->ctx);
    frost_model_free(c->m);
    memset(c, 0, sizeof *c);
}

/* One timed run at batch b; the per-op profile of it in *prof. */
static int cand_run(tn_cand *c, int b, const frost_op_profile **prof, int *n, double *ms) {
    frost_context_profile_reset(c->ctx);
    double t0 = now_s();
    frost_status st = frost_context_run(c->ctx, b, (const float *const *)c->in, c->out);
    *ms = (now_s() - t0) * 1e3;
    if (st != FROST_OK) {
        fprintf(stderr, "frost tune: run failed: %s\n", frost_context_error(c->ctx));
        return -1;
    }
    return frost_context_profile(c->ctx, prof, n) == FROST_OK ? 0 : -1;
}

/* Whether the kernel a candidate's layer ran is the one it forced. */
static int ran_as(int cand, const char *kernel) {
    int own = !strncmp(kernel, "frost:", 6);
    switch (cand) {
    case 1: return !own;
    case 2: return own && strstr(kernel, "igemm") != NULL;
    case 3: return own && (strstr(kernel, "_f2x2_") || strstr(kernel, "_f2_")); /* F(2x2, 3x3), F(2, 5), F(2, 7) */
    case 4: return own && (strstr(kernel, "_f4x4_") || strstr(kernel, "_f4_"));  /* F(4x4, 3x3 / 5x5), F(4, 3) */
    default: return 1;
    }
}

/* The pick that names what the rules ran for a layer. */
static int pick_of_kernel(const char *kernel) {
    for (int c = 2; c <= 4; c++)
        if (ran_as(c, kernel)) return c;
    return 1;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, int n) {
    if (n <= 0) return -1;
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* The record picking cand on every layer (cand 0: the given picks), written to path. */
static int write_record(const frost_model *m, tn_layer *L, int nl, int cand, const char *batches, const char *path) {
    const char **names = calloc((size_t)nl + 1, sizeof *names), **picks = calloc((size_t)nl + 1, sizeof *picks);
    char *text = NULL, *err = NULL;
    int rc = -1;
    if (names && picks) {
        for (int i = 0; i < nl; i++) names[i] = L[i].name, picks[i] = CAND_NAMES[cand ? cand : L[i].pick];
        if (frost_model_tune_record(m, names, picks, nl, batches, &text, &err) == FROST_OK) {
            FILE *fp = fopen(path, "w");
            if (fp && fputs(text, fp) >= 0 && fclose(fp) == 0) rc = 0;
            else fprintf(stderr, "frost tune: cannot write %s: %s\n", path, strerror(errno));
        } else {
            fprintf(stderr, "frost tune: %s\n", err ? err : "cannot make the record");
        }
    }
    free(names), free(picks), frost_free(text), frost_free(err);
    return rc;
}

/* mkdir -p of the directory of path. */
static void make_parent(const char *path) {
    char *d = strdup(path);
    for (char *p = d ? d + 1 : NULL; p && *p; p++)
        if (*p == '/') *p = 0, mkdir(d, 0755), *p = '/';
    free(d);
}

/* Times each candidate, round after round, within the budget: L's ms. */
static int measure(const tn_flags *f, tn_cand *cands, int ncand, tn_layer *L, int nl, int *rounds_out) {
    double t_end = now_s() + f->budget_s;
    int r = 0;
    for (; r < f->rounds && (r < 3 || now_s() < t_end); r++) {
        for (int c = 0; c < ncand; c++) {
            if (!cands[c].m) continue;
            for (int k = 0; k < f->n_batches; k++) {
                const frost_op_profile *prof;
                int n;
                double ms;
                if (cand_run(&cands[c], f->batches[k], &prof, &n, &ms)) return -1;
                for (int i = 0; i < nl; i++)
                    for (int e = 0; e < n; e++)
                        if (prof[e].name && !strcmp(prof[e].name, L[i].name) && prof[e].runs > 0) {
                            L[i].ms[c][k][r] = prof[e].total_ms / (double)prof[e].runs;
                            L[i].kernel[c] = prof[e].kernel;
                        }
            }
        }
    }
    *rounds_out = r;
    return 0;
}

/* Whole-network time per image of a candidate (median over rounds, summed over batches). */
static double whole(const tn_flags *f, tn_cand *c, int rounds) {
    double sum = 0, v[TN_MAX_ROUNDS];
    for (int k = 0; k < f->n_batches; k++) {
        for (int r = 0; r < rounds; r++) {
            const frost_op_profile *prof;
            int n;
            if (cand_run(c, f->batches[k], &prof, &n, &v[r])) return -1;
        }
        sum += median(v, rounds) / f->batches[k];
    }
    return sum;
}

int frost_cmd_tune(int argc, char **argv) {
    tn_flags f;
    int rc = parse(&f, argc, argv);
    if (rc) return rc < 0 ? 0 : rc;
    frost_graph *g = NULL;
    char *err = NULL;
    frost_image_spec spec;
    if (model_source_load(&f.source, f.model, &g, &err) != FROST_OK ||
        frost_graph_image_spec(g, NULL, 0, 0, &spec, &err) != FROST_OK) {
        fprintf(stderr, "frost tune: %s\n", err ? err : "cannot load the model");
        frost_free(err);
        frost_graph_free(g);
        return 1;
    }
    tn_cand cands[TN_CANDS + 1];
    memset(cands, 0, sizeof cands);
    tn_layer *L = NULL;
    int nl = 0;
    char tmp[] = "/tmp/frost-tune-XXXXXX";
    int fd = mkstemp(tmp);
    rc = 1;
    if (fd < 0 || cand_open(&f, g, &spec, "", &cands[0])) goto done;
    /* the layers: the convolutions of the rules' plan */
    const frost_op_profile *prof;
    int n;
    double ms;
    if (cand_run(&cands[0], 1, &prof, &n, &ms)) goto done;
    L = calloc((size_t)n + 1, sizeof *L);
    if (!L) goto done;
    for (int e = 0; e < n; e++)
        if (prof[e].name && prof[e].op && !strncmp(prof[e].op, "Conv2D", 6) && (L[nl].name = strdup(prof[e].name)))
            L[nl++].flops = prof[e].flops;
    if (!nl) {
        printf("%s: no convolution to tune; no record written\n", f.model);
        rc = 0;
        goto done;
    }
    for (int c = 1; c < TN_CANDS; c++) {
        if (write_record(cands[0].m, L, nl, c, f.batches_arg, tmp) || cand_open(&f, g, &spec, tmp, &cands[c])) goto done;
    }
    int rounds = 0;
    if (measure(&f, cands, TN_CANDS, L, nl, &rounds)) goto done;
    /* per layer: the fastest candidate that ran as forced, if it beats the rules by 3 % */
    for (int i = 0; i < nl; i++) {
        for (int c = 0; c < TN_CANDS; c++) {
            L[i].best[c] = -1;
            if (!L[i].kernel[c] || !ran_as(c, L[i].kernel[c])) continue;
            double sum = 0;
            for (int k = 0; k < f.n_batches; k++) sum += median(L[i].ms[c][k], rounds) / f.batches[k];
            L[i].best[c] = sum;
        }
        L[i].pick = L[i].kernel[0] ? pick_of_kernel(L[i].kernel[0]) : 1;
        double best = L[i].best[0];
        for (int c = 1; c < TN_CANDS; c++)
            if (L[i].best[c] >= 0 && best >= 0 && L[i].best[c] < 0.97 * best) best = L[i].best[c], L[i].pick = c;
    }
    /* the assembled record against the rules, whole */
    if (write_record(cands[0].m, L, nl, 0, f.batches_arg, tmp) || cand_open(&f, g, &spec, tmp, &cands[TN_CANDS]))
        goto done;
    double t_rules = 0, t_tuned = 0;
    for (int rep = 0; rep < 3; rep++) { /* interleaved */
        double a = whole(&f, &cands[0], rounds), b = whole(&f, &cands[TN_CANDS], rounds);
        if (a < 0 || b < 0) goto done;
        t_rules += a, t_tuned += b;
    }
    int keep = t_tuned < t_rules;
    if (!keep)
        for (int i = 0; i < nl; i++) L[i].pick = L[i].kernel[0] ? pick_of_kernel(L[i].kernel[0]) : 1;
    if (!f.quiet) {
        printf("frost tune: %s, batch %s, %d rounds (ms per image, median; -: does not apply)\n", f.model,
               f.batches_arg, rounds);
        printf("%-44s %7s %8s %8s %8s %8s %8s  %-15s %6s\n", "layer", "GFLOP", CAND_NAMES[0], CAND_NAMES[1],
               CAND_NAMES[2], CAND_NAMES[3], "wino-lg", "choice", "gain");
        for (int i = 0; i < nl; i++) {
            printf("%-44.44s %7.3f", L[i].name, (double)L[i].flops * 1e-9);
            for (int c = 0; c < TN_CANDS; c++)
                if (L[i].best[c] >= 0) printf(" %8.3f", L[i].best[c]);
                else printf(" %8s", "-");
            double g0 = L[i].best[0], g1 = L[i].best[L[i].pick];
            printf("  %-15s %5.1f%%\n", CAND_NAMES[L[i].pick], g0 > 0 && g1 > 0 ? 100.0 * (g0 / g1 - 1) : 0.0);
        }
        printf("whole network: rules %.3f ms/image, tuned %.3f ms/image (%.3fx)%s\n", t_rules / 3, t_tuned / 3,
               t_tuned > 0 ? t_rules / t_tuned : 0, keep ? "" : ": no gain, the record keeps the rules' choices");
    }
    char *path = NULL;
    if (f.out) path = strdup(f.out);
    else if (frost_model_tune_path(cands[0].m, &path) != FROST_OK) {
        fprintf(stderr, "frost tune: no cache directory (neither XDG_CACHE_HOME nor HOME is set): give -o FILE\n");
        goto done;
    }
    make_parent(path);
    if (path && write_record(cands[0].m, L, nl, 0, f.batches_arg, path) == 0) {
        printf("wrote %s\n", path);
        rc = 0;
    }
    frost_free(path);
done:
    for (int c = 0; c <= TN_CANDS; c++) cand_close(&cands[c]);
    for (int i = 0; L && i < nl; i++) free(L[i].name);
    free(L);
    if (fd >= 0) close(fd), unlink(tmp);
    frost_graph_free(g);
    return rc;
}
