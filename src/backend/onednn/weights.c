/* oneDNN backend: constant buffers (reordered weights, frost's kernels'
 * packed weights), built once and shared by the plans of every batch size of
 * a model (keyed by step name and layout), and the reorders that fill them. */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "backend/onednn/internal.h"

typedef struct {
    const float *scale;
    int n, mask;
} dn_scale;

static frost_status reorder_now(fr_dn_build *b, const dnnl_memory_desc_t *src_md, const void *src,
                                const dnnl_memory_desc_t *dst_md, void *buf, const dn_scale *sc);

static frost_status reorder_scaled(fr_dn_build *b, const dnnl_memory_desc_t *src_md, const void *src,
                                   const dn_scale *sc, const dnnl_memory_desc_t *dst_md, const void **out);

frost_status fr_dn_reorder_const(fr_dn_build *b, const dnnl_memory_desc_t *src_md, const void *src,
                                 const dnnl_memory_desc_t *dst_md, const void **out) {
    return reorder_scaled(b, src_md, src, NULL, dst_md, out);
}

frost_status fr_dn_reorder_weights(fr_dn_build *b, const dnnl_memory_desc_t *src_md, const void *src,
                                   const float *scale, int n_scale, int scale_mask, const dnnl_memory_desc_t *dst_md,
                                   const void **out) {
    dn_scale sc = {scale, n_scale, scale_mask};
    return reorder_scaled(b, src_md, src, scale ? &sc : NULL, dst_md, out);
}

typedef struct {
    const dnnl_memory_desc_t *src_md;
    const void *src;
    const dn_scale *sc;
    const dnnl_memory_desc_t *dst_md;
} dn_reorder_job;

static frost_status reorder_fill(fr_dn_build *b, void *buf, const void *ctx) {
    const dn_reorder_job *j = ctx;
    /* One thread: a weight reorder is short and memory-bound, and an OpenMP
     * team spinning at its barriers on a busy machine costs more than it
     * gains (measured: 10x slower compiles under load). */
    int prev = b->st->team.set_max_threads ? fr_team_max_threads(&b->st->team) : 0;
    if (prev > 1) fr_team_set_max_threads(&b->st->team, 1);
    frost_status st = reorder_now(b, j->src_md, j->src, j->dst_md, buf, j->sc);
    if (prev > 1) fr_team_set_max_threads(&b->st->team, prev);
    return st;
}

static frost_status reorder_scaled(fr_dn_build *b, const dnnl_memory_desc_t *src_md, const void *src,
                                   const dn_scale *sc, const dnnl_memory_desc_t *dst_md, const void **out) {
    dn_reorder_job j = {src_md, src, sc, dst_md};
    return fr_dn_const_make(b, dst_md, reorder_fill, &j, out);
}

#if defined(__SANITIZE_ADDRESS__)
#define DN_HEAP_ONLY 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define DN_HEAP_ONLY 1
#endif
#endif
#ifndef DN_HEAP_ONLY
#define DN_HEAP_ONLY 0
#endif

/* A model's weight buffer: from 1 MiB on, its own mapping with the pages
 * faulted in by the kernel in one go (MAP_POPULATE), which costs ~30 % less
 * than taking the page faults one by one as the fill writes (most of a load
 * is those page faults: ~0.8 ms per MB on the 2-core test machine).  Heap
 * blocks below that, and under AddressSanitizer, which checks heap blocks
 * only.  *map_len: the mapping's length, 0 for a heap block. */
static void *weights_alloc(size_t bytes, size_t *map_len) {
    *map_len = 0;
    if (!DN_HEAP_ONLY && bytes >= (size_t)1 << 20) {
        long ps = sysconf(_SC_PAGESIZE);
        size_t page = ps > 0 ? (size_t)ps : 4096, len = (bytes + page - 1) / page * page;
        void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
        if (p != MAP_FAILED) {
            *map_len = len;
            return p;
        }
    }
    return aligned_alloc(64, (bytes + 63) / 64 * 64);
}

void fr_dn_weights_free(void *buf, size_t map_len) {
    if (map_len) munmap(buf, map_len);
    else free(buf);
}

/* A new buffer of md's size, filled by fill(b, buf, ctx): a 64-byte aligned
 * heap block when map_len is NULL (free() it), else weights_alloc's
 * (fr_dn_weights_free(buf, *map_len)). */
static frost_status filled_buffer(fr_dn_build *b, const dnnl_memory_desc_t *md, fr_dn_fill_fn fill, const void *ctx,
                                  void **out, size_t *map_len) {
    size_t bytes = dnnl_memory_desc_get_size(md), len = 0;
    void *buf = map_len ? weights_alloc(bytes, &len) : aligned_alloc(64, (bytes + 63) / 64 * 64);
    *out = NULL;
    if (!buf) return FROST_E_NO_MEMORY;
    frost_status st = fill(b, buf, ctx);
    if (st != FROST_OK) {
        fr_dn_weights_free(buf, len);
        return st;
    }
    *out = buf;
    if (map_len) *map_len = len;
    return FROST_OK;
}

