/* Winograd convolution: frost's own kernels for stride-1 3x3 (F(2x2, 3x3)
 * by default, F(4x4, 3x3) with --winograd), 5x5 (F(4x4, 5x5), --winograd)
 * and 1 x r / r x 1 layers (1-D F(2, 7), F(2, 5) by default, F(4, 3) with
 * --winograd, along the kernel); where each pays: select.c.
 *
 * An m x m output tile comes from an alpha x alpha input tile d as
 *     Y = A^T [ (G g G^T) .* (B^T d B) ] A
 * (Lavin & Gray 2016; Toom-Cook with the points 0, +-1, +-2, +-1/2 and
 * infinity, alpha = m + r - 1; 1-D: Y = A^T [(G g) .* (B^T d)]).  Summed
 * over input channels, the element-wise products are one matrix product
 * per Winograd point xi,
 *     M[xi] (tiles x cout) = V[xi] (tiles x cin) * U[xi] (cin x cout),
 * run by the indirect GEMM's 6x16 tile (fr_igemm_packed, U packed in its
 * panels): for 3x3, 36 multiplications per 4x4 tile instead of 144 (16 per
 * 2x2 tile instead of 36); for 5x5, 64 instead of 400.  Activations stay
 * NHWC: the transforms run across channels, 8 at a time (wino_template.h,
 * written out for the 4, 6 and 8 points, in x86/ and generic/; the weights'
 * from the matrices wino_mats builds).  The
 * tiles are cut into chunks, which the threads take from a shared counter;
 * a thread transforms, multiplies and transforms back each chunk in its own
 * scratch, so it stays in cache.
 * Results differ from direct convolution by rounding (~1e-5 relative; the
 * default kernels' within FP32's 1e-4, the others' up to ~1.5e-4).
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/igemm.h"
#include "kernels/ukernels.h"
#include "kernels/wino.h"

struct fr_wino {
    int m;                 /* outputs per tile along each transformed axis */
    int axis;              /* 0: 2-D; 1-D along 1: H (r x 1 kernel) or 2: W (1 x r) */
    fr_wino_transforms tr; /* chosen at create: 6x6, 8x8 or 1-D; AVX2 or generic */
    fr_wino_tile tile;     /* what the transforms read of the layer */
    int pts;               /* Winograd points: alpha^2 in 2-D (36, 64), alpha = m + r - 1 in 1-D */
    int ih, iw, mh, mw;    /* input and output tile sizes */
    int64_t n, h, w, cin, cout, oh, ow;
    int pad_top, pad_left;
    int64_t th, tw, tiles; /* tiles per column / row, in all */
    int64_t chunk;         /* tiles per chunk */
    int threads;
    size_t scratch;        /* bytes per thread */
    const float *u;        /* [pts][ceil(cout / 16)][cin][16] (fr_igemm_packed) */
    int gemm_simd;         /* the products' tile (fr_igemm_packed's simd) */
    int residual;          /* non-zero: run() gets a tensor of the output's shape, added before act */
    char name[40];
};

typedef struct {
    const fr_wino *w;
    const float *x, *res;
    float *y;
    char *scratch;     /* thread 0's; thread i's at i * w->scratch */
    atomic_llong next; /* the next chunk to take */
} wino_job;

static void tile_pos(const fr_wino *w, int64_t g, int64_t *n, int64_t *ty, int64_t *tx) {
    int64_t per = w->th * w->tw;
    *n = g / per;
    *ty = g % per / w->tw;
    *tx = g % per % w->tw;
}

