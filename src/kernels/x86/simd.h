/* Eight-float vectors (GCC / clang vector extensions) for frost's own kernels
 * next to oneDNN (dnnl_wino.c, dnnl_pool.c): one AVX register on x86-64. */
#ifndef FR_KERNELS_X86_SIMD_H
#define FR_KERNELS_X86_SIMD_H

#include <string.h>

#include "graph/plan.h"


/* A kernel comes twice: FR_SIMD_TARGET name_v8 on vectors (compiled for
 * AVX2 on x86-64) and name_1 on single floats; fr_simd_ok() tells whether
 * this CPU runs the first.  Every function taking or returning vectors is
 * FR_SIMD_TARGET too (and called only from such functions). */
#if defined(__x86_64__) && defined(__GNUC__)
#define FR_SIMD_TARGET __attribute__((target("avx2")))
static inline int fr_simd_ok(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") != 0;
}
#else
#define FR_SIMD_TARGET
static inline int fr_simd_ok(void) {
    return 1;
}
#endif

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

static inline float ld1(const float *p) {
    return *p;
}

static inline void st1(float *p, float x) {
    *p = x;
}

FR_SIMD_TARGET static inline v8 sel8(v8i m, v8 a, v8 b) { /* m ? a : b, per lane */
    return (v8)((m & (v8i)a) | (~m & (v8i)b));
}

/* The activations fused into frost's kernels (not sigmoid / tanh). */
static inline int fr_simd_act_ok(fr_act act) {
    return act == FR_ACT_NONE || act == FR_ACT_RELU || act == FR_ACT_RELU6 || act == FR_ACT_LEAKY;
}

FR_SIMD_TARGET static inline v8 act8(fr_act act, float alpha, v8 x) {
    const v8 zero = {0}, six = zero + 6.f;
    switch (act) {
    case FR_ACT_RELU: return sel8(x > zero, x, zero);
    case FR_ACT_RELU6: return sel8(x > zero, sel8(x < six, x, six), zero);
    case FR_ACT_LEAKY: return sel8(x < zero, x * alpha, x);
    default: return x;
    }
}

static inline float act1(fr_act act, float alpha, float x) {
    switch (act) {
    case FR_ACT_RELU: return x > 0.f ? x : 0.f;
    case FR_ACT_RELU6: return x > 0.f ? (x < 6.f ? x : 6.f) : 0.f;
    case FR_ACT_LEAKY: return x < 0.f ? alpha * x : x;
    default: return x;
    }
}

#endif
