#include "bench_stats.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double bench_percentile(const double *sorted, int n, double p) {
    if (n <= 0) return NAN;
    double rank = p / 100.0 * (n - 1);
    int lo = (int)floor(rank);
    if (lo < 0) lo = 0;
    if (lo >= n - 1) return sorted[n - 1];
    return sorted[lo] + (sorted[lo + 1] - sorted[lo]) * (rank - lo);
}

double bench_slope(const double *v, int n) {
    if (n < 2) return 0.0;
    double xm = (n - 1) / 2.0, ym = 0.0;
    for (int i = 0; i < n; i++) ym += v[i];
    ym /= n;
    double sxy = 0.0, sxx = 0.0;
    for (int i = 0; i < n; i++) {
        sxy += (i - xm) * (v[i] - ym);
        sxx += (i - xm) * (i - xm);
    }
    return sxy / sxx;
}

double bench_median(const double *v, int n, double *scratch) {
    memcpy(scratch, v, (size_t)n * sizeof *v);
    qsort(scratch, (size_t)n, sizeof *scratch, cmp_double);
    return bench_percentile(scratch, n, 50.0);
}

void bench_summarize(const double *v, int n, double *scratch, bench_summary *out) {
    memset(out, 0, sizeof *out);
    out->n = n;
    if (n <= 0) return;
    out->min = out->max = v[0];
    for (int i = 0; i < n; i++) {
        out->sum += v[i];
        if (v[i] < out->min) out->min = v[i];
        if (v[i] > out->max) out->max = v[i];
    }
    out->mean = out->sum / n;
    out->slope_per_1k = bench_slope(v, n) * 1000.0;

    out->window = n / 10 < 1 ? 1 : n / 10;
    if (out->window > 1000) out->window = 1000;
    out->p50_first = bench_median(v, out->window, scratch);
    out->p50_last = bench_median(v + n - out->window, out->window, scratch);
    out->drift_pct = out->p50_first > 0 ? 100.0 * (out->p50_last / out->p50_first - 1.0) : 0.0;

    memcpy(scratch, v, (size_t)n * sizeof *v);
    qsort(scratch, (size_t)n, sizeof *scratch, cmp_double);
    out->p50 = bench_percentile(scratch, n, 50.0);
    out->p90 = bench_percentile(scratch, n, 90.0);
    out->p99 = bench_percentile(scratch, n, 99.0);
}
