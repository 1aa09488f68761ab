/* The Winograd transforms on 16 channels per AVX-512 vector, then 8 per AVX
 * vector, then one at a time (wino_template.h): per channel the same
 * operations as the AVX2 and portable forms, so the same bits. */
#include "kernels/ukernels.h"

#if FR_KERNELS_X86
#include "kernels/wino_template.h"
#include "kernels/x86/simd.h"

#define FR_S16_TARGET __attribute__((target("avx512f")))

typedef float v16 __attribute__((vector_size(64)));
typedef int v16i __attribute__((vector_size(64)));

FR_SIMD_VEC(v16, v16i, 16, FR_S16_TARGET)

FR_WINO_POINTS(v16, v16, FR_S16_TARGET)
FR_WINO_POINTS(v8, v8, FR_SIMD_TARGET)
FR_WINO_POINTS(float, 1, )

FR_S16_TARGET static inline v16 bias16(const fr_wino_tile *w, int64_t o) {
    const v16 zero = {0};
    return w->bias ? ld16(w->bias + o) : zero;
}

FR_SIMD_TARGET static inline v8 bias8(const fr_wino_tile *w, int64_t o) {
    const v8 zero = {0};
    return w->bias ? ld8(w->bias + o) : zero;
}

#define FR_WINO_ATTR FR_S16_TARGET
#define FR_WINO_VEC_IN(D, A, BT)                                                                                      \
    FR_WINO##D##_IN(v16, 16, ld16, st16, A, BT##_v16) FR_WINO##D##_IN(v8, 8, ld8, st8, A, BT##_v8)
#define FR_WINO_VEC_OUT(D, A, M, AT)                                                                                  \
    FR_WINO##D##_OUT(v16, 16, ld16, st16, bias16, act16, A, M, AT##_v16)                                              \
    FR_WINO##D##_OUT(v8, 8, ld8, st8, bias8, act8, A, M, AT##_v8)
FR_WINO_KERNELS(fr_wino_avx512)
#endif
