/* Winograd F(4x4, 3x3) and F(2x2, 5x5): frost's own kernels for stride-1
 * 3x3 and 5x5 convolutions (--winograd).
 *
 * An m x m output tile comes from a 6x6 input tile d as
 *     Y = A^T [ (G g G^T) .* (B^T d B) ] A
 * (Lavin & Gray 2016; interpolation points 0, +-1, +-2 and infinity for
 * both, so B^T is shared; m = 4 for r = 3, m = 2 for r = 5).  Summed over
 * input channels, the 36 element-wise products are 36 matrix products
 *     M[xi] (tiles x cout) = V[xi] (tiles x cin) * U[xi] (cin x cout)
 * run by oneDNN's sgemm: 36 multiplications per tile instead of 144 (3x3,
 * 4x fewer) or 100 (5x5, 2.8x fewer).  Activations stay NHWC: the transforms
 * run across channels, 8 at a time.  The tiles are cut into chunks; each
 * thread transforms, multiplies and transforms back its own chunks in its
 * own scratch, so they stay in cache.  Results differ from direct
 * convolution by rounding (~1e-5 relative).
 */
#include <stdlib.h>
#include <string.h>

#include "backend/dnnl_internal.h"
#include "backend/dnnl_simd.h"

typedef struct fr_wino {
    int m;                 /* output tile: 4 (3x3 kernel) or 2 (5x5) */
    int64_t n, h, w, cin, cout, oh, ow;
    int pad_top, pad_left;
    int64_t th, tw, tiles; /* tiles per column / row, in all */
    int64_t chunk;         /* tiles per chunk */
    size_t scratch;        /* bytes per thread */
    size_t temp;           /* offset of thread 0's scratch in the context's temporaries */
    const float *u;        /* [36][cin][cout] */
    const float *bias;     /* [cout] or NULL */
    fr_act act;
    float alpha;
    int residual; /* non-zero: ptrs[3] is a tensor of the output's shape, added before act */
    int simd;     /* fr_simd_ok() */
} fr_wino;

/* One row of B^T d (r = B^T applied to d0..d5) and of A^T m (4 or 2 rows). */
#define FR_WINO_BT(T, name, ATTR)                                                                                       \
    ATTR static inline void name(T d0, T d1, T d2, T d3, T d4, T d5, T *r) {                                           \
        r[0] = 4.f * d0 - 5.f * d2 + d4;                                                                          \
        r[1] = d3 + d4 - 4.f * (d1 + d2);                                                                         \
        r[2] = 4.f * (d1 - d2) + d4 - d3;                                                                         \
        r[3] = 2.f * (d3 - d1) + d4 - d2;                                                                         \
        r[4] = 2.f * (d1 - d3) + d4 - d2;                                                                         \
        r[5] = 4.f * d1 - 5.f * d3 + d5;                                                                          \
    }
#define FR_WINO_AT(T, name, ATTR)                                                                                       \
    ATTR static inline void name(T m0, T m1, T m2, T m3, T m4, T m5, T *r) {                                           \
        T a = m1 + m2, b = m1 - m2, c = m3 + m4, d = m3 - m4;                                                     \
        r[0] = m0 + a + c;                                                                                        \
        r[1] = b + 2.f * d;                                                                                       \
        r[2] = a + 4.f * c;                                                                                       \
        r[3] = b + 8.f * d + m5;                                                                                  \
    }
#define FR_WINO_AT2(T, name, ATTR)                                                                                \
    ATTR static inline void name(T m0, T m1, T m2, T m3, T m4, T m5, T *r) {                                      \
        r[0] = m0 + (m1 + m2) + (m3 + m4);                                                                        \
        r[1] = (m1 - m2) + 2.f * (m3 - m4) + m5;                                                                  \
    }
FR_WINO_BT(v8, bt8, FR_SIMD_TARGET)
FR_WINO_BT(float, bt1, )
FR_WINO_AT(v8, at8, FR_SIMD_TARGET)
FR_WINO_AT(float, at1, )
FR_WINO_AT2(v8, at28, FR_SIMD_TARGET)
FR_WINO_AT2(float, at21, )

/* V[xi][t][c] = (B^T d B)[xi] for channels [c0, c0 + W) of one tile whose
 * 36 input pixels are p[0..35] (a pixel outside the input points at zeros). */
