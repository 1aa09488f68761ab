/* The op table: one entry per supported TensorFlow op type, and the
 * reference kernel of every plan step kind.  Each src/ops/<family>.c file
 * defines a table `fr_ops_<family>[]` (terminated by {NULL}) and the
 * reference kernels of its step kinds. */
#ifndef FR_OPS_H
#define FR_OPS_H

#include <math.h>

#include "graph/builder.h"
#include "graph/plan.h"

/* Lowers the builder's current node: reads its inputs, infers shapes, emits
 * steps or constants, sets its outputs.  Returns 0, or -1 after fr_b_fail. */
typedef int (*fr_lower_fn)(fr_builder *b, const fr_node *node);

typedef struct fr_op_def {
    const char *tf_name;
    fr_lower_fn lower;
} fr_op_def;

/* NULL if op type is not supported. */
const fr_op_def *fr_op_find(const char *tf_name);

/* Reference kernel of one step kind. */
typedef void (*fr_kernel_fn)(const fr_plan *plan, const fr_step *step, void *arena);

extern const fr_op_def fr_ops_basic[], fr_ops_conv[], fr_ops_pool[], fr_ops_elementwise[], fr_ops_nn[],
    fr_ops_reduce[], fr_ops_array[], fr_ops_matmul[];

void fr_kernel_conv(const fr_plan *plan, const fr_step *s, void *arena);
void fr_kernel_matmul(const fr_plan *plan, const fr_step *s, void *arena);
void fr_kernel_pool(const fr_plan *plan, const fr_step *s, void *arena);
void fr_kernel_binary(const fr_plan *plan, const fr_step *s, void *arena);
void fr_kernel_unary(const fr_plan *plan, const fr_step *s, void *arena);
void fr_kernel_scale_shift(const fr_plan *plan, const fr_step *s, void *arena);
void fr_kernel_softmax(const fr_plan *plan, const fr_step *s, void *arena);
void fr_kernel_concat(const fr_plan *plan, const fr_step *s, void *arena);
void fr_kernel_reduce(const fr_plan *plan, const fr_step *s, void *arena);
void fr_kernel_copy(const fr_plan *plan, const fr_step *s, void *arena);
void fr_kernel_pad(const fr_plan *plan, const fr_step *s, void *arena);
void fr_kernel_transpose(const fr_plan *plan, const fr_step *s, void *arena);
void fr_kernel_slice(const fr_plan *plan, const fr_step *s, void *arena);

/* Output size and padding of one spatial dimension of a window op
 * (SAME / VALID / EXPLICIT with explicit_pad[0..1]).  0 ok, -1 fails the node. */
int fr_conv_dim(fr_builder *b, const char *padding, int64_t in, int64_t k, int64_t s, int64_t d,
                const int64_t *explicit_pad, int64_t *out, int *pad_before, int *pad_after);

/* Broadcast shape of two shapes (numpy rules); 0 ok, -1 fails the node. */
int fr_broadcast_shape(fr_builder *b, const fr_value *x, const fr_value *y, int *rank, int64_t *dims);

/* Applies a fused activation. */
static inline float fr_apply_act(float x, fr_act act, float alpha) {
    switch (act) {
    case FR_ACT_NONE: return x;
    case FR_ACT_RELU: return x > 0 ? x : 0;
    case FR_ACT_RELU6: return x > 0 ? (x < 6 ? x : 6) : 0;
    case FR_ACT_LEAKY: return x < 0 ? alpha * x : x;
    case FR_ACT_SIGMOID: return 1.0f / (1.0f + expf(-x));
    case FR_ACT_TANH: return tanhf(x);
    }
    return x;
}

#endif
