/* int8 execution: what the compiler and the backends agree a quantized step
 * is (docs/int8.md).  Backend-neutral: no oneDNN here.
 *
 * A compile with FROST_PRECISION_INT8 runs fr_fuse_int8() (fuse.h) after the
 * other fusion passes: a CONV, or a MATMUL with constant weights, without
 * residual, whose input is quantized (fr_int8_value_quant) and whose
 * weights are on an int8 grid (fr_int8_weight_scales) gets
 * fr_conv_params.int8_scale (plan.h); a FakeQuant that alone reads its output
 * is fused into it as out_quant when its range is a u8 one (fr_int8_fq_u8)
 * and the activation is none, Relu, Relu6 or LeakyRelu (they commute with a
 * positive scale).  The plan keeps FakeQuant's float semantics: the
 * reference kernels run such a step as conv, then the FakeQuant. */
#ifndef FR_INT8_H
#define FR_INT8_H

#include <stddef.h>

#include "graph/plan.h"

/* A u8 quantization: real = (q - zero_point) * scale, q in [0, 255]. */
typedef struct fr_u8q {
    float scale;
    int zero_point;
} fr_u8q;

/* Whether FakeQuant `p` quantizes onto 256 levels 0..255 (8 bits, not
 * narrow), one range for the tensor: then *q is its grid (nudged zero point
 * and scale); 0 otherwise (per channel, fewer bits, narrow range, zeros). */
int fr_int8_fq_u8(const fr_fake_quant_params *p, fr_u8q *q);

/* Whether weights laid out as `rows` x `cols` (row-major, column = output
 * channel: HWIO, depthwise [kh][kw][cin][mult], MatMul [K][N]) are, column
 * by column, integer multiples q * scale[col] with q in [-128, 127]; exact
 * up to the float rounding of that product.  `w` are floats, or, when NULL,
 * `raw` the same as unaligned little-endian float bytes.  An all-zero
 * column gets scale 1.  1 and scale[] filled, or 0. */
int fr_int8_weight_scales(const float *w, const void *raw, size_t rows, int cols, float *scale);

#endif
