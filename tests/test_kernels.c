/* frost-test-labels: asan */
/* frost's own kernels (src/kernels/) and the oneDNN backend against the
 * reference kernels, step by step.
 *
 * Each case builds a one- or two-step plan by hand (the plan is plain data),
 * runs it with the reference kernels and with the code under test on
 * separate arenas holding the same inputs, and compares the outputs: FP32
 * within a relative 1e-4 (|a - b| / max(1, |b|)); Winograd and bf16 within
 * looser, stated bounds.  Shapes are deliberately odd: odd H/W, stride 2
 * with SAME (asymmetric) padding, dilation, depthwise multiplier 2, channel
 * counts that are not multiples of 8 or 16, batch > 1, fused residual add.
 *
 * In every build, with oneDNN or without:
 *   - the selection (src/kernels/select.c): its rules on the layers their
 *     measurements cite, an instruction set never picked where the CPU
 *     check says no, and its choice for every case below as on an AVX2 CPU
 *     (where frost's kernels replace oneDNN's AVX2 direct convolution);
 *   - frost's kernels run directly (indirect GEMM, packed GEMM, Winograd,
 *     NHWC pooling), in their AVX2 and portable forms, on 1, 2, 3 and 5
 *     threads with bit-identical outputs, from aligned and from unaligned,
 *     scaled weights.
 * With oneDNN (FROST_HAVE_ONEDNN): the oneDNN backend, every FP32 case of
 * which must be claimed (a case oneDNN silently declined would compare the
 * reference with itself), running frost's kernels where it picks them. */
#include <stdlib.h>
#include <string.h>

#include "backend/backend.h"
#include "kernels/igemm.h"
#include "kernels/kernels.h"
#include "testutil.h"

#ifdef FROST_HAVE_ONEDNN
#include "backend/onednn/onednn.h"
#endif

/* ------------------------------------------------- plans built by hand --- */

#define MAXV 16
#define MAXS 4

typedef struct tplan {
    fr_value values[MAXV];
    int nv;
    fr_step steps[MAXS];
    int step_inputs[MAXS][8];
    int ns;
    int inputs[MAXV], n_inputs;
    size_t arena;
    float *consts[MAXV];
    int nconsts;
    uint32_t seed;
    /* per step, NULL or a text its kernel's name must contain ("!text":
     * must not contain) */
    const char *want_kernel[MAXS];
    /* the backend gets each convolution's weights as a folded batch norm
     * leaves them in the file: unaligned bytes (weights_raw) and a
     * per-channel weight_scale, instead of `weights` */
    int raw_weights;
    /* if set: a malloc'ed copy of the backend's output (out_count floats) */
    float **out_copy;
    size_t out_count;
} tplan;

static float rnd(uint32_t *s) {
    *s = *s * 1664525u + 1013904223u;
    return (float)((*s >> 8) & 0xffff) / 32768.0f - 1.0f;
}

static void tp_init(tplan *t, uint32_t seed) {
    memset(t, 0, sizeof(*t));
    t->seed = seed;
}

static void tp_free(tplan *t) {
    for (int i = 0; i < t->nconsts; i++) free(t->consts[i]);
}

/* A value of the given shape: an arena activation, or (is_const) random constant data. */
static int tp_value(tplan *t, int is_const, int rank, int64_t d0, int64_t d1, int64_t d2, int64_t d3) {
    fr_value *v = &t->values[t->nv];
    int64_t d[4] = {d0, d1, d2, d3};
    v->name = "v";
    v->rank = rank;
    v->count = 1;
    for (int i = 0; i < rank; i++) {
        v->dims[i] = d[i];
        v->count *= (size_t)d[i];
    }
    if (is_const) {
        float *c = malloc(v->count * sizeof(float));
        for (size_t i = 0; i < v->count; i++) c[i] = rnd(&t->seed);
        t->consts[t->nconsts++] = c;
        v->kind = FR_VALUE_CONST;
        v->data = c;
    } else {
        v->kind = FR_VALUE_ARENA;
        v->offset = t->arena;
        t->arena += (v->count * sizeof(float) + FR_ARENA_ALIGN - 1) / FR_ARENA_ALIGN * FR_ARENA_ALIGN;
    }
    return t->nv++;
}

static const float *tp_const(tplan *t, size_t n, float scale) {
    float *c = malloc(n * sizeof(float));
    for (size_t i = 0; i < n; i++) c[i] = scale * rnd(&t->seed);
    t->consts[t->nconsts++] = c;
    return c;
}

static fr_step *tp_step(tplan *t, fr_step_kind kind, const char *label, int n_in, const int *in, int out) {
    fr_step *s = &t->steps[t->ns];
    memset(s, 0, sizeof(*s));
    s->kind = kind;
    s->name = label;
    s->label = label;
    s->n_inputs = n_in;
    memcpy(t->step_inputs[t->ns], in, sizeof(int) * (size_t)n_in);
    s->inputs = t->step_inputs[t->ns];
    s->output = out;
    t->ns++;
    return s;
}

static int produced(const tplan *t, int id) {
    for (int i = 0; i < t->ns; i++)
        if (t->steps[i].output == id) return 1;
    return 0;
}

/* The plan of t in *p (its inputs: the arena values no step writes; its
 * output *out, the last step's). */
static void tp_plan(tplan *t, fr_plan *p, int *out) {
    memset(p, 0, sizeof(*p));
    *out = t->steps[t->ns - 1].output;
    t->n_inputs = 0;
    for (int i = 0; i < t->nv; i++)
        if (t->values[i].kind == FR_VALUE_ARENA && !produced(t, i)) t->inputs[t->n_inputs++] = i;
    p->batch = (int)t->values[t->inputs[0]].dims[0];
    p->n_values = t->nv;
    p->values = t->values;
    p->n_steps = t->ns;
    p->steps = t->steps;
    p->n_inputs = t->n_inputs;
    p->inputs = t->inputs;
    p->n_outputs = 1;
    p->outputs = out;
    p->arena_bytes = t->arena;
}

/* Two arenas holding the same random inputs (NaN elsewhere); free() them. */
static void tp_arenas(tplan *t, float **a, float **b) {
    *a = aligned_alloc(64, t->arena);
    *b = aligned_alloc(64, t->arena);
    for (size_t i = 0; i < t->arena / sizeof(float); i++) (*a)[i] = NAN;
    for (int k = 0; k < t->n_inputs; k++) {
        const fr_value *v = &t->values[t->inputs[k]];
        float *x = (float *)((char *)*a + v->offset);
        for (size_t i = 0; i < v->count; i++) x[i] = rnd(&t->seed);
    }
    memcpy(*b, *a, t->arena);
}

/* Every step of p with the reference kernels, on arena a. */
static void tp_reference(const fr_plan *p, void *a, const char *what) {
    for (int i = 0; i < p->n_steps; i++) {
        frost_status s = fr_ref_run_step(p, i, a);
        CHECK_MSG(s == FROST_OK, "%s: reference step %d failed", what, i);
    }
}

/* Each convolution's weights as a folded batch norm leaves them in the file
 * (tplan.raw_weights): unaligned bytes (weights_raw) and a per-channel
 * weight_scale, instead of `weights`; tp_raw_free() frees them. */
typedef struct tp_raw {
    void *mem[MAXS];
    float *scale[MAXS];
} tp_raw;

static void tp_raw_weights(tplan *t, tp_raw *r) {
    memset(r, 0, sizeof(*r));
    for (int i = 0; i < t->ns; i++) {
        fr_conv_params *c = &t->steps[i].p.conv;
        if (t->steps[i].kind != FR_STEP_CONV || !c->weights) continue;
        size_t n = (size_t)c->kh * (size_t)c->kw * (size_t)c->cin / (size_t)c->groups * (size_t)c->cout;
        r->mem[i] = malloc(n * sizeof(float) + 3);
        r->scale[i] = malloc(sizeof(float) * (size_t)c->cout);
        for (int o = 0; o < c->cout; o++) r->scale[i][o] = 0.5f + 0.25f * (float)(o % 5);
        char *bytes = (char *)r->mem[i] + 3; /* never 4-byte aligned */
        for (size_t e = 0; e < n; e++) {
            float v = c->weights[e] / r->scale[i][e % (size_t)c->cout];
            memcpy(bytes + e * sizeof(float), &v, sizeof(float));
        }
        c->weights = NULL;
        c->weights_raw = bytes;
        c->weight_scale = r->scale[i];
    }
}

static void tp_raw_free(tp_raw *r) {
    for (int i = 0; i < MAXS; i++) free(r->mem[i]), free(r->scale[i]);
}

/* TensorFlow SAME padding of one dimension. */
static int same_out(int in, int k, int s, int d, int *before, int *after) {
    int out = (in + s - 1) / s;
    int keff = (k - 1) * d + 1;
    int total = (out - 1) * s + keff - in;
    if (total < 0) total = 0;
    *before = total / 2;
    *after = total - *before;
    return out;
}

typedef struct conv_case {
    const char *what;
    int n, h, w, cin, cout; /* cout: multiplier for depthwise */
    int kh, kw, sh, sw, dh, dw;
    int same, depthwise, bias, residual;
    fr_act act;
    const char *want; /* want_kernel of the step, or NULL */
} conv_case;

/* The one-step plan of a convolution case, seeded with `seed`. */
static void conv_plan(tplan *t, const conv_case *k, uint32_t seed) {
    tp_init(t, seed);
    int pt = 0, pb = 0, pl = 0, pr = 0, oh, ow;
    if (k->same) {
        oh = same_out(k->h, k->kh, k->sh, k->dh, &pt, &pb);
        ow = same_out(k->w, k->kw, k->sw, k->dw, &pl, &pr);
    } else {
        oh = (k->h - (k->kh - 1) * k->dh + k->sh - 1) / k->sh;
        ow = (k->w - (k->kw - 1) * k->dw + k->sw - 1) / k->sw;
    }
    int cout = k->depthwise ? k->cin * k->cout : k->cout;
    int x = tp_value(t, 0, 4, k->n, k->h, k->w, k->cin);
    int r = k->residual ? tp_value(t, 0, 4, k->n, oh, ow, cout) : -1;
    int y = tp_value(t, 0, 4, k->n, oh, ow, cout);
    int in[2] = {x, r};
    fr_step *s = tp_step(t, FR_STEP_CONV, k->what, k->residual ? 2 : 1, in, y);
    fr_conv_params *c = &s->p.conv;
    c->kh = k->kh;
    c->kw = k->kw;
    c->cin = k->cin;
    c->cout = cout;
    c->groups = k->depthwise ? k->cin : 1;
    c->stride_h = k->sh;
    c->stride_w = k->sw;
    c->dil_h = k->dh;
    c->dil_w = k->dw;
    c->pad_top = pt;
    c->pad_bottom = pb;
    c->pad_left = pl;
    c->pad_right = pr;
    size_t wn = (size_t)k->kh * k->kw * k->cin * (k->depthwise ? k->cout : cout);
    c->weights = tp_const(t, wn, 0.5f);
    c->bias = k->bias ? tp_const(t, (size_t)cout, 1.0f) : NULL;
    c->act = k->act;
    c->alpha = 0.2f;
    c->residual = r;
    s->flops = 2 * (int64_t)k->n * oh * ow * cout * k->kh * k->kw * (k->depthwise ? 1 : k->cin);
    t->want_kernel[0] = k->want;
}

typedef struct pool_case {
    const char *what;
    fr_pool_op op;
    int n, h, w, c, k, st, same;
    uint32_t seed;
    int bias;
    fr_act act;
} pool_case;

/* The one-step plan of a pooling case. */
static void pool_plan(tplan *t, const pool_case *q) {
    tp_init(t, q->seed);
    int pt = 0, pb = 0, pl = 0, pr = 0, oh, ow;
    if (q->same) {
        oh = same_out(q->h, q->k, q->st, 1, &pt, &pb);
        ow = same_out(q->w, q->k, q->st, 1, &pl, &pr);
    } else {
        oh = (q->h - q->k + q->st) / q->st;
        ow = (q->w - q->k + q->st) / q->st;
    }
    int x = tp_value(t, 0, 4, q->n, q->h, q->w, q->c);
    int y = tp_value(t, 0, 4, q->n, oh, ow, q->c);
    fr_step *s = tp_step(t, FR_STEP_POOL, q->what, 1, &x, y);
    s->p.pool = (fr_pool_params){q->op, q->k, q->k, q->st, q->st, pt, pb, pl, pr,
                                 q->bias ? tp_const(t, (size_t)q->c, 1.f) : NULL, q->act, 0.f};
}

static const conv_case conv_cases[] = {
    /* what                                    n  h   w  cin cout kh kw sh sw dh dw same dw bias res act */
    {"conv 3x3 s1 SAME odd 7x9 c3->5 relu", 1, 7, 9, 3, 5, 3, 3, 1, 1, 1, 1, 1, 0, 1, 0, FR_ACT_RELU, NULL},
    {"conv 3x3 s2 SAME even 8x8 c13->17", 1, 8, 8, 13, 17, 3, 3, 2, 2, 1, 1, 1, 0, 1, 0, FR_ACT_NONE, NULL},
    {"conv 3x3 s2 VALID odd 11x11 c32->32", 2, 11, 11, 32, 32, 3, 3, 2, 2, 1, 1, 0, 0, 1, 0, FR_ACT_RELU, NULL},
    {"conv 1x1 batch 3 c19->24 relu6", 3, 5, 6, 19, 24, 1, 1, 1, 1, 1, 1, 1, 0, 1, 0, FR_ACT_RELU6, NULL},
    {"conv 1x7 SAME c24->20", 1, 9, 9, 24, 20, 1, 7, 1, 1, 1, 1, 1, 0, 1, 0, FR_ACT_RELU, NULL},
    {"conv 7x1 SAME c20->24", 2, 9, 9, 20, 24, 7, 1, 1, 1, 1, 1, 1, 0, 1, 0, FR_ACT_RELU, NULL},
    {"conv 5x5 dilation 2 SAME c8->9 no bias", 1, 13, 11, 8, 9, 5, 5, 1, 1, 2, 2, 1, 0, 0, 0, FR_ACT_NONE, NULL},
    {"conv 3x3 dilation 3 s1 VALID c16->16 tanh", 1, 15, 12, 16, 16, 3, 3, 1, 1, 3, 3, 0, 0, 1, 0, FR_ACT_TANH, NULL},
    {"conv 3x3 s1 SAME residual + relu", 2, 7, 7, 16, 16, 3, 3, 1, 1, 1, 1, 1, 0, 1, 1, FR_ACT_RELU, NULL},
    {"conv 1x1 residual, no act, c24->40", 1, 14, 14, 24, 40, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, FR_ACT_NONE, NULL},
    {"conv 3x3 s1 leaky c64->64 batch 4", 4, 17, 17, 64, 64, 3, 3, 1, 1, 1, 1, 1, 0, 1, 0, FR_ACT_LEAKY, NULL},
    {"conv 3x3 s1 sigmoid c7->3", 1, 6, 5, 7, 3, 3, 3, 1, 1, 1, 1, 1, 0, 1, 0, FR_ACT_SIGMOID, NULL},
    {"conv 3x3 s2 SAME 299 c3->32 (stem)", 1, 299, 299, 3, 32, 3, 3, 2, 2, 1, 1, 0, 0, 1, 0, FR_ACT_RELU, NULL},
    {"depthwise 3x3 s1 SAME c32 relu6", 1, 14, 14, 32, 1, 3, 3, 1, 1, 1, 1, 1, 1, 1, 0, FR_ACT_RELU6, NULL},
    {"depthwise 3x3 s2 SAME odd c19 mult 2", 2, 9, 11, 19, 2, 3, 3, 2, 2, 1, 1, 1, 1, 1, 0, FR_ACT_RELU6, NULL},
    {"depthwise 5x5 dilation 2 c8 mult 1", 1, 12, 12, 8, 1, 5, 5, 1, 1, 2, 2, 1, 1, 1, 0, FR_ACT_NONE, NULL},
    {"depthwise 3x3 s2 VALID c13 mult 3 no bias", 1, 10, 10, 13, 3, 3, 3, 2, 2, 1, 1, 0, 1, 0, 0, FR_ACT_RELU, NULL},
    {"depthwise 3x3 residual c16", 1, 8, 8, 16, 1, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, FR_ACT_RELU6, NULL},
};

