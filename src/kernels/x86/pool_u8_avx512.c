/* The u8 pool row in AVX-512BW: 64 channels a vector.  A max with vpmaxub;
 * an average summed in 16-bit lanes (so at most 257 codes a window: the
 * driver gives larger windows to the generic form), then divided in those
 * lanes by a multiply-high (windows of up to 64 codes), else per 16
 * channels in f32 floor((2 sum + count) * (1 / (2 count)) + 2^-12), as the
 * generic form (all exact: ukernels.h).  Masked loads (vmovdqu8 with a mask, two
 * to four times slower than plain ones on Zen 5) only for the channels
 * past the last multiple of 64. */
#include <string.h>

#include "kernels/ukernels.h"

#if FR_KERNELS_X86
#include <immintrin.h>

#define FR_PU8_TARGET __attribute__((target("avx512f,avx512bw")))

FR_PU8_TARGET static inline __m512i pu8_load(const uint8_t *p, int full, __mmask64 m) {
    return full ? _mm512_loadu_si512(p) : _mm512_maskz_loadu_epi8(m, p);
}

/* 16 u16 sums as 16 u8 codes */
FR_PU8_TARGET static inline __m128i pu8_avg16(__m256i sum, __m512i count, __m512 inv) {
    __m512i n = _mm512_add_epi32(_mm512_slli_epi32(_mm512_cvtepu16_epi32(sum), 1), count);
    __m512 q = _mm512_fmadd_ps(_mm512_cvtepi32_ps(n), inv, _mm512_set1_ps(FR_POOL_U8_EPS));
    q = _mm512_roundscale_ps(q, _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC);
    return _mm512_cvtusepi32_epi8(_mm512_cvtps_epu32(q));
}

/* The quotients of 32 u16 values n = 2 sum + cnt by 2 cnt (cnt <= 64):
 * ((n * m) >> 16) >> sh (fr_pool_u8_divisor). */
FR_PU8_TARGET static inline __m512i pu8_div16(__m512i sum, __m512i cnt, __m512i m, __m128i sh) {
    __m512i n = _mm512_add_epi16(_mm512_slli_epi16(sum, 1), cnt);
    return _mm512_srl_epi16(_mm512_mulhi_epu16(n, m), sh);
}

/* One output's window, [y0, y1) x [x0, x1), cnt codes, and for an average
 * of at most 64 codes the divisor's vectors (fr_pool_u8_divisor). */
typedef struct {
    int64_t y0, y1, x0, x1, cnt;
    __m512i c16, m16;
    __m128i sh;
} pu8_win;

/* channels [ch, ch + 64) of one output over its window */
FR_PU8_TARGET static inline __m512i pu8_block(const fr_pool_geom *k, const uint8_t *x, int64_t ch, const pu8_win *w,
                                              int full, __mmask64 m) {
    if (k->max) {
        __m512i r = _mm512_setzero_si512();
        for (int64_t iy = w->y0; iy < w->y1; iy++)
            for (int64_t ix = w->x0; ix < w->x1; ix++)
                r = _mm512_max_epu8(r, pu8_load(x + (iy * k->w + ix) * k->c + ch, full, m));
        return r;
    }
    __m512i lo = _mm512_setzero_si512(), hi = lo;
    for (int64_t iy = w->y0; iy < w->y1; iy++)
        for (int64_t ix = w->x0; ix < w->x1; ix++) {
            __m512i v = pu8_load(x + (iy * k->w + ix) * k->c + ch, full, m);
            lo = _mm512_add_epi16(lo, _mm512_cvtepu8_epi16(_mm512_castsi512_si256(v)));
            hi = _mm512_add_epi16(hi, _mm512_cvtepu8_epi16(_mm512_extracti64x4_epi64(v, 1)));
        }
    if (w->cnt <= 64) {
        __m256i a = _mm512_cvtepi16_epi8(pu8_div16(lo, w->c16, w->m16, w->sh));
        __m256i b = _mm512_cvtepi16_epi8(pu8_div16(hi, w->c16, w->m16, w->sh));
        return _mm512_inserti64x4(_mm512_castsi256_si512(a), b, 1);
    }
    const __m512i count = _mm512_set1_epi32((int)w->cnt);
    const __m512 inv = _mm512_set1_ps(1.f / (float)(2 * w->cnt));
    __m512i r = _mm512_castsi128_si512(pu8_avg16(_mm512_castsi512_si256(lo), count, inv));
    r = _mm512_inserti32x4(r, pu8_avg16(_mm512_extracti64x4_epi64(lo, 1), count, inv), 1);
    r = _mm512_inserti32x4(r, pu8_avg16(_mm512_castsi512_si256(hi), count, inv), 2);
    return _mm512_inserti32x4(r, pu8_avg16(_mm512_extracti64x4_epi64(hi, 1), count, inv), 3);
}

FR_PU8_TARGET
void fr_pool_u8_row_avx512(const fr_pool_geom *k, const uint8_t *x, uint8_t *y, int64_t oy) {
    const int64_t whole = k->c / 64 * 64;
    const __mmask64 m = ((__mmask64)1 << (k->c - whole)) - 1; /* the channels past whole (c - whole < 64) */
    for (int64_t ox = 0; ox < k->ow; ox++) {
        pu8_win w = {.c16 = _mm512_setzero_si512(), .m16 = _mm512_setzero_si512(), .sh = _mm_setzero_si128()};
        w.cnt = fr_pool_u8_window(k, oy, ox, &w.y0, &w.y1, &w.x0, &w.x1);
        uint8_t *out = y + (oy * k->ow + ox) * k->c;
        if (!w.cnt) { /* a window wholly in the padding (no plan has one): 0, as the generic form */
            memset(out, 0, (size_t)k->c);
            continue;
        }
        if (!k->max && w.cnt <= 64) { /* the divisor once an output, not once a block */
            unsigned mul;
            int shift;
            fr_pool_u8_divisor(w.cnt, &mul, &shift);
            w.c16 = _mm512_set1_epi16((short)w.cnt), w.m16 = _mm512_set1_epi16((short)(unsigned short)mul);
            w.sh = _mm_cvtsi32_si128(shift);
        }
        for (int64_t ch = 0; ch < whole; ch += 64) _mm512_storeu_si512(out + ch, pu8_block(k, x, ch, &w, 1, m));
        if (whole < k->c) _mm512_mask_storeu_epi8(out + whole, m, pu8_block(k, x, whole, &w, 0, m));
    }
}
#endif
