/* The compiled plan: an immutable, backend-neutral list of steps.
 *
 * A plan is built by the compiler (src/graph/compile.c) for ONE batch size
 * from a frost_graph and frost_options.  After fr_plan_build() returns it is
 * never modified and may be read from any number of threads.
 *
 * Data model
 * ----------
 *  - Every tensor that exists at run time is a float32 `fr_value` with a
 *    fully static shape (the batch size is baked in).  Integer tensors
 *    (shapes, indices, axes) never exist at run time: the compiler folds them.
 *  - A value is either
 *      FR_VALUE_ARENA: it lives at byte `offset` of the context's activation
 *                      arena (a single buffer of plan->arena_bytes bytes,
 *                      FR_ARENA_ALIGN-aligned; offsets are FR_ARENA_ALIGN
 *                      aligned).  Values whose lifetimes do not overlap share
 *                      bytes, so a value is valid only between the step that
 *                      writes it and its last reader.
 *      FR_VALUE_CONST: read-only data at `data` owned by the plan/model
 *                      (possibly inside the memory-mapped GraphDef).
 *  - Layout is dense row-major in the TensorFlow order of `dims` (NHWC for
 *    4-D activations).
 *  - The model's inputs are copied by the runtime into their arena values
 *    before the first step; the outputs are copied out of the arena after
 *    the last step.  Steps therefore only ever read and write the arena
 *    (plus constants).
 *  - A step's output never shares bytes with any of its inputs.
 *
 * Steps run strictly in order.  Every step writes exactly one value
 * (`output`).  Parameters needed by a kernel are fully resolved: padding in
 * pixels, weights in a fixed layout, fused bias and activation.
 *
 * Stability: this header is a contract between the compiler and every
 * backend; changes are additive only (new step kinds / fields at the end).
 */
#ifndef FR_PLAN_H
#define FR_PLAN_H

#include <stddef.h>
#include <stdint.h>

#include "frost.h"

#define FR_ARENA_ALIGN 64

typedef enum fr_value_kind {
    FR_VALUE_ARENA = 0, /* activation in the arena at `offset` */
    FR_VALUE_CONST      /* read-only constant at `data` */
} fr_value_kind;

typedef struct fr_value {
    const char *name; /* TensorFlow tensor name: "node" or "node:1" */
    fr_value_kind kind;
    int rank;
    int64_t dims[FROST_MAX_RANK];
    size_t count;      /* number of elements (product of dims; 1 for rank 0) */
    size_t offset;     /* FR_VALUE_ARENA: byte offset in the arena */
    const float *data; /* FR_VALUE_CONST: the elements */
} fr_value;

/* Activation applied at the very end of a step (after bias and residual). */
typedef enum fr_act {
    FR_ACT_NONE = 0,
    FR_ACT_RELU,   /* max(x, 0) */
    FR_ACT_RELU6,  /* min(max(x, 0), 6) */
    FR_ACT_LEAKY,  /* x < 0 ? alpha * x : x   (alpha in the step) */
    FR_ACT_SIGMOID,
    FR_ACT_TANH
} fr_act;

