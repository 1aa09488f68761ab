/* frost serve: TensorFlow Serving's SavedModel warm-up file,
 * VERSION/assets.extra/tf_serving_warmup_requests: a TFRecord file (each
 * record: its length as 8 bytes little-endian, the masked CRC-32C of those
 * 8 bytes, the data, the masked CRC-32C of the data) of PredictionLog
 * protos, each holding one recorded request: a PredictLog (PredictRequest:
 * model_spec, inputs as TensorProtos), a ClassifyLog or RegressLog (an Input
 * of serialized tf.Examples, with or without a context Example) or a
 * MultiInferenceLog (tasks on one Input).  TF Serving runs every request
 * before it makes the version available, and fails the load when one does
 * not parse or fails; frost serve does the same (serve_warmup.c).
 *
 * The functions here only read bytes (no model, no I/O): the fuzz target
 * fuzz/fuzz_warmup.c feeds them arbitrary files. */
#ifndef FROST_SERVE_WARMUP_H
#define FROST_SERVE_WARMUP_H

#include <stddef.h>
#include <stdint.h>

#include "pb/pb.h"

#define SV_WARMUP_FILE "assets.extra/tf_serving_warmup_requests"
#define SV_WARMUP_MAX_RECORDS 1000 /* TF Serving's WarmupConsts::kMaxNumRecords */

typedef enum sv_warm_kind { SV_WARM_PREDICT, SV_WARM_CLASSIFY, SV_WARM_REGRESS } sv_warm_kind;

/* One request to run: the signature named by its model_spec (empty: the
 * default one) and its body, a PredictRequest (predict) or an Input
 * (classify, regress).  Pointers into the file's bytes. */
typedef struct sv_warm_req {
    sv_warm_kind kind;
    const char *sig;
    size_t sig_len;
    const uint8_t *body;
    size_t len;
} sv_warm_req;

/* Called for each request (a multi-inference record gives one a task);
 * returns 0, or -1 with err and *code (a TF Serving error code name) set. */
typedef int (*sv_warm_fn)(void *arg, const sv_warm_req *r, char *err, size_t errlen, const char **code);

/* Reads the records of the file's `len` bytes in order and calls fn for the
 * requests of each, `iterations` times (>= 1).  Returns the number of
 * records read, or -1 with err / *code set: a corrupt or truncated record
 * (DATA_LOSS, as TF Serving's TFRecord reader), a record that is not a
 * PredictionLog or holds a malformed request (INVALID_ARGUMENT), a
 * SessionRunLog (UNIMPLEMENTED), more than SV_WARMUP_MAX_RECORDS records, or
 * fn's error.  `path` names the file in messages.  Records of no kind (and
 * streamed predict logs, which TF Serving's warm-up skips) run nothing. */
int sv_warmup_parse(const uint8_t *data, size_t len, const char *path, int iterations, sv_warm_fn fn, void *arg,
                    char *err, size_t errlen, const char **code);

/* The inputs of a PredictRequest body: fn(arg, key, key_len, tensor) for each
 * entry of its inputs map, the TensorProto parsed (fr_pb_parse_tensor); fn
 * returns 0 to go on.  Returns 0, -1 with err set when an entry or its
 * tensor is malformed, -2 when fn stopped. */
typedef int (*sv_warm_input_fn)(void *arg, const char *key, size_t key_len, const fr_pb_tensor *t);
int sv_warm_inputs(const sv_warm_req *r, sv_warm_input_fn fn, void *arg, char *err, size_t errlen);

/* The examples of an Input body (classify, regress): fn(arg, k, context,
 * context_len, example, example_len) for each serialized Example in order
 * (context: the ExampleListWithContext's context Example, or NULL); fn
 * returns 0 to go on.  Returns the number of examples (>= 1), -1 with err
 * set when the Input is malformed or holds no example, -2 when fn stopped. */
typedef int (*sv_warm_example_fn)(void *arg, int k, const uint8_t *ctx, size_t ctx_len, const uint8_t *ex,
                                  size_t ex_len);
int sv_warm_examples(const sv_warm_req *r, sv_warm_example_fn fn, void *arg, char *err, size_t errlen);

#endif
