/* The Winograd transforms as one macro template, instantiated three times:
 * on 8-float vectors in x86/wino_avx2.c (with a scalar tail), on 16- then
 * 8-float vectors in x86/wino_avx512.c and on floats in generic/wino.c.
 * All run the same operations per channel, so their results are the same
 * to the bit.  Internal to src/kernels/.
 *
 * An instantiating file includes this header, defines
 *   FR_WINO_ATTR                    the functions' attribute (target or nothing)
 *   FR_WINO_VEC_IN(D, A, BT)        the vector loop of an input transform (or nothing)
 *   FR_WINO_VEC_OUT(D, A, M, AT)    the vector loop of an output transform (or nothing)
 * instantiates FR_WINO_POINTS for each element type it uses, then
 * FR_WINO_KERNELS(name), which defines the table `name` of ukernels.h.
 */
#ifndef FR_KERNELS_WINO_TEMPLATE_H
#define FR_KERNELS_WINO_TEMPLATE_H

#include "kernels/ukernels.h"

/* The point transforms, on values s apart (a column of a tile: s = alpha,
 * a row or a 1-D tile: s = 1), results in r.  4 points (F(2x2, 3x3)): 0,
 * +-1 and infinity; 6 points (F(4x4, 3x3),
 * F(4, 3), F(2, 5)): 0, +-1, +-2 and infinity (Lavin & Gray's matrices);
 * 8 points (F(4x4, 5x5), F(2, 7)): also +-1/2 (the rows of +p and -p share
 * their even and odd halves).  The matrices wino_mats (wino.c) builds, written out:
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

static inline float bias1(const fr_wino_tile *w, int64_t o) {
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

/* in<D>_<F> and out<D>_<F> of a D-D kernel over A points with M outputs per
 * axis, from the point transforms BT and AT: the vector loop, then the
 * scalar one over the channels left */
#define FR_WINO_FNS(D, F, A, M, BT, AT, PRE)                                                                          \
    FR_WINO_ATTR static void in##D##_##F(const fr_wino_tile *w, const float *const *p, float *v, size_t vstride) {    \
        int64_t c = 0, cin = w->cin;                                                                                  \
        FR_WINO_VEC_IN(D, A, BT)                                                                                      \
        FR_WINO##D##_IN(float, 1, ld1, st1, A, BT##_1)                                                                \
    }                                                                                                                 \
    FR_WINO_ATTR static void out##D##_##F(const fr_wino_tile *w, const float *m, size_t mstride, float *y,            \
                                          const float *res, int rows, int cols) {                                     \
        int64_t o = 0, cout = w->cout;                                                                                \
        PRE                                                                                                           \
        FR_WINO_VEC_OUT(D, A, M, AT)                                                                                  \
        FR_WINO##D##_OUT(float, 1, ld1, st1, bias1, act1, A, M, AT##_1)                                               \
    }

/* Every kernel's transforms, and their table `name` (ukernels.h). */
#define FR_WINO_KERNELS(name)                                                                                         \
    FR_WINO_FNS(2, f2x2_3x3, 4, 2, bt4, at42, )                                                                       \
    FR_WINO_FNS(2, f4x4_3x3, 6, 4, bt6, at64, )                                                                       \
    FR_WINO_FNS(2, f4x4_5x5, 8, 4, bt8, at84, )                                                                       \
    FR_WINO_FNS(1, f4_3, 6, 4, bt6, at64, FR_WINO1_PRE)                                                               \
    FR_WINO_FNS(1, f2_5, 6, 2, bt6, at62, FR_WINO1_PRE)                                                               \
    FR_WINO_FNS(1, f2_7, 8, 2, bt8, at82, FR_WINO1_PRE)                                                               \
    const fr_wino_transforms name[FR_WINO_KINDS] = {                                                                  \
        [FR_WINO_F2X2_3X3] = {in2_f2x2_3x3, out2_f2x2_3x3}, [FR_WINO_F4X4_3X3] = {in2_f4x4_3x3, out2_f4x4_3x3},       \
        [FR_WINO_F4X4_5X5] = {in2_f4x4_5x5, out2_f4x4_5x5}, [FR_WINO_F4_3] = {in1_f4_3, out1_f4_3},                   \
        [FR_WINO_F2_5] = {in1_f2_5, out1_f2_5},             [FR_WINO_F2_7] = {in1_f2_7, out1_f2_7},                   \
    };

#endif
