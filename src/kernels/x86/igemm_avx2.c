/* The indirect GEMM's 6 x 16 tile in AVX2 + FMA: 12 accumulators, per
 * column of the left-hand rows two weight loads and 6 broadcasts for 12
 * FMAs; bias, residual and activation applied before the single store. */
#include "kernels/ukernels.h"

#if FR_KERNELS_X86
#include <immintrin.h>
#include <string.h>

#define FR_IG_TARGET __attribute__((target("avx2,fma")))

FR_IG_TARGET static inline __m256 ig_act(const fr_ig_epilogue *e, __m256 v) {
    const __m256 zero = _mm256_setzero_ps();
    switch (e->act) {
    case FR_ACT_RELU: return _mm256_max_ps(v, zero);
    case FR_ACT_RELU6: return _mm256_min_ps(_mm256_max_ps(v, zero), _mm256_set1_ps(6.f));
    case FR_ACT_LEAKY: return _mm256_blendv_ps(v, _mm256_mul_ps(v, _mm256_set1_ps(e->alpha)), _mm256_cmp_ps(v, zero, _CMP_LT_OQ));
    default: return v;
    }
}

#define IG_ROW(i)                                                                                                     \
    x = _mm256_broadcast_ss(a##i + c);                                                                                \
    c##i##0 = _mm256_fmadd_ps(x, b0, c##i##0);                                                                        \
    c##i##1 = _mm256_fmadd_ps(x, b1, c##i##1);

FR_IG_TARGET
void fr_ig_tile_avx2(const fr_ig_epilogue *e, const fr_ig_seg *seg, int n, const float *w, const float *bias,
                     float *y, const float *res, int rows, int cols) {
    __m256 c00 = _mm256_setzero_ps(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00;
    __m256 c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00;
    for (int s = 0; s < n; s++) {
        const float *a0 = seg[s].p[0], *a1 = seg[s].p[1], *a2 = seg[s].p[2], *a3 = seg[s].p[3], *a4 = seg[s].p[4],
                    *a5 = seg[s].p[5];
        int64_t len = seg[s].len;
#pragma GCC unroll 4
        for (int64_t c = 0; c < len; c++, w += FR_IG_NR) {
            __m256 b0 = _mm256_loadu_ps(w), b1 = _mm256_loadu_ps(w + 8), x;
            IG_ROW(0) IG_ROW(1) IG_ROW(2) IG_ROW(3) IG_ROW(4) IG_ROW(5)
        }
    }
    __m256 acc[12] = {c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51};
    __m256 bb0 = bias ? _mm256_loadu_ps(bias) : _mm256_setzero_ps();
    __m256 bb1 = bias ? _mm256_loadu_ps(bias + 8) : _mm256_setzero_ps();
    for (int i = 0; i < rows; i++) {
        float *yr = y + (size_t)i * (size_t)e->ldy;
        const float *rr = res ? res + (size_t)i * (size_t)e->ldy : NULL;
        __m256 v0 = _mm256_add_ps(acc[2 * i], bb0), v1 = _mm256_add_ps(acc[2 * i + 1], bb1);
        if (cols == FR_IG_NR) {
            if (rr) v0 = _mm256_add_ps(v0, _mm256_loadu_ps(rr)), v1 = _mm256_add_ps(v1, _mm256_loadu_ps(rr + 8));
            _mm256_storeu_ps(yr, ig_act(e, v0));
            _mm256_storeu_ps(yr + 8, ig_act(e, v1));
        } else {
            float t[FR_IG_NR];
            _mm256_storeu_ps(t, v0);
            _mm256_storeu_ps(t + 8, v1);
            if (rr)
                for (int j = 0; j < cols; j++) t[j] += rr[j];
            _mm256_storeu_ps(t, ig_act(e, _mm256_loadu_ps(t)));
            _mm256_storeu_ps(t + 8, ig_act(e, _mm256_loadu_ps(t + 8)));
            memcpy(yr, t, sizeof(float) * (size_t)cols);
        }
    }
}
#endif
