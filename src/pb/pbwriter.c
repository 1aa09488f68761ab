#include "pb/pbwriter.h"

#include <stdlib.h>
#include <string.h>

void fr_pbw_init(fr_pbw *w) { memset(w, 0, sizeof *w); }

void fr_pbw_free(fr_pbw *w) {
    if (!w) return;
    free(w->data);
    memset(w, 0, sizeof *w);
}

void fr_pbw_reset(fr_pbw *w) { w->len = 0; }

static int reserve(fr_pbw *w, size_t n) {
    if (w->failed) return -1;
    if (n <= w->cap - w->len) return 0;
    size_t cap = w->cap ? w->cap : 64;
    while (cap - w->len < n) {
        if (cap > SIZE_MAX / 2) {
            w->failed = 1;
            return -1;
        }
        cap *= 2;
    }
    uint8_t *p = realloc(w->data, cap);
    if (!p) {
        w->failed = 1;
        return -1;
    }
    w->data = p;
    w->cap = cap;
    return 0;
}

void fr_pbw_raw(fr_pbw *w, const void *p, size_t n) {
    if (!n || reserve(w, n)) return;
    memcpy(w->data + w->len, p, n);
    w->len += n;
}

void fr_pbw_varint(fr_pbw *w, uint64_t v) {
    uint8_t b[10];
    size_t n = 0;
    do {
        b[n] = (uint8_t)(v & 0x7f);
        v >>= 7;
        if (v) b[n] |= 0x80;
        n++;
    } while (v);
    fr_pbw_raw(w, b, n);
}

void fr_pbw_tag(fr_pbw *w, int field, int wire_type) { fr_pbw_varint(w, ((uint64_t)field << 3) | (uint64_t)wire_type); }

void fr_pbw_int(fr_pbw *w, int field, int64_t v) {
    fr_pbw_tag(w, field, 0);
    fr_pbw_varint(w, (uint64_t)v);
}

static void put_le32(uint8_t *b, uint32_t u) {
    for (int i = 0; i < 4; i++) b[i] = (uint8_t)(u >> (8 * i));
}

void fr_pbw_float(fr_pbw *w, int field, float v) {
    uint32_t u;
    uint8_t b[4];
    memcpy(&u, &v, 4);
    put_le32(b, u);
    fr_pbw_tag(w, field, 5);
    fr_pbw_raw(w, b, 4);
}

void fr_pbw_double(fr_pbw *w, int field, double v) {
    uint64_t u;
    uint8_t b[8];
    memcpy(&u, &v, 8);
    for (int i = 0; i < 8; i++) b[i] = (uint8_t)(u >> (8 * i));
    fr_pbw_tag(w, field, 1);
    fr_pbw_raw(w, b, 8);
}

void fr_pbw_bytes(fr_pbw *w, int field, const void *p, size_t n) {
    fr_pbw_tag(w, field, 2);
    fr_pbw_varint(w, n);
    fr_pbw_raw(w, p, n);
}

void fr_pbw_str(fr_pbw *w, int field, const char *s) { fr_pbw_bytes(w, field, s, strlen(s)); }

void fr_pbw_msg(fr_pbw *w, int field, const fr_pbw *sub) {
    if (sub->failed) w->failed = 1;
    fr_pbw_bytes(w, field, sub->data, sub->len);
}

void fr_pbw_packed_int(fr_pbw *w, int field, size_t n, const int64_t *v) {
    fr_pbw body;
    fr_pbw_init(&body);
    for (size_t i = 0; i < n; i++) fr_pbw_varint(&body, (uint64_t)v[i]);
    fr_pbw_msg(w, field, &body);
    fr_pbw_free(&body);
}

void fr_pbw_packed_float(fr_pbw *w, int field, size_t n, const float *v) {
    fr_pbw_tag(w, field, 2);
    fr_pbw_varint(w, n * 4);
    if (reserve(w, n * 4)) return;
    for (size_t i = 0; i < n; i++) {
        uint32_t u;
        memcpy(&u, &v[i], 4);
        put_le32(w->data + w->len + 4 * i, u);
    }
    w->len += n * 4;
}

