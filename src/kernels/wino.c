/* Winograd convolution: frost's own kernels for stride-1 3x3 (F(2x2, 3x3)
 * by default, F(4x4, 3x3) with --winograd), 5x5 (F(4x4, 5x5), --winograd)
 * and 1 x r / r x 1 layers (1-D F(2, 7), F(2, 5) by default, F(4, 3) with
 * --winograd, along the kernel).
 *
 * An m x m output tile comes from an alpha x alpha input tile d as
 *     Y = A^T [ (G g G^T) .* (B^T d B) ] A
 * (Lavin & Gray 2016; Toom-Cook with the points 0, +-1, +-2, +-1/2 and
 * infinity, alpha = m + r - 1; 1-D: Y = A^T [(G g) .* (B^T d)]).  Summed
 * over input channels, the element-wise products are one matrix product
 * per Winograd point xi,
 *     M[xi] (tiles x cout) = V[xi] (tiles x cin) * U[xi] (cin x cout),
 * run by the indirect GEMM's 6x16 tile (fr_dn_gemm_packed, U packed in its
 * panels): for 3x3, 36 multiplications per 4x4 tile instead of 144 (16 per
 * 2x2 tile instead of 36); for 5x5, 64 instead of 400.  Activations stay
 * NHWC: the transforms run across channels, 8 at a time (written out for the 4, 6
 * and 8 points; the weights' from the matrices wino_mats builds).  The
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

#include "backend/onednn/internal.h"
#include "kernels/x86/simd.h"

typedef struct fr_wino fr_wino;
/* Input transform of one tile (its pixels p[], V rows vstride floats apart)
 * and output transform (M rows mstride floats apart; rows x cols outputs of
 * the tile lie inside the map). */
typedef void (*fr_wino_in_fn)(const fr_wino *w, const float *const *p, float *v, size_t vstride);
typedef void (*fr_wino_out_fn)(const fr_wino *w, const float *m, size_t mstride, float *y, const float *res,
                               int rows, int cols);

struct fr_wino {
    int m;                 /* outputs per tile along each transformed axis */
    int axis;              /* 0: 2-D; 1-D along 1: H (r x 1 kernel) or 2: W (1 x r) */
    fr_wino_in_fn in;      /* chosen at build: 6x6 or 1-D; AVX2 or scalar */
    fr_wino_out_fn out;
    int pts;               /* Winograd points: alpha^2 in 2-D (36, 64), alpha = m + r - 1 in 1-D */
    int ih, iw, mh, mw;    /* input and output tile sizes */
    int64_t n, h, w, cin, cout, oh, ow;
    int pad_top, pad_left;
    int64_t th, tw, tiles; /* tiles per column / row, in all */
    int64_t chunk;         /* tiles per chunk */
    size_t scratch;        /* bytes per thread */
    const float *u;        /* [pts][ceil(cout / 16)][cin][16] (fr_dn_gemm_packed) */
    int gemm_simd;         /* the products' AVX2 + FMA tile (fr_dn_gemm_simd) */
    const float *bias;     /* [cout] or NULL */
    fr_act act;
    float alpha;
    int residual; /* non-zero: ptrs[3] is a tensor of the output's shape, added before act */
};

/* The point transforms, on values s apart (a column of a tile: s = alpha,
 * a row or a 1-D tile: s = 1), results in r.  4 points (F(2x2, 3x3)): 0,
 * +-1 and infinity; 6 points (F(4x4, 3x3),
 * F(4, 3), F(2, 5)): 0, +-1, +-2 and infinity (Lavin & Gray's matrices);
 * 8 points (F(4x4, 5x5), F(2, 7)): also +-1/2 (the rows of +p and -p share
 * their even and odd halves).  The matrices wino_mats builds, written out:
 * B^T d (alpha rows) and A^T m (4 or 2 rows; the sign of a row of B^T is
 * that of wino_mats, which G's row matches). */
