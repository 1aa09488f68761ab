/* frost serve: the HTTP side (libmicrohttpd, one thread per connection).
 *
 * Routes (TensorFlow Serving's REST API, plus operations endpoints), the
 * prefix matched without regard to case as TF Serving's regular expressions do:
 *   GET  /v1/models/NAME[/versions/N|/labels/L]            model status (every version, or N's)
 *   GET  /v1/models/NAME[/versions/N|/labels/L]/metadata   signatures: inputs, outputs, dtypes, shapes
 *   POST /v1/models/NAME[/versions/N|/labels/L]:predict    {"instances": ...} | {"inputs": ...} | raw image body
 *   POST /v1/models/NAME[/versions/N|/labels/L]:classify   same bodies: top-k [label, score]; or TF
 *                                                          Serving's "examples" (serve_example.c)
 *   POST /v1/models/NAME[/versions/N|/labels/L]:regress    "examples"
 *   GET  /healthz, GET /metrics (and the --monitoring_config_file path)
 * The request holds a reference to its model version from its headers to its
 * answer (a version unloaded meanwhile is freed after it).  Requests are
 * decoded and preprocessed on the connection's thread, then queued for the
 * batch threads; the connection thread waits for its answer. */
#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "serve.h"

enum route { R_NONE, R_STATUS, R_METADATA, R_PREDICT, R_CLASSIFY, R_REGRESS, R_HEALTH, R_METRICS };

typedef struct conn_state {
    enum route route;
    sv_servable *servable;
    sv_version *version; /* held (a reference) for POST routes */
    int64_t want_version; /* status: the version in the URL, -1: all */
    sv_model *announced_to; /* the runner told to expect this request's instance */
    char *body;
    size_t len, cap;
    int raw;       /* the body is an encoded image */
    int announced; /* instances announced to the batcher, not yet submitted */
    int answered;
    int discarding; /* body over the limit: data dropped, 413 at the end */
    size_t discarded;
    double t0;
} conn_state;

static enum MHD_Result reply(sv_server *s, struct MHD_Connection *c, conn_state *st, unsigned code, char *body,
                             size_t len, const char *ctype) {
    static const char oom[] = "{\"error\":\"out of memory\"}";
    struct MHD_Response *r;
    if (!body) {
        code = 503;
        r = MHD_create_response_from_buffer(sizeof oom - 1, (void *)oom, MHD_RESPMEM_PERSISTENT);
        ctype = "application/json";
    } else
        r = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
    if (!r) {
        free(body);
        return MHD_NO;
    }
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
    if (code == 405) MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, st->route >= R_PREDICT && st->route <= R_REGRESS ? "POST" : "GET");
    if (s->draining) MHD_add_response_header(r, MHD_HTTP_HEADER_CONNECTION, "close");
    enum MHD_Result ret = MHD_queue_response(c, code, r);
    MHD_destroy_response(r);
    if (ret == MHD_YES && !st->answered) {
        st->answered = 1;
        sv_metrics_request(&s->metrics, code, sv_now() - st->t0);
    }
    return ret;
}

static enum MHD_Result reply_error(sv_server *s, struct MHD_Connection *c, conn_state *st, unsigned code,
                                   const char *msg) {
    size_t len = 0;
    char *body = sv_response_error(msg, &len);
    return reply(s, c, st, code, body, len, "application/json");
}

static enum MHD_Result reply_json(sv_server *s, struct MHD_Connection *c, conn_state *st, char *body, size_t len) {
    return reply(s, c, st, 200, body, len, "application/json");
}

static int prefix_ci(const char *s, const char *prefix) { return !strncasecmp(s, prefix, strlen(prefix)); }

