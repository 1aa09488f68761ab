/* Eight-float vectors (GCC / clang vector extensions) for the AVX2
 * microkernels of src/kernels/x86/: one AVX register (and FR_SIMD_VEC, which
 * x86/wino_avx512.c instantiates on sixteen floats, one AVX-512 register).
 *
 * Every function taking or returning vectors is FR_SIMD_TARGET (compiled for
 * AVX2; the AVX-512 ones for AVX-512F) and is called only from such
 * functions, which the drivers run only where fr_kernels_select_isa() found
 * the instructions (src/kernels/select.c).
 */
#ifndef FR_KERNELS_X86_SIMD_H
#define FR_KERNELS_X86_SIMD_H

#include <string.h>

#include "kernels/ukernels.h"

#define FR_SIMD_TARGET __attribute__((target("avx2")))

/* ldN / stN (unaligned), selN (m ? a : b, per lane) and actN (act1 of
 * ukernels.h, per lane) on vectors T of N floats (TI: N ints). */
#define FR_SIMD_VEC(T, TI, N, ATTR)                                                                                   \
    ATTR static inline T ld##N(const float *p) {                                                                      \
        T v;                                                                                                          \
        memcpy(&v, p, sizeof(v));                                                                                     \
        return v;                                                                                                     \
    }                                                                                                                 \
    ATTR static inline void st##N(float *p, T v) { memcpy(p, &v, sizeof(v)); }                                       \
    ATTR static inline T sel##N(TI m, T a, T b) { return (T)((m & (TI)a) | (~m & (TI)b)); }                           \
    ATTR static inline T act##N(fr_act act, float alpha, T x) {                                                       \
        const T zero = {0}, six = zero + 6.f;                                                                         \
        switch (act) {                                                                                                \
        case FR_ACT_RELU: return sel##N(x > zero, x, zero);                                                           \
        case FR_ACT_RELU6: return sel##N(x > zero, sel##N(x < six, x, six), zero);                                    \
        case FR_ACT_LEAKY: return sel##N(x < zero, x * alpha, x);                                                     \
        default: return x;                                                                                            \
        }                                                                                                             \
    }

typedef float v8 __attribute__((vector_size(32)));
typedef int v8i __attribute__((vector_size(32)));
FR_SIMD_VEC(v8, v8i, 8, FR_SIMD_TARGET)

#endif