frost_status fr_dn_const_make(fr_dn_build *b, const dnnl_memory_desc_t *md, fr_dn_fill_fn fill, const void *ctx,
                              const void **out) {
    fr_dn_shared *sh = b->st->shared;
    const char *key = b->step->name ? b->step->name : "";
    if (!sh) {
        void *buf = NULL;
        frost_status st = filled_buffer(b, md, fill, ctx, &buf, NULL);
        if (st != FROST_OK) return st;
        if (fr_dn_own(b->st, buf) != FROST_OK) {
            free(buf);
            return FROST_E_NO_MEMORY;
        }
        *out = buf;
        return FROST_OK;
    }
    pthread_mutex_lock(&sh->lock);
    for (int i = 0; i < sh->n_w; i++)
        if (!strcmp(sh->w[i].key, key) && dnnl_memory_desc_equal(&sh->w[i].md, md)) {
            *out = sh->w[i].buf;
            pthread_mutex_unlock(&sh->lock);
            return FROST_OK;
        }
    pthread_mutex_unlock(&sh->lock);
    size_t map_len = 0;
    void *buf = NULL;
    frost_status st = filled_buffer(b, md, fill, ctx, &buf, &map_len);
    if (st != FROST_OK) return st;
    pthread_mutex_lock(&sh->lock);
    if (sh->n_w == sh->cap_w) {
        int cap = sh->cap_w ? sh->cap_w * 2 : 64;
        fr_dn_weights *w = realloc(sh->w, sizeof(*w) * (size_t)cap);
        if (w) {
            sh->w = w;
            sh->cap_w = cap;
        }
    }
    char *k = strdup(key);
    if (sh->n_w < sh->cap_w && k) {
        sh->w[sh->n_w++] = (fr_dn_weights){k, *md, buf, map_len};
        *out = buf;
        buf = NULL;
    } else {
        free(k);
        st = FROST_E_NO_MEMORY;
    }
    pthread_mutex_unlock(&sh->lock);
    if (buf) fr_dn_weights_free(buf, map_len);
    return st;
}

/* Scales (plain f32 `src` of src_md, the scaled dims outermost) into a new
 * buffer of the same layout: the fallback where oneDNN cannot scale. */
static float *scale_copy(const dnnl_memory_desc_t *src_md, const void *src, const dn_scale *sc) {
    size_t bytes = dnnl_memory_desc_get_size(src_md), n = bytes / sizeof(float);
    float *out = malloc(bytes + 4);
    if (!out) return NULL;
    /* src_md: dims (oc..., rest) with the scaled dims first: find each
     * element's scale index from its strides */
    const float *x = src;
    int nd = src_md->ndims;
    int64_t idx[DNNL_MAX_NDIMS] = {0};
    for (size_t k = 0; k < n; k++) {
        size_t off = 0, si = 0;
        for (int d = 0; d < nd; d++) {
            off += (size_t)(idx[d] * src_md->format_desc.blocking.strides[d]);
            if (sc->mask & (1 << d)) si = si * (size_t)src_md->dims[d] + (size_t)idx[d];
        }
        out[off] = x[off] * sc->scale[si];
        for (int d = nd - 1; d >= 0; d--) {
            if (++idx[d] < src_md->dims[d]) break;
            idx[d] = 0;
        }
    }
    return out;
}

static frost_status reorder_now(fr_dn_build *b, const dnnl_memory_desc_t *src_md, const void *src,
                                const dnnl_memory_desc_t *dst_md, void *buf, const dn_scale *sc) {
    dnnl_primitive_desc_t pd = NULL;
    dnnl_primitive_t prim = NULL;
    dnnl_memory_t ms = NULL, md = NULL;
    dnnl_stream_t stream = NULL;
    dnnl_primitive_attr_t attr = NULL;
    float *scaled = NULL;
    dnnl_status_t s = dnnl_success;
    if (sc) {
        s = dnnl_primitive_attr_create(&attr);
        if (s == dnnl_success) s = dnnl_primitive_attr_set_output_scales(attr, sc->n, sc->mask, sc->scale);
        if (s == dnnl_success)
            s = dnnl_reorder_primitive_desc_create(&pd, src_md, b->st->engine, dst_md, b->st->engine, attr);
        dnnl_primitive_attr_destroy(attr);
        if (s != dnnl_success || fr_dn_is_ref(pd)) { /* scale first, then a plain reorder */
            dnnl_primitive_desc_destroy(pd);
            pd = NULL;
            if (!(scaled = scale_copy(src_md, src, sc))) return FROST_E_NO_MEMORY;
            src = scaled;
            s = dnnl_success;
        }
    }
    if (!pd) s = dnnl_reorder_primitive_desc_create(&pd, src_md, b->st->engine, dst_md, b->st->engine, NULL);
    if (s == dnnl_success) s = dnnl_primitive_create(&prim, pd);
    if (s == dnnl_success) s = dnnl_memory_create(&ms, src_md, b->st->engine, (void *)(uintptr_t)src);
    if (s == dnnl_success) s = dnnl_memory_create(&md, dst_md, b->st->engine, buf);
    if (s == dnnl_success) s = dnnl_stream_create(&stream, b->st->engine, dnnl_stream_default_flags);
    if (s == dnnl_success) {
        dnnl_exec_arg_t args[2] = {{DNNL_ARG_FROM, ms}, {DNNL_ARG_TO, md}};
        s = dnnl_primitive_execute(prim, stream, 2, args);
        if (s == dnnl_success) s = dnnl_stream_wait(stream);
    }
    dnnl_stream_destroy(stream);
    dnnl_memory_destroy(ms);
    dnnl_memory_destroy(md);
    dnnl_primitive_destroy(prim);
    dnnl_primitive_desc_destroy(pd);
    free(scaled);
    if (s != dnnl_success) return fr_dn_fail(b->error, "weight reorder", s);
    return FROST_OK;
}
