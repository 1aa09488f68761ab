/* Microkernels of frost's own kernels: the innermost loops, internal to
 * src/kernels/.
 *
 * Each comes in two forms with one signature (the split of XNNPACK's
 * operators and microkernels, ncnn's arch folders):
 *   x86/      AVX2 (+ FMA for the GEMM tile; AVX-512F for the Winograd
 *             products' GEMM), every function compiled with its target
 *             attribute; run only where fr_kernels_select_isa() says the
 *             CPU has it
 *   generic/  portable C, for every CPU (and the tests' oracle of the others)
 * The drivers (igemm.c, wino.c, pool.c) pick a form once per layer, when
 * they are created, and call it through a function pointer.  A microkernel
 * allocates nothing, touches only the memory it is given and may run on any
 * number of threads at once.
 *
 * Where one source serves both forms (the Winograd transforms, the pool row)
 * it is a macro template (wino_template.h, pool_template.h) instantiated by
 * both folders: the two forms run the same operations per lane, so their
 * results are the same to the bit.
 */
#ifndef FR_KERNELS_UKERNELS_H
#define FR_KERNELS_UKERNELS_H

#include <stddef.h>
#include <stdint.h>

#include "graph/plan.h"

/* x86-64 with GCC or clang: the x86/ microkernels are compiled (elsewhere
 * their files are empty and only the generic ones exist). */
#if defined(__x86_64__) && defined(__GNUC__)
#define FR_KERNELS_X86 1
#else
#define FR_KERNELS_X86 0
#endif

/* ------------------------------------------------------- the GEMM tile --- */

/* Register tile of the indirect GEMM: 6 rows (output pixels) x 16 columns
 * (output channels). */
enum { FR_IG_MR = 6, FR_IG_NR = 16 };

/* A run of `len` consecutive columns of the 6 rows of a tile's left-hand
 * matrix: from p[i] on for row i (one tap's input channels, a whole kernel
 * row's, the zeros of the padding, or a row of a plain matrix). */
typedef struct fr_ig_seg {
    const float *p[FR_IG_MR];
    int64_t len;
} fr_ig_seg;

/* What the tile does before its single store: y rows `ldy` floats apart,
 * then + bias (+ residual), act. */
typedef struct fr_ig_epilogue {
    int64_t ldy;
    fr_act act; /* none, relu, relu6 or leaky (fr_kernels_act_ok) */
    float alpha;
} fr_ig_epilogue;

/* One tile: rows (<= 6) x cols (<= 16) outputs of y from the n segments
 * `seg` (their lengths summing to the packed panel's rows) times the panel
 * w ([sum of len][16]); bias: 16 floats or NULL; res: rows like y, or NULL. */
typedef void (*fr_ig_tile_fn)(const fr_ig_epilogue *e, const fr_ig_seg *seg, int n, const float *w,
                              const float *bias, float *y, const float *res, int rows, int cols);
void fr_ig_tile_avx2(const fr_ig_epilogue *e, const fr_ig_seg *seg, int n, const float *w, const float *bias,
                     float *y, const float *res, int rows, int cols); /* x86/: AVX2 + FMA */
void fr_ig_tile_generic(const fr_ig_epilogue *e, const fr_ig_seg *seg, int n, const float *w, const float *bias,
                        float *y, const float *res, int rows, int cols);
/* Two panels at once (x86/: AVX-512F, where fr_kernels_isa.avx512): rows
 * (<= 6) x cols (<= 32) outputs, the second panel's weights k * 16 floats
 * after w's (k: the panel's rows), bias 32 floats or NULL; the same bits as
 * two calls of the AVX2 tile. */
void fr_ig_tile2_avx512(const fr_ig_epilogue *e, const fr_ig_seg *seg, int n, const float *w, int64_t k,
                        const float *bias, float *y, const float *res, int rows, int cols);

/* The plain product C (m x n) = A (m x k) * B packed in those panels
 * (fr_igemm_packed) in AVX-512F: tiles of 8 rows x 32 columns, each output
 * accumulated as the AVX2 tile accumulates it (the same bits).  x86/ only,
 * run where fr_kernels_isa.avx512. */
