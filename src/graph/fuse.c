/* Fusion passes over the lowered steps (fuse.h). */
#include "graph/fuse.h"

#include "graph/int8.h"

#include <stdio.h>
#include <string.h>

static int alive_single_use(fr_builder *b, int v) {
    return v >= 0 && b->vals[v].v.kind == FR_VALUE_ARENA && b->vals[v].uses == 1 && !b->vals[v].is_output &&
           !b->vals[v].is_input && b->vals[v].producer >= 0;
}

static char *join_label(fr_builder *b, const char *a, const char *c) {
    size_t n = strlen(a) + strlen(c) + 2;
    char *s = fr_b_alloc(b, n);
    if (s) snprintf(s, n, "%s+%s", a, c);
    return s;
}

static float *own_copy(fr_builder *b, const float *src, size_t n) {
    float *d = fr_b_alloc(b, n * sizeof(float) + 4);
    if (d && src) memcpy(d, src, n * sizeof(float));
    return d;
}

/* Replace the output of step p with the output of (now dead) step s. */
static void take_output(fr_builder *b, int p, int s) {
    int old = b->steps[p].output;
    b->vals[old].uses = 0;
    b->vals[old].producer = -1;
    b->steps[p].output = b->steps[s].output;
    b->vals[b->steps[s].output].producer = p;
    b->steps[s].kind = FR_STEP_KIND_COUNT_; /* dead */
}

static int fuse_scale_shift(fr_builder *b, int i) {
    fr_step *s = &b->steps[i];
    int x = s->inputs[0];
    if (!alive_single_use(b, x)) return 0;
    int pi = b->vals[x].producer;
    fr_step *p = &b->steps[pi];
    const fr_scale_shift_params *ss = &s->p.scale_shift;
    if (ss->act != FR_ACT_NONE) return 0;
    int is_bn = strstr(s->label, "BatchNorm") || !strncmp(s->label, "Mul", 3);
    if (p->kind == FR_STEP_CONV || (p->kind == FR_STEP_MATMUL && p->p.matmul.weights)) {
        int conv = p->kind == FR_STEP_CONV;
        fr_act act = conv ? p->p.conv.act : p->p.matmul.act;
        int res = conv ? p->p.conv.residual : p->p.matmul.residual;
        int cout = conv ? p->p.conv.cout : p->p.matmul.n;
        if (act != FR_ACT_NONE || res >= 0 || cout != ss->channels) return 0;
        const float *bias = conv ? p->p.conv.bias : p->p.matmul.bias;
        int unit = 1; /* a pure shift (BiasAdd) leaves the weights as they are (maybe in the file's map) */
        for (int c = 0; c < cout; c++) unit &= ss->scale[c] == 1.0f;
        /* kept as the step's weight_scale, not multiplied into the weights (fuse.h) */
        const float *ws = conv ? p->p.conv.weight_scale : p->p.matmul.weight_scale;
        float *nb = own_copy(b, NULL, (size_t)cout), *nsc = unit ? NULL : own_copy(b, NULL, (size_t)cout);
        if (!nb || (!unit && !nsc)) return -1;
        if (!unit) {
            for (int c = 0; c < cout; c++) nsc[c] = (ws ? ws[c] : 1.0f) * ss->scale[c];
            if (conv) p->p.conv.weight_scale = nsc;
            else p->p.matmul.weight_scale = nsc;
        }
        for (int c = 0; c < cout; c++) nb[c] = (bias ? bias[c] : 0.0f) * ss->scale[c] + ss->shift[c];
        if (conv) p->p.conv.bias = nb;
        else p->p.matmul.bias = nb;
    } else if (p->kind == FR_STEP_SCALE_SHIFT && p->p.scale_shift.act == FR_ACT_NONE &&
               p->p.scale_shift.channels == ss->channels) {
        int c = ss->channels;
        float *sc = own_copy(b, NULL, (size_t)c), *sh = own_copy(b, NULL, (size_t)c);
        if (!sc || !sh) return -1;
        for (int k = 0; k < c; k++) {
            sc[k] = p->p.scale_shift.scale[k] * ss->scale[k];
            sh[k] = p->p.scale_shift.shift[k] * ss->scale[k] + ss->shift[k];
        }
        p->p.scale_shift.scale = sc;
        p->p.scale_shift.shift = sh;
    } else {
        return 0;
    }
    if (is_bn) b->folded_batchnorms++;
    else b->fused_ops++;
    p->label = join_label(b, p->label, s->label);
    p->name = s->name;
    take_output(b, pi, i);
    return 0;
}