typedef enum fr_step_kind {
    /* 2-D convolution, NHWC in/out.  Covers Conv2D and DepthwiseConv2dNative.
     *   inputs[0] = x  [N, H, W, cin]         output = [N, OH, OW, cout]
     *   y = act(conv(x, weights) + bias + residual)
     * conv.groups == 1       : weights HWIO  [kh][kw][cin][cout]
     * conv.groups == cin     : depthwise, weights [kh][kw][cin][mult],
     *                          cout = cin * mult, out channel = c * mult + m
     * (no other group counts are produced).
     * residual (if conv.residual >= 0): a value of the output's shape added
     * after the bias and before the activation (a fused residual Add). */
    FR_STEP_CONV = 0,

    /* Fully connected / MatMul.  inputs[0] = A [M, K], output [M, N].
     * If matmul.weights != NULL: y = act(A x W + bias + residual), W is
     *   [K][N] row-major (transposes already applied by the compiler).
     * Else inputs[1] = B (a value), with transpose_a / transpose_b as in
     *   TensorFlow; bias / residual / act still apply. */
    FR_STEP_MATMUL,

    /* Max / average pooling, NHWC.  inputs[0] = x.  Padded positions never
     * win a max; an average divides by the number of in-bounds elements. */
    FR_STEP_POOL,

    /* Elementwise binary op with numpy broadcasting:
     *   out = act(a OP b); inputs[0] = a, inputs[1] = b (either may be a
     *   FR_VALUE_CONST).  Shapes are right-aligned; a dim of 1 broadcasts.
     *   The output has the broadcast shape. */
    FR_STEP_BINARY,

    /* Elementwise unary op: out = f(x), same shape.  inputs[0] = x. */
    FR_STEP_UNARY,

    /* Per-channel affine on the LAST axis: out = act(x * scale[c] + shift[c]).
     * From a batch norm (or Mul/Add by per-channel constants) that could not
     * be folded into a convolution.  inputs[0] = x. */
    FR_STEP_SCALE_SHIFT,

    /* Softmax over the last axis.  inputs[0] = x. */
    FR_STEP_SOFTMAX,

    /* Concatenation of n_inputs values along `concat.axis` (0 <= axis < rank). */
    FR_STEP_CONCAT,

    /* Reduction (mean / sum / prod / max / min) over the axes flagged in
     * reduce.axes_mask (bit i = axis i of the input).  The output value has
     * the kept or squeezed shape; the element order is the same either way. */
    FR_STEP_REDUCE,

    /* Copy the elements unchanged (Reshape, Squeeze, ExpandDims, Identity
     * when not optimised away).  inputs[0] = x, same count as output. */
    FR_STEP_COPY,

    /* Constant padding (Pad / PadV2): out dim i = before[i] + in[i] + after[i]. */
    FR_STEP_PAD,

    /* out[j0..jr] = in[j_perm...]: output dim i is input dim perm[i]. */
    FR_STEP_TRANSPOSE,

    /* Strided slice, normalised: for each input dim i, the output (before
     * reshaping to the output value's shape) takes indices
     *   begin[i] + k * stride[i], k = 0 .. size[i]-1   (stride may be < 0).
     * The output value's count equals the product of size[]. */
    FR_STEP_SLICE,

    /* Added: TensorFlow's FakeQuant* ops (quantize, then dequantize, in
     * float), inputs[0] = x, same shape out.  Per tensor (fake_quant.channels
     * == 1) or per channel of the LAST axis.  For each channel the compiler
     * resolved TensorFlow's nudged range (Nudge() of
     * tensorflow/core/kernels/fake_quant_ops_functor.h):
     *   c   = min(max(x, nudged_min), nudged_max)
     *   q   = divide ? (c - nudged_min) / scale : (c - nudged_min) * inv_scale
     *   out = floor(q - quant_zero + 0.5) * scale
     * with scale == 0 meaning min == max == 0: out = 0. */
    FR_STEP_FAKE_QUANT,

    FR_STEP_KIND_COUNT_
} fr_step_kind;

typedef enum fr_binary_op {
    FR_BIN_ADD = 0,
    FR_BIN_SUB,
    FR_BIN_MUL,
    FR_BIN_DIV,
    FR_BIN_MAX,
    FR_BIN_MIN,
    FR_BIN_SQUARED_DIFF
} fr_binary_op;

typedef enum fr_unary_op {
    FR_UN_RELU = 0,
    FR_UN_RELU6,
    FR_UN_LEAKY_RELU, /* alpha in unary.alpha */
    FR_UN_SIGMOID,
    FR_UN_TANH,
    FR_UN_SQRT,
    FR_UN_RSQRT,
    FR_UN_EXP,
    FR_UN_NEG,
    FR_UN_SQUARE,
    FR_UN_ABS
} fr_unary_op;

typedef enum fr_reduce_op { FR_RED_MEAN = 0, FR_RED_SUM, FR_RED_PROD, FR_RED_MAX, FR_RED_MIN } fr_reduce_op;

typedef enum fr_pool_op { FR_POOL_MAX = 0, FR_POOL_AVG } fr_pool_op;

