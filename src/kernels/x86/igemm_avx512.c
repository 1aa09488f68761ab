/* The indirect GEMM's tile on two panels at once in AVX-512F: 6 rows x 32
 * columns, 12 accumulators; per column of the left-hand rows two weight
 * loads (the panels are k * 16 floats apart) and 6 broadcasts for 12 FMAs.
 * Each output goes through the AVX2 tile's operations in its order (from
 * zero, one FMA per column, + bias, + residual, act), so both give the same
 * bits; columns past `cols` are masked off. */
#include "kernels/ukernels.h"

#if FR_KERNELS_X86
#include <immintrin.h>

#define FR_IG5_TARGET __attribute__((target("avx512f")))

FR_IG5_TARGET static inline __m512 ig5_act(const fr_ig_epilogue *e, __m512 v) {
    const __m512 zero = _mm512_setzero_ps();
    switch (e->act) {
    case FR_ACT_RELU: return _mm512_max_ps(v, zero);
    case FR_ACT_RELU6: return _mm512_min_ps(_mm512_max_ps(v, zero), _mm512_set1_ps(6.f));
    case FR_ACT_LEAKY:
        return _mm512_mask_blend_ps(_mm512_cmp_ps_mask(v, zero, _CMP_LT_OQ), v, _mm512_mul_ps(v, _mm512_set1_ps(e->alpha)));
    default: return v;
    }
}

#define IG5_ROW(i)                                                                                                    \
    x = _mm512_set1_ps(a##i[c]);                                                                                      \
    c##i##0 = _mm512_fmadd_ps(x, b0, c##i##0);                                                                        \
    c##i##1 = _mm512_fmadd_ps(x, b1, c##i##1);

FR_IG5_TARGET
void fr_ig_tile2_avx512(const fr_ig_epilogue *e, const fr_ig_seg *seg, int n, const float *w, int64_t k,
                        const float *bias, float *y, const float *res, int rows, int cols) {
    __m512 c00 = _mm512_setzero_ps(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00;
    __m512 c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00;
    const size_t second = (size_t)k * FR_IG_NR;
    for (int s = 0; s < n; s++) {
        const float *a0 = seg[s].p[0], *a1 = seg[s].p[1], *a2 = seg[s].p[2], *a3 = seg[s].p[3], *a4 = seg[s].p[4],
                    *a5 = seg[s].p[5];
        int64_t len = seg[s].len;
#pragma GCC unroll 4
        for (int64_t c = 0; c < len; c++, w += FR_IG_NR) {
            __m512 b0 = _mm512_loadu_ps(w), b1 = _mm512_loadu_ps(w + second), x;
            IG5_ROW(0) IG5_ROW(1) IG5_ROW(2) IG5_ROW(3) IG5_ROW(4) IG5_ROW(5)
        }
    }
    __m512 acc[12] = {c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51};
    __mmask16 m0 = cols >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << cols) - 1);
    __mmask16 m1 = cols >= 32 ? (__mmask16)0xffff : cols <= 16 ? (__mmask16)0 : (__mmask16)((1u << (cols - 16)) - 1);
    __m512 bb0 = bias ? _mm512_loadu_ps(bias) : _mm512_setzero_ps();
    __m512 bb1 = bias ? _mm512_loadu_ps(bias + 16) : _mm512_setzero_ps();
    for (int i = 0; i < rows; i++) {
        float *yr = y + (size_t)i * (size_t)e->ldy;
        __m512 v0 = _mm512_add_ps(acc[2 * i], bb0), v1 = _mm512_add_ps(acc[2 * i + 1], bb1);
        if (res) {
            const float *rr = res + (size_t)i * (size_t)e->ldy;
            v0 = _mm512_add_ps(v0, _mm512_maskz_loadu_ps(m0, rr));
            v1 = _mm512_add_ps(v1, _mm512_maskz_loadu_ps(m1, rr + 16));
        }
        _mm512_mask_storeu_ps(yr, m0, ig5_act(e, v0));
        _mm512_mask_storeu_ps(yr + 16, m1, ig5_act(e, v1));
    }
}
#endif
