/* The pool row on 8 channels per AVX vector (pool_template.h), the channels
 * past the last multiple of 8 one at a time. */
#include "kernels/ukernels.h"

#if FR_KERNELS_X86
#include "kernels/pool_template.h"
#include "kernels/x86/simd.h"

FR_SIMD_TARGET static inline v8 max8(v8 a, v8 b) {
    return sel8(a > b, a, b);
}

#define MAX_8 max8

FR_SIMD_TARGET
void fr_pool_row_avx2(const fr_pool_geom *k, const float *x, float *y, int64_t oy) {
    const v8 zero8 = {0}, lowest8 = zero8 - FLT_MAX;
    FR_POOL_ROW_BEGIN
    FR_POOL_PIXEL(v8, 8, ld8, st8, (k->max ? lowest8 : zero8), act8)
    FR_POOL_PIXEL(float, 1, ld1, st1, (k->max ? -FLT_MAX : 0.f), act1)
    FR_POOL_ROW_END
}
#endif
