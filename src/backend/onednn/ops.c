/* oneDNN backend: one builder per plan step kind.
 *
 * Activations stay NHWC (dense row-major in TensorFlow order) in the arena:
 * oneDNN 2.6's fastest FP32 kernels (brgconv) read and write NHWC directly,
 * so no reorders are needed between steps.  Weights are reordered once into
 * the layout the primitive picks (format "any").  A bf16 step converts an f32
 * input into a temporary first.  Convolutions and pooling run frost's own
 * kernels (src/kernels/, through kernels.c) where the selection picks them.
 */
#include <stdlib.h>
#include <string.h>

#include "backend/onednn/internal.h"

#define ARG_VALUE(a, id, m) ((fr_dn_arg){.arg = (a), .bind = FR_DN_VALUE, .value = (id), .md = (m)})
#define ARG_PTR(a, p, m) ((fr_dn_arg){.arg = (a), .bind = FR_DN_PTR, .value = -1, .ptr = (p), .md = (m)})
#define ARG_TEMP(a, off, m) ((fr_dn_arg){.arg = (a), .bind = FR_DN_TEMP, .value = -1, .offset = (off), .md = (m)})

static const fr_value *val(const fr_dn_build *b, int id) {
    return &b->plan->values[id];
}

/* Creates the primitive of pd (destroying pd) and appends it with args. */
static frost_status emit(fr_dn_build *b, dnnl_primitive_desc_t pd, fr_dn_arg *args, int n_args) {
    dnnl_primitive_t prim = NULL;
    args[n_args++] = fr_dn_arg_scratch(pd);
    frost_status st = fr_dn_make_prim(b, pd, &prim);
    dnnl_primitive_desc_destroy(pd);
    if (st != FROST_OK) return st;
    return fr_dn_add_exec(b, prim, args, n_args);
}

/* A primitive without post-ops from the step's first input (src, as xmd) to
 * its output (dst, as ymd): reductions, softmax, eltwise.  FROST_OK without
 * a primitive where oneDNN has no implementation (the reference runs it). */
static frost_status emit_src_dst(fr_dn_build *b, const_dnnl_op_desc_t desc, const dnnl_memory_desc_t *xmd,
                                 const dnnl_memory_desc_t *ymd) {
    const fr_step *s = b->step;
    dnnl_primitive_attr_t attr = NULL;
    frost_status st = fr_dn_attr(b, NULL, FR_ACT_NONE, 0.f, &attr);
    if (st != FROST_OK) return st;
    dnnl_primitive_desc_t pd = NULL;
    st = fr_dn_make_pd(b, &pd, desc, attr);
    dnnl_primitive_attr_destroy(attr);
    if (st != FROST_OK || !pd) return st;
    fr_dn_arg args[3] = {ARG_VALUE(DNNL_ARG_SRC, s->inputs[0], *xmd), ARG_VALUE(DNNL_ARG_DST, s->output, *ymd)};
    return emit(b, pd, args, 2);
}

static int pad_dims(const fr_value *v, int rank, int64_t *dims) {
    int off = rank - v->rank;
    if (off < 0) return 0;
    for (int i = 0; i < rank; i++) dims[i] = i < off ? 1 : v->dims[i - off];
    return 1;
}

/* ---------------------------------------------------------------- conv --- */

/* frost's kernel in place of oneDNN where the selection (src/kernels/select.c)
 * picks one, given what oneDNN would run (pick); FROST_OK with nothing built
 * otherwise. */
static frost_status build_own_conv(fr_dn_build *b, fr_kernels_pick pick) {
    fr_kernels_policy pol = fr_dn_policy(b->st);
    fr_kernels_facts facts = fr_dn_facts(b->st, pick);
    fr_conv_choice ch = fr_kernels_select_conv(&pol, b->plan, b->step, &facts);
    return ch.impl == FR_CONV_BACKEND ? FROST_OK : fr_dn_build_own_conv(b, &ch);
}

/* int8 precision: a step with int8_scale runs in int8 where oneDNN can (one
 * with out_quant nowhere else); the f32 paths take f32 values only.  1 when
 * the caller is done (*st says how), 0 to go on with f32. */
static int int8_first(fr_dn_build *b, const fr_step *s, const fr_fake_quant_params *out_quant, frost_status *st) {
    *st = FROST_OK;
    if (!fr_dn_is_int8(b->st)) return 0;
    *st = fr_dn_build_int8(b);
    return *st != FROST_OK || b->out->n_execs || out_quant || fr_dn_value_dt(b->st, s->inputs[0]) != dnnl_f32 ||
           fr_dn_value_dt(b->st, s->output) != dnnl_f32;
}

