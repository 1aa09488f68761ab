/* libFuzzer target: a SavedModel's warm-up file as frost serve reads it
 * (tools/serve/serve_warmup_parse.c): TFRecord framing with its masked
 * CRC-32Cs, PredictionLogs of every kind, their PredictRequests' inputs maps
 * (TensorProtos converted as the server feeds them) and their Inputs of
 * serialized tf.Examples (with a context).  The fuzzing build's seeds are
 * files with valid checksums (fuzz/make_seeds.py); mutations mostly fail the
 * checksum, so the first byte of the input, when odd, makes the rest one
 * record written with correct checksums around it. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "savedmodel/crc32c.h"
#include "serve/serve_warmup.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int on_input(void *arg, const char *key, size_t key_len, const fr_pb_tensor *t) {
    (void)key, (void)key_len;
    size_t *seen = arg;
    if (t->dtype != FR_DT_STRING && t->count > 0 && t->count <= 4096) {
        float *v = malloc((size_t)t->count * sizeof *v);
        if (!v) return 1;
        fr_pb_tensor_to_float(t, v);
        for (int64_t i = 0; i < t->count; i++) *seen += v[i] == v[i];
        free(v);
    }
    return 0;
}

static int on_example(void *arg, int k, const uint8_t *ctx, size_t ctx_len, const uint8_t *ex, size_t ex_len) {
    size_t *seen = arg;
    *seen += (size_t)k + ctx_len + ex_len + (ctx_len ? ctx[0] : 0) + (ex_len ? ex[0] : 0);
    return 0;
}

static int on_request(void *arg, const sv_warm_req *r, char *err, size_t errlen, const char **code) {
    (void)code;
    size_t *seen = arg;
    *seen += r->sig_len;
    if (r->kind == SV_WARM_PREDICT) return sv_warm_inputs(r, on_input, seen, err, errlen) == -2 ? -1 : 0;
    return sv_warm_examples(r, on_example, seen, err, errlen) == -2 ? -1 : 0;
}

static void put32(uint8_t *p, uint32_t v) {
    for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    char err[512];
    const char *code = NULL;
    size_t seen = 0;
    if (data[0] & 1) { /* the rest as one record, framed with valid checksums */
        size_t n = size - 1;
        uint8_t *rec = malloc(n + 16);
        if (!rec) return 0;
        for (int i = 0; i < 8; i++) rec[i] = (uint8_t)((uint64_t)n >> (8 * i));
        put32(rec + 8, fr_crc32c_mask(fr_crc32c(rec, 8)));
        memcpy(rec + 12, data + 1, n);
        put32(rec + 12 + n, fr_crc32c_mask(fr_crc32c(data + 1, n)));
        sv_warmup_parse(rec, n + 16, "fuzz", 1 + (data[0] >> 7), on_request, &seen, err, sizeof err, &code);
        free(rec);
    } else {
        sv_warmup_parse(data + 1, size - 1, "fuzz", 1, on_request, &seen, err, sizeof err, &code);
    }
    volatile size_t sink = seen; /* the values were read */
    (void)sink;
    return 0;
}