/* --winograd: frost's F(4x4, 3x3) and F(4x4, 5x5) where they pay
 * (fr_wino_pays: at least 16 output tiles per image, 32 channels in and
 * out), and the 1-D F(2, 7), F(4, 3), F(2, 5) from 16 tiles per image and
 * 32 channels (fr_wino1_pays), on every CPU.  Per image: the batch size
 * never changes a layer's kernel (nor so its weights). */
#define F4 "winograd_f4x4"
#define F45 "winograd_f4x4_5x5"
static const conv_case wino_cases[] = {
    /* what                                    n  h   w  cin cout kh kw sh sw dh dw same dw bias res act */
    {"wino SAME odd 23x21 c35->37 relu batch 2", 2, 23, 21, 35, 37, 3, 3, 1, 1, 1, 1, 1, 0, 1, 0, FR_ACT_RELU, F4},
    {"wino VALID 30x26 c32->41 no bias", 1, 30, 26, 32, 41, 3, 3, 1, 1, 1, 1, 0, 0, 0, 0, FR_ACT_NONE, F4},
    {"wino residual relu6 batch 3 13x13 c43->32", 3, 13, 13, 43, 32, 3, 3, 1, 1, 1, 1, 1, 0, 1, 1, FR_ACT_RELU6, F4},
    {"wino leaky 35x35 c64->96 (Inception)", 1, 35, 35, 64, 96, 3, 3, 1, 1, 1, 1, 1, 0, 1, 0, FR_ACT_LEAKY, F4},
    {"wino 13x13 c64->48 batch 4 (16 tiles)", 4, 13, 13, 64, 48, 3, 3, 1, 1, 1, 1, 1, 0, 1, 0, FR_ACT_RELU, F4},
    {"wino 8x8 c64->48 batch 4 (4 tiles per image: direct)", 4, 8, 8, 64, 48, 3, 3, 1, 1, 1, 1, 1, 0, 1, 0,
     FR_ACT_RELU, "!" F4},
    {"wino 40x40 c16->64 (16 in: direct)", 1, 40, 40, 16, 64, 3, 3, 1, 1, 1, 1, 1, 0, 1, 0, FR_ACT_RELU, "!" F4},
    {"wino sigmoid c32->32 (act not fused: direct)", 1, 24, 24, 32, 32, 3, 3, 1, 1, 1, 1, 1, 0, 1, 0, FR_ACT_SIGMOID,
     "!" F4},
    {"wino stride 2 (direct)", 1, 40, 40, 32, 32, 3, 3, 2, 2, 1, 1, 1, 0, 1, 0, FR_ACT_RELU, "!" F4},
    {"wino5 SAME 17x17 c64->96", 1, 17, 17, 64, 96, 5, 5, 1, 1, 1, 1, 1, 0, 1, 0, FR_ACT_RELU, F45},
    {"wino5 VALID odd 21x19 c67->64 residual relu6 batch 2", 2, 21, 19, 67, 64, 5, 5, 1, 1, 1, 1, 0, 0, 1, 1,
     FR_ACT_RELU6, F45},
    {"wino5 SAME 13x13 c64->69 no bias batch 4 (16 tiles)", 4, 13, 13, 64, 69, 5, 5, 1, 1, 1, 1, 1, 0, 0, 0,
     FR_ACT_NONE, F45},
    {"wino5 SAME 7x7 c64->69 batch 4 (4 tiles per image: direct)", 4, 7, 7, 64, 69, 5, 5, 1, 1, 1, 1, 1, 0, 0, 0,
     FR_ACT_NONE, "!wino"},
    {"wino5 SAME 7x7 c64->64 (4 tiles: direct)", 1, 7, 7, 64, 64, 5, 5, 1, 1, 1, 1, 1, 0, 1, 0, FR_ACT_RELU, "!wino"},
    {"wino5 35x35 c48->64 leaky (Inception)", 1, 35, 35, 48, 64, 5, 5, 1, 1, 1, 1, 1, 0, 1, 0, FR_ACT_LEAKY, F45},
    {"wino5 20x20 c24->64 (24 in: direct)", 1, 20, 20, 24, 64, 5, 5, 1, 1, 1, 1, 1, 0, 1, 0, FR_ACT_RELU, "!wino"},
    {"wino5 dilation 2 (direct)", 1, 20, 20, 32, 32, 5, 5, 1, 1, 2, 2, 1, 0, 1, 0, FR_ACT_RELU, "!wino"},
    {"wino 7x7 kernel (direct)", 1, 20, 20, 32, 32, 7, 7, 1, 1, 1, 1, 1, 0, 1, 0, FR_ACT_RELU, "!wino"},
    /* small maps: fewer than 16 tiles of 4x4 stay on the default kernels */
    {"wino SAME 7x7 c64->67 residual leaky (4 tiles)", 1, 7, 7, 64, 67, 3, 3, 1, 1, 1, 1, 1, 0, 1, 1, FR_ACT_LEAKY,
     "!wino"},
    /* 1-D: F(2, 7), F(4, 3), F(2, 5) along W (1 x r) or H (r x 1) */
    {"wino 1x7 SAME 17x17 c160->160 batch 2 (Inception)", 2, 17, 17, 160, 160, 1, 7, 1, 1, 1, 1, 1, 0, 1, 0,
     FR_ACT_RELU, "winograd_f2_1x7"},
    {"wino 1x7 SAME 17x17 c160->160 batch 1 (153 tiles)", 1, 17, 17, 160, 160, 1, 7, 1, 1, 1, 1, 1, 0, 1, 0,
     FR_ACT_RELU, "winograd_f2_1x7"},
    {"wino 7x1 SAME odd 13x11 c33->40 residual batch 4", 4, 13, 11, 33, 40, 7, 1, 1, 1, 1, 1, 1, 0, 1, 1,
     FR_ACT_RELU6, "winograd_f2_7x1"},
    {"wino 1x7 VALID 9x20 c40->35 no bias leaky batch 5", 5, 9, 20, 40, 35, 1, 7, 1, 1, 1, 1, 0, 0, 0, 0, FR_ACT_LEAKY,
     "winograd_f2_1x7"},
    {"wino 1x3 SAME 8x8 c96->80 batch 16 (16 tiles per image)", 16, 8, 8, 96, 80, 1, 3, 1, 1, 1, 1, 1, 0, 1, 0,
     FR_ACT_RELU,
     "winograd_f4_1x3"},
    {"wino 3x1 SAME 8x8 c64->48 (16 tiles)", 1, 8, 8, 64, 48, 3, 1, 1, 1, 1, 1, 1, 0, 1, 0, FR_ACT_NONE,
     "winograd_f4_3x1"},
    {"wino 3x1 SAME 7x7 c64->48 (14 tiles: direct)", 1, 7, 7, 64, 48, 3, 1, 1, 1, 1, 1, 1, 0, 1, 0, FR_ACT_NONE,
     "!wino"},
    {"wino 3x1 SAME odd 9x7 c64->48 batch 13", 13, 9, 7, 64, 48, 3, 1, 1, 1, 1, 1, 1, 0, 1, 0, FR_ACT_NONE,
     "winograd_f4_3x1"},
    {"wino 1x5 SAME 10x10 c32->32 batch 6", 6, 10, 10, 32, 32, 1, 5, 1, 1, 1, 1, 1, 0, 1, 0, FR_ACT_RELU,
     "winograd_f2_1x5"},
    {"wino 1x7 SAME 3x5 c32->32 (9 tiles: direct)", 1, 3, 5, 32, 32, 1, 7, 1, 1, 1, 1, 1, 0, 1, 0, FR_ACT_RELU,
     "!wino"},
    {"wino 1x7 c16->32 (16 in: direct)", 1, 17, 17, 16, 32, 1, 7, 1, 1, 1, 1, 1, 0, 1, 0, FR_ACT_RELU, "!wino"},
};

/* The default F(2x2, 3x3) (fr_wino_pays with m = 2: from 64 tiles of
 * 2x2 per image, 32 channels in and 64 out), within FP32's 1e-4, in place of
 * oneDNN's AVX2 direct kernel, or of its AVX-512 one (fr_wino_pays_avx512:
 * the same for F(2x2, 3x3)). */
#define F22 "winograd_f2x2_3x3"
static const conv_case wino22_cases[] = {
    /* what                                    n  h   w  cin cout kh kw sh sw dh dw same dw bias res act */
    {"F(2x2) SAME 35x35 c64->96 (Inception)", 1, 35, 35, 64, 96, 3, 3, 1, 1, 1, 1, 1, 0, 1, 0, FR_ACT_RELU, F22},
    {"F(2x2) VALID odd 23x21 c35->67 residual relu6 batch 2", 2, 23, 21, 35, 67, 3, 3, 1, 1, 1, 1, 0, 0, 1, 1,
     FR_ACT_RELU6, F22},
    {"F(2x2) SAME odd 17x15 c48->70 no bias leaky batch 3", 3, 17, 15, 48, 70, 3, 3, 1, 1, 1, 1, 1, 0, 0, 0,
     FR_ACT_LEAKY, F22},
    {"F(2x2) SAME 73x73 c80->192 (Inception 4a)", 1, 73, 73, 80, 192, 3, 3, 1, 1, 1, 1, 0, 0, 1, 0, FR_ACT_RELU, F22},
    {"F(2x2) SAME 16x15 c64->64 residual batch 4 (64 tiles)", 4, 16, 15, 64, 64, 3, 3, 1, 1, 1, 1, 1, 0, 1, 1,
     FR_ACT_NONE, F22},
    {"F(2x2) SAME 15x15 c64->64 batch 2 (64 tiles per image)", 2, 15, 15, 64, 64, 3, 3, 1, 1, 1, 1, 1, 0, 1, 0,
     FR_ACT_RELU, F22},
    {"F(2x2) SAME 14x15 c64->64 batch 2 (56 tiles per image: direct)", 2, 14, 15, 64, 64, 3, 3, 1, 1, 1, 1, 1, 0, 1,
     0, FR_ACT_RELU, "!wino"},
    {"F(2x2) SAME 8x8 c448->384 batch 4 (16 tiles per image: direct)", 4, 8, 8, 448, 384, 3, 3, 1, 1, 1, 1, 1, 0, 1,
     0, FR_ACT_RELU, "!wino"},
    {"F(2x2) SAME 8x8 c448->384 (16 tiles: direct)", 1, 8, 8, 448, 384, 3, 3, 1, 1, 1, 1, 1, 0, 1, 0, FR_ACT_RELU,
     "!wino"},
    {"F(2x2) SAME 35x35 c32->32 (32 out: direct)", 1, 35, 35, 32, 32, 3, 3, 1, 1, 1, 1, 1, 0, 1, 0, FR_ACT_RELU,
     "!wino"},
    {"F(2x2) SAME 35x35 c24->64 (24 in: direct)", 1, 35, 35, 24, 64, 3, 3, 1, 1, 1, 1, 1, 0, 1, 0, FR_ACT_RELU,
     "!wino"},
    {"F(2x2) stride 2 (direct)", 1, 35, 35, 64, 64, 3, 3, 2, 2, 1, 1, 1, 0, 1, 0, FR_ACT_RELU, "!wino"},
    {"F(2x2) dilation 2 (direct)", 1, 35, 35, 64, 64, 3, 3, 1, 1, 2, 2, 1, 0, 1, 0, FR_ACT_RELU, "!wino"},
    {"F(2x2) 5x5 c64->64 (direct)", 1, 17, 17, 64, 64, 5, 5, 1, 1, 1, 1, 1, 0, 1, 0, FR_ACT_RELU, "!wino"},
};

/* frost's indirect-GEMM convolution (6 pixels x 16 channels per register
 * tile), forced onto every shape it applies to (own_kernels = 2, so it is
 * tested on every CPU): pixel counts that are not multiples of 6 and channel
 * counts that are not multiples of 16 exercise the tails; few tiles split
 * the panels among the threads. */