static frost_status build_conv(fr_dn_build *b) {
    frost_status i8;
    if (int8_first(b, b->step, b->step->p.conv.out_quant, &i8)) return i8;
    /* --winograd: frost's Winograd kernels where they pay, before oneDNN is asked */
    frost_status own = build_own_conv(b, FR_PICK_UNKNOWN);
    if (own != FROST_OK || b->out->n_execs) return own;
    const fr_step *s = b->step;
    const fr_conv_params *c = &s->p.conv;
    const fr_value *x = val(b, s->inputs[0]), *y = val(b, s->output);
    if (x->rank != 4 || y->rank != 4 || x->kind != FR_VALUE_ARENA) return FROST_OK;
    int dw = c->groups != 1;
    if (dw && c->groups != c->cin) return FROST_OK;
    if (c->cout % c->groups) return FROST_OK;
    int64_t n = x->dims[0], ih = x->dims[1], iw = x->dims[2], oh = y->dims[1], ow = y->dims[2];
    /* Storage types of the values, and the compute type: bf16 precision
     * converts an f32 input to bf16 (in a temporary) before the convolution. */
    dnnl_data_type_t xdt = fr_dn_value_dt(b->st, s->inputs[0]), ydt = fr_dn_value_dt(b->st, s->output);
    dnnl_data_type_t cdt = fr_dn_is_bf16(b->st) ? dnnl_bf16 : dnnl_f32;

    dnnl_memory_desc_t xval, yval, xmd, wmd, bmd, rmd, wuser;
    fr_dn_md_nhwc(&xval, n, c->cin, ih, iw, xdt);
    fr_dn_md_nhwc(&yval, n, c->cout, oh, ow, ydt);
    fr_dn_md_nhwc(&xmd, n, c->cin, ih, iw, cdt);
    if (!dw) {
        fr_dn_md_hwio(&wuser, c);
        dnnl_memory_desc_init_by_tag(&wmd, 4, wuser.dims, cdt, dnnl_format_tag_any);
    } else {
        int64_t mult = c->cout / c->cin;
        dnnl_dims_t wd = {c->cin, mult, 1, c->kh, c->kw};
        dnnl_dims_t ws = {mult, 1, mult, (int64_t)c->kw * c->cin * mult, (int64_t)c->cin * mult};
        dnnl_memory_desc_init_by_tag(&wmd, 5, wd, cdt, dnnl_format_tag_any);
        dnnl_memory_desc_init_by_strides(&wuser, 5, wd, dnnl_f32, ws);
    }
    dnnl_dims_t bd = {c->cout};
    dnnl_memory_desc_init_by_tag(&bmd, 1, bd, dnnl_f32, dnnl_a);
    int res = c->residual >= 0;
    if (res) {
        const fr_value *r = val(b, c->residual);
        if (r->count != y->count) return FROST_OK;
        fr_dn_md_nhwc(&rmd, n, c->cout, oh, ow, fr_dn_value_dt(b->st, c->residual));
    }

    dnnl_dims_t strides = {c->stride_h, c->stride_w}, dil = {c->dil_h - 1, c->dil_w - 1};
    dnnl_dims_t pl = {c->pad_top, c->pad_left}, pr = {c->pad_bottom, c->pad_right};
    dnnl_primitive_attr_t attr = NULL;
    frost_status st = fr_dn_attr(b, res ? &rmd : NULL, c->act, c->alpha, &attr);
    if (st != FROST_OK) return st;
    dnnl_primitive_desc_t pd = NULL;
    dnnl_convolution_desc_t cd;
    dnnl_status_t ds = dnnl_dilated_convolution_forward_desc_init(&cd, dnnl_forward_inference, dnnl_convolution_direct,
                                                                  &xmd, &wmd, c->bias ? &bmd : NULL, &yval, strides,
                                                                  dil, pl, pr);
    if (ds == dnnl_success) st = fr_dn_make_pd(b, &pd, &cd, attr);
    dnnl_primitive_attr_destroy(attr);
    if (st != FROST_OK || !pd) return st;
    /* frost's kernels in place of oneDNN's AVX2 or AVX-512 direct kernel where
     * they were measured to beat it (src/kernels/select.c) */
    const char *impl = fr_dn_impl(pd);
    st = build_own_conv(b, !strcmp(impl, "jit:avx2")                ? FR_PICK_AVX2_DIRECT
                           : !strncmp(impl, "brgconv:avx512", 14) || !strncmp(impl, "jit:avx512", 10)
                               ? FR_PICK_AVX512_DIRECT
                                                                  : FR_PICK_OTHER);
    if (st != FROST_OK || b->out->n_execs) {
        dnnl_primitive_desc_destroy(pd);
        return st;
    }

    /* Weights: reordered once into the layout the primitive chose. */
    const void *wbuf = NULL;
    dnnl_memory_desc_t wfinal = *dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 0);
    const void *wsrc = c->weights ? (const void *)c->weights : c->weights_raw; /* raw: unaligned f32 bytes */
    if (!wsrc) {
        dnnl_primitive_desc_destroy(pd);
        return FROST_OK;
    }
    st = fr_dn_reorder_weights(b, &wuser, wsrc, c->weight_scale, c->cout, dw ? 3 : 1, &wfinal, &wbuf);
    if (st != FROST_OK) {
        dnnl_primitive_desc_destroy(pd);
        return st;
    }
    /* The source as the primitive wants it (bf16: a conversion of the f32
     * value into a temporary); the destination is the value itself. */
    dnnl_memory_desc_t xin = *dnnl_primitive_desc_query_md(pd, dnnl_query_src_md, 0);
    int x_direct = dnnl_memory_desc_equal(&xin, &xval);

    size_t cursor = 0, xoff = 0;
    dnnl_primitive_t conv = NULL, rin = NULL;
    fr_dn_arg rin_sp;
    st = fr_dn_make_prim(b, pd, &conv);
    fr_dn_arg args[8];
    int na = 0;
    if (!x_direct) xoff = fr_dn_temp(b, dnnl_memory_desc_get_size(&xin), &cursor);
    args[na++] = x_direct ? ARG_VALUE(DNNL_ARG_SRC, s->inputs[0], xval) : ARG_TEMP(DNNL_ARG_SRC, xoff, xin);
    args[na++] = ARG_PTR(DNNL_ARG_WEIGHTS, wbuf, wfinal);
    if (c->bias) args[na++] = ARG_PTR(DNNL_ARG_BIAS, c->bias, bmd);
    args[na++] = ARG_VALUE(DNNL_ARG_DST, s->output, yval);
    if (res) args[na++] = ARG_VALUE(DNNL_ARG_ATTR_MULTIPLE_POST_OP(0) | DNNL_ARG_SRC_1, c->residual, rmd);
    args[na++] = fr_dn_arg_scratch(pd);
    dnnl_primitive_desc_destroy(pd);
    if (st == FROST_OK && !x_direct) st = fr_dn_make_reorder(b, NULL, &xval, &xin, &rin, &rin_sp);
    if (st != FROST_OK) {
        dnnl_primitive_destroy(conv);
        dnnl_primitive_destroy(rin);
        return st;
    }
    if (rin) {
        fr_dn_arg ra[3] = {ARG_VALUE(DNNL_ARG_FROM, s->inputs[0], xval), ARG_TEMP(DNNL_ARG_TO, xoff, xin), rin_sp};
        st = fr_dn_add_exec(b, rin, ra, 3);
    }
    frost_status st2 = fr_dn_add_exec(b, conv, args, na);
    if (st == FROST_OK) st = st2;
    b->out->own_weights = 1;
    return st;
}

