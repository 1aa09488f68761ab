/* oneDNN backend, int8 precision (docs/int8.md).
 *
 * Values: every quantized value (a u8 FakeQuant's output, a conv / matmul
 * step's fused out_quant, a pool or concatenation of them on one grid) is
 * stored as u8 where only steps that run on u8 read it: conv / matmul steps
 * with int8_scale (graph/int8.h), FakeQuant steps, pools and concatenations
 * whose output is u8 too (an average of u8 values is rounded onto their
 * grid, half a step at most; where its output stays f32 it averages an f32
 * copy); any other value, the model's inputs and outputs, and anything a
 * reference kernel touches stay f32 (bf16.c's correction loop makes them so).
 *
 * Steps: a conv / matmul with int8_scale runs oneDNN's int8 convolution (a
 * MatMul as a 1x1 one): u8 source x s8 weights (the plan's weights divided by
 * int8_scale: exact integers), s32 accumulation, output scales
 * s_x * int8_scale[co] * weight_scale[co] (/ s_y with out_quant), the bias
 * divided by the accumulator's scale, the activation as a post-op, zero points
 * as oneDNN's attributes; an f32 source is quantized first (exactly: it is
 * on the grid), and an out_quant into an f32 value goes through a u8
 * temporary.  A u8 FakeQuant step is frost's loop below (f32 -> u8, f32 ->
 * f32; u8 -> u8 onto another grid and u8 -> f32 by a table of the 256
 * codes), TensorFlow's arithmetic as the reference kernel does it;
 * oneDNN's requantizations inside the int8 convolutions round ties to even
 * where TensorFlow rounds half up (a step at most, where a value lands on a
 * tie). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/onednn/internal.h"

/* The FakeQuant kernel rounds every operation on its own, as TensorFlow's. */
#ifdef __clang__ /* GCC contracts nothing in ISO C mode (-std=c11) */
#pragma STDC FP_CONTRACT OFF
#endif

#define ARG_VALUE(a, id, m) ((fr_dn_arg){.arg = (a), .bind = FR_DN_VALUE, .value = (id), .md = (m)})
#define ARG_PTR(a, p, m) ((fr_dn_arg){.arg = (a), .bind = FR_DN_PTR, .value = -1, .ptr = (p), .md = (m)})
#define ARG_TEMP(a, off, m) ((fr_dn_arg){.arg = (a), .bind = FR_DN_TEMP, .value = -1, .offset = (off), .md = (m)})

static const float *step_int8_scale(const fr_step *s) {
    if (s->kind == FR_STEP_CONV) return s->p.conv.int8_scale;
    if (s->kind == FR_STEP_MATMUL) return s->p.matmul.int8_scale;
    return NULL;
}

static const fr_fake_quant_params *step_out_quant(const fr_step *s) {
    if (s->kind == FR_STEP_CONV) return s->p.conv.out_quant;
    if (s->kind == FR_STEP_MATMUL) return s->p.matmul.out_quant;
    return NULL;
}

/* Whether step s can read its input j as u8 (given the output types now). */
static int reads_u8(const fr_dn_state *st, const fr_step *s, int j) {
    fr_u8q q;
    switch (s->kind) {
    case FR_STEP_CONV:
    case FR_STEP_MATMUL: return j == 0 && step_int8_scale(s) != NULL;
    case FR_STEP_FAKE_QUANT: return j == 0 && fr_int8_fq_u8(&s->p.fake_quant, &q);
    case FR_STEP_POOL: /* u8 out; an average also into f32 */
        return s->p.pool.op == FR_POOL_AVG || st->value_dt[s->output] == dnnl_u8;
    case FR_STEP_CONCAT: /* with out_quant: u8 inputs on any grid */
        return s->p.concat.out_quant ? st->value_q[s->inputs[j]].scale > 0 : st->value_dt[s->output] == dnnl_u8;
    default: return 0;
    }
}

static int same_grid(fr_u8q a, fr_u8q b) {
    return a.scale == b.scale && a.zero_point == b.zero_point;
}

/* The grid of step s's output, if it is quantized. */
static int output_grid(const fr_dn_state *st, const fr_step *s, fr_u8q *q) {
    const fr_u8q *vq = st->value_q;
    const fr_fake_quant_params *oq = step_out_quant(s);
    if (s->kind == FR_STEP_FAKE_QUANT) return fr_int8_fq_u8(&s->p.fake_quant, q);
    if (oq) return fr_int8_fq_u8(oq, q);
    if (s->kind == FR_STEP_POOL && !s->p.pool.bias && s->p.pool.act == FR_ACT_NONE && vq[s->inputs[0]].scale > 0) {
        *q = vq[s->inputs[0]];
        return 1;
    }
    if (s->kind == FR_STEP_CONCAT && s->p.concat.out_quant) return fr_int8_fq_u8(s->p.concat.out_quant, q);
    if (s->kind != FR_STEP_CONCAT || s->n_inputs < 1 || !(vq[s->inputs[0]].scale > 0)) return 0;
    for (int j = 1; j < s->n_inputs; j++)
        if (!same_grid(vq[s->inputs[j]], vq[s->inputs[0]])) return 0;
    *q = vq[s->inputs[0]];
    return 1;
}