static void wino_thread(void *arg, int ithr, int team) {
    wino_job *job = arg;
    const fr_wino *w = job->w;
    int64_t cin = w->cin, cout = w->cout, tc = w->chunk;
    size_t pts = (size_t)w->pts;
    float *zero = (float *)(job->scratch + (size_t)ithr * w->scratch);
    float *v = zero + (cin + 15) / 16 * 16;
    float *m = v + pts * (size_t)tc * (size_t)cin;
    memset(zero, 0, sizeof(float) * (size_t)cin);
    int64_t n_chunks = (w->tiles + tc - 1) / tc;
    (void)team;
    for (;;) {
        int64_t k = atomic_fetch_add_explicit(&job->next, 1, memory_order_relaxed);
        if (k >= n_chunks) break;
        int64_t t0 = k * tc, nt = w->tiles - t0 < tc ? w->tiles - t0 : tc;
        for (int64_t t = 0; t < nt; t++) {
            int64_t n, ty, tx;
            tile_pos(w, t0 + t, &n, &ty, &tx);
            const float *img = job->x + (size_t)n * (size_t)(w->h * w->w * cin);
            const float *p[64];
            for (int i = 0; i < w->ih; i++)
                for (int j = 0; j < w->iw; j++) {
                    int64_t yy = ty * w->mh - w->pad_top + i, xx = tx * w->mw - w->pad_left + j;
                    p[i * w->iw + j] = yy >= 0 && yy < w->h && xx >= 0 && xx < w->w
                                           ? img + ((size_t)yy * (size_t)w->w + (size_t)xx) * (size_t)cin
                                           : zero;
                }
            w->tr.in(&w->tile, p, v + (size_t)t * (size_t)cin, (size_t)(nt * cin));
        }
        for (size_t xi = 0; xi < pts; xi++)
            fr_igemm_packed(w->gemm_simd, nt, cout, cin, v + xi * (size_t)(nt * cin),
                            w->u + xi * fr_igemm_packed_floats(cin, cout), m + xi * (size_t)(nt * cout));
        for (int64_t t = 0; t < nt; t++) {
            int64_t n, ty, tx;
            tile_pos(w, t0 + t, &n, &ty, &tx);
            int64_t y0 = ty * w->mh, x0 = tx * w->mw;
            size_t off = (size_t)n * (size_t)(w->oh * w->ow * cout) +
                         ((size_t)y0 * (size_t)w->ow + (size_t)x0) * (size_t)cout;
            int rows = w->oh - y0 < w->mh ? (int)(w->oh - y0) : w->mh;
            int cols = w->ow - x0 < w->mw ? (int)(w->ow - x0) : w->mw;
            w->tr.out(&w->tile, m + (size_t)t * (size_t)cout, (size_t)(nt * cout), job->y + off,
                   w->residual ? job->res + off : NULL, rows, cols);
        }
    }
}

void fr_wino_run(const fr_wino *w, const fr_team *team, const float *x, float *y, void *temp, const float *res) {
    wino_job job = {w, x, w->residual ? res : NULL, y, temp, 0};
    fr_team_run(team, w->threads, wino_thread, &job);
}

/* The transforms of F(m, r) with alpha = m + r - 1 points: 0, 1, -1, 2, -2,
 * 1/2, -1/2 (the first alpha - 1 of them) and infinity (Toom-Cook):
 *   AT[j][i] = p_i^j, G[i][k] = p_i^k / prod_{l != i} (p_i - p_l),
 *   BT[i] = the coefficients of prod_{l != i} (x - p_l), BT[alpha-1] those of
 *   prod_l (x - p_l); the infinity column of AT and row of G pick the last
 *   output / tap.  For m = 4, r = 3 these are Lavin & Gray's matrices. */
static void wino_mats(int m, int r, double at[6][8], double g[8][7], double bt[8][8]) {
    static const double all[7] = {0, 1, -1, 2, -2, 0.5, -0.5};
    int a = m + r - 1, np = a - 1;
    memset(at, 0, sizeof(double) * 6 * 8);
    memset(g, 0, sizeof(double) * 8 * 7);
    memset(bt, 0, sizeof(double) * 8 * 8);
    for (int i = 0; i <= np; i++) {
        double poly[9] = {1}; /* product over the finite points but i (all of them for i == np) */
        int deg = 0;
        for (int l = 0; l < np; l++) {
            if (l == i) continue;
            for (int d = deg + 1; d > 0; d--) poly[d] = poly[d - 1] - all[l] * poly[d];
            poly[0] *= -all[l];
            deg++;
        }
        for (int k = 0; k <= deg && k < a; k++) bt[i][k] = poly[k];
        if (i == np) break;
        double den = 1, pw = 1;
        for (int l = 0; l < np; l++)
            if (l != i) den *= all[i] - all[l];
        for (int j = 0; j < m; j++, pw *= all[i]) at[j][i] = pw;
        pw = 1;
        for (int k = 0; k < r; k++, pw *= all[i]) g[i][k] = pw / den;
    }
    at[m - 1][np] = 1;
    g[np][r - 1] = 1;
}

