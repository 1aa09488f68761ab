/* The pool row as one macro template, instantiated on 8-float vectors (with a
 * scalar tail) in x86/pool_avx2.c and on floats in generic/pool.c: the same
 * operations per channel in both, so the same results to the bit.  Internal
 * to src/kernels/.
 *
 * A row function over `const fr_pool_geom *k`, x, y and oy is
 *     FR_POOL_ROW_BEGIN  FR_POOL_PIXEL(...) for each width  FR_POOL_ROW_END
 * with MAX_<width> defined for each width it uses (MAX_1 here).
 */
#ifndef FR_KERNELS_POOL_TEMPLATE_H
#define FR_KERNELS_POOL_TEMPLATE_H

#include <float.h>

#include "kernels/ukernels.h"

/* Channels [ch, ch + W) of output pixel `out`, over the window rows [y0, y1)
 * and columns [x0, x1) inside the image; inv = 1 / their count. */
#define FR_POOL_PIXEL(T, W, LD, ST, INIT, ACT)                                                                    \
    for (; ch + W <= k->c; ch += W) {                                                                             \
        T acc = INIT;                                                                                             \
        for (int64_t iy = y0; iy < y1; iy++)                                                                      \
            for (int64_t ix = x0; ix < x1; ix++) {                                                                \
                T v = LD(x + (iy * k->w + ix) * k->c + ch);                                                       \
                if (k->max)                                                                                       \
                    acc = MAX_##W(acc, v);                                                                        \
                else                                                                                              \
                    acc += v;                                                                                     \
            }                                                                                                     \
        if (!k->max) acc *= inv;                                                                                  \
        if (k->bias) acc += LD(k->bias + ch);                                                                     \
        ST(out + ch, ACT(k->act, k->alpha, acc));                                                                 \
    }

static inline float max1(float a, float b) {
    return a > b ? a : b;
}

#define MAX_1 max1

/* Output row oy of one image: the window of each pixel clipped to the image. */
#define FR_POOL_ROW_BEGIN                                                                                         \
    int64_t y0 = oy * k->sh - k->pt, y1 = y0 + k->kh;                                                             \
    if (y0 < 0) y0 = 0;                                                                                           \
    if (y1 > k->h) y1 = k->h;                                                                                     \
    for (int64_t ox = 0; ox < k->ow; ox++) {                                                                      \
        int64_t x0 = ox * k->sw - k->pl, x1 = x0 + k->kw;                                                         \
        if (x0 < 0) x0 = 0;                                                                                       \
        if (x1 > k->w) x1 = k->w;                                                                                 \
        float inv = y1 > y0 && x1 > x0 ? 1.f / (float)((y1 - y0) * (x1 - x0)) : 0.f;                             \
        float *out = y + (oy * k->ow + ox) * k->c;                                                                \
        int64_t ch = 0;
#define FR_POOL_ROW_END }

#endif
