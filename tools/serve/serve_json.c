/* frost serve: JSON pre-scan, request parsing into float tensors, JSON responses. */
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "serve.h"

double sv_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* ---- growable string ---------------------------------------------------- */

static int buf_reserve(sv_buf *b, size_t extra) {
    if (b->oom) return -1;
    if (b->len + extra + 1 <= b->cap) return 0;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + extra + 1) cap *= 2;
    char *p = realloc(b->data, cap);
    if (!p) {
        b->oom = 1;
        return -1;
    }
    b->data = p;
    b->cap = cap;
    return 0;
}

void sv_buf_put(sv_buf *b, const char *s, size_t n) {
    if (buf_reserve(b, n)) return;
    memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
}

void sv_buf_puts(sv_buf *b, const char *s) { sv_buf_put(b, s, strlen(s)); }

void sv_buf_printf(sv_buf *b, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    char tmp[256];
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0) return;
    if ((size_t)n < sizeof tmp) {
        sv_buf_put(b, tmp, (size_t)n);
        return;
    }
    if (buf_reserve(b, (size_t)n)) return;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

void sv_buf_json_string(sv_buf *b, const char *s) {
    sv_buf_put(b, "\"", 1);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\') {
            char e[2] = {'\\', (char)*p};
            sv_buf_put(b, e, 2);
        } else if (*p < 0x20) {
            sv_buf_printf(b, "\\u%04x", *p);
        } else {
            sv_buf_put(b, (const char *)p, 1);
        }
    }
    sv_buf_put(b, "\"", 1);
}

void sv_buf_float(sv_buf *b, float v) {
    if (isnan(v)) {
        sv_buf_puts(b, "NaN");
        return;
    }
    if (isinf(v)) {
        sv_buf_puts(b, v > 0 ? "Infinity" : "-Infinity");
        return;
    }
    char tmp[32];
    int n = snprintf(tmp, sizeof tmp, "%.7g", (double)v);
    if (strtof(tmp, NULL) != v) n = snprintf(tmp, sizeof tmp, "%.9g", (double)v);
    sv_buf_put(b, tmp, (size_t)n);
}

/* ---- pre-scan and base64 ---------------------------------------------------- */

int sv_json_scan(const char *s, size_t n, int max, size_t *values_out) {
    int depth = 0, deepest = 0, in_string = 0;
    size_t commas = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (in_string) {
            if (c == '\\') i++;
            else if (c == '"') in_string = 0;
            continue;
        }
        if (c == '"') in_string = 1;
        else if (c == ',') commas++;
        else if (c == '[' || c == '{') {
            if (++depth > deepest) {
                deepest = depth;
                if (deepest > max) return max + 1;
            }
        } else if ((c == ']' || c == '}') && depth > 0)
            depth--;
    }
    if (values_out) *values_out = commas + 1;
    return deepest;
}

static int b64_value(unsigned char c) {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+' || c == '-') return 62;
    if (c == '/' || c == '_') return 63;
    return -1;
}

uint8_t *sv_base64_decode(const char *s, size_t n, size_t *size_out) {
    uint8_t *out = malloc(n / 4 * 3 + 3);
    if (!out) return NULL;
    size_t o = 0;
    uint32_t acc = 0;
    int bits = 0, pad = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == ' ' || c == '\n' || c == '\r' || c == '\t') continue;
        if (c == '=') {
            pad++;
            continue;
        }
        int v = b64_value(c);
        if (v < 0 || pad) {
            free(out);
            return NULL;
        }
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (uint8_t)(acc >> bits);
        }
    }
    if (bits >= 6 || pad > 2) { /* a lone trailing symbol is not valid base64 */
        free(out);
        return NULL;
    }
    *size_out = o;
    return out;
}

/* ---- requests ----------------------------------------------------------------- */

#define FAIL(code, ...)                          \
    do {                                         \
        *http_code = (code);                     \
        snprintf(err, errlen, __VA_ARGS__);      \
        return -1;                               \
    } while (0)