#define FR_WINO_POINTS(T, SFX, ATTR)                                                                                  \
    ATTR static inline void bt4_##SFX(const T *d, int s, T *r) {                                                      \
        r[0] = d[2 * s] - d[0];                                                                                       \
        r[1] = d[s] + d[2 * s];                                                                                       \
        r[2] = d[2 * s] - d[s];                                                                                       \
        r[3] = d[3 * s] - d[s];                                                                                       \
    }                                                                                                                 \
    ATTR static inline void at42_##SFX(const T *q, int s, T *r) {                                                     \
        r[0] = q[0] + q[s] + q[2 * s];                                                                                \
        r[1] = q[s] - q[2 * s] + q[3 * s];                                                                            \
    }                                                                                                                 \
    ATTR static inline void bt6_##SFX(const T *d, int s, T *r) {                                                      \
        T d0 = d[0], d1 = d[s], d2 = d[2 * s], d3 = d[3 * s], d4 = d[4 * s], d5 = d[5 * s];                           \
        r[0] = 4.f * d0 - 5.f * d2 + d4;                                                                              \
        r[1] = d3 + d4 - 4.f * (d1 + d2);                                                                             \
        r[2] = 4.f * (d1 - d2) + d4 - d3;                                                                             \
        r[3] = 2.f * (d3 - d1) + d4 - d2;                                                                             \
        r[4] = 2.f * (d1 - d3) + d4 - d2;                                                                             \
        r[5] = 4.f * d1 - 5.f * d3 + d5;                                                                              \
    }                                                                                                                 \
    ATTR static inline void at64_##SFX(const T *q, int s, T *r) {                                                     \
        T a = q[s] + q[2 * s], b = q[s] - q[2 * s], c = q[3 * s] + q[4 * s], d = q[3 * s] - q[4 * s];                 \
        r[0] = q[0] + a + c;                                                                                          \
        r[1] = b + 2.f * d;                                                                                           \
        r[2] = a + 4.f * c;                                                                                           \
        r[3] = b + 8.f * d + q[5 * s];                                                                                \
    }                                                                                                                 \
    ATTR static inline void at62_##SFX(const T *q, int s, T *r) {                                                     \
        r[0] = q[0] + (q[s] + q[2 * s]) + (q[3 * s] + q[4 * s]);                                                      \
        r[1] = (q[s] - q[2 * s]) + 2.f * (q[3 * s] - q[4 * s]) + q[5 * s];                                            \
    }                                                                                                                 \
    ATTR static inline void bt8_##SFX(const T *d, int s, T *r) {                                                      \
        T d0 = d[0], d1 = d[s], d2 = d[2 * s], d3 = d[3 * s], d4 = d[4 * s], d5 = d[5 * s], d6 = d[6 * s],            \
          d7 = d[7 * s], e, o;                                                                                        \
        r[0] = (d6 - d0) + 5.25f * (d2 - d4);                                                                         \
        e = d2 - 4.25f * d4 + d6, o = d1 - 4.25f * d3 + d5;                                                           \
        r[1] = e + o, r[2] = e - o;                                                                                   \
        e = 0.25f * d2 - 1.25f * d4 + d6, o = 0.5f * d1 - 2.5f * d3 + 2.f * d5;                                       \
        r[3] = e + o, r[4] = e - o;                                                                                   \
        e = 4.f * d2 - 5.f * d4 + d6, o = 2.f * d1 - 2.5f * d3 + 0.5f * d5;                                           \
        r[5] = e + o, r[6] = e - o;                                                                                   \
        r[7] = (d7 - d1) + 5.25f * (d3 - d5);                                                                         \
    }                                                                                                                 \
    ATTR static inline void at84_##SFX(const T *q, int s, T *r) {                                                     \
        T a1 = q[s] + q[2 * s], s1 = q[s] - q[2 * s], a2 = q[3 * s] + q[4 * s], s2 = q[3 * s] - q[4 * s];             \
        T a3 = q[5 * s] + q[6 * s], s3 = q[5 * s] - q[6 * s];                                                         \
        r[0] = q[0] + a1 + a2 + a3;                                                                                   \
        r[1] = s1 + 2.f * s2 + 0.5f * s3;                                                                             \
        r[2] = a1 + 4.f * a2 + 0.25f * a3;                                                                            \
        r[3] = s1 + 8.f * s2 + 0.125f * s3 + q[7 * s];                                                                \
    }                                                                                                                 \
    ATTR static inline void at82_##SFX(const T *q, int s, T *r) {                                                     \
        T a1 = q[s] + q[2 * s], s1 = q[s] - q[2 * s], a2 = q[3 * s] + q[4 * s], s2 = q[3 * s] - q[4 * s];             \
        T a3 = q[5 * s] + q[6 * s], s3 = q[5 * s] - q[6 * s];                                                         \
        r[0] = q[0] + a1 + a2 + a3;                                                                                   \
        r[1] = s1 + 2.f * s2 + 0.5f * s3 + q[7 * s];                                                                  \
    }
