/* oneDNN backend: frost's own kernels (src/kernels/) run as custom
 * executions of a step, in place of a primitive.  Which kernel runs is the
 * selection's (src/kernels/select.c); this file passes it oneDNN's pick as a
 * neutral fact and wires the kernel's weights (packed once per model, in the
 * weight cache shared by batch sizes), temporaries and thread team. */
#include <stdlib.h>
#include <string.h>

#include "backend/onednn/internal.h"

fr_kernels_policy fr_dn_policy(const fr_dn_state *st) {
    fr_kernels_policy p = {.own = st->cfg.own_kernels,
                           .winograd = st->cfg.winograd,
                           .winograd_default = st->cfg.winograd_default,
                           .portable = st->cfg.portable,
                           .tune = st->cfg.tune};
    return p;
}

fr_kernels_facts fr_dn_facts(const fr_dn_state *st, fr_kernels_pick pick) {
    fr_kernels_facts f = {.pick = pick, .bf16 = fr_dn_is_bf16(st), .avx512 = st->isa.avx512};
    return f;
}

frost_status fr_dn_add_custom(fr_dn_build *b, fr_dn_custom_fn fn, void *ctx, void (*ctx_free)(void *),
                              const fr_dn_arg *args, int n_args, const char *kernel) {
    frost_status st = fr_dn_add_exec(b, NULL, args, n_args);
    if (st != FROST_OK) {
        ctx_free(ctx);
        return st;
    }
    fr_dn_exec *e = &b->out->execs[b->out->n_execs - 1];
    e->fn = fn, e->ctx = ctx, e->ctx_free = ctx_free;
    if (!b->out->kernel && !(b->out->kernel = strdup(kernel))) return FROST_E_NO_MEMORY;
    return FROST_OK;
}

/* ------------------------------------------------------------ convolution --- */

static frost_status conv_pack(fr_dn_build *b, void *buf, const void *ctx) {
    const fr_conv_choice *ch = ctx;
    return fr_kernels_conv_pack(ch, &b->step->p.conv, buf);
}

/* ptrs: x, y, temporaries, [residual] */
static void conv_run(const fr_dn_state *st, const void *ctx, void *const *ptrs) {
    fr_kernels_conv_run(ctx, &st->team, ptrs[0], ptrs[1], ptrs[2], ptrs[3]);
}

static void conv_free(void *ctx) {
    fr_kernels_conv_free(ctx);
}

frost_status fr_dn_build_own_conv(fr_dn_build *b, const fr_conv_choice *ch) {
    const fr_step *s = b->step;
    const fr_conv_params *c = &s->p.conv;
    int rank = 0;
    int64_t dims[3];
    dnnl_memory_desc_t wmd;
    fr_kernels_conv_weights_dims(ch, c, &rank, dims);
    fr_dn_md_plain(&wmd, rank, dims, dnnl_f32);
    const void *packed = NULL;
    frost_status st = fr_dn_const_make(b, &wmd, conv_pack, ch, &packed);
    fr_kernels_conv *k = NULL;
    if (st == FROST_OK) st = fr_kernels_conv_create(ch, b->plan, s, packed, b->st->isa, b->st->cfg.threads, &k);
    if (st != FROST_OK) return st;

    const fr_value *x = &b->plan->values[s->inputs[0]], *y = &b->plan->values[s->output];
    size_t temp_bytes = fr_kernels_conv_temp_bytes(k);
    dnnl_memory_desc_t xmd, ymd, tmd;
    fr_dn_md_nhwc(&xmd, x->dims[0], x->dims[3], x->dims[1], x->dims[2], dnnl_f32);
    fr_dn_md_nhwc(&ymd, y->dims[0], y->dims[3], y->dims[1], y->dims[2], dnnl_f32);
    int64_t tb = (int64_t)temp_bytes;
    fr_dn_md_plain(&tmd, 1, &tb, dnnl_u8);
    /* the temporaries where the arena is free during the step (no memory of
     * their own: the Winograd kernels' scratch takes ~1 MB per thread) */
    fr_dn_bind tbind = FR_DN_ARENA;
    size_t toff = fr_plan_arena_gap(b->plan, b->index, temp_bytes), cursor = 0;
    if (toff == SIZE_MAX) tbind = FR_DN_TEMP, toff = fr_dn_temp(b, temp_bytes, &cursor);
    fr_dn_arg args[4] = {
        {.arg = DNNL_ARG_SRC, .bind = FR_DN_VALUE, .value = s->inputs[0], .md = xmd},
        {.arg = DNNL_ARG_DST, .bind = FR_DN_VALUE, .value = s->output, .md = ymd},
        {.arg = DNNL_ARG_SCRATCHPAD, .bind = tbind, .value = -1, .offset = toff, .md = tmd},
        {.arg = DNNL_ARG_SRC_1, .bind = FR_DN_VALUE, .value = c->residual, .md = ymd},
    };
    st = fr_dn_add_custom(b, conv_run, k, conv_free, args, c->residual >= 0 ? 4 : 3, fr_kernels_conv_name(k));
    if (st == FROST_OK) b->out->own_weights = 1;
    return st;
}

/* --------------------------------------------------------------- pooling --- */

/* ptrs: x, y */
static void pool_run(const fr_dn_state *st, const void *ctx, void *const *ptrs) {
    fr_pool_nhwc_run(ctx, &st->team, ptrs[0], ptrs[1]);
}

static void pool_free(void *ctx) {
    fr_pool_nhwc_free(ctx);
}

/* ptrs: x, y (u8) */
static void pool_u8_run(const fr_dn_state *st, const void *ctx, void *const *ptrs) {
    fr_pool_u8_run(ctx, &st->team, ptrs[0], ptrs[1]);
}

/* The step's pooling as kernel k (f32 or u8 values: dt) run by fn. */
static frost_status add_pool(fr_dn_build *b, fr_pool_nhwc *k, dnnl_data_type_t dt, fr_dn_custom_fn fn) {
    const fr_step *s = b->step;
    const fr_value *x = &b->plan->values[s->inputs[0]], *y = &b->plan->values[s->output];
    dnnl_memory_desc_t xmd, ymd;
    fr_dn_md_nhwc(&xmd, x->dims[0], x->dims[3], x->dims[1], x->dims[2], dt);
    fr_dn_md_nhwc(&ymd, y->dims[0], y->dims[3], y->dims[1], y->dims[2], dt);
    fr_dn_arg args[2] = {
        {.arg = DNNL_ARG_SRC, .bind = FR_DN_VALUE, .value = s->inputs[0], .md = xmd},
        {.arg = DNNL_ARG_DST, .bind = FR_DN_VALUE, .value = s->output, .md = ymd},
    };
    return fr_dn_add_custom(b, fn, k, pool_free, args, 2, fr_pool_nhwc_name(k));
}

frost_status fr_dn_build_own_pool_u8(fr_dn_build *b) {
    fr_pool_nhwc *k = NULL;
    frost_status st = fr_pool_u8_create(b->plan, b->step, b->st->cfg.portable, b->st->cfg.threads, &k);
    return st != FROST_OK ? st : add_pool(b, k, dnnl_u8, pool_u8_run);
}

frost_status fr_dn_build_own_pool(fr_dn_build *b) {
    fr_pool_nhwc *k = NULL;
    frost_status st = fr_pool_nhwc_create(b->plan, b->step, b->st->isa, b->st->cfg.threads, &k);
    return st != FROST_OK ? st : add_pool(b, k, dnnl_f32, pool_run);
}