typedef struct fr_conv_params {
    int kh, kw;
    int cin, cout;
    int groups;             /* 1, or cin for depthwise */
    int stride_h, stride_w;
    int dil_h, dil_w;
    int pad_top, pad_bottom, pad_left, pad_right; /* in input pixels, >= 0 */
    const float *weights;   /* see FR_STEP_CONV */
    const float *bias;      /* [cout] or NULL */
    fr_act act;
    float alpha;            /* FR_ACT_LEAKY */
    int residual;           /* value id, or -1 */
    /* Added: a batch norm folded into the weights, still to be applied:
     * [cout] or NULL.  Non-NULL only while a backend prepares the plan (the
     * effective weights are weights[..][co] * weight_scale[co], so a backend
     * can scale while it reorders); the runtime folds it into `weights`
     * for every step the backend does not take, so kernels never see it. */
    const float *weight_scale;
    /* Added: weights still in the GraphDef's memory map, not 4-byte aligned
     * (so not readable as floats): the same elements as `weights`, as
     * little-endian float32 bytes, with weights == NULL.  Like weight_scale,
     * only while a backend prepares the plan (it may reorder from these bytes);
     * the runtime copies them into `weights` for the steps it does not take. */
    const void *weights_raw;
    /* Added for int8 (fr_int8_mark, graph/int8.h; compiles with
     * FROST_PRECISION_INT8 only): non-NULL when the input is quantized (the
     * output of a FakeQuant, per tensor, 8 bits) and every weight of output
     * channel co is an integer multiple q * int8_scale[co] of it, q in
     * [-128, 127] (`weights` / `weights_raw` before weight_scale): a backend
     * may run the step in int8.  [cout]. */
    const float *int8_scale;
    /* Added with int8_scale: a FakeQuant (per tensor) fused after the
     * activation, the last operation of the step: y = fake_quant(act(...)).
     * NULL: none. */
    const struct fr_fake_quant_params *out_quant;
} fr_conv_params;

typedef struct fr_matmul_params {
    int m, k, n;
    int transpose_a, transpose_b; /* only when weights == NULL */
    const float *weights;         /* [K][N] or NULL (B is inputs[1]) */
    const float *bias;            /* [N] or NULL */
    fr_act act;
    float alpha;
    int residual;                 /* value id, or -1 */
    const float *weight_scale;    /* added: [N] or NULL, as fr_conv_params.weight_scale */
    const float *int8_scale;      /* added: [N] or NULL, as fr_conv_params.int8_scale */
    const struct fr_fake_quant_params *out_quant; /* added: as fr_conv_params.out_quant */
} fr_matmul_params;

typedef struct fr_pool_params {
    fr_pool_op op;
    int kh, kw;
    int stride_h, stride_w;
    int pad_top, pad_bottom, pad_left, pad_right;
    /* Added: applied after pooling, y = act(pool(x) + bias): a 1x1
     * convolution's epilogue moved behind an average pool (fuse.h). */
    const float *bias; /* [C] or NULL */
    fr_act act;
    float alpha;
} fr_pool_params;

typedef struct fr_binary_params {
    fr_binary_op op;
    fr_act act;
    float alpha;
} fr_binary_params;

typedef struct fr_unary_params {
    fr_unary_op op;
    float alpha;
} fr_unary_params;

typedef struct fr_scale_shift_params {
    int channels;       /* size of the last axis */
    const float *scale; /* [channels] */
    const float *shift; /* [channels] */
    fr_act act;
    float alpha;
} fr_scale_shift_params;

typedef struct fr_concat_params {
    int axis;
    /* Added for int8 compiles: y = fake_quant(concat(x)), the u8 FakeQuant
     * that alone reads a concatenation of values on different grids (fuse.c);
     * NULL: none. */
    const struct fr_fake_quant_params *out_quant;
} fr_concat_params;

typedef struct fr_reduce_params {
    fr_reduce_op op;
    unsigned axes_mask;
} fr_reduce_params;

typedef struct fr_pad_params {
    int64_t before[FROST_MAX_RANK], after[FROST_MAX_RANK];
    float value;
} fr_pad_params;

typedef struct fr_transpose_params {
    int perm[FROST_MAX_RANK];
} fr_transpose_params;

