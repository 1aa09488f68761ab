/* The Winograd transforms on 8 channels per AVX vector (wino_template.h),
 * the channels past the last multiple of 8 one at a time. */
#include "kernels/ukernels.h"

#if FR_KERNELS_X86
#include "kernels/wino_template.h"
#include "kernels/x86/simd.h"

FR_WINO_POINTS(v8, v8, FR_SIMD_TARGET)
FR_WINO_POINTS(float, 1, )

FR_SIMD_TARGET static inline v8 bias8(const fr_wino_tile *w, int64_t o) {
    const v8 zero = {0};
    return w->bias ? ld8(w->bias + o) : zero;
}

#define FR_WINO_ATTR FR_SIMD_TARGET
#define FR_WINO_VEC_IN(D, A, BT) FR_WINO##D##_IN(v8, 8, ld8, st8, A, BT##_v8)
#define FR_WINO_VEC_OUT(D, A, M, AT) FR_WINO##D##_OUT(v8, 8, ld8, st8, bias8, act8, A, M, AT##_v8)
FR_WINO_KERNELS(fr_wino_avx2)
#endif