/* Parse the URL.  Returns 0 and sets st->route / servable / version, or an HTTP code with msg. */
static unsigned route(sv_server *s, const char *url, const char *method, conn_state *st, char *msg, size_t msglen) {
    int get = !strcmp(method, "GET") || !strcmp(method, "HEAD"), post = !strcmp(method, "POST");
    if (!strcmp(url, "/healthz") || !strcmp(url, "/metrics") || (s->prometheus_path && !strcmp(url, s->prometheus_path))) {
        st->route = url[1] == 'h' ? R_HEALTH : R_METRICS;
        if (!get) {
            snprintf(msg, msglen, "%s takes GET", url);
            return 405;
        }
        return 0;
    }
    if (!prefix_ci(url, "/v1/models/")) {
        snprintf(msg, msglen, "no such endpoint: %.200s (try /v1/models/NAME)", url);
        return prefix_ci(url, "/v1/") ? 400 : 404;
    }
    const char *name = url + 11, *p = name;
    while (*p && *p != '/' && *p != ':') p++;
    size_t name_len = (size_t)(p - name);
    int64_t version = -1;
    char label[256];
    int has_label = 0;
    if (prefix_ci(p, "/versions/")) {
        p += 10;
        const char *v = p;
        while (*p >= '0' && *p <= '9') p++;
        if (p == v || p - v > 18 || (*p && *p != '/' && *p != ':')) {
            snprintf(msg, msglen, "Malformed request: %s %.200s (a version is a number)", method, url);
            return 400;
        }
        version = strtoll(v, NULL, 10);
    } else if (prefix_ci(p, "/labels/")) {
        p += 8;
        const char *l = p;
        while (*p && *p != '/' && *p != ':') p++;
        if (p == l || (size_t)(p - l) >= sizeof label) {
            snprintf(msg, msglen, "Malformed request: %s %.200s", method, url);
            return 400;
        }
        memcpy(label, l, (size_t)(p - l));
        label[p - l] = '\0';
        has_label = 1;
    }
    if (!*p) st->route = R_STATUS;
    else if (!strcasecmp(p, "/metadata")) st->route = R_METADATA;
    else if (!strcasecmp(p, ":predict")) st->route = R_PREDICT;
    else if (!strcasecmp(p, ":classify")) st->route = R_CLASSIFY;
    else if (!strcasecmp(p, ":regress")) st->route = R_REGRESS;
    else {
        snprintf(msg, msglen, "Malformed request: %s %.200s (the verbs are :predict, :classify and :regress)", method,
                 url);
        return *p == ':' ? 404 : 400;
    }
    int want_post = st->route >= R_PREDICT;
    if (want_post ? !post : !get) {
        snprintf(msg, msglen, "%s takes %s", url, want_post ? "POST" : "GET");
        return 405;
    }
    if (name_len == 0) {
        snprintf(msg, msglen, "Missing model name in request.");
        return 400;
    }
    st->servable = sv_server_find(s, name, name_len);
    if (!st->servable) {
        if (st->route == R_STATUS) snprintf(msg, msglen, "Could not find any versions of model %.*s",
                                            (int)(name_len > 200 ? 200 : name_len), name);
        else snprintf(msg, msglen, "Servable not found for request: Latest(%.*s)",
                      (int)(name_len > 200 ? 200 : name_len), name);
        return 404;
    }
    st->want_version = version;
    if (st->route == R_STATUS) return 0; /* TF Serving: a label is no filter for the status */
    int code = 0;
    st->version = sv_servable_acquire(st->servable, version, has_label ? label : NULL, msg, msglen, &code);
    return st->version ? 0 : (unsigned)code;
}

static int is_image_type(const char *ct) {
    if (!ct) return 0;
    while (*ct == ' ') ct++;
    return !strncasecmp(ct, "image/", 6) || !strncasecmp(ct, "application/octet-stream", 24);
}

/* Withdraw this request's announcement (it will not be queued on that runner). */
static void withdraw(conn_state *st) {
    if (st->announced && st->announced_to) sv_batcher_announce(&st->announced_to->batcher, -st->announced);
    st->announced = 0;
    st->announced_to = NULL;
}

/* The request's instances go to runner m: tell it (instead of the default
 * signature's runner told when the headers came), so that a forming batch
 * waits for them while the body is parsed and its images decoded. */
