/* A program's own OpenMP loop over images calling frost from each of its
 * threads (one context a thread, one model of T threads), against one
 * caller running the same images through one context.
 *
 *     build/omp_callers MODEL.pb [IMAGES_PER_CALLER] [ROUNDS] [THREADS]
 *
 * Prints, per round, the time per image of THREADS callers (an OpenMP
 * parallel region of THREADS threads, IMAGES_PER_CALLER batch-1 runs each)
 * and of one caller (THREADS x IMAGES_PER_CALLER runs), then the medians and
 * their ratio.  The input is zeros (the time does not depend on it). */
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "frost.h"

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static int cmp_d(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* n batch-1 runs on a context of its own; 0 or the failing status */
static frost_status runs(const frost_model *m, const float *x, size_t out, int n) {
    frost_context *c = NULL;
    float *y = malloc(sizeof(float) * (out ? out : 1));
    frost_status st = y ? frost_context_create(m, &c, NULL) : FROST_E_NO_MEMORY;
    for (int i = 0; i < n && st == FROST_OK; i++) st = frost_context_run1(c, 1, x, y);
    frost_context_free(c);
    free(y);
    return st;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: omp_callers MODEL.pb [IMAGES_PER_CALLER] [ROUNDS] [THREADS]\n");
        return 2;
    }
    int n = argc > 2 ? atoi(argv[2]) : 10, rounds = argc > 3 ? atoi(argv[3]) : 3;
    int threads = argc > 4 ? atoi(argv[4]) : 2;
    if (n < 1 || rounds < 1 || rounds > 100 || threads < 1) {
        fprintf(stderr, "omp_callers: IMAGES_PER_CALLER, ROUNDS (at most 100) and THREADS must be positive\n");
        return 2;
    }
    frost_options o;
    frost_options_init(&o);
    o.threads = threads;
    frost_model *m = NULL;
    char *err = NULL;
    frost_status st = frost_model_load(argv[1], &o, &m, &err);
    if (st != FROST_OK) {
        fprintf(stderr, "omp_callers: %s\n", err ? err : frost_strerror(st));
        frost_free(err);
        return 1;
    }
    float *x = calloc(frost_model_input_size(m, 0), sizeof(float));
    size_t out = frost_model_output_size(m, 0);
    double callers[100], one[100];
    st = x ? runs(m, x, out, 1) : FROST_E_NO_MEMORY; /* warm: plans, arenas, weights */
    for (int r = 0; r < rounds && st == FROST_OK; r++) {
        int failed = 0;
        double t0 = now_s();
#pragma omp parallel num_threads(threads) reduction(| : failed)
        failed |= runs(m, x, out, n) != FROST_OK;
        double t1 = now_s();
        st = failed ? FROST_E_INTERNAL : runs(m, x, out, threads * n);
        double t2 = now_s();
        callers[r] = (t1 - t0) * 1e3 / (threads * n), one[r] = (t2 - t1) * 1e3 / (threads * n);
        printf("round %d: %d OpenMP callers %.2f ms an image, one caller %.2f ms an image\n", r + 1, threads,
               callers[r], one[r]);
    }
    if (st == FROST_OK) {
        qsort(callers, (size_t)rounds, sizeof(double), cmp_d);
        qsort(one, (size_t)rounds, sizeof(double), cmp_d);
        double a = callers[rounds / 2], b = one[rounds / 2];
        printf("%s, %d threads: %d OpenMP callers %.2f ms an image (median), one caller %.2f: callers / one %.3f\n",
               argv[1], threads, threads, a, b, a / b);
    } else {
        fprintf(stderr, "omp_callers: a run failed: %s\n", frost_strerror(st));
    }
    free(x);
    frost_model_free(m);
    return st == FROST_OK ? 0 : 1;
}