frost_status fr_dn_assign_int8(fr_dn_state *st, char **error) {
    const fr_plan *p = st->plan;
    size_t nv = (size_t)(p->n_values > 0 ? p->n_values : 1);
    (void)error;
    st->value_dt = malloc(sizeof(*st->value_dt) * nv);
    st->value_q = calloc(nv, sizeof(*st->value_q));
    if (!st->value_dt || !st->value_q) return FROST_E_NO_MEMORY;
    for (int i = 0; i < p->n_values; i++) st->value_dt[i] = dnnl_f32;
    for (int i = 0; i < p->n_steps; i++) {
        fr_u8q q;
        if (output_grid(st, &p->steps[i], &q)) st->value_q[p->steps[i].output] = q;
    }
    for (int i = 0; i < p->n_values; i++)
        if (st->value_q[i].scale > 0 && p->values[i].kind == FR_VALUE_ARENA) st->value_dt[i] = dnnl_u8;
    for (int i = 0; i < p->n_inputs; i++) st->value_dt[p->inputs[i]] = dnnl_f32;
    for (int i = 0; i < p->n_outputs; i++) st->value_dt[p->outputs[i]] = dnnl_f32;
    /* u8 only where every reader reads u8 */
    for (int changed = 1; changed;) {
        changed = 0;
        for (int i = 0; i < p->n_steps; i++) {
            const fr_step *s = &p->steps[i];
            int r = fr_step_residual(s);
            if (r >= 0 && st->value_dt[r] == dnnl_u8) st->value_dt[r] = dnnl_f32, changed = 1;
            for (int j = 0; j < s->n_inputs; j++) {
                int v = s->inputs[j];
                if (st->value_dt[v] == dnnl_u8 && !reads_u8(st, s, j)) st->value_dt[v] = dnnl_f32, changed = 1;
                /* pools and concatenations (but those with out_quant): u8 out from u8 in only */
                if ((s->kind == FR_STEP_POOL || (s->kind == FR_STEP_CONCAT && !s->p.concat.out_quant)) &&
                    st->value_dt[v] != dnnl_u8 &&
                    st->value_dt[s->output] == dnnl_u8)
                    st->value_dt[s->output] = dnnl_f32, changed = 1;
            }
        }
    }
    return FROST_OK;
}

/* Attributes of a requantization: dst = round(oscale * (src - src_zp) + dst_zp). */
static frost_status q_attr(fr_dn_build *b, float oscale, int src_zp, int dst_zp, dnnl_primitive_attr_t *out) {
    dnnl_primitive_attr_t attr = NULL;
    *out = NULL;
    FR_DN_TRY(b, dnnl_primitive_attr_create(&attr));
    dnnl_status_t s = dnnl_primitive_attr_set_scratchpad_mode(attr, dnnl_scratchpad_mode_user);
    if (s == dnnl_success) s = dnnl_primitive_attr_set_output_scales(attr, 1, 0, &oscale);
    if (s == dnnl_success && src_zp) s = dnnl_primitive_attr_set_zero_points(attr, DNNL_ARG_SRC, 1, 0, &src_zp);
    if (s == dnnl_success && dst_zp) s = dnnl_primitive_attr_set_zero_points(attr, DNNL_ARG_DST, 1, 0, &dst_zp);
    if (s != dnnl_success) {
        dnnl_primitive_attr_destroy(attr);
        return fr_dn_fail(b->error, "requantization attributes", s);
    }
    *out = attr;
    return FROST_OK;
}

/* Appends a reorder from `from` to `to` with q_attr's arithmetic. */
static frost_status add_requant(fr_dn_build *b, fr_dn_arg from, fr_dn_arg to, float oscale, int src_zp, int dst_zp) {
    dnnl_primitive_attr_t attr = NULL;
    dnnl_primitive_t prim = NULL;
    fr_dn_arg sp;
    frost_status st = q_attr(b, oscale, src_zp, dst_zp, &attr);
    if (st == FROST_OK) st = fr_dn_make_reorder(b, attr, &from.md, &to.md, &prim, &sp);
    dnnl_primitive_attr_destroy(attr);
    if (st != FROST_OK) return st;
    from.arg = DNNL_ARG_FROM;
    to.arg = DNNL_ARG_TO;
    fr_dn_arg a[3] = {from, to, sp};
    return fr_dn_add_exec(b, prim, a, 3);
}

