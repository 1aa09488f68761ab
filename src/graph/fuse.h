/* The compiler's fusion passes: rewrite the lowered steps of a plan being
 * built (fr_builder, builder.h) into fewer, fuller steps.  fr_compile()
 * (compile.c) runs them once every node is lowered and the outputs are
 * marked, unless the model is compiled with `no_optimize`.
 *
 * A pass only ever merges a step into the step that produces its input when
 * that input is an arena value read by nothing else (one use, neither a model
 * input nor a model output).  The merged step takes over the later step's
 * output value and name, its label becomes "Producer+Consumer" (for example
 * "Conv2D+BiasAdd+Relu6"), and the later step is marked dead
 * (kind FR_STEP_KIND_COUNT_); finalize (compile.c) drops the dead steps and
 * the values nothing reads any more.  The passes run in this order, each
 * over all steps:
 *
 *  1. scale-shift: a per-channel affine without activation (FusedBatchNorm*,
 *     Mul / Add / Sub / BiasAdd by per-channel constants, TF-slim's
 *     decomposed batch norm) after
 *       - a CONV, or a MATMUL with constant weights, with as many output
 *         channels and no activation or residual yet: the shift goes into a new bias
 *         (bias * scale + shift); a scale other than 1 is NOT multiplied into
 *         the weights but kept (multiplied into any earlier one) as the
 *         step's weight_scale (plan.h), which a backend applies while it
 *         reorders the weights and fr_compiled_fold_weights() folds for the
 *         others.  A pure shift leaves the weights untouched (perhaps still
 *         in the file's memory map);
 *       - another SCALE_SHIFT without activation: the two compose.
 *     Counted as a folded batch norm when the label names a BatchNorm or
 *     starts with Mul, as a fused op otherwise.
 *  2. residual: an Add without activation of two arena values of the same
 *     size, one of them the single-use output of a CONV / MATMUL (constant
 *     weights) with neither activation nor residual: that step (the later one
 *     when both qualify) moves to the Add's place and adds the other value as
 *     its residual (plan.h, FR_STEP_CONV).
 *  3. activation: Relu / Relu6 / LeakyRelu / Sigmoid / Tanh after a CONV,
 *     MATMUL, SCALE_SHIFT or BINARY step without activation becomes that
 *     step's act (and alpha).
 *  4. avgpool / conv1x1 commutation: an average pool without epilogue whose
 *     output keeps its 4-D input's height and width (stride 1, SAME), read
 *     only by a 1x1, stride-1, unpadded, ungrouped convolution without
 *     residual and with fewer output than input channels, swaps places with
 *     it.  Both are linear and the pool weighs every channel
 *     alike, so conv1x1(avgpool(x)) + bias == avgpool(conv1x1(x)) + bias;
 *     pooling after the convolution pools cout instead of cin channels
 *     (Inception's pool branches: 192..2048 channels down to 32..192) while
 *     the convolution does the same work.  The pool takes over the
 *     convolution's bias and activation (fr_pool_params.bias / act).
 *  5. int8 (only in int8 compiles, builder.int8): graph/int8.h.
 *
 * Every pass counts what it merged in b->fused_ops / b->folded_batchnorms.
 * Allocations go through fr_b_alloc(); when one fails b->status is set and
 * the remaining passes stop.
 */
#ifndef FR_FUSE_H
#define FR_FUSE_H

#include "graph/builder.h"

/* Runs the passes above over b's steps, in place. */
void fr_fuse_steps(fr_builder *b);

#endif
