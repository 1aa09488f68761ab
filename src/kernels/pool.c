/* Max and average pooling over NHWC: frost's own kernel in the oneDNN backend.
 *
 * oneDNN 2.6's pooling reads NHWC one channel block at a time per window
 * position and ran 5-10x below memory speed here (Inception v3's
 * 147x147x64 max pool: 1.8 ms on one Zen 3 core); this kernel takes eight
 * channels per vector across the whole window instead.  TensorFlow's
 * semantics: padding never wins a max and is not counted by an average.
 * The epilogue y = act(pool(x) + bias) serves a 1x1 convolution's bias and
 * activation moved behind an average pool (compile.c).
 */
#include <float.h>
#include <stdlib.h>

#include "backend/onednn/internal.h"
#include "kernels/x86/simd.h"

typedef struct fr_pool_kernel {
    int64_t n, h, w, c, oh, ow;
    int kh, kw, sh, sw, pt, pl;
    int max;           /* 1: max, 0: average */
    const float *bias; /* [c] or NULL */
    fr_act act;
    float alpha;
    /* one output row: pool_row_v8 (AVX2) or pool_row_1, by fr_simd_ok() and
     * cfg.portable */
    void (*row)(const struct fr_pool_kernel *k, const float *x, float *y, int64_t oy);
} fr_pool_kernel;

#define FR_POOL_PIXEL(T, W, LD, ST, INIT, ACT)                                                                    \
    for (; ch + W <= k->c; ch += W) {                                                                             \
        T acc = INIT;                                                                                             \
        for (int64_t iy = y0; iy < y1; iy++)                                                                      \
            for (int64_t ix = x0; ix < x1; ix++) {                                                                \
                T v = LD(x + (iy * k->w + ix) * k->c + ch);                                                       \
                if (k->max)                                                                                       \
                    acc = MAX_##W(acc, v);                                                                        \
                else                                                                                              \
                    acc += v;                                                                                     \
            }                                                                                                     \
        if (!k->max) acc *= inv;                                                                                  \
        if (k->bias) acc += LD(k->bias + ch);                                                                     \
        ST(out + ch, ACT(k->act, k->alpha, acc));                                                                 \
    }

FR_SIMD_TARGET static inline v8 max8(v8 a, v8 b) {
    return sel8(a > b, a, b);
}

static inline float max1(float a, float b) {
    return a > b ? a : b;
}

#define MAX_8 max8
#define MAX_1 max1

/* Output row oy of one image: POOL_ROW_BEGIN, the pixel loops, POOL_ROW_END. */
#define POOL_ROW_BEGIN                                                                                            \
    int64_t y0 = oy * k->sh - k->pt, y1 = y0 + k->kh;                                                             \
    if (y0 < 0) y0 = 0;                                                                                           \
    if (y1 > k->h) y1 = k->h;                                                                                     \
    for (int64_t ox = 0; ox < k->ow; ox++) {                                                                      \
        int64_t x0 = ox * k->sw - k->pl, x1 = x0 + k->kw;                                                         \
        if (x0 < 0) x0 = 0;                                                                                       \
        if (x1 > k->w) x1 = k->w;                                                                                 \
        float inv = y1 > y0 && x1 > x0 ? 1.f / (float)((y1 - y0) * (x1 - x0)) : 0.f;                             \
        float *out = y + (oy * k->ow + ox) * k->c;                                                                \
        int64_t ch = 0;
#define POOL_ROW_END }

FR_SIMD_TARGET
static void pool_row_v8(const fr_pool_kernel *k, const float *x, float *y, int64_t oy) {
    const v8 zero8 = {0}, lowest8 = zero8 - FLT_MAX;
    POOL_ROW_BEGIN
    FR_POOL_PIXEL(v8, 8, ld8, st8, (k->max ? lowest8 : zero8), act8)
    FR_POOL_PIXEL(float, 1, ld1, st1, (k->max ? -FLT_MAX : 0.f), act1)
    POOL_ROW_END
}

static void pool_row_1(const fr_pool_kernel *k, const float *x, float *y, int64_t oy) {
    POOL_ROW_BEGIN
    FR_POOL_PIXEL(float, 1, ld1, st1, (k->max ? -FLT_MAX : 0.f), act1)
    POOL_ROW_END
}

typedef struct {
    const fr_pool_kernel *k;
    const float *x;
    float *y;
} pool_job;

static void pool_thread(void *arg, int ithr, int team) {
    const pool_job *j = arg;
    const fr_pool_kernel *k = j->k;
    int64_t rows = k->n * k->oh, r0 = rows * ithr / team, r1 = rows * (ithr + 1) / team;
    for (int64_t r = r0; r < r1; r++) {
        int64_t n = r / k->oh;
        k->row(k, j->x + n * k->h * k->w * k->c, j->y + n * k->oh * k->ow * k->c, r % k->oh);
    }
}

/* ptrs: x, y */
static void pool_run(const fr_dn_state *st, const void *ctx, void *const *ptrs) {
    pool_job j = {ctx, ptrs[0], ptrs[1]};
    fr_dn_parallel(st, pool_thread, &j);
}

frost_status fr_dn_build_pool_nhwc(fr_dn_build *b, int max, int kh, int kw, int sh, int sw, int pt, int pb, int pl,
                                   int pr, const float *bias, fr_act act, float alpha) {
    const fr_step *s = b->step;
    const fr_value *x = &b->plan->values[s->inputs[0]], *y = &b->plan->values[s->output];
    if (x->rank != 4 || x->kind != FR_VALUE_ARENA || b->st->value_dt || !fr_simd_act_ok(act)) return FROST_OK;
    if (kh < 1 || kw < 1 || sh < 1 || sw < 1 || pt < 0 || pb < 0 || pl < 0 || pr < 0) return FROST_OK;
    int64_t n = x->dims[0], h = x->dims[1], w = x->dims[2], c = x->dims[3];
    int64_t oh = (h + pt + pb - kh) / sh + 1, ow = (w + pl + pr - kw) / sw + 1;
    if (oh < 1 || ow < 1 || (size_t)(n * oh * ow * c) != y->count) return FROST_OK;
    fr_pool_kernel *k = malloc(sizeof(*k));
    if (!k) return FROST_E_NO_MEMORY;
    *k = (fr_pool_kernel){n, h, w, c, oh, ow, kh, kw, sh, sw, pt, pl, max, bias, act, alpha,
                          fr_simd_ok() && !b->st->cfg.portable ? pool_row_v8 : pool_row_1};
    dnnl_memory_desc_t xmd, ymd;
    fr_dn_md_nhwc(&xmd, n, c, h, w, dnnl_f32);
    fr_dn_md_nhwc(&ymd, n, c, oh, ow, dnnl_f32);
    fr_dn_arg args[2] = {
        {.arg = DNNL_ARG_SRC, .bind = FR_DN_VALUE, .value = s->inputs[0], .md = xmd},
        {.arg = DNNL_ARG_DST, .bind = FR_DN_VALUE, .value = s->output, .md = ymd},
    };
    return fr_dn_add_custom(b, pool_run, k, args, 2, max ? "frost:maxpool_nhwc" : "frost:avgpool_nhwc");
}