enum { FR_GEMM_AVX512_MR = 8 };
void fr_gemm_avx512(int64_t m, int64_t n, int64_t k, const float *a, const float *bp, float *c);

/* ----------------------------------------------- Winograd transforms --- */

/* What a tile's transforms need of the layer (the driver's fr_wino holds it). */
typedef struct fr_wino_tile {
    int64_t cin, cout;
    int64_t ow;        /* output row length (1-D along H: the outputs' step) */
    int axis;          /* 0: 2-D; 1-D along 1: H (r x 1 kernel) or 2: W (1 x r) */
    const float *bias; /* [cout] or NULL */
    fr_act act;        /* as fr_ig_epilogue.act */
    float alpha;
} fr_wino_tile;

/* Input transform of one tile (its pixels p[], each cin floats; V rows
 * vstride floats apart) and output transform (M rows mstride floats apart;
 * rows x cols outputs of the tile lie inside the map, at y with NHWC row
 * stride ow * cout; res likewise or NULL). */
typedef void (*fr_wino_in_fn)(const fr_wino_tile *w, const float *const *p, float *v, size_t vstride);
typedef void (*fr_wino_out_fn)(const fr_wino_tile *w, const float *m, size_t mstride, float *y, const float *res,
                               int rows, int cols);

/* The kernels: 2-D F(2x2, 3x3), F(4x4, 3x3), F(4x4, 5x5); 1-D F(4, 3),
 * F(2, 5), F(2, 7). */
typedef enum fr_wino_kind {
    FR_WINO_F2X2_3X3 = 0,
    FR_WINO_F4X4_3X3,
    FR_WINO_F4X4_5X5,
    FR_WINO_F4_3,
    FR_WINO_F2_5,
    FR_WINO_F2_7,
    FR_WINO_KINDS
} fr_wino_kind;

typedef struct fr_wino_transforms {
    fr_wino_in_fn in;
    fr_wino_out_fn out;
} fr_wino_transforms;

extern const fr_wino_transforms fr_wino_avx2[FR_WINO_KINDS]; /* x86/: 8 channels per AVX vector */
extern const fr_wino_transforms fr_wino_avx512[FR_WINO_KINDS]; /* x86/: 16 per AVX-512 vector, then 8 */
extern const fr_wino_transforms fr_wino_generic[FR_WINO_KINDS];

/* ---------------------------------------------------------- pool row --- */

/* An NHWC pooling with TensorFlow's padding (never wins a max, not counted by
 * an average) and the epilogue act(pool + bias). */
typedef struct fr_pool_geom {
    int64_t n, h, w, c, oh, ow;
    int kh, kw, sh, sw, pt, pl;
    int max;           /* 1: max, 0: average */
    const float *bias; /* [c] or NULL */
    fr_act act;        /* as fr_ig_epilogue.act */
    float alpha;
} fr_pool_geom;

/* Output row oy of one image x (h x w x c) into y (oh x ow x c). */
typedef void (*fr_pool_row_fn)(const fr_pool_geom *k, const float *x, float *y, int64_t oy);
void fr_pool_row_avx2(const fr_pool_geom *k, const float *x, float *y, int64_t oy); /* x86/ */
void fr_pool_row_generic(const fr_pool_geom *k, const float *x, float *y, int64_t oy);

/* The same pooling on u8 codes of one grid (int8 precision; no bias or
 * activation): a max, or the average of the window's codes rounded half up
 * onto the grid (TensorFlow's rounding), floor((2 sum + count) / (2 count)),
 * computed as floor((2 sum + count) * f32(1 / (2 count)) + FR_POOL_U8_EPS):
 * exact for windows of up to 257 codes (the product is off by at most
 * 256 * 2^-23 < eps, and a quotient that is not a whole number lies at
 * least 1 / 514 > 2 eps below the next).  Output row oy of one image. */
#define FR_POOL_U8_EPS 0x1p-12f