#define IG "igemm"
static const conv_case igemm_cases[] = {
    /* what                                    n  h   w  cin cout kh kw sh sw dh dw same dw bias res act */
    {"igemm 3x3 SAME odd 23x21 c35->61 relu batch 2", 2, 23, 21, 35, 61, 3, 3, 1, 1, 1, 1, 1, 0, 1, 0, FR_ACT_RELU, IG},
    {"igemm 3x3 s2 VALID 17x17 c96->100 (Inception 6a)", 1, 17, 17, 96, 100, 3, 3, 2, 2, 1, 1, 0, 0, 1, 0, FR_ACT_RELU,
     IG},
    {"igemm 3x3 s2 SAME even 16x16 c24->100 no bias", 1, 16, 16, 24, 100, 3, 3, 2, 2, 1, 1, 1, 0, 0, 0, FR_ACT_NONE, IG},
    {"igemm 1x7 SAME 17x17 c64->40 residual relu6", 1, 17, 17, 64, 40, 1, 7, 1, 1, 1, 1, 1, 0, 1, 1, FR_ACT_RELU6, IG},
    {"igemm 7x1 VALID odd 13x11 c33->70 leaky batch 3", 3, 13, 11, 33, 70, 7, 1, 1, 1, 1, 1, 0, 0, 1, 0, FR_ACT_LEAKY,
     IG},
    {"igemm 3x3 dilation 2 SAME 15x13 c32->64", 1, 15, 13, 32, 64, 3, 3, 1, 1, 2, 2, 1, 0, 1, 0, FR_ACT_RELU, IG},
    {"igemm 3x3 8x8 c128->96 (11 tiles: panels split)", 1, 8, 8, 128, 96, 3, 3, 1, 1, 1, 1, 1, 0, 1, 1, FR_ACT_NONE,
     IG},
    {"igemm 3x3 1x1 map c64->64 (one pixel)", 1, 1, 1, 64, 64, 3, 3, 1, 1, 1, 1, 1, 0, 1, 0, FR_ACT_RELU, IG},
    {"igemm 5x5 SAME 11x11 c64->33", 1, 11, 11, 64, 33, 5, 5, 1, 1, 1, 1, 1, 0, 1, 0, FR_ACT_RELU, IG},
    {"igemm 1x1 c3->5 batch 2", 2, 5, 7, 3, 5, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, FR_ACT_RELU6, IG},
    {"igemm 3x3 sigmoid (act not fused: oneDNN)", 1, 9, 9, 32, 64, 3, 3, 1, 1, 1, 1, 1, 0, 1, 0, FR_ACT_SIGMOID, "!" IG},
    {"depthwise 3x3 c64 (grouped: oneDNN)", 1, 9, 9, 64, 1, 3, 3, 1, 1, 1, 1, 1, 1, 1, 0, FR_ACT_RELU6, "!" IG},
};

/* Where it runs by default (fr_igemm_pays), in place of oneDNN's AVX2
 * direct kernel only: at least 16 input channels, 2048 cin x cout and more
 * than one tap (5x5 from 64 input channels).  On CPUs where oneDNN has
 * AVX-512 kernels (brgconv) those stay. */
static const conv_case igemm_rule_cases[] = {
    {"rule 3x3 c32->64", 1, 9, 9, 32, 64, 3, 3, 1, 1, 1, 1, 1, 0, 1, 0, FR_ACT_RELU, IG},
    {"rule 1x7 c64->48 residual", 1, 9, 9, 64, 48, 1, 7, 1, 1, 1, 1, 1, 0, 1, 1, FR_ACT_RELU, IG},
    {"rule 5x5 c64->33", 1, 9, 9, 64, 33, 5, 5, 1, 1, 1, 1, 1, 0, 1, 0, FR_ACT_RELU, IG},
    {"rule 1x1 c64->64 (oneDNN's jit_1x1)", 1, 9, 9, 64, 64, 1, 1, 1, 1, 1, 1, 1, 0, 1, 0, FR_ACT_RELU, "!" IG},
    {"rule 3x3 c8->300 (8 in: oneDNN)", 1, 9, 9, 8, 300, 3, 3, 1, 1, 1, 1, 1, 0, 1, 0, FR_ACT_RELU, "!" IG},
    {"rule 3x3 c32->32 (1024 < 2048: oneDNN)", 1, 9, 9, 32, 32, 3, 3, 1, 1, 1, 1, 1, 0, 1, 0, FR_ACT_RELU, "!" IG},
    {"rule 5x5 c48->64 (48 in: oneDNN)", 1, 9, 9, 48, 64, 5, 5, 1, 1, 1, 1, 1, 0, 1, 0, FR_ACT_RELU, "!" IG},
};


/* Pooling: TensorFlow's padding (never wins a max, not counted by an
 * average), channel counts around the 8-float vectors. */
static const pool_case pool_cases[] = {
    {"maxpool 3x3 s2 VALID 35x35 c288", FR_POOL_MAX, 1, 35, 35, 288, 3, 2, 0, 1, 0, FR_ACT_NONE},
    {"maxpool 3x3 s2 SAME odd 9x9 c13", FR_POOL_MAX, 2, 9, 9, 13, 3, 2, 1, 2, 0, FR_ACT_NONE},
    {"maxpool 2x2 s2 SAME odd 7x7 c5", FR_POOL_MAX, 1, 7, 7, 5, 2, 2, 1, 3, 0, FR_ACT_NONE},
    {"avgpool 3x3 s1 SAME 9x9 c19 (in-bounds divisor)", FR_POOL_AVG, 2, 9, 9, 19, 3, 1, 1, 4, 0, FR_ACT_NONE},
    {"avgpool 3x3 s2 SAME even 8x8 c7", FR_POOL_AVG, 1, 8, 8, 7, 3, 2, 1, 5, 0, FR_ACT_NONE},
    {"avgpool 8x8 VALID (global) c2048", FR_POOL_AVG, 2, 8, 8, 2048, 8, 8, 0, 6, 0, FR_ACT_NONE},
    {"avgpool 7x7 VALID c1024", FR_POOL_AVG, 1, 7, 7, 1024, 7, 2, 0, 7, 0, FR_ACT_NONE},
    /* a 1x1 convolution's bias and activation moved behind an average pool */
    {"avgpool 3x3 s1 SAME 35x35 c32 + bias + relu", FR_POOL_AVG, 2, 35, 35, 32, 3, 1, 1, 8, 1, FR_ACT_RELU},
    {"avgpool 3x3 s1 SAME 17x17 c19 + bias + relu6", FR_POOL_AVG, 1, 17, 17, 19, 3, 1, 1, 9, 1, FR_ACT_RELU6},
};
#define N_POOL (sizeof(pool_cases) / sizeof(pool_cases[0]))
/* run by the oneDNN backend with the portable C rows (CPUs without AVX2) */
static const pool_case pool_portable_cases[] = {
    {"portable maxpool 3x3 s2 SAME odd 9x9 c13", FR_POOL_MAX, 2, 9, 9, 13, 3, 2, 1, 12, 0, FR_ACT_NONE},
    {"portable avgpool 3x3 s1 SAME 9x9 c19 + bias + relu", FR_POOL_AVG, 1, 9, 9, 19, 3, 1, 1, 13, 1, FR_ACT_RELU},
};
#define N_POOL_PORTABLE (sizeof(pool_portable_cases) / sizeof(pool_portable_cases[0]))

/* --winograd's choice per layer shape (fr_wino_pays): one 3x3 stride-1
 * convolution on an h x h map at batch 1 (wino_shape_test's, run directly) */
static const conv_case wino_shape_cases[] = {
    {"winograd choice 3x3 35x35 64->96", 1, 35, 35, 64, 96, 3, 3, 1, 1, 1, 1, 1, 0, 1, 0, FR_ACT_RELU, F4},
    {"winograd choice 3x3 17x17 160->192", 1, 17, 17, 160, 192, 3, 3, 1, 1, 1, 1, 1, 0, 1, 0, FR_ACT_RELU, F4},
    {"winograd choice 3x3 8x8 448->384", 1, 8, 8, 448, 384, 3, 3, 1, 1, 1, 1, 1, 0, 1, 0, FR_ACT_RELU, "!wino"},
    {"winograd choice 3x3 20x20 24->32", 1, 20, 20, 24, 32, 3, 3, 1, 1, 1, 1, 1, 0, 1, 0, FR_ACT_RELU, "!wino"},
};

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

/* fr_plan_arena_gap, where frost's kernels keep their temporaries: never
 * bytes of a value live at the step (inputs from the start, outputs to the
 * end, a residual until its reader). */
static void arena_gap_test(void) {
    fr_value v[5];
    memset(v, 0, sizeof v);
    size_t offs[5] = {0, 256, 0, 512, 256};
    for (int i = 0; i < 5; i++) v[i] = (fr_value){.kind = FR_VALUE_ARENA, .rank = 1, .dims = {64}, .count = 64, .offset = offs[i]};
    /* v0 -> s0 -> v1 -> s1 -> v2; s2: v2 + residual v1 -> v3; s3: v3 -> v4 (output) */
    static const int in0[] = {0}, in1[] = {1}, in2[] = {2}, in3[] = {3};
    fr_step s[4];
    memset(s, 0, sizeof s);
    s[0] = (fr_step){.kind = FR_STEP_CONV, .n_inputs = 1, .inputs = in0, .output = 1};
    s[1] = (fr_step){.kind = FR_STEP_CONV, .n_inputs = 1, .inputs = in1, .output = 2};
    s[2] = (fr_step){.kind = FR_STEP_CONV, .n_inputs = 1, .inputs = in2, .output = 3};
    s[3] = (fr_step){.kind = FR_STEP_CONV, .n_inputs = 1, .inputs = in3, .output = 4};
    for (int i = 0; i < 4; i++) s[i].p.conv.residual = -1;
    s[2].p.conv.residual = 1;
    int inputs[] = {0}, outputs[] = {4};
    fr_plan p = {.batch = 1, .n_values = 5, .values = v, .n_steps = 4, .steps = s, .n_inputs = 1, .inputs = inputs,
                 .n_outputs = 1, .outputs = outputs, .arena_bytes = 1024};
    CHECK(fr_plan_arena_gap(&p, 0, 256) == 512);      /* v0 [0, 256), v1 [256, 512) */
    CHECK(fr_plan_arena_gap(&p, 1, 512) == 512);      /* v1, v2 [0, 256) */
    CHECK(fr_plan_arena_gap(&p, 1, 513) == SIZE_MAX); /* only 512 free */
    CHECK(fr_plan_arena_gap(&p, 2, 256) == 768);      /* v1 (residual), v2, v3 [512, 768) */
    CHECK(fr_plan_arena_gap(&p, 2, 257) == SIZE_MAX);
    CHECK(fr_plan_arena_gap(&p, 3, 256) == 0);        /* v3, v4 [256, 512): the smallest fitting gap */
    v[2].offset = 768;                                /* v2 elsewhere: at step 3 [0, 256) and [768, 1024) free */
    CHECK(fr_plan_arena_gap(&p, 3, 300) == SIZE_MAX);
    CHECK(fr_plan_arena_gap(&p, 4, 64) == SIZE_MAX && fr_plan_arena_gap(&p, -1, 64) == SIZE_MAX);
}

/* fr_igemm_packed (the Winograd kernels' products) against a plain
 * triple loop in double: row counts around the 6-row tile, column counts
 * around the 16-column panels (zero padding past n), AVX2 and portable;
 * fr_igemm_pack_row against the layout written out. */
/* The byte table of int8 requantizations: this CPU's form (AVX-512 VBMI on
 * 64 bytes a step, the tail masked) against table[x[i]] one byte at a time,
 * at every length around the vector's and unaligned, and in place. */
static void u8_table_test(void) {
    uint8_t table[256], x[300], y[300], z[300];
    uint32_t s = 7;
    for (int i = 0; i < 256; i++) table[i] = (uint8_t)(255 - i) ^ (uint8_t)(i * 37);
    for (int i = 0; i < 300; i++) s = s * 1664525u + 1013904223u, x[i] = (uint8_t)(s >> 24);
    x[0] = 0, x[1] = 127, x[2] = 128, x[3] = 255; /* the edges of the four registers */
    fr_u8_table_fn forms[2] = {fr_kernels_select_u8_table(0), fr_kernels_select_u8_table(1)};
    CHECK(forms[1] != forms[0] || !fr_kernels_cpu_detect().avx512f || !fr_kernels_select_isa(&(fr_kernels_cpu){1, 1, 1}, 0).avx512
#if defined(__x86_64__) && defined(__GNUC__)
          || !__builtin_cpu_supports("avx512vbmi")
#endif
    );
    for (int f = 0; f < 2; f++)
        for (size_t off = 0; off < 3; off++)
            for (size_t n = 0; n + off <= 300; n += n < 140 ? 1 : 37) {
                memset(y, 0xA5, sizeof y);
                forms[f](table, x + off, y + off, n);
                int bad = 0;
                for (size_t i = 0; i < 300; i++)
                    bad += y[i] != (i >= off && i < off + n ? table[x[i]] : 0xA5);
                CHECK_MSG(!bad, "table form %d, offset %zu, length %zu: %d bytes wrong", f, off, n, bad);
            }
    memcpy(z, x, sizeof z);
    forms[0](table, z, z, 300);
    for (int i = 0; i < 300; i++) CHECK(z[i] == table[x[i]]);
}

/* The u8 FakeQuant of f32 values (int8 precision's quantizations): this
 * CPU's form (AVX-512) and the portable one give TensorFlow's codes, computed
 * here one value at a time, on values in and out of range, on the ties
 * between two codes, NaN and infinities, both arithmetic forms, clamped. */
static void fq_u8_test(void) {
    enum { N = 333 };
    float x[N];
    uint8_t y[N];
    uint32_t s = 11;
    /* [-1, 5] over 255 steps, as a FakeQuant nudges it (zero point 42 or so) */
    fr_fq_u8 k = {-INFINITY, INFINITY, -0.988235354f, 4.011764526f, 0.019607844f, 51.0f, 50.4f, 0};
    k.quant_zero = floorf(-k.nudged_min * k.inv_scale + 0.5f);
    for (int i = 0; i < N; i++) {
        s = s * 1664525u + 1013904223u;
        x[i] = -1.5f + 7.0f * (float)(s >> 8) / 16777216.0f;
        if (i % 7 == 3) x[i] = k.nudged_min + ((float)(i % 255) + 0.5f) * k.scale; /* a tie */
    }
    x[0] = NAN, x[1] = INFINITY, x[2] = -INFINITY, x[4] = k.nudged_min, x[5] = k.nudged_max, x[6] = 0.0f;
    fr_fq_u8_fn forms[2] = {fr_kernels_select_fq_u8(0), fr_kernels_select_fq_u8(1)};
    for (int divide = 0; divide < 2; divide++)
        for (int clip = 0; clip < 2; clip++)
            for (int f = 0; f < 2; f++) {
                k.divide = divide, k.lo = clip ? -0.3f : -INFINITY, k.hi = clip ? 2.5f : INFINITY;
                size_t off = (size_t)(f + divide), n = N - off - (size_t)clip;
                memset(y, 0xA5, sizeof y);
                forms[f](&k, x + off, y + off, n);
                int bad = 0;
                for (size_t i = 0; i < N; i++) {
                    int want = 0xA5;
                    if (i >= off && i < off + n) {
                        volatile float v = x[i] > k.lo ? x[i] : k.lo, sh, q;
                        v = v < k.hi ? v : k.hi;
                        v = v > k.nudged_min ? v : k.nudged_min;
                        v = v < k.nudged_max ? v : k.nudged_max;
                        sh = v - k.nudged_min;
                        q = divide ? sh / k.scale : sh * k.inv_scale;
                        q = q - k.quant_zero;
                        q = q + 0.5f;
                        want = (int)floorf(q) + (int)k.quant_zero;
                        want = want < 0 ? 0 : want > 255 ? 255 : want;
                    }
                    bad += y[i] != want;
                }
                CHECK_MSG(!bad, "fake quant form %d, divide %d, clip %d: %d codes wrong", f, divide, clip, bad);
            }
}

