/* Post-training quantization (frost_quantizer, frost.h): which tensors of a
 * graph are quantized, their calibrated ranges, and the rewritten GraphDef.
 *   quantize.c  the choice of tensors and weights, the calibration runs
 *   rewrite.c   the GraphDef written back: int8 weights dequantized by
 *               Cast + Mul, FakeQuantWithMinMaxVars on the activations
 *   calibrate.c calibration on a directory of images, and the quantized
 *               graph in memory (frost_options.calibrate_dir) */
#ifndef FR_QUANT_H
#define FR_QUANT_H

#include <stddef.h>

#include "frost.h"
#include "graph/graph.h"

/* How a constant is used as weights, which fixes its output-channel axis. */
typedef enum fr_qw_kind {
    FR_QW_NONE = 0,
    FR_QW_CONV,      /* Conv2D HWIO: channel = last axis */
    FR_QW_DEPTHWISE, /* [kh][kw][cin][mult]: channel = the last two axes (cin * mult) */
    FR_QW_MATMUL,    /* [K][N]: channel = last axis */
    FR_QW_MATMUL_T,  /* [N][K] (transpose_b): channel = first axis */
    FR_QW_CONFLICT   /* used in two ways: left in float */
} fr_qw_kind;

/* One activation tensor (output 0 of `node`) that gets a FakeQuant. */
typedef struct fr_qtensor {
    int node;
    size_t size;           /* elements per batch item */
    float lo, hi;          /* min / max seen */
    double plo, phi;       /* sums of the per-run percentiles */
} fr_qtensor;

struct frost_quantizer {
    frost_graph *g; /* a reference */
    unsigned flags;
    fr_qw_kind *weight; /* [n_nodes]: Const nodes quantized as weights */
    int *tensor;        /* [n_nodes]: index into t, -1 */
    fr_qtensor *t;
    int n_t;
    int n_user_outputs;
    frost_model *model;
    frost_context *ctx;
    float **outs;
    int outs_batch;
    float *scratch;
    size_t scratch_n;
    int runs, images;
};

/* Writes the quantized GraphDef (rewrite.c).  The ranges are final. */
frost_status fr_quant_write(const frost_quantizer *q, void **data_out, size_t *size_out, char **error_out);

/* The range written for tensor k: calibrated, widened to hold 0 (rewrite.c uses it). */
void fr_quant_range(const frost_quantizer *q, int k, float *lo, float *hi);

#endif