frost_status fr_dn_add_dequantize(fr_dn_build *b, int value, const dnnl_memory_desc_t *to, size_t temp_off) {
    fr_u8q q = b->st->value_q[value];
    dnnl_memory_desc_t from = *to;
    from.data_type = dnnl_u8;
    if (!(q.scale > 0)) return FROST_E_BACKEND;
    return add_requant(b, ARG_VALUE(0, value, from), ARG_TEMP(0, temp_off, *to), q.scale, q.zero_point, 0);
}

static frost_status set_kernel(fr_dn_build *b, const char *what, const char *impl) {
    size_t n = strlen(what) + strlen(impl) + 16;
    free(b->out->kernel);
    b->out->kernel = malloc(n);
    if (!b->out->kernel) return FROST_E_NO_MEMORY;
    snprintf(b->out->kernel, n, "onednn:int8:%s%s", what, impl);
    return FROST_OK;
}

/* A FakeQuant step on the values of the arena, TensorFlow's arithmetic
 * operation for operation as the reference kernel does it (so the codes are
 * the reference's, ties rounded half up): from f32 values, or from u8 codes
 * of grid `sq` (their values exactly as the reference holds them), to u8
 * codes or f32 values. */
typedef struct {
    size_t n;
    int src_u8, dst_u8, divide;
    fr_u8q sq;
    fr_fq_range r;
    float lo, hi; /* fr_fake_quant_params.clip, else -inf, inf */
    fr_u8_table_fn table; /* u8 -> u8: lut8 applied (kernels.h) */
    int fast_table;       /* table is not the portable form */
    fr_fq_u8_fn quant;    /* f32 -> u8: the same loop vectorized (kernels.h) */
    fr_fq_u8 q8;
    /* u8 source: the result of every code, computed once by the loop below */
    uint8_t lut8[256];
    float lutf[256];
} fq_kernel;

typedef struct {
    const fq_kernel *k;
    void *const *ptrs; /* source, destination */
} fq_job;

/* Elements [lo, hi) of a FakeQuant kernel, its flags constants where it is
 * inlined (so that each form is one loop the compiler vectorizes).  For
 * values in range the clamps are the reference's; a NaN (f32 source) gives
 * the code of the lower clamp (a u8 code holds no NaN) or stays NaN (f32). */
static inline __attribute__((always_inline)) void fq_range(const fq_kernel *k, void *const *ptrs, size_t lo,
                                                             size_t hi, int src_u8, int dst_u8, int divide) {
    const fr_fq_range r = k->r;
    const fr_u8q sq = k->sq;
    const int zq = (int)r.quant_zero;
    const float *xf = ptrs[0];
    const uint8_t *xq = ptrs[0];
    float *yf = ptrs[1];
    uint8_t *yq = ptrs[1];
    for (size_t i = lo; i < hi; i++) {
        const float x0 = src_u8 ? (float)((int)xq[i] - sq.zero_point) * sq.scale : xf[i];
        float x = x0 > k->lo ? x0 : k->lo;
        x = x < k->hi ? x : k->hi;
        float c = x > r.nudged_min ? x : r.nudged_min;
        c = c < r.nudged_max ? c : r.nudged_max;
        float sh = c - r.nudged_min;
        float q = divide ? sh / r.scale : sh * r.inv_scale;
        q = q - r.quant_zero;
        q = q + 0.5f;
        int fl = (int)q;
        fl -= (float)fl > q; /* floor */
        if (dst_u8) {
            int code = fl + zq;
            yq[i] = (uint8_t)(code < 0 ? 0 : code > 255 ? 255 : code);
        } else {
            float y = (float)fl * r.scale;
            yf[i] = src_u8 || x0 == x0 ? y : x0; /* a NaN stays NaN, as in the reference */
        }
    }
}

static void fq_task(void *data, int ithr, int team) {
    const fq_job *j = data;
    const fq_kernel *k = j->k;
    size_t chunk = (k->n / (size_t)team + 63) / 64 * 64, lo = chunk * (size_t)ithr;
    size_t hi = lo + chunk < k->n ? lo + chunk : k->n;
    if (lo >= hi) return;
    const uint8_t *x = j->ptrs[0];
    if (!k->src_u8 && k->dst_u8) { /* f32 -> u8 */
        k->quant(&k->q8, (const float *)j->ptrs[0] + lo, (uint8_t *)j->ptrs[1] + lo, hi - lo);
    } else if (!k->src_u8) { /* f32 -> f32 */
        if (k->divide) fq_range(k, j->ptrs, lo, hi, 0, 0, 1);
        else fq_range(k, j->ptrs, lo, hi, 0, 0, 0);
    } else if (k->dst_u8) { /* u8 -> u8: a table */
        k->table(k->lut8, x + lo, (uint8_t *)j->ptrs[1] + lo, hi - lo);
    } else { /* u8 -> f32 */
        float *y = j->ptrs[1];
        for (size_t i = lo; i < hi; i++) y[i] = k->lutf[x[i]];
    }
}