static void gemm_packed_test(void) {
    static const int ms[] = {1, 5, 6, 7, 8, 9, 13, 17, 64}, ns[] = {16, 17, 33, 40, 48, 96}, ks[] = {1, 3, 35, 160};
    uint32_t seed = 5;
    fr_kernels_cpu cpu = fr_kernels_cpu_detect();
    fr_kernels_isa here = fr_kernels_select_isa(&cpu, 0);
    for (int simd = 0; simd <= (here.avx512 ? 2 : here.avx2_fma); simd++)
        for (size_t im = 0; im < sizeof ms / sizeof *ms; im++)
            for (size_t in = 0; in < sizeof ns / sizeof *ns; in++)
                for (size_t ik = 0; ik < sizeof ks / sizeof *ks; ik++) {
                    int m = ms[im], n = ns[in], k = ks[ik], panels = (n + 15) / 16;
                    float *a = malloc(sizeof(float) * (size_t)(m * k)), *b = malloc(sizeof(float) * (size_t)(k * n));
                    float *bp = calloc((size_t)(panels * k * 16), sizeof(float));
                    float *c = malloc(sizeof(float) * (size_t)(m * n));
                    for (int i = 0; i < m * k; i++) a[i] = rnd(&seed);
                    for (int i = 0; i < k * n; i++) b[i] = rnd(&seed);
                    for (int kk = 0; kk < k; kk++) /* [panel][k][16], as the kernels pack it */
                        for (int j = 0; j < n; j++)
                            bp[((size_t)(j / 16) * (size_t)k + (size_t)kk) * 16 + (size_t)(j % 16)] = b[kk * n + j];
                    float *bq = malloc(sizeof(float) * fr_igemm_packed_floats(k, n));
                    for (int kk = 0; kk < k; kk++) fr_igemm_pack_row(bq, k, n, kk, b + kk * n);
                    CHECK_MSG(fr_igemm_packed_floats(k, n) == (size_t)(panels * k * 16) &&
                                  !memcmp(bq, bp, sizeof(float) * (size_t)(panels * k * 16)),
                              "gemm_pack_row n %d k %d", n, k);
                    free(bq);
                    fr_igemm_packed(simd, m, n, k, a, bp, c);
                    double worst = 0;
                    for (int i = 0; i < m; i++)
                        for (int j = 0; j < n; j++) {
                            double want = 0;
                            for (int kk = 0; kk < k; kk++) want += (double)a[i * k + kk] * b[kk * n + j];
                            double d = fabs(c[i * n + j] - want) / (fabs(want) > 1 ? fabs(want) : 1);
                            if (d > worst) worst = d;
                        }
                    CHECK_MSG(worst <= 1e-5, "gemm_packed simd %d m %d n %d k %d: %g", simd, m, n, k, worst);
                    if (simd == 2) { /* the AVX-512 tiles: the AVX2 tile's bits, nothing written past n */
                        float *c1 = malloc(sizeof(float) * (size_t)(m * n + 16));
                        for (int i = 0; i < 16; i++) c1[m * n + i] = -7.f;
                        fr_igemm_packed(1, m, n, k, a, bp, c1);
                        CHECK_MSG(!memcmp(c1, c, sizeof(float) * (size_t)(m * n)),
                                  "gemm_packed m %d n %d k %d: AVX-512 differs from AVX2", m, n, k);
                        fr_igemm_packed(2, m, n, k, a, bp, c1);
                        int over = 0;
                        for (int i = 0; i < 16; i++) over |= c1[m * n + i] != -7.f;
                        CHECK_MSG(!over, "gemm_packed m %d n %d k %d: AVX-512 wrote past C", m, n, k);
                        free(c1);
                    }
                    free(a), free(b), free(bp), free(c);
                }
}

/* ---------------------------------------------- frost's kernels, directly --- */

/* Policies of the selection, as the configurations of the oneDNN cases. */
static const fr_kernels_policy POL_OWN = {.own = 1};                          /* cfg_fp32() */
static const fr_kernels_policy POL_FORCED = {.own = 2};                       /* own_kernels = 2 */
static const fr_kernels_policy POL_WINOGRAD = {.own = 1, .winograd = 1};      /* --winograd */
static const fr_kernels_policy POL_DEFAULT = {.own = 1, .winograd_default = 1}; /* the default */
static const fr_kernels_facts AVX2_DIRECT = {.pick = FR_PICK_AVX2_DIRECT};

/* The thread team of every direct run (OpenMP's where oneDNN loaded it). */
static const fr_team *test_team(void) {
    static fr_team team;
    static int ready;
    if (!ready) fr_team_init(&team), ready = 1;
    return &team;
}

/* The forms of the microkernels: this CPU's and the portable ones. */
static fr_kernels_isa isa_cpu(void) {
    fr_kernels_cpu cpu = fr_kernels_cpu_detect();
    return fr_kernels_select_isa(&cpu, 0);
}
static const fr_kernels_isa ISA_GENERIC = {0, 0, 0};

static int isa_eq(fr_kernels_isa a, fr_kernels_isa b) {
    return a.avx2 == b.avx2 && a.avx2_fma == b.avx2_fma && a.avx512 == b.avx512;
}

/* The name of a choice's kernel ("backend" for none): `want` ("!text": not)
 * must match it. */
static void check_choice(const char *what, const fr_conv_choice *ch, const fr_plan *p, const char *want) {
    char name[64] = "backend";
    fr_kernels_conv *k = NULL;
    if (ch->impl != FR_CONV_BACKEND && fr_kernels_conv_create(ch, p, &p->steps[0], NULL, ISA_GENERIC, 1, &k) == FROST_OK)
        snprintf(name, sizeof(name), "%s", fr_kernels_conv_name(k));
    fr_kernels_conv_free(k);
    if (!want) return;
    int neg = want[0] == '!', has = strstr(name, want + neg) != NULL;
    CHECK_MSG(neg ? !has : has, "%s: the selection picks %s, expected %s%s", what, name, neg ? "no " : "", want + neg);
}

/* Runs kernel `ch` of step 0 of p over `packed` in one form on `threads`
 * threads into arena b; returns a malloc'ed copy of the output. */
static float *kr_conv_run(const fr_plan *p, const fr_conv_choice *ch, const float *packed, fr_kernels_isa isa,
                          int threads, float *b) {
    const fr_step *s = &p->steps[0];
    const fr_value *y = &p->values[s->output];
    fr_kernels_conv *k = NULL;
    float *out = NULL;
    CHECK(fr_kernels_conv_create(ch, p, s, packed, isa, threads, &k) == FROST_OK);
    if (!k) return NULL;
    size_t tb = (fr_kernels_conv_temp_bytes(k) + 63) / 64 * 64;
    void *temp = aligned_alloc(64, tb ? tb : 64);
    const float *res = s->p.conv.residual >= 0 ? fr_value_ptr(p, b, s->p.conv.residual) : NULL;
    fr_kernels_conv_run(k, test_team(), fr_value_ptr(p, b, s->inputs[0]), fr_value_ptr(p, b, s->output), temp, res);
    if ((out = malloc(y->count * sizeof(float))) != NULL) memcpy(out, fr_value_ptr(p, b, s->output), y->count * sizeof(float));
    free(temp);
    fr_kernels_conv_free(k);
    return out;
}

/* The packed weights of choice ch for step 0 of p (aligned_alloc'ed). */
static float *kr_pack(const fr_plan *p, const fr_conv_choice *ch) {
    int rank = 0;
    int64_t dims[3];
    fr_kernels_conv_weights_dims(ch, &p->steps[0].p.conv, &rank, dims);
    size_t n = 1;
    for (int i = 0; i < rank; i++) n *= (size_t)dims[i];
    float *buf = aligned_alloc(64, (n * sizeof(float) + 63) / 64 * 64);
    CHECK(fr_kernels_conv_pack(ch, &p->steps[0].p.conv, buf) == FROST_OK);
    return buf;
}

/* How much of a case runs (the cases are many; memcheck runs them all). */
enum {
    KR_SELECT = 0, /* the selection's choice only */
    KR_RUN,        /* and the kernel the case names: this CPU's form on 2 threads, the portable one on 1 */
    KR_THREADS     /* both forms on 1, 2, 3 and 5 threads, bit for bit */
};

/* One convolution case with frost's kernels, without a backend: the
 * selection under `pol` (in place of an AVX2 direct kernel) must pick
 * `want` ("!text": not it); where it picks the kernel `want` names (and
 * depth allows), the output of each form (this CPU's, the portable one) is
 * within tol of the reference, the same to the bit for every thread count
 * (KR_THREADS; there Winograd's AVX2 transforms also give the portable
 * ones' results to the bit), and the weights packed from unaligned, scaled
 * bytes give the same results within tol. */
static void kr_conv_case(const conv_case *k, const fr_kernels_policy *pol, const char *want, double tol,
                         uint32_t seed, int depth) {
    tplan t;
    fr_plan p;
    int out;
    conv_plan(&t, k, seed);
    tp_plan(&t, &p, &out);
    fr_conv_choice ch = fr_kernels_select_conv(pol, &p, &t.steps[0], &AVX2_DIRECT);
    check_choice(k->what, &ch, &p, want);
    if (ch.impl == FR_CONV_BACKEND || depth == KR_SELECT || !want || want[0] == '!') {
        tp_free(&t);
        return;
    }
    float *a, *b;
    tp_arenas(&t, &a, &b);
    tp_reference(&p, a, k->what);
    const fr_value *y = &p.values[out];
    const float *ref = fr_value_ptr(&p, a, out);
    float *packed = kr_pack(&p, &ch);
    static const int thread_counts[] = {1, 2, 3, 5};
    fr_kernels_isa forms[2] = {isa_cpu(), ISA_GENERIC};
    float *generic = NULL;
    for (int f = isa_eq(forms[0], forms[1]); f < 2; f++) {
        float *first = NULL;
        int t0 = depth == KR_THREADS ? 0 : f ? 0 : 1, t1 = depth == KR_THREADS ? 4 : t0 + 1;
        for (int ti = t0; ti < t1; ti++) {
            int threads = thread_counts[ti];
            float *o = kr_conv_run(&p, &ch, packed, forms[f], threads, b);
            if (!o) continue;
            double d = tu_max_rel_diff(o, ref, y->count);
            CHECK_MSG(d <= tol, "%s: %s (%s, %d threads): max relative difference %g > %g", k->what,
                      ch.impl == FR_CONV_WINO ? "winograd" : "igemm", f ? "portable" : "this CPU's", threads, d, tol);
            if (!first) {
                first = o;
                continue;
            }
            CHECK_MSG(!memcmp(first, o, y->count * sizeof(float)), "%s: %d threads differ from 1 thread's (%s)",
                      k->what, threads, f ? "portable" : "this CPU's");
            free(o);
        }
        if (f == 1) generic = first;
        else free(first);
    }
    if (depth == KR_THREADS && ch.impl == FR_CONV_WINO && forms[0].avx2 && generic) { /* AVX2 transforms */
        fr_kernels_isa mixed = {1, 0, 0};
        float *o = kr_conv_run(&p, &ch, packed, mixed, 2, b);
        CHECK_MSG(o && !memcmp(o, generic, y->count * sizeof(float)),
                  "%s: the AVX2 Winograd transforms differ from the portable ones", k->what);
        free(o);
    }
    if (depth == KR_THREADS && forms[0].avx512) { /* AVX-512 tiles (and transforms), AVX2's bits */
        fr_kernels_isa avx2 = forms[0];
        avx2.avx512 = 0;
        float *o = kr_conv_run(&p, &ch, packed, forms[0], 2, b), *o2 = kr_conv_run(&p, &ch, packed, avx2, 2, b);
        CHECK_MSG(o && o2 && !memcmp(o, o2, y->count * sizeof(float)),
                  "%s: %s in AVX-512 differs from AVX2's", k->what, ch.impl == FR_CONV_WINO ? "winograd" : "igemm");
        free(o), free(o2);
    }
    free(generic);
    free(packed);
    tp_raw raw;
    tp_raw_weights(&t, &raw);
    packed = kr_pack(&p, &ch);
    float *o = kr_conv_run(&p, &ch, packed, forms[0], 2, b);
    double d = o ? tu_max_rel_diff(o, ref, y->count) : 1e30;
    CHECK_MSG(d <= tol, "%s: from unaligned scaled weights: max relative difference %g > %g", k->what, d, tol);
    free(o);
    free(packed);
    tp_raw_free(&raw);
    free(a);
    free(b);
    tp_free(&t);
}

static void kr_conv_cases(const conv_case *cases, size_t n, const fr_kernels_policy *pol, double tol,
                          uint32_t seed, int depth) {
    for (size_t i = 0; i < n; i++) kr_conv_case(&cases[i], pol, cases[i].want, tol, seed + (uint32_t)i, depth);
}

/* One pooling case: frost's kernel is selected, and each form on 1, 2, 3
 * and 5 threads gives the reference's results within 1e-4, all the same to
 * the bit. */