FR_WINO_POINTS(v8, v8, FR_SIMD_TARGET)
FR_WINO_POINTS(float, 1, )

FR_SIMD_TARGET static inline v8 bias8(const fr_wino *w, int64_t o) {
    const v8 zero = {0};
    return w->bias ? ld8(w->bias + o) : zero;
}

static inline float bias1(const fr_wino *w, int64_t o) {
    return w->bias ? w->bias[o] : 0.f;
}

/* 2-D: V[xi][t][c] = (B^T d B)[xi] for channels [c, c + W) of one tile whose
 * A x A input pixels are p[] (a pixel outside the input points at zeros). */
#define FR_WINO2_IN(T, W, LD, ST, A, BT)                                                                              \
    for (; c + W <= cin; c += W) {                                                                                    \
        T d[A * A], t[A * A], r[A];                                                                                   \
        for (int k = 0; k < A * A; k++) d[k] = LD(p[k] + c);                                                          \
        for (int j = 0; j < A; j++) {                                                                                 \
            BT(d + j, A, r);                                                                                          \
            for (int i = 0; i < A; i++) t[i * A + j] = r[i];                                                          \
        }                                                                                                             \
        for (int i = 0; i < A; i++) {                                                                                 \
            BT(t + i * A, 1, r);                                                                                      \
            for (int j = 0; j < A; j++) ST(v + (size_t)(i * A + j) * vstride + c, r[j]);                              \
        }                                                                                                             \
    }

/* 2-D: Y = A^T M A for channels [o, o + W) of one tile, + bias (+ residual),
 * act, stored where the M x M tile lies inside the output (rows x cols of it). */
#define FR_WINO2_OUT(T, W, LD, ST, BIAS, ACT, A, M, AT)                                                               \
    for (; o + W <= cout; o += W) {                                                                                   \
        T q[A * A], t[M * A], r[M], b = BIAS(w, o);                                                                   \
        for (int k = 0; k < A * A; k++) q[k] = LD(m + (size_t)k * mstride + o);                                       \
        for (int j = 0; j < A; j++) {                                                                                 \
            AT(q + j, A, r);                                                                                          \
            for (int i = 0; i < M; i++) t[i * A + j] = r[i];                                                          \
        }                                                                                                             \
        for (int i = 0; i < rows; i++) {                                                                              \
            AT(t + i * A, 1, r);                                                                                      \
            for (int j = 0; j < cols; j++) {                                                                          \
                size_t at = ((size_t)i * (size_t)w->ow + (size_t)j) * (size_t)cout + (size_t)o;                       \
                T v = r[j] + b;                                                                                       \
                if (res) v += LD(res + at);                                                                           \
                ST(y + at, ACT(w->act, w->alpha, v));                                                                 \
            }                                                                                                         \
        }                                                                                                             \
    }