/* The kernels of the library's forms (kernels.h) for k's parameters. */
static void fq_forms(fq_kernel *k, int portable) {
    k->table = fr_kernels_select_u8_table(portable);
    k->fast_table = k->table != fr_kernels_select_u8_table(1);
    k->quant = fr_kernels_select_fq_u8(portable);
    k->q8 = (fr_fq_u8){k->lo, k->hi, k->r.nudged_min, k->r.nudged_max, k->r.scale, k->r.inv_scale,
                       k->r.quant_zero, k->divide};
}

/* The tables of a kernel with a u8 source: every code through the loop. */
static void fq_tables(fq_kernel *k) {
    uint8_t codes[256];
    for (int c = 0; c < 256; c++) codes[c] = (uint8_t)c;
    void *p8[2] = {codes, k->lut8}, *pf[2] = {codes, k->lutf};
    if (k->divide) {
        fq_range(k, p8, 0, 256, 1, 1, 1);
        fq_range(k, pf, 0, 256, 1, 0, 1);
    } else {
        fq_range(k, p8, 0, 256, 1, 1, 0);
        fq_range(k, pf, 0, 256, 1, 0, 0);
    }
}

static void fq_run(const fr_dn_state *st, const void *ctx, void *const *ptrs) {
    const fq_kernel *k = ctx;
    fq_job j = {k, ptrs};
    /* a table runs 64 bytes an instruction (VBMI): one thread up to 512 KiB,
     * where waking the team costs more than it saves */
    int threads = k->n < (k->src_u8 && k->dst_u8 && k->fast_table ? 524288u : 16384u) ? 1 : st->cfg.threads;
    fr_team_run(&st->team, threads, fq_task, &j);
}

frost_status fr_dn_build_fake_quant(fr_dn_build *b) {
    const fr_step *s = b->step;
    fr_dn_state *st = b->st;
    fr_u8q qy;
    if (!fr_dn_is_int8(st) || !fr_int8_fq_u8(&s->p.fake_quant, &qy)) return FROST_OK;
    int x = s->inputs[0], y = s->output;
    const fr_value *xv = &b->plan->values[x];
    dnnl_data_type_t xdt = fr_dn_value_dt(st, x), ydt = fr_dn_value_dt(st, y);
    if (xv->kind != FR_VALUE_ARENA || (xdt == dnnl_u8 && !(st->value_q[x].scale > 0))) return FROST_OK;
    fq_kernel *k = calloc(1, sizeof *k);
    if (!k) return FROST_E_NO_MEMORY;
    const fr_fake_quant_params *fq = &s->p.fake_quant;
    *k = (fq_kernel){xv->count, xdt == dnnl_u8, ydt == dnnl_u8, fq->divide, st->value_q[x], fq->ranges[0],
                     fq->clip ? fq->clip_min : -INFINITY, fq->clip ? fq->clip_max : INFINITY,
                     NULL, 0, NULL, {0, 0, 0, 0, 0, 0, 0, 0}, {0}, {0}};
    fq_forms(k, st->cfg.portable);
    if (k->src_u8) fq_tables(k);
    dnnl_memory_desc_t xmd, ymd;
    fr_dn_md_plain(&xmd, xv->rank, xv->dims, xdt);
    fr_dn_md_plain(&ymd, xv->rank, xv->dims, ydt);
    fr_dn_arg args[2] = {ARG_VALUE(DNNL_ARG_FROM, x, xmd), ARG_VALUE(DNNL_ARG_TO, y, ymd)};
    return fr_dn_add_custom(b, fq_run, k, free, args, 2,
                            k->src_u8 ? (k->dst_u8 ? "frost:int8:requantize" : "frost:int8:dequantize")
                                      : (k->dst_u8 ? "frost:int8:quantize" : "frost:int8:fake_quant"));
}

/* A concatenation into a u8 value: of u8 values on its grid, their rows
 * copied; with out_quant (fuse.c's concat_quant), every input's rows straight
 * onto the output's grid, each by its own FakeQuant kernel (a u8 input by the
 * table of its codes, an f32 one by the loop): the codes of the f32
 * concatenation followed by the FakeQuant, without it.  frost's loop rather
 * than oneDNN's concat, whose 2-thread team costs more than these small
 * copies (Inception v3's 8x8 blocks: 49 KiB). */
typedef struct {
    int n;                             /* inputs */
    size_t rows, ylen;                 /* rows (the dims before the axis), the output's row */
    int threads;
    size_t off[FR_DN_MAX_CUSTOM_ARGS]; /* input i's place in the output's row */
    int copy[FR_DN_MAX_CUSTOM_ARGS];   /* input i is on the output's grid */
    fq_kernel k[];                     /* per input, n = its row */
} cq_kernel;

