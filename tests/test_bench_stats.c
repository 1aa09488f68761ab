/* frost-test-labels: asan */
/* frost bench's statistics, RSS reader and SVG writer on hand-computed cases. */
#include <stdlib.h>
#include <string.h>

#include "../tools/bench/bench_rss.c"
#include "../tools/bench/bench_stats.c"
#include "../tools/bench/bench_svg.c"
#include "testutil.h"

static int count_substr(const char *s, const char *sub) {
    int n = 0;
    for (const char *p = strstr(s, sub); p; p = strstr(p + 1, sub)) n++;
    return n;
}

/* The points="..." of the k-th polyline, parsed into xs/ys; returns the count. */
static int polyline_points(const char *svg, int k, double *xs, double *ys, int cap) {
    const char *p = svg;
    for (int i = 0; i <= k; i++) {
        p = strstr(p, "<polyline");
        if (!p) return -1;
        p++;
    }
    p = strstr(p, "points=\"");
    if (!p) return -1;
    p += 8;
    int n = 0;
    while (*p && *p != '"' && n < cap) {
        char *end;
        xs[n] = strtod(p, &end);
        if (*end != ',') return -1;
        ys[n] = strtod(end + 1, &end);
        n++;
        p = end;
        while (*p == ' ') p++;
    }
    return n;
}

static char *render(const bench_chart *chart, const bench_series *s, int count) {
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    CHECK(f != NULL);
    if (!f) return NULL;
    CHECK(bench_svg_write(f, chart, s, count) == 0);
    fclose(f);
    return buf;
}

static void test_percentile(void) {
    double v[] = {1, 2, 3, 4};
    CHECK_NEAR(bench_percentile(v, 4, 0), 1.0, 1e-12);
    CHECK_NEAR(bench_percentile(v, 4, 50), 2.5, 1e-12);
    CHECK_NEAR(bench_percentile(v, 4, 90), 3.7, 1e-12);  /* rank 2.7 */
    CHECK_NEAR(bench_percentile(v, 4, 99), 3.97, 1e-12); /* rank 2.97 */
    CHECK_NEAR(bench_percentile(v, 4, 100), 4.0, 1e-12);
    double one[] = {5};
    CHECK_NEAR(bench_percentile(one, 1, 50), 5.0, 1e-12);
    CHECK_NEAR(bench_percentile(one, 1, 99), 5.0, 1e-12);
    double odd[] = {10, 20, 30, 40, 50};
    CHECK_NEAR(bench_percentile(odd, 5, 50), 30.0, 1e-12);
    CHECK_NEAR(bench_percentile(odd, 5, 90), 46.0, 1e-12); /* rank 3.6 */
}

static void test_slope(void) {
    double line[50], flat[50];
    for (int i = 0; i < 50; i++) {
        line[i] = 3.0 + 2.0 * i;
        flat[i] = 7.0;
    }
    CHECK_NEAR(bench_slope(line, 50), 2.0, 1e-12);
    CHECK_NEAR(bench_slope(flat, 50), 0.0, 1e-12);
    CHECK_NEAR(bench_slope(line, 1), 0.0, 0);
    /* Least squares through (0,1) (1,3) (2,2): slope = sum((x-1)(y-2)) / 2 = 0.5. */
    double three[] = {1, 3, 2};
    CHECK_NEAR(bench_slope(three, 3), 0.5, 1e-12);
}

static void test_summary(void) {
    enum { N = 20 };
    double v[N], scratch[N];
    for (int i = 0; i < N; i++) v[N - 1 - i] = i + 1; /* descending: sorting must not disturb v */
    bench_summary s;
    bench_summarize(v, N, scratch, &s);
    CHECK(s.n == N);
    CHECK_NEAR(s.min, 1, 0);
    CHECK_NEAR(s.max, 20, 0);
    CHECK_NEAR(s.sum, 210, 1e-9);
    CHECK_NEAR(s.mean, 10.5, 1e-12);
    CHECK_NEAR(s.p50, 10.5, 1e-12);
    CHECK_NEAR(s.p90, 18.1, 1e-12); /* rank 17.1 of 1..20 */
    CHECK_NEAR(s.slope_per_1k, -1000.0, 1e-9);
    CHECK(s.window == 2);
    CHECK_NEAR(s.p50_first, 19.5, 1e-12); /* first two: 20, 19 */
    CHECK_NEAR(s.p50_last, 1.5, 1e-12);   /* last two: 2, 1 */
    CHECK_NEAR(s.drift_pct, 100.0 * (1.5 / 19.5 - 1.0), 1e-9);
    CHECK_NEAR(v[0], 20, 0);

    /* Window caps at 1000; a flat series with one spike in the middle has no drift. */
    int big = 30000;
    double *w = malloc(sizeof(double) * (size_t)big), *sc = malloc(sizeof(double) * (size_t)big);
    CHECK(w && sc);
    if (w && sc) {
        for (int i = 0; i < big; i++) w[i] = 4.0;
        w[big / 2] = 400.0;
        bench_summarize(w, big, sc, &s);
        CHECK(s.window == 1000);
        CHECK_NEAR(s.drift_pct, 0.0, 1e-12);
        CHECK_NEAR(s.p50, 4.0, 0);
        CHECK_NEAR(s.max, 400.0, 0);
    }
    free(w);
    free(sc);
}