#define FR_WINO_IN(T, W, LD, ST, BT)                                                                                  \
    for (; c + W <= cin; c += W) {                                                                                \
        T d[36], t[36], r[6];                                                                                     \
        for (int k = 0; k < 36; k++) d[k] = LD(p[k] + c);                                                         \
        for (int j = 0; j < 6; j++) {                                                                             \
            BT(d[j], d[6 + j], d[12 + j], d[18 + j], d[24 + j], d[30 + j], r);                                    \
            for (int i = 0; i < 6; i++) t[i * 6 + j] = r[i];                                                      \
        }                                                                                                         \
        for (int i = 0; i < 6; i++) {                                                                             \
            BT(t[i * 6], t[i * 6 + 1], t[i * 6 + 2], t[i * 6 + 3], t[i * 6 + 4], t[i * 6 + 5], r);                \
            for (int j = 0; j < 6; j++) ST(v + (size_t)(i * 6 + j) * vstride + c, r[j]);                          \
        }                                                                                                         \
    }

FR_SIMD_TARGET
static void in_tile_v8(const float *const *p, int64_t cin, float *v, size_t vstride) {
    int64_t c = 0;
    FR_WINO_IN(v8, 8, ld8, st8, bt8)
    FR_WINO_IN(float, 1, ld1, st1, bt1)
}

static void in_tile_1(const float *const *p, int64_t cin, float *v, size_t vstride) {
    int64_t c = 0;
    FR_WINO_IN(float, 1, ld1, st1, bt1)
}

FR_SIMD_TARGET static inline v8 bias8(const fr_wino *w, int64_t o) {
    const v8 zero = {0};
    return w->bias ? ld8(w->bias + o) : zero;
}

static inline float bias1(const fr_wino *w, int64_t o) {
    return w->bias ? w->bias[o] : 0.f;
}

/* Y = A^T M A for channels [o, o + W) of one tile, + bias (+ residual), act,
 * stored where the M x M tile lies inside the output (rows x cols of it). */
#define FR_WINO_OUT(T, W, M, LD, ST, AT, BIAS, ACT)                                                                  \
    for (; o + W <= cout; o += W) {                                                                               \
        T q[36], t[M * 6], r[M], b = BIAS(w, o);                                                                  \
        for (int k = 0; k < 36; k++) q[k] = LD(m + (size_t)k * mstride + o);                                      \
        for (int j = 0; j < 6; j++) {                                                                             \
            AT(q[j], q[6 + j], q[12 + j], q[18 + j], q[24 + j], q[30 + j], r);                                    \
            for (int i = 0; i < M; i++) t[i * 6 + j] = r[i];                                                      \
        }                                                                                                         \
        for (int i = 0; i < rows; i++) {                                                                          \
            AT(t[i * 6], t[i * 6 + 1], t[i * 6 + 2], t[i * 6 + 3], t[i * 6 + 4], t[i * 6 + 5], r);                \
            for (int j = 0; j < cols; j++) {                                                                      \
                size_t at = ((size_t)i * (size_t)ow + (size_t)j) * (size_t)cout + (size_t)o;                      \
                T v = r[j] + b;                                                                                   \
                if (res) v += LD(res + at);                                                                       \
                ST(y + at, ACT(w->act, w->alpha, v));                                                                            \
            }                                                                                                     \
        }                                                                                                         \
    }

#define FR_WINO_OUT_FNS(M, AT8, AT1)                                                                              \
    FR_SIMD_TARGET static void out_tile##M##_v8(const fr_wino *w, const float *m, size_t mstride, float *y,       \
                                                const float *res, int rows, int cols) {                           \
        int64_t o = 0, cout = w->cout, ow = w->ow;                                                                \
        FR_WINO_OUT(v8, 8, M, ld8, st8, AT8, bias8, act8)                                                         \
        FR_WINO_OUT(float, 1, M, ld1, st1, AT1, bias1, act1)                                                      \
    }                                                                                                             \
    static void out_tile##M##_1(const fr_wino *w, const float *m, size_t mstride, float *y, const float *res,      \
                                int rows, int cols) {                                                             \
        int64_t o = 0, cout = w->cout, ow = w->ow;                                                                \
        FR_WINO_OUT(float, 1, M, ld1, st1, AT1, bias1, act1)                                                      \
    }
FR_WINO_OUT_FNS(4, at8, at1)
FR_WINO_OUT_FNS(2, at28, at21)

typedef void (*out_tile_fn)(const fr_wino *w, const float *m, size_t mstride, float *y, const float *res, int rows,
                            int cols);

