#include "bench_svg.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "bench_stats.h"

/* Canvas and plot area (pixels). */
enum { W = 960, H = 540, LEFT = 90, RIGHT = 30, TOP = 70, BOTTOM = 70 };
/* Series of TREND_MIN values or more also get a median line of about TREND_POINTS points. */
enum { TREND_MIN = 400, TREND_POINTS = 100 };

typedef struct axis {
    double lo, hi; /* data range shown (log axes: in log10 units) */
    int log;
} axis;

static void write_escaped(FILE *out, const char *s) {
    for (; s && *s; s++) {
        switch (*s) {
        case '&': fputs("&amp;", out); break;
        case '<': fputs("&lt;", out); break;
        case '>': fputs("&gt;", out); break;
        case '"': fputs("&quot;", out); break;
        default: fputc(*s, out);
        }
    }
}

/* The "nice" step (1, 2 or 5 times a power of ten) closest above span / target. */
static double nice_step(double span, int target) {
    if (!(span > 0)) return 1.0;
    double raw = span / target, mag = pow(10.0, floor(log10(raw))), f = raw / mag;
    return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * mag;
}

/* A darker shade of a "#rrggbb" color (for the median line over its faint
 * series); other color syntaxes are returned unchanged. */
static const char *darker(const char *color, char buf[8]) {
    unsigned rgb;
    if (!color || strlen(color) != 7 || color[0] != '#' || sscanf(color + 1, "%6x", &rgb) != 1) return color;
    unsigned r = (rgb >> 16 & 255) * 3 / 5, g = (rgb >> 8 & 255) * 3 / 5, b = (rgb & 255) * 3 / 5;
    snprintf(buf, 8, "#%02x%02x%02x", r, g, b);
    return buf;
}

static void format_tick(char *buf, size_t cap, double v) {
    if (v == 0) snprintf(buf, cap, "0");
    else if (fabs(v) >= 1e5 || fabs(v) < 1e-3) snprintf(buf, cap, "%.0e", v);
    else snprintf(buf, cap, "%.10g", v);
}

static double px_x(const axis *a, double x) { return LEFT + (x - a->lo) / (a->hi - a->lo) * (W - LEFT - RIGHT); }

static double px_y(const axis *a, double y) {
    double v = y;
    if (a->log) v = y > 0 ? log10(y) : a->lo;
    if (v < a->lo) v = a->lo;
    return H - BOTTOM - (v - a->lo) / (a->hi - a->lo) * (H - TOP - BOTTOM);
}

static void range_of(const bench_series *s, int count, double *minpos, double *max) {
    *minpos = DBL_MAX;
    *max = 0;
    for (int k = 0; k < count; k++)
        for (int i = 0; i < s[k].n; i++) {
            double v = s[k].y[i];
            if (v > 0 && v < *minpos) *minpos = v;
            if (v > *max) *max = v;
        }
}

int bench_chart_wants_log(const bench_series *series, int count) {
    double minpos, max;
    range_of(series, count, &minpos, &max);
    return minpos < DBL_MAX && max > 20 * minpos;
}

