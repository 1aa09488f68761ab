/* frost serve: a SavedModel version's warm-up requests run before it is made
 * available, as TensorFlow Serving runs them (saved_model_warmup.cc).  Each
 * request goes through its signature's runner and batch queue like a REST
 * request; its outputs are dropped. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "pb/mapfile.h"
#include "serve/serve.h"
#include "serve/serve_warmup.h"

typedef struct {
    sv_server *srv;
    sv_version *v;
    const sv_model *m;
    sv_request *req;
    const fr_pb_tensor *t[SERVE_MAX_IO];
    fr_pb_tensor tensors[SERVE_MAX_IO];
    char *err;
    size_t errlen;
} warm_ctx;

static const char *code_of_http(int http) {
    switch (http) {
    case 400: return "INVALID_ARGUMENT";
    case 404: return "NOT_FOUND";
    case 413: return "RESOURCE_EXHAUSTED";
    case 501: return "UNIMPLEMENTED";
    case 503: return "UNAVAILABLE";
    case 504: return "DEADLINE_EXCEEDED";
    default: return "INTERNAL";
    }
}

/* The runner of the request's signature (its model_spec's, else the default). */
static sv_model *runner_of(warm_ctx *c, const sv_warm_req *r, char *err, size_t errlen, const char **code) {
    char key[256];
    snprintf(key, sizeof key, "%.*s", (int)(r->sig_len < sizeof key ? r->sig_len : sizeof key - 1), r->sig);
    int http = 500;
    sv_model *m = sv_version_runner(c->srv, c->v, key, err, errlen, &http);
    if (!m) *code = code_of_http(http);
    return m;
}

/* More instances than a REST request may have (--max_instances). */
static int too_many(const warm_ctx *c, size_t n, const char *what, char *err, size_t errlen, const char **code) {
    int http = 0;
    if (!sv_check_count(&c->srv->limits, n, what, err, errlen, &http)) return 0;
    *code = code_of_http(http);
    return -1;
}