int sv_request_alloc(const sv_model *m, int count, sv_request *req) {
    memset(req, 0, sizeof *req);
    size_t in_total = 0, out_total = 0;
    for (int i = 0; i < m->num_inputs; i++) in_total += m->in_size[i];
    for (int j = 0; j < m->num_outputs; j++) out_total += m->out_size[j];
    req->count = count;
    req->in = malloc((size_t)count * in_total * sizeof(float));
    req->out = malloc((size_t)count * out_total * sizeof(float));
    if (!req->in || !req->out) {
        sv_request_free(req);
        return -1;
    }
    size_t off = 0;
    for (int i = 0; i < m->num_inputs; i++) {
        req->in_ptr[i] = req->in + off;
        off += (size_t)count * m->in_size[i];
    }
    off = 0;
    for (int j = 0; j < m->num_outputs; j++) {
        req->out_ptr[j] = req->out + off;
        off += (size_t)count * m->out_size[j];
    }
    return 0;
}

void sv_request_free(sv_request *req) {
    free(req->in);
    free(req->out);
    req->in = req->out = NULL;
}

int sv_image_to_input(const sv_model *m, const sv_limits *lim, const void *data, size_t size, float *out, char *err,
                      size_t errlen, int *http_code) {
    if (m->image_input < 0)
        FAIL(400, "model '%s' has no image input (an NHWC input with 3 channels); send float tensors", m->name);
    if (frost_image_detect(data, size) == FROST_IMAGE_UNKNOWN)
        FAIL(400, "not a JPEG, PNG, BMP or GIF image (%zu bytes)", size);
    frost_decode_options opt;
    frost_decode_options_init(&opt);
    opt.max_pixels = lim->max_pixels;
    if (m->fast_decode) {
        opt.fast_decode = 1;
        opt.target_width = m->pp.width;
        opt.target_height = m->pp.height;
    }
    frost_image *img = NULL;
    char *msg = NULL;
    double t0 = sv_now();
    frost_status st = frost_image_decode(data, size, &opt, &img, &msg);
    if (st != FROST_OK) {
        *http_code = st == FROST_E_LIMIT ? 413 : st == FROST_E_NO_MEMORY ? 503 : 400;
        snprintf(err, errlen, "cannot decode image: %s", msg ? msg : frost_strerror(st));
        frost_free(msg);
        return -1;
    }
    st = frost_image_preprocess(img, &m->pp, out);
    frost_image_free(img);
    if (m->decode_stats) {
        atomic_fetch_add(&m->decode_stats->images, 1);
        atomic_fetch_add(&m->decode_stats->nanoseconds, (uint64_t)((sv_now() - t0) * 1e9));
    }
    if (st != FROST_OK) FAIL(500, "cannot preprocess image: %s", frost_strerror(st));
    return 0;
}

static void shape_str(const frost_shape *s, char *buf, size_t n) {
    size_t o = 0;
    o += (size_t)snprintf(buf + o, n - o, "[");
    for (int d = 1; d < s->rank && o < n; d++)
        o += (size_t)snprintf(buf + o, n - o, d > 1 ? ",%lld" : "%lld", (long long)s->dims[d]);
    if (o < n) snprintf(buf + o, n - o, "]");
}

/* Walk a nested list of numbers with the shape s->dims[d..]. */
static int tensor_walk(const json_t *v, const frost_shape *s, int d, float **dst) {
    if (d == s->rank) {
        if (!json_is_number(v)) return -1;
        *(*dst)++ = (float)json_number_value(v);
        return 0;
    }
    if (!json_is_array(v) || (int64_t)json_array_size(v) != s->dims[d]) return -1;
    for (size_t k = 0; k < json_array_size(v); k++)
        if (tensor_walk(json_array_get(v, k), s, d + 1, dst)) return -1;
    return 0;
}

static int is_b64(const json_t *v) { return json_is_object(v) && json_object_get(v, "b64"); }