/* -------------------------------------------------------------- matmul --- */

static frost_status build_matmul(fr_dn_build *b) {
    const fr_step *s = b->step;
    const fr_matmul_params *m = &s->p.matmul;
    frost_status i8;
    if (int8_first(b, s, m->out_quant, &i8)) return i8;
    const fr_value *a = val(b, s->inputs[0]), *y = val(b, s->output);
    if (!m->weights || a->kind != FR_VALUE_ARENA) return FROST_OK;
    if (a->count != (size_t)m->m * (size_t)m->k || y->count != (size_t)m->m * (size_t)m->n) return FROST_OK;
    dnnl_data_type_t adt = fr_dn_value_dt(b->st, s->inputs[0]), ydt = fr_dn_value_dt(b->st, s->output);
    dnnl_data_type_t cdt = fr_dn_is_bf16(b->st) ? dnnl_bf16 : dnnl_f32;
    dnnl_memory_desc_t aval, amd, ymd, wmd, wuser, bmd, rmd;
    int64_t ad[2] = {m->m, m->k}, yd[2] = {m->m, m->n};
    fr_dn_md_plain(&aval, 2, ad, adt);
    fr_dn_md_plain(&amd, 2, ad, cdt);
    fr_dn_md_plain(&ymd, 2, yd, ydt);
    dnnl_dims_t wd = {m->n, m->k}, ws = {1, m->n}, bd = {m->n};
    dnnl_memory_desc_init_by_tag(&wmd, 2, wd, cdt, dnnl_format_tag_any);
    dnnl_memory_desc_init_by_strides(&wuser, 2, wd, dnnl_f32, ws);
    dnnl_memory_desc_init_by_tag(&bmd, 1, bd, dnnl_f32, dnnl_a);
    int res = m->residual >= 0;
    if (res) {
        if (val(b, m->residual)->count != y->count) return FROST_OK;
        fr_dn_md_plain(&rmd, 2, yd, fr_dn_value_dt(b->st, m->residual));
    }
    dnnl_inner_product_desc_t d;
    FR_DN_TRY(b, dnnl_inner_product_forward_desc_init(&d, dnnl_forward_inference, &amd, &wmd, m->bias ? &bmd : NULL,
                                                      &ymd));
    dnnl_primitive_attr_t attr = NULL;
    frost_status st = fr_dn_attr(b, res ? &rmd : NULL, m->act, m->alpha, &attr);
    if (st != FROST_OK) return st;
    dnnl_primitive_desc_t pd = NULL;
    st = fr_dn_make_pd(b, &pd, &d, attr);
    dnnl_primitive_attr_destroy(attr);
    if (st != FROST_OK || !pd) return st;
    const void *wbuf = NULL;
    dnnl_memory_desc_t wfinal = *dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 0);
    st = fr_dn_reorder_weights(b, &wuser, m->weights, m->weight_scale, m->n, 1, &wfinal, &wbuf);
    if (st != FROST_OK) {
        dnnl_primitive_desc_destroy(pd);
        return st;
    }
    fr_dn_arg args[8];
    int na = 0;
    if (adt != cdt) { /* bf16: convert the f32 input into a temporary first */
        size_t cursor = 0, off = fr_dn_temp(b, dnnl_memory_desc_get_size(&amd), &cursor);
        dnnl_primitive_t rin = NULL;
        fr_dn_arg sp;
        st = fr_dn_make_reorder(b, NULL, &aval, &amd, &rin, &sp);
        if (st == FROST_OK) {
            fr_dn_arg ra[3] = {ARG_VALUE(DNNL_ARG_FROM, s->inputs[0], aval), ARG_TEMP(DNNL_ARG_TO, off, amd), sp};
            st = fr_dn_add_exec(b, rin, ra, 3);
        }
        if (st != FROST_OK) {
            dnnl_primitive_desc_destroy(pd);
            return st;
        }
        args[na++] = ARG_TEMP(DNNL_ARG_SRC, off, amd);
    } else {
        args[na++] = ARG_VALUE(DNNL_ARG_SRC, s->inputs[0], amd);
    }
    args[na++] = ARG_PTR(DNNL_ARG_WEIGHTS, wbuf, wfinal);
    if (m->bias) args[na++] = ARG_PTR(DNNL_ARG_BIAS, m->bias, bmd);
    args[na++] = ARG_VALUE(DNNL_ARG_DST, s->output, ymd);
    if (res) args[na++] = ARG_VALUE(DNNL_ARG_ATTR_MULTIPLE_POST_OP(0) | DNNL_ARG_SRC_1, m->residual, rmd);
    b->out->own_weights = 1;
    return emit(b, pd, args, na);
}