/* TensorShapeProto: dim = 2 { size = 1 }. */
void fr_pbw_shape(fr_pbw *w, int rank, const int64_t *dims) {
    fr_pbw dim;
    fr_pbw_init(&dim);
    for (int i = 0; i < rank; i++) {
        fr_pbw_reset(&dim);
        fr_pbw_int(&dim, 1, dims[i]);
        fr_pbw_msg(w, 2, &dim);
    }
    if (rank < 0) fr_pbw_int(w, 3, 1); /* unknown_rank */
    fr_pbw_free(&dim);
}

/* TensorProto: dtype = 1, tensor_shape = 2, tensor_content = 4, float_val = 5, int_val = 7, int64_val = 10,
 * bool_val = 11. */
static void tensor_head(fr_pbw *t, int dtype, int rank, const int64_t *dims) {
    fr_pbw s;
    fr_pbw_init(&s);
    fr_pbw_shape(&s, rank, dims);
    fr_pbw_int(t, 1, dtype);
    fr_pbw_msg(t, 2, &s);
    fr_pbw_free(&s);
}

void fr_pbw_tensor(fr_pbw *w, int dtype, int rank, const int64_t *dims, const void *bytes, size_t nbytes) {
    tensor_head(w, dtype, rank, dims);
    /* As TensorFlow's make_tensor_proto: one-element tensors in the typed
     * value fields, larger ones as tensor_content. */
    if (nbytes == 4 && dtype == FR_DT_FLOAT) {
        fr_pbw_packed_float(w, 5, 1, bytes);
    } else if (nbytes == 4 && dtype == FR_DT_INT32) {
        int32_t v;
        memcpy(&v, bytes, 4);
        int64_t v64 = v;
        fr_pbw_packed_int(w, 7, 1, &v64);
    } else if (nbytes == 1 && dtype == FR_DT_BOOL) {
        int64_t v = *(const uint8_t *)bytes != 0;
        fr_pbw_packed_int(w, 11, 1, &v);
    } else if (nbytes) {
        fr_pbw_bytes(w, 4, bytes, nbytes);
    }
}

/* ---- GraphDef builder ---------------------------------------------------- */

struct fr_gdw_pending {
    char *name;
    fr_pbw head;  /* name, op, inputs, device */
    fr_pbw attrs; /* attr map entries */
    fr_pbw value; /* scratch: one AttrValue */
    fr_pbw entry; /* scratch: one map entry */
};

fr_gdw *fr_gdw_new(void) { return calloc(1, sizeof(fr_gdw)); }

static void node_free(fr_gdw_pending *n) {
    if (!n) return;
    free(n->name);
    fr_pbw_free(&n->head);
    fr_pbw_free(&n->attrs);
    fr_pbw_free(&n->value);
    fr_pbw_free(&n->entry);
    free(n);
}

void fr_gdw_free(fr_gdw *g) {
    if (!g) return;
    fr_pbw_free(&g->out);
    node_free(g->node);
    for (size_t i = 0; i < g->names_cap; i++) free(g->names[i]);
    free(g->names);
    free(g);
}

int fr_gdw_has(const fr_gdw *g, const char *name) {
    if (!g->names_cap) return 0;
    for (size_t i = fr_name_hash(name, strlen(name)) & (g->names_cap - 1);; i = (i + 1) & (g->names_cap - 1)) {
        if (!g->names[i]) return 0;
        if (!strcmp(g->names[i], name)) return 1;
    }
}

/* Insert into the open-addressing set (power-of-two capacity, load <= 1/2). */
static int names_add(fr_gdw *g, char *name) {
    if ((size_t)(g->nodes + 1) * 2 > g->names_cap) {
        size_t cap = g->names_cap ? g->names_cap * 2 : 256;
        char **t = calloc(cap, sizeof *t);
        if (!t) return -1;
        for (size_t i = 0; i < g->names_cap; i++) {
            char *s = g->names[i];
            if (!s) continue;
            size_t j = fr_name_hash(s, strlen(s)) & (cap - 1);
            while (t[j]) j = (j + 1) & (cap - 1);
            t[j] = s;
        }
        free(g->names);
        g->names = t;
        g->names_cap = cap;
    }
    size_t j = fr_name_hash(name, strlen(name)) & (g->names_cap - 1);
    while (g->names[j]) j = (j + 1) & (g->names_cap - 1);
    g->names[j] = name;
    return 0;
}

