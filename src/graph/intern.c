/* Deduplication of constant blocks across the plans of one model. */
#include <stdlib.h>
#include <string.h>

#include "graph/compile.h"
#include "graph/pages.h"

typedef struct {
    uint64_t hash;
    size_t size;
    void *p;
} fr_intern_entry;

/* Entries in an open-addressing table (slot = entry index + 1, 0 = empty),
 * keyed by a hash of the size and a sample of the bytes; equal blocks are
 * then confirmed with memcmp. */
struct fr_intern {
    fr_intern_entry *e;
    int n, cap;
    int *slot;
    size_t n_slots; /* power of two, > 2 n */
};

fr_intern *fr_intern_new(void) { return calloc(1, sizeof(fr_intern)); }

void fr_intern_free(fr_intern *t) {
    if (!t) return;
    for (int i = 0; i < t->n; i++) fr_pages_free_bytes(t->e[i].p, t->e[i].size);
    free(t->e);
    free(t->slot);
    free(t);
}

size_t fr_intern_bytes(const fr_intern *t) {
    size_t bytes = 0;
    for (int i = 0; t && i < t->n; i++) bytes += t->e[i].size;
    return bytes;
}

/* Hash of the size and of at most 64 evenly spaced 8-byte words (plus the
 * tail): constant time per block, however large the weights. */
static uint64_t hash_block(const void *p, size_t n) {
    const uint8_t *b = p;
    uint64_t h = 1469598103934665603ull ^ (uint64_t)n;
    size_t words = n / 8, step = words > 64 ? words / 64 : 1;
    for (size_t i = 0; i < words; i += step) {
        uint64_t w;
        memcpy(&w, b + i * 8, 8);
        h = (h ^ w) * 1099511628211ull;
        h ^= h >> 29;
    }
    for (size_t i = words * 8; i < n; i++) h = (h ^ b[i]) * 1099511628211ull;
    return h ^ (h >> 32);
}

static int table_grow(fr_intern *t) {
    size_t ns = t->n_slots ? t->n_slots * 2 : 256;
    int *slot = calloc(ns, sizeof *slot);
    if (!slot) return -1;
    for (int k = 0; k < t->n; k++) {
        size_t j = (size_t)t->e[k].hash & (ns - 1);
        while (slot[j]) j = (j + 1) & (ns - 1);
        slot[j] = k + 1;
    }
    free(t->slot);
    t->slot = slot;
    t->n_slots = ns;
    return 0;
}

static int table_find(const fr_intern *t, uint64_t h, const void *blk, size_t size) {
    if (!t->n_slots) return -1;
    for (size_t j = (size_t)h & (t->n_slots - 1); t->slot[j]; j = (j + 1) & (t->n_slots - 1)) {
        const fr_intern_entry *e = &t->e[t->slot[j] - 1];
        if (e->hash == h && e->size == size && !memcmp(e->p, blk, size)) return t->slot[j] - 1;
    }
    return -1;
}

typedef struct {
    const void *from, *to;
} remap;

static int cmp_remap(const void *a, const void *b) {
    uintptr_t x = (uintptr_t)((const remap *)a)->from, y = (uintptr_t)((const remap *)b)->from;
    return x < y ? -1 : x > y;
}

static void fix(const remap *map, int n, const float **ptr) {
    if (!*ptr) return;
    remap key = {*ptr, NULL};
    const remap *r = bsearch(&key, map, (size_t)n, sizeof *map, cmp_remap);
    if (r) *ptr = r->to;
}

/* Every constant-data pointer of the plan, visited by fn. */
static void each_data_ptr(fr_compiled *c, void (*fn)(void *ctx, const float **p), void *ctx) {
    for (int v = 0; v < c->plan.n_values; v++) fn(ctx, &c->values[v].data);
    for (int i = 0; i < c->plan.n_steps; i++) {
        fr_step *s = &c->steps[i];
        if (s->kind == FR_STEP_CONV)
            fn(ctx, &s->p.conv.weights), fn(ctx, &s->p.conv.bias), fn(ctx, &s->p.conv.weight_scale);
        if (s->kind == FR_STEP_MATMUL)
            fn(ctx, &s->p.matmul.weights), fn(ctx, &s->p.matmul.bias), fn(ctx, &s->p.matmul.weight_scale);
        if (s->kind == FR_STEP_SCALE_SHIFT) fn(ctx, &s->p.scale_shift.scale), fn(ctx, &s->p.scale_shift.shift);
    }
}

