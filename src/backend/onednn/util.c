/* oneDNN backend: small helpers (descriptors, attributes, errors, executions). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

void fr_dn_md_hwio(dnnl_memory_desc_t *md, const fr_conv_params *c) {
    dnnl_dims_t wd = {c->cout, c->cin, c->kh, c->kw};
    dnnl_memory_desc_init_by_tag(md, 4, wd, dnnl_f32, dnnl_hwio);
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

fr_dn_arg fr_dn_arg_scratch(const_dnnl_primitive_desc_t pd) {
    fr_dn_arg a = {.arg = DNNL_ARG_SCRATCHPAD, .bind = FR_DN_SCRATCH, .value = -1};
    const dnnl_memory_desc_t *m = dnnl_primitive_desc_query_md(pd, dnnl_query_scratchpad_md, 0);
    if (m) a.md = *m;
    return a;
}

frost_status fr_dn_make_reorder(fr_dn_build *b, dnnl_primitive_attr_t attr, const dnnl_memory_desc_t *from,
                                const dnnl_memory_desc_t *to, dnnl_primitive_t *prim_out, fr_dn_arg *scratch_out) {
    *prim_out = NULL;
    if (!attr && dnnl_memory_desc_equal(from, to)) return FROST_OK;
    dnnl_primitive_attr_t own = NULL;
    dnnl_primitive_desc_t pd = NULL;
    if (!attr) {
        FR_DN_TRY(b, dnnl_primitive_attr_create(&own));
        attr = own;
    }
    dnnl_primitive_attr_set_scratchpad_mode(attr, dnnl_scratchpad_mode_user);
    dnnl_status_t s = dnnl_reorder_primitive_desc_create(&pd, from, b->st->engine, to, b->st->engine, attr);
    dnnl_primitive_attr_destroy(own);
    if (s != dnnl_success) return fr_dn_fail(b->error, "dnnl_reorder_primitive_desc_create", s);
    const dnnl_memory_desc_t *sp = dnnl_primitive_desc_query_md(pd, dnnl_query_scratchpad_md, 0);
    size_t sp_bytes = sp ? dnnl_memory_desc_get_size(sp) : 0;
    if (sp_bytes > b->st->scratch_bytes) b->st->scratch_bytes = sp_bytes;
    *scratch_out = fr_dn_arg_scratch(pd);
    s = dnnl_primitive_create(prim_out, pd);
    dnnl_primitive_desc_destroy(pd);
    if (s != dnnl_success) return fr_dn_fail(b->error, "dnnl_primitive_create(reorder)", s);
    return FROST_OK;
}

frost_status fr_dn_make_pd(fr_dn_build *b, dnnl_primitive_desc_t *pd_out, const_dnnl_op_desc_t desc,
                           const_dnnl_primitive_attr_t attr) {
    *pd_out = NULL;
    dnnl_primitive_desc_t pd = NULL;
    dnnl_status_t s = dnnl_primitive_desc_create(&pd, desc, attr, b->st->engine, NULL);
    if (s == dnnl_unimplemented || s == dnnl_invalid_arguments) return FROST_OK;
    if (s != dnnl_success) return fr_dn_fail(b->error, "dnnl_primitive_desc_create", s);
    if (fr_dn_is_ref(pd)) {
        dnnl_primitive_desc_destroy(pd);
        return FROST_OK;
    }
    *pd_out = pd;
    return FROST_OK;
}
