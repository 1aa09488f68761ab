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

void *fr_pool_alloc(fr_pool *pool, size_t size) {
    size = (size + 15) & ~(size_t)15;
    struct fr_pool_block *b = pool->head;
    if (!b || b->cap - b->used < size) {
        size_t cap = size > 65536 ? size : 65536;
        b = malloc(sizeof *b + cap);
        if (!b) return NULL;
        b->next = pool->head;
        b->used = 0;
        b->cap = cap;
        pool->head = b;
    }
    void *p = b->data + b->used;
    b->used += size;
    memset(p, 0, size);
    return p;
}

char *fr_pool_strndup(fr_pool *pool, const char *s, size_t n) {
    char *p = fr_pool_alloc(pool, n + 1);
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