typedef struct {
    const cq_kernel *c;
    void *const *ptrs; /* inputs, then the output */
} cq_job;

static void cq_task(void *data, int ithr, int team) {
    const cq_job *j = data;
    const cq_kernel *c = j->c;
    size_t per = (c->rows + (size_t)team - 1) / (size_t)team, lo = per * (size_t)ithr;
    size_t hi = lo + per < c->rows ? lo + per : c->rows;
    uint8_t *y = j->ptrs[c->n];
    for (size_t r = lo; r < hi; r++)
        for (int i = 0; i < c->n; i++) {
            const fq_kernel *k = &c->k[i];
            uint8_t *yr = y + r * c->ylen + c->off[i];
            if (c->copy[i]) {
                memcpy(yr, (const uint8_t *)j->ptrs[i] + r * k->n, k->n);
                continue;
            }
            if (k->src_u8) {
                k->table(k->lut8, (const uint8_t *)j->ptrs[i] + r * k->n, yr, k->n);
                continue;
            }
            k->quant(&k->q8, (const float *)j->ptrs[i] + r * k->n, yr, k->n);
        }
}

static void cq_run(const fr_dn_state *st, const void *ctx, void *const *ptrs) {
    const cq_kernel *c = ctx;
    cq_job j = {c, ptrs};
    fr_team_run(&st->team, c->threads, cq_task, &j);
}

frost_status fr_dn_build_concat_u8(fr_dn_build *b) {
    const fr_step *s = b->step;
    fr_dn_state *st = b->st;
    const fr_fake_quant_params *fq = s->p.concat.out_quant;
    const fr_value *yv = &b->plan->values[s->output];
    int n = s->n_inputs, axis = s->p.concat.axis;
    fr_u8q qy = st->value_q ? st->value_q[s->output] : (fr_u8q){0, 0};
    if (!fr_dn_is_int8(st) || (fq && !fr_int8_fq_u8(fq, &qy)) || n < 1 || n >= FR_DN_MAX_CUSTOM_ARGS ||
        fr_dn_value_dt(st, s->output) != dnnl_u8 || axis < 0 || axis >= yv->rank)
        return FROST_OK;
    size_t rows = 1;
    for (int i = 0; i < axis; i++) rows *= (size_t)yv->dims[i];
    if (!rows) return FROST_OK;
    cq_kernel *c = calloc(1, sizeof *c + sizeof(fq_kernel) * (size_t)n);
    if (!c) return FROST_E_NO_MEMORY;
    fr_dn_arg args[FR_DN_MAX_CUSTOM_ARGS];
    int all_fast = fr_kernels_select_u8_table(st->cfg.portable) != fr_kernels_select_u8_table(1);
    c->n = n, c->rows = rows, c->ylen = yv->count / rows;
    for (int i = 0; i < n; i++) {
        int x = s->inputs[i];
        const fr_value *xv = &b->plan->values[x];
        dnnl_data_type_t xdt = fr_dn_value_dt(st, x);
        c->copy[i] = !fq && xdt == dnnl_u8 && same_grid(st->value_q[x], qy);
        if ((xdt != dnnl_u8 && xdt != dnnl_f32) || (xdt == dnnl_u8 && !(st->value_q[x].scale > 0)) ||
            (!fq && !c->copy[i]) || xv->count % rows ||
            (i ? c->off[i - 1] + c->k[i - 1].n : 0) + xv->count / rows > c->ylen) {
            free(c);
            return FROST_OK;
        }
        c->off[i] = i ? c->off[i - 1] + c->k[i - 1].n : 0;
        c->k[i].n = xv->count / rows;
        if (fq) {
            c->k[i] = (fq_kernel){c->k[i].n, xdt == dnnl_u8, 1, fq->divide, st->value_q[x], fq->ranges[0],
                                  fq->clip ? fq->clip_min : -INFINITY, fq->clip ? fq->clip_max : INFINITY,
                                  NULL, 0, NULL, {0, 0, 0, 0, 0, 0, 0, 0}, {0}, {0}};
            fq_forms(&c->k[i], st->cfg.portable);
            if (c->k[i].src_u8) fq_tables(&c->k[i]);
        }
        if (c->copy[i]) c->k[i].src_u8 = 1;
        else all_fast = 0;
        dnnl_memory_desc_t md;
        fr_dn_md_plain(&md, xv->rank, xv->dims, xdt);
        args[i] = ARG_VALUE(DNNL_ARG_MULTIPLE_SRC + i, x, md);
    }
    if (c->off[n - 1] + c->k[n - 1].n != c->ylen) {
        free(c);
        return FROST_OK;
    }
    /* one thread up to 512 KiB of tables (as fq_run), 16 KiB of loops */
    c->threads = yv->count < (all_fast ? 524288u : 16384u) ? 1 : st->cfg.threads;
    dnnl_memory_desc_t ymd;
    fr_dn_md_plain(&ymd, yv->rank, yv->dims, dnnl_u8);
    args[n] = ARG_VALUE(DNNL_ARG_DST, s->output, ymd);
    return fr_dn_add_custom(b, cq_run, c, free, args, n + 1, fq ? "frost:int8:concat_quantize" : "frost:int8:concat");
}

