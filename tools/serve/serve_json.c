/* frost serve: JSON pre-scan, request parsing into float tensors, JSON responses. */
#include <ctype.h>
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
    if (!strpbrk(tmp, ".e")) n += snprintf(tmp + n, sizeof tmp - (size_t)n, ".0"); /* 3.0, as TF Serving writes it */
    sv_buf_put(b, tmp, (size_t)n);
}

/* ---- pre-scan and base64 ---------------------------------------------------- */

/* Steps the string state over s[*i] (a '"' opens or closes a string; in one,
 * a backslash skips the next byte): 1 when s[*i] lies outside the strings
 * and is no quote. */
static int json_outside(const char *s, size_t *i, int *in_string) {
    char c = s[*i];
    if (*in_string) {
        if (c == '\\') ++*i;
        else if (c == '"') *in_string = 0;
        return 0;
    }
    if (c == '"') *in_string = 1;
    return c != '"';
}

int sv_json_scan(const char *s, size_t n, int max, size_t *values_out) {
    int depth = 0, deepest = 0, in_string = 0;
    size_t commas = 0;
    for (size_t i = 0; i < n; i++) {
        if (!json_outside(s, &i, &in_string)) continue;
        char c = s[i];
        if (c == ',') commas++;
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
#define FAILP(code, ...)                         \
    do {                                         \
        *http_code = (code);                     \
        snprintf(err, errlen, __VA_ARGS__);      \
        return NULL;                             \
    } while (0)

int sv_request_alloc(const sv_model *m, int count, sv_request *req) {
    memset(req, 0, sizeof *req);
    size_t in_total = 0, out_total = 0;
    for (int i = 0; i < m->num_inputs; i++) in_total += m->in_size[i];
    for (int j = 0; j < m->num_outputs; j++) out_total += m->out_size[j];
    req->count = count;
    req->in = calloc((size_t)count * in_total, sizeof(float));
    req->out = malloc((size_t)count * out_total * sizeof(float));
    int ok = req->in && req->out;
    for (int i = 0; i < m->num_inputs && ok; i++)
        if (m->in_string[i]) ok = (req->str[i] = calloc((size_t)count, sizeof(frost_string))) != NULL;
    if (ok && m->num_string_inputs) ok = (req->owned = calloc((size_t)count * (size_t)m->num_string_inputs,
                                                              sizeof *req->owned)) != NULL;
    if (!ok) {
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

void sv_request_items(const sv_model *m, const sv_request *req, sv_item *items, sv_waiter *w, double deadline) {
    for (int k = 0; k < req->count; k++) {
        for (int i = 0; i < m->num_inputs; i++) {
            items[k].inputs[i] = req->in_ptr[i] + (size_t)k * m->in_size[i];
            if (m->in_string[i]) items[k].strings[i] = req->str[i][k];
        }
        for (int j = 0; j < m->num_outputs; j++) items[k].outputs[j] = req->out_ptr[j] + (size_t)k * m->out_size[j];
        items[k].waiter = w;
        items[k].deadline = deadline;
    }
}

void sv_request_free(sv_request *req) {
    free(req->in);
    free(req->out);
    req->in = req->out = NULL;
    for (int i = 0; i < SERVE_MAX_IO; i++) free(req->str[i]), req->str[i] = NULL;
    for (int k = 0; k < req->num_owned; k++) free(req->owned[k]);
    free(req->owned);
    req->owned = NULL;
    req->num_owned = 0;
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
        double x;
        if (!sv_json_float(v, &x)) return -1;
        *(*dst)++ = (float)x;
        return 0;
    }
    if (!json_is_array(v) || (int64_t)json_array_size(v) != s->dims[d]) return -1;
    for (size_t k = 0; k < json_array_size(v); k++)
        if (tensor_walk(json_array_get(v, k), s, d + 1, dst)) return -1;
    return 0;
}

static int is_b64(const json_t *v) { return json_is_object(v) && json_object_get(v, "b64"); }

/* One instance of input i from a JSON value (a nested list, or {"b64": ...}). */
static int fill_input(const sv_model *m, const sv_limits *lim, int i, int inst, const json_t *v, sv_request *req,
                      char *err, size_t errlen, int *http_code) {
    float *dst = req->in_ptr[i] + (size_t)inst * m->in_size[i];
    int *squeeze = &req->squeeze;
    const char *iname = m->in_key[i];
    if (m->in_string[i]) { /* a byte string: a JSON string, or {"b64": ...} for binary bytes */
        frost_string *str = &req->str[i][inst];
        double x;
        if (sv_json_float(v, &x)) FAIL(400, "instance %d: input '%s' takes a string, not a number", inst, iname);
        if (json_is_string(v)) {
            str->data = json_string_value(v); /* the JSON document outlives the run */
            str->size = json_string_length(v);
            return 0;
        }
        const json_t *s = is_b64(v) ? json_object_get(v, "b64") : NULL;
        if (!s || !json_is_string(s))
            FAIL(400, "instance %d: input '%s' takes a string (or {\"b64\": ...})", inst, iname);
        size_t n = 0;
        uint8_t *bytes = sv_base64_decode(json_string_value(s), json_string_length(s), &n);
        if (!bytes) FAIL(400, "instance %d: \"b64\" is not valid base64", inst);
        req->owned[req->num_owned++] = bytes;
        str->data = bytes;
        str->size = n;
        return 0;
    }
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
    double x;
    char sh[96];
    shape_str(&m->in_shape[i], sh, sizeof sh);
    int scalar = sv_json_float(v, &x) && m->in_size[i] == 1 && m->in_shape[i].rank > 1;
    if (req->form[i] && req->form[i] != 1 + !scalar)
        FAIL(400, "instance %d: input '%s' is given as %s, an instance before it as %s: every instance must have "
                  "the same shape (%s)", inst, iname, scalar ? "a number" : "a list", scalar ? "a list" : "a number",
             sh);
    req->form[i] = (unsigned char)(1 + !scalar);
    if (scalar) {
        *dst = (float)x; /* a scalar for a one-element instance, as TensorFlow feeds it */
        *squeeze = 1;
        return 0;
    }
    float *p = dst;
    if (tensor_walk(v, &m->in_shape[i], 1, &p))
        FAIL(400, "instance %d: input '%s' expects a float tensor of shape %s%s", inst, iname, sh,
             i == m->image_input ? " or {\"b64\": encoded image}" : "");
    return 0;
}

/* Index of input `key` ("name" or "name:0"), -1 if none. */
static int input_index(const sv_model *m, const char *key) {
    for (int i = 0; i < m->num_inputs; i++) {
        const char *n = m->in_key[i];
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
        return fill_input(m, lim, 0, inst, v, req, err, errlen,
                          http_code);
    }
    for (int i = 0; i < m->num_inputs; i++) {
        const char *iname = m->in_key[i];
        const json_t *v = NULL;
        const char *key;
        json_t *val;
        json_object_foreach((json_t *)obj, key, val) {
            if (input_index(m, key) == i) v = val;
        }
        if (!v) FAIL(400, "instance %d: missing input '%s'", inst, iname);
        if (fill_input(m, lim, i, inst, v, req, err, errlen, http_code))
            return -1;
    }
    const char *key;
    json_t *val;
    json_object_foreach((json_t *)obj, key, val) {
        if (input_index(m, key) < 0) FAIL(400, "instance %d: '%s' is not an input of model '%s'", inst, key, m->name);
    }
    return 0;
}

int sv_check_count(const sv_limits *lim, size_t n, const char *what, char *err, size_t errlen, int *http_code) {
    if (n > (size_t)lim->max_instances)
        FAIL(413, "%zu %s in one request; the limit is %d (--max_instances)", n, what, lim->max_instances);
    return 0;
}

static int check_count(const sv_limits *lim, size_t n, char *err, size_t errlen, int *http_code) {
    if (n == 0) FAIL(400, "no instances in the request");
    return sv_check_count(lim, n, "instances", err, errlen, http_code);
}

/* TF Serving reads NaN, Inf and Infinity (each after an optional '-') as
 * numbers (RapidJSON's kParseNanAndInfFlag), as it writes them; jansson
 * reads none.  Each such token outside the strings becomes a string that no
 * request can hold without them: a NUL, then 'n', '+' or '-' (parsed with
 * JSON_ALLOW_NUL, read back by sv_json_float).  One pass of s: the rewritten
 * bytes into out (NULL: not written), their count returned; *tokens counts
 * the tokens. */
static size_t nonfinite_pass(const char *s, size_t n, char *out, size_t *tokens) {
    static const char *const words[] = {"Infinity", "Inf", "NaN"};
    size_t o = 0, from = 0; /* s[from..i) not yet copied */
    int in_string = 0;
    *tokens = 0;
    for (size_t i = 0; i < n; i++) {
        if (!json_outside(s, &i, &in_string)) continue;
        char c = s[i];
        if (c != 'N' && c != 'I' && !(c == '-' && i + 1 < n && (s[i + 1] == 'N' || s[i + 1] == 'I'))) continue;
        size_t at = i + (c == '-'), w = 0;
        for (int k = 0; k < 3 && !w; k++) {
            size_t wl = strlen(words[k]);
            if (n - at >= wl && !memcmp(s + at, words[k], wl) && (at + wl == n || !isalnum((unsigned char)s[at + wl])))
                w = wl;
        }
        if (!w) continue; /* not ours: jansson says what is wrong with it */
        if (out) {
            memcpy(out + o, s + from, i - from);
            sprintf(out + o + (i - from), "\"\\u0000%c\"", s[at] == 'N' ? 'n' : c == '-' ? '-' : '+');
        }
        o += i - from + 9;
        from = at + w;
        i = from - 1;
        ++*tokens;
    }
    if (out) memcpy(out + o, s + from, n - from);
    return o + (n - from);
}

/* The body with its non-finite tokens rewritten (free() it) and its length;
 * NULL when it has none, or without memory (*oom set). */
static char *nonfinite_rewrite(const char *s, size_t n, size_t *len_out, int *oom) {
    size_t tokens = 0, len = nonfinite_pass(s, n, NULL, &tokens);
    char *out = NULL;
    *oom = 0;
    if (!tokens) return NULL;
    if (!(out = malloc(len + 1))) { /* + 1: sprintf's NUL after the last token */
        *oom = 1;
        return NULL;
    }
    nonfinite_pass(s, n, out, &tokens);
    *len_out = len;
    return out;
}

int sv_json_float(const json_t *v, double *out) {
    if (json_is_number(v)) {
        *out = json_number_value(v);
        return 1;
    }
    const char *t = json_is_string(v) && json_string_length(v) == 2 ? json_string_value(v) : NULL;
    if (!t || t[0] != 0 || (t[1] != 'n' && t[1] != '+' && t[1] != '-')) return 0;
    *out = t[1] == 'n' ? (double)NAN : t[1] == '+' ? (double)INFINITY : -(double)INFINITY;
    return 1;
}

json_t *sv_json_parse(const sv_limits *lim, const char *body, size_t len, size_t floats_per_instance, char *err,
                      size_t errlen, int *http_code) {
    size_t values = 0;
    *http_code = 400;
    if (sv_json_scan(body, len, lim->max_json_depth, &values) > lim->max_json_depth) {
        snprintf(err, errlen, "JSON nested deeper than %d levels (--max_json_depth)", lim->max_json_depth);
        return NULL;
    }
    /* Bound the parser's memory: no valid request has more values than the largest batch. */
    if (values > (size_t)lim->max_instances * floats_per_instance + 4096) {
        *http_code = 413;
        snprintf(err, errlen, "the request holds %zu JSON values; at most %d instances of %zu floats are accepted "
                              "(--max_instances)", values, lim->max_instances, floats_per_instance);
        return NULL;
    }
    json_error_t jerr;
    size_t fixed_len = 0;
    int oom = 0;
    char *fixed = nonfinite_rewrite(body, len, &fixed_len, &oom);
    if (oom) {
        *http_code = 500;
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    json_t *root = fixed ? json_loadb(fixed, fixed_len, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &jerr)
                         : json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
    free(fixed);
    if (!root) {
        snprintf(err, errlen, "malformed JSON at line %d column %d: %s", jerr.line, jerr.column, jerr.text);
        return NULL;
    }
    if (!json_is_object(root)) {
        snprintf(err, errlen, "the request body must be a JSON object");
        json_decref(root);
        return NULL;
    }
    return root;
}

const char *sv_json_signature(json_t *root, char *err, size_t errlen, int *http_code) {
    const json_t *sig = json_object_get(root, "signature_name");
    if (!sig) return "";
    if (!json_is_string(sig)) FAILP(400, "'signature_name' key must be a string value.");
    return json_string_value(sig);
}

int sv_json_has(json_t *root, const char *key) { return json_object_get(root, key) != NULL; }

void sv_json_free(json_t *root) { json_decref(root); }

int sv_request_parse_json(const sv_model *m, const sv_limits *lim, const char *body, size_t len, int classify,
                          sv_request *req, char *err, size_t errlen, int *http_code) {
    memset(req, 0, sizeof *req);
    size_t in_total = 0;
    for (int i = 0; i < m->num_inputs; i++) in_total += m->in_size[i];
    json_t *root = sv_json_parse(lim, body, len, in_total, err, errlen, http_code);
    if (!root) return -1;
    const char *sig = sv_json_signature(root, err, errlen, http_code);
    int rc = -1;
    if (sig && sig[0] && strcmp(sig, m->sig_key)) {
        *http_code = 400;
        snprintf(err, errlen, "Serving signature name: \"%.200s\" not found in signature def", sig);
    } else if (sig)
        rc = sv_request_from_json(m, lim, root, classify, req, err, errlen, http_code);
    json_decref(root);
    return rc;
}

int sv_request_from_json(const sv_model *m, const sv_limits *lim, json_t *root, int classify, sv_request *req,
                         char *err, size_t errlen, int *http_code) {
    memset(req, 0, sizeof *req);
    int rc = -1;
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
        if (check_count(lim, json_array_size(list), err, errlen, http_code)) goto done;
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
                r = fill_input(m, lim, 0, k, v, req, err, errlen, http_code);
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
            if (check_count(lim, n, err, errlen, http_code)) goto done;
            if (sv_request_alloc(m, (int)n, req)) {
                *http_code = 503;
                snprintf(err, errlen, "out of memory");
                goto done;
            }
            for (int k = 0; k < req->count; k++) {
                const json_t *v = json_is_array(cols) ? json_array_get(cols, (size_t)k) : cols;
                if (fill_input(m, lim, 0, k, v, req, err, errlen, http_code))
                    goto done;
            }
        } else if (json_is_object(cols)) {
            size_t n = 0;
            for (int i = 0; i < m->num_inputs; i++) {
                const json_t *v = column_of(m, cols, i);
                if (!v) {
                    *http_code = 400;
                    snprintf(err, errlen, "missing input '%s'", m->in_key[i]);
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
            if (check_count(lim, n, err, errlen, http_code)) goto done;
            if (sv_request_alloc(m, (int)n, req)) {
                *http_code = 503;
                snprintf(err, errlen, "out of memory");
                goto done;
            }
            for (int i = 0; i < m->num_inputs; i++) {
                const json_t *v = column_of(m, cols, i);
                for (int k = 0; k < req->count; k++) {
                    const json_t *e = json_is_array(v) ? json_array_get(v, (size_t)k) : v;
                    if (fill_input(m, lim, i, k, e, req, err, errlen,
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
    if (rc) sv_request_free(req);
    return rc;
}

int sv_request_from_image(const sv_model *m, const sv_limits *lim, const void *data, size_t len, sv_request *req,
                          char *err, size_t errlen, int *http_code) {
    if (m->num_inputs == 1 && m->in_string[0]) { /* the graph decodes the bytes itself (DecodeJpeg ...) */
        if (sv_request_alloc(m, 1, req)) FAIL(503, "out of memory");
        req->str[0][0] = (frost_string){data, len}; /* the body outlives the run */
        return 0;
    }
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