/* Runs the request's instances through m's batch queue and waits for them. */
static int run_instances(sv_model *m, sv_request *req, char *err, size_t errlen, const char **code) {
    sv_item *items = calloc((size_t)req->count, sizeof *items);
    if (!items) {
        *code = "RESOURCE_EXHAUSTED";
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    sv_waiter w;
    sv_waiter_init(&w, req->count);
    sv_request_items(m, req, items, &w, 0);
    int rc = 0;
    if (sv_batcher_submit(&m->batcher, items, req->count, 0)) {
        *code = "UNAVAILABLE";
        snprintf(err, errlen, "the inference queue is full or the server is shutting down");
        rc = -1;
    } else {
        sv_waiter_wait(&w);
        if (w.failed) {
            *code = code_of_http(w.code);
            snprintf(err, errlen, "%s", w.error);
            rc = -1;
        }
    }
    sv_waiter_destroy(&w);
    free(items);
    return rc;
}

/* ---- predict: the PredictRequest's inputs map onto the signature's inputs ------------ */

static int take_input(void *arg, const char *key, size_t key_len, const fr_pb_tensor *t) {
    warm_ctx *c = arg;
    for (int i = 0; i < c->m->num_inputs; i++) {
        const char *k = c->m->in_key[i];
        if (strlen(k) != key_len || memcmp(k, key, key_len)) continue;
        c->tensors[i] = *t;
        c->t[i] = &c->tensors[i];
        return 0;
    }
    /* TF Serving's words (predict_util.cc) */
    size_t o = (size_t)snprintf(c->err, c->errlen, "input tensor alias not found in signature: %.*s. Inputs expected "
                                "to be in the set {", (int)(key_len > 200 ? 200 : key_len), key ? key : "");
    for (int i = 0; i < c->m->num_inputs && o < c->errlen; i++)
        o += (size_t)snprintf(c->err + o, c->errlen - o, "%s%s", i ? "," : "", c->m->in_key[i]);
    if (o < c->errlen) snprintf(c->err + o, c->errlen - o, "}.");
    return -1;
}

static int warm_predict(warm_ctx *c, sv_model *m, const sv_warm_req *r, char *err, size_t errlen, const char **code) {
    *code = "INVALID_ARGUMENT";
    c->m = m;
    c->err = err;
    c->errlen = errlen;
    memset(c->t, 0, sizeof c->t);
    if (sv_warm_inputs(r, take_input, c, err, errlen)) return -1;
    int64_t count = -1;
    for (int i = 0; i < m->num_inputs; i++) {
        const fr_pb_tensor *t = c->t[i];
        if (!t) {
            snprintf(err, errlen, "the request has no input '%s' of the signature", m->in_key[i]);
            return -1;
        }
        int want = m->in_string[i] ? FR_DT_STRING : FR_DT_FLOAT;
        if (t->dtype != want) {
            snprintf(err, errlen, "input '%s': expects %s, the request gives %s", m->in_key[i], fr_dtype_name(want),
                     fr_dtype_name(t->dtype));
            return -1;
        }
        int64_t n = t->shape.rank >= 1 ? t->shape.dims[0] : 1; /* the batch: the first dimension */
        int64_t elems = m->in_string[i] ? t->n_vals : t->count;
        if (n < 1 || (count >= 0 && n != count) || elems != n * (m->in_string[i] ? 1 : (int64_t)m->in_size[i])) {
            snprintf(err, errlen, "input '%s': %lld values for a batch of %lld (each instance %zu)", m->in_key[i],
                     (long long)elems, (long long)n, m->in_string[i] ? (size_t)1 : m->in_size[i]);
            return -1;
        }
        count = n;
    }
    if (too_many(c, (size_t)count, "instances", err, errlen, code)) return -1;
    if (sv_request_alloc(m, (int)count, c->req)) {
        *code = "RESOURCE_EXHAUSTED";
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    for (int i = 0; i < m->num_inputs; i++) {
        const fr_pb_tensor *t = c->t[i];
        if (!m->in_string[i]) {
            fr_pb_tensor_to_float(t, c->req->in_ptr[i]);
            continue;
        }
        pb_reader rd = pb_make(t->raw, t->raw_len); /* string_val (8): one string an instance */
        pb_field f;
        int k = 0;
        while (pb_more(&rd) && !pb_next(&rd, &f))
            if (f.number == 8 && f.wire == PB_LEN && k < count) c->req->str[i][k++] = (frost_string){f.ptr, f.len};
    }
    return run_instances(m, c->req, err, errlen, code);
}

/* ---- classify / regress: serialized tf.Examples (the context merged in front) -------- */

static int count_example(void *arg, int k, const uint8_t *ctx, size_t ctx_len, const uint8_t *ex, size_t ex_len) {
    (void)arg, (void)k, (void)ctx, (void)ctx_len, (void)ex, (void)ex_len;
    return 0;
}

static int take_example(void *arg, int k, const uint8_t *ctx, size_t ctx_len, const uint8_t *ex, size_t ex_len) {
    sv_request *req = arg;
    if (!ctx) {
        req->str[0][k] = (frost_string){ex, ex_len};
        return 0;
    }
    /* a protobuf message followed by another parses as their merge: the
     * example's own features replace the context's of the same name */
    uint8_t *b = malloc(ctx_len + ex_len + 1);
    if (!b) return -1;
    memcpy(b, ctx, ctx_len);
    memcpy(b + ctx_len, ex, ex_len);
    req->owned[req->num_owned++] = b;
    req->str[0][k] = (frost_string){b, ctx_len + ex_len};
    return 0;
}

static int warm_examples(warm_ctx *c, sv_model *m, const sv_warm_req *r, char *err, size_t errlen, const char **code) {
    *code = "INVALID_ARGUMENT";
    if (m->num_inputs != 1 || !m->in_string[0]) {
        snprintf(err, errlen, "a %s request on a signature that does not take serialized tf.Example protos",
                 r->kind == SV_WARM_CLASSIFY ? "classify" : "regress");
        return -1;
    }
    int n = sv_warm_examples(r, count_example, NULL, err, errlen);
    if (n < 0) return -1;
    if (too_many(c, (size_t)n, "examples", err, errlen, code)) return -1;
    if (sv_request_alloc(m, n, c->req) || sv_warm_examples(r, take_example, c->req, err, errlen) != n) {
        *code = "RESOURCE_EXHAUSTED";
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    return run_instances(m, c->req, err, errlen, code);
}

static int warm_one(void *arg, const sv_warm_req *r, char *err, size_t errlen, const char **code) {
    warm_ctx *c = arg;
    sv_model *m = runner_of(c, r, err, errlen, code);
    if (!m) return -1;
    sv_request req;
    memset(&req, 0, sizeof req);
    c->req = &req;
    int rc = r->kind == SV_WARM_PREDICT ? warm_predict(c, m, r, err, errlen, code)
                                        : warm_examples(c, m, r, err, errlen, code);
    sv_request_free(&req);
    return rc;
}

int sv_warmup_version(sv_server *srv, sv_version *v, int iterations, int *records, char *err, size_t errlen,
                      const char **code) {
    *records = 0;
    char path[4096];
    if (snprintf(path, sizeof path, "%s/%s", v->path, SV_WARMUP_FILE) >= (int)sizeof path) return 0;
    struct stat st;
    if (stat(path, &st) != 0) return 0; /* no warm-up file: nothing to do, as in TF Serving */
    uint8_t *data = NULL;
    size_t len = 0;
    char *msg = NULL;
    if (fr_read_file(path, &data, &len, &msg) != FROST_OK) {
        *code = "INTERNAL";
        snprintf(err, errlen, "%s", msg ? msg : path);
        frost_free(msg);
        return -1;
    }
    warm_ctx c = {.srv = srv, .v = v};
    int n = sv_warmup_parse(data, len, path, iterations, warm_one, &c, err, errlen, code);
    free(data);
    if (n < 0) return -1;
    *records = n;
    return 0;
}
