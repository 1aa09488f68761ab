/* The plain product of the Winograd kernels (fr_igemm_packed) in AVX-512F:
 * tiles of 8 rows x 32 columns (two 16-column panels of the packed B), 16
 * accumulators; per column of A two weight loads and 8 broadcasts for 16
 * FMAs.  Each output is accumulated as the AVX2 tile accumulates it (from
 * zero, one FMA per k in order, then + 0 as its bias), so both give the
 * same bits; only more lanes a vector.  Rows past m repeat the last row
 * (never stored), columns past n are masked off at the store. */
#include "kernels/ukernels.h"

#if FR_KERNELS_X86
#include <immintrin.h>

#define FR_G5_TARGET __attribute__((target("avx512f")))

enum { G5_MR = FR_GEMM_AVX512_MR, G5_NR = 16 };

#define G5_ROWS(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7)
#define G5_PTR(i) const float *a##i = a + (size_t)(i < rows ? i : rows - 1) * (size_t)k;
#define G5_ZERO2(i) __m512 c##i##0 = _mm512_setzero_ps(), c##i##1 = c##i##0;
#define G5_FMA2(i)                                                                                                    \
    x = _mm512_set1_ps(a##i[kk]);                                                                                     \
    c##i##0 = _mm512_fmadd_ps(x, b0, c##i##0);                                                                        \
    c##i##1 = _mm512_fmadd_ps(x, b1, c##i##1);
#define G5_STORE2(i)                                                                                                  \
    if (i < rows) {                                                                                                   \
        _mm512_mask_storeu_ps(c + (size_t)i * (size_t)ldc, m0, _mm512_add_ps(c##i##0, zero));                         \
        _mm512_mask_storeu_ps(c + (size_t)i * (size_t)ldc + G5_NR, m1, _mm512_add_ps(c##i##1, zero));                 \
    }
#define G5_ZERO1(i) __m512 c##i##0 = _mm512_setzero_ps();
#define G5_FMA1(i) c##i##0 = _mm512_fmadd_ps(_mm512_set1_ps(a##i[kk]), b0, c##i##0);
#define G5_STORE1(i)                                                                                                  \
    if (i < rows) _mm512_mask_storeu_ps(c + (size_t)i * (size_t)ldc, m0, _mm512_add_ps(c##i##0, zero));

/* rows (<= 8) x two panels: w and w + k * 16; m0, m1 the columns stored. */
FR_G5_TARGET static void tile2(int rows, int64_t k, const float *a, const float *w, float *c, int64_t ldc,
                               __mmask16 m0, __mmask16 m1) {
    G5_ROWS(G5_PTR)
    G5_ROWS(G5_ZERO2)
    const float *w1 = w + (size_t)k * G5_NR;
    const __m512 zero = _mm512_setzero_ps();
#pragma GCC unroll 2
    for (int64_t kk = 0; kk < k; kk++) {
        __m512 b0 = _mm512_loadu_ps(w + (size_t)kk * G5_NR), b1 = _mm512_loadu_ps(w1 + (size_t)kk * G5_NR), x;
        G5_ROWS(G5_FMA2)
    }
    G5_ROWS(G5_STORE2)
}

/* rows (<= 8) x one panel. */
FR_G5_TARGET static void tile1(int rows, int64_t k, const float *a, const float *w, float *c, int64_t ldc,
                               __mmask16 m0) {
    G5_ROWS(G5_PTR)
    G5_ROWS(G5_ZERO1)
    const __m512 zero = _mm512_setzero_ps();
#pragma GCC unroll 4
    for (int64_t kk = 0; kk < k; kk++) {
        __m512 b0 = _mm512_loadu_ps(w + (size_t)kk * G5_NR);
        G5_ROWS(G5_FMA1)
    }
    G5_ROWS(G5_STORE1)
}

static __mmask16 cols_mask(int64_t cols) {
    return cols >= G5_NR ? (__mmask16)0xffff : cols <= 0 ? (__mmask16)0 : (__mmask16)((1u << cols) - 1);
}

FR_G5_TARGET
void fr_gemm_avx512(int64_t m, int64_t n, int64_t k, const float *a, const float *bp, float *c) {
    int64_t panels = (n + G5_NR - 1) / G5_NR;
    for (int64_t p = 0; p < panels; p += 2) {
        const float *w = bp + (size_t)p * (size_t)k * G5_NR;
        int64_t j0 = p * G5_NR;
        __mmask16 m0 = cols_mask(n - j0), m1 = cols_mask(n - j0 - G5_NR);
        for (int64_t r0 = 0; r0 < m; r0 += G5_MR) {
            int rows = m - r0 < G5_MR ? (int)(m - r0) : G5_MR;
            const float *ar = a + (size_t)r0 * (size_t)k;
            float *cr = c + (size_t)r0 * (size_t)n + (size_t)j0;
            if (p + 1 < panels) tile2(rows, k, ar, w, cr, n, m0, m1);
            else tile1(rows, k, ar, w, cr, n, m0);
        }
    }
}
#endif
