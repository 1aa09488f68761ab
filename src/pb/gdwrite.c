#include "pb/gdwrite.h"

#include <stdlib.h>
#include <string.h>

typedef struct buf {
    uint8_t *p;
    size_t n, cap;
} buf;

struct fr_gdw {
    buf graph, node;
    int have_node, failed;
};

static void put(fr_gdw *w, buf *b, const void *src, size_t n) {
    if (w->failed) return;
    if (b->n + n > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->n + n) cap *= 2;
        uint8_t *p = realloc(b->p, cap);
        if (!p) {
            w->failed = 1;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    if (n) memcpy(b->p + b->n, src, n);
    b->n += n;
}

static void varint(fr_gdw *w, buf *b, uint64_t v) {
    uint8_t t[10];
    int n = 0;
    do {
        t[n] = v & 0x7f;
        v >>= 7;
        if (v) t[n] |= 0x80;
        n++;
    } while (v);
    put(w, b, t, (size_t)n);
}

static void key(fr_gdw *w, buf *b, int field, int wire) { varint(w, b, (uint64_t)field << 3 | (uint64_t)wire); }

static void bytes_field(fr_gdw *w, buf *b, int field, const void *p, size_t n) {
    key(w, b, field, 2);
    varint(w, b, n);
    put(w, b, p, n);
}

static void fixed32(fr_gdw *w, buf *b, float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    uint8_t t[4] = {(uint8_t)u, (uint8_t)(u >> 8), (uint8_t)(u >> 16), (uint8_t)(u >> 24)};
    put(w, b, t, 4);
}

fr_gdw *fr_gdw_new(void) { return calloc(1, sizeof(fr_gdw)); }

void fr_gdw_free(fr_gdw *w) {
    if (!w) return;
    free(w->graph.p);
    free(w->node.p);
    free(w);
}

static void flush(fr_gdw *w) {
    if (w->have_node) bytes_field(w, &w->graph, 1, w->node.p ? w->node.p : (uint8_t *)"", w->node.n);
    w->node.n = 0;
    w->have_node = 0;
}

void fr_gdw_node(fr_gdw *w, const char *name, const char *op, const char *const *inputs) {
    flush(w);
    w->have_node = 1;
    bytes_field(w, &w->node, 1, name, strlen(name));
    bytes_field(w, &w->node, 2, op, strlen(op));
    for (int i = 0; inputs && inputs[i]; i++) bytes_field(w, &w->node, 3, inputs[i], strlen(inputs[i]));
}

/* map entry {key=1, value=2} with an AttrValue payload */
static void attr(fr_gdw *w, const char *k, const buf *val) {
    buf e = {0};
    bytes_field(w, &e, 1, k, strlen(k));
    bytes_field(w, &e, 2, val->p ? val->p : (uint8_t *)"", val->n);
    bytes_field(w, &w->node, 5, e.p ? e.p : (uint8_t *)"", e.n);
    free(e.p);
}

void fr_gdw_attr_raw(fr_gdw *w, const char *k, const void *bytes, size_t len) {
    buf v = {0};
    put(w, &v, bytes, len);
    attr(w, k, &v);
    free(v.p);
}

void fr_gdw_attr_int(fr_gdw *w, const char *k, int64_t x) {
    buf v = {0};
    key(w, &v, 3, 0);
    varint(w, &v, (uint64_t)x);
    attr(w, k, &v);
    free(v.p);
}

void fr_gdw_attr_float(fr_gdw *w, const char *k, float x) {
    buf v = {0};
    key(w, &v, 4, 5);
    fixed32(w, &v, x);
    attr(w, k, &v);
    free(v.p);
}

void fr_gdw_attr_bool(fr_gdw *w, const char *k, int x) {
    buf v = {0};
    key(w, &v, 5, 0);
    varint(w, &v, x != 0);
    attr(w, k, &v);
    free(v.p);
}

void fr_gdw_attr_type(fr_gdw *w, const char *k, int dtype) {
    buf v = {0};
    key(w, &v, 6, 0);
    varint(w, &v, (uint64_t)dtype);
    attr(w, k, &v);
    free(v.p);
}

void fr_gdw_attr_str(fr_gdw *w, const char *k, const char *s) {
    buf v = {0};
    bytes_field(w, &v, 2, s, strlen(s));
    attr(w, k, &v);
    free(v.p);
}

void fr_gdw_attr_ints(fr_gdw *w, const char *k, int n, const int64_t *x) {
    buf list = {0}, packed = {0}, v = {0};
    for (int i = 0; i < n; i++) varint(w, &packed, (uint64_t)x[i]);
    bytes_field(w, &list, 3, packed.p ? packed.p : (uint8_t *)"", packed.n);
    bytes_field(w, &v, 1, list.p ? list.p : (uint8_t *)"", list.n);
    attr(w, k, &v);
    free(list.p), free(packed.p), free(v.p);
}

static void shape_proto(fr_gdw *w, buf *out, int rank, const int64_t *dims) {
    if (rank < 0) {
        key(w, out, 3, 0);
        varint(w, out, 1);
        return;
    }
    for (int i = 0; i < rank; i++) {
        buf d = {0};
        key(w, &d, 1, 0);
        varint(w, &d, (uint64_t)dims[i]);
        bytes_field(w, out, 2, d.p, d.n);
        free(d.p);
    }
}

void fr_gdw_attr_shape(fr_gdw *w, const char *k, int rank, const int64_t *dims) {
    buf s = {0}, v = {0};
    shape_proto(w, &s, rank, dims);
    bytes_field(w, &v, 7, s.p ? s.p : (uint8_t *)"", s.n);
    attr(w, k, &v);
    free(s.p), free(v.p);
}

static void tensor_attr(fr_gdw *w, const char *k, const buf *t) {
    buf v = {0};
    bytes_field(w, &v, 8, t->p ? t->p : (uint8_t *)"", t->n);
    attr(w, k, &v);
    free(v.p);
}

void fr_gdw_attr_tensor_f(fr_gdw *w, const char *k, int rank, const int64_t *dims, int n, const float *x,
                          int content) {
    buf t = {0}, s = {0}, vals = {0};
    key(w, &t, 1, 0);
    varint(w, &t, 1);
    shape_proto(w, &s, rank, dims);
    bytes_field(w, &t, 2, s.p ? s.p : (uint8_t *)"", s.n);
    for (int i = 0; i < n; i++) fixed32(w, &vals, x[i]);
    if (n) bytes_field(w, &t, content ? 4 : 5, vals.p, vals.n);
    tensor_attr(w, k, &t);
    free(t.p), free(s.p), free(vals.p);
}

void fr_gdw_attr_tensor_i(fr_gdw *w, const char *k, int dtype, int rank, const int64_t *dims, int n,
                          const int64_t *x) {
    buf t = {0}, s = {0}, vals = {0};
    key(w, &t, 1, 0);
    varint(w, &t, (uint64_t)dtype);
    shape_proto(w, &s, rank, dims);
    bytes_field(w, &t, 2, s.p ? s.p : (uint8_t *)"", s.n);
    for (int i = 0; i < n; i++) varint(w, &vals, (uint64_t)x[i]);
    if (n) bytes_field(w, &t, dtype == 9 ? 10 : 7, vals.p, vals.n);
    tensor_attr(w, k, &t);
    free(t.p), free(s.p), free(vals.p);
}

void fr_gdw_placeholder(fr_gdw *w, const char *name, int rank, const int64_t *dims) {
    fr_gdw_node(w, name, "Placeholder", NULL);
    fr_gdw_attr_type(w, "dtype", 1);
    fr_gdw_attr_shape(w, "shape", rank, dims);
}

void fr_gdw_const_f(fr_gdw *w, const char *name, int rank, const int64_t *dims, const float *v) {
    int64_t n = 1;
    for (int i = 0; i < rank; i++) n *= dims[i];
    fr_gdw_node(w, name, "Const", NULL);
    fr_gdw_attr_type(w, "dtype", 1);
    fr_gdw_attr_tensor_f(w, "value", rank, dims, (int)n, v, 1);
}

void fr_gdw_const_i32(fr_gdw *w, const char *name, int rank, const int64_t *dims, const int64_t *v) {
    int64_t n = 1;
    for (int i = 0; i < rank; i++) n *= dims[i];
    fr_gdw_node(w, name, "Const", NULL);
    fr_gdw_attr_type(w, "dtype", 3);
    fr_gdw_attr_tensor_i(w, "value", 3, rank, dims, (int)n, v);
}

const uint8_t *fr_gdw_finish(fr_gdw *w, size_t *len) {
    flush(w);
    if (w->failed) return NULL;
    *len = w->graph.n;
    return w->graph.p ? w->graph.p : (const uint8_t *)"";
}