int bench_svg_write(FILE *out, const bench_chart *chart, const bench_series *series, int count) {
    int nmax = 1;
    for (int k = 0; k < count; k++)
        if (series[k].n > nmax) nmax = series[k].n;
    double minpos, max;
    range_of(series, count, &minpos, &max);
    int log_y = chart->log_y < 0 ? bench_chart_wants_log(series, count) : chart->log_y;
    if (minpos == DBL_MAX) log_y = 0; /* nothing positive to put on a log axis */

    axis ax = {0, nmax, 0}, ay;
    if (log_y) {
        ay.log = 1;
        ay.lo = floor(log10(minpos));
        ay.hi = ceil(log10(max));
        if (ay.hi <= ay.lo) ay.hi = ay.lo + 1;
    } else {
        ay.log = 0;
        ay.lo = 0;
        double step = nice_step(max > 0 ? max : 1, 5);
        ay.hi = ceil((max > 0 ? max : 1) / step) * step;
        if (ay.hi < max * 1.02) ay.hi += step; /* headroom above the top value */
    }

    fprintf(out,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
            "font-family=\"sans-serif\" font-size=\"13\">\n"
            "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n",
            W, H, W, H);
    fprintf(out, "<text x=\"%d\" y=\"28\" font-size=\"17\" font-weight=\"bold\" text-anchor=\"middle\">", W / 2);
    write_escaped(out, chart->title);
    fputs("</text>\n", out);
    if (chart->subtitle) {
        fprintf(out, "<text x=\"%d\" y=\"50\" fill=\"#555\" text-anchor=\"middle\">", W / 2);
        write_escaped(out, chart->subtitle);
        fputs("</text>\n", out);
    }

    /* Grid and ticks. */
    fputs("<g class=\"grid\" stroke=\"#e4e4e4\" stroke-width=\"1\">\n", out);
    double xstep = nice_step(ax.hi - ax.lo > 0 ? ax.hi - ax.lo : 1, 8);
    if (xstep < 1) xstep = 1;
    for (double x = ceil(ax.lo / xstep) * xstep; x <= ax.hi + 1e-9; x += xstep)
        fprintf(out, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\"/>\n", px_x(&ax, x), TOP, px_x(&ax, x),
                H - BOTTOM);
    if (ay.log) {
        for (int d = (int)ay.lo; d < (int)ay.hi; d++)
            for (int m = 1; m < 10; m++) {
                double y = m * pow(10.0, d);
                fprintf(out, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\"%s/>\n", LEFT, px_y(&ay, y), W - RIGHT,
                        px_y(&ay, y), m == 1 ? " stroke=\"#c8c8c8\"" : "");
            }
    } else {
        double ystep = nice_step(ay.hi, 5);
        for (double y = ystep; y <= ay.hi + ystep * 1e-9; y += ystep)
            fprintf(out, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\"/>\n", LEFT, px_y(&ay, y), W - RIGHT,
                    px_y(&ay, y));
    }
    fputs("</g>\n", out);

    /* Axes, tick labels, axis labels. */
    fprintf(out,
            "<g class=\"axes\" stroke=\"black\" stroke-width=\"1.2\">\n"
            "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\"/>\n"
            "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\"/>\n",
            LEFT, H - BOTTOM, W - RIGHT, H - BOTTOM, LEFT, TOP, LEFT, H - BOTTOM);
    for (double x = ceil(ax.lo / xstep) * xstep; x <= ax.hi + 1e-9; x += xstep)
        fprintf(out, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\"/>\n", px_x(&ax, x), H - BOTTOM,
                px_x(&ax, x), H - BOTTOM + 5);
    fputs("</g>\n<g class=\"ticks\" fill=\"black\">\n", out);
    char label[32];
    for (double x = ceil(ax.lo / xstep) * xstep; x <= ax.hi + 1e-9; x += xstep) {
        format_tick(label, sizeof label, x);
        fprintf(out, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%s</text>\n", px_x(&ax, x), H - BOTTOM + 20,
                label);
    }
    if (ay.log) {
        int decades = (int)(ay.hi - ay.lo);
        for (int d = (int)ay.lo; d <= (int)ay.hi; d++)
            for (int m = 1; m < 10; m++) {
                if (d == (int)ay.hi && m > 1) break;
                /* Label every decade; 2 and 5 as well when there are few decades. */
                if (!(m == 1 || (decades <= 2 && (m == 2 || m == 5)))) continue;
                double y = m * pow(10.0, d);
                format_tick(label, sizeof label, y);
                fprintf(out, "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%s</text>\n", LEFT - 8,
                        px_y(&ay, y) + 4, label);
            }
    } else {
        double ystep = nice_step(ay.hi, 5);
        for (double y = 0; y <= ay.hi + ystep * 1e-9; y += ystep) {
            format_tick(label, sizeof label, fabs(y) < ystep * 1e-9 ? 0 : y);
            fprintf(out, "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%s</text>\n", LEFT - 8, px_y(&ay, y) + 4,
                    label);
        }
    }
    fputs("</g>\n", out);
    fprintf(out, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">", (LEFT + W - RIGHT) / 2, H - 22);
    write_escaped(out, chart->xlabel);
    fprintf(out, "</text>\n<text x=\"0\" y=\"0\" text-anchor=\"middle\" transform=\"translate(24,%d) rotate(-90)\">",
            (TOP + H - BOTTOM) / 2);
    write_escaped(out, chart->ylabel);
    if (ay.log) fputs(" (log scale)", out);
    fputs("</text>\n", out);

    /* Series: every value as a polyline; long series faint, with the median of
     * each chunk of `chunk` iterations drawn over them as a bold path. */
    int chunk = nmax >= TREND_MIN ? (nmax + TREND_POINTS - 1) / TREND_POINTS : 0;
    double *buf = chunk ? malloc((size_t)chunk * sizeof *buf) : NULL;
    if (chunk && !buf) chunk = 0;
#define HAS_TREND(s) (chunk && (s)->n >= TREND_MIN && (s)->n >= 2 * chunk)
    for (int k = 0; k < count; k++) {
        const bench_series *s = &series[k];
        fprintf(out, "<polyline class=\"series\" data-name=\"");
        write_escaped(out, s->name);
        fprintf(out, "\" fill=\"none\" stroke=\"%s\" stroke-width=\"%s\" stroke-linejoin=\"round\" points=\"",
                s->color, !HAS_TREND(s) ? "1.4" : s->n > 2000 ? "0.6\" stroke-opacity=\"0.25" : "0.8\" stroke-opacity=\"0.35");
        for (int i = 0; i < s->n; i++) fprintf(out, "%s%.2f,%.2f", i ? " " : "", px_x(&ax, i + 1), px_y(&ay, s->y[i]));
        fputs("\"/>\n", out);
    }
    /* (Stroke widths above 2 make ImageMagick's SVG renderer close long polylines.) */
    for (int k = 0; chunk && k < count; k++) {
        const bench_series *s = &series[k];
        if (!HAS_TREND(s)) continue;
        char shade[8];
        fprintf(out, "<polyline class=\"trend\" fill=\"none\" stroke=\"%s\" stroke-width=\"2\" points=\"",
                darker(s->color, shade));
        for (int start = 0; start < s->n; start += chunk) {
            int len = s->n - start < chunk ? s->n - start : chunk;
            double med = bench_median(s->y + start, len, buf);
            fprintf(out, "%s%.2f,%.2f", start ? " " : "", px_x(&ax, start + (len + 1) / 2.0), px_y(&ay, med));
        }
        fputs("\"/>\n", out);
    }
    free(buf);
#undef HAS_TREND

    /* Legend, top right inside the plot area. */
    size_t longest = 0;
    for (int k = 0; k < count; k++)
        if (series[k].name && strlen(series[k].name) > longest) longest = strlen(series[k].name);
    int lw = 44 + (int)longest * 7, lh = 10 + 20 * count;
    int lx = W - RIGHT - lw - 10, ly = TOP + 10;
    fprintf(out, "<g class=\"legend\">\n<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"white\" "
                 "fill-opacity=\"0.9\" stroke=\"#999\"/>\n",
            lx, ly, lw, lh);
    for (int k = 0; k < count; k++) {
        int y = ly + 18 + 20 * k;
        fprintf(out, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"%s\" stroke-width=\"3\"/>\n", lx + 8,
                y - 4, lx + 32, y - 4, series[k].color);
        fprintf(out, "<text x=\"%d\" y=\"%d\">", lx + 38, y);
        write_escaped(out, series[k].name);
        fputs("</text>\n", out);
    }
    if (chunk)
        fprintf(out, "<text x=\"%d\" y=\"%d\" font-size=\"11\" fill=\"#555\">faint: every iteration; bold: median of "
                     "each %d iterations</text>\n",
                lx + 8, ly + lh + 14, chunk);
    fputs("</g>\n</svg>\n", out);
    return ferror(out) ? -1 : 0;
}