static int fuse_residual(fr_builder *b, int i) {
    fr_step *s = &b->steps[i];
    if (s->p.binary.op != FR_BIN_ADD || s->p.binary.act != FR_ACT_NONE) return 0;
    const fr_value *o = &b->vals[s->output].v;
    int best = -1, other = -1;
    for (int k = 0; k < 2; k++) {
        int x = s->inputs[k], y = s->inputs[1 - k];
        if (x == y || b->vals[y].v.kind != FR_VALUE_ARENA || !alive_single_use(b, x)) continue;
        if (b->vals[x].v.count != o->count || b->vals[y].v.count != o->count) continue;
        fr_step *p = &b->steps[b->vals[x].producer];
        int ok = (p->kind == FR_STEP_CONV && p->p.conv.residual < 0 && p->p.conv.act == FR_ACT_NONE) ||
                 (p->kind == FR_STEP_MATMUL && p->p.matmul.weights && p->p.matmul.residual < 0 &&
                  p->p.matmul.act == FR_ACT_NONE);
        if (ok && (best < 0 || b->vals[x].producer > b->vals[s->inputs[best]].producer)) best = k, other = y;
    }
    if (best < 0) return 0;
    int x = s->inputs[best], pi = b->vals[x].producer;
    fr_step moved = b->steps[pi];
    if (moved.kind == FR_STEP_CONV) moved.p.conv.residual = other;
    else moved.p.matmul.residual = other;
    moved.label = join_label(b, moved.label, s->label);
    moved.name = s->name;
    b->vals[x].uses = 0;
    b->vals[x].producer = -1;
    moved.output = s->output;
    b->steps[i] = moved;
    b->vals[s->output].producer = i;
    b->steps[pi].kind = FR_STEP_KIND_COUNT_;
    b->fused_ops++;
    return 0;
}

static int fuse_activation(fr_builder *b, int i) {
    fr_step *s = &b->steps[i];
    fr_act act;
    switch (s->p.unary.op) {
    case FR_UN_RELU: act = FR_ACT_RELU; break;
    case FR_UN_RELU6: act = FR_ACT_RELU6; break;
    case FR_UN_LEAKY_RELU: act = FR_ACT_LEAKY; break;
    case FR_UN_SIGMOID: act = FR_ACT_SIGMOID; break;
    case FR_UN_TANH: act = FR_ACT_TANH; break;
    default: return 0;
    }
    int x = s->inputs[0];
    if (!alive_single_use(b, x)) return 0;
    int pi = b->vals[x].producer;
    fr_step *p = &b->steps[pi];
    fr_act *pa;
    float *alpha;
    switch (p->kind) {
    case FR_STEP_CONV: pa = &p->p.conv.act, alpha = &p->p.conv.alpha; break;
    case FR_STEP_MATMUL: pa = &p->p.matmul.act, alpha = &p->p.matmul.alpha; break;
    case FR_STEP_SCALE_SHIFT: pa = &p->p.scale_shift.act, alpha = &p->p.scale_shift.alpha; break;
    case FR_STEP_BINARY: pa = &p->p.binary.act, alpha = &p->p.binary.alpha; break;
    default: return 0;
    }
    if (*pa != FR_ACT_NONE) return 0;
    *pa = act;
    *alpha = s->p.unary.alpha;
    p->label = join_label(b, p->label, s->label);
    p->name = s->name;
    take_output(b, pi, i);
    b->fused_ops++;
    return 0;
}