/* One instance of input i from a JSON value (a nested list, or {"b64": ...}). */
static int fill_input(const sv_model *m, const sv_limits *lim, int i, int inst, const json_t *v, float *dst,
                      char *err, size_t errlen, int *http_code) {
    const char *iname = frost_model_input_name(m->model, i);
    if (is_b64(v)) {
        const json_t *s = json_object_get(v, "b64");
        if (!json_is_string(s)) FAIL(400, "instance %d: \"b64\" must be a string", inst);
        if (i != m->image_input)
            FAIL(400, "instance %d: input '%s' does not take images (expects a float tensor)", inst, iname);
        size_t n = 0;
        uint8_t *bytes = sv_base64_decode(json_string_value(s), json_string_length(s), &n);
        if (!bytes) FAIL(400, "instance %d: \"b64\" is not valid base64", inst);
        int rc = sv_image_to_input(m, lim, bytes, n, dst, err, errlen, http_code);
        free(bytes);
        if (rc) {
            char tmp[300];
            snprintf(tmp, sizeof tmp, "instance %d: %s", inst, err);
            snprintf(err, errlen, "%s", tmp);
        }
        return rc;
    }
    float *p = dst;
    if (tensor_walk(v, &m->in_shape[i], 1, &p)) {
        char sh[96];
        shape_str(&m->in_shape[i], sh, sizeof sh);
        FAIL(400, "instance %d: input '%s' expects a float tensor of shape %s%s", inst, iname, sh,
             i == m->image_input ? " or {\"b64\": encoded image}" : "");
    }
    return 0;
}

/* Index of input `key` ("name" or "name:0"), -1 if none. */
static int input_index(const sv_model *m, const char *key) {
    for (int i = 0; i < m->num_inputs; i++) {
        const char *n = frost_model_input_name(m->model, i);
        size_t kl = strlen(key);
        if (!strcmp(n, key)) return i;
        if (!strncmp(n, key, kl) && !strcmp(n + kl, ":0")) return i;
        if (kl > 2 && !strcmp(key + kl - 2, ":0") && strlen(n) == kl - 2 && !strncmp(n, key, kl - 2)) return i;
    }
    return -1;
}

/* The value for input i of the columnar object {input_name: value, ...} (for
 * one input, any single key), NULL when missing (the last of equal keys wins). */
static const json_t *column_of(const sv_model *m, const json_t *cols, int i) {
    const char *key;
    json_t *val;
    const json_t *v = NULL;
    json_object_foreach((json_t *)cols, key, val) {
        if (input_index(m, key) == i || (m->num_inputs == 1 && json_object_size(cols) == 1)) v = val;
    }
    return v;
}

/* An instance given as an object {input_name: value, ...} (or, for one input, any single key). */
static int fill_keyed(const sv_model *m, const sv_limits *lim, int inst, const json_t *obj, sv_request *req,
                      char *err, size_t errlen, int *http_code) {
    if (m->num_inputs == 1 && json_object_size(obj) == 1) {
        const char *key = json_object_iter_key(json_object_iter((json_t *)obj));
        const json_t *v = json_object_iter_value(json_object_iter((json_t *)obj));
        (void)key;
        return fill_input(m, lim, 0, inst, v, req->in_ptr[0] + (size_t)inst * m->in_size[0], err, errlen,
                          http_code);
    }
    for (int i = 0; i < m->num_inputs; i++) {
        const char *iname = frost_model_input_name(m->model, i);
        const json_t *v = NULL;
        const char *key;
        json_t *val;
        json_object_foreach((json_t *)obj, key, val) {
            if (input_index(m, key) == i) v = val;
        }
        if (!v) FAIL(400, "instance %d: missing input '%s'", inst, iname);
        if (fill_input(m, lim, i, inst, v, req->in_ptr[i] + (size_t)inst * m->in_size[i], err, errlen, http_code))
            return -1;
    }
    const char *key;
    json_t *val;
    json_object_foreach((json_t *)obj, key, val) {
        if (input_index(m, key) < 0) FAIL(400, "instance %d: '%s' is not an input of model '%s'", inst, key, m->name);
    }
    return 0;
}