/* The post-ops of the activation, then out_quant's clamp, on values scaled
 * by 1 / out_scale. */
static dnnl_status_t act_post_ops(dnnl_primitive_attr_t attr, fr_act act, float alpha,
                                  const fr_fake_quant_params *out_quant, float out_scale) {
    int clip = out_quant && out_quant->clip;
    if (act == FR_ACT_NONE && !clip) return dnnl_success;
    dnnl_post_ops_t po = NULL;
    dnnl_status_t s = dnnl_post_ops_create(&po);
    if (s != dnnl_success) return s;
    switch (act) {
    case FR_ACT_NONE: break;
    case FR_ACT_RELU: s = dnnl_post_ops_append_eltwise(po, 1.f, dnnl_eltwise_relu, 0.f, 0.f); break;
    case FR_ACT_LEAKY: s = dnnl_post_ops_append_eltwise(po, 1.f, dnnl_eltwise_relu, alpha, 0.f); break;
    case FR_ACT_RELU6: s = dnnl_post_ops_append_eltwise(po, 1.f, dnnl_eltwise_clip, 0.f, 6.f / out_scale); break;
    default: s = dnnl_unimplemented; break;
    }
    if (s == dnnl_success && clip)
        s = dnnl_post_ops_append_eltwise(po, 1.f, dnnl_eltwise_clip, out_quant->clip_min / out_scale,
                                         out_quant->clip_max / out_scale);
    if (s == dnnl_success) s = dnnl_primitive_attr_set_post_ops(attr, po);
    dnnl_post_ops_destroy(po);
    return s;
}

/* The step's geometry as a convolution (a MatMul: a 1x1 one over M pixels);
 * 0 where it is no int8 candidate. */
static int as_conv(const fr_dn_build *b, fr_conv_params *c, int64_t *nhw) {
    const fr_step *s = b->step;
    const fr_value *x = &b->plan->values[s->inputs[0]], *y = &b->plan->values[s->output];
    if (s->kind == FR_STEP_CONV) {
        *c = s->p.conv;
        if (x->rank != 4 || y->rank != 4) return 0;
        nhw[0] = x->dims[0], nhw[1] = x->dims[1], nhw[2] = x->dims[2], nhw[3] = y->dims[1], nhw[4] = y->dims[2];
        return c->groups == 1 || (c->groups == c->cin && c->cout % c->groups == 0);
    }
    const fr_matmul_params *m = &s->p.matmul;
    if (s->kind != FR_STEP_MATMUL || !m->weights || x->count != (size_t)m->m * (size_t)m->k ||
        y->count != (size_t)m->m * (size_t)m->n)
        return 0;
    memset(c, 0, sizeof *c);
    c->kh = c->kw = c->groups = c->stride_h = c->stride_w = c->dil_h = c->dil_w = 1;
    c->cin = m->k, c->cout = m->n;
    c->weights = m->weights, c->bias = m->bias, c->weight_scale = m->weight_scale;
    c->act = m->act, c->alpha = m->alpha, c->residual = m->residual;
    c->int8_scale = m->int8_scale, c->out_quant = m->out_quant;
    nhw[0] = m->m, nhw[1] = nhw[2] = nhw[3] = nhw[4] = 1;
    return 1;
}

/* Output scales, and the bias divided by the accumulator's scale (owned by
 * the state); 0 where a scale is not usable. */
static int int8_scales(fr_dn_build *b, const fr_conv_params *c, fr_u8q qx, float out_scale, float *osc,
                       float *winv, float **bias) {
    *bias = NULL;
    if (c->bias && !(*bias = malloc(sizeof(float) * (size_t)c->cout))) return -1;
    for (int co = 0; co < c->cout; co++) {
        float acc = qx.scale * c->int8_scale[co] * (c->weight_scale ? c->weight_scale[co] : 1.0f);
        osc[co] = acc / out_scale;
        winv[co] = 1.0f / c->int8_scale[co];
        if (acc == 0.0f || !isfinite(acc) || !isfinite(osc[co]) || !isfinite(winv[co])) return 0;
        if (*bias) (*bias)[co] = c->bias[co] / acc;
    }
    if (*bias && fr_dn_own(b->st, *bias) != FROST_OK) return -1;
    return 1;
}

