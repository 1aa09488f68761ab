/* The u8 FakeQuant of f32 values (fr_fq_u8_fn) vectorized for AVX-512
 * (quant_template.h): the generic form's operations on 16 lanes. */
#include "kernels/ukernels.h"

#if FR_KERNELS_X86
#include "kernels/quant_template.h"

__attribute__((target("avx512f,avx512bw,avx512vl")))
void fr_fq_u8_avx512(const fr_fq_u8 *k, const float *x, uint8_t *y, size_t n) {
    if (k->divide) fr_fq_u8_loop(k, x, y, n, 1);
    else fr_fq_u8_loop(k, x, y, n, 0);
}
#endif