static void kr_pool_case(const pool_case *q) {
    tplan t;
    fr_plan p;
    int out;
    float *a, *b, *first = NULL;
    pool_plan(&t, q);
    tp_plan(&t, &p, &out);
    CHECK_MSG(fr_kernels_select_pool(&POL_OWN, &p, &t.steps[0], &AVX2_DIRECT), "%s: not selected", q->what);
    tp_arenas(&t, &a, &b);
    tp_reference(&p, a, q->what);
    const fr_value *y = &p.values[out];
    fr_kernels_isa forms[2] = {isa_cpu(), ISA_GENERIC};
    for (int f = 0; f < 2; f++)
        for (int threads = 1; threads <= 5; threads += threads == 3 ? 2 : 1) {
            fr_pool_nhwc *k = NULL;
            CHECK(fr_pool_nhwc_create(&p, &t.steps[0], forms[f], threads, &k) == FROST_OK);
            if (!k) continue;
            float *o = fr_value_ptr(&p, b, out);
            fr_pool_nhwc_run(k, test_team(), fr_value_ptr(&p, b, t.steps[0].inputs[0]), o);
            double d = tu_max_rel_diff(o, fr_value_ptr(&p, a, out), y->count);
            CHECK_MSG(d <= 1e-4, "%s (%s, %d threads): max relative difference %g", q->what, fr_pool_nhwc_name(k),
                      threads, d);
            if (!first && (first = malloc(y->count * sizeof(float))) != NULL)
                memcpy(first, o, y->count * sizeof(float));
            else if (first)
                CHECK_MSG(!memcmp(first, o, y->count * sizeof(float)), "%s (%s form, %d threads) differs", q->what,
                          f ? "portable" : "this CPU's", threads);
            fr_pool_nhwc_free(k);
        }
    free(first);
    free(a);
    free(b);
    tp_free(&t);
}

/* ---------------------------------------------------------- the selection --- */

/* The rules on the layers their measurements cite (select.c): Inception v3's
 * unless said otherwise. */
static void select_rules_test(void) {
    /* the indirect GEMM against oneDNN's AVX2 direct kernel */
    CHECK(fr_igemm_pays(64, 96, 3, 3));   /* 3x3 layers of 64 to 448 channels */
    CHECK(fr_igemm_pays(288, 384, 3, 3)); /* (stride 2 alike: the rule ignores it) */
    CHECK(fr_igemm_pays(448, 384, 3, 3));
    CHECK(fr_igemm_pays(128, 128, 1, 7) && fr_igemm_pays(192, 192, 7, 1)); /* 1x7, 7x1 */
    CHECK(fr_igemm_pays(384, 384, 1, 3) && fr_igemm_pays(448, 384, 3, 1)); /* 1x3, 3x1 */
    CHECK(fr_igemm_pays(32, 64, 3, 3));                                    /* 147x147 32->64: 2048 */
    CHECK(!fr_igemm_pays(64, 64, 1, 1) && !fr_igemm_pays(2048, 320, 1, 1)); /* 1x1: oneDNN's jit_1x1 */
    CHECK(!fr_igemm_pays(3, 32, 3, 3));                                    /* the RGB input */
    CHECK(!fr_igemm_pays(32, 32, 3, 3));                                   /* 149x149 32->32: 1024 */
    CHECK(!fr_igemm_pays(48, 64, 5, 5) && fr_igemm_pays(64, 33, 5, 5));    /* 5x5 from 64 in */
    /* F(4x4, 3x3) (--winograd): from 16 tiles of 4x4 per image, 32 channels */
    CHECK(fr_wino_pays(4, 3, 32, 32, 147, 147) && fr_wino_pays(4, 3, 32, 64, 147, 147));
    CHECK(fr_wino_pays(4, 3, 80, 192, 73, 73) && fr_wino_pays(4, 3, 64, 96, 35, 35));
    CHECK(fr_wino_pays(4, 3, 160, 192, 17, 17)); /* 25 tiles */
    CHECK(!fr_wino_pays(4, 3, 448, 384, 8, 8));  /* 4 tiles, whatever the batch */
    CHECK(!fr_wino_pays(4, 3, 24, 32, 20, 20));  /* few input channels */
    /* F(4x4, 5x5) */
    CHECK(fr_wino_pays(4, 5, 48, 64, 35, 35) && fr_wino_pays(4, 5, 64, 96, 17, 17));
    CHECK(!fr_wino_pays(4, 5, 64, 64, 7, 7));
    /* F(2x2, 3x3), the default: from 64 tiles of 2x2, 32 channels in, 64 out */
    CHECK(fr_wino_pays(2, 3, 80, 192, 73, 73) && fr_wino_pays(2, 3, 64, 96, 35, 35));
    CHECK(fr_wino_pays(2, 3, 96, 96, 35, 35) && fr_wino_pays(2, 3, 32, 64, 147, 147));
    CHECK(!fr_wino_pays(2, 3, 448, 384, 8, 8));   /* 16 tiles: lost at batch 1 */
    CHECK(!fr_wino_pays(2, 3, 128, 128, 10, 10)); /* 25 tiles: tied */
    CHECK(!fr_wino_pays(2, 3, 512, 512, 7, 7));   /* 16 tiles: 0.6x */
    CHECK(!fr_wino_pays(2, 3, 32, 32, 147, 147)); /* 32 out: oneDNN ahead */
    CHECK(!fr_wino_pays(2, 5, 64, 64, 35, 35));   /* 5x5 has no F(2x2) */
    /* 1-D F(2, 7), F(4, 3): from 16 tiles per image, 32 channels */
    CHECK(fr_wino1_pays(7, 160, 160, 17, 17) && fr_wino1_pays(7, 192, 192, 17, 17)); /* 153 tiles */
    CHECK(fr_wino1_pays(3, 384, 384, 8, 8));                                          /* 16 tiles */
    CHECK(!fr_wino1_pays(3, 64, 48, 7, 7));                                           /* 14 tiles */
    CHECK(!fr_wino1_pays(7, 16, 32, 17, 17));                                         /* 16 in */
    /* the activations the kernels fuse */
    CHECK(fr_kernels_act_ok(FR_ACT_NONE) && fr_kernels_act_ok(FR_ACT_RELU) && fr_kernels_act_ok(FR_ACT_RELU6) &&
          fr_kernels_act_ok(FR_ACT_LEAKY));
    CHECK(!fr_kernels_act_ok(FR_ACT_SIGMOID) && !fr_kernels_act_ok(FR_ACT_TANH));
}

/* An instruction set is never picked where the CPU check says no. */
static void select_isa_test(void) {
    for (int avx2 = 0; avx2 <= 1; avx2++)
        for (int fma = 0; fma <= 1; fma++)
            for (int avx512 = 0; avx512 <= 1; avx512++)
                for (int portable = 0; portable <= 1; portable++) {
                    fr_kernels_cpu cpu = {avx2, fma, avx512};
                    fr_kernels_isa isa = fr_kernels_select_isa(&cpu, portable);
                    CHECK_MSG(!isa.avx2 || (avx2 && !portable), "avx2 %d fma %d portable %d: AVX2 picked", avx2, fma,
                              portable);
                    CHECK_MSG(!isa.avx2_fma || (avx2 && fma && !portable), "avx2 %d fma %d portable %d: FMA picked",
                              avx2, fma, portable);
                    CHECK_MSG(!isa.avx512 || (avx512 && avx2 && fma && !portable),
                              "avx2 %d fma %d avx512 %d portable %d: AVX-512 picked", avx2, fma, avx512, portable);
#if defined(__x86_64__) && defined(__GNUC__)
                    CHECK(isa.avx2 == (avx2 && !portable) && isa.avx2_fma == (avx2 && fma && !portable) &&
                          isa.avx512 == (avx2 && fma && avx512 && !portable));
#endif
                }
    fr_kernels_cpu here = fr_kernels_cpu_detect();
    fr_kernels_isa isa = fr_kernels_select_isa(&here, 0);
#if defined(__x86_64__) && defined(__GNUC__)
    __builtin_cpu_init();
    CHECK(here.avx2 == (__builtin_cpu_supports("avx2") != 0) && here.fma == (__builtin_cpu_supports("fma") != 0));
    CHECK(!here.avx512f || __builtin_cpu_supports("avx512f"));
    /* oneDNN's cap below AVX-512 keeps frost's AVX-512 code off too (an AVX2 machine emulated) */
    const char *cap = getenv("ONEDNN_MAX_CPU_ISA");
    char *saved = cap ? strdup(cap) : NULL;
    setenv("ONEDNN_MAX_CPU_ISA", "AVX2", 1);
    CHECK(!fr_kernels_cpu_detect().avx512f);
    setenv("ONEDNN_MAX_CPU_ISA", "avx512_core_vnni", 1);
    CHECK(fr_kernels_cpu_detect().avx512f == (__builtin_cpu_supports("avx512f") != 0));
    if (saved) setenv("ONEDNN_MAX_CPU_ISA", saved, 1);
    else unsetenv("ONEDNN_MAX_CPU_ISA");
    free(saved);
#else
    CHECK(!here.avx2 && !here.fma && !isa.avx2 && !isa.avx2_fma && !isa.avx512);
#endif
    CHECK(!isa.avx2 || here.avx2);
    CHECK(!isa.avx512 || here.avx512f);
}

/* The selection of whole layers: which kernel replaces which pick. */
static fr_conv_choice sel_facts(const conv_case *k, const fr_kernels_policy *pol, const fr_kernels_facts *f) {
    tplan t;
    fr_plan p;
    int out;
    conv_plan(&t, k, 1);
    tp_plan(&t, &p, &out);
    fr_conv_choice ch = fr_kernels_select_conv(pol, &p, &t.steps[0], f);
    tp_free(&t);
    return ch;
}

static fr_conv_choice sel(const conv_case *k, const fr_kernels_policy *pol, fr_kernels_pick pick, int bf16) {
    fr_kernels_facts f = {pick, bf16, 0};
    return sel_facts(k, pol, &f);
}

static int is_wino(fr_conv_choice ch, int m, int r, int axis) {
    return ch.impl == FR_CONV_WINO && ch.m == m && ch.r == r && ch.axis == axis;
}

