/* The op table: one entry per supported TensorFlow op type, lowered into
 * plan steps (shape functions, attributes).  Each src/ops/<family>.c file
 * defines a table `fr_ops_<family>[]` (terminated by {NULL}); the kernels
 * that run the steps live in the backends (the reference ones:
 * src/backend/reference/). */
#ifndef FR_OPS_H
#define FR_OPS_H

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

extern const fr_op_def fr_ops_basic[], fr_ops_conv[], fr_ops_pool[], fr_ops_elementwise[], fr_ops_nn[],
    fr_ops_reduce[], fr_ops_array[], fr_ops_matmul[], fr_ops_quant[];

/* Emits step s (inputs ins[0..n_in), an output of `rank` dims) and makes
 * its output the node's output 0.  Returns 0, or -1 after fr_b_fail. */
static inline int fr_ops_emit(fr_builder *b, fr_step *s, const int *ins, int n_in, int rank, const int64_t *dims) {
    int out = fr_b_emit(b, s, ins, n_in, rank, dims, 0);
    if (out < 0) return -1;
    fr_b_set_output(b, 0, out);
    return 0;
}

/* Output size and padding of one spatial dimension of a window op
 * (SAME / VALID / EXPLICIT with explicit_pad[0..1]).  0 ok, -1 fails the node. */
int fr_conv_dim(fr_builder *b, const char *padding, int64_t in, int64_t k, int64_t s, int64_t d,
                const int64_t *explicit_pad, int64_t *out, int *pad_before, int *pad_after);

/* Broadcast shape of two shapes (numpy rules); 0 ok, -1 fails the node. */
int fr_broadcast_shape(fr_builder *b, const fr_value *x, const fr_value *y, int *rank, int64_t *dims);

/* TensorFlow's Nudge(): the nudged range of FakeQuant (min, max) over the
 * integers quant_min..quant_max (narrow_range ? 1 : 0 .. 2^num_bits - 1),
 * with quant_zero = floor(-nudged_min * inv_scale + 0.5).  min == max == 0
 * gives all zeros (scale 0: the step outputs 0).  The caller checks that
 * min <= max are finite (quant.c). */
void fr_fake_quant_nudge(float min, float max, int quant_min, int quant_max, fr_fq_range *r);

#endif