/* 1-D: V[xi] = (B^T d)[xi] over the A inputs along the axis */
#define FR_WINO1_IN(T, W, LD, ST, A, BT)                                                                              \
    for (; c + W <= cin; c += W) {                                                                                    \
        T d[A], r[A];                                                                                                 \
        for (int k = 0; k < A; k++) d[k] = LD(p[k] + c);                                                              \
        BT(d, 1, r);                                                                                                  \
        for (int xi = 0; xi < A; xi++) ST(v + (size_t)xi * vstride + c, r[xi]);                                       \
    }

/* 1-D: y_j = (A^T M)_j + bias (+ residual), act, for the n outputs of the
 * tile inside the map, `step` floats apart. */
#define FR_WINO1_OUT(T, W, LD, ST, BIAS, ACT, A, M, AT)                                                               \
    for (; o + W <= cout; o += W) {                                                                                   \
        T q[A], r[M], b = BIAS(w, o);                                                                                 \
        for (int xi = 0; xi < A; xi++) q[xi] = LD(m + (size_t)xi * mstride + o);                                      \
        AT(q, 1, r);                                                                                                  \
        for (int j = 0; j < n && j < M; j++) {                                                                        \
            size_t at = (size_t)j * step + (size_t)o;                                                                 \
            T v = r[j] + b;                                                                                           \
            if (res) v += LD(res + at);                                                                               \
            ST(y + at, ACT(w->act, w->alpha, v));                                                                     \
        }                                                                                                             \
    }

/* 1-D: the tile's n outputs lie `step` floats apart along the axis */
#define FR_WINO1_PRE                                                                                                  \
    int n = w->axis == 1 ? rows : cols;                                                                               \
    size_t step = w->axis == 1 ? (size_t)(w->ow * cout) : (size_t)cout;

/* in<D>_<F>_v8 / _1 and out<D>_<F>_v8 / _1 of a D-D kernel over A points
 * with M outputs per axis, from the point transforms BT and AT */
#define FR_WINO_FNS(D, F, A, M, BT, AT, PRE)                                                                          \
    FR_SIMD_TARGET static void in##D##_##F##_v8(const fr_wino *w, const float *const *p, float *v, size_t vstride) {  \
        int64_t c = 0, cin = w->cin;                                                                                  \
        FR_WINO##D##_IN(v8, 8, ld8, st8, A, BT##_v8)                                                                  \
        FR_WINO##D##_IN(float, 1, ld1, st1, A, BT##_1)                                                                \
    }                                                                                                                 \
    static void in##D##_##F##_1(const fr_wino *w, const float *const *p, float *v, size_t vstride) {                  \
        int64_t c = 0, cin = w->cin;                                                                                  \
        FR_WINO##D##_IN(float, 1, ld1, st1, A, BT##_1)                                                                \
    }                                                                                                                 \
    FR_SIMD_TARGET static void out##D##_##F##_v8(const fr_wino *w, const float *m, size_t mstride, float *y,          \
                                                 const float *res, int rows, int cols) {                              \
        int64_t o = 0, cout = w->cout;                                                                                \
        PRE                                                                                                           \
        FR_WINO##D##_OUT(v8, 8, ld8, st8, bias8, act8, A, M, AT##_v8)                                                 \
        FR_WINO##D##_OUT(float, 1, ld1, st1, bias1, act1, A, M, AT##_1)                                               \
    }                                                                                                                 \
    static void out##D##_##F##_1(const fr_wino *w, const float *m, size_t mstride, float *y, const float *res,        \
                                 int rows, int cols) {                                                                \
        int64_t o = 0, cout = w->cout;                                                                                \
        PRE                                                                                                           \
        FR_WINO##D##_OUT(float, 1, ld1, st1, bias1, act1, A, M, AT##_1)                                               \
    }