/* ---------------------------------------------------------------- pool --- */

/* Pooling of an NHWC value, then + bias (per channel, NULL: none) and act. */
static frost_status build_pool_nhwc(fr_dn_build *b, dnnl_alg_kind_t alg, int kh, int kw, int sh, int sw, int pt,
                                    int pb, int pleft, int pright, const float *bias, fr_act act, float alpha) {
    const fr_step *s = b->step;
    const fr_value *x = val(b, s->inputs[0]), *y = val(b, s->output);
    if (x->rank != 4 || x->kind != FR_VALUE_ARENA) return FROST_OK;
    int64_t n = x->dims[0], c = x->dims[3];
    int64_t oh = (x->dims[1] + pt + pb - kh) / sh + 1, ow = (x->dims[2] + pleft + pright - kw) / sw + 1;
    if ((size_t)(n * oh * ow * c) != y->count) return FROST_OK;
    dnnl_memory_desc_t xmd, ymd;
    /* int8: an average of u8 values into f32, from an f32 copy (exact) */
    dnnl_data_type_t xdt = fr_dn_value_dt(b->st, s->inputs[0]), ydt = fr_dn_value_dt(b->st, s->output);
    int deq = xdt == dnnl_u8 && ydt == dnnl_f32 && alg != dnnl_pooling_max;
    if (fr_dn_is_int8(b->st) && xdt != ydt && !deq) return FROST_OK;
    fr_dn_md_nhwc(&xmd, n, c, x->dims[1], x->dims[2], deq ? dnnl_f32 : xdt);
    fr_dn_md_nhwc(&ymd, n, c, oh, ow, fr_dn_value_dt(b->st, s->output));
    dnnl_dims_t st_ = {sh, sw}, k = {kh, kw}, pl = {pt, pleft}, pr = {pb, pright};
    dnnl_pooling_desc_t d;
    FR_DN_TRY(b, dnnl_pooling_forward_desc_init(&d, dnnl_forward_inference, alg, &xmd, &ymd, st_, k, pl, pr));
    dnnl_memory_desc_t bmd;
    fr_dn_md_nhwc(&bmd, 1, c, 1, 1, dnnl_f32);
    dnnl_primitive_attr_t attr = NULL;
    frost_status st = fr_dn_attr(b, bias ? &bmd : NULL, act, alpha, &attr);
    if (st != FROST_OK) return st;
    dnnl_primitive_desc_t pd = NULL;
    st = fr_dn_make_pd(b, &pd, &d, attr);
    dnnl_primitive_attr_destroy(attr);
    if (st != FROST_OK || !pd) return st;
    fr_dn_arg args[4] = {ARG_VALUE(DNNL_ARG_SRC, s->inputs[0], xmd), ARG_VALUE(DNNL_ARG_DST, s->output, ymd)};
    if (deq) {
        size_t cursor = 0, off = fr_dn_temp(b, dnnl_memory_desc_get_size(&xmd), &cursor);
        args[0] = ARG_TEMP(DNNL_ARG_SRC, off, xmd);
        st = fr_dn_add_dequantize(b, s->inputs[0], &xmd, off);
        if (st != FROST_OK) {
            dnnl_primitive_desc_destroy(pd);
            return st;
        }
    }
    int na = 2;
    if (bias) args[na++] = ARG_PTR(DNNL_ARG_ATTR_MULTIPLE_POST_OP(0) | DNNL_ARG_SRC_1, bias, bmd);
    return emit(b, pd, args, na);
}

