/* frost serve: the HTTP side (libmicrohttpd, one thread per connection).
 *
 * Routes (TensorFlow Serving's REST API, plus operations endpoints):
 *   GET  /v1/models/NAME[/versions/1]            model status
 *   GET  /v1/models/NAME[/versions/1]/metadata   signature: inputs, outputs, dtypes, shapes
 *   POST /v1/models/NAME[/versions/1]:predict    {"instances": ...} | {"inputs": ...} | raw image body
 *   POST /v1/models/NAME[/versions/1]:classify   same bodies (+ "examples"); top-k [label, score]
 *   GET  /healthz, GET /metrics
 * Requests are decoded and preprocessed on the connection's thread, then
 * queued for the batch threads; the connection thread waits for its answer. */
#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "serve.h"

enum route { R_NONE, R_STATUS, R_METADATA, R_PREDICT, R_CLASSIFY, R_HEALTH, R_METRICS };

typedef struct conn_state {
    enum route route;
    sv_model *model;
    char *body;
    size_t len, cap;
    int raw;       /* the body is an encoded image */
    int announced; /* instances announced to the batcher, not yet submitted */
    int answered;
    int discarding; /* body over the limit: data dropped, 413 at the end */
    size_t discarded;
    double t0;
} conn_state;

sv_model *sv_server_find(sv_server *s, const char *name, size_t len) {
    for (int i = 0; i < s->num_models; i++)
        if (strlen(s->models[i].name) == len && !memcmp(s->models[i].name, name, len)) return &s->models[i];
    return NULL;
}

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
    if (code == 405) MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, st->route >= R_PREDICT && st->route <= R_CLASSIFY ? "POST" : "GET");
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

/* Parse the URL.  Returns 0 and sets st->route / st->model, or an HTTP code with msg. */
static unsigned route(sv_server *s, const char *url, const char *method, conn_state *st, char *msg, size_t msglen) {
    int get = !strcmp(method, "GET") || !strcmp(method, "HEAD"), post = !strcmp(method, "POST");
    if (!strcmp(url, "/healthz") || !strcmp(url, "/metrics")) {
        st->route = url[1] == 'h' ? R_HEALTH : R_METRICS;
        if (!get) {
            snprintf(msg, msglen, "%s takes GET", url);
            return 405;
        }
        return 0;
    }
    const char *prefix = "/v1/models/";
    size_t pl = strlen(prefix);
    if (strncmp(url, prefix, pl) != 0) {
        snprintf(msg, msglen, "no such endpoint: %.200s (try /v1/models/NAME)", url);
        return 404;
    }
    const char *name = url + pl, *end = name + strlen(name);
    const char *verb = NULL;
    const char *slash = strrchr(name, '/');
    const char *colon = strrchr(slash ? slash : name, ':');
    if (colon) {
        verb = colon + 1;
        end = colon;
        if (!strcmp(verb, "predict")) st->route = R_PREDICT;
        else if (!strcmp(verb, "classify")) st->route = R_CLASSIFY;
        else {
            snprintf(msg, msglen, "unsupported method ':%.64s' (frost serves :predict and :classify)", verb);
            return strcmp(verb, "regress") ? 404 : 400;
        }
    } else if (end - name >= 9 && !strcmp(end - 9, "/metadata")) {
        st->route = R_METADATA;
        end -= 9;
    } else
        st->route = R_STATUS;
    const char *ver = NULL;
    size_t name_len = (size_t)(end - name);
    const char *vs = memchr(name, '/', name_len);
    if (vs) {
        name_len = (size_t)(vs - name);
        if (!strncmp(vs, "/versions/", 10)) ver = vs + 10;
        else {
            snprintf(msg, msglen, "no such endpoint: %.200s", url);
            return 404;
        }
    }
    st->model = sv_server_find(s, name, name_len);
    if (!st->model) {
        snprintf(msg, msglen, "Servable not found for request: Latest(%.*s)", (int)(name_len > 200 ? 200 : name_len),
                 name);
        return 404;
    }
    if (ver && !((size_t)(end - ver) == 1 && ver[0] == '1')) {
        snprintf(msg, msglen, "Servable not found for request: Specific(%s, %.*s); frost serves version 1",
                 st->model->name, (int)(end - ver > 64 ? 64 : end - ver), ver);
        return 404;
    }
    int want_post = st->route == R_PREDICT || st->route == R_CLASSIFY;
    if (want_post ? !post : !get) {
        snprintf(msg, msglen, "%s takes %s", url, want_post ? "POST" : "GET");
        return 405;
    }
    return 0;
}

