/* Dense FP32 convolution as an indirect matrix product: frost's own kernel,
 * in place of oneDNN 2.6's direct convolution on CPUs without AVX-512
 * (`jit:avx2`, 85-110 GFLOP/s on two Zen 3 cores in Inception v3 where this
 * kernel runs 140-180).
 *
 * With NHWC activations a convolution is a product
 *     Y (pixels x cout) = X' (pixels x taps*cin) * W (taps*cin x cout)
 * whose row p of X' is the kh*kw input pixels under output pixel p.  X' is
 * never built (no im2col): for a tile of 6 output pixels the kernel gets 6
 * pointers per tap (into the input, or at zeros in the padding; the
 * "indirection buffer" of XNNPACK's igemm) and reads cin channels from
 * each; where the kw pixels of a kernel row lie next to each other in the
 * input under all 6 pixels (stride 1, away from the padding), the row is
 * one run of kw * cin.  The register tile (x86/igemm_avx2.c,
 * generic/igemm.c) is 6 pixels x 16 output channels: 12 AVX accumulators,
 * per input channel two weight loads and 6 broadcasts for 12 FMAs.  The
 * weights are packed once per model into panels of 16 output channels,
 * [panel][tap][cin][16] (zero-padded past cout), so a panel is read
 * sequentially.  Bias, residual and activation are applied to the
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
 * so results do not depend on the scheduling (test_kernels compares
 * 1, 2, 3 and 5 threads bit for bit).
 */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/igemm.h"
#include "kernels/ukernels.h"

enum { IG_MR = FR_IG_MR, IG_NR = FR_IG_NR, IG_GROUP = 8, IG_UNITS = 8 };

struct fr_igemm {
    int64_t n, h, w, cin, cout, oh, ow;
    int kh, kw, sh, sw, dh, dw, pt, pl;
    int taps;
    int64_t k;         /* taps * cin */
    int64_t panels;    /* ceil(cout / 16) */
    const float *wp;   /* [panels][k][16] */
    const float *bias; /* [panels * 16] (zero-padded; in this block) or NULL */
    const float *zero; /* kw * cin zeros: the padding (in this block) */
    fr_ig_epilogue epi;
    int residual;
    int threads;
    fr_ig_tile_fn tile;
    int pairs;        /* two panels a tile (fr_ig_tile2_avx512) */
    size_t ind_bytes; /* indirection buffer per thread */
};

static fr_ig_tile_fn ig_tile(int fma) {
#if FR_KERNELS_X86
    if (fma) return fr_ig_tile_avx2;
#else
    (void)fma;
#endif
    return fr_ig_tile_generic;
}

size_t fr_igemm_packed_floats(int64_t k, int64_t n) {
    return (size_t)((n + IG_NR - 1) / IG_NR) * IG_NR * (size_t)k;
}

void fr_igemm_pack_row(float *bp, int64_t k, int64_t n, int64_t row, const float *src) {
    for (int64_t p = 0; p * IG_NR < n; p++) {
        float *dst = bp + ((size_t)p * (size_t)k + (size_t)row) * IG_NR;
        int64_t cols = n - p * IG_NR < IG_NR ? n - p * IG_NR : IG_NR;
        for (int64_t j = 0; j < IG_NR; j++) dst[j] = j < cols ? src[p * IG_NR + j] : 0.f;
    }
}

int fr_igemm_packed_rows(int simd) {
#if FR_KERNELS_X86
    if (simd >= 2) return FR_GEMM_AVX512_MR;
#else
    (void)simd;
#endif
    return IG_MR;
}