typedef struct {
    const void **ptrs;
    int n;
} ptr_set;

static void collect(void *ctx, const float **p) {
    ptr_set *s = ctx;
    if (*p) s->ptrs[s->n++] = *p;
}

/* Every constant-data pointer except conv / matmul weights. */
static void each_non_weight_ptr(fr_compiled *c, void (*fn)(void *ctx, const float **p), void *ctx) {
    for (int v = 0; v < c->plan.n_values; v++) fn(ctx, &c->values[v].data);
    for (int i = 0; i < c->plan.n_steps; i++) {
        fr_step *s = &c->steps[i];
        if (s->kind == FR_STEP_CONV) fn(ctx, &s->p.conv.bias), fn(ctx, &s->p.conv.weight_scale);
        if (s->kind == FR_STEP_MATMUL) fn(ctx, &s->p.matmul.bias), fn(ctx, &s->p.matmul.weight_scale);
        if (s->kind == FR_STEP_SCALE_SHIFT) fn(ctx, &s->p.scale_shift.scale), fn(ctx, &s->p.scale_shift.shift);
    }
}

typedef struct {
    const remap *map;
    int n;
} remap_ctx;

static void apply(void *ctx, const float **p) {
    remap_ctx *r = ctx;
    fix(r->map, r->n, p);
}

static int cmp_ptr(const void *a, const void *b) {
    uintptr_t x = (uintptr_t) * (const void *const *)a, y = (uintptr_t) * (const void *const *)b;
    return x < y ? -1 : x > y;
}

static frost_status intern(fr_compiled *c, fr_intern *t, int weights);

frost_status fr_compiled_intern(fr_compiled *c, fr_intern *t) { return intern(c, t, 1); }
frost_status fr_compiled_intern_except_weights(fr_compiled *c, fr_intern *t) { return intern(c, t, 0); }

static frost_status intern(fr_compiled *c, fr_intern *t, int weights) {
    ptr_set set = {malloc(sizeof(void *) * (size_t)(c->plan.n_values + 8 * c->plan.n_steps + 1)), 0};
    remap *map = malloc(sizeof *map * (size_t)(c->n_blocks + 1));
    if (!set.ptrs || !map) {
        free(set.ptrs), free(map);
        return FROST_E_NO_MEMORY;
    }
    if (weights) each_data_ptr(c, collect, &set);
    else each_non_weight_ptr(c, collect, &set);
    qsort(set.ptrs, (size_t)set.n, sizeof *set.ptrs, cmp_ptr);
    int nm = 0, kept = 0;
    for (int i = 0; i < c->n_blocks; i++) {
        void *blk = c->blocks[i];
        size_t size = c->block_sizes[i];
        /* only constant data (not step input lists or labels) */
        if (!bsearch(&blk, set.ptrs, (size_t)set.n, sizeof *set.ptrs, cmp_ptr)) {
            c->block_sizes[kept] = size;
            c->blocks[kept++] = blk;
            continue;
        }
        uint64_t h = hash_block(blk, size);
        int found = table_find(t, h, blk, size);
        if (found >= 0) {
            map[nm].from = blk;
            map[nm++].to = t->e[found].p;
            fr_pages_free_bytes(blk, size);
            continue;
        }
        if ((size_t)(t->n + 1) * 2 >= t->n_slots && table_grow(t) != 0) { /* keep it in the plan instead */
            c->block_sizes[kept] = size;
            c->blocks[kept++] = blk;
            continue;
        }
        if (t->n == t->cap) {
            int cap = t->cap ? 2 * t->cap : 64;
            fr_intern_entry *e = realloc(t->e, sizeof *e * (size_t)cap);
            if (!e) { /* keep it in the plan instead */
                c->block_sizes[kept] = size;
                c->blocks[kept++] = blk;
                continue;
            }
            t->e = e;
            t->cap = cap;
        }
        size_t j = (size_t)h & (t->n_slots - 1);
        while (t->slot[j]) j = (j + 1) & (t->n_slots - 1);
        t->slot[j] = t->n + 1;
        t->e[t->n++] = (fr_intern_entry){h, size, blk};
    }
    c->n_blocks = kept;
    qsort(map, (size_t)nm, sizeof *map, cmp_remap);
    remap_ctx rc = {map, nm};
    each_data_ptr(c, apply, &rc);
    free(map);
    free(set.ptrs);
    return FROST_OK;
}
