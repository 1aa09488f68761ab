/* frost serve: the warm-up file's bytes (serve_warmup.h).  Field numbers as
 * in TensorFlow Serving's prediction_log.proto, predict.proto,
 * classification.proto, regression.proto, inference.proto, input.proto and
 * model.proto. */
#include "serve/serve_warmup.h"

#include <stdio.h>
#include <string.h>

#include "savedmodel/crc32c.h"

enum { PL_CLASSIFY = 2, PL_REGRESS = 3, PL_MULTI = 4, PL_SESSION_RUN = 5, PL_PREDICT = 6, PL_STREAMED = 7 };

static uint64_t le64(const uint8_t *p) {
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) v = v << 8 | p[i];
    return v;
}

static uint32_t le32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* A reader of n bytes at p; an absent message (p NULL) reads as empty. */
static pb_reader reader(const uint8_t *p, size_t n) { return p ? pb_make(p, n) : pb_make("", 0); }

/* The last field `number` of a message, of wire type LEN: 1 found, 0 not, -1 malformed. */
static int last_len_field(const uint8_t *p, size_t len, uint32_t number, pb_field *out) {
    pb_reader r = reader(p, len);
    pb_field f;
    int found = 0;
    while (pb_more(&r)) {
        if (pb_next(&r, &f)) return -1;
        if (f.number != number) continue;
        if (f.wire != PB_LEN) return -1;
        *out = f;
        found = 1;
    }
    return found;
}

static int is(const pb_field *f, const char *s) {
    return f->ptr && f->len == strlen(s) && !memcmp(f->ptr, s, f->len);
}

/* model_spec (field 1 of every request) -> its signature_name (field 3). */
static int signature_of(const uint8_t *req, size_t len, sv_warm_req *w) {
    pb_field spec, name;
    int r = last_len_field(req, len, 1, &spec);
    w->sig = "";
    w->sig_len = 0;
    if (r <= 0) return r;
    if ((r = last_len_field(spec.ptr, spec.len, 3, &name)) < 0) return -1;
    if (r) w->sig = (const char *)name.ptr, w->sig_len = name.len;
    return 0;
}

/* One PredictionLog: fn for its request(s). */
static int run_log(const uint8_t *p, size_t len, const char *path, long rec, sv_warm_fn fn, void *arg, char *err,
                   size_t errlen, const char **code) {
    pb_reader r = reader(p, len);
    pb_field f, log = {0};
    while (pb_more(&r)) {
        if (pb_next(&r, &f)) goto bad;
        if (f.number >= PL_CLASSIFY && f.number <= PL_STREAMED) {
            if (f.wire != PB_LEN) goto bad;
            log = f; /* a oneof: the last member wins */
        }
    }
    /* none, or a streamed predict log: TF Serving's warm-up skips them */
    if (log.number == 0 || log.number == PL_STREAMED) return 0;
    if (log.number == PL_SESSION_RUN) {
        *code = "UNIMPLEMENTED";
        snprintf(err, errlen, "Unsupported log_type for warmup: %u (a SessionRunLog, record %ld of %s)", log.number,
                 rec, path);
        return -1;
    }
    pb_field req = {0};
    if (last_len_field(log.ptr, log.len, 1, &req) < 0) goto bad; /* the log's request; absent: an empty one */
    sv_warm_req w = {0};
    if (signature_of(req.ptr, req.len, &w)) goto bad;
    if (log.number != PL_MULTI) {
        w.kind = log.number == PL_PREDICT ? SV_WARM_PREDICT : log.number == PL_CLASSIFY ? SV_WARM_CLASSIFY
                                                                                          : SV_WARM_REGRESS;
        if (log.number == PL_PREDICT) w.body = req.ptr, w.len = req.len;
        else {
            pb_field in = {0};
            if (last_len_field(req.ptr, req.len, 2, &in) < 0) goto bad;
            w.body = in.ptr, w.len = in.len;
        }
        return fn(arg, &w, err, errlen, code);
    }
    /* MultiInferenceRequest: tasks (1) { model_spec method_name (2) } on one input (2) */
    pb_field in = {0};
    if (last_len_field(req.ptr, req.len, 2, &in) < 0) goto bad;
    pb_reader t = reader(req.ptr, req.len);
    int tasks = 0;
    while (pb_more(&t)) {
        if (pb_next(&t, &f)) goto bad;
        if (f.number != 1) continue;
        pb_field method = {0};
        if (f.wire != PB_LEN || signature_of(f.ptr, f.len, &w) || last_len_field(f.ptr, f.len, 2, &method) < 0)
            goto bad;
        if (is(&method, "tensorflow/serving/classify")) w.kind = SV_WARM_CLASSIFY;
        else if (is(&method, "tensorflow/serving/regress")) w.kind = SV_WARM_REGRESS;
        else {
            *code = "UNIMPLEMENTED";
            snprintf(err, errlen, "Unsupported signature method_name: %.*s (a multi-inference task, record %ld of %s)",
                     (int)(method.len > 100 ? 100 : method.len), method.ptr ? (const char *)method.ptr : "", rec,
                     path);
            return -1;
        }
        w.body = in.ptr, w.len = in.len;
        if (fn(arg, &w, err, errlen, code)) return -1;
        tasks++;
    }
    if (!tasks) {
        *code = "INVALID_ARGUMENT";
        snprintf(err, errlen, "MultiInferenceRequest must have at least one task (record %ld of %s)", rec, path);
        return -1;
    }
    return 0;
bad:
    *code = "INVALID_ARGUMENT";
    snprintf(err, errlen, "Failed to parse warmup record %ld from %s: not a PredictionLog", rec, path);
    return -1;
}