static frost_status build_pool(fr_dn_build *b) {
    const fr_pool_params *p = &b->step->p.pool;
    /* frost's NHWC kernel first (f32); oneDNN's for bf16 values */
    fr_kernels_policy pol = fr_dn_policy(b->st);
    fr_kernels_facts facts = fr_dn_facts(b->st, FR_PICK_UNKNOWN);
    /* f32: frost's kernel where it pays; int8: u8 codes to u8 codes on
     * frost's u8 kernel where it pays (fr_kernels_select_pool_u8) */
    dnnl_data_type_t xdt = fr_dn_value_dt(b->st, b->step->inputs[0]), ydt = fr_dn_value_dt(b->st, b->step->output);
    if (xdt == dnnl_f32 && fr_kernels_select_pool(&pol, b->plan, b->step, &facts)) return fr_dn_build_own_pool(b);
    if (xdt == dnnl_u8 && ydt == dnnl_u8 && fr_kernels_select_pool_u8(&pol, b->plan, b->step, &facts))
        return fr_dn_build_own_pool_u8(b);
    /* TensorFlow's AvgPool divides by the in-bounds elements: exclude_padding. */
    dnnl_alg_kind_t alg = p->op == FR_POOL_MAX ? dnnl_pooling_max : dnnl_pooling_avg_exclude_padding;
    return build_pool_nhwc(b, alg, p->kh, p->kw, p->stride_h, p->stride_w, p->pad_top, p->pad_bottom, p->pad_left,
                           p->pad_right, p->bias, p->act, p->alpha);
}

/* -------------------------------------------------------------- reduce --- */

