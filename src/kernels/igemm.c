/* Dense FP32 convolution as an indirect matrix product: frost's own kernel
 * in the oneDNN backend, in place of oneDNN 2.6's direct convolution on CPUs
 * without AVX-512 (`jit:avx2`, 85-110 GFLOP/s on two Zen 3 cores in
 * Inception v3 where this kernel runs 140-180).
 *
 * With NHWC activations a convolution is a product
 *     Y (pixels x cout) = X' (pixels x taps*cin) * W (taps*cin x cout)
 * whose row p of X' is the kh*kw input pixels under output pixel p.  X' is
 * never built (no im2col): for a tile of 6 output pixels the kernel gets 6
 * pointers per tap (into the input, or at zeros in the padding; the
 * "indirection buffer" of XNNPACK's igemm) and reads cin channels from
 * each; where the kw pixels of a kernel row lie next to each other in the
 * input under all 6 pixels (stride 1, away from the padding), the row is
 * one run of kw * cin.  The register tile is 6 pixels x 16 output channels: 12 AVX
 * accumulators, per input channel two weight loads and 6 broadcasts for 12
 * FMAs.  The weights are packed once per model into panels of 16 output
 * channels, [panel][tap][cin][16] (zero-padded past cout), so a panel is
 * read sequentially.  Bias, residual and activation are applied to the
 * accumulators before the single store.
 *
 * Work: units of (a group of up to 8 tiles, a range of panels), taken by
 * the threads from a shared counter as they finish the previous one (a
 * thread the machine holds back leaves its share to the others instead of
 * holding up the step; measured 1-8 % faster than fixed shares of the
 * tiles on the shared 2-core machine).  A group's indirection is built once
 * per unit, and its input rows stay in cache while the unit's panels pass.
 * Panels are split into ranges only when there are fewer than 8 groups per
 * thread.  Every output element is computed by one unit in a fixed order,
 * so results do not depend on the scheduling (test_dnnl_kernels compares
 * 1, 2, 3 and 5 threads bit for bit).
 */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "backend/onednn/internal.h"
#include "kernels/x86/simd.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define FR_IG_AVX2 1
#define FR_IG_TARGET __attribute__((target("avx2,fma")))
#else
#define FR_IG_AVX2 0
#endif

enum { IG_MR = 6, IG_NR = 16, IG_GROUP = 8, IG_UNITS = 8 };

typedef struct fr_igemm fr_igemm;
/* A run of `len` consecutive X' columns of the 6 pixels of a tile: from
 * p[i] on in the input (one tap's cin channels, or a whole kernel row's
 * kw * cin when those lie next to each other: stride and dilation 1, no
 * padding under any of the 6 pixels), or in the zeros. */
typedef struct {
    const float *p[IG_MR];
    int64_t len;
} ig_seg;
/* One tile: rows (<= 6) pixels x cols (<= 16) channels of y (row stride
 * cout) from its n segments; w the panel. */
typedef void (*fr_ig_tile_fn)(const fr_igemm *g, const ig_seg *seg, int n, const float *w, const float *bias,
                              float *y, const float *res, int rows, int cols);

struct fr_igemm {
    int64_t n, h, w, cin, cout, oh, ow;
    int kh, kw, sh, sw, dh, dw, pt, pl;
    int taps;
    int64_t k;         /* taps * cin */
    int64_t panels;    /* ceil(cout / 16) */
    const float *wp;   /* [panels][k][16] */
    const float *bias; /* [panels * 16] (zero-padded) or NULL */
    const float *zero; /* kw * cin zeros: the padding */
    fr_act act;
    float alpha;
    int residual;
    fr_ig_tile_fn tile;
    size_t ind_bytes; /* indirection buffer per thread */
};

#if FR_IG_AVX2
FR_IG_TARGET static inline __m256 ig_act(const fr_igemm *g, __m256 v) {
    const __m256 zero = _mm256_setzero_ps();
    switch (g->act) {
    case FR_ACT_RELU: return _mm256_max_ps(v, zero);
    case FR_ACT_RELU6: return _mm256_min_ps(_mm256_max_ps(v, zero), _mm256_set1_ps(6.f));
    case FR_ACT_LEAKY: return _mm256_blendv_ps(v, _mm256_mul_ps(v, _mm256_set1_ps(g->alpha)), _mm256_cmp_ps(v, zero, _CMP_LT_OQ));
    default: return v;
    }
}