int sv_warmup_parse(const uint8_t *data, size_t len, const char *path, int iterations, sv_warm_fn fn, void *arg,
                    char *err, size_t errlen, const char **code) {
    size_t off = 0;
    long n = 0;
    while (off < len) {
        const char *what = NULL;
        uint64_t size = 0;
        if (len - off < 12) what = "truncated";
        else if (fr_crc32c_mask(fr_crc32c(data + off, 8)) != le32(data + off + 8)) what = "corrupted";
        else if ((size = le64(data + off)) > len - off - 12 || len - off - 12 - size < 4) what = "truncated";
        else if (fr_crc32c_mask(fr_crc32c(data + off + 12, (size_t)size)) != le32(data + off + 12 + size))
            what = "corrupted";
        if (what) {
            *code = "DATA_LOSS";
            snprintf(err, errlen, "%s record at %zu of %s. Please verify your warmup data is in TFRecord format.",
                     what, off, path);
            return -1;
        }
        if (++n > SV_WARMUP_MAX_RECORDS) {
            *code = "INVALID_ARGUMENT";
            snprintf(err, errlen, "Number of warmup records exceeds the maximum (%d) at %s", SV_WARMUP_MAX_RECORDS,
                     path);
            return -1;
        }
        for (int i = 0; i < iterations; i++)
            if (run_log(data + off + 12, (size_t)size, path, n, fn, arg, err, errlen, code)) return -1;
        off += 12 + (size_t)size + 4;
    }
    return (int)n;
}

int sv_warm_inputs(const sv_warm_req *r, sv_warm_input_fn fn, void *arg, char *err, size_t errlen) {
    pb_reader rd = reader(r->body, r->len);
    pb_field f;
    while (pb_more(&rd)) {
        if (pb_next(&rd, &f)) goto bad;
        if (f.number != 2) continue; /* inputs: map<string, TensorProto> entries { key = 1, value = 2 } */
        if (f.wire != PB_LEN) goto bad;
        pb_field key = {0}, val = {0};
        if (last_len_field(f.ptr, f.len, 1, &key) < 0 || last_len_field(f.ptr, f.len, 2, &val) < 0) goto bad;
        fr_pb_tensor t;
        const char *why = NULL;
        if (fr_pb_parse_tensor(val.ptr ? val.ptr : (const uint8_t *)"", val.len, &t, &why)) {
            snprintf(err, errlen, "input '%.*s': %s", (int)(key.len > 100 ? 100 : key.len),
                     key.ptr ? (const char *)key.ptr : "", why ? why : "malformed TensorProto");
            return -1;
        }
        if (fn(arg, (const char *)key.ptr, key.len, &t)) return -2;
    }
    return 0;
bad:
    snprintf(err, errlen, "malformed PredictRequest");
    return -1;
}

int sv_warm_examples(const sv_warm_req *r, sv_warm_example_fn fn, void *arg, char *err, size_t errlen) {
    pb_field list = {0}, f;
    const uint8_t *ctx = NULL;
    size_t ctx_len = 0;
    pb_reader rd = reader(r->body, r->len);
    while (pb_more(&rd)) { /* Input: example_list (1) or example_list_with_context (2), the last one */
        if (pb_next(&rd, &f)) goto bad;
        if (f.number == 1 || f.number == 2) {
            if (f.wire != PB_LEN) goto bad;
            list = f;
        }
    }
    if (list.number == 2) {
        pb_field c;
        int h = last_len_field(list.ptr, list.len, 2, &c);
        if (h < 0) goto bad;
        if (h) ctx = c.ptr, ctx_len = c.len;
        if (!ctx) ctx = (const uint8_t *)"", ctx_len = 0;
    }
    int k = 0;
    rd = reader(list.ptr, list.len);
    while (list.number && pb_more(&rd)) {
        if (pb_next(&rd, &f)) goto bad;
        if (f.number != 1) continue;
        if (f.wire != PB_LEN) goto bad;
        if (fn(arg, k, ctx, ctx_len, f.ptr, f.len)) return -2;
        k++;
    }
    if (k == 0) {
        snprintf(err, errlen, "Input is empty.");
        return -1;
    }
    return k;
bad:
    snprintf(err, errlen, "malformed Input of serialized tf.Examples");
    return -1;
}