static int check_count(const sv_model *m, const sv_limits *lim, size_t n, char *err, size_t errlen, int *http_code) {
    if (n == 0) FAIL(400, "no instances in the request");
    if (n > (size_t)lim->max_instances)
        FAIL(413, "%zu instances in one request; the limit is %d (--max_instances)", n, lim->max_instances);
    (void)m;
    return 0;
}

int sv_request_parse_json(const sv_model *m, const sv_limits *lim, const char *body, size_t len, int classify,
                          sv_request *req, char *err, size_t errlen, int *http_code) {
    memset(req, 0, sizeof *req);
    size_t values = 0, in_total = 0;
    if (sv_json_scan(body, len, lim->max_json_depth, &values) > lim->max_json_depth)
        FAIL(400, "JSON nested deeper than %d levels (--max_json_depth)", lim->max_json_depth);
    for (int i = 0; i < m->num_inputs; i++) in_total += m->in_size[i];
    /* Bound the parser's memory: no valid request has more values than the largest batch. */
    if (values > (size_t)lim->max_instances * in_total + 4096)
        FAIL(413, "the request holds %zu JSON values; at most %d instances of %zu floats are accepted "
                  "(--max_instances)", values, lim->max_instances, in_total);
    json_error_t jerr;
    json_t *root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root) FAIL(400, "malformed JSON at line %d column %d: %s", jerr.line, jerr.column, jerr.text);
    int rc = -1;
    if (!json_is_object(root)) {
        *http_code = 400;
        snprintf(err, errlen, "the request body must be a JSON object");
        goto done;
    }
    const json_t *sig = json_object_get(root, "signature_name");
    if (sig && (!json_is_string(sig) || (json_string_length(sig) && strcmp(json_string_value(sig), "serving_default")))) {
        *http_code = 400;
        snprintf(err, errlen, "serving signature name: \"%s\" not found; the only signature is \"serving_default\"",
                 json_is_string(sig) ? json_string_value(sig) : "?");
        goto done;
    }
    const json_t *inst = json_object_get(root, "instances");
    const json_t *cols = json_object_get(root, "inputs");
    const json_t *ex = classify ? json_object_get(root, "examples") : NULL;
    if (!!inst + !!cols + !!ex != 1) {
        *http_code = 400;
        snprintf(err, errlen, "the request must have exactly one of \"instances\" (row format), \"inputs\" "
                              "(columnar format)%s",
                 classify ? " or \"examples\"" : "");
        goto done;
    }
    const json_t *ctx = json_object_get(root, "context");
    if (ctx && !(json_is_object(ctx) && json_object_size(ctx) == 0)) {
        *http_code = 400;
        snprintf(err, errlen, "\"context\" features are not supported");
        goto done;
    }
    if (inst || ex) {
        const json_t *list = inst ? inst : ex;
        if (!json_is_array(list)) {
            *http_code = 400;
            snprintf(err, errlen, "\"%s\" must be a list", inst ? "instances" : "examples");
            goto done;
        }
        if (check_count(m, lim, json_array_size(list), err, errlen, http_code)) goto done;
        if (sv_request_alloc(m, (int)json_array_size(list), req)) {
            *http_code = 503;
            snprintf(err, errlen, "out of memory");
            goto done;
        }
        for (int k = 0; k < req->count; k++) {
            const json_t *v = json_array_get(list, (size_t)k);
            int r;
            if (json_is_object(v) && !is_b64(v)) r = fill_keyed(m, lim, k, v, req, err, errlen, http_code);
            else if (m->num_inputs != 1) {
                *http_code = 400;
                snprintf(err, errlen, "instance %d: model '%s' has %d inputs; give each instance as an object "
                                      "{input_name: value}", k, m->name, m->num_inputs);
                r = -1;
            } else
                r = fill_input(m, lim, 0, k, v, req->in_ptr[0] + (size_t)k * m->in_size[0], err, errlen, http_code);
            if (r) goto done;
        }
    } else {
        /* columnar: a single input's batch (list or one b64 object), or {input_name: batch, ...} */
        if (json_is_array(cols) || is_b64(cols)) {
            if (m->num_inputs != 1) {
                *http_code = 400;
                snprintf(err, errlen, "model '%s' has %d inputs; give \"inputs\" as an object {input_name: value}",
                         m->name, m->num_inputs);
                goto done;
            }
            size_t n = json_is_array(cols) ? json_array_size(cols) : 1;
            if (check_count(m, lim, n, err, errlen, http_code)) goto done;
            if (sv_request_alloc(m, (int)n, req)) {
                *http_code = 503;
                snprintf(err, errlen, "out of memory");
                goto done;
            }
            for (int k = 0; k < req->count; k++) {
                const json_t *v = json_is_array(cols) ? json_array_get(cols, (size_t)k) : cols;
                if (fill_input(m, lim, 0, k, v, req->in_ptr[0] + (size_t)k * m->in_size[0], err, errlen, http_code))
                    goto done;
            }
        } else if (json_is_object(cols)) {
            size_t n = 0;
            for (int i = 0; i < m->num_inputs; i++) {
                const json_t *v = column_of(m, cols, i);
                if (!v) {
                    *http_code = 400;
                    snprintf(err, errlen, "missing input '%s'", frost_model_input_name(m->model, i));
                    goto done;
                }
                size_t vn = json_is_array(v) ? json_array_size(v) : 1;
                if (i > 0 && vn != n) {
                    *http_code = 400;
                    snprintf(err, errlen, "inputs have different batch sizes (%zu and %zu)", n, vn);
                    goto done;
                }
                n = vn;
            }
            if (check_count(m, lim, n, err, errlen, http_code)) goto done;
            if (sv_request_alloc(m, (int)n, req)) {
                *http_code = 503;
                snprintf(err, errlen, "out of memory");
                goto done;
            }
            for (int i = 0; i < m->num_inputs; i++) {
                const json_t *v = column_of(m, cols, i);
                for (int k = 0; k < req->count; k++) {
                    const json_t *e = json_is_array(v) ? json_array_get(v, (size_t)k) : v;
                    if (fill_input(m, lim, i, k, e, req->in_ptr[i] + (size_t)k * m->in_size[i], err, errlen,
                                   http_code))
                        goto done;
                }
            }
        } else {
            *http_code = 400;
            snprintf(err, errlen, "\"inputs\" must be a list or an object");
            goto done;
        }
        req->columnar = 1;
    }
    rc = 0;
