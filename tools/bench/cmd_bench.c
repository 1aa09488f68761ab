/* frost bench: the three ways of classifying many images, measured in one run.
 *
 *   reload   load + compile + run + free for every image (what a loop around
 *            TensorFlow's label_image does: the graph is rebuilt per image)
 *   cached   load and compile once, one context, run one image per call
 *   batched  load and compile once, one context, run B images per call
 *
 * Every iteration is timed on its own and followed by a reading of the
 * resident set size; the summary, the CSV and the SVG plot come from those
 * arrays, which are allocated and touched before the first timed iteration. */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_rss.h"
#include "bench_stats.h"
#include "bench_svg.h"
#include "common/cli.h"
#include "common/engine_flags.h"
#include "frost.h"

enum { PAT_RELOAD, PAT_CACHED, PAT_BATCHED, PAT_COUNT };
static const char *const pattern_names[PAT_COUNT] = {"reload", "cached", "batched"};
static const char *const pattern_colors[PAT_COUNT] = {"#d62728", "#1f77b4", "#2ca02c"};

typedef struct bench_cfg {
    const char *model_path;
    int enabled[PAT_COUNT];
    int iterations, reload_iterations, batch, warmup;
    const char *image_path, *csv_path, *plot_path;
    const char *input_layer, *output_layer;
    int input_width, input_height;
    float input_mean, input_std;
    frost_resize resize;
    engine_flags engine; /* --threads, --backend, --precision, --winograd, --no-winograd, --micro-batch */
} bench_cfg;

/* Input and output buffers, sized for `batch` items, shared by all patterns. */
typedef struct bench_io {
    int num_inputs, num_outputs;
    float **in, **out;
    size_t *in_size, *out_size; /* elements of one item */
} bench_io;

typedef struct bench_run {
    int ran, n, images; /* iterations recorded, images per iteration */
    double *lat_ms;     /* n: time of each iteration */
    double *per_image;  /* n: lat_ms / images (plotted) */
    double *cpu_ms;     /* n: process CPU time (all threads) of each iteration */
    long *rss_kb;       /* n: RSS after each iteration */
    double setup_ms;    /* load + compile + context (cached, batched) */
    double cpu_p50;     /* median of cpu_ms */
    float *first_out;   /* output 0, item 0, of the last run */
    bench_summary s;
} bench_run;

