/* The indirect GEMM (igemm.c): a dense FP32 convolution as a matrix
 * product over NHWC activations, and the plain product of its 6 x 16 tile
 * (the Winograd kernels' per-point products).  Internal to src/kernels/
 * (backends use fr_kernels_conv_*, kernels.h) and its tests.
 *
 * Packed weights: panels of 16 output channels, [ceil(n / 16)][k][16], zero
 * past n, so that a panel is read sequentially.  Objects as in kernels.h.
 */
#ifndef FR_KERNELS_IGEMM_H
#define FR_KERNELS_IGEMM_H

#include "kernels/kernels.h"

typedef struct fr_igemm fr_igemm;

/* The packed weights of conv c: {panels, kh * kw * cin, 16}. */
void fr_igemm_weights_dims(const fr_conv_params *c, int64_t dims[3]);
void fr_igemm_pack(const fr_conv_params *c, float *wp);

/* The kernel of conv step `step` (dense, f32, an activation fr_kernels_act_ok)
 * over packed weights wp; simd: 0 the portable tile, 1 the AVX2 + FMA tile
 * (fr_kernels_isa.avx2_fma), 2 also AVX-512's tile of two panels
 * (fr_kernels_isa.avx512; the same bits). */
frost_status fr_igemm_create(const fr_plan *plan, const fr_step *step, const float *wp, int simd, int threads,
                             fr_igemm **out);
size_t fr_igemm_temp_bytes(const fr_igemm *g); /* indirection buffers, one per thread */
void fr_igemm_run(const fr_igemm *g, const fr_team *team, const float *x, float *y, void *temp, const float *res);
void fr_igemm_free(fr_igemm *g);

/* C (m x n, rows n floats apart) = A (m x k, rows k apart) * B, on the
 * calling thread, with B packed (fr_igemm_packed_floats(k, n) floats, row
 * `row` of B written by fr_igemm_pack_row); simd: 0 the portable tile, 1
 * the AVX2 + FMA tile (fr_kernels_isa.avx2_fma), 2 the AVX-512 tiles
 * (fr_kernels_isa.avx512; the same bits as 1): fr_igemm_simd(isa) for
 * this CPU's form.  fr_igemm_packed_rows: the
 * rows of its tile (m best a multiple of it). */
static inline int fr_igemm_simd(fr_kernels_isa isa) { return isa.avx512 ? 2 : isa.avx2_fma; }
size_t fr_igemm_packed_floats(int64_t k, int64_t n);
void fr_igemm_pack_row(float *bp, int64_t k, int64_t n, int64_t row, const float *src);
int fr_igemm_packed_rows(int simd);
void fr_igemm_packed(int simd, int64_t m, int64_t n, int64_t k, const float *a, const float *bp, float *c);

/* n of conv c's weights from HWIO row `row` ((ky * kw + kx) * cin + ci),
 * output channel o0 on, read from c->weights or the file's unaligned
 * c->weights_raw and scaled by a folded batch norm (c->weight_scale): what
 * every packer reads. */
void fr_kernels_weights_row(const fr_conv_params *c, int64_t row, int64_t o0, int64_t n, float *dst);

#endif