typedef struct fr_slice_params {
    int64_t begin[FROST_MAX_RANK], stride[FROST_MAX_RANK], size[FROST_MAX_RANK]; /* per INPUT dim */
} fr_slice_params;

/* One channel of a FR_STEP_FAKE_QUANT step, resolved from (min, max,
 * num_bits, narrow_range) by fr_fake_quant_nudge (ops/quant.c). */
typedef struct fr_fq_range {
    float nudged_min, nudged_max, scale, inv_scale, quant_zero;
} fr_fq_range;

struct fr_fake_quant_params {
    int channels;               /* 1: per tensor; else the size of the last axis */
    int divide;                 /* FakeQuantWithMinMaxVars divides by scale, the other forms multiply by inv_scale */
    const fr_fq_range *ranges;  /* [channels] */
    /* Added for int8 compiles: non-zero: x is first clamped to [clip_min,
     * clip_max] (the range of a FakeQuant onto another grid that was fused
     * away before this one, graph/int8.h); NaN stays NaN. */
    int clip;
    float clip_min, clip_max;
};
typedef struct fr_fake_quant_params fr_fake_quant_params;

typedef struct fr_step {
    fr_step_kind kind;
    const char *name;  /* TensorFlow node name of the (last) fused node */
    const char *label; /* op types fused, e.g. "Conv2D+BiasAdd+Relu6" */
    int n_inputs;
    const int *inputs; /* value ids */
    int output;        /* value id (always FR_VALUE_ARENA) */
    int64_t flops;     /* 2 x multiply-adds for this step at this batch (0 if n/a) */
    union {
        fr_conv_params conv;
        fr_matmul_params matmul;
        fr_pool_params pool;
        fr_binary_params binary;
        fr_unary_params unary;
        fr_scale_shift_params scale_shift;
        fr_concat_params concat;
        fr_reduce_params reduce;
        fr_pad_params pad;
        fr_transpose_params transpose;
        fr_slice_params slice;
        fr_fake_quant_params fake_quant;
    } p;
} fr_step;

typedef struct fr_plan {
    int batch;
    int n_values;
    const fr_value *values;
    int n_steps;
    const fr_step *steps;
    int n_inputs;
    const int *inputs;  /* value ids (arena), in the model's input order */
    int n_outputs;
    const int *outputs; /* value ids (arena), in the model's output order */
    size_t arena_bytes; /* size of the activation arena (multiple of FR_ARENA_ALIGN) */
} fr_plan;

/* Number of weights of a convolution: kh x kw x (cin / groups) x cout, the
 * elements of `weights` (or of `weights_raw`) in the layouts of FR_STEP_CONV
 * (HWIO, or [kh][kw][cin][mult] for a depthwise one). */
static inline size_t fr_conv_weight_count(const fr_conv_params *c) {
    return (size_t)c->kh * (size_t)c->kw * (size_t)(c->cin / c->groups) * (size_t)c->cout;
}

/* Number of weights of a MatMul with constant weights: k x n ([K][N]). */
static inline size_t fr_matmul_weight_count(const fr_matmul_params *m) { return (size_t)m->k * (size_t)m->n; }

/* The value a CONV or MATMUL step adds as a fused residual, or -1 (also for
 * every other kind of step). */
static inline int fr_step_residual(const fr_step *s) {
    if (s->kind == FR_STEP_CONV) return s->p.conv.residual;
    if (s->kind == FR_STEP_MATMUL) return s->p.matmul.residual;
    return -1;
}

/* The FR_ARENA_ALIGN-aligned byte offset of `bytes` bytes of the arena that
 * no value live at step `step` occupies (the smallest such gap), where a
 * step can keep temporaries; SIZE_MAX if there is none (or out of memory).
 * Liveness is the planner's own (fr_value_lifetimes, memplan.h). */
size_t fr_plan_arena_gap(const fr_plan *plan, int step, size_t bytes);

/* Helpers for backends and kernels. */
static inline float *fr_value_ptr(const fr_plan *plan, void *arena, int id) {
    const fr_value *v = &plan->values[id];
    return v->kind == FR_VALUE_CONST ? (float *)(uintptr_t)v->data : (float *)((char *)arena + v->offset);
}

#endif /* FR_PLAN_H */
