/* The oneDNN backend (src/backend/onednn/): fr_backend_onednn() of backend.h.
 *
 * FP32 (default): every convolution, inner product, pooling, softmax, concat,
 * binary / scale-shift / unary elementwise op and reduction of the plan runs as
 * one oneDNN primitive reading and writing the arena in NHWC, with bias,
 * residual add and activation fused as post-ops; weights are reordered once per
 * plan into the layout oneDNN picks.  Steps oneDNN can only run with its slow
 * reference code ("ref:") are left to frost's reference kernels.
 * frost's own kernels (src/kernels/: indirect GEMM, Winograd, NHWC pooling)
 * run some of those steps instead, as custom executions on the same arena and
 * OpenMP threads, where src/kernels/select.c picks them over oneDNN's choice
 * (config.own_kernels, winograd, winograd_default).
 * BF16 (config.precision): activations between oneDNN steps are stored as
 * bf16 (in the arena, at the value's offset); convolutions and inner products
 * compute in bf16 with f32 accumulation; values read by a reference kernel or
 * by the caller stay f32.
 */
#ifndef FR_ONEDNN_H
#define FR_ONEDNN_H

#include "backend/backend.h"

/* Defined in onednn.c; declared in backend.h. */
const fr_backend *fr_backend_onednn(void);

#endif