void fr_gdw_node_begin(fr_gdw *g, const char *name, const char *op) {
    if (g->node) fr_gdw_node_end(g);
    fr_gdw_pending *n = calloc(1, sizeof *n);
    g->node = n;
    if (!n) {
        g->out.failed = 1;
        return;
    }
    n->name = strdup(name);
    if (!n->name) g->out.failed = 1;
    fr_pbw_str(&n->head, 1, name);
    fr_pbw_str(&n->head, 2, op);
}

void fr_gdw_input(fr_gdw *g, const char *input) {
    if (g->node) fr_pbw_str(&g->node->head, 3, input);
}

void fr_gdw_device(fr_gdw *g, const char *device) {
    if (g->node && device && *device) fr_pbw_str(&g->node->head, 4, device);
}

/* Appends {key, value} (the node's scratch AttrValue) to the attr map. */
static void attr_commit(fr_gdw *g, const char *key) {
    fr_gdw_pending *n = g->node;
    fr_pbw_reset(&n->entry);
    fr_pbw_str(&n->entry, 1, key);
    fr_pbw_msg(&n->entry, 2, &n->value);
    fr_pbw_msg(&n->attrs, 5, &n->entry);
}

static fr_pbw *attr_value(fr_gdw *g) {
    if (!g->node) return NULL;
    fr_pbw_reset(&g->node->value);
    return &g->node->value;
}

void fr_gdw_attr_type(fr_gdw *g, const char *key, int dtype) {
    fr_pbw *v = attr_value(g);
    if (!v) return;
    fr_pbw_int(v, 6, dtype);
    attr_commit(g, key);
}

void fr_gdw_attr_int(fr_gdw *g, const char *key, int64_t x) {
    fr_pbw *v = attr_value(g);
    if (!v) return;
    fr_pbw_int(v, 3, x);
    attr_commit(g, key);
}

void fr_gdw_attr_float(fr_gdw *g, const char *key, float x) {
    fr_pbw *v = attr_value(g);
    if (!v) return;
    fr_pbw_float(v, 4, x);
    attr_commit(g, key);
}

void fr_gdw_attr_bool(fr_gdw *g, const char *key, int b) {
    fr_pbw *v = attr_value(g);
    if (!v) return;
    fr_pbw_int(v, 5, b ? 1 : 0);
    attr_commit(g, key);
}

void fr_gdw_attr_str(fr_gdw *g, const char *key, const char *s) {
    fr_pbw *v = attr_value(g);
    if (!v) return;
    fr_pbw_str(v, 2, s);
    attr_commit(g, key);
}

void fr_gdw_attr_ints(fr_gdw *g, const char *key, size_t n, const int64_t *x) {
    fr_pbw *v = attr_value(g);
    if (!v) return;
    fr_pbw list;
    fr_pbw_init(&list);
    if (n) fr_pbw_packed_int(&list, 3, n, x);
    fr_pbw_msg(v, 1, &list);
    fr_pbw_free(&list);
    attr_commit(g, key);
}

void fr_gdw_attr_shape(fr_gdw *g, const char *key, int rank, const int64_t *dims) {
    fr_pbw *v = attr_value(g);
    if (!v) return;
    fr_pbw s;
    fr_pbw_init(&s);
    fr_pbw_shape(&s, rank, dims);
    fr_pbw_msg(v, 7, &s);
    fr_pbw_free(&s);
    attr_commit(g, key);
}

/* AttrValue.tensor = 8 holding the TensorProto `t`. */
static void attr_tensor_proto(fr_gdw *g, const char *key, const fr_pbw *t) {
    fr_pbw v;
    fr_pbw_init(&v);
    fr_pbw_msg(&v, 8, t);
    if (v.failed) g->out.failed = 1;
    else fr_gdw_attr_raw(g, key, v.data, v.len);
    fr_pbw_free(&v);
}

void fr_gdw_attr_tensor(fr_gdw *g, const char *key, int dtype, int rank, const int64_t *dims, const void *bytes,
                        size_t nbytes) {
    fr_pbw t;
    fr_pbw_init(&t);
    fr_pbw_tensor(&t, dtype, rank, dims, bytes, nbytes);
    attr_tensor_proto(g, key, &t);
    fr_pbw_free(&t);
}

void fr_gdw_attr_raw(fr_gdw *g, const char *key, const void *value, size_t len) {
    fr_pbw *v = attr_value(g);
    if (!v) return;
    fr_pbw_raw(v, value, len);
    attr_commit(g, key);
}