static frost_status build_reduce(fr_dn_build *b) {
    const fr_step *s = b->step;
    const fr_reduce_params *r = &s->p.reduce;
    const fr_value *x = val(b, s->inputs[0]);
    if (x->kind != FR_VALUE_ARENA || x->rank < 1) return FROST_OK;
    /* Global pooling over H and W of NHWC: the pooling kernels are fastest. */
    if (x->rank == 4 && r->axes_mask == 6u && (r->op == FR_RED_MEAN || r->op == FR_RED_MAX))
        return build_pool_nhwc(b, r->op == FR_RED_MEAN ? dnnl_pooling_avg_exclude_padding : dnnl_pooling_max,
                               (int)x->dims[1], (int)x->dims[2], 1, 1, 0, 0, 0, 0, NULL, FR_ACT_NONE, 0.f);
    static const dnnl_alg_kind_t algs[] = {dnnl_reduction_mean, dnnl_reduction_sum, dnnl_reduction_mul,
                                           dnnl_reduction_max, dnnl_reduction_min};
    if ((unsigned)r->op >= sizeof(algs) / sizeof(algs[0])) return FROST_OK;
    int64_t kd[FROST_MAX_RANK];
    for (int i = 0; i < x->rank; i++) kd[i] = (r->axes_mask >> i) & 1u ? 1 : x->dims[i];
    dnnl_memory_desc_t xmd, ymd;
    fr_dn_md_plain(&xmd, x->rank, x->dims, fr_dn_value_dt(b->st, s->inputs[0]));
    fr_dn_md_plain(&ymd, x->rank, kd, fr_dn_value_dt(b->st, s->output));
    dnnl_reduction_desc_t d;
    /* oneDNN refuses a reduction that reduces nothing (the axes all of size
     * 1, as over the batch at batch 1): the reference kernel runs it */
    dnnl_status_t ds = dnnl_reduction_desc_init(&d, algs[r->op], &xmd, &ymd, 0.f, 0.f);
    if (ds == dnnl_invalid_arguments || ds == dnnl_unimplemented) return FROST_OK;
    if (ds != dnnl_success) return fr_dn_fail(b->error, "dnnl_reduction_desc_init", ds);
    return emit_src_dst(b, &d, &xmd, &ymd);
}

/* ------------------------------------------------------------- softmax --- */

static frost_status build_softmax(fr_dn_build *b) {
    const fr_step *s = b->step;
    const fr_value *x = val(b, s->inputs[0]);
    if (x->kind != FR_VALUE_ARENA || x->rank < 1) return FROST_OK;
    dnnl_memory_desc_t xmd, ymd;
    fr_dn_md_plain(&xmd, x->rank, x->dims, fr_dn_value_dt(b->st, s->inputs[0]));
    fr_dn_md_plain(&ymd, x->rank, x->dims, fr_dn_value_dt(b->st, s->output));
    dnnl_softmax_v2_desc_t d;
    FR_DN_TRY(b, dnnl_softmax_v2_forward_desc_init(&d, dnnl_forward_inference, dnnl_softmax_accurate, &xmd, &ymd,
                                                   x->rank - 1));
    return emit_src_dst(b, &d, &xmd, &ymd);
}

/* -------------------------------------------------------------- concat --- */

static frost_status build_concat(fr_dn_build *b) {
    const fr_step *s = b->step;
    const fr_value *y = val(b, s->output);
    int n = s->n_inputs;
    if (fr_dn_is_int8(b->st) && fr_dn_value_dt(b->st, s->output) == dnnl_u8) return fr_dn_build_concat_u8(b);
    if (s->p.concat.out_quant) return FROST_OK; /* into f32: the reference kernel applies it */
    if (n < 1 || y->rank < 1) return FROST_OK;
    dnnl_memory_desc_t *mds = malloc(sizeof(*mds) * (size_t)n);
    fr_dn_arg *args = malloc(sizeof(*args) * (size_t)(n + 2));
    frost_status st = FROST_OK;
    if (!mds || !args) {
        st = FROST_E_NO_MEMORY;
        goto done;
    }
    for (int i = 0; i < n; i++) {
        const fr_value *x = val(b, s->inputs[i]);
        if (x->rank != y->rank) goto done;
        fr_dn_md_plain(&mds[i], x->rank, x->dims, fr_dn_value_dt(b->st, s->inputs[i]));
        args[i] = ARG_VALUE(DNNL_ARG_MULTIPLE_SRC + i, s->inputs[i], mds[i]);
    }
    dnnl_memory_desc_t ymd;
    fr_dn_md_plain(&ymd, y->rank, y->dims, fr_dn_value_dt(b->st, s->output));
    args[n] = ARG_VALUE(DNNL_ARG_DST, s->output, ymd);
    dnnl_primitive_attr_t attr = NULL;
    st = fr_dn_attr(b, NULL, FR_ACT_NONE, 0.f, &attr);
    if (st != FROST_OK) goto done;
    dnnl_primitive_desc_t pd = NULL;
    dnnl_status_t ds = dnnl_concat_primitive_desc_create(&pd, &ymd, n, b->step->p.concat.axis, mds, attr,
                                                         b->st->engine);
    dnnl_primitive_attr_destroy(attr);
    if (ds != dnnl_success) goto done; /* unsupported: reference kernel */
    if (fr_dn_is_ref(pd)) {
        dnnl_primitive_desc_destroy(pd);
        goto done;
    }
    st = emit(b, pd, args, n + 1);
done:
    free(mds);
    free(args);
    return st;
}

