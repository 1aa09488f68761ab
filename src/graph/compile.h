/* The compiler: frost_graph + chosen inputs/outputs + batch size -> fr_plan.
 *
 * fr_compile() runs the pipeline for one batch size; a model compiles once
 * per batch size it runs (src/runtime/model.c caches the results).  Where
 * each stage lives:
 *
 *   io.c        inputs and outputs chosen and checked, once per model
 *               (fr_io_resolve, io.h)
 *   compile.c   the driver: the nodes the outputs need, in topological order
 *               (an iterative DFS over data edges; control edges dropped;
 *               cycles and missing inputs fail naming the node), each lowered
 *               by its op's table entry (src/ops, with builder.h: shape
 *               inference, constants folded at once), the outputs checked
 *               (distinct arena values whose dimension 0 is the batch; others
 *               are copied by a step or refused beyond batch 1), then
 *               finalize: dead steps dropped, values renumbered densely,
 *               statistics (FLOPs, parameters), unreferenced blocks freed
 *   fuse.c      the fusion passes, unless no_optimize (fr_fuse_steps, fuse.h)
 *   memplan.c   the arena: value lifetimes and offsets (memplan.h)
 *   compile.c   again, after compiling: fr_compiled_fold_weights() for the
 *               steps the backend leaves to the reference kernels
 *   intern.c    constants shared by the plans of all batch sizes
 */
#ifndef FR_COMPILE_H
#define FR_COMPILE_H

#include "graph/graph.h"
#include "graph/io.h"
#include "graph/plan.h"

typedef struct fr_compiled {
    fr_plan plan;
    fr_value *values;
    fr_step *steps;
    int *inputs, *outputs;
    void **blocks; /* owned memory (constants, step input lists) */
    size_t *block_sizes;
    int n_blocks;
    unsigned char *out_batched; /* per output: 1 when its dims[0] is the batch (else: batch 1 only) */
    /* statistics */
    int graph_nodes, pruned_nodes, identity_nodes, folded_nodes, folded_batchnorms, fused_ops;
    int64_t params, flops;
} fr_compiled;

/* fr_compile() flags. */
#define FR_COMPILE_OPTIMIZE 0x1u /* the fusion passes (fuse.h) */
#define FR_COMPILE_INT8 0x2u     /* with FR_COMPILE_OPTIMIZE: also the int8 pass (graph/int8.h) */

/* Compiles g for `batch` items with the inputs and outputs of `io`, fused
 * when `flags` has FR_COMPILE_OPTIMIZE; *out is freed with fr_compiled_free().  On failure
 * *err (when err is non-NULL) names the node (or value) at fault:
 * FROST_E_GRAPH / _SHAPE / _UNSUPPORTED_OP / _NOT_FOUND from ordering,
 * lowering and the outputs, FROST_E_LIMIT past the data budget or the arena
 * cap (builder.h).
 * Conv / matmul steps of the result may carry a weight_scale (a folded batch
 * norm, see plan.h) or weights_raw: a backend may apply them while it
 * reorders the weights; fr_compiled_fold_weights() folds them into new
 * weights for the others. */
frost_status fr_compile(const frost_graph *g, const fr_io_spec *io, int batch, unsigned flags, fr_compiled **out,
                        char **err);
/* Multiplies step i's weight_scale into a new block of weights owned by c and
 * clears it (the old weights are left alone); weights_raw (plan.h) are copied
 * into that block too.  FROST_OK when there is neither. */
frost_status fr_compiled_fold_weights(fr_compiled *c, int i);
void fr_compiled_free(fr_compiled *c);

/* Constants shared by the plans of every batch size of a model: folded
 * weights are identical at every batch size, so each is kept once. */
typedef struct fr_intern fr_intern;
fr_intern *fr_intern_new(void);
void fr_intern_free(fr_intern *t);
/* Bytes of the blocks the table holds. */
size_t fr_intern_bytes(const fr_intern *t);
/* Moves the compiled plan's constant blocks into `t`, replacing each with an
 * identical block already there.  Not thread-safe (the model's lock). */
frost_status fr_compiled_intern(fr_compiled *c, fr_intern *t);
/* The same, leaving out the blocks that only conv / matmul steps read as
 * weights (a backend may still release those: fr_backend_config.weights_done);
 * fr_compiled_intern() afterwards moves the rest. */
frost_status fr_compiled_intern_except_weights(fr_compiled *c, fr_intern *t);

#endif
