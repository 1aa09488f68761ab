/* Statistics of a series of timings for `frost bench`. */
#ifndef FROST_BENCH_STATS_H
#define FROST_BENCH_STATS_H

/* Summary of n values v[0..n-1], where v[i] is iteration i + 1. */
typedef struct bench_summary {
    int n;
    double min, max, mean, sum;
    double p50, p90, p99;
    /* Least-squares slope of v over the iteration number, times 1000:
     * how much a value grows over 1000 iterations. */
    double slope_per_1k;
    /* Drift window: p50 of the first `window` values and of the last `window`
     * values, window = min(1000, max(1, n / 10)); drift_pct = 100 * (last / first - 1). */
    int window;
    double p50_first, p50_last, drift_pct;
} bench_summary;

/* The p-th percentile (0 <= p <= 100) of `sorted` (ascending, n >= 1) by
 * linear interpolation between the closest ranks: rank = p / 100 * (n - 1)
 * (numpy.percentile's default). */
double bench_percentile(const double *sorted, int n, double p);

/* Least-squares slope of v[i] over x = i (n < 2: 0). */
double bench_slope(const double *v, int n);

/* Median of v[0..n-1] (n >= 1), using scratch[n]. */
double bench_median(const double *v, int n, double *scratch);

/* Fill *out from v[0..n-1] (n >= 1); scratch holds n doubles. */
void bench_summarize(const double *v, int n, double *scratch, bench_summary *out);

#endif
