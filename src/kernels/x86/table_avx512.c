/* The byte table (fr_u8_table_fn) in AVX-512 VBMI: 64 bytes a step, the 256
 * entries in four registers; vpermi2b looks up the low 7 bits of each byte
 * in two of them, the top bit picks which pair.  The same bytes as the
 * generic loop, only 64 at a time. */
#include "kernels/ukernels.h"

#if FR_KERNELS_X86
#include <immintrin.h>

#define FR_TB_TARGET __attribute__((target("avx512f,avx512bw,avx512vbmi")))

FR_TB_TARGET static inline __m512i tb_lookup(__m512i v, __m512i t0, __m512i t1, __m512i t2, __m512i t3) {
    __m512i lo = _mm512_permutex2var_epi8(t0, v, t1), hi = _mm512_permutex2var_epi8(t2, v, t3);
    return _mm512_mask_blend_epi8(_mm512_movepi8_mask(v), lo, hi);
}

FR_TB_TARGET
void fr_u8_table_avx512vbmi(const uint8_t *table, const uint8_t *x, uint8_t *y, size_t n) {
    const __m512i t0 = _mm512_loadu_si512(table), t1 = _mm512_loadu_si512(table + 64);
    const __m512i t2 = _mm512_loadu_si512(table + 128), t3 = _mm512_loadu_si512(table + 192);
    size_t i = 0;
    for (; i + 64 <= n; i += 64)
        _mm512_storeu_si512(y + i, tb_lookup(_mm512_loadu_si512(x + i), t0, t1, t2, t3));
    if (i < n) {
        __mmask64 m = _cvtu64_mask64(~0ull >> (64 - (n - i)));
        _mm512_mask_storeu_epi8(y + i, m, tb_lookup(_mm512_maskz_loadu_epi8(m, x + i), t0, t1, t2, t3));
    }
}
#endif