int fr_gdw_node_end(fr_gdw *g) {
    fr_gdw_pending *n = g->node;
    if (!n) return -1;
    g->node = NULL;
    if (!n->name || n->head.failed || n->attrs.failed || n->value.failed || n->entry.failed) {
        node_free(n);
        g->out.failed = 1;
        return -1;
    }
    if (!g->allow_duplicates && fr_gdw_has(g, n->name)) {
        node_free(n);
        return -1;
    }
    /* GraphDef.node = 1 */
    fr_pbw_tag(&g->out, 1, 2);
    fr_pbw_varint(&g->out, n->head.len + n->attrs.len);
    fr_pbw_raw(&g->out, n->head.data, n->head.len);
    fr_pbw_raw(&g->out, n->attrs.data, n->attrs.len);
    if (names_add(g, n->name)) {
        g->out.failed = 1;
        node_free(n);
        return -1;
    }
    n->name = NULL; /* owned by the name set */
    node_free(n);
    g->nodes++;
    return g->out.failed ? -1 : 0;
}

static size_t elements(int rank, const int64_t *dims) {
    size_t n = 1;
    for (int i = 0; i < rank; i++) n *= (size_t)dims[i];
    return n;
}


void fr_gdw_versions(fr_gdw *g, int producer) {
    fr_pbw v;
    fr_pbw_init(&v);
    fr_pbw_int(&v, 1, producer);
    fr_pbw_msg(&g->out, 4, &v);
    fr_pbw_free(&v);
}

const uint8_t *fr_gdw_finish(fr_gdw *g, size_t *len) {
    if (g->node) fr_gdw_node_end(g);
    if (g->out.failed) return NULL;
    *len = g->out.len;
    return g->out.data ? g->out.data : (const uint8_t *)"";
}

/* ---- conveniences -------------------------------------------------------- */

void fr_gdw_node(fr_gdw *g, const char *name, const char *op, const char *const *inputs) {
    fr_gdw_node_begin(g, name, op);
    for (int i = 0; inputs && inputs[i]; i++) fr_gdw_input(g, inputs[i]);
}

void fr_gdw_placeholder(fr_gdw *g, const char *name, int rank, const int64_t *dims) {
    fr_gdw_node_begin(g, name, "Placeholder");
    fr_gdw_attr_type(g, "dtype", FR_DT_FLOAT);
    fr_gdw_attr_shape(g, "shape", rank, dims);
}

int fr_gdw_const_f(fr_gdw *g, const char *name, int rank, const int64_t *dims, const float *v) {
    fr_gdw_node_begin(g, name, "Const");
    fr_gdw_attr_type(g, "dtype", FR_DT_FLOAT);
    fr_gdw_attr_tensor(g, "value", FR_DT_FLOAT, rank, dims, v, elements(rank, dims) * 4);
    return fr_gdw_node_end(g);
}

int fr_gdw_const_i32(fr_gdw *g, const char *name, int rank, const int64_t *dims, const int32_t *v) {
    fr_gdw_node_begin(g, name, "Const");
    fr_gdw_attr_type(g, "dtype", FR_DT_INT32);
    fr_gdw_attr_tensor(g, "value", FR_DT_INT32, rank, dims, v, elements(rank, dims) * 4);
    return fr_gdw_node_end(g);
}

void fr_gdw_attr_tensor_f(fr_gdw *g, const char *key, int rank, const int64_t *dims, int n, const float *v,
                          int content) {
    fr_pbw t;
    fr_pbw_init(&t);
    tensor_head(&t, FR_DT_FLOAT, rank, dims);
    /* tensor_content = 4 holds the same little-endian bytes as packed float_val = 5 */
    if (n > 0) fr_pbw_packed_float(&t, content ? 4 : 5, (size_t)n, v);
    attr_tensor_proto(g, key, &t);
    fr_pbw_free(&t);
}

void fr_gdw_attr_tensor_i(fr_gdw *g, const char *key, int dtype, int rank, const int64_t *dims, int n,
                          const int64_t *v) {
    fr_pbw t;
    fr_pbw_init(&t);
    tensor_head(&t, dtype, rank, dims);
    if (n > 0) fr_pbw_packed_int(&t, dtype == FR_DT_INT64 ? 10 : 7, (size_t)n, v);
    attr_tensor_proto(g, key, &t);
    fr_pbw_free(&t);
}