/* Pass 4 (fuse.h): the pool step i becomes the bias-free convolution and the
 * convolution step j the pool, which takes over its bias and activation. */
static int commute_avgpool_conv(fr_builder *b, int j) {
    fr_step *k = &b->steps[j];
    const fr_conv_params *c = &k->p.conv;
    if (c->kh != 1 || c->kw != 1 || c->stride_h != 1 || c->stride_w != 1 || c->groups != 1 || c->residual >= 0 ||
        c->pad_top || c->pad_bottom || c->pad_left || c->pad_right || c->cout >= c->cin)
        return 0;
    int pv = k->inputs[0];
    if (!alive_single_use(b, pv)) return 0;
    int i = b->vals[pv].producer;
    fr_step *p = &b->steps[i];
    if (p->kind != FR_STEP_POOL || p->p.pool.op != FR_POOL_AVG || p->p.pool.bias || p->p.pool.act != FR_ACT_NONE)
        return 0;
    const fr_value *x = &b->vals[p->inputs[0]].v, *pooled = &b->vals[pv].v;
    if (x->rank != 4 || pooled->dims[1] != x->dims[1] || pooled->dims[2] != x->dims[2]) return 0;
    int *in = fr_b_alloc(b, sizeof(int));
    char *label = join_label(b, p->label, c->act != FR_ACT_NONE ? "BiasAdd+Act" : "BiasAdd");
    if (!in || !label) return -1;
    fr_step pool = *p, conv = *k;
    /* step i: conv1x1(x) without its epilogue, into the pool's value (now cout channels) */
    conv.inputs = pool.inputs;
    conv.output = pv;
    conv.p.conv.bias = NULL;
    conv.p.conv.act = FR_ACT_NONE;
    conv.p.conv.alpha = 0;
    fr_value *t = &b->vals[pv].v;
    t->dims[3] = c->cout;
    t->count = (size_t)t->dims[0] * (size_t)t->dims[1] * (size_t)t->dims[2] * (size_t)c->cout;
    /* step j: avgpool(t) + bias, activation, into the convolution's output */
    *in = pv;
    pool.inputs = in;
    pool.output = k->output;
    pool.p.pool.bias = c->bias;
    pool.p.pool.act = c->act;
    pool.p.pool.alpha = c->alpha;
    pool.label = label;
    b->steps[i] = conv;
    b->steps[j] = pool;
    b->fused_ops++;
    return 0;
}

/* The step that alone reads value v, or -1. */
static int sole_reader(fr_builder *b, int v, int after) {
    if (!alive_single_use(b, v)) return -1;
    for (int k = after + 1; k < b->ns; k++)
        if (b->steps[k].kind != FR_STEP_KIND_COUNT_)
            for (int j = 0; j < b->steps[k].n_inputs; j++)
                if (b->steps[k].inputs[j] == v) return k;
    return -1;
}

/* The u8 FakeQuant that step s ends with (its out_quant, or s itself), or NULL. */
static fr_fake_quant_params *quantized_output(fr_step *s) {
    fr_u8q q;
    fr_fake_quant_params *p = s->kind == FR_STEP_FAKE_QUANT ? &s->p.fake_quant
                              : s->kind == FR_STEP_CONV     ? (fr_fake_quant_params *)s->p.conv.out_quant
                              : s->kind == FR_STEP_MATMUL   ? (fr_fake_quant_params *)s->p.matmul.out_quant
                                                            : NULL;
    return p && fr_int8_fq_u8(p, &q) ? p : NULL;
}

/* Step i takes over the output and name of FakeQuant step j (now dead). */
static void take_fake_quant(fr_builder *b, int i, int j, char *label) {
    b->steps[i].label = label;
    b->steps[i].name = b->steps[j].name;
    take_output(b, i, j);
    b->fused_ops++;
}

/* Pass 5 (int8 compiles, graph/int8.h): whether value v holds quantized
 * values: a u8 FakeQuant's output, or a max pool of them. */
