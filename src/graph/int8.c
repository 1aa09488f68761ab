/* int8 execution: quantized values and weights on an int8 grid (int8.h). */
#include "graph/int8.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int fr_int8_fq_u8(const fr_fake_quant_params *p, fr_u8q *q) {
    if (!p || p->channels != 1 || !p->ranges) return 0;
    const fr_fq_range *r = &p->ranges[0];
    if (!(r->scale > 0.0f) || !isfinite(r->scale)) return 0;
    float zp = r->quant_zero, lo = roundf(r->nudged_min / r->scale) + zp, hi = roundf(r->nudged_max / r->scale) + zp;
    if (zp < 0.0f || zp > 255.0f || lo != 0.0f || hi != 255.0f) return 0;
    q->scale = r->scale;
    q->zero_point = (int)zp;
    return 1;
}

static inline float weight_at(const float *w, const void *raw, size_t i) {
    if (w) return w[i];
    float v;
    memcpy(&v, (const char *)raw + i * sizeof v, sizeof v);
    return v;
}

/* Whether every element of column c is an integer multiple of m / k, the
 * multiples within [-128, 127]. */
static int column_fits(const float *w, const void *raw, size_t rows, int cols, int c, float m, int k) {
    const float step = m / (float)k;
    for (size_t r = 0; r < rows; r++) {
        float v = weight_at(w, raw, r * (size_t)cols + (size_t)c) / step, n = roundf(v);
        if (fabsf(v - n) > 1e-3f || n < -128.0f || n > 127.0f) return 0;
    }
    return 1;
}

/* The nearest integer to v, for |v| < 2^22 (ties to even: a tie is off the
 * grid whichever way it rounds). */
static inline float nearest(float v) { return (v + 12582912.0f) - 12582912.0f; }

int fr_int8_weight_scales(const float *w, const void *raw, size_t rows, int cols, float *scale) {
    if ((!w && !raw) || rows == 0 || cols <= 0) return 0;
    /* row by row (the weights' order: one pass over memory, not one a
     * column): each column's largest |w| and its sign */
    float *m = scale; /* max |w| first, the scale at the end */
    unsigned char *neg = calloc((size_t)cols, 1), *off = calloc((size_t)cols, 1);
    float *step = malloc(sizeof(float) * (size_t)cols); /* each column's step m / 127 */
    int ok = neg && off && step;
    for (int c = 0; c < cols; c++) m[c] = 0.0f;
    for (size_t r = 0; ok && r < rows; r++)
        for (int c = 0; c < cols; c++) {
            float v = weight_at(w, raw, r * (size_t)cols + (size_t)c);
            if (!isfinite(v)) ok = 0;
            if (fabsf(v) > m[c]) m[c] = fabsf(v), neg[c] = v < 0.0f;
        }
    /* the usual case in one more pass, column_fits(k = 127) for every
     * column at once: the largest weight is 127 steps (a symmetric int8
     * quantization by max |w|) */
    for (int c = 0; ok && c < cols; c++) step[c] = m[c] > 0.0f ? m[c] / 127.0f : 1.0f;
    for (size_t r = 0; ok && r < rows; r++)
        for (int c = 0; c < cols; c++) {
            float v = weight_at(w, raw, r * (size_t)cols + (size_t)c) / step[c], n = nearest(v);
            if (!(fabsf(v) <= 128.5f) || fabsf(v - n) > 1e-3f || n < -128.0f || n > 127.0f) off[c] = 1;
        }
    for (int c = 0; ok && c < cols; c++) {
        float mc = m[c];
        if (mc == 0.0f) {
            scale[c] = 1.0f;
            continue;
        }
        /* else k steps: -128 on a full grid; fewer where weights kept a
         * coarser grid: the first k that fits, finest first (the division
         * as the grid's own: exactly as before) */
        int k = 0;
        if (!off[c]) k = 127;
        else if (neg[c] && column_fits(w, raw, rows, cols, c, mc, 128)) k = 128;
        for (int t = 126; t >= 1 && !k; t--)
            if (column_fits(w, raw, rows, cols, c, mc, t)) k = t;
        if (!k) ok = 0;
        else scale[c] = mc / (float)k;
    }
    free(neg), free(off), free(step);
    return ok;
}
