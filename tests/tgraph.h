/* Test graphs: GraphDef bytes (from src/pb/pbwriter.h or a file) loaded,
 * compiled, run and freed in a few calls that keep each status and message.
 *
 *   tg_model t;
 *   CHECK_MSG(tg_build(&t, bytes, len, "y", NULL) == FROST_OK, "%s", tg_msg(&t));
 *   if (t.ctx && tg_run1(&t, 2, x, NULL) == FROST_OK) CHECK(t.out[0][0] == 1);
 *   tg_free(&t);
 *
 * tg_load and tg_build start from an empty tg_model (they do not free what
 * it held: tg_free it first); tg_free leaves it empty, whatever failed.
 *
 * With FROST_TEST_DUMP_DIR set, every successful tg_run writes, for
 * tests/compare_revisions.py --dump-dir (the same bytes, batch and inputs
 * once per process; never graphs that fail to load or compile, nor those
 * `frost run` cannot feed: see replayable() in tgraph.c):
 *   DIR/<test>-<seq>.pb         the GraphDef bytes
 *   DIR/<test>-<seq>.in<k>.f32  input k, little-endian float32, batch x item
 *   DIR/<test>-<seq>.json       {"batch": B, "inputs": [{"name": "x", "shape":
 *                               [B, ...], "file": "<test>-<seq>.in0.f32"}],
 *                               "outputs": ["y", ...]}  (the model's names) */
#ifndef FROST_TGRAPH_H
#define FROST_TGRAPH_H

#include <stddef.h>
#include <stdint.h>

#include "frost.h"
#include "pb/pbwriter.h"

typedef struct tg_model {
    frost_graph *graph;  /* after tg_load (tg_build frees it once compiled) */
    frost_model *model;  /* after tg_compile / tg_build; NULL when that failed */
    frost_context *ctx;  /* a context of model */
    frost_status status; /* of the last call */
    char *error;         /* its message when it failed, else NULL (tg_msg) */
    float **out;         /* output k of the last tg_run without output buffers */
    float **in_;         /* private: zeros for tg_run without inputs */
    uint8_t *pb_;        /* private: the GraphDef bytes, kept for the dump */
    size_t pb_len_;
    const char *output_;
} tg_model;

/* What most tests compile with: frost_options_init, then the reference
 * kernels (results independent of the CPU) and max_batch 8. */
void tg_options(frost_options *o);

/* Loads `len` bytes of GraphDef into t->graph (copied by frost). */
frost_status tg_load(tg_model *t, const void *pb, size_t len);
/* Compiles t->graph with o (NULL: tg_options), with `output` (if not NULL)
 * as its only output, into t->model and creates t->ctx.  A model compiled
 * before is freed first: one graph can be compiled with several options. */
frost_status tg_compile(tg_model *t, const char *output, const frost_options *o);
/* tg_load + tg_compile, then frees the graph: the model must stand alone. */
frost_status tg_build(tg_model *t, const void *pb, size_t len, const char *output, const frost_options *o);

/* Runs `batch` items on t->ctx; inputs NULL: zeros; outputs NULL: into
 * t->out (reallocated for the batch).  A failure's message is the context's. */
frost_status tg_run(tg_model *t, int batch, const float *const *inputs, float *const *outputs);
/* tg_run of one input and one output (NULL as above). */
frost_status tg_run1(tg_model *t, int batch, const float *in, float *out);

/* The message of the last call when it failed, else "". */
const char *tg_msg(const tg_model *t);
void tg_free(tg_model *t);

/* Writing graphs: a new GraphDef writer whose first node is the float
 * Placeholder `input` of that shape; and a node `op` with attributes padding,
 * strides [1, s, s, 1] and, for k > 0 (a pool), ksize [1, k, k, 1]. */
fr_gdw *tg_writer(const char *input, int rank, const int64_t *dims);
void tg_window(fr_gdw *w, const char *name, const char *op, const char *const *inputs, const char *padding, int k,
               int s);
/* A graph of encoded images: a string Placeholder "contents" (shape [] for
 * rank 0, else [-1]) -> "decode" (op, channels, dct_method unless NULL) ->
 * "cast" to float -> "expand" (ExpandDims 0): the caller adds the rest. */
fr_gdw *tg_image_writer(const char *op, int channels, const char *dct, int rank);
/* The writer's GraphDef (malloc'ed; NULL when writing failed); frees w. */
uint8_t *tg_finish(fr_gdw *w, size_t *len);

#endif
