/* The u8 FakeQuant of f32 values (fr_fq_u8_fn) in portable C (quant_template.h). */
#include "kernels/quant_template.h"
#include "kernels/ukernels.h"

void fr_fq_u8_generic(const fr_fq_u8 *k, const float *x, uint8_t *y, size_t n) {
    if (k->divide) fr_fq_u8_loop(k, x, y, n, 1);
    else fr_fq_u8_loop(k, x, y, n, 0);
}