#define IG_ROW(i)                                                                                                     \
    x = _mm256_broadcast_ss(a##i + c);                                                                                \
    c##i##0 = _mm256_fmadd_ps(x, b0, c##i##0);                                                                        \
    c##i##1 = _mm256_fmadd_ps(x, b1, c##i##1);

FR_IG_TARGET
static void tile_avx2(const fr_igemm *g, const ig_seg *seg, int n, const float *w, const float *bias, float *y,
                      const float *res, int rows, int cols) {
    __m256 c00 = _mm256_setzero_ps(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00;
    __m256 c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00;
    for (int s = 0; s < n; s++) {
        const float *a0 = seg[s].p[0], *a1 = seg[s].p[1], *a2 = seg[s].p[2], *a3 = seg[s].p[3], *a4 = seg[s].p[4],
                    *a5 = seg[s].p[5];
        int64_t len = seg[s].len;
#pragma GCC unroll 4
        for (int64_t c = 0; c < len; c++, w += IG_NR) {
            __m256 b0 = _mm256_loadu_ps(w), b1 = _mm256_loadu_ps(w + 8), x;
            IG_ROW(0) IG_ROW(1) IG_ROW(2) IG_ROW(3) IG_ROW(4) IG_ROW(5)
        }
    }
    __m256 acc[12] = {c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51};
    __m256 bb0 = bias ? _mm256_loadu_ps(bias) : _mm256_setzero_ps();
    __m256 bb1 = bias ? _mm256_loadu_ps(bias + 8) : _mm256_setzero_ps();
    for (int i = 0; i < rows; i++) {
        float *yr = y + (size_t)i * (size_t)g->cout;
        const float *rr = res ? res + (size_t)i * (size_t)g->cout : NULL;
        __m256 v0 = _mm256_add_ps(acc[2 * i], bb0), v1 = _mm256_add_ps(acc[2 * i + 1], bb1);
        if (cols == IG_NR) {
            if (rr) v0 = _mm256_add_ps(v0, _mm256_loadu_ps(rr)), v1 = _mm256_add_ps(v1, _mm256_loadu_ps(rr + 8));
            _mm256_storeu_ps(yr, ig_act(g, v0));
            _mm256_storeu_ps(yr + 8, ig_act(g, v1));
        } else {
            float t[IG_NR];
            _mm256_storeu_ps(t, v0);
            _mm256_storeu_ps(t + 8, v1);
            if (rr)
                for (int j = 0; j < cols; j++) t[j] += rr[j];
            _mm256_storeu_ps(t, ig_act(g, _mm256_loadu_ps(t)));
            _mm256_storeu_ps(t + 8, ig_act(g, _mm256_loadu_ps(t + 8)));
            memcpy(yr, t, sizeof(float) * (size_t)cols);
        }
    }
}
#endif

/* The same in portable C (CPUs without AVX2 / FMA). */
static void tile_1(const fr_igemm *g, const ig_seg *seg, int n, const float *w, const float *bias, float *y,
                   const float *res, int rows, int cols) {
    float acc[IG_MR][IG_NR] = {{0}};
    for (int s = 0; s < n; s++)
        for (int64_t c = 0; c < seg[s].len; c++, w += IG_NR)
            for (int i = 0; i < IG_MR; i++) {
                float a = seg[s].p[i][c];
                for (int j = 0; j < IG_NR; j++) acc[i][j] += a * w[j];
            }
    for (int i = 0; i < rows; i++)
        for (int j = 0; j < cols; j++) {
            float v = acc[i][j] + (bias ? bias[j] : 0.f);
            if (res) v += res[(size_t)i * (size_t)g->cout + (size_t)j];
            y[(size_t)i * (size_t)g->cout + (size_t)j] = act1(g->act, g->alpha, v);
        }
}

int fr_dn_gemm_simd(int portable) {
#if FR_IG_AVX2
    __builtin_cpu_init();
    return !portable && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
    (void)portable;
    return 0;
#endif
}

size_t fr_dn_gemm_packed_floats(int64_t k, int64_t n) {
    return (size_t)((n + IG_NR - 1) / IG_NR) * IG_NR * (size_t)k;
}

void fr_dn_gemm_pack_row(float *bp, int64_t k, int64_t n, int64_t row, const float *src) {
    for (int64_t p = 0; p * IG_NR < n; p++) {
        float *dst = bp + ((size_t)p * (size_t)k + (size_t)row) * IG_NR;
        int64_t cols = n - p * IG_NR < IG_NR ? n - p * IG_NR : IG_NR;
        for (int64_t j = 0; j < IG_NR; j++) dst[j] = j < cols ? src[p * IG_NR + j] : 0.f;
    }
}

void fr_dn_gemm_packed(int simd, int64_t m, int64_t n, int64_t k, const float *a, const float *bp, float *c) {
    fr_igemm g = {.cout = n, .act = FR_ACT_NONE, .tile = tile_1};
#if FR_IG_AVX2
    if (simd) g.tile = tile_avx2;
#else
    (void)simd;
#endif
    for (int64_t p = 0; p * IG_NR < n; p++) {
        const float *w = bp + (size_t)p * (size_t)k * IG_NR;
        int cols = n - p * IG_NR < IG_NR ? (int)(n - p * IG_NR) : IG_NR;
        for (int64_t m0 = 0; m0 < m; m0 += IG_MR) {
            int rows = m - m0 < IG_MR ? (int)(m - m0) : IG_MR;
            ig_seg seg = {.len = k};
            for (int i = 0; i < IG_MR; i++) seg.p[i] = a + (size_t)(m0 + (i < rows ? i : rows - 1)) * (size_t)k;
            g.tile(&g, &seg, 1, w, NULL, c + (size_t)m0 * (size_t)n + (size_t)(p * IG_NR), NULL, rows, cols);
        }
    }
}

typedef struct {
    const fr_igemm *g;
    const float *x, *res;
    float *y;
    char *ind;              /* thread i's indirection buffer at i * g->ind_bytes */
    int64_t groups, chunks; /* work units: groups of tiles x chunks of panels */
    atomic_llong next;      /* the next unit to take */
} ig_job;

/* The segments of tile `tile` (past the last pixel: the last one again,
 * never stored); returns their number. */
static int ig_indirect(const fr_igemm *g, const float *x, int64_t tile, int64_t pixels, ig_seg *seg) {
    const float *img[IG_MR];
    int64_t oy[IG_MR], ox[IG_MR];
    for (int i = 0; i < IG_MR; i++) {
        int64_t p = tile * IG_MR + i;
        if (p >= pixels) p = pixels - 1;
        int64_t ni = p / (g->oh * g->ow);
        oy[i] = p / g->ow % g->oh, ox[i] = p % g->ow;
        img[i] = x + (size_t)ni * (size_t)(g->h * g->w * g->cin);
    }
    int n = 0;
    for (int ky = 0; ky < g->kh; ky++) {
        /* the whole kernel row as one run where its kw pixels are
         * contiguous and inside the input (or the row is in the padding) */
        int whole = g->kw > 1 && g->sw == 1 && g->dw == 1;
        for (int i = 0; i < IG_MR && whole; i++) {
            int64_t iy = oy[i] * g->sh - g->pt + (int64_t)ky * g->dh, ix = ox[i] - g->pl;
            whole = iy < 0 || iy >= g->h || (ix >= 0 && ix + g->kw <= g->w);
        }
        int runs = whole ? 1 : g->kw;
        for (int kx = 0; kx < runs; kx++, n++) {
            seg[n].len = whole ? (int64_t)g->kw * g->cin : g->cin;
            for (int i = 0; i < IG_MR; i++) {
                int64_t iy = oy[i] * g->sh - g->pt + (int64_t)ky * g->dh;
                int64_t ix = ox[i] * g->sw - g->pl + (int64_t)kx * g->dw;
                seg[n].p[i] = iy < 0 || iy >= g->h || ix < 0 || ix >= g->w
                                  ? g->zero
                                  : img[i] + ((size_t)iy * (size_t)g->w + (size_t)ix) * (size_t)g->cin;
            }
        }
    }
    return n;
}

static void ig_thread(void *arg, int ithr, int team) {
    ig_job *j = arg;
    const fr_igemm *g = j->g;
    (void)team;
    int64_t pixels = g->n * g->oh * g->ow, tiles = (pixels + IG_MR - 1) / IG_MR, units = j->groups * j->chunks;
    ig_seg *seg = (ig_seg *)(j->ind + (size_t)ithr * g->ind_bytes);
    int nseg[IG_GROUP];
    int64_t built = -1;
    for (;;) {
        int64_t u = atomic_fetch_add_explicit(&j->next, 1, memory_order_relaxed);
        if (u >= units) break;
        int64_t gi = u / j->chunks, ci = u % j->chunks;
        int64_t tb = tiles * gi / j->groups, te = tiles * (gi + 1) / j->groups;
        int64_t p0 = g->panels * ci / j->chunks, p1 = g->panels * (ci + 1) / j->chunks;
        if (gi != built)
            for (int64_t t = tb; t < te; t++)
                nseg[t - tb] = ig_indirect(g, j->x, t, pixels, seg + (size_t)(t - tb) * (size_t)g->taps);
        built = gi;
        for (int64_t p = p0; p < p1; p++) {
            const float *w = g->wp + (size_t)p * (size_t)g->k * IG_NR;
            const float *bias = g->bias ? g->bias + p * IG_NR : NULL;
            int cols = g->cout - p * IG_NR < IG_NR ? (int)(g->cout - p * IG_NR) : IG_NR;
            for (int64_t t = tb; t < te; t++) {
                int64_t m0 = t * IG_MR;
                int rows = pixels - m0 < IG_MR ? (int)(pixels - m0) : IG_MR;
                size_t off = (size_t)m0 * (size_t)g->cout + (size_t)(p * IG_NR);
                g->tile(g, seg + (size_t)(t - tb) * (size_t)g->taps, nseg[t - tb], w, bias, j->y + off,
                        j->res ? j->res + off : NULL, rows, cols);
            }
        }
    }
}

/* ptrs: x, y, temporary (indirection buffers), [residual] */
static void ig_run(const fr_dn_state *st, const void *ctx, void *const *ptrs) {
    const fr_igemm *g = ctx;
    int64_t tiles = (g->n * g->oh * g->ow + IG_MR - 1) / IG_MR, groups = (tiles + IG_GROUP - 1) / IG_GROUP;
    int64_t want = (int64_t)IG_UNITS * st->cfg.threads, chunks = 1;
    if (st->cfg.threads > 1 && groups < want) {
        chunks = (want + groups - 1) / groups;
        if (chunks > g->panels) chunks = g->panels;
    }
    ig_job j = {g, ptrs[0], g->residual ? ptrs[3] : NULL, ptrs[1], ptrs[2], groups, chunks, 0};
    fr_dn_parallel(st, ig_thread, &j);
}

/* Packs the HWIO weights (scaled by a folded batch norm) into panels,
 * straight from the plan's weights (or their unaligned bytes in the file). */
typedef struct {
    const fr_conv_params *c;
    int64_t k, panels;
} ig_weights;

static frost_status ig_fill(fr_dn_build *b, void *buf, const void *ctx) {
    (void)b;
    const ig_weights *iw = ctx;
    const fr_conv_params *c = iw->c;
    int64_t cout = c->cout;
    float *wp = buf;
    /* blocks of 64 rows: read once from the source, written as 4 KiB runs */
    for (int64_t k0 = 0; k0 < iw->k; k0 += 64) {
        int64_t k1 = k0 + 64 < iw->k ? k0 + 64 : iw->k;
        for (int64_t p = 0; p < iw->panels; p++) {
            int64_t o0 = p * IG_NR, n = cout - o0 < IG_NR ? cout - o0 : IG_NR;
            for (int64_t k = k0; k < k1; k++) {
                float row[IG_NR] = {0};
                fr_dn_conv_weights_row(c, k, o0, n, row);
                memcpy(wp + ((size_t)p * (size_t)iw->k + (size_t)k) * IG_NR, row, sizeof(row));
            }
        }
    }
    return FROST_OK;
}

/* Measured against oneDNN 2.6's `jit:avx2` kernels in Inception v3 and per
 * layer (bench/conv_layers.py, variants onednn and default; Zen 3, 2
 * threads, batch 1 and 16): 1.4-2.3x on its 3x3 (stride 1 and 2), 1x7,
 * 1x3 and 3x1 layers of 64 to 448 channels, 1.1-1.3x on 17x17 7x1 and
 * 147x147 32->64.  oneDNN stays ahead on 1x1 layers (its jit_1x1
 * kernel, by 4-16 % over the network's 1x1 layers), on layers with few input channels (the
 * RGB input: 3 per tap), on 149x149 32->32 and on the 5x5 48->64 ones (by
 * 5-10 % at batch 16).  The caller uses it only where oneDNN's choice is
 * `jit:avx2`: its AVX-512 kernels (brgconv) run near that machine's peak. */
int fr_dn_igemm_pays(int64_t cin, int64_t cout, int kh, int kw) {
    int taps = kh * kw;
    return taps > 1 && cin >= 16 && cin * cout >= 2048 && (taps < 25 || cin >= 64);
}

frost_status fr_dn_build_igemm(fr_dn_build *b) {
    const fr_step *s = b->step;
    const fr_conv_params *c = &s->p.conv;
    const fr_plan *plan = b->plan;
    const fr_value *x = &plan->values[s->inputs[0]], *y = &plan->values[s->output];
    if (x->rank != 4 || y->rank != 4 || x->kind != FR_VALUE_ARENA || c->groups != 1 || b->st->value_dt ||
        !fr_simd_act_ok(c->act))
        return FROST_OK;
    if (c->residual >= 0 && plan->values[c->residual].count != y->count) return FROST_OK;
    int64_t n = x->dims[0], oh = y->dims[1], ow = y->dims[2];
    if (b->st->cfg.own_kernels != 2 && !fr_dn_igemm_pays(c->cin, c->cout, c->kh, c->kw)) return FROST_OK;
    if (!c->weights && !c->weights_raw) return FROST_OK;

    int64_t taps = (int64_t)c->kh * c->kw, k = taps * c->cin, panels = (c->cout + IG_NR - 1) / IG_NR;
    dnnl_memory_desc_t pmd;
    int64_t pd[3] = {panels, k, IG_NR};
    fr_dn_md_plain(&pmd, 3, pd, dnnl_f32);
    ig_weights iw = {c, k, panels};
    const void *wp = NULL;
    frost_status st = fr_dn_const_make(b, &pmd, ig_fill, &iw, &wp);
    if (st != FROST_OK) return st;

    /* bias padded to whole panels, and the zeros the padding reads */
    float *bias = NULL, *zero = calloc((size_t)c->kw * (size_t)c->cin + 16, sizeof(float));
    if (zero && c->bias) {
        bias = calloc((size_t)(panels * IG_NR), sizeof(float));
        if (bias) memcpy(bias, c->bias, sizeof(float) * (size_t)c->cout);
    }
    fr_igemm *g = calloc(1, sizeof(*g));
    if (!zero || (c->bias && !bias) || !g || fr_dn_own(b->st, zero) != FROST_OK) {
        free(zero), free(bias), free(g);
        return FROST_E_NO_MEMORY;
    }
    if (bias && fr_dn_own(b->st, bias) != FROST_OK) {
        free(bias), free(g);
        return FROST_E_NO_MEMORY;
    }
    *g = (fr_igemm){.n = n, .h = x->dims[1], .w = x->dims[2], .cin = c->cin, .cout = c->cout, .oh = oh, .ow = ow,
                    .kh = c->kh, .kw = c->kw, .sh = c->stride_h, .sw = c->stride_w, .dh = c->dil_h, .dw = c->dil_w,
                    .pt = c->pad_top, .pl = c->pad_left, .taps = (int)taps, .k = k, .panels = panels, .wp = wp,
                    .bias = bias, .zero = zero, .act = c->act, .alpha = c->alpha, .residual = c->residual >= 0,
                    .tile = tile_1};
#if FR_IG_AVX2
    if (fr_dn_gemm_simd(b->st->cfg.portable)) g->tile = tile_avx2;
#endif
    g->ind_bytes = (sizeof(ig_seg) * (size_t)IG_GROUP * (size_t)taps + 63) / 64 * 64;
    int threads = b->st->cfg.threads;
    return fr_dn_add_conv_custom(b, ig_run, g, g->ind_bytes * (size_t)threads, "frost:igemm_6x16");
}
