/* The u8 pool row in AVX2: 32 channels a vector, the channels past the
 * last multiple of 32 one at a time.  A max with vpmaxub; an average (of at
 * most 64 codes a window: the driver gives larger ones to the generic form)
 * summed in 16-bit lanes and divided by a multiply-high, as the AVX-512
 * form (exact: ukernels.h). */
#include <string.h>

#include "kernels/ukernels.h"

#if FR_KERNELS_X86
#include <immintrin.h>

#define FR_PU2_TARGET __attribute__((target("avx2")))

/* ((2 sum + cnt) * m >> 16) >> sh for 16 u16 sums (fr_pool_u8_divisor) */
FR_PU2_TARGET static inline __m256i pu2_div16(__m256i sum, __m256i cnt, __m256i m, __m128i sh) {
    __m256i n = _mm256_add_epi16(_mm256_slli_epi16(sum, 1), cnt);
    return _mm256_srl_epi16(_mm256_mulhi_epu16(n, m), sh);
}

FR_PU2_TARGET
void fr_pool_u8_row_avx2(const fr_pool_geom *k, const uint8_t *x, uint8_t *y, int64_t oy) {
    const int64_t whole = k->c / 32 * 32;
    for (int64_t ox = 0; ox < k->ow; ox++) {
        int64_t y0, y1, x0, x1, cnt = fr_pool_u8_window(k, oy, ox, &y0, &y1, &x0, &x1);
        uint8_t *out = y + (oy * k->ow + ox) * k->c;
        if (!cnt) { /* a window wholly in the padding (no plan has one): 0, as the generic form */
            memset(out, 0, (size_t)k->c);
            continue;
        }
        unsigned mul = 0;
        int shift = 0;
        if (!k->max) fr_pool_u8_divisor(cnt, &mul, &shift); /* an average: of at most 64 codes here */
        const __m256i c16 = _mm256_set1_epi16((short)cnt), m16 = _mm256_set1_epi16((short)(unsigned short)mul);
        const __m128i sh = _mm_cvtsi32_si128(shift);
        for (int64_t ch = 0; ch < whole; ch += 32) {
            __m256i r;
            if (k->max) {
                r = _mm256_setzero_si256();
                for (int64_t iy = y0; iy < y1; iy++)
                    for (int64_t ix = x0; ix < x1; ix++)
                        r = _mm256_max_epu8(r, _mm256_loadu_si256((const __m256i *)(x + (iy * k->w + ix) * k->c + ch)));
            } else {
                __m256i lo = _mm256_setzero_si256(), hi = lo;
                for (int64_t iy = y0; iy < y1; iy++)
                    for (int64_t ix = x0; ix < x1; ix++) {
                        __m256i v = _mm256_loadu_si256((const __m256i *)(x + (iy * k->w + ix) * k->c + ch));
                        lo = _mm256_add_epi16(lo, _mm256_cvtepu8_epi16(_mm256_castsi256_si128(v)));
                        hi = _mm256_add_epi16(hi, _mm256_cvtepu8_epi16(_mm256_extracti128_si256(v, 1)));
                    }
                /* packus interleaves the two halves by 128-bit lane: put them back */
                r = _mm256_permute4x64_epi64(_mm256_packus_epi16(pu2_div16(lo, c16, m16, sh), pu2_div16(hi, c16, m16, sh)),
                                             0xD8);
            }
            _mm256_storeu_si256((__m256i *)(out + ch), r);
        }
        for (int64_t ch = whole; ch < k->c; ch++) {
            uint32_t acc = 0;
            for (int64_t iy = y0; iy < y1; iy++)
                for (int64_t ix = x0; ix < x1; ix++) {
                    uint32_t v = x[(iy * k->w + ix) * k->c + ch];
                    acc = k->max ? (v > acc ? v : acc) : acc + v;
                }
            out[ch] = (uint8_t)(k->max ? acc : (2 * acc + (uint32_t)cnt) / (uint32_t)(2 * cnt));
        }
    }
}
#endif
