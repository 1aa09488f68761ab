/* The u8 FakeQuant of f32 values (fr_fq_u8_fn), one loop that the generic/
 * and x86/ forms both inline and the compiler vectorizes for their target:
 * every lane runs the same IEEE operations (no contraction: GCC contracts
 * nothing in ISO C mode, clang is told below), so both give the same codes.
 * TensorFlow's arithmetic operation for operation, as the reference kernel
 * (src/backend/reference/quant.c) and the oneDNN backend's loop do it. */
#ifndef FR_KERNELS_QUANT_TEMPLATE_H
#define FR_KERNELS_QUANT_TEMPLATE_H

#include "kernels/kernels.h"

#ifdef __clang__
#pragma STDC FP_CONTRACT OFF
#endif

static inline __attribute__((always_inline)) void fr_fq_u8_loop(const fr_fq_u8 *k, const float *x, uint8_t *y,
                                                                size_t n, int divide) {
    const float lo = k->lo, hi = k->hi, nmin = k->nudged_min, nmax = k->nudged_max;
    const float scale = k->scale, inv_scale = k->inv_scale, qzero = k->quant_zero;
    const int zq = (int)qzero;
    for (size_t i = 0; i < n; i++) {
        const float x0 = x[i];
        float v = x0 > lo ? x0 : lo; /* NaN: the lower clamp's code */
        v = v < hi ? v : hi;
        float c = v > nmin ? v : nmin;
        c = c < nmax ? c : nmax;
        float sh = c - nmin;
        float q = divide ? sh / scale : sh * inv_scale;
        q = q - qzero;
        q = q + 0.5f;
        int fl = (int)q;
        fl -= (float)fl > q; /* floor */
        int code = fl + zq;
        y[i] = (uint8_t)(code < 0 ? 0 : code > 255 ? 255 : code);
    }
}

#endif