typedef struct {
    const fr_wino *w;
    const float *x, *res;
    float *y;
    char *scratch; /* thread 0's; thread i's at i * w->scratch */
} wino_job;

static void tile_pos(const fr_wino *w, int64_t g, int64_t *n, int64_t *ty, int64_t *tx) {
    int64_t per = w->th * w->tw;
    *n = g / per;
    *ty = g % per / w->tw;
    *tx = g % per % w->tw;
}

static void wino_thread(void *arg, int ithr, int team) {
    const wino_job *job = arg;
    const fr_wino *w = job->w;
    int64_t cin = w->cin, cout = w->cout, tc = w->chunk;
    float *zero = (float *)(job->scratch + (size_t)ithr * w->scratch);
    float *v = zero + (cin + 15) / 16 * 16;
    float *m = v + (size_t)36 * (size_t)tc * (size_t)cin;
    memset(zero, 0, sizeof(float) * (size_t)cin);
    out_tile_fn out = w->m == 4 ? (w->simd ? out_tile4_v8 : out_tile4_1) : (w->simd ? out_tile2_v8 : out_tile2_1);
    int64_t n_chunks = (w->tiles + tc - 1) / tc;
    for (int64_t k = ithr; k < n_chunks; k += team) {
        int64_t t0 = k * tc, nt = w->tiles - t0 < tc ? w->tiles - t0 : tc;
        for (int64_t t = 0; t < nt; t++) {
            int64_t n, ty, tx;
            tile_pos(w, t0 + t, &n, &ty, &tx);
            const float *img = job->x + (size_t)n * (size_t)(w->h * w->w * cin);
            const float *p[36];
            for (int i = 0; i < 6; i++)
                for (int j = 0; j < 6; j++) {
                    int64_t yy = ty * w->m - w->pad_top + i, xx = tx * w->m - w->pad_left + j;
                    p[i * 6 + j] = yy >= 0 && yy < w->h && xx >= 0 && xx < w->w
                                       ? img + ((size_t)yy * (size_t)w->w + (size_t)xx) * (size_t)cin
                                       : zero;
                }
            (w->simd ? in_tile_v8 : in_tile_1)(p, cin, v + (size_t)t * (size_t)cin, (size_t)(nt * cin));
        }
        for (int xi = 0; xi < 36; xi++)
            dnnl_sgemm('N', 'N', nt, cout, cin, 1.f, v + (size_t)xi * (size_t)(nt * cin), cin,
                       w->u + (size_t)xi * (size_t)(cin * cout), cout, 0.f, m + (size_t)xi * (size_t)(nt * cout),
                       cout);
        for (int64_t t = 0; t < nt; t++) {
            int64_t n, ty, tx;
            tile_pos(w, t0 + t, &n, &ty, &tx);
            int64_t y0 = ty * w->m, x0 = tx * w->m;
            size_t off = (size_t)n * (size_t)(w->oh * w->ow * cout) + ((size_t)y0 * (size_t)w->ow + (size_t)x0) * (size_t)cout;
            int rows = w->oh - y0 < w->m ? (int)(w->oh - y0) : w->m;
            int cols = w->ow - x0 < w->m ? (int)(w->ow - x0) : w->m;
            out(w, m + (size_t)t * (size_t)cout, (size_t)(nt * cout), job->y + off, w->residual ? job->res + off : NULL,
                rows, cols);
        }
    }
}

/* ptrs: x, y, scratch (temporaries), [residual] */
static void wino_run(const fr_dn_state *st, const void *ctx, void *const *ptrs) {
    const fr_wino *w = ctx;
    wino_job job = {w, ptrs[0], w->residual ? ptrs[3] : NULL, ptrs[1], ptrs[2]};
    fr_dn_parallel(st, wino_thread, &job);
}

/* U[xi][c][o] = (G g G^T)[xi] of the HWIO weights g (r x r), G[i][k] =
 * p_i^k / prod_{j != i} (p_i - p_j) for the points p = 0, 1, -1, 2, -2 and
 * G[5] = (0, .., 0, 1) for infinity. */
typedef struct {
    const dnnl_memory_desc_t *wuser, *whwio;
    const void *src;
    const float *scale;
    int r;
    int64_t cin, cout;
} wino_weights;