done:
    json_decref(root);
    if (rc) sv_request_free(req);
    return rc;
}

int sv_request_from_image(const sv_model *m, const sv_limits *lim, const void *data, size_t len, sv_request *req,
                          char *err, size_t errlen, int *http_code) {
    if (m->num_inputs != 1 || m->image_input != 0)
        FAIL(415, "model '%s' does not take an image body (it needs %d float input(s)); send JSON", m->name,
             m->num_inputs);
    if (sv_request_alloc(m, 1, req)) FAIL(503, "out of memory");
    if (sv_image_to_input(m, lim, data, len, req->in_ptr[0], err, errlen, http_code)) {
        sv_request_free(req);
        return -1;
    }
    return 0;
}

/* ---- responses ---------------------------------------------------------------- */

static void put_nested(sv_buf *b, const frost_shape *s, int d, const float **p) {
    if (d == s->rank) {
        sv_buf_float(b, *(*p)++);
        return;
    }
    sv_buf_put(b, "[", 1);
    for (int64_t k = 0; k < s->dims[d]; k++) {
        if (k) sv_buf_put(b, ",", 1);
        put_nested(b, s, d + 1, p);
    }
    sv_buf_put(b, "]", 1);
}

static char *finish(sv_buf *b, size_t *len) {
    if (b->oom) {
        free(b->data);
        return NULL;
    }
    *len = b->len;
    return b->data;
}

/* With several outputs, output j's key in an object ("name": ), after a comma but for the first. */
static void put_output_key(sv_buf *b, const sv_model *m, int j) {
    if (m->num_outputs < 2) return;
    if (j) sv_buf_put(b, ",", 1);
    sv_buf_json_string(b, frost_model_output_name(m->model, j));
    sv_buf_put(b, ":", 1);
}