static void announce_to(conn_state *st, sv_model *m) {
    if (!m || st->announced_to == m) return;
    withdraw(st);
    st->announced = 1;
    st->announced_to = m;
    sv_batcher_announce(&m->batcher, 1);
}

/* The largest number of floats an instance of any running signature of v takes (bounds the JSON pre-scan). */
static size_t floats_per_instance(sv_version *v) {
    size_t most = 1;
    pthread_mutex_lock(&v->mu);
    for (int g = 0; g < v->num_sigs; g++) {
        const sv_model *m = v->sigs[g].run;
        size_t n = 0;
        for (int i = 0; m && i < m->num_inputs; i++) n += m->in_size[i];
        if (n > most) most = n;
    }
    pthread_mutex_unlock(&v->mu);
    return most < 64 ? 64 : most; /* a signature compiled on first use may take more: a floor */
}

/* ---- TF Serving's :classify / :regress of tf.Example protos (serve_example.c writes them) ---- */

static int sig_index(const sv_version *v, const char *key) {
    int s = sv_version_find_sig(v, key[0] ? key : "serving_default");
    return s < 0 && !key[0] ? v->default_sig : s;
}

static const sv_tensor *output_named(const sv_signature *sig, const char *key) {
    for (int j = 0; j < sig->num_outputs; j++)
        if (!strcmp(sig->outputs[j].key, key)) return &sig->outputs[j];
    return NULL;
}

int sv_examples_signature(const sv_version *v, const char *key) {
    int s = sig_index(v, key);
    return s >= 0 && v->sigs[s].num_inputs == 1 && v->sigs[s].inputs[0].dtype == FROST_DTYPE_STRING;
}

/* How a request is answered once its instances have run. */
typedef struct answer {
    enum { A_PREDICT, A_TOPK, A_RESULTS_CLASSIFY, A_RESULTS_REGRESS } kind;
    int top_k;
    int output; /* A_RESULTS_*: the output read ("scores", "outputs") */
} answer;

/* A :classify / :regress body of "examples" for signature `key` of v, as TF
 * Serving checks it: the runner, the request (one serialized tf.Example per
 * item of the string input, pointing into *ex) and how to answer.  -1 with
 * *http_code and err. */
