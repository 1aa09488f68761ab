/* frost serve: TensorFlow Serving's configuration files in protobuf text
 * format (see serve_config.h).  A small parser builds a tree of fields
 * (bounded depth and size, no recursion beyond SV_TF_MAX_DEPTH), then each
 * file kind reads the fields it knows and refuses the others. */
#include "serve_config.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SV_TF_MAX_DEPTH 16
#define SV_TF_MAX_FIELDS 100000

typedef struct tf_msg tf_msg;
typedef struct tf_field {
    char *name;
    int line;
    tf_msg *msg;  /* a message field */
    char *value;  /* a scalar: the decoded string or the token */
    int quoted;   /* value came from a string literal */
} tf_field;

struct tf_msg {
    tf_field *f;
    int n, cap;
};

typedef struct tf_parser {
    const char *s;
    size_t n, i;
    int line;
    int fields;
    char *err;
    size_t errlen;
    int failed;
} tf_parser;

static void msg_free(tf_msg *m) {
    if (!m) return;
    for (int k = 0; k < m->n; k++) {
        free(m->f[k].name);
        free(m->f[k].value);
        msg_free(m->f[k].msg);
    }
    free(m->f);
    free(m);
}

static int fail(tf_parser *p, const char *fmt, ...) {
    if (p->failed) return -1;
    p->failed = 1;
    char tmp[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    snprintf(p->err, p->errlen, "line %d: %s", p->line, tmp);
    return -1;
}

static void skip_space(tf_parser *p) {
    while (p->i < p->n) {
        char c = p->s[p->i];
        if (c == '\n') p->line++, p->i++;
        else if (c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v') p->i++;
        else if (c == '#')
            while (p->i < p->n && p->s[p->i] != '\n') p->i++;
        else break;
    }
}

static int peek(tf_parser *p) {
    skip_space(p);
    return p->i < p->n ? (unsigned char)p->s[p->i] : -1;
}

static int is_ident(int c) { return c >= 0 && (isalnum(c) || c == '_' || c == '.' || c == '-' || c == '+'); }

/* An identifier or number token; NULL when none. */
static char *read_token(tf_parser *p) {
    skip_space(p);
    size_t b = p->i;
    while (p->i < p->n && is_ident((unsigned char)p->s[p->i])) p->i++;
    if (p->i == b) return NULL;
    char *t = malloc(p->i - b + 1);
    if (!t) return NULL;
    memcpy(t, p->s + b, p->i - b);
    t[p->i - b] = '\0';
    return t;
}

/* One or more adjacent string literals, decoded (C escapes; \0 ends the value). */
static char *read_string(tf_parser *p) {
    size_t cap = 64, len = 0;
    char *out = malloc(cap);
    if (!out) return NULL;
    while (peek(p) == '"' || peek(p) == '\'') {
        char q = p->s[p->i++];
        for (;;) {
            if (p->i >= p->n || p->s[p->i] == '\n') {
                free(out);
                fail(p, "unterminated string");
                return NULL;
            }
            char c = p->s[p->i++];
            if (c == q) break;
            if (c == '\\') {
                if (p->i >= p->n) continue;
                char e = p->s[p->i++];
                switch (e) {
                case 'n': c = '\n'; break;
                case 't': c = '\t'; break;
                case 'r': c = '\r'; break;
                case '0': case '1': case '2': case '3': case '4': case '5': case '6': case '7': {
                    int v = e - '0';
                    for (int k = 0; k < 2 && p->i < p->n && p->s[p->i] >= '0' && p->s[p->i] <= '7'; k++)
                        v = v * 8 + (p->s[p->i++] - '0');
                    c = (char)v;
                    break;
                }
                case 'x': {
                    int v = 0, k = 0;
                    for (; k < 2 && p->i < p->n && isxdigit((unsigned char)p->s[p->i]); k++) {
                        char h = p->s[p->i++];
                        v = v * 16 + (isdigit((unsigned char)h) ? h - '0' : (tolower((unsigned char)h) - 'a' + 10));
                    }
                    c = (char)v;
                    break;
                }
                default: c = e; break;
                }
            }
            if (len + 2 > cap) {
                char *q2 = realloc(out, cap *= 2);
                if (!q2) {
                    free(out);
                    return NULL;
                }
                out = q2;
            }
            out[len++] = c;
        }
    }
    out[len] = '\0';
    return out;
}

static tf_field *add_field(tf_parser *p, tf_msg *m, char *name) {
    if (++p->fields > SV_TF_MAX_FIELDS) {
        free(name);
        fail(p, "more than %d fields", SV_TF_MAX_FIELDS);
        return NULL;
    }
    if (m->n == m->cap) {
        int cap = m->cap ? m->cap * 2 : 8;
        tf_field *f = realloc(m->f, (size_t)cap * sizeof *f);
        if (!f) {
            free(name);
            fail(p, "out of memory");
            return NULL;
        }
        m->f = f;
        m->cap = cap;
    }
    tf_field *f = &m->f[m->n++];
    memset(f, 0, sizeof *f);
    f->name = name;
    f->line = p->line;
    return f;
}

static tf_msg *parse_msg(tf_parser *p, int close, int depth);

/* A scalar value (string or token) into f. */
static int parse_scalar(tf_parser *p, tf_field *f) {
    int c = peek(p);
    if (c == '"' || c == '\'') {
        f->value = read_string(p);
        f->quoted = 1;
    } else
        f->value = read_token(p);
    if (!f->value) return fail(p, "field '%s': expected a value", f->name);
    return 0;
}

static tf_msg *parse_msg(tf_parser *p, int close, int depth) {
    if (depth > SV_TF_MAX_DEPTH) {
        fail(p, "nested deeper than %d messages", SV_TF_MAX_DEPTH);
        return NULL;
    }
    tf_msg *m = calloc(1, sizeof *m);
    if (!m) {
        fail(p, "out of memory");
        return NULL;
    }
    for (;;) {
        int c = peek(p);
        if (c == close) {
            if (close >= 0) p->i++;
            return m;
        }
        if (c < 0) {
            fail(p, "missing '%c'", close);
            break;
        }
        char *name = read_token(p);
        if (!name) {
            fail(p, "expected a field name, found '%c'", c);
            break;
        }
        int colon = peek(p) == ':';
        if (colon) p->i++;
        c = peek(p);
        if (c == '{' || c == '<') {
            tf_field *f = add_field(p, m, name);
            if (!f) break;
            p->i++;
            if (!(f->msg = parse_msg(p, c == '{' ? '}' : '>', depth + 1))) break;
        } else if (c == '[') {
            p->i++;
            if (!colon) {
                fail(p, "field '%s': expected ':' before '['", name);
                free(name);
                break;
            }
            int first = 1, bad = 0;
            while (peek(p) != ']') {
                if (!first && peek(p) == ',') p->i++;
                first = 0;
                tf_field *f = add_field(p, m, strdup(name));
                if (!f || !f->name) {
                    bad = 1;
                    break;
                }
                c = peek(p);
                if (c == '{' || c == '<') {
                    p->i++;
                    f->msg = parse_msg(p, c == '{' ? '}' : '>', depth + 1);
                    if (!f->msg) bad = 1;
                } else if (parse_scalar(p, f))
                    bad = 1;
                if (bad) break;
                if (peek(p) < 0) {
                    fail(p, "field '%s': missing ']'", name);
                    bad = 1;
                    break;
                }
            }
            free(name);
            if (bad) break;
            p->i++;
        } else {
            if (!colon) {
                fail(p, "field '%s': expected ':' or '{'", name);
                free(name);
                break;
            }
            tf_field *f = add_field(p, m, name);
            if (!f || parse_scalar(p, f)) break;
        }
        c = peek(p);
        if (c == ',' || c == ';') p->i++;
    }
    msg_free(m);
    return NULL;
}

static tf_msg *parse_text(const char *text, size_t len, char *err, size_t errlen) {
    tf_parser p = {text, len, 0, 1, 0, err, errlen, 0};
    return parse_msg(&p, -1, 0);
}

/* ---- reading the tree --------------------------------------------------------------- */

typedef struct reader {
    const char *what; /* "model_config_list" ... for messages */
    char *err;
    size_t errlen;
} reader;

static int rfail(reader *r, const tf_field *f, const char *fmt, ...) {
    char tmp[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    snprintf(r->err, r->errlen, "%s: line %d: %s", r->what, f ? f->line : 0, tmp);
    return -1;
}

static int want_msg(reader *r, const tf_field *f) {
    return f->msg ? 0 : rfail(r, f, "'%s' must be a message ({ ... })", f->name);
}

static int want_scalar(reader *r, const tf_field *f) {
    return f->msg ? rfail(r, f, "'%s' takes a value, not a message", f->name) : 0;
}

/* An integer field: `name: N` or the wrapper `name { value: N }` (google.protobuf.Int64Value). */
static int get_int(reader *r, const tf_field *f, int64_t lo, int64_t hi, int64_t *out) {
    const tf_field *v = f;
    if (f->msg) {
        v = NULL;
        for (int k = 0; k < f->msg->n; k++) {
            if (strcmp(f->msg->f[k].name, "value"))
                return rfail(r, &f->msg->f[k], "'%s': unknown field '%s' (expected 'value')", f->name,
                             f->msg->f[k].name);
            v = &f->msg->f[k];
        }
        if (!v) {
            *out = 0; /* an empty wrapper is 0, as in protobuf */
            return 0;
        }
        if (want_scalar(r, v)) return -1;
    }
    char *e;
    errno = 0;
    long long x = strtoll(v->value, &e, 0);
    if (v->quoted || errno || e == v->value || *e || x < lo || x > hi)
        return rfail(r, f, "'%s': '%s' is not an integer in [%lld, %lld]", f->name, v->value, (long long)lo,
                     (long long)hi);
    *out = x;
    return 0;
}

static int get_bool(reader *r, const tf_field *f, int *out) {
    if (want_scalar(r, f)) return -1;
    if (!f->quoted && (!strcmp(f->value, "true") || !strcmp(f->value, "True") || !strcmp(f->value, "t") ||
                       !strcmp(f->value, "1")))
        *out = 1;
    else if (!f->quoted && (!strcmp(f->value, "false") || !strcmp(f->value, "False") || !strcmp(f->value, "f") ||
                            !strcmp(f->value, "0")))
        *out = 0;
    else
        return rfail(r, f, "'%s': '%s' is not true or false", f->name, f->value);
    return 0;
}

static int get_string(reader *r, const tf_field *f, char **out) {
    if (want_scalar(r, f)) return -1;
    if (!f->quoted) return rfail(r, f, "'%s' takes a quoted string", f->name);
    if (*out) return rfail(r, f, "'%s' given twice", f->name);
    if (!(*out = strdup(f->value))) return rfail(r, f, "out of memory");
    return 0;
}

static int read_policy(reader *r, const tf_field *pf, sv_version_policy *pol) {
    if (want_msg(r, pf)) return -1;
    int chosen = 0;
    for (int k = 0; k < pf->msg->n; k++) {
        const tf_field *f = &pf->msg->f[k];
        if (want_msg(r, f)) return -1;
        if (chosen++) return rfail(r, f, "model_version_policy: give one of latest, all or specific");
        if (!strcmp(f->name, "latest")) {
            pol->kind = SV_POLICY_LATEST;
            for (int j = 0; j < f->msg->n; j++) {
                const tf_field *g = &f->msg->f[j];
                int64_t v;
                if (strcmp(g->name, "num_versions")) return rfail(r, g, "latest: unknown field '%s'", g->name);
                if (get_int(r, g, 1, 1 << 20, &v)) return -1;
                pol->num_versions = (int)v;
            }
        } else if (!strcmp(f->name, "all")) {
            pol->kind = SV_POLICY_ALL;
            if (f->msg->n) return rfail(r, &f->msg->f[0], "all: unknown field '%s'", f->msg->f[0].name);
        } else if (!strcmp(f->name, "specific")) {
            pol->kind = SV_POLICY_SPECIFIC;
            for (int j = 0; j < f->msg->n; j++) {
                const tf_field *g = &f->msg->f[j];
                if (strcmp(g->name, "versions")) return rfail(r, g, "specific: unknown field '%s'", g->name);
                if (pol->num_specific == SV_MAX_SPECIFIC)
                    return rfail(r, g, "specific: more than %d versions", SV_MAX_SPECIFIC);
                if (get_int(r, g, 0, INT64_MAX, &pol->versions[pol->num_specific])) return -1;
                pol->num_specific++;
            }
            if (!pol->num_specific) return rfail(r, f, "specific: list at least one of 'versions'");
        } else
            return rfail(r, f, "model_version_policy: unknown field '%s' (latest, all or specific)", f->name);
    }
    return 0;
}

static int read_label(reader *r, const tf_field *lf, sv_model_config *c) {
    if (want_msg(r, lf)) return -1;
    char *key = NULL;
    int64_t version = -1;
    int rc = 0;
    for (int k = 0; k < lf->msg->n && !rc; k++) {
        const tf_field *f = &lf->msg->f[k];
        if (!strcmp(f->name, "key")) rc = get_string(r, f, &key);
        else if (!strcmp(f->name, "value")) rc = get_int(r, f, 0, INT64_MAX, &version);
        else rc = rfail(r, f, "version_labels: unknown field '%s' (key, value)", f->name);
    }
    if (!rc && (!key || !key[0] || version < 0)) rc = rfail(r, lf, "version_labels: give a non-empty key and a value");
    for (int k = 0; !rc && k < c->num_labels; k++)
        if (!strcmp(c->label_keys[k], key)) rc = rfail(r, lf, "version_labels: label '%s' given twice", key);
    if (!rc && c->num_labels == SV_MAX_LABELS) rc = rfail(r, lf, "more than %d version labels", SV_MAX_LABELS);
    if (rc) {
        free(key);
        return -1;
    }
    c->label_keys[c->num_labels] = key;
    c->label_versions[c->num_labels++] = version;
    return 0;
}

static int read_model(reader *r, const tf_field *cf, sv_model_config *c) {
    if (want_msg(r, cf)) return -1;
    char *platform = NULL;
    int rc = 0;
    for (int k = 0; k < cf->msg->n && !rc; k++) {
        const tf_field *f = &cf->msg->f[k];
        if (!strcmp(f->name, "name")) rc = get_string(r, f, &c->name);
        else if (!strcmp(f->name, "base_path")) rc = get_string(r, f, &c->base_path);
        else if (!strcmp(f->name, "model_platform")) rc = get_string(r, f, &platform);
        else if (!strcmp(f->name, "model_version_policy")) rc = read_policy(r, f, &c->policy);
        else if (!strcmp(f->name, "version_labels")) rc = read_label(r, f, c);
        else
            rc = rfail(r, f, "config: unknown or unsupported field '%s' (name, base_path, model_platform, "
                             "model_version_policy, version_labels)", f->name);
    }
    if (!rc && platform && strcmp(platform, "tensorflow"))
        rc = rfail(r, cf, "config: model_platform \"%s\": frost serves \"tensorflow\" models only", platform);
    free(platform);
    if (!rc && (!c->name || !c->name[0])) rc = rfail(r, cf, "config: a model needs a non-empty name");
    if (!rc && (!c->base_path || !c->base_path[0]))
        rc = rfail(r, cf, "config: model '%s' needs a base_path", c->name);
    return rc;
}

void sv_config_models_free(sv_model_config *m, int count) {
    if (!m) return;
    for (int k = 0; k < count; k++) {
        free(m[k].name);
        free(m[k].base_path);
        for (int j = 0; j < m[k].num_labels; j++) free(m[k].label_keys[j]);
    }
    free(m);
}

int sv_config_parse_models(const char *text, size_t len, sv_model_config **out, int *count, char *err,
                           size_t errlen) {
    reader r = {"model config", err, errlen};
    tf_msg *root = parse_text(text, len, err, errlen);
    if (!root) return -1;
    const tf_field *list = NULL;
    int rc = 0;
    for (int k = 0; k < root->n && !rc; k++) {
        const tf_field *f = &root->f[k];
        if (!strcmp(f->name, "model_config_list")) {
            if (list) rc = rfail(&r, f, "model_config_list given twice");
            list = f;
            rc = rc ? rc : want_msg(&r, f);
        } else
            rc = rfail(&r, f, "unknown or unsupported field '%s' (frost reads model_config_list)", f->name);
    }
    if (!rc && !list) rc = rfail(&r, NULL, "no model_config_list");
    int n = 0;
    sv_model_config *models = NULL;
    if (!rc) {
        for (int k = 0; k < list->msg->n; k++)
            if (strcmp(list->msg->f[k].name, "config"))
                rc = rc ? rc : rfail(&r, &list->msg->f[k], "model_config_list: unknown field '%s'", list->msg->f[k].name);
        if (!rc && !(models = calloc((size_t)list->msg->n + 1, sizeof *models))) rc = rfail(&r, NULL, "out of memory");
    }
    for (int k = 0; !rc && k < list->msg->n; k++) {
        sv_model_config *c = &models[n++];
        c->policy.kind = SV_POLICY_LATEST;
        c->policy.num_versions = 1;
        rc = read_model(&r, &list->msg->f[k], c);
        for (int j = 0; !rc && j < n - 1; j++)
            if (!strcmp(models[j].name, c->name)) rc = rfail(&r, &list->msg->f[k], "two models named '%s'", c->name);
    }
    if (!rc && n == 0) rc = rfail(&r, list, "model_config_list has no config");
    msg_free(root);
    if (rc) {
        sv_config_models_free(models, n);
        return -1;
    }
    *out = models;
    *count = n;
    return 0;
}

int sv_config_parse_batching(const char *text, size_t len, sv_batching_file *out, char *err, size_t errlen) {
    reader r = {"batching parameters", err, errlen};
    tf_msg *root = parse_text(text, len, err, errlen);
    if (!root) return -1;
    sv_batching_file b;
    memset(&b, 0, sizeof b);
    b.max_batch_size = b.batch_timeout_micros = b.max_enqueued_batches = b.num_batch_threads = -1;
    int rc = 0, ignored = 0;
    for (int k = 0; k < root->n && !rc; k++) {
        const tf_field *f = &root->f[k];
        int64_t v;
        if (!strcmp(f->name, "max_batch_size")) rc = get_int(&r, f, 1, 4096, &b.max_batch_size);
        else if (!strcmp(f->name, "batch_timeout_micros")) rc = get_int(&r, f, 0, 60000000, &b.batch_timeout_micros);
        else if (!strcmp(f->name, "max_enqueued_batches")) rc = get_int(&r, f, 1, INT64_MAX, &b.max_enqueued_batches);
        else if (!strcmp(f->name, "num_batch_threads")) rc = get_int(&r, f, 1, 256, &b.num_batch_threads);
        else if (!strcmp(f->name, "allowed_batch_sizes")) {
            if (b.num_allowed == 32) rc = rfail(&r, f, "more than 32 allowed_batch_sizes");
            else if (!(rc = get_int(&r, f, 1, 4096, &v))) b.allowed[b.num_allowed++] = v;
        } else if (!strcmp(f->name, "pad_variable_length_inputs") || !strcmp(f->name, "enable_large_batch_splitting")) {
            rc = get_bool(&r, f, &ignored); /* frost never pads, and splits batches into allowed sizes */
        } else if (!strcmp(f->name, "max_execution_batch_size") || !strcmp(f->name, "thread_pool_name")) {
            if (!f->msg && !f->quoted) rc = get_int(&r, f, 0, INT64_MAX, &v);
        } else
            rc = rfail(&r, f, "unknown field '%s' (max_batch_size, batch_timeout_micros, max_enqueued_batches, "
                              "num_batch_threads, allowed_batch_sizes, pad_variable_length_inputs)", f->name);
    }
    msg_free(root);
    if (rc) return -1;
    *out = b;
    return 0;
}

void sv_config_monitoring_free(sv_monitoring_file *m) {
    free(m->prometheus_path);
    m->prometheus_path = NULL;
}

int sv_config_parse_monitoring(const char *text, size_t len, sv_monitoring_file *out, char *err, size_t errlen) {
    reader r = {"monitoring config", err, errlen};
    tf_msg *root = parse_text(text, len, err, errlen);
    if (!root) return -1;
    sv_monitoring_file m = {0, NULL};
    int rc = 0;
    for (int k = 0; k < root->n && !rc; k++) {
        const tf_field *f = &root->f[k];
        if (strcmp(f->name, "prometheus_config")) {
            rc = rfail(&r, f, "unknown field '%s' (prometheus_config)", f->name);
            break;
        }
        if ((rc = want_msg(&r, f))) break;
        for (int j = 0; j < f->msg->n && !rc; j++) {
            const tf_field *g = &f->msg->f[j];
            if (!strcmp(g->name, "enable")) rc = get_bool(&r, g, &m.prometheus_enable);
            else if (!strcmp(g->name, "path")) {
                free(m.prometheus_path);
                m.prometheus_path = NULL;
                rc = get_string(&r, g, &m.prometheus_path);
                if (!rc && m.prometheus_path[0] && m.prometheus_path[0] != '/')
                    rc = rfail(&r, g, "prometheus_config: path \"%s\" must start with '/'", m.prometheus_path);
            } else
                rc = rfail(&r, g, "prometheus_config: unknown field '%s' (enable, path)", g->name);
        }
    }
    msg_free(root);
    if (rc) {
        sv_config_monitoring_free(&m);
        return -1;
    }
    if (m.prometheus_path && !m.prometheus_path[0]) sv_config_monitoring_free(&m);
    *out = m;
    return 0;
}

char *sv_config_read_file(const char *path, size_t *len, char *err, size_t errlen) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
        return NULL;
    }
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    while (buf) {
        if (n + 1 >= cap) {
            if (cap >= (16u << 20)) {
                snprintf(err, errlen, "%s is larger than 16 MiB", path);
                free(buf);
                buf = NULL;
                break;
            }
            char *b2 = realloc(buf, cap * 2);
            if (!b2) {
                free(buf);
                buf = NULL;
                snprintf(err, errlen, "out of memory");
                break;
            }
            buf = b2;
            cap *= 2;
        }
        size_t got = fread(buf + n, 1, cap - n - 1, f);
        n += got;
        if (got == 0) {
            if (ferror(f)) {
                snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
                free(buf);
                buf = NULL;
            }
            break;
        }
    }
    fclose(f);
    if (buf) {
        buf[n] = '\0';
        *len = n;
    }
    return buf;
}