static void test_rss(void) {
    long before = bench_rss_kb();
    CHECK(before > 0);
    /* Touch 64 MiB: the resident size must grow by most of it. */
    size_t n = (size_t)64 << 20;
    void *(*volatile fill)(void *, int, size_t) = memset; /* not optimised away */
    char *p = malloc(n);
    CHECK(p != NULL);
    if (p) {
        fill(p, 1, n);
        long after = bench_rss_kb();
        CHECK_MSG(after - before > 60 * 1024, "RSS %ld -> %ld kB", before, after);
        CHECK(bench_peak_rss_kb() >= after);
        free(p);
    }
}

static void test_svg_linear(void) {
    double a[5] = {1, 2, 3, 2, 1}, b[3] = {0.5, 0.5, 0.5};
    bench_series s[2] = {{"first <a&b>", "#ff0000", a, 5}, {"second", "#00ff00", b, 3}};
    bench_chart chart = {"title & more", NULL, "iteration", "ms", -1};
    CHECK(!bench_chart_wants_log(s, 2)); /* 3 / 0.5 = 6 < 20 */
    char *svg = render(&chart, s, 2);
    if (!svg) return;
    CHECK(strncmp(svg, "<?xml", 5) == 0);
    CHECK(count_substr(svg, "<polyline") == 2);
    CHECK(count_substr(svg, "<svg") == 1 && count_substr(svg, "</svg>") == 1);
    CHECK(strstr(svg, "first &lt;a&amp;b&gt;") != NULL);
    CHECK(strstr(svg, "title &amp; more") != NULL);
    CHECK(strstr(svg, "log scale") == NULL);
    double xs[8], ys[8];
    CHECK(polyline_points(svg, 0, xs, ys, 8) == 5);
    /* Linear axis from 0: y pixel is affine in the value; equal steps, equal pixels. */
    CHECK_NEAR(ys[0] - ys[1], ys[1] - ys[2], 0.02);
    CHECK_NEAR(ys[0], ys[4], 1e-9);
    CHECK(ys[2] < ys[0]); /* larger value drawn higher */
    CHECK(xs[1] > xs[0] && xs[4] > xs[3]);
    CHECK(polyline_points(svg, 1, xs, ys, 8) == 3);
    free(svg);
}

static void test_svg_log(void) {
    double a[3] = {1, 10, 100}, b[2] = {1000, 1000};
    bench_series s[2] = {{"a", "#ff0000", a, 3}, {"b", "#00ff00", b, 2}};
    bench_chart chart = {"t", "sub", "x", "y", -1};
    CHECK(bench_chart_wants_log(s, 2));
    char *svg = render(&chart, s, 2);
    if (!svg) return;
    CHECK(strstr(svg, "log scale") != NULL);
    double xs[4], ys[4];
    CHECK(polyline_points(svg, 0, xs, ys, 4) == 3);
    /* One decade is the same height everywhere on a log axis. */
    CHECK_NEAR(ys[0] - ys[1], ys[1] - ys[2], 0.02);
    CHECK(ys[1] < ys[0]);
    free(svg);

    chart.log_y = 0; /* forced linear */
    svg = render(&chart, s, 2);
    if (!svg) return;
    CHECK(strstr(svg, "log scale") == NULL);
    CHECK(polyline_points(svg, 0, xs, ys, 4) == 3);
    CHECK_NEAR((ys[0] - ys[2]) / (ys[0] - ys[1]), 99.0 / 9.0, 0.01);
    free(svg);
}

static void test_svg_trend(void) {
    enum { N = 1000, M = 50 };
    double a[N], b[M];
    for (int i = 0; i < N; i++) a[i] = i < N / 2 ? 1.0 : 2.0;
    a[N / 4] = 50.0; /* one outlier: the chunk median ignores it */
    for (int i = 0; i < M; i++) b[i] = 1.5;
    bench_series s[2] = {{"long", "#ff0000", a, N}, {"short", "#00ff00", b, M}};
    bench_chart chart = {"t", NULL, "x", "y", 0};
    char *svg = render(&chart, s, 2);
    if (!svg) return;
    CHECK(count_substr(svg, "class=\"series\"") == 2);
    CHECK(count_substr(svg, "class=\"trend\"") == 1); /* the short series has none */
    static double xs[N + 1], ys[N + 1];
    CHECK(polyline_points(svg, 0, xs, ys, N + 1) == N);
    double y1 = ys[0], y2 = ys[N - 1];
    CHECK(polyline_points(svg, 1, xs, ys, N + 1) == M);
    int t = polyline_points(svg, 2, xs, ys, N + 1); /* the trend, drawn after the series */
    CHECK(t == 100);                               /* chunks of 10 */
    if (t == 100) {
        CHECK_NEAR(ys[0], y1, 1e-9);
        CHECK_NEAR(ys[24], y1, 1e-9); /* the chunk holding the outlier */
        CHECK_NEAR(ys[99], y2, 1e-9);
        CHECK(xs[1] > xs[0] && xs[99] > xs[98]);
    }
    free(svg);
}

int main(void) {
    test_percentile();
    test_slope();
    test_summary();
    test_rss();
    test_svg_linear();
    test_svg_log();
    test_svg_trend();
    return tu_done();
}
