/* `frost convert`: TensorFlow.js models (model.json + weight shards) to a
 * binary frozen TensorFlow GraphDef.
 *   convert_weights.c  the weights manifest: read shards, dequantize
 *   convert_layers.c   layers models (Keras topology) -> standard TF ops
 *   convert_graph.c    graph models (GraphDef as JSON) -> binary, fused ops expanded
 * Every function that can fail returns -1 after cv_fail() recorded a message. */
#ifndef FROST_CONVERT_H
#define FROST_CONVERT_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "pb/pbwriter.h"

#define CV_MAX_RANK 8

/* One tensor of the weights manifest, dequantized. */
typedef struct cv_weight {
    char *name;
    int dtype; /* FR_DT_FLOAT, FR_DT_INT32 or FR_DT_BOOL */
    int rank;
    int64_t dims[CV_MAX_RANK];
    size_t count;   /* elements */
    void *data;     /* count floats / int32s / bytes */
    size_t nbytes;
    const char *quantization; /* "uint8", "uint16", "float16" or NULL */
    int used;
} cv_weight;

typedef struct cv_weights {
    cv_weight *w;
    int n;
} cv_weights;

typedef struct cv_ctx {
    fr_gdw *g;
    cv_weights weights;
    const char *path;     /* model.json, for messages */
    char err[2048];       /* first failure */
    int quiet;
    /* summary of the conversion */
    int n_quantized[3];   /* tensors dequantized from uint8, uint16, float16 */
    /* layers models: how Flatten is written (0: Shape/StridedSlice/Prod/Pack/Reshape
     * as Keras' batch_flatten; 1: Reshape to a constant [-1, N]) */
    int flatten_const;
    json_t *signature;    /* graph models: userDefinedMetadata (may be NULL) */
    char *input_name;     /* first model input (set by the converters) */
    char *output_name;    /* first model output */
} cv_ctx;

/* Record a message (the first one wins); returns -1. */
int cv_fail(cv_ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Load the manifest's shards (paths relative to `dir`) and dequantize every tensor. */
int cv_weights_load(cv_ctx *c, json_t *manifest, const char *dir);
void cv_weights_free(cv_weights *w);
/* Exact name, else the unique weight whose name ends with "/" + name. */
cv_weight *cv_weight_find(cv_ctx *c, const char *name);

/* float16 bits -> float32 (exact). */
float cv_half_to_float(uint16_t h);

int cv_convert_layers(cv_ctx *c, json_t *topology);
int cv_convert_graph(cv_ctx *c, json_t *topology);

/* TensorFlow DataType from "DT_FLOAT" / "float32" style names; -1 if unknown. */
int cv_dtype_from_name(const char *s);

#endif