static void select_conv_test(void) {
    static const fr_kernels_policy onednn_only = {.own = 0}, no_winograd = {.own = 1};
    /*                            what   n  h   w  cin cout kh kw sh sw dh dw same dw bias res act */
    static const conv_case c3 = {"35x35 3x3 64->96", 1, 35, 35, 64, 96, 3, 3, 1, 1, 1, 1, 1, 0, 1, 0, FR_ACT_RELU, NULL};
    static const conv_case c17 = {"17x17 1x7 160->160", 1, 17, 17, 160, 160, 1, 7, 1, 1, 1, 1, 1, 0, 1, 0,
                                  FR_ACT_RELU, NULL};
    static const conv_case c71 = {"17x17 7x1 160->192", 1, 17, 17, 160, 192, 7, 1, 1, 1, 1, 1, 1, 0, 1, 0,
                                  FR_ACT_RELU, NULL};
    static const conv_case c8 = {"8x8 3x3 448->384", 1, 8, 8, 448, 384, 3, 3, 1, 1, 1, 1, 1, 0, 1, 0, FR_ACT_RELU, NULL};
    static const conv_case c13 = {"8x8 1x3 384->384", 1, 8, 8, 384, 384, 1, 3, 1, 1, 1, 1, 1, 0, 1, 0, FR_ACT_RELU,
                                  NULL};
    static const conv_case c55 = {"35x35 5x5 48->64", 1, 35, 35, 48, 64, 5, 5, 1, 1, 1, 1, 1, 0, 1, 0, FR_ACT_RELU, NULL};
    static const conv_case c1 = {"35x35 1x1 192->64", 1, 35, 35, 192, 64, 1, 1, 1, 1, 1, 1, 1, 0, 1, 0, FR_ACT_RELU,
                                 NULL};
    static const conv_case s2 = {"17x17 3x3 s2 192->320", 1, 17, 17, 192, 320, 3, 3, 2, 2, 1, 1, 0, 0, 1, 0,
                                 FR_ACT_RELU, NULL};
    static const conv_case dw = {"depthwise 3x3 c64", 1, 35, 35, 64, 1, 3, 3, 1, 1, 1, 1, 1, 1, 1, 0, FR_ACT_RELU6,
                                 NULL};
    static const conv_case sg = {"35x35 3x3 64->96 sigmoid", 1, 35, 35, 64, 96, 3, 3, 1, 1, 1, 1, 1, 0, 1, 0,
                                 FR_ACT_SIGMOID, NULL};
    /* the default, in place of oneDNN's AVX2 direct kernel */
    CHECK(is_wino(sel(&c3, &POL_DEFAULT, FR_PICK_AVX2_DIRECT, 0), 2, 3, 0));
    CHECK(is_wino(sel(&c17, &POL_DEFAULT, FR_PICK_AVX2_DIRECT, 0), 2, 7, 2));
    CHECK(is_wino(sel(&c71, &POL_DEFAULT, FR_PICK_AVX2_DIRECT, 0), 2, 7, 1));
    CHECK(sel(&c8, &POL_DEFAULT, FR_PICK_AVX2_DIRECT, 0).impl == FR_CONV_IGEMM);
    CHECK(sel(&c13, &POL_DEFAULT, FR_PICK_AVX2_DIRECT, 0).impl == FR_CONV_IGEMM); /* F(4, 3) opted in only */
    CHECK(sel(&c55, &POL_DEFAULT, FR_PICK_AVX2_DIRECT, 0).impl == FR_CONV_BACKEND);
    CHECK(sel(&s2, &POL_DEFAULT, FR_PICK_AVX2_DIRECT, 0).impl == FR_CONV_IGEMM);
    CHECK(sel(&c1, &POL_DEFAULT, FR_PICK_AVX2_DIRECT, 0).impl == FR_CONV_BACKEND);
    /* nothing of frost's where the backend is not asked yet, or picks another kernel (AVX-512) */
    const conv_case *all[] = {&c3, &c17, &c71, &c8, &c13, &c55, &c1, &s2, &dw, &sg};
    for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
        CHECK_MSG(sel(all[i], &POL_DEFAULT, FR_PICK_UNKNOWN, 0).impl == FR_CONV_BACKEND, "%s", all[i]->what);
        CHECK_MSG(sel(all[i], &POL_DEFAULT, FR_PICK_OTHER, 0).impl == FR_CONV_BACKEND, "%s", all[i]->what);
        CHECK_MSG(sel(all[i], &onednn_only, FR_PICK_AVX2_DIRECT, 0).impl == FR_CONV_BACKEND, "%s", all[i]->what);
        /* bf16 values, a grouped layer, an activation not fused: never */
        CHECK_MSG(sel(all[i], &POL_FORCED, FR_PICK_AVX2_DIRECT, 1).impl == FR_CONV_BACKEND, "%s", all[i]->what);
    }
    CHECK(sel(&dw, &POL_FORCED, FR_PICK_AVX2_DIRECT, 0).impl == FR_CONV_BACKEND);
    CHECK(sel(&sg, &POL_FORCED, FR_PICK_AVX2_DIRECT, 0).impl == FR_CONV_BACKEND);
    /* --no-winograd: the indirect GEMM only */
    CHECK(sel(&c3, &no_winograd, FR_PICK_AVX2_DIRECT, 0).impl == FR_CONV_IGEMM);
    CHECK(sel(&c17, &no_winograd, FR_PICK_AVX2_DIRECT, 0).impl == FR_CONV_IGEMM);
    /* --winograd: the larger tiles whatever the backend picks, before it is asked */
    for (int pick = FR_PICK_UNKNOWN; pick <= FR_PICK_OTHER; pick++) {
        CHECK(is_wino(sel(&c3, &POL_WINOGRAD, (fr_kernels_pick)pick, 0), 4, 3, 0));
        CHECK(is_wino(sel(&c55, &POL_WINOGRAD, (fr_kernels_pick)pick, 0), 4, 5, 0));
        CHECK(is_wino(sel(&c13, &POL_WINOGRAD, (fr_kernels_pick)pick, 0), 4, 3, 2));
        CHECK(is_wino(sel(&c17, &POL_WINOGRAD, (fr_kernels_pick)pick, 0), 2, 7, 2));
    }
    CHECK(sel(&c8, &POL_WINOGRAD, FR_PICK_UNKNOWN, 0).impl == FR_CONV_BACKEND);
    CHECK(sel(&c8, &POL_WINOGRAD, FR_PICK_AVX2_DIRECT, 0).impl == FR_CONV_IGEMM); /* 4 tiles */
    /* own_kernels = 2 (tests): the indirect GEMM wherever it applies, once the pick is known */
    CHECK(sel(&c1, &POL_FORCED, FR_PICK_OTHER, 0).impl == FR_CONV_IGEMM);
    CHECK(sel(&c1, &POL_FORCED, FR_PICK_UNKNOWN, 0).impl == FR_CONV_BACKEND);
    /* in place of the AVX-512 direct kernel, where frost runs its AVX-512
     * forms: the default Winograd kernels from 64 tiles per image, 32
     * channels in and 64 out; the rest stays */
    const fr_kernels_facts avx512 = {FR_PICK_AVX512_DIRECT, 0, 1}, avx512_off = {FR_PICK_AVX512_DIRECT, 0, 0},
                           avx512_bf16 = {FR_PICK_AVX512_DIRECT, 1, 1};
    static const conv_case c33 = {"35x35 3x3 32->32", 1, 35, 35, 32, 32, 3, 3, 1, 1, 1, 1, 1, 0, 1, 0, FR_ACT_RELU, NULL};
    static const conv_case c3n = {"35x35 3x3 16->64", 1, 35, 35, 16, 64, 3, 3, 1, 1, 1, 1, 1, 0, 1, 0, FR_ACT_RELU, NULL};
    static const conv_case c15 = {"13x13 3x3 64->64", 1, 13, 13, 64, 64, 3, 3, 1, 1, 1, 1, 1, 0, 1, 0, FR_ACT_RELU, NULL};
    static const conv_case c17s = {"15x15 1x7 64->64", 1, 15, 15, 64, 64, 1, 7, 1, 1, 1, 1, 1, 0, 1, 0, FR_ACT_RELU, NULL};
    CHECK(is_wino(sel_facts(&c3, &POL_DEFAULT, &avx512), 2, 3, 0));
    CHECK(sel_facts(&c33, &POL_DEFAULT, &avx512).impl == FR_CONV_BACKEND); /* 32 out */
    CHECK(sel(&c33, &POL_DEFAULT, FR_PICK_AVX2_DIRECT, 0).impl == FR_CONV_BACKEND);
    CHECK(is_wino(sel_facts(&c17, &POL_DEFAULT, &avx512), 2, 7, 2));
    CHECK(is_wino(sel_facts(&c71, &POL_DEFAULT, &avx512), 2, 7, 1));
    CHECK(is_wino(sel_facts(&c17s, &POL_DEFAULT, &avx512), 2, 7, 2));           /* 15 lines x 8 tiles */
    CHECK(sel_facts(&c15, &POL_DEFAULT, &avx512).impl == FR_CONV_BACKEND);     /* 7 x 7 tiles */
    CHECK(sel_facts(&c3n, &POL_DEFAULT, &avx512).impl == FR_CONV_BACKEND);     /* 16 channels in */
    CHECK(sel_facts(&c55, &POL_DEFAULT, &avx512).impl == FR_CONV_BACKEND);     /* F(4x4, 5x5): opted in only */
    CHECK(sel_facts(&c13, &POL_DEFAULT, &avx512).impl == FR_CONV_BACKEND);     /* F(4, 3): opted in only */
    CHECK(sel_facts(&c8, &POL_DEFAULT, &avx512).impl == FR_CONV_BACKEND);      /* 16 tiles */
    CHECK(sel_facts(&s2, &POL_DEFAULT, &avx512).impl == FR_CONV_BACKEND);
    CHECK(sel_facts(&c1, &POL_DEFAULT, &avx512).impl == FR_CONV_BACKEND);
    CHECK(is_wino(sel_facts(&c55, &POL_WINOGRAD, &avx512), 4, 5, 0));       /* --winograd as before */
    for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
        CHECK_MSG(sel_facts(all[i], &POL_DEFAULT, &avx512_off).impl == FR_CONV_BACKEND, "%s", all[i]->what);
        CHECK_MSG(sel_facts(all[i], &POL_DEFAULT, &avx512_bf16).impl == FR_CONV_BACKEND, "%s", all[i]->what);
        CHECK_MSG(sel_facts(all[i], &onednn_only, &avx512).impl == FR_CONV_BACKEND, "%s", all[i]->what);
        CHECK_MSG(sel_facts(all[i], &no_winograd, &avx512).impl == FR_CONV_BACKEND, "%s", all[i]->what);
    }
}

static void select_pool_test(void) {
    static const pool_case q = {"maxpool 3x3 s2", FR_POOL_MAX, 1, 9, 9, 13, 3, 2, 1, 1, 0, FR_ACT_NONE};
    static const pool_case qs = {"avgpool + bias + sigmoid", FR_POOL_AVG, 1, 9, 9, 13, 3, 1, 1, 1, 1, FR_ACT_SIGMOID};
    static const fr_kernels_policy onednn_only = {.own = 0};
    static const fr_kernels_facts bf16 = {FR_PICK_UNKNOWN, 1, 0}, any = {FR_PICK_UNKNOWN, 0, 0};
    tplan t;
    fr_plan p;
    int out;
    pool_plan(&t, &q);
    tp_plan(&t, &p, &out);
    CHECK(fr_kernels_select_pool(&POL_OWN, &p, &t.steps[0], &any));
    CHECK(!fr_kernels_select_pool(&onednn_only, &p, &t.steps[0], &any));
    CHECK(!fr_kernels_select_pool(&POL_OWN, &p, &t.steps[0], &bf16));
    tp_free(&t);
    pool_plan(&t, &qs);
    tp_plan(&t, &p, &out);
    CHECK(!fr_kernels_select_pool(&POL_OWN, &p, &t.steps[0], &any));
    tp_free(&t);
}

/* frost's u8 pooling (int8 precision) on random codes: each form (this
 * CPU's, portable) on 1, 2, 3 and 5 threads equal to the integer
 * reference, the max or floor((2 sum + count) / (2 count)) over the
 * window's codes inside the image; channel counts around the 64-lane
 * vector, SAME padding, windows of up to 64 codes (quotients by a
 * multiply-high), 81 (in f32) and 289 (past the 16-bit sums: the generic
 * form).  The selection: where an x86 form runs (not the 17x17 average;
 * on AVX2 not the 9x9 either), or forced; test_kernels_avx2 runs the AVX2
 * form. */
static void pool_u8_test(void) {
    static const pool_case cases[] = {
        {"u8 maxpool 3x3 s2 VALID 15x15 c64", FR_POOL_MAX, 1, 15, 15, 64, 3, 2, 0, 31, 0, FR_ACT_NONE},
        {"u8 maxpool 3x3 s2 SAME 9x9 c200", FR_POOL_MAX, 2, 9, 9, 200, 3, 2, 1, 32, 0, FR_ACT_NONE},
        {"u8 maxpool 2x2 s2 SAME 7x7 c5", FR_POOL_MAX, 1, 7, 7, 5, 2, 2, 1, 33, 0, FR_ACT_NONE},
        {"u8 avgpool 3x3 s1 SAME 9x9 c288", FR_POOL_AVG, 1, 9, 9, 288, 3, 1, 1, 34, 0, FR_ACT_NONE},
        {"u8 avgpool 3x3 s2 SAME 8x8 c70", FR_POOL_AVG, 2, 8, 8, 70, 3, 2, 1, 35, 0, FR_ACT_NONE},
        {"u8 avgpool 8x8 VALID (global) c130", FR_POOL_AVG, 1, 8, 8, 130, 8, 8, 0, 36, 0, FR_ACT_NONE},
        {"u8 avgpool 9x9 VALID 12x12 c70 (81 codes: quotients in f32)", FR_POOL_AVG, 1, 12, 12, 70, 9, 1, 0, 38, 0,
         FR_ACT_NONE},
        {"u8 avgpool 17x17 VALID c65 (289 codes)", FR_POOL_AVG, 1, 17, 17, 65, 17, 1, 0, 37, 0, FR_ACT_NONE},
    };
    static const fr_kernels_facts any = {FR_PICK_UNKNOWN, 0, 0};
    for (size_t i = 0; i < N_OF(cases); i++) {
        const pool_case *q = &cases[i];
        tplan t;
        fr_plan p;
        int out;
        pool_plan(&t, q);
        tp_plan(&t, &p, &out);
        const fr_step *s = &t.steps[0];
        const fr_value *xv = &p.values[s->inputs[0]], *yv = &p.values[out];
        int sel = fr_kernels_select_pool_u8(&POL_OWN, &p, s, &any);
        /* the x86 forms' 16-bit sums: 257 codes (AVX-512), 64 (AVX2) */
        int expect = fr_kernels_avx512_int8(0) ? q->op == FR_POOL_MAX || q->k * q->k <= 257
                                               : fr_kernels_cpu_detect().avx2 && (q->op == FR_POOL_MAX || q->k * q->k <= 64);
        CHECK_MSG(sel == expect, "%s: selected %d", q->what, sel);
        CHECK(fr_kernels_select_pool_u8(&POL_FORCED, &p, s, &any));
        uint8_t *x = malloc(xv->count), *want = malloc(yv->count), *got = malloc(yv->count);
        CHECK(x && want && got);
        if (!x || !want || !got) {
            free(x), free(want), free(got), tp_free(&t);
            return;
        }
        uint32_t r = q->seed;
        for (size_t k = 0; k < xv->count; k++) r = r * 1664525u + 1013904223u, x[k] = (uint8_t)(r >> 24);
        for (size_t k = 0; k < xv->count && k < 64; k++) x[k] = k % 2 ? 255 : 0; /* the extremes */
        const fr_pool_params *pp = &s->p.pool;
        int64_t h = xv->dims[1], w = xv->dims[2], c = xv->dims[3], oh = yv->dims[1], ow = yv->dims[2];
        for (int64_t n = 0; n < xv->dims[0]; n++)
            for (int64_t oy = 0; oy < oh; oy++)
                for (int64_t ox = 0; ox < ow; ox++)
                    for (int64_t ch = 0; ch < c; ch++) {
                        uint32_t acc = 0, cnt = 0;
                        int64_t iy0 = oy * pp->stride_h - pp->pad_top, ix0 = ox * pp->stride_w - pp->pad_left;
                        for (int64_t iy = iy0; iy < iy0 + pp->kh; iy++)
                            for (int64_t ix = ix0; ix < ix0 + pp->kw; ix++) {
                                if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
                                uint32_t v = x[((n * h + iy) * w + ix) * c + ch];
                                acc = pp->op == FR_POOL_MAX ? (v > acc ? v : acc) : acc + v;
                                cnt++;
                            }
                        if (pp->op == FR_POOL_AVG) acc = (2 * acc + cnt) / (2 * cnt);
                        want[((n * oh + oy) * ow + ox) * c + ch] = (uint8_t)acc;
                    }
        for (int portable = 0; portable < 2; portable++)
            for (int threads = 1; threads <= 5; threads += threads == 3 ? 2 : 1) {
                fr_pool_nhwc *k = NULL;
                CHECK(fr_pool_u8_create(&p, s, portable, threads, &k) == FROST_OK);
                if (!k) continue;
                memset(got, 0xA5, yv->count);
                fr_pool_u8_run(k, test_team(), x, got);
                size_t bad = 0;
                for (size_t e = 0; e < yv->count; e++) bad += got[e] != want[e];
                CHECK_MSG(!bad, "%s (%s, %d threads): %zu of %zu codes wrong", q->what,
                          portable ? "portable" : "this CPU's form", threads, bad, yv->count);
                fr_pool_nhwc_free(k);
            }
        free(x), free(want), free(got);
        tp_free(&t);
    }
}

static void kernel_tests(void) {
    select_rules_test();
    select_isa_test();
    select_conv_test();
    select_pool_test();
    arena_gap_test();
    gemm_packed_test();
    u8_table_test();
    fq_u8_test();
    pool_u8_test();
    /* the indirect GEMM wherever it applies (own_kernels = 2; on 1, 2, 3
     * and 5 threads the 8 cases the oneDNN part also runs so), then where it
     * runs by default; every dense case of conv_cases */
    for (size_t i = 0; i < N_OF(igemm_cases); i++)
        kr_conv_case(&igemm_cases[i], &POL_FORCED, igemm_cases[i].want, 1e-4, 400 + (uint32_t)i,
                     i < 8 ? KR_THREADS : KR_RUN);
    for (size_t i = 0; i < N_OF(conv_cases); i++) {
        const conv_case *k = &conv_cases[i];
        int applies = !k->depthwise && fr_kernels_act_ok(k->act);
        kr_conv_case(k, &POL_FORCED, applies ? IG : "!" IG, 1e-4, 420 + (uint32_t)i, KR_RUN);
    }
    kr_conv_cases(igemm_rule_cases, N_OF(igemm_rule_cases), &POL_OWN, 1e-4, 480, KR_RUN);
    /* Winograd: --winograd's larger tiles (on every thread count: the odd
     * 3x3 23x21, 5x5 VALID 21x19 and 7x1 13x11 cases), then the default's
     * choices (F(2x2, 3x3), F(2, 7), F(2, 5) within FP32's 1e-4; a 3x3 case
     * may get either kernel, 5x5, 1x3 and 3x1 ones no Winograd), and
     * F(2x2, 3x3) run on its own cases */
    for (size_t i = 0; i < N_OF(wino_cases); i++)
        kr_conv_case(&wino_cases[i], &POL_WINOGRAD, wino_cases[i].want, 1e-3, 600 + (uint32_t)i,
                     i == 0 || i == 10 || i == 21 ? KR_THREADS : KR_RUN);
    kr_conv_cases(wino_shape_cases, N_OF(wino_shape_cases), &POL_WINOGRAD, 2e-3, 91, KR_SELECT);
    for (size_t i = 0; i < N_OF(wino_cases); i++) {
        conv_case k = wino_cases[i];
        int one_d = (k.kh == 1) != (k.kw == 1) && k.kh + k.kw > 4;
        if (k.kh == 3 && k.kw == 3)
            k.want = NULL;
        else if (!one_d)
            k.want = "!wino";
        kr_conv_case(&k, &POL_DEFAULT, k.want, 1e-4, 680 + (uint32_t)i, KR_SELECT);
    }
    for (size_t i = 0; i < N_OF(wino22_cases); i++)
        kr_conv_case(&wino22_cases[i], &POL_DEFAULT, wino22_cases[i].want, 1e-4, 760 + (uint32_t)i,
                     i == 1 ? KR_THREADS : KR_RUN);
    for (size_t i = 0; i < N_POOL; i++) kr_pool_case(&pool_cases[i]);
    for (size_t i = 0; i < N_POOL_PORTABLE; i++) kr_pool_case(&pool_portable_cases[i]);
}

