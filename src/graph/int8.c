/* int8 execution: quantized values and weights on an int8 grid (int8.h). */
#include "graph/int8.h"

#include <math.h>
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

int fr_int8_weight_scales(const float *w, const void *raw, size_t rows, int cols, float *scale) {
    if ((!w && !raw) || rows == 0 || cols <= 0) return 0;
    for (int c = 0; c < cols; c++) {
        float m = 0.0f, signed_max = 0.0f;
        for (size_t r = 0; r < rows; r++) {
            float v = weight_at(w, raw, r * (size_t)cols + (size_t)c);
            if (!isfinite(v)) return 0;
            if (fabsf(v) > m) m = fabsf(v), signed_max = v;
        }
        if (m == 0.0f) {
            scale[c] = 1.0f;
            continue;
        }
        /* The largest weight is k steps (k = 127 for a symmetric int8
         * quantization by max |w|; -128 on a full grid; fewer where weights
         * kept a coarser grid): the first k that fits, finest first. */
        int k = 0;
        if (column_fits(w, raw, rows, cols, c, m, 127)) k = 127;
        else if (signed_max < 0.0f && column_fits(w, raw, rows, cols, c, m, 128)) k = 128;
        for (int t = 126; t >= 1 && !k; t--)
            if (column_fits(w, raw, rows, cols, c, m, t)) k = t;
        if (!k) return 0;
        scale[c] = m / (float)k;
    }
    return 1;
}