/* Output j of instance k, as nested arrays of its shape. */
static void put_output(sv_buf *b, const sv_model *m, const sv_request *req, int j, int k) {
    const float *p = req->out_ptr[j] + (size_t)k * m->out_size[j];
    put_nested(b, &m->out_shape[j], 1, &p);
}

char *sv_response_predict(const sv_model *m, const sv_request *req, size_t *len) {
    sv_buf b = {0};
    if (!req->columnar) {
        sv_buf_puts(&b, "{\"predictions\":[");
        for (int k = 0; k < req->count; k++) {
            if (k) sv_buf_put(&b, ",", 1);
            if (m->num_outputs > 1) sv_buf_put(&b, "{", 1);
            for (int j = 0; j < m->num_outputs; j++) {
                put_output_key(&b, m, j);
                put_output(&b, m, req, j, k);
            }
            if (m->num_outputs > 1) sv_buf_put(&b, "}", 1);
        }
        sv_buf_puts(&b, "]}");
    } else {
        sv_buf_puts(&b, "{\"outputs\":");
        if (m->num_outputs > 1) sv_buf_put(&b, "{", 1);
        for (int j = 0; j < m->num_outputs; j++) {
            put_output_key(&b, m, j);
            sv_buf_put(&b, "[", 1);
            for (int k = 0; k < req->count; k++) {
                if (k) sv_buf_put(&b, ",", 1);
                put_output(&b, m, req, j, k);
            }
            sv_buf_put(&b, "]", 1);
        }
        if (m->num_outputs > 1) sv_buf_put(&b, "}", 1);
        sv_buf_puts(&b, "}");
    }
    return finish(&b, len);
}

char *sv_response_classify(const sv_model *m, const sv_request *req, int top_k, size_t *len) {
    size_t n = m->out_size[0];
    if (top_k < 0) top_k = 0;
    if ((size_t)top_k > n) top_k = (int)n;
    int *best = malloc((size_t)(top_k > 0 ? top_k : 1) * sizeof *best);
    if (!best) return NULL;
    sv_buf b = {0};
    sv_buf_puts(&b, "{\"result\":[");
    for (int k = 0; k < req->count; k++) {
        const float *o = req->out_ptr[0] + (size_t)k * n;
        int nb = 0; /* ranked as every frost classifier ranks: ties by lower index, NaN last */
        if (frost_top_k(o, n, top_k, best, NULL, &nb) != FROST_OK) nb = 0;
        if (k) sv_buf_put(&b, ",", 1);
        sv_buf_put(&b, "[", 1);
        for (int r = 0; r < nb; r++) {
            if (r) sv_buf_put(&b, ",", 1);
            sv_buf_put(&b, "[", 1);
            if (best[r] < m->num_labels) sv_buf_json_string(&b, m->labels[best[r]]);
            else sv_buf_printf(&b, "\"%d\"", best[r]);
            sv_buf_put(&b, ",", 1);
            sv_buf_float(&b, o[best[r]]);
            sv_buf_put(&b, "]", 1);
        }
        sv_buf_put(&b, "]", 1);
    }
    sv_buf_puts(&b, "]}");
    free(best);
    return finish(&b, len);
}

char *sv_response_status(const sv_model *m, size_t *len) {
    (void)m;
    sv_buf b = {0};
    sv_buf_puts(&b, "{\"model_version_status\":[{\"version\":\"1\",\"state\":\"AVAILABLE\","
                    "\"status\":{\"error_code\":\"OK\",\"error_message\":\"\"}}]}");
    return finish(&b, len);
}