frost_status fr_dn_build_int8(fr_dn_build *b) {
    const fr_step *s = b->step;
    fr_dn_state *st = b->st;
    fr_conv_params c;
    int64_t g[5]; /* n, ih, iw, oh, ow */
    if (!fr_dn_is_int8(st) || !as_conv(b, &c, g) || !c.int8_scale || c.residual >= 0) return FROST_OK;
    int x = s->inputs[0], y = s->output, dw = c.groups != 1;
    fr_u8q qx = st->value_q[x], qy = {1.0f, 0};
    dnnl_data_type_t xdt = fr_dn_value_dt(st, x), ydt = fr_dn_value_dt(st, y);
    const void *wsrc = c.weights ? (const void *)c.weights : c.weights_raw;
    if (!(qx.scale > 0) || b->plan->values[x].kind != FR_VALUE_ARENA || !wsrc) return FROST_OK;
    if ((c.out_quant && !fr_int8_fq_u8(c.out_quant, &qy)) || (!c.out_quant && ydt != dnnl_f32)) return FROST_OK;
    if ((xdt != dnnl_u8 && xdt != dnnl_f32) || (ydt != dnnl_u8 && ydt != dnnl_f32)) return FROST_OK;

    float *osc = malloc(sizeof(float) * (size_t)c.cout * 2), *bias = NULL;
    if (!osc) return FROST_E_NO_MEMORY;
    float *winv = osc + c.cout;
    int ok = int8_scales(b, &c, qx, qy.scale, osc, winv, &bias);
    if (ok <= 0) {
        free(osc);
        free(bias);
        return ok < 0 ? FROST_E_NO_MEMORY : FROST_OK;
    }
    /* without VNNI: weights whose pairs can saturate go as h + rest (int8_pairs.c) */
    int vnni = fr_dn_int8_vnni(), n_rest = 0;
    float *h = NULL;
    fr_dn_i8rest *rest = NULL;
    int splits = fr_kernels_act_ok(c.act) && fr_dn_int8_epilogue_temp(&c, g); /* else the step stays float */
    if (!vnni && !dw && (!splits || fr_dn_int8_split(&c, wsrc, winv, &h, &rest, &n_rest) != FROST_OK)) {
        free(osc);
        return splits ? FROST_E_NO_MEMORY : FROST_OK;
    }
    if (!n_rest) free(h), h = NULL;
    /* descriptors: the source as u8, the destination as u8 (out_quant) or f32;
     * with a rest, the convolution's s32 sums (acc) */
    dnnl_data_type_t cdt = c.out_quant ? dnnl_u8 : dnnl_f32;
    dnnl_memory_desc_t xval, xq, yval, yq, acc, wmd, wuser, bmd;
    fr_dn_md_nhwc(&acc, g[0], c.cout, g[3], g[4], dnnl_s32);
    fr_dn_md_nhwc(&xval, g[0], c.cin, g[1], g[2], xdt);
    fr_dn_md_nhwc(&xq, g[0], c.cin, g[1], g[2], dnnl_u8);
    fr_dn_md_nhwc(&yval, g[0], c.cout, g[3], g[4], ydt);
    fr_dn_md_nhwc(&yq, g[0], c.cout, g[3], g[4], cdt);
    if (!dw) {
        fr_dn_md_hwio(&wuser, &c);
        dnnl_memory_desc_init_by_tag(&wmd, 4, wuser.dims, dnnl_s8, dnnl_format_tag_any);
    } else {
        int64_t mult = c.cout / c.cin;
        dnnl_dims_t wd = {c.cin, mult, 1, c.kh, c.kw};
        dnnl_dims_t ws = {mult, 1, mult, (int64_t)c.kw * c.cin * mult, (int64_t)c.cin * mult};
        dnnl_memory_desc_init_by_tag(&wmd, 5, wd, dnnl_s8, dnnl_format_tag_any);
        dnnl_memory_desc_init_by_strides(&wuser, 5, wd, dnnl_f32, ws);
    }
    dnnl_dims_t bd = {c.cout};
    dnnl_memory_desc_init_by_tag(&bmd, 1, bd, dnnl_f32, dnnl_a);

    dnnl_primitive_attr_t attr = NULL;
    frost_status r = fr_dn_attr(b, NULL, FR_ACT_NONE, 0.f, &attr);
    if (r != FROST_OK) {
        free(osc);
        free(h);
        free(rest);
        return r;
    }
    dnnl_status_t ds = dnnl_success;
    if (ds == dnnl_success && qx.zero_point)
        ds = dnnl_primitive_attr_set_zero_points(attr, DNNL_ARG_SRC, 1, 0, &qx.zero_point);
    if (!n_rest) { /* the epilogue in oneDNN's convolution */
        if (ds == dnnl_success) ds = dnnl_primitive_attr_set_output_scales(attr, c.cout, 1 << 1, osc);
        if (ds == dnnl_success && qy.zero_point)
            ds = dnnl_primitive_attr_set_zero_points(attr, DNNL_ARG_DST, 1, 0, &qy.zero_point);
        if (ds == dnnl_success) ds = act_post_ops(attr, c.act, c.alpha, c.out_quant, qy.scale);
    }
    dnnl_convolution_desc_t cd;
    dnnl_dims_t strides = {c.stride_h, c.stride_w}, dil = {c.dil_h - 1, c.dil_w - 1};
    dnnl_dims_t pl = {c.pad_top, c.pad_left}, pr = {c.pad_bottom, c.pad_right};
    if (ds == dnnl_success)
        ds = dnnl_dilated_convolution_forward_desc_init(&cd, dnnl_forward_inference, dnnl_convolution_direct, &xq,
                                                        &wmd, c.bias && !n_rest ? &bmd : NULL,
                                                        n_rest ? &acc : &yq, strides, dil, pl, pr);
    dnnl_primitive_desc_t pd = NULL;
    if (ds == dnnl_success) r = fr_dn_make_pd(b, &pd, &cd, attr);
    dnnl_primitive_attr_destroy(attr);
    dnnl_memory_desc_t wfinal;
    if (pd) wfinal = *dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 0);
    /* without VNNI, only in a layout whose pairs are the ones checked */
    if (r != FROST_OK || !pd || (!vnni && !fr_dn_int8_pairs_layout(&wfinal, dw))) {
        dnnl_primitive_desc_destroy(pd);
        free(osc);
        free(h);
        free(rest);
        return r;
    }
    /* weights: the plan's divided by int8_scale (integers; h with a rest), reordered once */
    const void *wbuf = NULL;
    if (n_rest) r = fr_dn_reorder_weights(b, &wuser, h, NULL, 0, 0, &wfinal, &wbuf);
    else r = fr_dn_reorder_weights(b, &wuser, wsrc, winv, c.cout, dw ? 3 : 1, &wfinal, &wbuf);
    free(h);
    if (r == FROST_OK) r = set_kernel(b, n_rest ? "pairs:" : "", fr_dn_impl(pd));
    dnnl_primitive_t conv = NULL;
    if (r == FROST_OK) r = fr_dn_make_prim(b, pd, &conv);
    fr_dn_arg sp = fr_dn_arg_scratch(pd);
    dnnl_primitive_desc_destroy(pd);
    if (r != FROST_OK) {
        free(osc);
        free(rest);
        dnnl_primitive_destroy(conv);
        return r;
    }
    size_t cursor = 0;
    fr_dn_arg src = ARG_VALUE(DNNL_ARG_SRC, x, xq), dst = ARG_VALUE(DNNL_ARG_DST, y, yq);
    if (xdt != dnnl_u8) { /* an f32 source on the grid: quantized exactly */
        src = ARG_TEMP(DNNL_ARG_SRC, fr_dn_temp(b, dnnl_memory_desc_get_size(&xq), &cursor), xq);
        r = add_requant(b, ARG_VALUE(0, x, xval), src, 1.0f / qx.scale, 0, qx.zero_point);
    }
    if (ydt != cdt) dst = ARG_TEMP(DNNL_ARG_DST, fr_dn_temp(b, dnnl_memory_desc_get_size(&yq), &cursor), yq);
    fr_dn_arg sums = ARG_TEMP(DNNL_ARG_DST, n_rest ? fr_dn_temp(b, dnnl_memory_desc_get_size(&acc), &cursor) : 0, acc);
    fr_dn_arg args[5];
    int na = 0;
    args[na++] = src;
    args[na++] = ARG_PTR(DNNL_ARG_WEIGHTS, wbuf, wfinal);
    if (c.bias && !n_rest) args[na++] = ARG_PTR(DNNL_ARG_BIAS, bias, bmd);
    args[na++] = n_rest ? sums : dst;
    args[na++] = sp;
    if (r == FROST_OK) r = fr_dn_add_exec(b, conv, args, na);
    else dnnl_primitive_destroy(conv);
    if (r == FROST_OK && n_rest) {
        dnnl_memory_desc_t tmd;
        int64_t tb = (int64_t)fr_dn_int8_epilogue_temp(&c, g);
        fr_dn_md_plain(&tmd, 1, &tb, dnnl_u8);
        fr_dn_arg ea[4] = {src, sums, dst, ARG_TEMP(0, fr_dn_temp(b, (size_t)tb, &cursor), tmd)};
        r = fr_dn_int8_add_epilogue(b, &c, g, qx.zero_point, &qy, bias, osc, rest, n_rest, ea);
    }
    free(osc);
    free(rest);
    /* out_quant into an f32 value: back from the u8 temporary */
    if (r == FROST_OK && ydt != cdt) r = add_requant(b, dst, ARG_VALUE(0, y, yval), qy.scale, qy.zero_point, 0);
    b->out->own_weights = 1;
    return r;
}