/* y += a x (a zero: nothing) */
static void axpy(float *restrict y, const float *restrict x, float a, int64_t n) {
    if (a != 0.f)
        for (int64_t o = 0; o < n; o++) y[o] += a * x[o];
}

void fr_wino_weights_dims(const fr_conv_choice *ch, const fr_conv_params *c, int64_t dims[2]) {
    int a = ch->m + ch->r - 1;
    dims[0] = ch->axis ? a : a * a;
    dims[1] = (int64_t)fr_igemm_packed_floats(c->cin, c->cout);
}

/* U[xi][c][o]: (G g G^T)[xi] of the HWIO weights g (r x r) in 2-D, (G g)[xi]
 * of the r taps in 1-D. */
frost_status fr_wino_pack(const fr_conv_choice *ch, const fr_conv_params *wc, float *u) {
    int r = ch->r, a = ch->m + r - 1;
    int64_t cin = wc->cin, cout = wc->cout;
    double atd[6][8], gd[8][7], btd[8][8];
    wino_mats(ch->m, r, atd, gd, btd);
    float G[8][7];
    for (int i = 0; i < 8; i++)
        for (int k = 0; k < 7; k++) G[i][k] = (float)gd[i][k];
    int taps2 = ch->axis ? 1 : r; /* 1-D: the r taps are g[k][c][o] */
    int taps = r * taps2;
    /* the HWIO weights of one input channel (taps x cout), scaled by a
     * folded batch norm, read straight from the plan or the file's
     * (unaligned) bytes; t[i][k'][o] per input channel */
    float *g = malloc(sizeof(float) * (size_t)taps * (size_t)cout);
    float *t = malloc(sizeof(float) * (size_t)a * (size_t)taps2 * (size_t)cout);
    float *row = malloc(sizeof(float) * (size_t)cout);
    if (!g || !t || !row) {
        free(g), free(t), free(row);
        return FROST_E_NO_MEMORY;
    }
    size_t upt = fr_igemm_packed_floats(cin, cout); /* per point, packed for fr_igemm_packed */
    for (int64_t c = 0; c < cin; c++) {
        for (int tap = 0; tap < taps; tap++)
            fr_kernels_weights_row(wc, tap * cin + c, 0, cout, g + (size_t)tap * (size_t)cout);
        /* t[i][k'][o] = sum_k G[i][k] g[k][k'][o], then U[i][j] = t[i] G[j]^T (2-D) or t[i][0] (1-D) */
        for (int i = 0; i < a; i++)
            for (int kk = 0; kk < taps2; kk++) {
                float *tp = t + ((size_t)i * (size_t)taps2 + (size_t)kk) * (size_t)cout;
                for (int64_t o = 0; o < cout; o++) tp[o] = 0.f;
                for (int k = 0; k < r; k++) axpy(tp, g + (size_t)(k * taps2 + kk) * (size_t)cout, G[i][k], cout);
            }
        if (ch->axis) {
            for (int i = 0; i < a; i++)
                fr_igemm_pack_row(u + (size_t)i * upt, cin, cout, c, t + (size_t)i * (size_t)cout);
            continue;
        }
        for (int i = 0; i < a; i++)
            for (int j = 0; j < a; j++) {
                for (int64_t o = 0; o < cout; o++) row[o] = 0.f;
                for (int kk = 0; kk < r; kk++)
                    axpy(row, t + ((size_t)i * (size_t)r + (size_t)kk) * (size_t)cout, G[j][kk], cout);
                fr_igemm_pack_row(u + (size_t)(i * a + j) * upt, cin, cout, c, row);
            }
    }
    free(row);
    free(t);
    free(g);
    return FROST_OK;
}

/* The kind of each (m, r, axis) the selection picks, and its transforms. */
static fr_wino_kind wino_kind(const fr_conv_choice *ch) {
    if (ch->axis) return ch->r == 3 ? FR_WINO_F4_3 : ch->r == 5 ? FR_WINO_F2_5 : FR_WINO_F2_7;
    return ch->r == 5 ? FR_WINO_F4X4_5X5 : ch->m == 2 ? FR_WINO_F2X2_3X3 : FR_WINO_F4X4_3X3;
}