static double clock_ms(clockid_t clock) {
    struct timespec ts;
    clock_gettime(clock, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static double now_ms(void) { return clock_ms(CLOCK_MONOTONIC); }

/* CPU time of the whole process (every thread): on a busy machine the wall
 * time of an iteration minus its CPU time (one thread) is time spent waiting. */
static double cpu_ms(void) { return clock_ms(CLOCK_PROCESS_CPUTIME_ID); }

static void usage(FILE *out) {
    fprintf(out,
            "usage: frost bench MODEL.pb [options]\n"
            "\n"
            "Measure the three ways of classifying many images with one model:\n"
            "  reload   load + compile + run for every image (a label_image loop)\n"
            "  cached   load once, one context, one image per run\n"
            "  batched  load once, one context, B images per run\n"
            "and print per pattern: p50/p90/p99 and mean time per iteration, time per\n"
            "image, images/s, the slope of the time over the iterations (ms per 1000\n"
            "iterations), the drift of the p50 (first vs last window), the resident\n"
            "memory and its growth from iteration 10 to the end; then the per-image time\n"
            "ratios reload/cached and cached/batched.\n"
            "\n"
            "options:\n"
            "  --pattern=P            reload, cached, batched, all (default) or a comma list\n"
            "  --iterations=N         timed iterations per pattern (default 100)\n"
            "  --reload_iterations=N  timed iterations of reload (default: min(N, 50))\n"
            "  --warmup=W             untimed iterations before each pattern (default 3)\n"
            "  --batch=B              images per run of the batched pattern (default 8)\n"
            "  --image=FILE           decode and preprocess FILE once and use it as every\n"
            "                         image (default: a deterministic synthetic input)\n"
            "  --input_mean=M --input_std=S   preprocessing of --image, (x - M) / S\n"
            "                         (default 0 and 255, as label_image)\n"
            "  --resize=tf1|tf2|align_corners  bilinear resize of --image (default tf1)\n"
            "  --input_width=W --input_height=H  input size where the model leaves it open\n"
            "  --input_layer=NAME --output_layer=NAME  (default: detected)\n"
            "  --threads=T            compute threads (default 0: all cores)\n"
            "  --wait_policy=P        idle threads: auto (a brief spin unless OMP_WAIT_POLICY /\n"
            "                         GOMP_SPINCOUNT is set), passive (sleep), active (spin)\n"
            "  --backend=auto|reference|onednn\n"
            "  --winograd             larger Winograd tiles: 3x3, 5x5, 1x3, 3x1 layers (~1e-5 difference)\n"
            "  --no-winograd          every convolution direct (3x3, 1x7, 7x1: Winograd by default)\n"
            "  --tune_file=F, --no_tune  a tuning record (frost tune) / none (default: the\n"
            "                         per-user cache's for this model, CPU and --threads)\n"
            "  --verbose              say which tuning record was used, or why not\n"
            "  --precision=fp32|bf16|int8  (bf16 where the CPU has AVX512-BF16; int8: graphs with FakeQuant)\n"
            "  --calibrate=DIR        with --precision=int8: quantize a plain graph at load time\n"
            "                         ('frost quantize' in memory; images: mean 0, std 255)\n"
            "  --micro-batch=N        items per pass of the network (default 0: chosen for the\n"
            "                         model; -1: whole batches)\n"
            "  --csv=FILE             every iteration: pattern,iteration,latency_ms,rss_kb,images,cpu_ms\n"
            "  --plot=FILE.svg        time per image over the iterations, one line per pattern\n"
            "                         (log scale when the patterns differ by more than 20x)\n"
            "\n"
            "exit status: 0 ok, 1 the model or a run failed, 2 bad arguments\n");
}

/* ------------------------------------------------------------------------ */
/* Arguments                                                                  */
/* ------------------------------------------------------------------------ */

static int parse_patterns(const char *s, int enabled[PAT_COUNT]) {
    memset(enabled, 0, PAT_COUNT * sizeof *enabled);
    const char *p = s;
    while (*p) {
        size_t len = strcspn(p, ",");
        int found = 0;
        if (len == 3 && !strncmp(p, "all", 3)) {
            for (int k = 0; k < PAT_COUNT; k++) enabled[k] = 1;
            found = 1;
        }
        for (int k = 0; k < PAT_COUNT; k++)
            if (len == strlen(pattern_names[k]) && !strncmp(p, pattern_names[k], len)) enabled[k] = found = 1;
        if (!found) {
            fprintf(stderr, "frost bench: --pattern: unknown pattern '%.*s' (reload, cached, batched, all)\n",
                    (int)len, p);
            return -1;
        }
        p += len;
        if (*p == ',') p++;
    }
    if (!enabled[0] && !enabled[1] && !enabled[2]) {
        fprintf(stderr, "frost bench: --pattern: no pattern given\n");
        return -1;
    }
    return 0;
}

/* The flags that take a string: --image, --csv, --plot, --input_layer,
 * --output_layer.  cli_flag's return values. */
static int string_flag(int argc, char **argv, int *i, bench_cfg *c) {
    const struct {
        const char *name;
        const char **dst;
    } flags[] = {{"image", &c->image_path},
                 {"csv", &c->csv_path},
                 {"plot", &c->plot_path},
                 {"input_layer", &c->input_layer},
                 {"output_layer", &c->output_layer}};
    for (size_t k = 0; k < sizeof flags / sizeof *flags; k++) {
        int r = cli_flag(argc, argv, i, flags[k].name, flags[k].dst);
        if (r) return r;
    }
    return 0;
}

/* Returns 0 to run, 1 for --help, 2 on a usage error (message printed). */
static int parse_args(int argc, char **argv, bench_cfg *c) {
    memset(c, 0, sizeof *c);
    for (int k = 0; k < PAT_COUNT; k++) c->enabled[k] = 1;
    c->iterations = 100;
    c->reload_iterations = -1;
    c->batch = 8;
    c->warmup = 3;
    c->input_mean = 0.0f;
    c->input_std = 255.0f;
    c->resize = FROST_RESIZE_TF1;
    engine_flags_init(&c->engine);

    for (int i = 1; i < argc;) {
        const char *v = NULL;
        int r;
#define FLAG(name) ((r = cli_flag(argc, argv, &i, name, &v)) < 0 ? 2 : r)
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-help") || !strcmp(argv[i], "-h")) return 1;
        if ((r = FLAG("pattern"))) {
            if (r == 2 || parse_patterns(v, c->enabled)) return 2;
        } else if ((r = FLAG("iterations"))) {
            if (r == 2 || cli_parse_int("iterations", v, 1, 100000000, &c->iterations)) return 2;
        } else if ((r = FLAG("reload_iterations"))) {
            if (r == 2 || cli_parse_int("reload_iterations", v, 1, 100000000, &c->reload_iterations)) return 2;
        } else if ((r = FLAG("warmup"))) {
            if (r == 2 || cli_parse_int("warmup", v, 0, 1000000, &c->warmup)) return 2;
        } else if ((r = FLAG("batch"))) {
            if (r == 2 || cli_parse_int("batch", v, 1, 4096, &c->batch)) return 2;
        } else if ((r = engine_flags_parse(&c->engine, EF_ALL & ~EF_DEBUG, argc, argv, &i))) {
            if (r < 0) return 2;
        } else if ((r = FLAG("input_width"))) {
            if (r == 2 || cli_parse_int("input_width", v, 1, 1 << 16, &c->input_width)) return 2;
        } else if ((r = FLAG("input_height"))) {
            if (r == 2 || cli_parse_int("input_height", v, 1, 1 << 16, &c->input_height)) return 2;
        } else if ((r = FLAG("input_mean"))) {
            if (r == 2 || cli_parse_float("input_mean", v, &c->input_mean)) return 2;
        } else if ((r = FLAG("input_std"))) {
            if (r == 2 || cli_parse_float("input_std", v, &c->input_std)) return 2;
            if (c->input_std == 0.0f || !isfinite(c->input_std)) {
                fprintf(stderr, "frost bench: --input_std must be a non-zero number\n");
                return 2;
            }
        } else if ((r = FLAG("resize"))) {
            if (r == 2 || cli_parse_resize(v, &c->resize)) return 2;
        } else if ((r = string_flag(argc, argv, &i, c))) {
            if (r < 0) return 2;
        } else if ((r = FLAG("graph"))) {
            if (r == 2) return 2;
            if (c->model_path) {
                fprintf(stderr, "frost bench: more than one model given\n");
                return 2;
            }
            c->model_path = v;
        } else if (argv[i][0] == '-' && argv[i][1] != '\0') {
            fprintf(stderr, "frost bench: unknown option '%s' (see frost bench --help)\n", argv[i]);
            return 2;
        } else {
            if (c->model_path) {
                fprintf(stderr, "frost bench: more than one model given ('%s' and '%s')\n", c->model_path, argv[i]);
                return 2;
            }
            c->model_path = argv[i++];
        }
#undef FLAG
    }
    if (!c->model_path) {
        fprintf(stderr, "frost bench: no model given (frost bench MODEL.pb [options], see --help)\n");
        return 2;
    }
    if ((c->input_width > 0) != (c->input_height > 0)) {
        fprintf(stderr, "frost bench: give both --input_width and --input_height, or neither\n");
        return 2;
    }
    if (c->reload_iterations < 0) c->reload_iterations = c->iterations < 50 ? c->iterations : 50;
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Model and inputs                                                           */
/* ------------------------------------------------------------------------ */

typedef struct bench_model_opts {
    frost_options opts;
    const char *in_names[1], *out_names[1];
    frost_shape in_shape[1];
} bench_model_opts;

static void model_options(const bench_cfg *c, int max_batch, bench_model_opts *m) {
    frost_options_init(&m->opts);
    engine_flags_apply(&c->engine, &m->opts);
    m->opts.max_batch = max_batch;
    if (c->input_layer) {
        m->in_names[0] = c->input_layer;
        m->opts.inputs = m->in_names;
        m->opts.num_inputs = 1;
    }
    if (c->output_layer) {
        m->out_names[0] = c->output_layer;
        m->opts.outputs = m->out_names;
        m->opts.num_outputs = 1;
    }
    if (c->input_width > 0) {
        m->in_shape[0] = (frost_shape){4, {-1, c->input_height, c->input_width, 3}};
        m->opts.input_shapes = m->in_shape;
    }
}

static int load_model(const bench_cfg *c, const bench_model_opts *mo, frost_model **model) {
    char *err = NULL;
    frost_status st = frost_model_load(c->model_path, &mo->opts, model, &err);
    if (st != FROST_OK) {
        fprintf(stderr, "frost bench: %s: %s\n", c->model_path, err ? err : frost_strerror(st));
        frost_free(err);
        return -1;
    }
    engine_flags_note(&c->engine, *model);
    return 0;
}

static void io_free(bench_io *io) {
    for (int i = 0; io->in && i < io->num_inputs; i++) free(io->in[i]);
    for (int i = 0; io->out && i < io->num_outputs; i++) free(io->out[i]);
    free(io->in);
    free(io->out);
    free(io->in_size);
    free(io->out_size);
    memset(io, 0, sizeof *io);
}

/* Deterministic values in [-1, 1): a multiplicative hash of the index. */
static void fill_synthetic(float *x, size_t n, uint32_t seed) {
    for (size_t i = 0; i < n; i++) {
        uint32_t h = (uint32_t)(i + seed) * 2654435761u;
        x[i] = (float)((h >> 16) & 0xffff) / 32768.0f - 1.0f;
    }
}

static int preprocess_image(const bench_cfg *c, const frost_model *model, float *dst) {
    frost_image_spec spec;
    if (frost_model_image_spec(model, &spec, NULL) != FROST_OK || spec.input != 0) {
        fprintf(stderr, "frost bench: --image needs a model input of shape [batch, height, width, 3]\n");
        return -1;
    }
    frost_image *img = NULL;
    char *err = NULL;
    frost_status st = frost_image_load(c->image_path, NULL, &img, &err);
    if (st != FROST_OK) {
        fprintf(stderr, "frost bench: %s\n", err ? err : frost_strerror(st));
        frost_free(err);
        return -1;
    }
    frost_preprocess pp = {spec.width, spec.height, c->input_mean, c->input_std, c->resize};
    st = frost_image_preprocess(img, &pp, dst);
    frost_image_free(img);
    if (st != FROST_OK) {
        fprintf(stderr, "frost bench: preprocessing %s: %s\n", c->image_path, frost_strerror(st));
        return -1;
    }
    return 0;
}

/* Allocate buffers for `batch` items and fill every input item with the same data. */
static int io_init(const bench_cfg *c, const frost_model *model, int batch, bench_io *io) {
    memset(io, 0, sizeof *io);
    io->num_inputs = frost_model_input_count(model);
    io->num_outputs = frost_model_output_count(model);
    if (io->num_inputs < 1 || io->num_outputs < 1) {
        fprintf(stderr, "frost bench: the model has %d inputs and %d outputs\n", io->num_inputs, io->num_outputs);
        return -1;
    }
    if (c->image_path && io->num_inputs != 1) {
        fprintf(stderr, "frost bench: --image needs a model with one input (this one has %d)\n", io->num_inputs);
        return -1;
    }
    io->in = calloc((size_t)io->num_inputs, sizeof *io->in);
    io->out = calloc((size_t)io->num_outputs, sizeof *io->out);
    io->in_size = calloc((size_t)io->num_inputs, sizeof *io->in_size);
    io->out_size = calloc((size_t)io->num_outputs, sizeof *io->out_size);
    if (!io->in || !io->out || !io->in_size || !io->out_size) goto oom;
    for (int i = 0; i < io->num_inputs; i++) {
        size_t n = io->in_size[i] = frost_model_input_size(model, i);
        if (!(io->in[i] = calloc((size_t)batch * n + 1, sizeof(float)))) goto oom;
        if (c->image_path) {
            if (preprocess_image(c, model, io->in[i])) return -1;
        } else {
            fill_synthetic(io->in[i], n, (uint32_t)i * 7919u);
        }
        for (int b = 1; b < batch; b++) memcpy(io->in[i] + (size_t)b * n, io->in[i], n * sizeof(float));
    }
    for (int j = 0; j < io->num_outputs; j++) {
        io->out_size[j] = frost_model_output_size(model, j);
        if (!(io->out[j] = calloc((size_t)batch * io->out_size[j] + 1, sizeof(float)))) goto oom;
    }
    return 0;
oom:
    fprintf(stderr, "frost bench: out of memory\n");
    return -1;
}

/* ------------------------------------------------------------------------ */
/* Patterns                                                                   */
/* ------------------------------------------------------------------------ */

static int run_failed(const char *pattern, frost_context *ctx, frost_status st) {
    const char *msg = ctx ? frost_context_error(ctx) : "";
    fprintf(stderr, "frost bench: %s: run failed: %s\n", pattern, msg && *msg ? msg : frost_strerror(st));
    return -1;
}

/* One reload iteration: everything label_image does per image, minus decoding. */
static int reload_once(const bench_cfg *c, const bench_model_opts *mo, bench_io *io) {
    frost_model *model = NULL;
    frost_context *ctx = NULL;
    char *err = NULL;
    if (load_model(c, mo, &model)) return -1;
    frost_status st = frost_context_create(model, &ctx, &err);
    if (st != FROST_OK) {
        fprintf(stderr, "frost bench: reload: %s\n", err ? err : frost_strerror(st));
        frost_free(err);
        frost_model_free(model);
        return -1;
    }
    st = frost_context_run(ctx, 1, (const float *const *)io->in, io->out);
    if (st != FROST_OK) run_failed("reload", ctx, st);
    frost_context_free(ctx);
    frost_model_free(model);
    return st == FROST_OK ? 0 : -1;
}

static int run_pattern(const bench_cfg *c, int pat, bench_io *io, bench_run *r) {
    int batch = pat == PAT_BATCHED ? c->batch : 1;
    bench_model_opts mo;
    model_options(c, c->batch, &mo);
    r->images = batch;
    r->n = pat == PAT_RELOAD ? c->reload_iterations : c->iterations;

    /* Result arrays: allocated and touched now so that the loop does not grow RSS. */
    r->lat_ms = calloc((size_t)r->n, sizeof *r->lat_ms);
    r->per_image = calloc((size_t)r->n, sizeof *r->per_image);
    r->rss_kb = calloc((size_t)r->n, sizeof *r->rss_kb);
    r->cpu_ms = calloc((size_t)r->n, sizeof *r->cpu_ms);
    r->first_out = calloc(io->out_size[0] + 1, sizeof(float));
    if (!r->lat_ms || !r->per_image || !r->rss_kb || !r->cpu_ms || !r->first_out) {
        fprintf(stderr, "frost bench: out of memory\n");
        return -1;
    }
    memset(r->lat_ms, 0xff, (size_t)r->n * sizeof *r->lat_ms);
    memset(r->rss_kb, 0xff, (size_t)r->n * sizeof *r->rss_kb);
    memset(r->cpu_ms, 0xff, (size_t)r->n * sizeof *r->cpu_ms);
    const float *const *in = (const float *const *)io->in;

    if (pat == PAT_RELOAD) {
        for (int w = 0; w < c->warmup; w++)
            if (reload_once(c, &mo, io)) return -1;
        for (int i = 0; i < r->n; i++) {
            double c0 = cpu_ms(), t0 = now_ms();
            if (reload_once(c, &mo, io)) return -1;
            r->lat_ms[i] = now_ms() - t0;
            r->cpu_ms[i] = cpu_ms() - c0;
            r->rss_kb[i] = bench_rss_kb();
        }
    } else {
        frost_model *model = NULL;
        frost_context *ctx = NULL;
        char *err = NULL;
        double t0 = now_ms();
        if (load_model(c, &mo, &model)) return -1;
        frost_status st = frost_context_create(model, &ctx, &err);
        if (st != FROST_OK) {
            fprintf(stderr, "frost bench: %s: %s\n", pattern_names[pat], err ? err : frost_strerror(st));
            frost_free(err);
            frost_model_free(model);
            return -1;
        }
        r->setup_ms = now_ms() - t0;
        for (int w = 0; w < c->warmup && st == FROST_OK; w++) st = frost_context_run(ctx, batch, in, io->out);
        for (int i = 0; i < r->n && st == FROST_OK; i++) {
            double c1 = cpu_ms(), t1 = now_ms();
            st = frost_context_run(ctx, batch, in, io->out);
            r->lat_ms[i] = now_ms() - t1;
            r->cpu_ms[i] = cpu_ms() - c1;
            r->rss_kb[i] = bench_rss_kb();
        }
        if (st != FROST_OK) run_failed(pattern_names[pat], ctx, st);
        frost_context_free(ctx);
        frost_model_free(model);
        if (st != FROST_OK) return -1;
    }
    memcpy(r->first_out, io->out[0], io->out_size[0] * sizeof(float));
    for (int i = 0; i < r->n; i++) r->per_image[i] = r->lat_ms[i] / r->images;
    double *scratch = malloc((size_t)r->n * sizeof *scratch);
    if (!scratch) return -1;
    bench_summarize(r->lat_ms, r->n, scratch, &r->s);
    r->cpu_p50 = bench_median(r->cpu_ms, r->n, scratch);
    free(scratch);
    r->ran = 1;
    return 0;
}

static void run_free(bench_run *r) {
    free(r->lat_ms);
    free(r->per_image);
    free(r->rss_kb);
    free(r->cpu_ms);
    free(r->first_out);
}

/* ------------------------------------------------------------------------ */
/* Output                                                                     */
/* ------------------------------------------------------------------------ */

static const char *base_name(const char *path) {
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

static void shape_string(const frost_model *model, int input, int index, char *buf, size_t cap) {
    frost_shape s;
    frost_status st = input ? frost_model_input_shape(model, index, &s) : frost_model_output_shape(model, index, &s);
    size_t len = 0;
    buf[0] = '\0';
    if (st != FROST_OK) return;
    for (int d = 0; d < s.rank && len + 24 < cap; d++)
        len += (size_t)snprintf(buf + len, cap - len, d ? "x%lld" : "%lld", d == 0 ? 1LL : (long long)s.dims[d]);
}

static long rss_growth(const bench_run *r) {
    int from = r->n >= 10 ? 9 : 0;
    if (r->rss_kb[from] < 0 || r->rss_kb[r->n - 1] < 0) return 0;
    return r->rss_kb[r->n - 1] - r->rss_kb[from];
}

static void print_summary(const bench_cfg *c, const bench_run runs[PAT_COUNT]) {
    printf("\n%-8s %7s %6s %9s %10s %10s %10s %10s %10s %10s %9s %12s %8s %7s %14s\n", "pattern", "iters",
           "img/it", "setup_ms", "p50_ms", "p90_ms", "p99_ms", "mean_ms", "cpu_p50_ms", "ms/img", "img/s",
           "slope_ms/1k", "drift_%", "rss_MB", "rss_growth_kB");
    for (int k = 0; k < PAT_COUNT; k++) {
        const bench_run *r = &runs[k];
        if (c->enabled[k] && !r->ran) printf("%-8s failed (see the message above)\n", pattern_names[k]);
        if (!r->ran) continue;
        const bench_summary *s = &r->s;
        char setup[32];
        if (k == PAT_RELOAD) snprintf(setup, sizeof setup, "-");
        else snprintf(setup, sizeof setup, "%.1f", r->setup_ms);
        double rss_mb = r->rss_kb[r->n - 1] >= 0 ? r->rss_kb[r->n - 1] / 1024.0 : NAN;
        printf("%-8s %7d %6d %9s %10.4f %10.4f %10.4f %10.4f %10.4f %10.4f %9.1f %12.4f %8.2f %7.1f %14ld\n",
               pattern_names[k], r->n, r->images, setup, s->p50, s->p90, s->p99, s->mean, r->cpu_p50,
               s->p50 / r->images,
               s->sum > 0 ? 1000.0 * r->n * r->images / s->sum : 0.0, s->slope_per_1k, s->drift_pct, rss_mb,
               rss_growth(r));
    }
    printf("\n  times are per iteration: one run of img/it images (reload: load + compile + run);\n"
           "  cpu_p50_ms = median CPU time of the process (all threads) per iteration: with one\n"
           "  thread, p50_ms well above it means the machine was busy with other work;\n"
           "  ms/img = p50_ms / img/it; img/s = images / summed iteration times;\n"
           "  slope_ms/1k = least-squares growth of the iteration time over 1000 iterations;\n"
           "  drift_%% = p50 of the last window vs the first (window = min(1000, iters/10));\n"
           "  rss_growth_kB = RSS at the last iteration minus at iteration 10 (or the first).\n");

    printf("\nstability (p50 of the first vs the last window; RSS from iteration 10 to the end):\n");
    for (int k = 0; k < PAT_COUNT; k++) {
        const bench_run *r = &runs[k];
        if (!r->ran) continue;
        printf("  %-8s first %d: %.4f ms   last %d: %.4f ms   drift %+.2f %%   RSS %+ld kB\n", pattern_names[k],
               r->s.window, r->s.p50_first, r->s.window, r->s.p50_last, r->s.drift_pct, rss_growth(r));
    }

    const bench_run *rl = &runs[PAT_RELOAD], *ca = &runs[PAT_CACHED], *ba = &runs[PAT_BATCHED];
    if (rl->ran || ca->ran || ba->ran) printf("\n");
    if (rl->ran && ca->ran && ca->s.p50 > 0)
        printf("reload/cached  per-image time (p50): %8.2fx   (%.4f ms vs %.4f ms; CPU time %.2fx)\n",
               rl->s.p50 / ca->s.p50, rl->s.p50, ca->s.p50, ca->cpu_p50 > 0 ? rl->cpu_p50 / ca->cpu_p50 : NAN);
    if (ca->ran && ba->ran && ba->s.p50 > 0)
        printf("cached/batched per-image time (p50): %8.2fx   (%.4f ms vs %.4f ms, batch %d; CPU time %.2fx)\n",
               ca->s.p50 / (ba->s.p50 / ba->images), ca->s.p50, ba->s.p50 / ba->images, ba->images,
               ba->cpu_p50 > 0 ? ca->cpu_p50 / (ba->cpu_p50 / ba->images) : NAN);
}

/* The patterns compute the same thing: compare output 0 of their last runs. */
static void print_agreement(const bench_io *io, const bench_run runs[PAT_COUNT]) {
    const bench_run *ref = NULL;
    double maxdiff = 0;
    int compared = 0;
    for (int k = 0; k < PAT_COUNT; k++) {
        if (!runs[k].ran) continue;
        if (!ref) {
            ref = &runs[k];
            continue;
        }
        for (size_t e = 0; e < io->out_size[0]; e++) {
            double d = fabs((double)runs[k].first_out[e] - ref->first_out[e]);
            if (d > maxdiff || d != d) maxdiff = d;
        }
        compared++;
    }
    if (runs[PAT_BATCHED].ran) /* every item of the batch had the same input */
        for (int b = 1; b < runs[PAT_BATCHED].images; b++)
            for (size_t e = 0; e < io->out_size[0]; e++) {
                double d = fabs((double)io->out[0][b * io->out_size[0] + e] - io->out[0][e]);
                if (d > maxdiff || d != d) maxdiff = d;
                compared = 1;
            }
    if (compared) printf("outputs of the patterns agree within %.3g (max |difference| of output 0)\n", maxdiff);
}

static int write_csv(const char *path, const bench_run runs[PAT_COUNT]) {
    FILE *f = fopen(path, "w");
    if (!f) {
        fprintf(stderr, "frost bench: cannot write %s: %s\n", path, strerror(errno));
        return -1;
    }
    fprintf(f, "pattern,iteration,latency_ms,rss_kb,images,cpu_ms\n");
    for (int k = 0; k < PAT_COUNT; k++)
        for (int i = 0; runs[k].ran && i < runs[k].n; i++)
            fprintf(f, "%s,%d,%.6f,%ld,%d,%.6f\n", pattern_names[k], i + 1, runs[k].lat_ms[i], runs[k].rss_kb[i],
                    runs[k].images, runs[k].cpu_ms[i]);
    int bad = ferror(f);
    if (fclose(f) != 0 || bad) {
        fprintf(stderr, "frost bench: error writing %s\n", path);
        return -1;
    }
    return 0;
}

static int write_plot(const bench_cfg *c, const char *subtitle, const bench_run runs[PAT_COUNT]) {
    bench_series series[PAT_COUNT];
    char names[PAT_COUNT][96];
    int count = 0;
    for (int k = 0; k < PAT_COUNT; k++) {
        if (!runs[k].ran) continue;
        if (k == PAT_RELOAD) snprintf(names[k], sizeof names[k], "reload: load + compile + run per image");
        else if (k == PAT_CACHED) snprintf(names[k], sizeof names[k], "cached: compiled once, 1 image per run");
        else snprintf(names[k], sizeof names[k], "batched: %d images per run (time / %d)", c->batch, c->batch);
        series[count++] = (bench_series){names[k], pattern_colors[k], runs[k].per_image, runs[k].n};
    }
    char title[256];
    snprintf(title, sizeof title, "frost bench: %s", base_name(c->model_path));
    bench_chart chart = {title, subtitle, "iteration", "milliseconds per image", -1};
    FILE *f = fopen(c->plot_path, "w");
    if (!f) {
        fprintf(stderr, "frost bench: cannot write %s: %s\n", c->plot_path, strerror(errno));
        return -1;
    }
    int bad = bench_svg_write(f, &chart, series, count);
    if (fclose(f) != 0 || bad) {
        fprintf(stderr, "frost bench: error writing %s\n", c->plot_path);
        return -1;
    }
    return 0;
}

int frost_cmd_bench(int argc, char **argv) {
    bench_cfg c;
    int pr = parse_args(argc, argv, &c);
    if (pr == 1) {
        usage(stdout);
        return 0;
    }
    if (pr) return 2;

    /* Load once to learn the input and output sizes (and fail early). */
    bench_model_opts mo;
    model_options(&c, c.batch, &mo);
    frost_model *probe = NULL;
    if (load_model(&c, &mo, &probe)) return 1;
    bench_io io;
    int rc = 0;
    bench_run runs[PAT_COUNT];
    memset(runs, 0, sizeof runs);
    if (io_init(&c, probe, c.batch, &io)) {
        io_free(&io);
        frost_model_free(probe);
        return 1;
    }

    frost_compile_stats ms;
    memset(&ms, 0, sizeof ms);
    frost_model_stats(probe, &ms);
    char shapes[256] = "", one[96];
    size_t len = 0;
    for (int i = 0; i < io.num_inputs && len < sizeof shapes; i++) {
        shape_string(probe, 1, i, one, sizeof one);
        len += (size_t)snprintf(shapes + len, sizeof shapes - len, "%s%s", i ? ", " : "", one);
    }
    len += (size_t)snprintf(shapes + len, len < sizeof shapes ? sizeof shapes - len : 0, " -> ");
    for (int j = 0; j < io.num_outputs && len < sizeof shapes; j++) {
        shape_string(probe, 0, j, one, sizeof one);
        len += (size_t)snprintf(shapes + len, sizeof shapes - len, "%s%s", j ? ", " : "", one);
    }
    char threads[32];
    if (c.engine.threads) snprintf(threads, sizeof threads, "%d", c.engine.threads);
    else snprintf(threads, sizeof threads, "all cores");
    printf("frost bench: %s\n", c.model_path);
    printf("  tensors %s; backend %s; threads %s\n", shapes, ms.backend ? ms.backend : "?", threads);
    printf("  input: %s; %d warm-up iterations per pattern (not recorded)\n",
           c.image_path ? c.image_path : "synthetic (deterministic)", c.warmup);
    char subtitle[400];
    snprintf(subtitle, sizeof subtitle, "%s; backend %s; threads %s; input %s", shapes,
             ms.backend ? ms.backend : "?", threads, c.image_path ? base_name(c.image_path) : "synthetic");
    frost_model_free(probe);
    fflush(stdout);

    /* A pattern that fails is reported and left out; the others still run. */
    int ran = 0;
    for (int k = 0; k < PAT_COUNT; k++) {
        if (!c.enabled[k]) continue;
        fprintf(stderr, "frost bench: %s: %d iterations...\n", pattern_names[k],
                k == PAT_RELOAD ? c.reload_iterations : c.iterations);
        if (run_pattern(&c, k, &io, &runs[k])) {
            fprintf(stderr, "frost bench: %s: pattern failed, left out of the results\n", pattern_names[k]);
            runs[k].ran = 0;
            rc = 1;
        } else {
            ran++;
        }
    }
    if (ran) {
        print_summary(&c, runs);
        print_agreement(&io, runs);
        const char *csv_path = c.csv_path, *plot_path = c.plot_path;
        if (csv_path) {
            if (write_csv(csv_path, runs) == 0) printf("wrote %s\n", csv_path);
            else rc = 1;
        }
        if (plot_path) {
            if (write_plot(&c, subtitle, runs) == 0) printf("wrote %s\n", plot_path);
            else rc = 1;
        }
    }
    for (int k = 0; k < PAT_COUNT; k++) run_free(&runs[k]);
    io_free(&io);
    return rc;
}
