/* The u8 pool row in portable C (the x86/ form's arithmetic, lane by lane). */
#include <math.h>

#include "kernels/ukernels.h"

void fr_pool_u8_row_generic(const fr_pool_geom *k, const uint8_t *x, uint8_t *y, int64_t oy) {
    for (int64_t ox = 0; ox < k->ow; ox++) {
        int64_t y0, y1, x0, x1, cnt = fr_pool_u8_window(k, oy, ox, &y0, &y1, &x0, &x1);
        float inv = cnt ? 1.f / (float)(2 * cnt) : 0.f;
        uint8_t *out = y + (oy * k->ow + ox) * k->c;
        for (int64_t ch = 0; ch < k->c; ch++) {
            uint32_t acc = 0;
            for (int64_t iy = y0; iy < y1; iy++)
                for (int64_t ix = x0; ix < x1; ix++) {
                    uint32_t v = x[(iy * k->w + ix) * k->c + ch];
                    acc = k->max ? (v > acc ? v : acc) : acc + v;
                }
            if (!k->max && cnt) {
                float q = floorf((float)(2 * acc + (uint32_t)cnt) * inv + FR_POOL_U8_EPS);
                acc = q > 255.f ? 255u : (uint32_t)q;
            }
            out[ch] = (uint8_t)acc;
        }
    }
}