frost_status fr_wino_create(const fr_conv_choice *ch, const fr_plan *plan, const fr_step *step, const float *u,
                            fr_kernels_isa isa, int threads, fr_wino **out) {
    const fr_conv_params *c = &step->p.conv;
    const fr_value *x = &plan->values[step->inputs[0]], *y = &plan->values[step->output];
    int m = ch->m, r = ch->r, axis = ch->axis, a = m + r - 1, pts = axis ? a : a * a;
    fr_wino *w = calloc(1, sizeof(*w));
    *out = NULL;
    if (!w) return FROST_E_NO_MEMORY;
    *w = (fr_wino){.m = m, .axis = axis, .pts = pts, .n = x->dims[0], .h = x->dims[1], .w = x->dims[2],
                   .cin = c->cin, .cout = c->cout, .oh = y->dims[1], .ow = y->dims[2], .pad_top = c->pad_top,
                   .pad_left = c->pad_left, .u = u, .gemm_simd = fr_igemm_simd(isa),
                   .residual = c->residual >= 0,
                   .threads = threads < 1 ? 1 : threads};
    w->tile = (fr_wino_tile){.cin = c->cin, .cout = c->cout, .ow = w->ow, .axis = axis, .bias = c->bias,
                             .act = c->act, .alpha = c->alpha};
    w->tr = fr_wino_generic[wino_kind(ch)];
#if FR_KERNELS_X86
    if (isa.avx2) w->tr = fr_wino_avx2[wino_kind(ch)];
    if (isa.avx512) w->tr = fr_wino_avx512[wino_kind(ch)];
#endif
    w->ih = axis == 2 ? 1 : a;
    w->iw = axis == 1 ? 1 : a;
    w->mh = axis == 2 ? 1 : m;
    w->mw = axis == 1 ? 1 : m;
    w->th = (w->oh + w->mh - 1) / w->mh;
    w->tw = (w->ow + w->mw - 1) / w->mw;
    w->tiles = w->n * w->th * w->tw;
    /* Chunks of up to 64 tiles (each pass over the transformed weights
     * serves them; 12 to 96 measured alike but for 448->384, which wants
     * >= 48), fewer where the chunk's data would pass 4 MB per thread. */
    int64_t per = (int64_t)(4 << 20) / (pts * 4 * (w->cin + w->cout));
    per = per < 8 ? 8 : per > 64 ? 64 : per;
    /* as many chunks as that takes, a multiple of the threads (153 tiles
     * on two: 4 chunks of 39 or 36, not 3 of 51, two on one thread), of
     * equal size (81 tiles on one thread: 41 + 40, not 64 + 17); the
     * threads take them from a shared counter */
    int64_t n_chunks = (w->tiles + per - 1) / per;
    n_chunks = (n_chunks + w->threads - 1) / w->threads * w->threads;
    if (n_chunks > w->tiles) n_chunks = w->tiles;
    w->chunk = (w->tiles + n_chunks - 1) / n_chunks;
    int mr = fr_igemm_packed_rows(w->gemm_simd);
    if (w->chunk > mr) w->chunk = (w->chunk + mr - 1) / mr * mr; /* whole row tiles of the products */
    w->scratch = sizeof(float) * ((size_t)(w->cin + 15) / 16 * 16 +
                                  (size_t)pts * (size_t)w->chunk * (size_t)(w->cin + w->cout) + 16);
    w->scratch = (w->scratch + 63) / 64 * 64;
    if (axis == 1)
        snprintf(w->name, sizeof(w->name), "frost:winograd_f%d_%dx1", m, r);
    else if (axis == 2)
        snprintf(w->name, sizeof(w->name), "frost:winograd_f%d_1x%d", m, r);
    else
        snprintf(w->name, sizeof(w->name), "frost:winograd_f%dx%d_%dx%d", m, m, r, r);
    *out = w;
    return FROST_OK;
}

size_t fr_wino_temp_bytes(const fr_wino *w) {
    return w->scratch * (size_t)w->threads;
}

const char *fr_wino_name(const fr_wino *w) {
    return w->name;
}

void fr_wino_free(fr_wino *w) {
    free(w);
}
