/* frost as a peer of the benchmark (bench/peers.py), through the public API.
 *
 *   frost_time MODEL.pb [--batch N] [--threads N] [--precision fp32|bf16|int8]
 *              [--winograd] [--no-winograd] [--onednn-only] [--backend auto|reference|onednn] [--profiling]
 *              [--output NAME] [--micro-batch N]
 *
 * Speaks the worker protocol of bench/benchlib.py: loads and compiles the
 * model (timed), warms up, prints one JSON "ready" line with the output of
 * the first batch item, then answers "run N" with the times of N runs and the
 * CPU time other processes used meanwhile (from /proc/stat); "profile" prints
 * the per-step profile of those runs (with --profiling; the warm-up runs,
 * which take the one-time costs, are not in it); "quit" exits.
 * Input element i (NHWC, row-major) is (i % 251) / 125 - 1, as for the peers. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "frost.h"

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static double sys_busy_s(void) {
    FILE *f = fopen("/proc/stat", "r");
    unsigned long long v[10] = {0};
    if (!f) return 0;
    int n = fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5],
                   &v[6], &v[7]);
    fclose(f);
    if (n < 7) return 0;
    return (double)(v[0] + v[1] + v[2] + v[5] + v[6] + v[7]) / (double)sysconf(_SC_CLK_TCK);
}

static double self_cpu_s(long *max_rss_kb) {
    struct rusage r;
    getrusage(RUSAGE_SELF, &r);
    if (max_rss_kb) *max_rss_kb = r.ru_maxrss;
    return r.ru_utime.tv_sec + r.ru_utime.tv_usec / 1e6 + r.ru_stime.tv_sec + r.ru_stime.tv_usec / 1e6;
}

static void json_str(const char *s) {
    putchar('"');
    for (; s && *s; s++) {
        if (*s == '"' || *s == '\\') putchar('\\');
        if ((unsigned char)*s >= 0x20) putchar(*s);
    }
    putchar('"');
}

static int fail(const char *what, frost_status st, char *err) {
    printf("{\"error\": ");
    char buf[1024];
    snprintf(buf, sizeof(buf), "%s: %s%s%s", what, frost_strerror(st), err ? ": " : "", err ? err : "");
    json_str(buf);
    printf("}\n");
    frost_free(err);
    return 1;
}

int main(int argc, char **argv) {
    const char *path = NULL;
    frost_options o;
    frost_options_init(&o);
    int batch = 1;
    const char *output = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--batch") && i + 1 < argc) batch = atoi(argv[++i]);
        else if (!strcmp(a, "--threads") && i + 1 < argc) o.threads = atoi(argv[++i]);
        else if (!strcmp(a, "--precision") && i + 1 < argc)
            o.precision = !strcmp(argv[++i], "bf16")   ? FROST_PRECISION_BF16
                          : !strcmp(argv[i], "int8") ? FROST_PRECISION_INT8
                                                     : FROST_PRECISION_FP32;
        else if (!strcmp(a, "--output") && i + 1 < argc) output = argv[++i];
        else if (!strcmp(a, "--micro-batch") && i + 1 < argc) o.micro_batch = atoi(argv[++i]);
        else if (!strcmp(a, "--winograd")) o.winograd = o.winograd == FROST_WINOGRAD_OFF ? o.winograd : FROST_WINOGRAD_ALL;
        else if (!strcmp(a, "--no-winograd")) o.winograd = FROST_WINOGRAD_OFF; /* wins over --winograd */
        else if (!strcmp(a, "--onednn-only")) o.debug_flags |= FROST_DEBUG_ONEDNN_ONLY;
        else if (!strcmp(a, "--profiling")) o.profiling = 1;
        else if (!strcmp(a, "--no-tune")) o.tune_file = ""; /* default: the per-user cache's record, if any */
        else if (!strcmp(a, "--tune-file") && i + 1 < argc) o.tune_file = argv[++i];
        else if (!strcmp(a, "--backend") && i + 1 < argc) {
            const char *b = argv[++i];
            o.backend = !strcmp(b, "reference") ? FROST_BACKEND_REFERENCE
                        : !strcmp(b, "onednn")  ? FROST_BACKEND_ONEDNN
                                                : FROST_BACKEND_AUTO;
        } else if (a[0] != '-') path = a;
        else {
            fprintf(stderr, "usage: frost_time MODEL.pb [--batch N] [--threads N] [--precision fp32|bf16|int8] "
                            "[--winograd] [--no-winograd] [--onednn-only] [--backend auto|reference|onednn] [--profiling] [--output NAME] "
                            "[--no-tune] [--tune-file F] "
                            "[--micro-batch N]\n");
            return 2;
        }
    }
    if (!path || batch < 1) {
        fprintf(stderr, "frost_time: a model path and a batch >= 1 are needed\n");
        return 2;
    }
    if (o.max_batch < batch) o.max_batch = batch;
    if (output) {
        o.outputs = &output;
        o.num_outputs = 1;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);

    frost_model *m = NULL;
    frost_context *ctx = NULL;
    char *err = NULL;
    long rss_load = 0;
    double t0 = now_ms();
    frost_status st = frost_model_load(path, &o, &m, &err);
    double load_ms = now_ms() - t0;
    self_cpu_s(&rss_load);
    if (st != FROST_OK) return fail("load", st, err);
    st = frost_context_create(m, &ctx, &err);
    if (st != FROST_OK) return fail("context", st, err);
    size_t in_n = frost_model_input_size(m, 0) * (size_t)batch, out_n = frost_model_output_size(m, 0) * (size_t)batch;
    float *x = malloc(in_n * sizeof(float)), *y = malloc(out_n * sizeof(float));
    if (!x || !y) return fail("alloc", FROST_E_NO_MEMORY, NULL);
    for (size_t i = 0; i < in_n; i++) x[i] = (float)(i % 251) / 125.0f - 1.0f;

    double t1 = now_ms();
    st = frost_context_run1(ctx, batch, x, y);
    double first_ms = now_ms() - t1;
    if (st != FROST_OK) return fail("run", st, strdup(frost_context_error(ctx)));
    for (int i = 0; i < 2; i++) frost_context_run1(ctx, batch, x, y);
    frost_context_profile_reset(ctx); /* the profile covers the timed runs only */

    frost_compile_stats s;
    memset(&s, 0, sizeof(s));
    frost_model_stats(m, &s);
    printf("{\"ready\": true, \"name\": \"frost\", \"version\": \"%s\", \"load_ms\": %.3f, \"first_ms\": %.3f, "
           "\"rss_after_load_kb\": %ld, \"backend\": ",
           frost_version(), load_ms, first_ms, rss_load);
    json_str(s.backend ? s.backend : "?");
    printf(", \"steps\": %d, \"flops\": %lld, \"weight_bytes\": %zu, \"arena_bytes\": %zu, \"micro_batch\": %d, "
           "\"output\": [",
           s.steps, (long long)s.flops, s.weight_bytes, frost_context_arena_bytes(ctx), frost_model_micro_batch(m));
    size_t per = frost_model_output_size(m, 0);
    for (size_t i = 0; i < per; i++) printf("%s%.9g", i ? ", " : "", y[i]);
    printf("]}\n");

    char line[256];
    while (fgets(line, sizeof(line), stdin)) {
        int n = 0;
        if (sscanf(line, "run %d", &n) == 1 && n > 0) {
            double *times = malloc(sizeof(double) * (size_t)n);
            if (!times) return fail("alloc", FROST_E_NO_MEMORY, NULL);
            double b0 = sys_busy_s(), c0 = self_cpu_s(NULL), w0 = now_ms();
            for (int i = 0; i < n && st == FROST_OK; i++) {
                double t = now_ms();
                st = frost_context_run1(ctx, batch, x, y);
                times[i] = now_ms() - t;
            }
            double w1 = now_ms();
            long rss = 0;
            double c1 = self_cpu_s(&rss), b1 = sys_busy_s();
            if (st != FROST_OK) return fail("run", st, strdup(frost_context_error(ctx)));
            printf("{\"times_ms\": [");
            for (int i = 0; i < n; i++) printf("%s%.4f", i ? ", " : "", times[i]);
            printf("], \"wall_s\": %.6f, \"self_cpu_s\": %.6f, \"sys_busy_s\": %.6f, \"max_rss_kb\": %ld}\n",
                   (w1 - w0) / 1e3, c1 - c0, b1 - b0, rss);
            free(times);
        } else if (!strncmp(line, "profile", 7)) {
            const frost_op_profile *p = NULL;
            int count = 0;
            if (frost_context_profile(ctx, &p, &count) != FROST_OK) count = 0;
            printf("{\"profile\": [");
            for (int i = 0; i < count; i++) {
                printf("%s{\"name\": ", i ? ", " : "");
                json_str(p[i].name);
                printf(", \"op\": ");
                json_str(p[i].op);
                printf(", \"kernel\": ");
                json_str(p[i].kernel);
                printf(", \"total_ms\": %.4f, \"runs\": %lld, \"flops\": %lld}", p[i].total_ms, (long long)p[i].runs,
                       (long long)p[i].flops);
            }
            printf("]}\n");
        } else if (!strncmp(line, "quit", 4)) {
            break;
        }
    }
    free(x);
    free(y);
    frost_context_free(ctx);
    frost_model_free(m);
    return 0;
}