#ifdef FROST_HAVE_ONEDNN
/* ------------------------------------------------- the oneDNN backend --- */

/* Runs the plan both ways and compares the last step's output.
 * tol < 0: relative tolerance -tol; expect_claim: every step must be claimed. */
static void tp_check(tplan *t, const char *what, fr_backend_config cfg, double tol, int expect_claim) {
    fr_plan p;
    int out;
    float *a, *b;
    tp_plan(t, &p, &out);
    tp_arenas(t, &a, &b);
    tp_reference(&p, a, what);
    tp_raw raw;
    memset(&raw, 0, sizeof(raw));
    if (t->raw_weights) tp_raw_weights(t, &raw);

    const fr_backend *be = fr_backend_onednn();
    uint8_t claimed[MAXS] = {0};
    void *state = NULL, *run = NULL;
    char *err = NULL;
    frost_status s = be->prepare(&p, &cfg, &state, claimed, &err);
    CHECK_MSG(s == FROST_OK, "%s: prepare: %s", what, err ? err : "");
    free(err);
    err = NULL;
    if (s == FROST_OK) {
        s = be->bind(state, &p, b, &run, &err);
        CHECK_MSG(s == FROST_OK, "%s: bind: %s", what, err ? err : "");
        free(err);
        err = NULL;
    }
    if (s == FROST_OK) {
        int all = 1;
        for (int i = 0; i < t->ns; i++) {
            all &= claimed[i];
            if (claimed[i]) {
                s = be->run_step(state, run, i, &err);
                CHECK_MSG(s == FROST_OK, "%s: run_step %d: %s", what, i, err ? err : "");
                free(err);
                err = NULL;
            } else {
                fr_ref_run_step(&p, i, b);
            }
        }
        if (expect_claim)
            CHECK_MSG(all, "%s: not every step claimed by oneDNN (kernel %s)", what,
                      be->kernel_name(state, 0) ? be->kernel_name(state, 0) : "none");
        for (int i = 0; i < t->ns; i++) {
            const char *want = t->want_kernel[i], *k = be->kernel_name(state, i);
            if (!want) continue;
            int neg = want[0] == '!', has = k && strstr(k, want + neg);
            CHECK_MSG(neg ? !has : has, "%s: step %d runs %s, expected %s%s", what, i, k ? k : "reference",
                      neg ? "no " : "", want + neg);
        }
        const fr_value *v = &t->values[out];
        const float *ra = (const float *)((char *)a + v->offset), *rb = (const float *)((char *)b + v->offset);
        double d = tu_max_rel_diff(rb, ra, v->count);
        if (t->out_copy && (*t->out_copy = malloc(v->count * sizeof(float))) != NULL) {
            memcpy(*t->out_copy, rb, v->count * sizeof(float));
            t->out_count = v->count;
        }
        CHECK_MSG(d <= tol, "%s: max relative difference %g > %g (kernel %s)", what, d, tol,
                  be->kernel_name(state, t->ns - 1) ? be->kernel_name(state, t->ns - 1) : "reference");
        if (getenv("FROST_TEST_VERBOSE")) {
            printf("%-48s rel diff %-9.3g", what, d);
            for (int i = 0; i < t->ns; i++)
                printf(" %s", be->kernel_name(state, i) ? be->kernel_name(state, i) : "reference");
            printf("\n");
        }
    }
    be->unbind(run);
    be->release(state);
    tp_raw_free(&raw);
    free(a);
    free(b);
}


static fr_backend_config cfg_fp32(void) {
    fr_backend_config c = {.threads = 2, .precision = FROST_PRECISION_FP32, .winograd = 0, .own_kernels = 1};
    return c;
}

/* raw: the weights as unaligned bytes with a weight scale (tplan.raw_weights) */
static size_t conv_test_raw(const conv_case *k, fr_backend_config cfg, double tol, int expect_claim, uint32_t seed,
                            int raw, float **out_copy) {
    tplan t;
    conv_plan(&t, k, seed);
    t.raw_weights = raw;
    t.out_copy = out_copy;
    tp_check(&t, k->what, cfg, tol, expect_claim);
    tp_free(&t);
    return t.out_count;
}

static void conv_test(const conv_case *k, fr_backend_config cfg, double tol, int expect_claim, uint32_t seed) {
    conv_test_raw(k, cfg, tol, expect_claim, seed, 0, NULL);
}

/* The cases again with the portable C versions of frost's kernels (what
 * CPUs without AVX2 / FMA run). */
static void portable_cases(const conv_case *cases, size_t n, fr_backend_config cfg, double tol, uint32_t seed) {
    cfg.portable = 1;
    for (size_t i = 0; i < n; i++) {
        char what[128];
        snprintf(what, sizeof(what), "portable %s", cases[i].what);
        conv_case k = cases[i];
        k.what = what;
        conv_test(&k, cfg, tol, 1, seed + (uint32_t)i);
    }
}

static void matmul_test(const char *what, int m, int k, int n, int bias, int residual, fr_act act, uint32_t seed) {
    tplan t;
    tp_init(&t, seed);
    int a = tp_value(&t, 0, 2, m, k, 0, 0);
    int r = residual ? tp_value(&t, 0, 2, m, n, 0, 0) : -1;
    int y = tp_value(&t, 0, 2, m, n, 0, 0);
    int in[2] = {a, r};
    fr_step *s = tp_step(&t, FR_STEP_MATMUL, what, residual ? 2 : 1, in, y);
    fr_matmul_params *p = &s->p.matmul;
    p->m = m;
    p->k = k;
    p->n = n;
    p->weights = tp_const(&t, (size_t)k * n, 0.3f);
    p->bias = bias ? tp_const(&t, (size_t)n, 1.f) : NULL;
    p->act = act;
    p->residual = r;
    s->flops = 2 * (int64_t)m * n * k;
    tp_check(&t, what, cfg_fp32(), 1e-4, 1);
    tp_free(&t);
}

static void pool_test_cfg(fr_backend_config cfg, const pool_case *q) {
    tplan t;
    pool_plan(&t, q);
    tp_check(&t, q->what, cfg, 1e-4, 1);
    tp_free(&t);
}

static void reduce_test(const char *what, fr_reduce_op op, unsigned mask, int keep, uint32_t seed) {
    tplan t;
    tp_init(&t, seed);
    int64_t d[4] = {2, 5, 7, 11};
    int x = tp_value(&t, 0, 4, d[0], d[1], d[2], d[3]);
    int64_t o[4];
    int r = 0;
    for (int i = 0; i < 4; i++) {
        if (!((mask >> i) & 1u))
            o[r++] = d[i];
        else if (keep)
            o[r++] = 1;
    }
    int y = tp_value(&t, 0, r, o[0], r > 1 ? o[1] : 0, r > 2 ? o[2] : 0, r > 3 ? o[3] : 0);
    fr_step *s = tp_step(&t, FR_STEP_REDUCE, what, 1, &x, y);
    s->p.reduce.op = op;
    s->p.reduce.axes_mask = mask;
    tp_check(&t, what, cfg_fp32(), 1e-4, 0);
    tp_free(&t);
}

static void misc_tests(void) {
    tplan t;
    /* softmax over the last axis */
    tp_init(&t, 11);
    int x = tp_value(&t, 0, 2, 3, 1001, 0, 0), y = tp_value(&t, 0, 2, 3, 1001, 0, 0);
    tp_step(&t, FR_STEP_SOFTMAX, "softmax [3,1001]", 1, &x, y);
    tp_check(&t, "softmax [3,1001]", cfg_fp32(), 1e-4, 1);
    tp_free(&t);

    /* concat along channels, inputs of unequal widths, batch 2 */
    tp_init(&t, 12);
    int c[3] = {tp_value(&t, 0, 4, 2, 5, 7, 13), tp_value(&t, 0, 4, 2, 5, 7, 64), tp_value(&t, 0, 4, 2, 5, 7, 3)};
    y = tp_value(&t, 0, 4, 2, 5, 7, 80);
    tp_step(&t, FR_STEP_CONCAT, "concat axis 3", 3, c, y)->p.concat.axis = 3;
    tp_check(&t, "concat axis 3 (13+64+3)", cfg_fp32(), 0, 1);
    tp_free(&t);

    /* concat along H */
    tp_init(&t, 13);
    int c2[2] = {tp_value(&t, 0, 4, 1, 3, 4, 5), tp_value(&t, 0, 4, 1, 2, 4, 5)};
    y = tp_value(&t, 0, 4, 1, 5, 4, 5);
    tp_step(&t, FR_STEP_CONCAT, "concat axis 1", 2, c2, y)->p.concat.axis = 1;
    tp_check(&t, "concat axis 1", cfg_fp32(), 0, 1);
    tp_free(&t);

    /* binary: full + per-channel constant (broadcast), with relu */
    tp_init(&t, 14);
    int in[2] = {tp_value(&t, 0, 4, 2, 5, 7, 19), tp_value(&t, 1, 1, 19, 0, 0, 0)};
    y = tp_value(&t, 0, 4, 2, 5, 7, 19);
    fr_step *s = tp_step(&t, FR_STEP_BINARY, "add broadcast", 2, in, y);
    s->p.binary.op = FR_BIN_ADD;
    s->p.binary.act = FR_ACT_RELU;
    tp_check(&t, "add [2,5,7,19] + const [19], relu", cfg_fp32(), 1e-4, 1);
    tp_free(&t);

    /* binary: broadcast operand first (commutative op is swapped) */
    tp_init(&t, 15);
    int in2[2] = {tp_value(&t, 0, 4, 1, 1, 1, 8), tp_value(&t, 0, 4, 3, 4, 5, 8)};
    y = tp_value(&t, 0, 4, 3, 4, 5, 8);
    s = tp_step(&t, FR_STEP_BINARY, "mul", 2, in2, y);
    s->p.binary.op = FR_BIN_MUL;
    tp_check(&t, "mul [1,1,1,8] * [3,4,5,8]", cfg_fp32(), 1e-4, 1);
    tp_free(&t);

    /* binary sub / div / max, same shapes */
    static const fr_binary_op ops[] = {FR_BIN_SUB, FR_BIN_DIV, FR_BIN_MAX, FR_BIN_MIN};
    static const char *names[] = {"sub same shape", "div same shape", "max same shape", "min same shape"};
    for (int i = 0; i < 4; i++) {
        tp_init(&t, 16 + (uint32_t)i);
        int in3[2] = {tp_value(&t, 0, 3, 3, 7, 9, 0), tp_value(&t, 0, 3, 3, 7, 9, 0)};
        y = tp_value(&t, 0, 3, 3, 7, 9, 0);
        s = tp_step(&t, FR_STEP_BINARY, names[i], 2, in3, y);
        s->p.binary.op = ops[i];
        /* division by values near 0 amplifies rounding: compare absolute values loosely */
        tp_check(&t, names[i], cfg_fp32(), ops[i] == FR_BIN_DIV ? 1e-3 : 1e-4, 1);
        tp_free(&t);
    }

    /* scale-shift (an unfolded batch norm) with relu6 */
    tp_init(&t, 21);
    x = tp_value(&t, 0, 4, 2, 6, 5, 23);
    y = tp_value(&t, 0, 4, 2, 6, 5, 23);
    s = tp_step(&t, FR_STEP_SCALE_SHIFT, "scale_shift", 1, &x, y);
    s->p.scale_shift.channels = 23;
    s->p.scale_shift.scale = tp_const(&t, 23, 2.f);
    s->p.scale_shift.shift = tp_const(&t, 23, 1.f);
    s->p.scale_shift.act = FR_ACT_RELU6;
    tp_check(&t, "scale_shift c23 relu6", cfg_fp32(), 1e-4, 1);
    tp_free(&t);

    /* unary ops (inputs in [-1, 1): sqrt/rsqrt on abs first) */
    static const fr_unary_op uops[] = {FR_UN_RELU, FR_UN_RELU6, FR_UN_LEAKY_RELU, FR_UN_SIGMOID, FR_UN_TANH,
                                       FR_UN_EXP, FR_UN_NEG, FR_UN_SQUARE, FR_UN_ABS};
    for (size_t i = 0; i < sizeof(uops) / sizeof(uops[0]); i++) {
        char name[64];
        snprintf(name, sizeof(name), "unary op %d", (int)uops[i]);
        tp_init(&t, 30 + (uint32_t)i);
        x = tp_value(&t, 0, 4, 2, 3, 5, 7);
        y = tp_value(&t, 0, 4, 2, 3, 5, 7);
        s = tp_step(&t, FR_STEP_UNARY, name, 1, &x, y);
        s->p.unary.op = uops[i];
        s->p.unary.alpha = 0.1f;
        tp_check(&t, name, cfg_fp32(), 1e-4, 1);
        tp_free(&t);
    }
    /* sqrt and rsqrt on positive values: abs first (two steps) */
    static const fr_unary_op pops[] = {FR_UN_SQRT, FR_UN_RSQRT};
    for (int i = 0; i < 2; i++) {
        tp_init(&t, 40 + (uint32_t)i);
        x = tp_value(&t, 0, 2, 6, 33, 0, 0);
        int m = tp_value(&t, 0, 2, 6, 33, 0, 0);
        y = tp_value(&t, 0, 2, 6, 33, 0, 0);
        tp_step(&t, FR_STEP_UNARY, "abs", 1, &x, m)->p.unary.op = FR_UN_ABS;
        tp_step(&t, FR_STEP_UNARY, "sqrt", 1, &m, y)->p.unary.op = pops[i];
        tp_check(&t, i ? "rsqrt(abs(x))" : "sqrt(abs(x))", cfg_fp32(), i ? 1e-3 : 1e-4, 1);
        tp_free(&t);
    }
}