FR_WINO_FNS(2, f2x2_3x3, 4, 2, bt4, at42, )
FR_WINO_FNS(2, f4x4_3x3, 6, 4, bt6, at64, )
FR_WINO_FNS(2, f4x4_5x5, 8, 4, bt8, at84, )
FR_WINO_FNS(1, f4_3, 6, 4, bt6, at64, FR_WINO1_PRE)
FR_WINO_FNS(1, f2_5, 6, 2, bt6, at62, FR_WINO1_PRE)
FR_WINO_FNS(1, f2_7, 8, 2, bt8, at82, FR_WINO1_PRE)

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
            w->in(w, p, v + (size_t)t * (size_t)cin, (size_t)(nt * cin));
        }
        for (size_t xi = 0; xi < pts; xi++)
            fr_dn_gemm_packed(w->gemm_simd, nt, cout, cin, v + xi * (size_t)(nt * cin),
                              w->u + xi * fr_dn_gemm_packed_floats(cin, cout), m + xi * (size_t)(nt * cout));
        for (int64_t t = 0; t < nt; t++) {
            int64_t n, ty, tx;
            tile_pos(w, t0 + t, &n, &ty, &tx);
            int64_t y0 = ty * w->mh, x0 = tx * w->mw;
            size_t off = (size_t)n * (size_t)(w->oh * w->ow * cout) +
                         ((size_t)y0 * (size_t)w->ow + (size_t)x0) * (size_t)cout;
            int rows = w->oh - y0 < w->mh ? (int)(w->oh - y0) : w->mh;
            int cols = w->ow - x0 < w->mw ? (int)(w->ow - x0) : w->mw;
            w->out(w, m + (size_t)t * (size_t)cout, (size_t)(nt * cout), job->y + off,
                   w->residual ? job->res + off : NULL, rows, cols);
        }
    }
}