static frost_status wino_fill(fr_dn_build *b, void *buf, const void *ctx) {
    static const double pts[5] = {0, 1, -1, 2, -2};
    const wino_weights *ww = ctx;
    int r = ww->r;
    int64_t cin = ww->cin, cout = ww->cout;
    float G[6][5] = {{0}};
    for (int i = 0; i < 5; i++) {
        double den = 1, p = 1;
        for (int j = 0; j < 5; j++)
            if (j != i) den *= pts[i] - pts[j];
        for (int k = 0; k < r; k++, p *= pts[i]) G[i][k] = (float)(p / den);
    }
    G[5][r - 1] = 1.f;
    void *hwio = NULL;
    frost_status st = fr_dn_weights_copy(b, ww->wuser, ww->src, ww->scale, (int)cout, 1, ww->whwio, &hwio);
    float *t = st == FROST_OK ? malloc(sizeof(float) * 6 * (size_t)r * (size_t)cout) : NULL;
    if (st == FROST_OK && !t) st = FROST_E_NO_MEMORY;
    if (st != FROST_OK) {
        free(hwio);
        return st;
    }
    const float *g = hwio;
    float *u = buf;
    for (int64_t c = 0; c < cin; c++) {
        /* t[a][k'][o] = sum_k G[a][k] g[k][k'][c][o], then U[a][b] = t[a] G[b]^T */
        for (int a = 0; a < 6; a++)
            for (int kk = 0; kk < r; kk++) {
                float *tp = t + ((size_t)a * (size_t)r + (size_t)kk) * (size_t)cout;
                for (int64_t o = 0; o < cout; o++) tp[o] = 0.f;
                for (int k = 0; k < r; k++) {
                    const float *gp = g + ((size_t)(k * r + kk) * (size_t)cin + (size_t)c) * (size_t)cout;
                    float gk = G[a][k];
                    if (gk != 0.f)
                        for (int64_t o = 0; o < cout; o++) tp[o] += gk * gp[o];
                }
            }
        for (int a = 0; a < 6; a++)
            for (int bb = 0; bb < 6; bb++) {
                float *up = u + ((size_t)(a * 6 + bb) * (size_t)cin + (size_t)c) * (size_t)cout;
                for (int64_t o = 0; o < cout; o++) up[o] = 0.f;
                for (int kk = 0; kk < r; kk++) {
                    const float *tp = t + ((size_t)a * (size_t)r + (size_t)kk) * (size_t)cout;
                    float gk = G[bb][kk];
                    if (gk != 0.f)
                        for (int64_t o = 0; o < cout; o++) up[o] += gk * tp[o];
                }
            }
    }
    free(t);
    free(hwio);
    return FROST_OK;
}

/* Measured per layer (bench/conv_layers.py, Zen 3 AVX2, 1 and 2 threads,
 * batch 1 and 16; docs/performance.md), against oneDNN's direct convolution.
 * F(4x4, 3x3): 1.1-1.7x on Inception v3's 147x147 32->32 and 32->64 layers,
 * 2.2-3.5x on its 73x73 80->192 and 35x35 64/96-channel ones, 2.2-2.5x on
 * 17x17 160->192 (25 tiles) and 3-5x on 8x8 448->384 at batch 16 (64 tiles);
 * but 0.7x on 8x8 448->384 at batch 1 (4 tiles: the transformed weights are
 * read once per 4 tiles) and 0.8x on 56x56 16->24 (the transforms dominate).
 * F(2x2, 5x5), whose transforms serve 4 outputs instead of 16: 1.3-1.7x on
 * 17x17 64->96, a tie (0.96-1.19x) on Inception's 35x35 48->64. */
int fr_dn_wino_pays(int m, int64_t n, int64_t cin, int64_t cout, int64_t oh, int64_t ow) {
    int64_t tiles = n * ((oh + m - 1) / m) * ((ow + m - 1) / m);
    int64_t min_c = m == 4 ? 32 : 64;
    return tiles >= 16 && cin >= min_c && cout >= min_c;
}

