/* A small, dependency-free SVG line chart for `frost bench`: one polyline per
 * series over x = 1..n, axes with ticks and labels, a legend, and a linear or
 * logarithmic y axis. */
#ifndef FROST_BENCH_SVG_H
#define FROST_BENCH_SVG_H

#include <stdio.h>

typedef struct bench_series {
    const char *name;  /* legend text; also written as the polyline's data-name */
    const char *color; /* CSS color, e.g. "#1f77b4" */
    const double *y;   /* y[i] is the value at x = i + 1 */
    int n;
} bench_series;

typedef struct bench_chart {
    const char *title;
    const char *subtitle; /* may be NULL */
    const char *xlabel;
    const char *ylabel;
    /* -1: automatic (logarithmic when the largest positive value is more than
     * 20 times the smallest), 0: linear from 0, 1: logarithmic. */
    int log_y;
} bench_chart;

/* Whether the automatic rule picks a logarithmic y axis for these series. */
int bench_chart_wants_log(const bench_series *series, int count);

/* Write the chart as a standalone SVG document.  Returns 0, or -1 on a write
 * error.  Each series is one <polyline class="series"> with one point per
 * value (values <= 0 are drawn at the bottom of a logarithmic axis).  When the
 * longest series has 400 values or more, every series at least twice as long
 * as a chunk (longest / 100, rounded up) is drawn faint and gets a bold
 * <polyline class="trend"> through the median of each chunk of values. */
int bench_svg_write(FILE *out, const bench_chart *chart, const bench_series *series, int count);

#endif