static int is_image_type(const char *ct) {
    if (!ct) return 0;
    while (*ct == ' ') ct++;
    return !strncasecmp(ct, "image/", 6) || !strncasecmp(ct, "application/octet-stream", 24);
}

static enum MHD_Result run_inference(sv_server *s, struct MHD_Connection *c, conn_state *st) {
    sv_model *m = st->model;
    sv_request req;
    char err[512];
    int code = 400;
    int rc = -1, top_k = m->top_k;
    const char *tk = st->route == R_CLASSIFY ? MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "top_k") : NULL;
    if (tk) {
        char *e;
        long v = strtol(tk, &e, 10);
        top_k = *e || v < 1 || v > 100000 ? 0 : (int)v;
    }
    if (tk && !top_k) snprintf(err, sizeof err, "top_k must be an integer from 1 to 100000");
    else if (st->len == 0) snprintf(err, sizeof err, "empty request body");
    else if (st->raw) rc = sv_request_from_image(m, &s->limits, st->body, st->len, &req, err, sizeof err, &code);
    else rc = sv_request_parse_json(m, &s->limits, st->body, st->len, st->route == R_CLASSIFY, &req, err, sizeof err,
                                    &code);
    free(st->body);
    st->body = NULL;
    if (rc) {
        sv_batcher_announce(&m->batcher, -st->announced); /* nothing will come: don't let a batch wait */
        st->announced = 0;
        return reply_error(s, c, st, (unsigned)code, err);
    }

    int n = req.count;
    sv_item *items = calloc((size_t)n, sizeof *items);
    if (!items) {
        sv_request_free(&req);
        return reply_error(s, c, st, 503, "out of memory");
    }
    sv_waiter w;
    sv_waiter_init(&w, n);
    for (int k = 0; k < n; k++) {
        for (int i = 0; i < m->num_inputs; i++) items[k].inputs[i] = req.in_ptr[i] + (size_t)k * m->in_size[i];
        for (int j = 0; j < m->num_outputs; j++) items[k].outputs[j] = req.out_ptr[j] + (size_t)k * m->out_size[j];
        items[k].waiter = &w;
    }
    int announced = st->announced;
    st->announced = 0;
    enum MHD_Result ret;
    if (sv_batcher_submit(&m->batcher, items, n, announced)) {
        ret = reply_error(s, c, st, 503, "the inference queue is full or the server is shutting down; retry later");
    } else {
        sv_waiter_wait(&w);
        if (w.failed) ret = reply_error(s, c, st, 500, w.error);
        else {
            size_t len = 0;
            char *body;
            if (st->route == R_CLASSIFY) body = sv_response_classify(m, &req, top_k, &len);
            else
                body = sv_response_predict(m, &req, &len);
            ret = reply_json(s, c, st, body, len);
        }
    }
    sv_waiter_destroy(&w);
    free(items);
    sv_request_free(&req);
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
        if (st->route == R_PREDICT || st->route == R_CLASSIFY) {
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
            st->announced = 1;
            sv_batcher_announce(&st->model->batcher, 1);
            return MHD_YES;
        }
        if (st->route == R_HEALTH) {
            char *b = strdup("{\"status\":\"ok\"}");
            return reply(s, c, st, 200, b, b ? strlen(b) : 0, "application/json");
        }
        size_t len = 0;
        char *body = st->route == R_METRICS  ? sv_response_metrics(s, &len)
                     : st->route == R_STATUS ? sv_response_status(st->model, &len)
                                             : sv_response_metadata(st->model, &len);
        return reply(s, c, st, 200, body, len,
                     st->route == R_METRICS ? "text/plain; version=0.0.4; charset=utf-8" : "application/json");
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
    if (st->announced && st->model) sv_batcher_announce(&st->model->batcher, -st->announced);
    free(st->body);
    free(st);
    *con_cls = NULL;
    pthread_mutex_lock(&s->mu);
    s->active--;
    pthread_cond_broadcast(&s->idle_cv);
    pthread_mutex_unlock(&s->mu);
}

struct MHD_Daemon *sv_http_start(sv_server *s, const struct sv_http_config *cfg) {
    unsigned flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL | MHD_USE_ITC;
    if (cfg->ipv6) flags |= MHD_USE_IPv6;
    return MHD_start_daemon(flags, 0, NULL, NULL, handler, s, MHD_OPTION_LISTEN_SOCKET, cfg->listen_fd,
                            MHD_OPTION_CONNECTION_TIMEOUT, cfg->timeout_s, MHD_OPTION_CONNECTION_LIMIT,
                            cfg->max_connections, MHD_OPTION_PER_IP_CONNECTION_LIMIT, cfg->per_ip_connections,
                            MHD_OPTION_NOTIFY_COMPLETED, completed, s, MHD_OPTION_END);
}