/* Two convolutions in a row plus a concat: a small block as in Inception. */
/* k3x3: NULL, or the want_kernel of the 3x3 convolution. */
static void block_test(fr_backend_config cfg, const char *what, double tol, int expect_claim, const char *k3x3) {
    tplan t;
    tp_init(&t, 77);
    t.want_kernel[1] = k3x3;
    int x = tp_value(&t, 0, 4, 2, 17, 17, 32);
    int a = tp_value(&t, 0, 4, 2, 17, 17, 48);
    int b = tp_value(&t, 0, 4, 2, 17, 17, 64);
    int y = tp_value(&t, 0, 4, 2, 17, 17, 112);
    fr_step *s = tp_step(&t, FR_STEP_CONV, "1x1", 1, &x, a);
    s->p.conv = (fr_conv_params){1, 1, 32, 48, 1, 1, 1, 1, 1, 0, 0, 0, 0, NULL, NULL, FR_ACT_RELU, 0.f, -1, NULL, NULL, NULL, NULL};
    s->p.conv.weights = tp_const(&t, 32 * 48, 0.3f);
    s->p.conv.bias = tp_const(&t, 48, 0.1f);
    s = tp_step(&t, FR_STEP_CONV, "3x3", 1, &a, b);
    s->p.conv = (fr_conv_params){3, 3, 48, 64, 1, 1, 1, 1, 1, 1, 1, 1, 1, NULL, NULL, FR_ACT_RELU, 0.f, -1, NULL, NULL, NULL, NULL};
    s->p.conv.weights = tp_const(&t, 9 * 48 * 64, 0.1f);
    s->p.conv.bias = tp_const(&t, 64, 0.1f);
    int cin[2] = {a, b};
    tp_step(&t, FR_STEP_CONCAT, "concat", 2, cin, y)->p.concat.axis = 3;
    tp_check(&t, what, cfg, tol, expect_claim);
    tp_free(&t);
}

/* --winograd picks Winograd per layer shape (fr_wino_pays): one 3x3
 * stride-1 convolution cin -> cout on an h x h map at batch 1, whose kernel
 * must (want F4) or must not (want "!wino") be a Winograd one. */
static void wino_shape_test(int h, int cin, int cout, const char *want) {
    char what[96];
    snprintf(what, sizeof(what), "winograd choice 3x3 %dx%d %d->%d", h, h, cin, cout);
    fr_backend_config w = cfg_fp32();
    w.winograd = 1;
    tplan t;
    tp_init(&t, 91);
    int x = tp_value(&t, 0, 4, 1, h, h, cin), y = tp_value(&t, 0, 4, 1, h, h, cout);
    fr_step *s = tp_step(&t, FR_STEP_CONV, what, 1, &x, y);
    s->p.conv = (fr_conv_params){3, 3, cin, cout, 1, 1, 1, 1, 1, 1, 1, 1, 1, NULL, NULL, FR_ACT_RELU, 0.f, -1, NULL, NULL, NULL, NULL};
    s->p.conv.weights = tp_const(&t, (size_t)9 * cin * cout, 0.1f);
    s->p.conv.bias = tp_const(&t, (size_t)cout, 0.1f);
    t.want_kernel[0] = want;
    tp_check(&t, what, w, 2e-3, 1);
    tp_free(&t);
}

static void onednn_tests(void) {
    arena_gap_test();
    gemm_packed_test();
    for (size_t i = 0; i < sizeof(conv_cases) / sizeof(conv_cases[0]); i++)
        conv_test(&conv_cases[i], cfg_fp32(), 1e-4, 1, 100 + (uint32_t)i);

    matmul_test("matmul 3x2048 -> 1001 bias", 3, 2048, 1001, 1, 0, FR_ACT_NONE, 1);
    matmul_test("matmul 1x37 -> 19 relu", 1, 37, 19, 1, 0, FR_ACT_RELU, 2);
    matmul_test("matmul 5x64 -> 64 residual relu6", 5, 64, 64, 1, 1, FR_ACT_RELU6, 3);
    matmul_test("matmul 4x33 -> 7 no bias", 4, 33, 7, 0, 0, FR_ACT_NONE, 4);

    for (size_t i = 0; i < N_POOL; i++) pool_test_cfg(cfg_fp32(), &pool_cases[i]);
    { /* the portable C rows (CPUs without AVX2) */
        fr_backend_config pc = cfg_fp32();
        pc.portable = 1;
        for (size_t i = 0; i < N_POOL_PORTABLE; i++) pool_test_cfg(pc, &pool_portable_cases[i]);
    }

    reduce_test("mean over H,W keep", FR_RED_MEAN, 6u, 1, 1);
    reduce_test("mean over H,W squeeze", FR_RED_MEAN, 6u, 0, 2);
    reduce_test("max over H,W", FR_RED_MAX, 6u, 1, 3);
    reduce_test("sum over C", FR_RED_SUM, 8u, 0, 4);
    reduce_test("min over H", FR_RED_MIN, 2u, 1, 5);

    misc_tests();
    block_test(cfg_fp32(), "block 1x1 -> 3x3 -> concat", 1e-4, 1, "!wino");

    fr_backend_config ig = cfg_fp32();
    ig.own_kernels = 2;
    for (size_t i = 0; i < sizeof(igemm_cases) / sizeof(igemm_cases[0]); i++)
        conv_test(&igemm_cases[i], ig, 1e-4, 1, 400 + (uint32_t)i);
    for (size_t i = 0; i < sizeof(conv_cases) / sizeof(conv_cases[0]); i++) { /* every dense case */
        char what[128];
        snprintf(what, sizeof(what), "forced igemm: %s", conv_cases[i].what);
        conv_case k = conv_cases[i];
        k.what = what;
        k.want = !k.depthwise && k.act != FR_ACT_SIGMOID && k.act != FR_ACT_TANH ? IG : "!" IG;
        conv_test(&k, ig, 1e-4, 1, 420 + (uint32_t)i);
    }
    portable_cases(igemm_cases, sizeof(igemm_cases) / sizeof(igemm_cases[0]), ig, 1e-4, 440);
    for (size_t i = 0; i < 10; i++) { /* weights packed from the file's bytes, scaled */
        char what[128];
        snprintf(what, sizeof(what), "unaligned scaled weights: %s", igemm_cases[i].what);
        conv_case k = igemm_cases[i];
        k.what = what;
        conv_test_raw(&k, ig, 1e-4, 1, 470 + (uint32_t)i, 1, NULL);
        snprintf(what, sizeof(what), "unaligned scaled weights, oneDNN: %s", igemm_cases[i].what);
        k.want = "!" IG;
        fr_backend_config o = cfg_fp32();
        o.own_kernels = 0;
        conv_test_raw(&k, o, 1e-4, 1, 490 + (uint32_t)i, 1, NULL);
    }
    for (int threads = 1; threads <= 3; threads += 2) { /* one thread; three on two (or more) cores */
        fr_backend_config ct = ig;
        ct.threads = threads;
        conv_test(&igemm_cases[0], ct, 1e-4, 1, 450 + (uint32_t)threads);
        conv_test(&igemm_cases[6], ct, 1e-4, 1, 460 + (uint32_t)threads);
    }
    /* The indirect GEMM's results do not depend on the thread count: each
     * output is computed by one unit, in a fixed order, whichever thread
     * takes it.  Bit-identical outputs with 1, 2, 3 and 5 threads. */
    for (size_t i = 0; i < 8; i++) {
        float *first = NULL;
        fr_backend_config one = ig;
        one.threads = 1;
        size_t n_first = conv_test_raw(&igemm_cases[i], one, 1e-4, 1, 530 + (uint32_t)i, 0, &first);
        CHECK_MSG(first != NULL, "%s: no output captured", igemm_cases[i].what);
        for (int threads = 2; threads <= 5 && first; threads += threads == 3 ? 2 : 1) {
            fr_backend_config ct = ig;
            ct.threads = threads;
            float *other = NULL;
            size_t n = conv_test_raw(&igemm_cases[i], ct, 1e-4, 1, 530 + (uint32_t)i, 0, &other);
            CHECK_MSG(other && n == n_first && memcmp(first, other, n * sizeof(float)) == 0,
                      "%s: output with %d threads differs from 1 thread's", igemm_cases[i].what, threads);
            free(other);
        }
        free(first);
    }
    for (size_t i = 0; i < sizeof(igemm_rule_cases) / sizeof(igemm_rule_cases[0]); i++) {
        conv_case k = igemm_rule_cases[i];
        if (!tu_avx2_only()) k.want = "!" IG; /* oneDNN's AVX-512 kernels stay */
        conv_test(&k, cfg_fp32(), 1e-4, 1, 480 + (uint32_t)i);
    }
    { /* --onednn-only: oneDNN's direct kernel and pooling */
        fr_backend_config o = cfg_fp32();
        o.own_kernels = 0;
        conv_case k = igemm_rule_cases[0];
        k.what = "onednn-only 3x3 c32->64";
        k.want = "onednn:";
        conv_test(&k, o, 1e-4, 1, 470);
    }

    /* Winograd (opt-in): results differ from direct convolution by more
     * than 1e-4, but stay close; the 3x3 convolutions must still be claimed. */
    fr_backend_config w = cfg_fp32();
    w.winograd = 1;
    block_test(w, "block with Winograd", 2e-3, 1, F4);
    wino_shape_test(35, 64, 96, F4);       /* Inception's 35x35 layers: faster */
    wino_shape_test(17, 160, 192, F4);     /* 25 tiles, many channels: faster */
    wino_shape_test(8, 448, 384, "!wino"); /* 8x8 at batch 1: 4 tiles of 4x4 */
    wino_shape_test(20, 24, 32, "!wino");  /* few input channels: the transforms dominate */
    conv_test(&conv_cases[10], w, 2e-3, 1, 500);
    for (size_t i = 0; i < sizeof(wino_cases) / sizeof(wino_cases[0]); i++)
        conv_test(&wino_cases[i], w, 1e-3, 1, 600 + (uint32_t)i);
    portable_cases(wino_cases, sizeof(wino_cases) / sizeof(wino_cases[0]), w, 1e-3, 650);
    for (size_t i = 0; i < sizeof(wino_cases) / sizeof(wino_cases[0]); i++) { /* transformed from the file's bytes */
        char what[128];
        snprintf(what, sizeof(what), "unaligned scaled weights: %s", wino_cases[i].what);
        conv_case k = wino_cases[i];
        k.what = what;
        conv_test_raw(&k, w, 1e-3, 1, 720 + (uint32_t)i, 1, NULL);
    }
    { /* the default (winograd_default, not winograd): the 1-D F(2, 7) and
       * F(2, 5) and F(2x2, 3x3) where they pay, within FP32's 1e-4; 5x5, 1x3
       * and 3x1 stay direct */
        fr_backend_config d1 = cfg_fp32();
        d1.winograd_default = 1;
        for (size_t i = 0; i < sizeof(wino_cases) / sizeof(wino_cases[0]); i++) {
            char what[128];
            snprintf(what, sizeof(what), "default: %s", wino_cases[i].what);
            conv_case k = wino_cases[i];
            k.what = what;
            /* in place of oneDNN's AVX2 or AVX-512 direct kernel, with
             * each one's thresholds (select_conv_test); F(2x2, 3x3)'s
             * choices: wino22_cases; 5x5, 1x3 and 3x1: opted in only */
            int one_d = (k.kh == 1) != (k.kw == 1) && k.kh + k.kw > 4;
            if (k.kh == 3 && k.kw == 3) k.want = NULL;
            else if (!one_d) k.want = "!wino";
            else if (!tu_avx2_only()) k.want = NULL;
            conv_test(&k, d1, 1e-4, 1, 680 + (uint32_t)i);
        }
        size_t n22 = sizeof(wino22_cases) / sizeof(wino22_cases[0]);
        for (size_t i = 0; i < n22; i++) {
            conv_case k = wino22_cases[i]; /* the same choices in place of AVX2's or AVX-512's direct kernel */
            conv_test(&k, d1, 1e-4, 1, 760 + (uint32_t)i);
            char what[128];
            snprintf(what, sizeof(what), "unaligned scaled weights: %s", wino22_cases[i].what);
            k.what = what;
            conv_test_raw(&k, d1, 1e-4, 1, 780 + (uint32_t)i, 1, NULL);
        }
        portable_cases(wino22_cases, tu_avx2_only() ? n22 : 0, d1, 1e-4, 800);
        for (int threads = 1; threads <= 3; threads += 2) { /* one thread; more threads than chunks */
            fr_backend_config dt = d1;
            dt.threads = threads;
            conv_case k = wino22_cases[1];
            conv_test(&k, dt, 1e-4, 1, 820 + (uint32_t)threads);
        }
    }
    for (int threads = 1; threads <= 3; threads += 2) { /* one thread; more threads than chunks */
        fr_backend_config wt = w;
        wt.threads = threads;
        conv_test(&wino_cases[0], wt, 1e-3, 1, 700 + (uint32_t)threads);
    }

    /* bf16 (opt-in; FP32 where the CPU lacks AVX512-BF16): 8 mantissa bits,
     * relative error a few 1e-3 per layer. */
    {
        fr_backend_config h = cfg_fp32();
        h.precision = FROST_PRECISION_BF16;
        block_test(h, "block in bf16", 5e-2, 1, NULL);
        for (size_t i = 0; i < sizeof(conv_cases) / sizeof(conv_cases[0]); i++) {
            char what[128];
            snprintf(what, sizeof(what), "bf16 %s", conv_cases[i].what);
            conv_case k = conv_cases[i];
            k.what = what;
            conv_test(&k, h, 5e-2, 1, 700 + (uint32_t)i);
        }
    }
}
#endif

int main(void) {
    kernel_tests();
#ifdef FROST_HAVE_ONEDNN
    if (fr_backend_onednn())
        onednn_tests();
    else
        fprintf(stderr, "oneDNN backend unavailable: its cases skipped\n");
#else
    fprintf(stderr, "frost built without oneDNN: the oneDNN backend's cases skipped\n");
#endif
    return tu_done();
}
