/* Eight-float vectors (GCC / clang vector extensions) for the AVX2
 * microkernels of src/kernels/x86/: one AVX register.
 *
 * Every function taking or returning vectors is FR_SIMD_TARGET (compiled for
 * AVX2) and is called only from such functions, which the drivers run only
 * where fr_kernels_select_isa() found AVX2 (src/kernels/select.c).
 */
#ifndef FR_KERNELS_X86_SIMD_H
#define FR_KERNELS_X86_SIMD_H

#include <string.h>

#include "kernels/ukernels.h"

#define FR_SIMD_TARGET __attribute__((target("avx2")))

typedef float v8 __attribute__((vector_size(32)));
typedef int v8i __attribute__((vector_size(32)));

FR_SIMD_TARGET static inline v8 ld8(const float *p) {
    v8 v;
    memcpy(&v, p, sizeof(v));
    return v;
}

FR_SIMD_TARGET static inline void st8(float *p, v8 v) {
    memcpy(p, &v, sizeof(v));
}

FR_SIMD_TARGET static inline v8 sel8(v8i m, v8 a, v8 b) { /* m ? a : b, per lane */
    return (v8)((m & (v8i)a) | (~m & (v8i)b));
}

/* act1 (ukernels.h) on eight lanes. */
FR_SIMD_TARGET static inline v8 act8(fr_act act, float alpha, v8 x) {
    const v8 zero = {0}, six = zero + 6.f;
    switch (act) {
    case FR_ACT_RELU: return sel8(x > zero, x, zero);
    case FR_ACT_RELU6: return sel8(x > zero, sel8(x < six, x, six), zero);
    case FR_ACT_LEAKY: return sel8(x < zero, x * alpha, x);
    default: return x;
    }
}

#endif