static int int8_quantized(fr_builder *b, int v) {
    for (int depth = 0; depth < 64 && v >= 0 && b->vals[v].producer >= 0; depth++) {
        const fr_step *p = &b->steps[b->vals[v].producer];
        fr_u8q q;
        if (p->kind == FR_STEP_FAKE_QUANT) return fr_int8_fq_u8(&p->p.fake_quant, &q);
        if (p->kind == FR_STEP_CONV && p->p.conv.out_quant) return 1;
        if (p->kind == FR_STEP_MATMUL && p->p.matmul.out_quant) return 1;
        if (p->kind != FR_STEP_POOL || p->p.pool.op != FR_POOL_MAX || p->p.pool.bias || p->p.pool.act != FR_ACT_NONE)
            return 0;
        v = p->inputs[0];
    }
    return 0;
}

/* Pass 5: int8_scale on the conv / matmul step i where its input is
 * quantized and its weights are on an int8 grid, and the FakeQuant that
 * alone reads its output fused in as out_quant. */
static int mark_int8(fr_builder *b, int i) {
    fr_step *s = &b->steps[i];
    int conv = s->kind == FR_STEP_CONV;
    if (!conv && !(s->kind == FR_STEP_MATMUL && s->p.matmul.weights)) return 0;
    if (fr_step_residual(s) >= 0 || !int8_quantized(b, s->inputs[0])) return 0;
    const float *w = conv ? s->p.conv.weights : s->p.matmul.weights;
    const void *raw = conv ? s->p.conv.weights_raw : NULL;
    int cols = conv ? s->p.conv.cout : s->p.matmul.n;
    size_t rows = conv ? fr_conv_weight_count(&s->p.conv) / (size_t)cols : (size_t)s->p.matmul.k;
    float *scale = fr_b_alloc(b, sizeof(float) * (size_t)cols);
    if (!scale) return -1;
    if (!fr_int8_weight_scales(w, raw, rows, cols, scale)) return 0;
    if (conv) s->p.conv.int8_scale = scale;
    else s->p.matmul.int8_scale = scale;
    /* the FakeQuant after it */
    int y = s->output;
    fr_act act = conv ? s->p.conv.act : s->p.matmul.act;
    if (act != FR_ACT_NONE && act != FR_ACT_RELU && act != FR_ACT_RELU6 &&
        !(act == FR_ACT_LEAKY && (conv ? s->p.conv.alpha : s->p.matmul.alpha) >= 0))
        return 0;
    int j = sole_reader(b, y, i);
    fr_u8q q;
    if (j < 0 || b->steps[j].kind != FR_STEP_FAKE_QUANT || !fr_int8_fq_u8(&b->steps[j].p.fake_quant, &q)) return 0;
    fr_fake_quant_params *oq = fr_b_alloc(b, sizeof *oq);
    char *label = join_label(b, s->label, b->steps[j].label);
    if (!oq || !label) return -1;
    s = &b->steps[i];
    *oq = b->steps[j].p.fake_quant;
    if (conv) s->p.conv.out_quant = oq;
    else s->p.matmul.out_quant = oq;
    take_fake_quant(b, i, j, label);
    return 0;
}

/* Pass 5, concatenations: where every input of concat step i is a u8
 * FakeQuant's output (of a FakeQuant step or a conv's out_quant) read by
 * the concatenation alone, and a u8 FakeQuant alone reads its output, the
 * inputs are quantized onto that FakeQuant's grid directly (clamped to their
 * own ranges first: fr_fake_quant_params.clip) and it is fused into the
 * concatenation, which then joins values of one grid (u8 for an int8
 * backend).  The one rounding in place of two moves a value by one step of
 * the output's grid at most (int8.h). */