/* -------------------------------------------------- binary / scale-shift --- */

static frost_status build_binary(fr_dn_build *b) {
    const fr_step *s = b->step;
    const fr_binary_params *p = &s->p.binary;
    static const dnnl_alg_kind_t algs[] = {dnnl_binary_add, dnnl_binary_sub, dnnl_binary_mul,
                                           dnnl_binary_div, dnnl_binary_max, dnnl_binary_min};
    if ((unsigned)p->op >= sizeof(algs) / sizeof(algs[0])) return FROST_OK;
    const fr_value *y = val(b, s->output);
    int ia = s->inputs[0], ib = s->inputs[1];
    int rank = y->rank > 0 ? y->rank : 1;
    int64_t yd[FROST_MAX_RANK], ad[FROST_MAX_RANK], bd[FROST_MAX_RANK];
    for (int i = 0; i < rank; i++) yd[i] = y->rank > 0 ? y->dims[i] : 1;
    if (!pad_dims(val(b, ia), rank, ad) || !pad_dims(val(b, ib), rank, bd)) return FROST_OK;
    if (memcmp(ad, yd, sizeof(int64_t) * (size_t)rank) != 0) {
        int commutative = p->op == FR_BIN_ADD || p->op == FR_BIN_MUL || p->op == FR_BIN_MAX || p->op == FR_BIN_MIN;
        if (!commutative || memcmp(bd, yd, sizeof(int64_t) * (size_t)rank) != 0) return FROST_OK;
        int t = ia;
        ia = ib;
        ib = t;
        int64_t tmp[FROST_MAX_RANK];
        memcpy(tmp, ad, sizeof(tmp));
        memcpy(ad, bd, sizeof(tmp));
        memcpy(bd, tmp, sizeof(tmp));
    }
    dnnl_memory_desc_t amd, bmd, ymd;
    fr_dn_md_plain(&amd, rank, ad, fr_dn_value_dt(b->st, ia));
    fr_dn_md_plain(&bmd, rank, bd, fr_dn_value_dt(b->st, ib));
    fr_dn_md_plain(&ymd, rank, yd, fr_dn_value_dt(b->st, s->output));
    dnnl_binary_desc_t d;
    FR_DN_TRY(b, dnnl_binary_desc_init(&d, algs[p->op], &amd, &bmd, &ymd));
    dnnl_primitive_attr_t attr = NULL;
    frost_status st = fr_dn_attr(b, NULL, p->act, p->alpha, &attr);
    if (st != FROST_OK) return st;
    dnnl_primitive_desc_t pd = NULL;
    st = fr_dn_make_pd(b, &pd, &d, attr);
    dnnl_primitive_attr_destroy(attr);
    if (st != FROST_OK || !pd) return st;
    fr_dn_arg args[4] = {ARG_VALUE(DNNL_ARG_SRC_0, ia, amd), ARG_VALUE(DNNL_ARG_SRC_1, ib, bmd),
                         ARG_VALUE(DNNL_ARG_DST, s->output, ymd)};
    return emit(b, pd, args, 3);
}

