/* String inputs: the part of a graph that runs before its plan.
 *
 * The compiled plan holds float tensors of static shapes only (plan.h).  A
 * graph whose input is a string (serialized tf.Example protos, encoded image
 * bytes) first turns it into such tensors with ops of dynamic shapes and
 * other types: ParseExample / ParseExampleV2 (dense float and int64
 * features), DecodeJpeg / DecodePng / DecodeBmp / DecodeImage, then Cast,
 * ExpandDims, ResizeBilinear and Identity while the shape is not yet fixed.
 * fr_feed_build() finds that part once per model: from each string input,
 * forward over the nodes the outputs need, it takes the nodes that read a
 * string or a tensor of run-time shape ("steps"); the first tensors of
 * static shape that other nodes read (or that are outputs) are the
 * "boundaries".  The plan is compiled with the boundaries as its inputs
 * (after the float inputs of the graph); at run time fr_feed_run() runs the
 * steps for each batch item on the host and writes the boundaries, as
 * float32, into the buffers the plan's inputs are copied from.
 *
 * Each batch item runs alone: its string is a scalar (for a Placeholder of
 * shape [], or of unknown rank read by a Decode* op) or a vector of one
 * string; each boundary's first dimension, 1 per item, is the batch.
 * int64 features (and int32 / uint8 tensors) cross a boundary as float32:
 * exact up to 2^24. */
#ifndef FR_FEED_H
#define FR_FEED_H

#include "frost.h"
#include "graph/graph.h"
#include "graph/io.h"

typedef struct fd_slot fd_slot;
typedef struct fd_step fd_step;

typedef struct fr_feed {
    fr_io_spec io;      /* the plan's inputs: the graph's float inputs, then the boundaries; its outputs */
    int *src;           /* per plan input: the model's input (>= 0), or -1 - k for boundary k */
    int n_bound;
    size_t *bound_size; /* floats per item of boundary k */
    int *bound_slot;
    int n_inputs;       /* the model's inputs */
    int *in_slot;       /* per model input: its slot (string inputs), else -1 */
    int n_slots, n_steps;
    fd_slot *slots;
    fd_step *steps;
    const frost_graph *g;
} fr_feed;

/* 1 when `op` is one of the ops above that only the feed runs (ParseExample*,
 * Decode*, ResizeBilinear): frost_graph_load() accepts them. */
int fr_feed_op_known(const char *op);

/* The feed of a graph whose inputs `pub` (io.h, with their dtypes) include
 * a string; *out NULL when none does.  FROST_E_UNSUPPORTED_OP / _GRAPH /
 * _SHAPE with *err naming the node. */
frost_status fr_feed_build(const frost_graph *g, const fr_io_spec *pub, fr_feed **out, char **err);
void fr_feed_free(fr_feed *f);

/* Runs the steps for items [0, batch): strings[i] holds `batch` strings of
 * model input i (NULL for float inputs); boundary k is written, as float32,
 * to stage[k] + item * bound_size[k].  Allocates while it decodes.  On
 * failure *err (malloc'ed) names the item, the node and the reason. */
frost_status fr_feed_run(const fr_feed *f, const frost_string *const *strings, int batch, float *const *stage,
                         char **err);

#endif