/* The window of output (oy, ox) clipped to the image, [*y0, *y1) x [*x0,
 * *x1); returns its number of codes. */
static inline int64_t fr_pool_u8_window(const fr_pool_geom *k, int64_t oy, int64_t ox, int64_t *y0, int64_t *y1,
                                        int64_t *x0, int64_t *x1) {
    *y0 = oy * k->sh - k->pt, *y1 = *y0 + k->kh, *x0 = ox * k->sw - k->pl, *x1 = *x0 + k->kw;
    if (*y0 < 0) *y0 = 0;
    if (*y1 > k->h) *y1 = k->h;
    if (*x0 < 0) *x0 = 0;
    if (*x1 > k->w) *x1 = k->w;
    return (*y1 > *y0 ? *y1 - *y0 : 0) * (*x1 > *x0 ? *x1 - *x0 : 0);
}

/* The x86 forms' division of n = 2 sum + cnt by 2 cnt (cnt <= 64) in
 * 16-bit lanes: ((n * *m) >> 16) >> *shift, *m = ceil(2^k / (2 cnt)) with
 * 2^k >= 1022 cnt^2, k >= 16: exact for every n in [cnt, 511 cnt]
 * (checked for each cnt exhaustively), *m < 2^16. */
static inline void fr_pool_u8_divisor(int64_t cnt, unsigned *m, int *shift) {
    int bits = 16;
    while ((1ll << bits) < 1022ll * cnt * cnt) bits++;
    *m = (unsigned)(((1ll << bits) + 2 * cnt - 1) / (2 * cnt));
    *shift = bits - 16;
}
typedef void (*fr_pool_u8_row_fn)(const fr_pool_geom *k, const uint8_t *x, uint8_t *y, int64_t oy);
void fr_pool_u8_row_avx512(const fr_pool_geom *k, const uint8_t *x, uint8_t *y, int64_t oy); /* x86/: AVX-512BW */
void fr_pool_u8_row_avx2(const fr_pool_geom *k, const uint8_t *x, uint8_t *y, int64_t oy); /* x86/: AVX2, windows <= 64 */
/* The form that runs a max (max != 0) or an average over windows of
 * `window` codes (select.c): AVX-512BW where fr_kernels_avx512_int8
 * (averages of at most 257 codes), else AVX2 where the CPU has it (at most
 * 64), else (and when portable) the generic one. */
fr_pool_u8_row_fn fr_kernels_select_pool_u8_row(int max, int64_t window, int portable);
void fr_pool_u8_row_generic(const fr_pool_geom *k, const uint8_t *x, uint8_t *y, int64_t oy);

/* ---------------------------------------------------------- byte table --- */

/* The u8 FakeQuant of f32 values (fr_kernels_select_fq_u8, kernels.h). */
struct fr_fq_u8;
void fr_fq_u8_avx512(const struct fr_fq_u8 *k, const float *x, uint8_t *y, size_t n); /* x86/ */
void fr_fq_u8_generic(const struct fr_fq_u8 *k, const float *x, uint8_t *y, size_t n);

/* y[i] = table[x[i]] for i < n (fr_kernels_select_u8_table, kernels.h). */
void fr_u8_table_avx512vbmi(const uint8_t *table, const uint8_t *x, uint8_t *y, size_t n); /* x86/ */
void fr_u8_table_generic(const uint8_t *table, const uint8_t *x, uint8_t *y, size_t n);

/* ---------------------------------------------- scalar helpers (tails) --- */

static inline float ld1(const float *p) {
    return *p;
}

static inline void st1(float *p, float x) {
    *p = x;
}

static inline float act1(fr_act act, float alpha, float x) {
    switch (act) {
    case FR_ACT_RELU: return x > 0.f ? x : 0.f;
    case FR_ACT_RELU6: return x > 0.f ? (x < 6.f ? x : 6.f) : 0.f;
    case FR_ACT_LEAKY: return x < 0.f ? alpha * x : x;
    default: return x;
    }
}

#endif
