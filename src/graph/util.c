#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "graph/graph.h"

struct fr_pool_block {
    struct fr_pool_block *next;
    size_t used, cap;
    _Alignas(16) unsigned char data[];
};

/* size bytes at an address aligned to `align` (a power of two up to 16),
 * uninitialized. */
static void *pool_take(fr_pool *pool, size_t size, size_t align) {
    struct fr_pool_block *b = pool->head;
    if (size > SIZE_MAX / 2) return NULL;
    size_t at = b ? (b->used + align - 1) & ~(align - 1) : 0;
    if (!b || at > b->cap || b->cap - at < size) {
        size_t cap = size > 65536 ? size : 65536;
        b = malloc(sizeof *b + cap);
        if (!b) return NULL;
        b->next = pool->head;
        b->used = 0;
        b->cap = cap;
        pool->head = b;
        at = 0;
    }
    b->used = at + size;
    return b->data + at;
}

void *fr_pool_alloc(fr_pool *pool, size_t size) {
    void *p = pool_take(pool, size, 16);
    if (p) memset(p, 0, size);
    return p;
}

/* Strings are packed (no alignment): a graph's names are most of its pool. */
char *fr_pool_strndup(fr_pool *pool, const char *s, size_t n) {
    char *p = pool_take(pool, n + 1, 1);
    if (p) {
        memcpy(p, s, n);
        p[n] = 0;
    }
    return p;
}

void fr_pool_free(fr_pool *pool) {
    struct fr_pool_block *b = pool->head;
    while (b) {
        struct fr_pool_block *next = b->next;
        free(b);
        b = next;
    }
    pool->head = NULL;
}

void fr_errorf(char **err, const char *fmt, ...) {
    if (!err) return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) return;
    char *s = malloc((size_t)n + 1);
    if (!s) return;
    va_start(ap, fmt);
    vsnprintf(s, (size_t)n + 1, fmt, ap);
    va_end(ap);
    free(*err);
    *err = s;
}

static uint64_t fnv(uint64_t h, const void *p, size_t n) {
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++) h = (h ^ b[i]) * 0x100000001b3ull;
    return h;
}

static uint64_t fnv_str(uint64_t h, const char *s) { return fnv(h, s, strlen(s) + 1); }

uint64_t fr_graph_digest(const frost_graph *g) {
    uint64_t h = 0xcbf29ce484222325ull;
    for (int i = 0; i < g->n_nodes; i++) {
        const fr_node *n = &g->nodes[i];
        h = fnv_str(fnv_str(h, n->name), n->op);
        for (int k = 0; k < n->n_inputs; k++) h = fnv(fnv_str(h, n->inputs[k].name), &n->inputs[k].index, sizeof(int));
        int is_const = !strcmp(n->op, "Const");
        for (int k = 0; k < n->n_attrs; k++) {
            const fr_attr_ref *a = &n->attrs[k];
            if (is_const && !strcmp(a->key, "value")) continue;
            h = fnv(fnv_str(h, a->key), a->val, a->len);
        }
        fr_pb_tensor t;
        const char *why;
        if (is_const && fr_node_const_tensor(g, n, &t, &why) == 0) {
            /* dtype and shape; the values of other than float tensors (shapes, indices) */
            h = fnv(fnv(h, &t.dtype, sizeof t.dtype), &t.shape.rank, sizeof t.shape.rank);
            if (t.shape.rank > 0) h = fnv(h, t.shape.dims, sizeof(int64_t) * (size_t)t.shape.rank);
            if (t.dtype != FR_DT_FLOAT && t.dtype != FR_DT_HALF && t.dtype != FR_DT_DOUBLE) {
                if (t.content) h = fnv(h, t.content, t.content_len);
                else if (t.vals) h = fnv(h, t.raw, t.raw_len);
            }
        }
    }
    return h;
}