static frost_status build_scale_shift(fr_dn_build *b) {
    const fr_step *s = b->step;
    const fr_scale_shift_params *p = &s->p.scale_shift;
    const fr_value *x = val(b, s->inputs[0]);
    if (x->kind != FR_VALUE_ARENA || x->rank < 1 || x->dims[x->rank - 1] != p->channels) return FROST_OK;
    /* Channels last, described with the channel as oneDNN's dimension 1, so
     * that scale and shift are "per channel" broadcasts (jit kernels). */
    int rank = x->rank < 2 ? 2 : x->rank;
    dnnl_dims_t ld, ls;
    int64_t cd[FROST_MAX_RANK];
    int64_t stride = 1;
    for (int i = x->rank - 1; i >= 0; i--) {
        int l = i == x->rank - 1 ? 1 : i == 0 ? 0 : i + 1; /* logical position of TF dim i */
        ld[l] = x->dims[i];
        ls[l] = stride;
        stride *= x->dims[i];
    }
    if (x->rank == 1) { /* [C] -> [1, C] */
        ld[0] = 1;
        ls[0] = p->channels;
    }
    for (int i = 0; i < rank; i++) cd[i] = i == 1 ? p->channels : 1;
    dnnl_memory_desc_t xmd, ymd, cmd;
    dnnl_memory_desc_init_by_strides(&xmd, rank, ld, fr_dn_value_dt(b->st, s->inputs[0]), ls);
    dnnl_memory_desc_init_by_strides(&ymd, rank, ld, fr_dn_value_dt(b->st, s->output), ls);
    fr_dn_md_plain(&cmd, rank, cd, dnnl_f32);
    dnnl_binary_desc_t d;
    FR_DN_TRY(b, dnnl_binary_desc_init(&d, dnnl_binary_mul, &xmd, &cmd, &ymd));
    /* x * scale, then the shift as a binary post-op, then the activation. */
    dnnl_primitive_attr_t attr = NULL;
    frost_status st = fr_dn_attr(b, &cmd, p->act, p->alpha, &attr);
    if (st != FROST_OK) return st;
    dnnl_primitive_desc_t pd = NULL;
    st = fr_dn_make_pd(b, &pd, &d, attr);
    dnnl_primitive_attr_destroy(attr);
    if (st != FROST_OK || !pd) return st;
    fr_dn_arg args[5] = {ARG_VALUE(DNNL_ARG_SRC_0, s->inputs[0], xmd), ARG_PTR(DNNL_ARG_SRC_1, p->scale, cmd),
                         ARG_PTR(DNNL_ARG_ATTR_MULTIPLE_POST_OP(0) | DNNL_ARG_SRC_1, p->shift, cmd),
                         ARG_VALUE(DNNL_ARG_DST, s->output, ymd)};
    return emit(b, pd, args, 4);
}

/* --------------------------------------------------------------- unary --- */

static frost_status build_unary(fr_dn_build *b) {
    const fr_step *s = b->step;
    const fr_unary_params *p = &s->p.unary;
    const fr_value *x = val(b, s->inputs[0]);
    if (x->kind != FR_VALUE_ARENA) return FROST_OK;
    dnnl_alg_kind_t alg;
    float alpha = 0.f, beta = 0.f;
    switch (p->op) {
    case FR_UN_RELU: alg = dnnl_eltwise_relu; break;
    case FR_UN_RELU6: alg = dnnl_eltwise_clip; beta = 6.f; break;
    case FR_UN_LEAKY_RELU: alg = dnnl_eltwise_relu; alpha = p->alpha; break;
    case FR_UN_SIGMOID: alg = dnnl_eltwise_logistic; break;
    case FR_UN_TANH: alg = dnnl_eltwise_tanh; break;
    case FR_UN_SQRT: alg = dnnl_eltwise_sqrt; break;
    case FR_UN_RSQRT: alg = dnnl_eltwise_pow; alpha = 1.f; beta = -0.5f; break;
    case FR_UN_EXP: alg = dnnl_eltwise_exp; break;
    case FR_UN_NEG: alg = dnnl_eltwise_linear; alpha = -1.f; break;
    case FR_UN_SQUARE: alg = dnnl_eltwise_square; break;
    case FR_UN_ABS: alg = dnnl_eltwise_abs; break;
    default: return FROST_OK;
    }
    dnnl_memory_desc_t xmd, ymd;
    fr_dn_md_plain(&xmd, x->rank, x->dims, fr_dn_value_dt(b->st, s->inputs[0]));
    fr_dn_md_plain(&ymd, x->rank, x->dims, fr_dn_value_dt(b->st, s->output));
    if (!dnnl_memory_desc_equal(&xmd, &ymd)) return FROST_OK; /* eltwise: same type in and out */
    dnnl_eltwise_desc_t d;
    FR_DN_TRY(b, dnnl_eltwise_forward_desc_init(&d, dnnl_forward_inference, alg, &xmd, alpha, beta));
    return emit_src_dst(b, &d, &xmd, &ymd);
}

frost_status fr_dn_build_step(fr_dn_build *b) {
    switch (b->step->kind) {
    case FR_STEP_CONV: return build_conv(b);
    case FR_STEP_MATMUL: return build_matmul(b);
    case FR_STEP_POOL: return build_pool(b);
    case FR_STEP_BINARY: return build_binary(b);
    case FR_STEP_UNARY: return build_unary(b);
    case FR_STEP_SCALE_SHIFT: return build_scale_shift(b);
    case FR_STEP_SOFTMAX: return build_softmax(b);
    case FR_STEP_CONCAT: return build_concat(b);
    case FR_STEP_REDUCE: return build_reduce(b);
    case FR_STEP_FAKE_QUANT: return fr_dn_build_fake_quant(b); /* int8 only */
    default: return FROST_OK; /* copy, pad, transpose, slice: reference kernels */
    }
}