/* ptrs: x, y, scratch (temporaries), [residual] */
static void wino_run(const fr_dn_state *st, const void *ctx, void *const *ptrs) {
    const fr_wino *w = ctx;
    wino_job job = {w, ptrs[0], w->residual ? ptrs[3] : NULL, ptrs[1], ptrs[2], 0};
    fr_dn_parallel(st, wino_thread, &job);
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

/* U[xi][c][o]: (G g G^T)[xi] of the HWIO weights g (r x r) in 2-D, (G g)[xi]
 * of the r taps in 1-D. */
typedef struct {
    const fr_conv_params *c;
    int m, r, dims;
} wino_weights;

/* y += a x (a zero: nothing) */
static void axpy(float *restrict y, const float *restrict x, float a, int64_t n) {
    if (a != 0.f)
        for (int64_t o = 0; o < n; o++) y[o] += a * x[o];
}

static frost_status wino_fill(fr_dn_build *b, void *buf, const void *ctx) {
    const wino_weights *ww = ctx;
    int r = ww->r, a = ww->m + r - 1;
    int64_t cin = ww->c->cin, cout = ww->c->cout;
    double atd[6][8], gd[8][7], btd[8][8];
    wino_mats(ww->m, r, atd, gd, btd);
    float G[8][7];
    for (int i = 0; i < 8; i++)
        for (int k = 0; k < 7; k++) G[i][k] = (float)gd[i][k];
    (void)b;
    int taps2 = ww->dims == 2 ? r : 1; /* 1-D: the r taps are g[k][c][o] */
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
    float *u = buf; /* per point, packed for fr_dn_gemm_packed */
    size_t upt = fr_dn_gemm_packed_floats(cin, cout);
    for (int64_t c = 0; c < cin; c++) {
        for (int tap = 0; tap < taps; tap++)
            fr_dn_conv_weights_row(ww->c, tap * cin + c, 0, cout, g + (size_t)tap * (size_t)cout);
        /* t[i][k'][o] = sum_k G[i][k] g[k][k'][o], then U[i][j] = t[i] G[j]^T (2-D) or t[i][0] (1-D) */
        for (int i = 0; i < a; i++)
            for (int kk = 0; kk < taps2; kk++) {
                float *tp = t + ((size_t)i * (size_t)taps2 + (size_t)kk) * (size_t)cout;
                for (int64_t o = 0; o < cout; o++) tp[o] = 0.f;
                for (int k = 0; k < r; k++) axpy(tp, g + (size_t)(k * taps2 + kk) * (size_t)cout, G[i][k], cout);
            }
        if (ww->dims == 1) {
            for (int i = 0; i < a; i++)
                fr_dn_gemm_pack_row(u + (size_t)i * upt, cin, cout, c, t + (size_t)i * (size_t)cout);
            continue;
        }
        for (int i = 0; i < a; i++)
            for (int j = 0; j < a; j++) {
                for (int64_t o = 0; o < cout; o++) row[o] = 0.f;
                for (int kk = 0; kk < r; kk++)
                    axpy(row, t + ((size_t)i * (size_t)r + (size_t)kk) * (size_t)cout, G[j][kk], cout);
                fr_dn_gemm_pack_row(u + (size_t)(i * a + j) * upt, cin, cout, c, row);
            }
    }
    free(row);
    free(t);
    free(g);
    return FROST_OK;
}

/* Measured per layer (bench/conv_layers.py, Zen 3 AVX2, 2 threads, batch 1
 * and 16; docs/performance.md) against the default kernels (frost's
 * indirect GEMM, oneDNN's direct convolution where that stays ahead).
 * F(4x4, 3x3): 1.2-1.5x on Inception v3's 147x147 32->32 and 32->64 layers,
 * 2.0-2.3x on its 73x73 80->192 and 35x35 64/96-channel ones, 1.9-2x on
 * 17x17 160->192 (25 tiles) and 2.8x on 8x8 448->384 at batch 16 (64
 * tiles).  With fewer than 16 tiles the transformed weights (4x the
 * direct ones) are read for too few tiles; F(2x2, 3x3) there only tied
 * with the indirect GEMM (8x8 448->384, 10x10 128->128) or lost (7x7
 * 512->512: 0.6x).  F(4x4, 5x5): 3.0x / 2.6x (batch 1 / 16) on Inception's
 * 35x35 48->64 layers and 2.4x / 2.7x on 17x17 64->96, where F(2x2, 5x5)
 * (4 outputs per 6x6 tile) had tied or made 1.5x.  F(6x6, 3x3) (the same
 * 8x8 transforms) was measured against F(4x4, 3x3) on Inception's 3x3
 * layers: no clear gain at batch 1, 0.86-0.95x the time on the large maps
 * at batch 16, 1.6x on 8x8 maps (most of a 12x12 tile cover is waste).
 * F(2x2, 3x3) (the default) against the indirect GEMM, in the network
 * (Inception v3, interleaved A/B, batch 1 / 16): 1.6x / 1.35x on 73x73
 * 80->192, 1.4-1.6x / 1.2-1.4x on the 35x35 64/96-channel layers, 1.07x /
 * 1.07x on 147x147 32->64; 8x8 448->384: 0.72x at batch 1 (16 tiles: its
 * 16/9 weights, cold in the network, dominate; 1.4x alone, warm) and 1.9x
 * at batch 16; against oneDNN on 147x147 32->32: 0.92x (0.9x alone at
 * batch 1 and 2).  Hence from 64 tiles, 32 channels in and 64 out.
 * The tiles are counted per image: a layer gets the same kernel, and so
 * the same weights, at every batch size (picked by the batch's tiles, the
 * 8x8 448->384 layers held both their direct weights, for batch 1, and the
 * transformed ones, 22 MB more, once batch 16 ran too). */
int fr_dn_wino_pays(int m, int r, int64_t cin, int64_t cout, int64_t oh, int64_t ow) {
    int64_t tiles = ((oh + m - 1) / m) * ((ow + m - 1) / m);
    if (m == 2) return r == 3 && tiles >= 64 && cin >= 32 && cout >= 64;
    return tiles >= 16 && cin >= 32 && cout >= 32;
}

/* 1-D F(2, 7), F(4, 3), against the indirect GEMM (bench/conv_layers.py,
 * Zen 3, 2 threads): 1.2-1.4x on Inception's 17x17 1x7 / 7x1 layers at
 * batch 1 (153 tiles) and 1.3-1.5x at batch 16; 1.3-1.4x on its 8x8
 * 1x3 / 3x1 ones at batch 1 (16 tiles) and 1.6-1.7x at batch 16.  (With
 * transforms from the matrices and fixed shares of the chunks they made
 * 0.8-1.0x at batch 1.)  Per image, as fr_dn_wino_pays. */
int fr_dn_wino1_pays(int r, int64_t cin, int64_t cout, int64_t lines, int64_t len) {
    int m = r == 3 ? 4 : 2;
    return lines * ((len + m - 1) / m) >= 16 && cin >= 32 && cout >= 32;
}

frost_status fr_dn_build_wino(fr_dn_build *b) {
    const fr_step *s = b->step;
    const fr_conv_params *c = &s->p.conv;
    const fr_plan *plan = b->plan;
    const fr_value *x = &plan->values[s->inputs[0]], *y = &plan->values[s->output];
    if (x->rank != 4 || y->rank != 4 || x->kind != FR_VALUE_ARENA || c->groups != 1 || c->stride_h != 1 ||
        c->stride_w != 1 || c->dil_h != 1 || c->dil_w != 1 || b->st->value_dt)
        return FROST_OK;
    if (!fr_simd_act_ok(c->act)) return FROST_OK;
    if (c->residual >= 0 && plan->values[c->residual].count != y->count) return FROST_OK;
    int64_t n = x->dims[0], oh = y->dims[1], ow = y->dims[2];
    /* 2-D: 3x3 -> F(2x2, 3x3) or F(4x4, 3x3), 5x5 -> F(4x4, 5x5); 1-D:
     * 1 x r or r x 1 with r = 3 -> F(4, 3), 5 -> F(2, 5), 7 -> F(2, 7) */
    int axis, r, m;
    if (c->kh == c->kw && (c->kh == 3 || c->kh == 5)) {
        /* by default F(2x2, 3x3) (within FP32's 1e-4); --winograd: F(4x4, r x r) */
        axis = 0, r = c->kh, m = b->st->cfg.winograd ? 4 : 2;
        if (m == 2 && r != 3) return FROST_OK;
        if (!fr_dn_wino_pays(m, r, c->cin, c->cout, oh, ow)) return FROST_OK;
    } else if ((c->kh == 1 || c->kw == 1) && (c->kh + c->kw == 4 || c->kh + c->kw == 6 || c->kh + c->kw == 8)) {
        axis = c->kw == 1 ? 1 : 2, r = c->kh + c->kw - 1, m = r == 3 ? 4 : 2;
        /* by default only F(2, 7) and F(2, 5), whose weights
         * take 8/7 and 6/5 of the direct ones (F(4, 3): 2x) */
        if (!b->st->cfg.winograd && r == 3) return FROST_OK;
        int pad_off = axis == 1 ? c->pad_left + c->pad_right : c->pad_top + c->pad_bottom;
        if (pad_off || !fr_dn_wino1_pays(r, c->cin, c->cout, axis == 1 ? ow : oh, axis == 1 ? oh : ow))
            return FROST_OK;
    } else {
        return FROST_OK;
    }
    if (!c->weights && !c->weights_raw) return FROST_OK;
    int a = m + r - 1, pts = axis ? a : a * a;

    /* The weights transformed (each input channel's rows read with the
     * folded batch-norm scale, wino_fill): once per model, shared by the
     * plans of all batch sizes. */
    dnnl_memory_desc_t umd;
    int64_t ud[2] = {pts, (int64_t)fr_dn_gemm_packed_floats(c->cin, c->cout)};
    fr_dn_md_plain(&umd, 2, ud, dnnl_f32);
    wino_weights ww = {c, m, r, axis ? 1 : 2};
    const void *u = NULL;
    frost_status st = fr_dn_const_make(b, &umd, wino_fill, &ww, &u);
    if (st != FROST_OK) return st;

    fr_wino *w = calloc(1, sizeof(*w));
    if (!w) return FROST_E_NO_MEMORY;
    *w = (fr_wino){.m = m, .axis = axis, .pts = pts, .n = n, .h = x->dims[1], .w = x->dims[2], .cin = c->cin,
                   .cout = c->cout, .oh = oh, .ow = ow, .pad_top = c->pad_top, .pad_left = c->pad_left, .u = u,
                   .bias = c->bias, .act = c->act, .alpha = c->alpha, .residual = c->residual >= 0};
    int simd = fr_simd_ok() && !b->st->cfg.portable;
    w->gemm_simd = fr_dn_gemm_simd(b->st->cfg.portable);
    if (axis && r == 3) {
        w->in = simd ? in1_f4_3_v8 : in1_f4_3_1;
        w->out = simd ? out1_f4_3_v8 : out1_f4_3_1;
    } else if (axis && r == 5) {
        w->in = simd ? in1_f2_5_v8 : in1_f2_5_1;
        w->out = simd ? out1_f2_5_v8 : out1_f2_5_1;
    } else if (axis) {
        w->in = simd ? in1_f2_7_v8 : in1_f2_7_1;
        w->out = simd ? out1_f2_7_v8 : out1_f2_7_1;
    } else if (r == 5) {
        w->in = simd ? in2_f4x4_5x5_v8 : in2_f4x4_5x5_1;
        w->out = simd ? out2_f4x4_5x5_v8 : out2_f4x4_5x5_1;
    } else if (m == 2) {
        w->in = simd ? in2_f2x2_3x3_v8 : in2_f2x2_3x3_1;
        w->out = simd ? out2_f2x2_3x3_v8 : out2_f2x2_3x3_1;
    } else {
        w->in = simd ? in2_f4x4_3x3_v8 : in2_f4x4_3x3_1;
        w->out = simd ? out2_f4x4_3x3_v8 : out2_f4x4_3x3_1;
    }
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
    int threads = b->st->cfg.threads;
    int64_t per = (int64_t)(4 << 20) / (pts * 4 * (w->cin + w->cout));
    per = per < 8 ? 8 : per > 64 ? 64 : per;
    /* as many chunks as that takes, a multiple of the threads (153 tiles
     * on two: 4 chunks of 39 or 36, not 3 of 51, two on one thread), of
     * equal size (81 tiles on one thread: 41 + 40, not 64 + 17); the
     * threads take them from a shared counter */
    int64_t n_chunks = (w->tiles + per - 1) / per;
    n_chunks = (n_chunks + threads - 1) / threads * threads;
    if (n_chunks > w->tiles) n_chunks = w->tiles;
    w->chunk = (w->tiles + n_chunks - 1) / n_chunks;
    if (w->chunk > 6) w->chunk = (w->chunk + 5) / 6 * 6; /* whole 6-row tiles of the products */
    w->scratch = sizeof(float) * ((size_t)(w->cin + 15) / 16 * 16 +
                                  (size_t)pts * (size_t)w->chunk * (size_t)(w->cin + w->cout) + 16);
    w->scratch = (w->scratch + 63) / 64 * 64;

    char kernel[40];
    if (axis == 1)
        snprintf(kernel, sizeof(kernel), "frost:winograd_f%d_%dx1", m, r);
    else if (axis == 2)
        snprintf(kernel, sizeof(kernel), "frost:winograd_f%d_1x%d", m, r);
    else
        snprintf(kernel, sizeof(kernel), "frost:winograd_f%dx%d_%dx%d", m, m, r, r);
    return fr_dn_add_conv_custom(b, wino_run, w, w->scratch * (size_t)threads, kernel);
}
