/* oneDNN backend: small helpers (descriptors, attributes, errors, reordered weights). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "backend/onednn/internal.h"

static const char *status_name(dnnl_status_t s) {
    switch (s) {
    case dnnl_success: return "success";
    case dnnl_out_of_memory: return "out of memory";
    case dnnl_invalid_arguments: return "invalid arguments";
    case dnnl_unimplemented: return "unimplemented";
    case dnnl_iterator_ends: return "iterator ends";
    case dnnl_runtime_error: return "runtime error";
    case dnnl_not_required: return "not required";
    default: return "unknown status";
    }
}

frost_status fr_dn_fail(char **error, const char *what, dnnl_status_t s) {
    if (error && !*error) {
        const char *fmt = "oneDNN call %s failed: %s";
        int n = snprintf(NULL, 0, fmt, what, status_name(s));
        char *m = malloc((size_t)n + 1);
        if (m) snprintf(m, (size_t)n + 1, fmt, what, status_name(s));
        *error = m;
    }
    return s == dnnl_out_of_memory ? FROST_E_NO_MEMORY : FROST_E_BACKEND;
}

void fr_dn_md_plain(dnnl_memory_desc_t *md, int rank, const int64_t *dims, dnnl_data_type_t dt) {
    dnnl_dims_t d, s;
    int nd = rank > 0 ? rank : 1;
    if (rank <= 0) {
        d[0] = 1;
    } else {
        for (int i = 0; i < rank; i++) d[i] = dims[i];
    }
    int64_t stride = 1;
    for (int i = nd - 1; i >= 0; i--) {
        s[i] = stride;
        stride *= d[i];
    }
    dnnl_memory_desc_init_by_strides(md, nd, d, dt, s);
}

void fr_dn_md_nhwc(dnnl_memory_desc_t *md, int64_t n, int64_t c, int64_t h, int64_t w, dnnl_data_type_t dt) {
    dnnl_dims_t d = {n, c, h, w};
    dnnl_dims_t s = {h * w * c, 1, w * c, c};
    dnnl_memory_desc_init_by_strides(md, 4, d, dt, s);
}

dnnl_data_type_t fr_dn_value_dt(const fr_dn_state *st, int id) {
    return st->value_dt ? st->value_dt[id] : dnnl_f32;
}

frost_status fr_dn_add_exec(fr_dn_build *b, dnnl_primitive_t prim, const fr_dn_arg *args, int n_args) {
    fr_dn_step *o = b->out;
    fr_dn_exec *e = realloc(o->execs, sizeof(*e) * (size_t)(o->n_execs + 1));
    fr_dn_arg *a = malloc(sizeof(*a) * (size_t)(n_args > 0 ? n_args : 1));
    if (!e || !a) {
        if (e) o->execs = e;
        free(a);
        dnnl_primitive_destroy(prim);
        return FROST_E_NO_MEMORY;
    }
    o->execs = e;
    memcpy(a, args, sizeof(*a) * (size_t)n_args);
    e[o->n_execs] = (fr_dn_exec){.prim = prim, .n_args = n_args, .args = a};
    o->n_execs++;
    return FROST_OK;
}

const char *fr_dn_impl(const_dnnl_primitive_desc_t pd) {
    const char *impl = NULL;
    dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &impl);
    return impl ? impl : "?";
}

int fr_dn_is_ref(const_dnnl_primitive_desc_t pd) {
    return strncmp(fr_dn_impl(pd), "ref", 3) == 0;
}

frost_status fr_dn_make_prim(fr_dn_build *b, dnnl_primitive_desc_t pd, dnnl_primitive_t *prim) {
    const char *impl = fr_dn_impl(pd);
    *prim = NULL;
    const dnnl_memory_desc_t *sp = dnnl_primitive_desc_query_md(pd, dnnl_query_scratchpad_md, 0);
    size_t sp_bytes = sp ? dnnl_memory_desc_get_size(sp) : 0;
    if (sp_bytes > b->st->scratch_bytes) b->st->scratch_bytes = sp_bytes;
    if (!b->out->kernel) {
        size_t n = strlen(impl) + 8;
        b->out->kernel = malloc(n);
        if (!b->out->kernel) return FROST_E_NO_MEMORY;
        snprintf(b->out->kernel, n, "onednn:%s", impl);
    }
    FR_DN_TRY(b, dnnl_primitive_create(prim, pd));
    return FROST_OK;
}

frost_status fr_dn_own(fr_dn_state *st, void *p) {
    if (st->n_owned == st->cap_owned) {
        int cap = st->cap_owned ? st->cap_owned * 2 : 64;
        void **o = realloc(st->owned, sizeof(*o) * (size_t)cap);
        if (!o) return FROST_E_NO_MEMORY;
        st->owned = o;
        st->cap_owned = cap;
    }
    st->owned[st->n_owned++] = p;
    return FROST_OK;
}

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

void fr_dn_md_hwio(dnnl_memory_desc_t *md, const fr_conv_params *c) {
    dnnl_dims_t wd = {c->cout, c->cin, c->kh, c->kw};
    dnnl_memory_desc_init_by_tag(md, 4, wd, dnnl_f32, dnnl_hwio);
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

size_t fr_dn_temp(fr_dn_build *b, size_t bytes, size_t *cursor) {
    size_t off = *cursor;
    *cursor += (bytes + 63) / 64 * 64;
    if (*cursor > b->st->temp_bytes) b->st->temp_bytes = *cursor;
    return off;
}

frost_status fr_dn_attr(fr_dn_build *b, const dnnl_memory_desc_t *res_md, fr_act act, float alpha,
                        dnnl_primitive_attr_t *attr_out) {
    dnnl_primitive_attr_t attr = NULL;
    dnnl_post_ops_t po = NULL;
    *attr_out = NULL;
    FR_DN_TRY(b, dnnl_primitive_attr_create(&attr));
    dnnl_status_t s = dnnl_primitive_attr_set_scratchpad_mode(attr, dnnl_scratchpad_mode_user);
    if (s == dnnl_success && (res_md || act != FR_ACT_NONE)) {
        s = dnnl_post_ops_create(&po);
        if (s == dnnl_success && res_md) s = dnnl_post_ops_append_binary(po, dnnl_binary_add, res_md);
        if (s == dnnl_success) {
            switch (act) {
            case FR_ACT_NONE: break;
            case FR_ACT_RELU: s = dnnl_post_ops_append_eltwise(po, 1.f, dnnl_eltwise_relu, 0.f, 0.f); break;
            case FR_ACT_RELU6: s = dnnl_post_ops_append_eltwise(po, 1.f, dnnl_eltwise_clip, 0.f, 6.f); break;
            case FR_ACT_LEAKY: s = dnnl_post_ops_append_eltwise(po, 1.f, dnnl_eltwise_relu, alpha, 0.f); break;
            case FR_ACT_SIGMOID: s = dnnl_post_ops_append_eltwise(po, 1.f, dnnl_eltwise_logistic, 0.f, 0.f); break;
            case FR_ACT_TANH: s = dnnl_post_ops_append_eltwise(po, 1.f, dnnl_eltwise_tanh, 0.f, 0.f); break;
            default: s = dnnl_unimplemented; break;
            }
        }
        if (s == dnnl_success) s = dnnl_primitive_attr_set_post_ops(attr, po);
        dnnl_post_ops_destroy(po);
    }
    if (s != dnnl_success) {
        dnnl_primitive_attr_destroy(attr);
        return fr_dn_fail(b->error, "primitive attributes", s);
    }
    *attr_out = attr;
    return FROST_OK;
}
