/* frost tune: frost_tune() on a model (its input and output chosen as
 * `frost classify` chooses them), the table of what it measured, and the
 * tuning record written where later compiles look for it. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cli.h"
#include "common/engine_flags.h"
#include "common/model_source.h"
#include "frost.h"

#define TN_MAX_BATCHES 16

typedef struct {
    const char *model, *out, *batches_arg;
    int batches[TN_MAX_BATCHES], n_batches;
    int budget_s, rounds, quiet;
    engine_flags engine;
    model_source source;
} tn_flags;

static void usage(FILE *o) {
    fprintf(o, "usage: frost tune MODEL [options]\n"
               "\n"
               "Measures each convolution's implementations (oneDNN's own, frost's indirect GEMM,\n"
               "the Winograd kernels that apply) inside the running network on this machine and\n"
               "writes a tuning record of the fastest per layer, and of the fastest pass size\n"
               "(micro-batch) and thread split (contexts x threads each, every context busy:\n"
               "frost serve's batch threads) at the largest batch; classify, run, inspect,\n"
               "bench and serve then use it for this model, CPU and thread count.  Run it on an\n"
               "otherwise idle machine.\n"
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
        int r;
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) return usage(stdout), -1;
        if ((r = cli_flag(argc, argv, &i, "batch", &v)) != 0) {
            if (r < 0) return 2;
            f->batches_arg = v;
        } else if ((r = cli_flag(argc, argv, &i, "budget", &v)) != 0) {
            if (r < 0 || cli_parse_int("budget", v, 1, 86400, &f->budget_s)) return 2;
        } else if ((r = cli_flag(argc, argv, &i, "rounds", &v)) != 0) {
            if (r < 0 || cli_parse_int("rounds", v, 3, 64, &f->rounds)) return 2;
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

static void print_table(const tn_flags *f, const frost_tune_result *r) {
    printf("frost tune: %s, batch %s, %d rounds (ms per image, median; -: does not apply)\n", f->model, f->batches_arg,
           r->rounds);
    if (r->num_layers) printf("%-44s %7s", "layer", "GFLOP");
    static const char *const head[FROST_TUNE_CANDIDATES] = {"rules", "backend", "igemm", "winograd", "wino-lg"};
    for (int c = 0; r->num_layers && c < FROST_TUNE_CANDIDATES; c++) printf(" %8s", head[c]);
    if (r->num_layers) printf("  %-15s %6s\n", "choice", "gain");
    for (int i = 0; i < r->num_layers; i++) {
        const frost_tune_layer *l = &r->layers[i];
        printf("%-44.44s %7.3f", l->name, (double)l->flops * 1e-9);
        for (int c = 0; c < FROST_TUNE_CANDIDATES; c++)
            if (l->ms[c] >= 0) printf(" %8.3f", l->ms[c]);
            else printf(" %8s", "-");
        double a = l->ms[0], b = l->ms[l->choice]; /* the rules' kernel kept: no gain */
        printf("  %-15s %5.1f%%\n", frost_tune_candidate_name(l->choice),
               l->choice != l->rules && a > 0 && b > 0 ? 100.0 * (a / b - 1) : 0.0);
    }
    if (r->num_layers)
        printf("whole network: rules %.3f ms/image, tuned %.3f ms/image (%.3fx)%s\n", r->rules_ms, r->tuned_ms,
               r->tuned_ms > 0 ? r->rules_ms / r->tuned_ms : 0,
               r->kept ? "" : ": no gain, the record keeps the rules' choices");
    int maxb = 1;
    for (int k = 0; k < f->n_batches; k++) maxb = f->batches[k] > maxb ? f->batches[k] : maxb;
    if (r->num_micro) {
        printf("items per pass at batch %d, ms per image (median):", maxb);
        for (int k = 0; k < r->num_micro; k++) {
            char v[16] = "all";
            if (r->micro_values[k] > 0) snprintf(v, sizeof v, "%d", r->micro_values[k]);
            printf(" %s%s %.3f", v, r->micro_values[k] == r->micro_rule ? " (rule)" : "", r->micro_ms[k]);
        }
        if (r->micro_batch > 0) printf("; recorded: %d\n", r->micro_batch);
        else if (r->micro_batch < 0) printf("; recorded: all in one pass\n");
        else printf("; the rule kept\n");
    }
    if (r->num_splits) {
        printf("contexts at once at batch %d (the threads split evenly), ms per image (median):", maxb);
        for (int k = 0; k < r->num_splits; k++) printf("%s %d %.3f", k ? "," : "", r->split_contexts[k], r->split_ms[k]);
        if (r->thread_split) printf("; recorded: %d contexts\n", r->thread_split);
        else printf("; one context kept\n");
    }
}

int frost_cmd_tune(int argc, char **argv) {
    tn_flags f;
    int rc = parse(&f, argc, argv);
    if (rc) return rc < 0 ? 0 : rc;
    frost_graph *g = NULL;
    frost_tune_result *res = NULL;
    char *err = NULL;
    frost_image_spec spec;
    frost_status st = model_source_load(&f.source, f.model, &g, &err);
    if (st == FROST_OK) st = frost_graph_image_spec(g, NULL, 0, 0, &spec, &err);
    if (st == FROST_OK) {
        frost_options o;
        frost_options_init(&o);
        engine_flags_apply(&f.engine, &o);
        if (spec.input_name) o.inputs = &spec.input_name, o.num_inputs = 1;
        if (spec.input_name && spec.needs_shape) o.input_shapes = &spec.shape;
        if (spec.output_name) o.outputs = &spec.output_name, o.num_outputs = 1;
        st = frost_tune(g, &o, f.batches, f.n_batches, f.budget_s, f.rounds, &res, &err);
    }
    frost_graph_free(g);
    if (st != FROST_OK) {
        fprintf(stderr, "frost tune: %s: %s\n", f.model, err ? err : frost_strerror(st));
        frost_free(err);
        return 1;
    }
    if (!res->num_layers) printf("%s: no convolution to tune\n", f.model);
    if (!f.quiet && (res->num_layers || res->num_micro || res->num_splits)) print_table(&f, res);
    const char *path = f.out ? f.out : res->cache_path;
    rc = 1;
    if (!path) {
        fprintf(stderr, "frost tune: no cache directory (neither XDG_CACHE_HOME nor HOME is set): give -o FILE\n");
    } else {
        cli_make_parent_dirs(path);
        FILE *fp = fopen(path, "w");
        if (fp && fputs(res->record, fp) >= 0 && fclose(fp) == 0) {
            printf("wrote %s\n", path);
            rc = 0;
        } else {
            fprintf(stderr, "frost tune: cannot write %s: %s\n", path, strerror(errno));
            if (fp) fclose(fp);
        }
    }
    frost_tune_result_free(res);
    return rc;
}
