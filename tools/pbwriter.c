#include "pbwriter.h"

#include <stdlib.h>
#include <string.h>

void pbw_init(pbw *w) { memset(w, 0, sizeof *w); }

void pbw_free(pbw *w) {
    if (!w) return;
    free(w->data);
    memset(w, 0, sizeof *w);
}

void pbw_reset(pbw *w) { w->len = 0; }

static int pbw_reserve(pbw *w, size_t n) {
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

void pbw_raw(pbw *w, const void *p, size_t n) {
    if (!n || pbw_reserve(w, n)) return;
    memcpy(w->data + w->len, p, n);
    w->len += n;
}

void pbw_varint(pbw *w, uint64_t v) {
    uint8_t b[10];
    size_t n = 0;
    do {
        b[n] = (uint8_t)(v & 0x7f);
        v >>= 7;
        if (v) b[n] |= 0x80;
        n++;
    } while (v);
    pbw_raw(w, b, n);
}

void pbw_tag(pbw *w, int field, int wire_type) { pbw_varint(w, ((uint64_t)field << 3) | (uint64_t)wire_type); }

void pbw_int(pbw *w, int field, int64_t v) {
    pbw_tag(w, field, 0);
    pbw_varint(w, (uint64_t)v);
}

static void put_le32(uint8_t *b, uint32_t u) {
    for (int i = 0; i < 4; i++) b[i] = (uint8_t)(u >> (8 * i));
}

void pbw_float(pbw *w, int field, float v) {
    uint32_t u;
    uint8_t b[4];
    memcpy(&u, &v, 4);
    put_le32(b, u);
    pbw_tag(w, field, 5);
    pbw_raw(w, b, 4);
}

void pbw_double(pbw *w, int field, double v) {
    uint64_t u;
    uint8_t b[8];
    memcpy(&u, &v, 8);
    for (int i = 0; i < 8; i++) b[i] = (uint8_t)(u >> (8 * i));
    pbw_tag(w, field, 1);
    pbw_raw(w, b, 8);
}

void pbw_bytes(pbw *w, int field, const void *p, size_t n) {
    pbw_tag(w, field, 2);
    pbw_varint(w, n);
    pbw_raw(w, p, n);
}

void pbw_str(pbw *w, int field, const char *s) { pbw_bytes(w, field, s, strlen(s)); }

void pbw_msg(pbw *w, int field, const pbw *sub) {
    if (sub->failed) w->failed = 1;
    pbw_bytes(w, field, sub->data, sub->len);
}

void pbw_packed_int(pbw *w, int field, const int64_t *v, size_t n) {
    pbw body;
    pbw_init(&body);
    for (size_t i = 0; i < n; i++) pbw_varint(&body, (uint64_t)v[i]);
    pbw_msg(w, field, &body);
    pbw_free(&body);
}

void pbw_packed_float(pbw *w, int field, const float *v, size_t n) {
    pbw_tag(w, field, 2);
    pbw_varint(w, n * 4);
    if (pbw_reserve(w, n * 4)) return;
    for (size_t i = 0; i < n; i++) {
        uint32_t u;
        memcpy(&u, &v[i], 4);
        put_le32(w->data + w->len + 4 * i, u);
    }
    w->len += n * 4;
}

/* TensorShapeProto: dim = 2 { size = 1 }. */
void pbw_shape(pbw *w, const int64_t *dims, int rank) {
    pbw dim;
    pbw_init(&dim);
    for (int i = 0; i < rank; i++) {
        pbw_reset(&dim);
        pbw_int(&dim, 1, dims[i]);
        pbw_msg(w, 2, &dim);
    }
    if (rank < 0) pbw_int(w, 3, 1); /* unknown_rank */
    pbw_free(&dim);
}

/* TensorProto: dtype = 1, tensor_shape = 2, tensor_content = 4, float_val = 5, int_val = 7, bool_val = 11. */
void pbw_tensor(pbw *w, int dtype, const int64_t *dims, int rank, const void *bytes, size_t nbytes) {
    pbw shape;
    pbw_init(&shape);
    pbw_shape(&shape, dims, rank);
    pbw_int(w, 1, dtype);
    pbw_msg(w, 2, &shape);
    pbw_free(&shape);
    /* As TensorFlow's make_tensor_proto: one-element tensors in the typed
     * value fields, larger ones as tensor_content. */
    if (nbytes == 4 && dtype == TF_FLOAT) {
        pbw_packed_float(w, 5, bytes, 1);
    } else if (nbytes == 4 && dtype == TF_INT32) {
        int32_t v;
        memcpy(&v, bytes, 4);
        int64_t v64 = v;
        pbw_packed_int(w, 7, &v64, 1);
    } else if (nbytes == 1 && dtype == TF_BOOL) {
        int64_t v = *(const uint8_t *)bytes != 0;
        pbw_packed_int(w, 11, &v, 1);
    } else if (nbytes) {
        pbw_bytes(w, 4, bytes, nbytes);
    }
}

/* ---- GraphDef builder ---------------------------------------------------- */

struct gdw_node {
    char *name;
    pbw head;  /* name, op, inputs, device */
    pbw attrs; /* attr map entries */
    pbw value; /* scratch: one AttrValue */
    pbw entry; /* scratch: one map entry */
};

void gdw_init(gdw *g) { memset(g, 0, sizeof *g); }

static void node_free(gdw_node *n) {
    if (!n) return;
    free(n->name);
    pbw_free(&n->head);
    pbw_free(&n->attrs);
    pbw_free(&n->value);
    pbw_free(&n->entry);
    free(n);
}

void gdw_free(gdw *g) {
    if (!g) return;
    pbw_free(&g->out);
    node_free(g->node);
    for (size_t i = 0; i < g->names_cap; i++) free(g->names[i]);
    free(g->names);
    memset(g, 0, sizeof *g);
}

static uint64_t name_hash(const char *s) {
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (; *s; s++) h = (h ^ (uint8_t)*s) * 1099511628211ull;
    return h;
}

int gdw_has(const gdw *g, const char *name) {
    if (!g->names_cap) return 0;
    for (size_t i = name_hash(name) & (g->names_cap - 1);; i = (i + 1) & (g->names_cap - 1)) {
        if (!g->names[i]) return 0;
        if (!strcmp(g->names[i], name)) return 1;
    }
}

/* Insert into the open-addressing set (power-of-two capacity, load <= 1/2). */
static int names_add(gdw *g, char *name) {
    if ((size_t)(g->nodes + 1) * 2 > g->names_cap) {
        size_t cap = g->names_cap ? g->names_cap * 2 : 256;
        char **t = calloc(cap, sizeof *t);
        if (!t) return -1;
        for (size_t i = 0; i < g->names_cap; i++) {
            char *s = g->names[i];
            if (!s) continue;
            size_t j = name_hash(s) & (cap - 1);
            while (t[j]) j = (j + 1) & (cap - 1);
            t[j] = s;
        }
        free(g->names);
        g->names = t;
        g->names_cap = cap;
    }
    size_t j = name_hash(name) & (g->names_cap - 1);
    while (g->names[j]) j = (j + 1) & (g->names_cap - 1);
    g->names[j] = name;
    return 0;
}

void gdw_node_begin(gdw *g, const char *name, const char *op) {
    node_free(g->node);
    gdw_node *n = calloc(1, sizeof *n);
    g->node = n;
    if (!n) {
        g->out.failed = 1;
        return;
    }
    n->name = strdup(name);
    if (!n->name) g->out.failed = 1;
    pbw_str(&n->head, 1, name);
    pbw_str(&n->head, 2, op);
}

void gdw_input(gdw *g, const char *input) {
    if (g->node) pbw_str(&g->node->head, 3, input);
}

void gdw_device(gdw *g, const char *device) {
    if (g->node && device && *device) pbw_str(&g->node->head, 4, device);
}

/* Appends {key, value} (the node's scratch AttrValue) to the attr map. */
static void attr_commit(gdw *g, const char *key) {
    gdw_node *n = g->node;
    pbw_reset(&n->entry);
    pbw_str(&n->entry, 1, key);
    pbw_msg(&n->entry, 2, &n->value);
    pbw_msg(&n->attrs, 5, &n->entry);
}

static pbw *attr_value(gdw *g) {
    if (!g->node) return NULL;
    pbw_reset(&g->node->value);
    return &g->node->value;
}

void gdw_attr_type(gdw *g, const char *key, int dtype) {
    pbw *v = attr_value(g);
    if (!v) return;
    pbw_int(v, 6, dtype);
    attr_commit(g, key);
}

void gdw_attr_int(gdw *g, const char *key, int64_t x) {
    pbw *v = attr_value(g);
    if (!v) return;
    pbw_int(v, 3, x);
    attr_commit(g, key);
}

void gdw_attr_float(gdw *g, const char *key, float x) {
    pbw *v = attr_value(g);
    if (!v) return;
    pbw_float(v, 4, x);
    attr_commit(g, key);
}

void gdw_attr_bool(gdw *g, const char *key, int b) {
    pbw *v = attr_value(g);
    if (!v) return;
    pbw_int(v, 5, b ? 1 : 0);
    attr_commit(g, key);
}

void gdw_attr_str(gdw *g, const char *key, const char *s) {
    pbw *v = attr_value(g);
    if (!v) return;
    pbw_str(v, 2, s);
    attr_commit(g, key);
}

void gdw_attr_ints(gdw *g, const char *key, const int64_t *x, size_t n) {
    pbw *v = attr_value(g);
    if (!v) return;
    pbw list;
    pbw_init(&list);
    if (n) pbw_packed_int(&list, 3, x, n);
    pbw_msg(v, 1, &list);
    pbw_free(&list);
    attr_commit(g, key);
}

void gdw_attr_shape(gdw *g, const char *key, const int64_t *dims, int rank) {
    pbw *v = attr_value(g);
    if (!v) return;
    pbw s;
    pbw_init(&s);
    pbw_shape(&s, dims, rank);
    pbw_msg(v, 7, &s);
    pbw_free(&s);
    attr_commit(g, key);
}

void gdw_attr_tensor(gdw *g, const char *key, int dtype, const int64_t *dims, int rank, const void *bytes,
                     size_t nbytes) {
    pbw *v = attr_value(g);
    if (!v) return;
    pbw t;
    pbw_init(&t);
    pbw_tensor(&t, dtype, dims, rank, bytes, nbytes);
    pbw_msg(v, 8, &t);
    pbw_free(&t);
    attr_commit(g, key);
}

void gdw_attr_raw(gdw *g, const char *key, const pbw *value) {
    if (!g->node) return;
    pbw_reset(&g->node->value);
    pbw_raw(&g->node->value, value->data, value->len);
    if (value->failed) g->node->value.failed = 1;
    attr_commit(g, key);
}

int gdw_node_end(gdw *g) {
    gdw_node *n = g->node;
    g->node = NULL;
    if (!n || !n->name || n->head.failed || n->attrs.failed || n->value.failed || n->entry.failed) {
        node_free(n);
        g->out.failed = 1;
        return -1;
    }
    if (gdw_has(g, n->name)) {
        node_free(n);
        return -1;
    }
    /* GraphDef.node = 1 */
    pbw_tag(&g->out, 1, 2);
    pbw_varint(&g->out, n->head.len + n->attrs.len);
    pbw_raw(&g->out, n->head.data, n->head.len);
    pbw_raw(&g->out, n->attrs.data, n->attrs.len);
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

static size_t elements(const int64_t *dims, int rank) {
    size_t n = 1;
    for (int i = 0; i < rank; i++) n *= (size_t)dims[i];
    return n;
}

int gdw_const_f32(gdw *g, const char *name, const int64_t *dims, int rank, const float *data) {
    gdw_node_begin(g, name, "Const");
    gdw_attr_type(g, "dtype", TF_FLOAT);
    gdw_attr_tensor(g, "value", TF_FLOAT, dims, rank, data, elements(dims, rank) * 4);
    return gdw_node_end(g);
}

int gdw_const_i32(gdw *g, const char *name, const int64_t *dims, int rank, const int32_t *data) {
    gdw_node_begin(g, name, "Const");
    gdw_attr_type(g, "dtype", TF_INT32);
    gdw_attr_tensor(g, "value", TF_INT32, dims, rank, data, elements(dims, rank) * 4);
    return gdw_node_end(g);
}

void gdw_finish(gdw *g, int producer) {
    pbw v;
    pbw_init(&v);
    pbw_int(&v, 1, producer);
    pbw_msg(&g->out, 4, &v);
    pbw_free(&v);
}
