/* oneDNN backend: constant buffers (reordered weights, frost's kernels'
 * packed weights), built once and shared by the plans of every batch size of
 * a model (keyed by step name and layout), and the reorders that fill them. */
#include <stdlib.h>
#include <string.h>

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

/* A new heap buffer of md's size filled by fill(b, buf, ctx) (free() it). */
static frost_status filled_buffer(fr_dn_build *b, const dnnl_memory_desc_t *md, fr_dn_fill_fn fill, const void *ctx,
                                  void **out) {
    size_t bytes = dnnl_memory_desc_get_size(md);
    void *buf = aligned_alloc(64, (bytes + 63) / 64 * 64);
    *out = NULL;
    if (!buf) return FROST_E_NO_MEMORY;
    frost_status st = fill(b, buf, ctx);
    if (st != FROST_OK) {
        free(buf);
        return st;
    }
    *out = buf;
    return FROST_OK;
}

/* The model's buffer of step `key`'s weights in layout md, NULL (under sh->lock). */
static void *find_weights(const fr_dn_shared *sh, const char *key, const dnnl_memory_desc_t *md) {
    for (int i = 0; i < sh->n_w; i++)
        if (!strcmp(sh->w[i].key, key) && dnnl_memory_desc_equal(&sh->w[i].md, md)) return sh->w[i].buf;
    return NULL;
}

frost_status fr_dn_const_make(fr_dn_build *b, const dnnl_memory_desc_t *md, fr_dn_fill_fn fill, const void *ctx,
                              const void **out) {
    fr_dn_shared *sh = b->st->shared;
    const char *key = b->step->name ? b->step->name : "";
    if (!sh) {
        void *buf = NULL;
        frost_status st = filled_buffer(b, md, fill, ctx, &buf);
        if (st != FROST_OK) return st;
        if (fr_dn_own(b->st, buf) != FROST_OK) {
            free(buf);
            return FROST_E_NO_MEMORY;
        }
        *out = buf;
        return FROST_OK;
    }
    pthread_mutex_lock(&sh->lock);
    if ((*out = find_weights(sh, key, md))) {
        pthread_mutex_unlock(&sh->lock);
        return FROST_OK;
    }
    /* from the model's slab (huge pages, freed with the model), filled
     * outside the lock; lost to the slab if the fill fails or another thread
     * made the same weights meanwhile */
    void *buf = fr_slab_alloc(&sh->slab, dnnl_memory_desc_get_size(md));
    pthread_mutex_unlock(&sh->lock);
    if (!buf) return FROST_E_NO_MEMORY;
    frost_status st = fill(b, buf, ctx);
    if (st != FROST_OK) return st;
    pthread_mutex_lock(&sh->lock);
    if ((*out = find_weights(sh, key, md))) {
        pthread_mutex_unlock(&sh->lock);
        return FROST_OK;
    }
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
        sh->w[sh->n_w++] = (fr_dn_weights){k, *md, buf};
        *out = buf;
    } else {
        free(k);
        st = FROST_E_NO_MEMORY;
    }
    pthread_mutex_unlock(&sh->lock);
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