frost_status fr_dn_build_wino(fr_dn_build *b) {
    const fr_step *s = b->step;
    const fr_conv_params *c = &s->p.conv;
    const fr_plan *plan = b->plan;
    const fr_value *x = &plan->values[s->inputs[0]], *y = &plan->values[s->output];
    int r = c->kh, m = 7 - r;
    if (x->rank != 4 || y->rank != 4 || x->kind != FR_VALUE_ARENA || c->groups != 1 || (r != 3 && r != 5) ||
        c->kw != r || c->stride_h != 1 || c->stride_w != 1 || c->dil_h != 1 || c->dil_w != 1 || b->st->value_dt)
        return FROST_OK;
    if (!fr_simd_act_ok(c->act)) return FROST_OK;
    if (c->residual >= 0 && plan->values[c->residual].count != y->count) return FROST_OK;
    if (!fr_dn_wino_pays(m, x->dims[0], c->cin, c->cout, y->dims[1], y->dims[2])) return FROST_OK;
    const void *wsrc = c->weights ? (const void *)c->weights : c->weights_raw;
    if (!wsrc) return FROST_OK;

    /* The weights scaled (folded batch norm) into dense HWIO, then
     * transformed: once per model (shared by the plans of all batch sizes). */
    dnnl_memory_desc_t wuser, whwio, umd;
    dnnl_dims_t wd = {c->cout, c->cin, r, r};
    dnnl_dims_t ws = {1, c->cout, (int64_t)r * c->cin * c->cout, (int64_t)c->cin * c->cout};
    dnnl_memory_desc_init_by_strides(&wuser, 4, wd, dnnl_f32, ws);
    dnnl_memory_desc_init_by_tag(&whwio, 4, wd, dnnl_f32, dnnl_hwio);
    int64_t ud[3] = {36, c->cin, c->cout};
    fr_dn_md_plain(&umd, 3, ud, dnnl_f32);
    wino_weights ww = {&wuser, &whwio, wsrc, c->weight_scale, r, c->cin, c->cout};
    const void *u = NULL;
    frost_status st = fr_dn_const_make(b, &umd, wino_fill, &ww, &u);
    if (st != FROST_OK) return st;

    fr_wino *w = calloc(1, sizeof(*w));
    if (!w) return FROST_E_NO_MEMORY;
    *w = (fr_wino){.m = m, .n = x->dims[0], .h = x->dims[1], .w = x->dims[2], .cin = c->cin, .cout = c->cout,
                   .oh = y->dims[1], .ow = y->dims[2], .pad_top = c->pad_top, .pad_left = c->pad_left, .u = u,
                   .bias = c->bias, .act = c->act, .alpha = c->alpha, .residual = c->residual >= 0,
                   .simd = fr_simd_ok()};
    w->th = (w->oh + m - 1) / m;
    w->tw = (w->ow + m - 1) / m;
    w->tiles = w->n * w->th * w->tw;
    /* Chunks of 64 tiles (each pass over the transformed weights serves 64
     * tiles; 12 to 96 measured alike but for 448->384, which wants >= 48),
     * fewer where the chunk's data would pass 4 MB per thread, and all
     * threads busy. */
    int threads = b->st->cfg.threads;
    int64_t per = (int64_t)(4 << 20) / (36 * 4 * (w->cin + w->cout));
    int64_t even = (w->tiles + threads - 1) / threads;
    w->chunk = per < 8 ? 8 : per > 64 ? 64 : per;
    if (w->chunk > even) w->chunk = even;
    w->scratch = sizeof(float) * ((size_t)(w->cin + 15) / 16 * 16 +
                                  (size_t)36 * (size_t)w->chunk * (size_t)(w->cin + w->cout) + 16);
    w->scratch = (w->scratch + 63) / 64 * 64;
    size_t cursor = 0;
    size_t off = fr_dn_temp(b, w->scratch * (size_t)threads, &cursor);

    dnnl_memory_desc_t xmd, ymd, tmd;
    fr_dn_md_nhwc(&xmd, w->n, w->cin, w->h, w->w, dnnl_f32);
    fr_dn_md_nhwc(&ymd, w->n, w->cout, w->oh, w->ow, dnnl_f32);
    int64_t tb = (int64_t)(w->scratch * (size_t)threads);
    fr_dn_md_plain(&tmd, 1, &tb, dnnl_u8);
    fr_dn_arg args[4] = {
        {.arg = DNNL_ARG_SRC, .bind = FR_DN_VALUE, .value = s->inputs[0], .md = xmd},
        {.arg = DNNL_ARG_DST, .bind = FR_DN_VALUE, .value = s->output, .md = ymd},
        {.arg = DNNL_ARG_SCRATCHPAD, .bind = FR_DN_TEMP, .value = -1, .offset = off, .md = tmd},
        {.arg = DNNL_ARG_SRC_1, .bind = FR_DN_VALUE, .value = c->residual, .md = ymd},
    };
    st = fr_dn_add_custom(b, wino_run, w, args, w->residual ? 4 : 3,
                          m == 4 ? "frost:winograd_f4x4_3x3" : "frost:winograd_f2x2_5x5");
    if (st == FROST_OK) b->out->own_weights = 1;
    return st;
}