static void put_tensor_info(sv_buf *b, const char *name, const frost_shape *s) {
    /* key: the tensor name without ":0", as a signature alias */
    size_t nl = strlen(name);
    char *alias = strdup(name);
    if (!alias) {
        b->oom = 1;
        return;
    }
    if (nl > 2 && !strcmp(alias + nl - 2, ":0")) alias[nl - 2] = '\0';
    sv_buf_json_string(b, alias);
    free(alias);
    sv_buf_puts(b, ":{\"dtype\":\"DT_FLOAT\",\"tensor_shape\":{\"dim\":[");
    for (int d = 0; d < s->rank; d++)
        sv_buf_printf(b, "%s{\"size\":\"%lld\",\"name\":\"\"}", d ? "," : "", (long long)(d ? s->dims[d] : -1));
    sv_buf_puts(b, "],\"unknown_rank\":false},\"name\":");
    if (strchr(name, ':')) sv_buf_json_string(b, name);
    else {
        char full[512];
        snprintf(full, sizeof full, "%s:0", name);
        sv_buf_json_string(b, full);
    }
    sv_buf_put(b, "}", 1);
}

char *sv_response_metadata(const sv_model *m, size_t *len) {
    sv_buf b = {0};
    sv_buf_puts(&b, "{\"model_spec\":{\"name\":");
    sv_buf_json_string(&b, m->name);
    sv_buf_puts(&b, ",\"signature_name\":\"\",\"version\":\"1\"},\"metadata\":{\"signature_def\":{\"signature_def\":{"
                    "\"serving_default\":{\"inputs\":{");
    for (int i = 0; i < m->num_inputs; i++) {
        if (i) sv_buf_put(&b, ",", 1);
        put_tensor_info(&b, frost_model_input_name(m->model, i), &m->in_shape[i]);
    }
    sv_buf_puts(&b, "},\"outputs\":{");
    for (int j = 0; j < m->num_outputs; j++) {
        if (j) sv_buf_put(&b, ",", 1);
        put_tensor_info(&b, frost_model_output_name(m->model, j), &m->out_shape[j]);
    }
    sv_buf_puts(&b, "},\"method_name\":\"tensorflow/serving/predict\"}}}},\"frost\":{");
    sv_buf_printf(&b, "\"max_batch_size\":%d,\"labels\":%d", frost_model_max_batch(m->model), m->num_labels);
    if (m->image_input >= 0) {
        sv_buf_puts(&b, ",\"image_input\":");
        sv_buf_json_string(&b, frost_model_input_name(m->model, m->image_input));
        sv_buf_printf(&b, ",\"preprocess\":{\"width\":%d,\"height\":%d,\"input_mean\":", m->pp.width, m->pp.height);
        sv_buf_float(&b, m->pp.mean);
        sv_buf_puts(&b, ",\"input_std\":");
        sv_buf_float(&b, m->pp.std);
        sv_buf_printf(&b, ",\"resize\":\"%s\"}", m->pp.resize == FROST_RESIZE_TF2             ? "tf2"
                                                 : m->pp.resize == FROST_RESIZE_ALIGN_CORNERS ? "align_corners"
                                                                                              : "tf1");
    }
    sv_buf_puts(&b, "}}");
    return finish(&b, len);
}

char *sv_response_error(const char *msg, size_t *len) {
    sv_buf b = {0};
    sv_buf_puts(&b, "{\"error\":");
    sv_buf_json_string(&b, msg);
    sv_buf_puts(&b, "}");
    return finish(&b, len);
}

int sv_model_describe(sv_model *m) {
    m->num_inputs = frost_model_input_count(m->model);
    m->num_outputs = frost_model_output_count(m->model);
    if (m->num_inputs < 1 || m->num_inputs > SERVE_MAX_IO || m->num_outputs < 1 || m->num_outputs > SERVE_MAX_IO)
        return -1;
    for (int i = 0; i < m->num_inputs; i++) {
        frost_model_input_shape(m->model, i, &m->in_shape[i]);
        m->in_size[i] = frost_model_input_size(m->model, i);
    }
    frost_image_spec spec; /* the input that takes images, if any */
    m->image_input = -1;
    if (frost_model_image_spec(m->model, &spec, NULL) == FROST_OK) {
        m->image_input = spec.input;
        m->pp.height = spec.height;
        m->pp.width = spec.width;
    }
    for (int j = 0; j < m->num_outputs; j++) {
        frost_model_output_shape(m->model, j, &m->out_shape[j]);
        m->out_size[j] = frost_model_output_size(m->model, j);
    }
    return 0;
}