static int examples_request(sv_server *srv, conn_state *st, sv_version *v, const char *key, struct json_t *root,
                            int classify,
                            sv_examples *ex, sv_model **run, sv_request *req, answer *ans, char *err, size_t errlen,
                            int *http_code) {
    int s = sig_index(v, key);
    *http_code = 400;
    if (s < 0) {
        snprintf(err, errlen, "No signature was found with the name: %.200s", key[0] ? key : "serving_default");
        return -1;
    }
    const sv_signature *sig = &v->sigs[s];
    const char *what = classify ? "classification" : "regression";
    if (sig->num_inputs != 1) {
        snprintf(err, errlen, "Expected one input Tensor in the %s signature '%s'", what, sig->key);
        return -1;
    }
    if (sig->inputs[0].dtype != FROST_DTYPE_STRING) {
        snprintf(err, errlen, "signature '%s' takes %s, not serialized tf.Example protos (DT_STRING): send it "
                 "\"instances\" to :predict with \"signature_name\"", sig->key, frost_dtype_name(sig->inputs[0].dtype));
        return -1;
    }
    const sv_tensor *scores = classify ? output_named(sig, "scores") : NULL;
    const sv_tensor *outputs = classify ? NULL : output_named(sig, "outputs");
    if (classify && !scores) {
        snprintf(err, errlen, "classification signature '%s' has no \"scores\" output (frost answers scores; string "
                 "\"classes\" outputs are not supported)", sig->key);
        return -1;
    }
    if (!classify && (!outputs || sig->num_outputs != 1)) {
        snprintf(err, errlen, "Expected one output Tensor named outputs in the regression signature '%s'", sig->key);
        return -1;
    }
    sv_model *m = sv_version_runner(srv, v, sig->key, err, errlen, http_code);
    if (!m) return -1;
    announce_to(st, m);
    if (sv_examples_from_json(root, &srv->limits, ex, err, errlen, http_code)) return -1;
    ans->kind = classify ? A_RESULTS_CLASSIFY : A_RESULTS_REGRESS;
    ans->output = 0;
    for (int j = 0; j < m->num_outputs; j++)
        if (!strcmp(m->out_key[j], classify ? "scores" : "outputs")) ans->output = j;
    if (!classify && m->out_size[ans->output] != 1) {
        snprintf(err, errlen, "Expected output Tensor shape to be either [batch_size] or [batch_size, 1] in the "
                 "regression signature '%s'", sig->key);
        return -1;
    }
    if (m->num_inputs != 1 || !m->in_string[0]) {
        *http_code = 500;
        snprintf(err, errlen, "signature '%s' was not compiled with a string input", sig->key);
        return -1;
    }
    if (sv_request_alloc(m, ex->count, req)) {
        *http_code = 503;
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    for (int k = 0; k < ex->count; k++) req->str[0][k] = (frost_string){ex->data[k], ex->size[k]};
    *run = m;
    return 0;
}

/* Queue the parsed instances on runner m and answer them. */
static enum MHD_Result run_queued(sv_server *s, struct MHD_Connection *c, conn_state *st, sv_model *m,
                                  sv_request *req, const answer *ans) {
    int n = req->count;
    sv_item *items = calloc((size_t)n, sizeof *items);
    if (!items) {
        withdraw(st);
        return reply_error(s, c, st, 503, "out of memory");
    }
    sv_waiter w;
    sv_waiter_init(&w, n);
    double deadline = s->timeout_s > 0 ? st->t0 + s->timeout_s : 0;
    sv_request_items(m, req, items, &w, deadline);
    int announced = st->announced_to == m ? st->announced : 0;
    if (!announced) withdraw(st);
    st->announced = 0;
    st->announced_to = NULL;
    enum MHD_Result ret;
    if (sv_batcher_submit(&m->batcher, items, n, announced)) {
        ret = reply_error(s, c, st, 503, "the inference queue is full or the server is shutting down; retry later");
    } else {
        sv_waiter_wait(&w);
        if (w.failed) ret = reply_error(s, c, st, (unsigned)w.code, w.error);
        else {
            size_t len = 0;
            const float *o = req->out_ptr[ans->output];
            char *body = ans->kind == A_TOPK              ? sv_response_classify(m, req, ans->top_k, &len)
                         : ans->kind == A_PREDICT         ? sv_response_predict(m, req, &len)
                         : ans->kind == A_RESULTS_REGRESS ? sv_response_results_regress(req->count, o, &len)
                                                          : sv_response_results_classify(req->count,
                                                                (int)m->out_size[ans->output], o, NULL, &len);
            ret = reply_json(s, c, st, body, len);
        }
    }
    sv_waiter_destroy(&w);
    free(items);
    return ret;
}

static enum MHD_Result run_inference(sv_server *s, struct MHD_Connection *c, conn_state *st) {
    sv_version *v = st->version;
    sv_request req;
    sv_examples ex;
    char err[1024];
    int code = 400, rc = -1, top_k = 0;
    sv_model *m = NULL;
    struct json_t *root = NULL; /* lives until the answer: string inputs point into it */
    answer ans = {A_PREDICT, 0, 0};
    if (st->route == R_CLASSIFY) {
        const char *tk = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "top_k");
        if (tk) {
            char *e;
            long val = strtol(tk, &e, 10);
            top_k = *e || val < 1 || val > 100000 ? -1 : (int)val;
        }
    }
    memset(&req, 0, sizeof req);
    memset(&ex, 0, sizeof ex);
    if (top_k < 0) snprintf(err, sizeof err, "top_k must be an integer from 1 to 100000");
    else if (st->len == 0) snprintf(err, sizeof err, "empty request body");
    else if (st->raw) {
        if (st->route == R_REGRESS) snprintf(err, sizeof err, ":regress takes a JSON body of \"examples\"");
        else if ((m = sv_version_runner(s, v, NULL, err, sizeof err, &code)))
            rc = sv_request_from_image(m, &s->limits, st->body, st->len, &req, err, sizeof err, &code);
    } else {
        root = sv_json_parse(&s->limits, st->body, st->len, floats_per_instance(v), err, sizeof err, &code);
        const char *sig = root ? sv_json_signature(root, err, sizeof err, &code) : NULL;
        int examples = sig && sv_json_has(root, "examples") && (v->sm || sv_examples_signature(v, sig));
        if (sig && (st->route == R_REGRESS || (st->route == R_CLASSIFY && examples)))
            /* TF Serving's :classify / :regress of tf.Example protos (a frozen graph's "examples" of
             * {"b64": image} stay frost's top-k classify) */
            rc = examples_request(s, st, v, sig, root, st->route == R_CLASSIFY, &ex, &m, &req, &ans, err, sizeof err,
                                  &code);
        else if (sig && (m = sv_version_runner(s, v, sig, err, sizeof err, &code))) {
            announce_to(st, m);
            rc = sv_request_from_json(m, &s->limits, root, st->route == R_CLASSIFY, &req, err, sizeof err, &code);
        }
    }
    enum MHD_Result ret;
    if (rc) {
        withdraw(st); /* nothing will come: don't let a batch wait */
        ret = reply_error(s, c, st, (unsigned)code, err);
    } else {
        if (st->route == R_CLASSIFY && ans.kind == A_PREDICT) ans.kind = A_TOPK, ans.top_k = top_k ? top_k : m->top_k;
        ret = run_queued(s, c, st, m, &req, &ans);
    }
    sv_request_free(&req);
    sv_examples_free(&ex);
    sv_json_free(root);
    free(st->body);
    st->body = NULL;
    return ret;
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                               const char *version, const char *upload_data, size_t *upload_data_size,
                               void **con_cls) {
    (void)version;
    sv_server *s = cls;
    conn_state *st = *con_cls;
    if (!st) {
        st = calloc(1, sizeof *st);
        if (!st) return MHD_NO;
        st->t0 = sv_now();
        *con_cls = st;
        pthread_mutex_lock(&s->mu);
        s->active++;
        int draining = s->draining;
        pthread_mutex_unlock(&s->mu);
        if (draining) return reply_error(s, c, st, 503, "the server is shutting down");
        char msg[512];
        unsigned code = route(s, url, method, st, msg, sizeof msg);
        if (code) return reply_error(s, c, st, code, msg);
        if (st->route >= R_PREDICT && st->route <= R_REGRESS) {
            const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
            if (cl) {
                char *e;
                unsigned long long v = strtoull(cl, &e, 10);
                if (v > s->limits.max_body_bytes) {
                    snprintf(msg, sizeof msg, "request body of %llu bytes is larger than the limit of %zu bytes "
                                              "(--max_body_bytes)", v, s->limits.max_body_bytes);
                    return reply_error(s, c, st, 413, msg);
                }
                if (v > 0) {
                    st->body = malloc((size_t)v);
                    st->cap = st->body ? (size_t)v : 0;
                }
            }
            st->raw = is_image_type(MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE));
            /* tell the default signature's runner (if compiled) that an instance is coming */
            sv_version *v = st->version;
            sv_model *dm = v->default_sig >= 0 ? v->sigs[v->default_sig].run : NULL;
            if (dm) {
                st->announced = 1;
                st->announced_to = dm;
                sv_batcher_announce(&dm->batcher, 1);
            }
            return MHD_YES;
        }
        if (st->route == R_HEALTH) {
            char *b = strdup("{\"status\":\"ok\"}");
            return reply(s, c, st, 200, b, b ? strlen(b) : 0, "application/json");
        }
        size_t len = 0;
        if (st->route == R_METRICS) {
            char *body = sv_response_metrics(s, &len);
            return reply(s, c, st, 200, body, len, "text/plain; version=0.0.4; charset=utf-8");
        }
        if (st->route == R_STATUS) {
            int scode = 500;
            char *body = sv_response_status(st->servable, st->want_version, &len, msg, sizeof msg, &scode);
            return body ? reply_json(s, c, st, body, len) : reply_error(s, c, st, (unsigned)scode, msg);
        }
        char *body = sv_response_metadata(st->version, &len);
        sv_version_release(st->version); /* answered from memory: no need to hold it longer */
        st->version = NULL;
        return reply_json(s, c, st, body, len);
    }
    if (st->answered) { /* an error was queued early; swallow the rest of the body */
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (*upload_data_size) {
        size_t n = *upload_data_size;
        if (sv_now() - st->t0 > s->limits.request_timeout_s) return MHD_NO; /* trickling body: cut it off */
        if (st->discarding || n > s->limits.max_body_bytes - st->len) {
            /* Too large (a chunked body; a declared Content-Length was refused up front).
             * libmicrohttpd cannot answer in the middle of a body: drop the data, answer
             * 413 at its end, and close the connection if it goes on past twice the limit. */
            free(st->body);
            st->body = NULL;
            st->cap = 0;
            st->discarding = 1;
            st->discarded += n;
            *upload_data_size = 0;
            return st->discarded + st->len > 2 * s->limits.max_body_bytes ? MHD_NO : MHD_YES;
        }
        if (st->len + n > st->cap) {
            size_t cap = st->cap ? st->cap : 65536;
            while (cap < st->len + n) cap *= 2;
            if (cap > s->limits.max_body_bytes) cap = s->limits.max_body_bytes;
            char *p = realloc(st->body, cap);
            if (!p) return MHD_NO;
            st->body = p;
            st->cap = cap;
        }
        memcpy(st->body + st->len, upload_data, n);
        st->len += n;
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (st->discarding) {
        char msg[160];
        snprintf(msg, sizeof msg, "request body larger than the limit of %zu bytes (--max_body_bytes)",
                 s->limits.max_body_bytes);
        return reply_error(s, c, st, 413, msg);
    }
    return run_inference(s, c, st);
}

static void completed(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode toe) {
    (void)c;
    (void)toe;
    sv_server *s = cls;
    conn_state *st = *con_cls;
    if (!st) return;
    withdraw(st);
    sv_version_release(st->version);
    free(st->body);
    free(st);
    *con_cls = NULL;
    pthread_mutex_lock(&s->mu);
    s->active--;
    pthread_cond_broadcast(&s->idle_cv);
    pthread_mutex_unlock(&s->mu);
}

struct MHD_Daemon *sv_http_start(sv_server *s, const struct sv_http_config *cfg) {
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL | MHD_USE_ITC;
    if (!cfg->threads) flags |= MHD_USE_THREAD_PER_CONNECTION;
    if (cfg->ipv6) flags |= MHD_USE_IPv6;
    /* --rest_api_num_threads: a pool whose threads each poll their share of
     * the connections and handle one request at a time (TF Serving's
     * meaning: at most that many requests in progress) */
    struct MHD_OptionItem pool[] = {{MHD_OPTION_THREAD_POOL_SIZE, (intptr_t)cfg->threads, NULL},
                                    {MHD_OPTION_END, 0, NULL}};
    return MHD_start_daemon(flags, 0, NULL, NULL, handler, s, MHD_OPTION_LISTEN_SOCKET, cfg->listen_fd,
                            MHD_OPTION_CONNECTION_TIMEOUT, cfg->timeout_s, MHD_OPTION_CONNECTION_LIMIT,
                            cfg->max_connections, MHD_OPTION_PER_IP_CONNECTION_LIMIT, cfg->per_ip_connections,
                            MHD_OPTION_NOTIFY_COMPLETED, completed, s, MHD_OPTION_ARRAY,
                            cfg->threads ? pool : pool + 1, MHD_OPTION_END);
}