void fr_igemm_packed(int simd, int64_t m, int64_t n, int64_t k, const float *a, const float *bp, float *c) {
#if FR_KERNELS_X86
    if (simd >= 2) {
        fr_gemm_avx512(m, n, k, a, bp, c);
        return;
    }
#endif
    fr_ig_epilogue e = {.ldy = n, .act = FR_ACT_NONE};
    fr_ig_tile_fn tile = ig_tile(simd);
    for (int64_t p = 0; p * IG_NR < n; p++) {
        const float *w = bp + (size_t)p * (size_t)k * IG_NR;
        int cols = n - p * IG_NR < IG_NR ? (int)(n - p * IG_NR) : IG_NR;
        for (int64_t m0 = 0; m0 < m; m0 += IG_MR) {
            int rows = m - m0 < IG_MR ? (int)(m - m0) : IG_MR;
            fr_ig_seg seg = {.len = k};
            for (int i = 0; i < IG_MR; i++) seg.p[i] = a + (size_t)(m0 + (i < rows ? i : rows - 1)) * (size_t)k;
            tile(&e, &seg, 1, w, NULL, c + (size_t)m0 * (size_t)n + (size_t)(p * IG_NR), NULL, rows, cols);
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
static int ig_indirect(const fr_igemm *g, const float *x, int64_t tile, int64_t pixels, fr_ig_seg *seg) {
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
    fr_ig_seg *seg = (fr_ig_seg *)(j->ind + (size_t)ithr * g->ind_bytes);
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
        for (int64_t p = p0; p < p1;) {
            int two = g->pairs && p + 1 < p1, width = two ? 2 * IG_NR : IG_NR;
            const float *w = g->wp + (size_t)p * (size_t)g->k * IG_NR;
            const float *bias = g->bias ? g->bias + p * IG_NR : NULL;
            int cols = g->cout - p * IG_NR < width ? (int)(g->cout - p * IG_NR) : width;
            for (int64_t t = tb; t < te; t++) {
                int64_t m0 = t * IG_MR;
                int rows = pixels - m0 < IG_MR ? (int)(pixels - m0) : IG_MR;
                size_t off = (size_t)m0 * (size_t)g->cout + (size_t)(p * IG_NR);
                const fr_ig_seg *ts = seg + (size_t)(t - tb) * (size_t)g->taps;
#if FR_KERNELS_X86
                if (two) {
                    fr_ig_tile2_avx512(&g->epi, ts, nseg[t - tb], w, g->k, bias, j->y + off,
                                       j->res ? j->res + off : NULL, rows, cols);
                    continue;
                }
#endif
                g->tile(&g->epi, ts, nseg[t - tb], w, bias, j->y + off, j->res ? j->res + off : NULL, rows, cols);
            }
            p += two ? 2 : 1;
        }
    }
}

void fr_igemm_run(const fr_igemm *g, const fr_team *team, const float *x, float *y, void *temp, const float *res) {
    int64_t tiles = (g->n * g->oh * g->ow + IG_MR - 1) / IG_MR, groups = (tiles + IG_GROUP - 1) / IG_GROUP;
    int64_t want = (int64_t)IG_UNITS * g->threads, chunks = 1;
    if (g->threads > 1 && groups < want) {
        chunks = (want + groups - 1) / groups;
        if (chunks > g->panels) chunks = g->panels;
    }
    ig_job j = {g, x, g->residual ? res : NULL, y, temp, groups, chunks, 0};
    fr_team_run(team, g->threads, ig_thread, &j);
}

void fr_kernels_weights_row(const fr_conv_params *c, int64_t row, int64_t o0, int64_t n, float *dst) {
    const char *src = c->weights ? (const char *)c->weights : (const char *)c->weights_raw;
    memcpy(dst, src + ((size_t)row * (size_t)c->cout + (size_t)o0) * sizeof(float), sizeof(float) * (size_t)n);
    if (c->weight_scale)
        for (int64_t j = 0; j < n; j++) dst[j] *= c->weight_scale[o0 + j];
}

void fr_igemm_weights_dims(const fr_conv_params *c, int64_t dims[3]) {
    dims[0] = (c->cout + IG_NR - 1) / IG_NR;
    dims[1] = (int64_t)c->kh * c->kw * c->cin;
    dims[2] = IG_NR;
}

/* The HWIO weights (scaled by a folded batch norm) into panels, straight
 * from the plan's weights (or their unaligned bytes in the file). */
void fr_igemm_pack(const fr_conv_params *c, float *wp) {
    int64_t d[3];
    fr_igemm_weights_dims(c, d);
    int64_t panels = d[0], kk = d[1], cout = c->cout;
    /* blocks of 64 rows: read once from the source, written as 4 KiB runs */
    for (int64_t k0 = 0; k0 < kk; k0 += 64) {
        int64_t k1 = k0 + 64 < kk ? k0 + 64 : kk;
        for (int64_t p = 0; p < panels; p++) {
            int64_t o0 = p * IG_NR, n = cout - o0 < IG_NR ? cout - o0 : IG_NR;
            for (int64_t k = k0; k < k1; k++) {
                float row[IG_NR] = {0};
                fr_kernels_weights_row(c, k, o0, n, row);
                memcpy(wp + ((size_t)p * (size_t)kk + (size_t)k) * IG_NR, row, sizeof(row));
            }
        }
    }
}

frost_status fr_igemm_create(const fr_plan *plan, const fr_step *step, const float *wp, int simd, int threads,
                             fr_igemm **out) {
    const fr_conv_params *c = &step->p.conv;
    const fr_value *x = &plan->values[step->inputs[0]], *y = &plan->values[step->output];
    int64_t taps = (int64_t)c->kh * c->kw, k = taps * c->cin, panels = (c->cout + IG_NR - 1) / IG_NR;
    /* one block: the kernel, the bias padded to whole panels and the zeros
     * the padding reads */
    size_t nbias = c->bias ? (size_t)(panels * IG_NR) : 0, nzero = (size_t)c->kw * (size_t)c->cin + 16;
    fr_igemm *g = calloc(1, sizeof(*g) + sizeof(float) * (nbias + nzero));
    *out = NULL;
    if (!g) return FROST_E_NO_MEMORY;
    float *bias = c->bias ? (float *)(g + 1) : NULL, *zero = (float *)(g + 1) + nbias;
    if (bias) memcpy(bias, c->bias, sizeof(float) * (size_t)c->cout);
    *g = (fr_igemm){.n = x->dims[0], .h = x->dims[1], .w = x->dims[2], .cin = c->cin, .cout = c->cout,
                    .oh = y->dims[1], .ow = y->dims[2], .kh = c->kh, .kw = c->kw, .sh = c->stride_h,
                    .sw = c->stride_w, .dh = c->dil_h, .dw = c->dil_w, .pt = c->pad_top, .pl = c->pad_left,
                    .taps = (int)taps, .k = k, .panels = panels, .wp = wp, .bias = bias, .zero = zero,
                    .epi = {.ldy = c->cout, .act = c->act, .alpha = c->alpha}, .residual = c->residual >= 0,
                    .threads = threads < 1 ? 1 : threads, .tile = ig_tile(simd), .pairs = FR_KERNELS_X86 && simd >= 2};
    g->ind_bytes = (sizeof(fr_ig_seg) * (size_t)IG_GROUP * (size_t)taps + 63) / 64 * 64;
    *out = g;
    return FROST_OK;
}

size_t fr_igemm_temp_bytes(const fr_igemm *g) {
    return g->ind_bytes * (size_t)g->threads;
}

void fr_igemm_free(fr_igemm *g) {
    free(g);
}
