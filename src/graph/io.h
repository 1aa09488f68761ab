/* The model's inputs and outputs, resolved against a graph.
 *
 * fr_io_resolve() turns frost_options' names into graph nodes once per
 * model; the result does not depend on the batch size and is handed to
 * fr_compile() (compile.h) for every batch size the model compiles.
 *
 * Outputs
 * -------
 *   options.outputs ("node" or "node:N", N < 10000) when given, else the
 *   graph's sinks (nodes that no data edge reads, other than Const, NoOp and
 *   Placeholder nodes), in GraphDef order.  An output name that is not a
 *   node fails with FROST_E_NOT_FOUND.
 *
 * Inputs
 * ------
 *   options.inputs ("node", or "node:0") when given, else the Placeholders
 *   the outputs reach over data edges, in GraphDef order.  Every input must
 *   be float32 and appear once.  Its shape comes from the Placeholder's
 *   `shape` attribute, or from options.input_shapes (which must agree with
 *   the known dimensions of the graph's shape); dimension 0 is the batch and
 *   is stored as -1, every other dimension must be known and > 0
 *   (FROST_E_SHAPE otherwise, naming the input).
 *
 * Names
 * -----
 *   in_names / out_names are the TensorFlow tensor names the plan's values
 *   carry (fr_value.name): "node" for output 0, "node:N" for the others.
 */
#ifndef FR_IO_H
#define FR_IO_H

#include "graph/graph.h"

/* Inputs and outputs resolved against a graph (batch-independent). */
typedef struct fr_io_spec {
    int n_inputs;
    int *in_node;
    int *in_index;         /* the node's output fed (NULL: output 0 of each) */
    int *in_dtype;         /* FR_DT_FLOAT, or FR_DT_STRING (src/feed/feed.h; NULL: all float) */
    frost_shape *in_shape; /* dims[0] = -1 (batch) */
    char **in_names;       /* "name" */
    int n_outputs;
    int *out_node;
    int *out_index;
    char **out_names;      /* "name" or "name:N" */
} fr_io_spec;

/* Fills *spec from the options (see above); on failure *spec is left empty
 * and *err (when err is non-NULL) names the graph and the offending name. */
frost_status fr_io_resolve(const frost_graph *g, const frost_options *opt, fr_io_spec *spec, char **err);
/* Frees what fr_io_resolve() allocated and empties *spec; NULL is fine. */
void fr_io_spec_free(fr_io_spec *spec);

#endif