static int concat_on_grid(fr_builder *b, int i) {
    fr_step *s = &b->steps[i];
    int j = sole_reader(b, s->output, i);
    fr_u8q q;
    if (j < 0 || b->steps[j].kind != FR_STEP_FAKE_QUANT || !fr_int8_fq_u8(&b->steps[j].p.fake_quant, &q)) return 0;
    for (int k = 0; k < s->n_inputs; k++) {
        int v = s->inputs[k];
        if (sole_reader(b, v, b->vals[v].producer) != i || !quantized_output(&b->steps[b->vals[v].producer]))
            return 0;
    }
    char *label = join_label(b, s->label, b->steps[j].label);
    if (!label) return -1;
    for (int k = 0; k < s->n_inputs; k++) {
        fr_step *p = &b->steps[b->vals[s->inputs[k]].producer];
        const fr_fake_quant_params *own = quantized_output(p);
        fr_fake_quant_params *grid = fr_b_alloc(b, sizeof *grid);
        if (!grid) return -1;
        /* the grid of the output, clamped to the input's own range first */
        *grid = b->steps[j].p.fake_quant;
        grid->clip = 1;
        grid->clip_min = own->ranges[0].nudged_min;
        grid->clip_max = own->ranges[0].nudged_max;
        if (own->clip) {
            grid->clip_min = own->clip_min > grid->clip_min ? own->clip_min : grid->clip_min;
            grid->clip_max = own->clip_max < grid->clip_max ? own->clip_max : grid->clip_max;
        }
        if (p->kind == FR_STEP_FAKE_QUANT) p->p.fake_quant = *grid;
        else if (p->kind == FR_STEP_CONV) p->p.conv.out_quant = grid;
        else p->p.matmul.out_quant = grid;
    }
    take_fake_quant(b, i, j, label);
    return 0;
}

/* Pass 5, the other concatenations: the u8 FakeQuant that alone reads the
 * output of concat step i (whose inputs concat_on_grid could not put on one
 * grid: Inception v3's nested concatenations) fused into it as out_quant;
 * the same values, the FakeQuant applied after the concatenation. */
static int concat_quant(fr_builder *b, int i) {
    fr_step *s = &b->steps[i];
    int j = sole_reader(b, s->output, i);
    fr_u8q q;
    if (s->p.concat.out_quant || j < 0 || b->steps[j].kind != FR_STEP_FAKE_QUANT ||
        !fr_int8_fq_u8(&b->steps[j].p.fake_quant, &q))
        return 0;
    fr_fake_quant_params *oq = fr_b_alloc(b, sizeof *oq);
    char *label = join_label(b, s->label, b->steps[j].label);
    if (!oq || !label) return -1;
    s = &b->steps[i];
    *oq = b->steps[j].p.fake_quant;
    s->p.concat.out_quant = oq;
    take_fake_quant(b, i, j, label);
    return 0;
}

void fr_fuse_steps(fr_builder *b) {
    for (int i = 0; i < b->ns && b->status == FROST_OK; i++)
        if (b->steps[i].kind == FR_STEP_SCALE_SHIFT) fuse_scale_shift(b, i);
    for (int i = 0; i < b->ns && b->status == FROST_OK; i++)
        if (b->steps[i].kind == FR_STEP_BINARY) fuse_residual(b, i);
    for (int i = 0; i < b->ns && b->status == FROST_OK; i++)
        if (b->steps[i].kind == FR_STEP_UNARY) fuse_activation(b, i);
    for (int i = 0; i < b->ns && b->status == FROST_OK; i++)
        if (b->steps[i].kind == FR_STEP_CONV) commute_avgpool_conv(b, i);
    for (int i = 0; i < b->ns && b->status == FROST_OK && b->int8; i++) mark_int8(b, i);
    for (int i = 0; i < b->ns && b->status == FROST_OK && b->int8; i++)
        if (b->steps[i].kind == FR_STEP_CONCAT) concat_on_grid(b, i);
    for (int i = 0; i < b->ns && b->status == FROST_OK && b->int8; i++)
        if (b->steps[i].kind == FR_STEP_CONCAT) concat_quant(b, i);
}

