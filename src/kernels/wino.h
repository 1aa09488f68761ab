/* Winograd convolution (wino.c): stride-1 3x3 / 5x5 layers as F(2x2, 3x3),
 * F(4x4, 3x3), F(4x4, 5x5), and 1 x r / r x 1 layers as 1-D F(4, 3),
 * F(2, 5), F(2, 7) along the kernel.  Internal to src/kernels/ (backends use
 * fr_kernels_conv_*, kernels.h) and its tests.  `ch` is a choice of
 * fr_kernels_select_conv with impl FR_CONV_WINO.  Objects as in kernels.h.
 */
#ifndef FR_KERNELS_WINO_H
#define FR_KERNELS_WINO_H

#include "kernels/kernels.h"

typedef struct fr_wino fr_wino;

/* The transformed weights: {points, fr_igemm_packed_floats(cin, cout)}, each
 * point's U (cin x cout) packed for the tile's products. */
void fr_wino_weights_dims(const fr_conv_choice *ch, const fr_conv_params *c, int64_t dims[2]);
frost_status fr_wino_pack(const fr_conv_choice *ch, const fr_conv_params *c, float *u);

frost_status fr_wino_create(const fr_conv_choice *ch, const fr_plan *plan, const fr_step *step, const float *u,
                            fr_kernels_isa isa, int threads, fr_wino **out);
size_t fr_wino_temp_bytes(const fr_wino *w); /* each thread's scratch */
const char *fr_wino_name(const fr_wino *w);  /* "frost:winograd_f2x2_3x3", "frost:winograd_f2_1x7", ... */
void fr_wino_run(const fr_wino *w, const fr_team *team, const float *x, float *y, void *temp, const float *res);
void fr_wino_free(fr_wino *w);

#endif
