/* The compiler: frost_graph + chosen inputs/outputs + batch size -> fr_plan. */
#ifndef FR_COMPILE_H
#define FR_COMPILE_H

#include "graph/graph.h"
#include "graph/plan.h"

/* Inputs and outputs resolved against a graph (batch-independent). */
typedef struct fr_io_spec {
    int n_inputs;
    int *in_node;
    frost_shape *in_shape; /* dims[0] = -1 (batch) */
    char **in_names;       /* "name" */
    int n_outputs;
    int *out_node;
    int *out_index;
    char **out_names;      /* "name" or "name:N" */
} fr_io_spec;

frost_status fr_io_resolve(const frost_graph *g, const frost_options *opt, fr_io_spec *spec, char **err);
void fr_io_spec_free(fr_io_spec *spec);

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

/* Conv / matmul steps of the result may carry a weight_scale (a folded batch
 * norm, see plan.h): a backend may apply it while it reorders the weights;
 * fr_compiled_fold_weights() folds it into new weights for the others. */
frost_status fr_compile(const frost_graph *g, const fr_io_spec *io, int batch, int optimize, fr_compiled **out,
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
