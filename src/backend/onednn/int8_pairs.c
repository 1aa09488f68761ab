/* oneDNN backend, int8 convolutions on CPUs without VNNI (docs/int8.md).
 *
 * There oneDNN's u8 x s8 kernels multiply with vpmaddubsw, which adds the
 * products of two neighbouring bytes into a saturating 16-bit sum: with the
 * weights in oneDNN's int8 layouts (the last block 4 input channels), the
 * products of input channels 2j and 2j+1 at one tap and output channel.  Two
 * weights of one sign whose magnitudes add up to more than 128 can overflow
 * it (255 x 128 = 32640 cannot).  Such a step runs exactly, without
 * rounding any weight: oneDNN's convolution on the weights h, the int8
 * weights q with each such pair cut down (the larger kept, the other moved
 * so that the two add up to 128), into s32 sums, then frost's epilogue below
 * adds the rest, q - h (a few weights in a thousand on Inception v3's layers),
 * as a sparse list, and applies bias, scales, activation and the output's
 * quantization as oneDNN's would (ties to even). */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "backend/onednn/internal.h"
#include "kernels/ukernels.h"
#if FR_KERNELS_X86
#include <immintrin.h>
#endif

/* FP exceptions ignored, as clang's default: GCC then vectorizes the
 * epilogue's selects and clamps (the values are the same). */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("no-trapping-math")
#endif

struct fr_dn_i8rest {
    int32_t oc, dh, dw, ci, q; /* q * x[tap (dh, dw), ci] goes to output channel oc */
};

int fr_dn_int8_vnni(void) {
    dnnl_cpu_isa_t isa = dnnl_get_effective_cpu_isa();
    return isa == dnnl_cpu_isa_avx512_core_vnni || isa == dnnl_cpu_isa_avx512_core_bf16 ||
           isa == dnnl_cpu_isa_avx512_core_amx || isa == dnnl_cpu_isa_avx2_vnni;
}

int fr_dn_int8_pairs_layout(const dnnl_memory_desc_t *w, int dw) {
    if (w->format_kind != dnnl_blocked) return 0;
    const dnnl_blocking_desc_t *bl = &w->format_desc.blocking;
    int n = bl->inner_nblks;
    if (n < 1) return 0;
    /* depthwise: channels innermost, no two taps of one channel side by side */
    if (dw) return bl->inner_idxs[n - 1] == 0 && bl->inner_blks[n - 1] > 1;
    /* dense (oc, ic, kh, kw): the last block 4 input channels (from a
     * multiple of 4), so that the pairs are (2j, 2j+1) */
    return bl->inner_idxs[n - 1] == 1 && bl->inner_blks[n - 1] == 4;
}

static float weight_at(const void *w, size_t i) {
    float v;
    memcpy(&v, (const char *)w + 4 * i, sizeof v);
    return v;
}

frost_status fr_dn_int8_split(const fr_conv_params *c, const void *w, const float *winv, float **h_out,
                              fr_dn_i8rest **rest_out, int *n_rest) {
    size_t taps = (size_t)c->kh * (size_t)c->kw, cin = (size_t)c->cin, cout = (size_t)c->cout;
    size_t n = taps * cin * cout, cap = 0;
    float *h = malloc(sizeof(float) * (n ? n : 1));
    fr_dn_i8rest *rest = NULL;
    int nr = 0;
    *h_out = NULL, *rest_out = NULL, *n_rest = 0;
    if (!h) return FROST_E_NO_MEMORY;
    for (size_t i = 0; i < n; i++) h[i] = (float)lrintf(weight_at(w, i) * winv[i % cout]);
    for (size_t t = 0; t < taps; t++)
        for (size_t ci = 0; ci + 1 < cin; ci += 2)
            for (size_t co = 0; co < cout; co++) {
                float *a = &h[(t * cin + ci) * cout + co], *b = a + cout;
                if ((*a > 0) != (*b > 0) || *a == 0 || *b == 0 || fabsf(*a) + fabsf(*b) <= 128.0f) continue;
                int small_b = fabsf(*b) <= fabsf(*a);
                float *m = small_b ? b : a, big = small_b ? *a : *b;
                float keep = copysignf(128.0f - fabsf(big), big);
                if (nr == (int)cap) {
                    cap = cap ? cap * 2 : 256;
                    fr_dn_i8rest *r = realloc(rest, sizeof(*r) * cap);
                    if (!r) {
                        free(h);
                        free(rest);
                        return FROST_E_NO_MEMORY;
                    }
                    rest = r;
                }
                rest[nr++] = (fr_dn_i8rest){(int32_t)co, (int32_t)(t / (size_t)c->kw) * c->dil_h,
                                            (int32_t)(t % (size_t)c->kw) * c->dil_w, (int32_t)(ci + (small_b ? 1 : 0)),
                                            (int32_t)(*m - keep)};
                *m = keep;
            }
    *h_out = h, *rest_out = rest, *n_rest = nr;
    return FROST_OK;
}

/* The epilogue: geometry, the rest, and per output channel the bias (in
 * units of the sums) and the output scale.
 *
 * The rest runs by output channel along each output row, on the lanes of
 * the pixels: the source transposed first, padded with its zero point (the
 * real 0) so that every tap of every output pixel lies inside, each padded
 * input row as [n_chan][sw][xw] (padded column ix of transposed channel k
 * at [k][ix % sw][ix / sw]: a tap's values for consecutive output pixels
 * side by side); then a
 * group's terms (q, offset into the transposed rows from the row of the
 * pixels' first tap) add q * x into one row of sums, less zq = zx * (the sum
 * of its q), which go into the output channel's sums. */
typedef struct {
    int32_t off, q;
} fr_dn_i8term;
typedef struct {
    int32_t oc, n, zq;
} fr_dn_i8group;

typedef struct {
    int64_t n, ih, iw, oh, ow;
    int cin, cout, sh, sw, pt, pl, zx, zy, out_u8, n_groups, avx2;
    int64_t ihp, xw, xt_row, ow8; /* padded rows an image, columns a phase, bytes a row; ow to 8 */
    /* the channels transposed: all (chan NULL, n_chan = cin), or where fewer
     * than half have entries, those (chan[k], k < n_chan) */
    int n_chan;
    const int32_t *chan;
    /* the activation as a slope below 0 and a clamp, then out_quant's clamp
     * (-inf, inf: none), in output units */
    float slope, act_lo, act_hi, lo, hi;
    const fr_dn_i8group *groups;
    const fr_dn_i8term *terms;
    const float *bias, *osc;
} fr_dn_i8epi;

typedef struct {
    const fr_dn_i8epi *e;
    void *const *ptrs; /* source (u8), sums (s32), destination (u8 or f32), temporaries */
    const fr_team *team;
} epi_job;

/* Transposes 16 columns x 16 channels: the 16 bytes at s + c * cin (c <
 * 16) into d + ch * xw (ch < 16). */
typedef void (*epi_tr16_fn)(const uint8_t *s, int64_t cin, uint8_t *d, int64_t xw);
/* epi_tr16_fn on the first cols < 16 columns alone. */
typedef void (*epi_tr16_tail_fn)(const uint8_t *s, int64_t cin, uint8_t *d, int64_t xw, int cols);
/* The same at stride 2: the columns' padded positions from q on, split by
 * phase, channel ch's row at d + ch * 2 xw. */
typedef void (*epi_tr16_s2_fn)(const uint8_t *s, int64_t cin, uint8_t *d, int64_t xw, int64_t q);

/* Columns [c0, c1) x transposed channels [k0, k1) (source channel chan[k],
 * or k without chan) of a source row s into the transposed row d (padded
 * column ix + pl at [k][(ix + pl) % sw][(ix + pl) / sw]). */
static inline __attribute__((always_inline)) void epi_tr_scalar(const fr_dn_i8epi *e, const uint8_t *restrict s,
                                                                uint8_t *restrict d, int64_t c0, int64_t c1,
                                                                int64_t k0, int64_t k1) {
    const int64_t cin = e->cin, sw = e->sw, xw = e->xw, pl = e->pl;
    const int32_t *chan = e->chan;
    for (int64_t ix = c0; ix < c1; ix++) {
        uint8_t *restrict dc = d + ((ix + pl) % sw) * xw + (ix + pl) / sw;
        const uint8_t *restrict sc = s + ix * cin;
        if (chan)
            for (int64_t k = k0; k < k1; k++) dc[k * sw * xw] = sc[chan[k]];
        else
            for (int64_t k = k0; k < k1; k++) dc[k * sw * xw] = sc[k];
    }
}

/* Padded input rows [lo, hi) (of every image) transposed into xt; in blocks
 * of 16 x 16 where given: at stride 1 by tr16 (a row's last columns by
 * tr16_tail), at stride 2 by tr16s2; the rest byte by byte. */
static inline __attribute__((always_inline)) void epi_transpose(const fr_dn_i8epi *e, epi_tr16_fn tr16,
                                                                epi_tr16_tail_fn tr16_tail, epi_tr16_s2_fn tr16s2,
                                                                const uint8_t *x, uint8_t *xt, int64_t lo,
                                                                int64_t hi) {
    const int64_t iw = e->iw, cin = e->cin, xw = e->xw;
    for (int64_t r = lo; r < hi; r++) {
        uint8_t *restrict d = xt + r * e->xt_row;
        int64_t iy = r % e->ihp - e->pt;
        memset(d, e->zx, (size_t)e->xt_row);
        if (iy < 0 || iy >= e->ih) continue;
        const uint8_t *restrict s = x + (r / e->ihp * e->ih + iy) * iw * cin;
        int64_t cb = 0, kb = 0; /* the columns and channels in blocks */
        if (tr16 && e->sw == 1 && !e->chan) {
            int64_t whole = iw / 16 * 16;
            cb = tr16_tail ? iw : whole, kb = cin / 16 * 16;
            for (int64_t ix = 0; ix < whole; ix += 16)
                for (int64_t ci = 0; ci < kb; ci += 16) tr16(s + ix * cin + ci, cin, d + ci * xw + e->pl + ix, xw);
            for (int64_t ci = 0; tr16_tail && whole < iw && ci < kb; ci += 16)
                tr16_tail(s + whole * cin + ci, cin, d + ci * xw + e->pl + whole, xw, (int)(iw - whole));
        } else if (tr16s2 && e->sw == 2 && !e->chan) {
            cb = iw / 16 * 16, kb = cin / 16 * 16;
            for (int64_t ix = 0; ix < cb; ix += 16)
                for (int64_t ci = 0; ci < kb; ci += 16) tr16s2(s + ix * cin + ci, cin, d + ci * 2 * xw, xw, ix + e->pl);
        }
        epi_tr_scalar(e, s, d, 0, cb, kb, e->n_chan);
        epi_tr_scalar(e, s, d, cb, iw, 0, e->n_chan);
    }
}

#if FR_KERNELS_X86
/* 16 columns x 16 channels transposed in SSE2: the 16 bytes at s + c * cin
 * (c < cols <= 16; zeros for the columns from cols on) into o[ch] (ch < 16);
 * four rounds of interleaving (bytes, 16-bit, 32-bit, 64-bit units). */
static inline __attribute__((always_inline)) void epi_tr16_core(const uint8_t *s, int64_t cin, int cols,
                                                                __m128i o[16]) {
    __m128i a[16], t[16];
    for (int i = 0; i < 16; i++)
        a[i] = i < cols ? _mm_loadu_si128((const __m128i *)(const void *)(s + i * cin)) : _mm_setzero_si128();
    for (int i = 0; i < 8; i++) { /* rows 2i, 2i + 1: columns 0-7, 8-15 */
        t[2 * i] = _mm_unpacklo_epi8(a[2 * i], a[2 * i + 1]);
        t[2 * i + 1] = _mm_unpackhi_epi8(a[2 * i], a[2 * i + 1]);
    }
    for (int i = 0; i < 4; i++) { /* rows 4i..4i+3: columns 0-3, 4-7, 8-11, 12-15 */
        a[4 * i] = _mm_unpacklo_epi16(t[4 * i], t[4 * i + 2]);
        a[4 * i + 1] = _mm_unpackhi_epi16(t[4 * i], t[4 * i + 2]);
        a[4 * i + 2] = _mm_unpacklo_epi16(t[4 * i + 1], t[4 * i + 3]);
        a[4 * i + 3] = _mm_unpackhi_epi16(t[4 * i + 1], t[4 * i + 3]);
    }
    for (int i = 0; i < 2; i++) /* rows 8i..8i+7: columns 2c, 2c + 1 at t[8i + c] */
        for (int j = 0; j < 4; j++) {
            t[8 * i + 2 * j] = _mm_unpacklo_epi32(a[8 * i + j], a[8 * i + 4 + j]);
            t[8 * i + 2 * j + 1] = _mm_unpackhi_epi32(a[8 * i + j], a[8 * i + 4 + j]);
        }
    for (int c = 0; c < 8; c++) { /* column 2c, 2c + 1: rows 0-7, then 8-15 */
        o[2 * c] = _mm_unpacklo_epi64(t[c], t[8 + c]);
        o[2 * c + 1] = _mm_unpackhi_epi64(t[c], t[8 + c]);
    }
}

/* epi_tr16_fn at stride 1: channel ch's 16 columns at d + ch * xw. */
static void epi_tr16_sse2(const uint8_t *s, int64_t cin, uint8_t *d, int64_t xw) {
    __m128i o[16];
    epi_tr16_core(s, cin, 16, o);
    for (int c = 0; c < 16; c++) _mm_storeu_si128((__m128i *)(void *)(d + c * xw), o[c]);
}

/* The first n < 16 bytes of v at d. */
static inline __attribute__((always_inline)) void epi_store_n(uint8_t *d, __m128i v, int n) {
    if (n & 8) _mm_storel_epi64((__m128i *)(void *)d, v), d += 8, v = _mm_srli_si128(v, 8);
    if (n & 4) {
        int32_t x = _mm_cvtsi128_si32(v);
        memcpy(d, &x, 4), d += 4, v = _mm_srli_si128(v, 4);
    }
    if (n & 2) {
        int16_t x = (int16_t)_mm_cvtsi128_si32(v);
        memcpy(d, &x, 2), d += 2, v = _mm_srli_si128(v, 2);
    }
    if (n & 1) *d = (uint8_t)_mm_cvtsi128_si32(v);
}

/* epi_tr16_fn's last, partial block of cols < 16 columns (a row's columns
 * past its last multiple of 16: all of an 8x8 map's). */
static void epi_tr16_tail_sse2(const uint8_t *s, int64_t cin, uint8_t *d, int64_t xw, int cols) {
    __m128i o[16];
    epi_tr16_core(s, cin, cols, o);
    for (int c = 0; c < 16; c++) epi_store_n(d + c * xw, o[c], cols);
}

/* The same at stride 2 (AVX2 machines have SSSE3's byte shuffle): source
 * columns ix .. ix + 15, q = ix + pl their first padded column; channel ch's
 * row at d + ch * 2 xw holds padded column x at phase x % 2, position x / 2:
 * the 8 columns q + 2i at phase q % 2 from q / 2 on, the other 8 at the other
 * phase from (q + 1) / 2 on. */
__attribute__((target("avx2"))) static void epi_tr16_s2_avx2(const uint8_t *s, int64_t cin, uint8_t *d, int64_t xw,
                                                             int64_t q) {
    const __m128i split = _mm_setr_epi8(0, 2, 4, 6, 8, 10, 12, 14, 1, 3, 5, 7, 9, 11, 13, 15);
    __m128i o[16];
    epi_tr16_core(s, cin, 16, o);
    const int64_t p0 = q % 2, even = p0 * xw + q / 2, odd = (1 - p0) * xw + (q + 1) / 2;
    for (int c = 0; c < 16; c++) {
        __m128i v = _mm_shuffle_epi8(o[c], split);
        uint8_t *row = d + c * 2 * xw;
        _mm_storel_epi64((__m128i *)(void *)(row + even), v);
        _mm_storel_epi64((__m128i *)(void *)(row + odd), _mm_unpackhi_epi64(v, v));
    }
}
#endif

/* Adds the rest into the sums of output pixels [i0, i0 + np) (np <= 32) of
 * output row `row` (image, y), on the transposed source xt: a group's sums
 * for the pixels, then into its output channel's sums (those of the 32
 * pixels stay in L1 across the groups).  Portable form. */
static void epi_rest_block(const fr_dn_i8epi *e, const uint8_t *xt, int32_t *acc, int64_t row, int64_t i0) {
    const int64_t cout = e->cout, np = e->ow - i0 < 32 ? e->ow - i0 : 32;
    const uint8_t *xr = xt + (row / e->oh * e->ihp + row % e->oh * e->sh) * e->xt_row + i0;
    const fr_dn_i8group *restrict gr = e->groups;
    const fr_dn_i8term *restrict t = e->terms;
    int32_t *arow = acc + (row * e->ow + i0) * cout;
    for (int k = 0; k < e->n_groups; t += gr[k].n, k++) {
        int32_t sum[32] = {0};
        for (int j = 0; j < gr[k].n; j++)
            for (int64_t i = 0; i < np; i++) sum[i] += t[j].q * (int32_t)xr[t[j].off + i];
        for (int64_t i = 0; i < np; i++) arow[i * cout + gr[k].oc] += sum[i] - gr[k].zq;
    }
}

#if FR_KERNELS_X86
/* Adds the sums b[c][i] of output channels oc0 + c (c < 8 in `rows`) into
 * arow's pixels i < np (cout apart): 8 x 8 at a time, transposed in
 * registers (the other rows zero first); one at a time for one or two rows. */
__attribute__((target("avx2"))) static void epi_add_block8(int32_t (*b)[32], unsigned rows, int32_t *arow,
                                                           int64_t cout, int64_t oc0, int64_t np) {
    if (__builtin_popcount(rows) <= 2) {
        for (int c = 0; c < 8; c++)
            for (int64_t i = 0; (rows >> c & 1u) && i < np; i++) arow[i * cout + oc0 + c] += b[c][i];
        return;
    }
    for (int c = 0; c < 8; c++)
        if (!(rows >> c & 1u)) memset(b[c], 0, sizeof b[c]);
    for (int64_t v = 0; v * 8 < np; v++) {
        __m256i r[8], t[8];
        for (int c = 0; c < 8; c++) r[c] = _mm256_loadu_si256((const __m256i *)(const void *)(b[c] + v * 8));
        for (int c = 0; c < 8; c += 2) {
            t[c] = _mm256_unpacklo_epi32(r[c], r[c + 1]);
            t[c + 1] = _mm256_unpackhi_epi32(r[c], r[c + 1]);
        }
        for (int c = 0; c < 8; c += 4) { /* pixels 0 | 4, 1 | 5, 2 | 6, 3 | 7 of channels c..c+3 */
            r[c] = _mm256_unpacklo_epi64(t[c], t[c + 2]);
            r[c + 1] = _mm256_unpackhi_epi64(t[c], t[c + 2]);
            r[c + 2] = _mm256_unpacklo_epi64(t[c + 1], t[c + 3]);
            r[c + 3] = _mm256_unpackhi_epi64(t[c + 1], t[c + 3]);
        }
        for (int i = 0; i < 4; i++) { /* pixel i, pixel i + 4: the 8 channels */
            t[i] = _mm256_permute2x128_si256(r[i], r[i + 4], 0x20);
            t[i + 4] = _mm256_permute2x128_si256(r[i], r[i + 4], 0x31);
        }
        for (int i = 0; i < 8 && v * 8 + i < np; i++) {
            __m256i *a = (__m256i *)(void *)(arow + (v * 8 + i) * cout + oc0);
            _mm256_storeu_si256(a, _mm256_add_epi32(_mm256_loadu_si256(a), t[i]));
        }
    }
}

/* The same on AVX2: a group's sums of 32 pixels in four vectors of 8
 * (the transposed rows hold ow8 >= i0 + 8 * vectors columns); the groups of
 * 8 output channels oc0..oc0+7 gathered, then added into the sums 8 x 8
 * (epi_add_block8; a last block of fewer channels one sum at a time). */
__attribute__((target("avx2"))) static void epi_rest_block_avx2(const fr_dn_i8epi *e, const uint8_t *xt,
                                                                int32_t *acc, int64_t row, int64_t i0) {
    const int64_t cout = e->cout, np = e->ow - i0 < 32 ? e->ow - i0 : 32, nv = (np + 7) / 8;
    const uint8_t *xr = xt + (row / e->oh * e->ihp + row % e->oh * e->sh) * e->xt_row + i0;
    const fr_dn_i8group *restrict gr = e->groups;
    const fr_dn_i8term *restrict t = e->terms;
    int32_t *arow = acc + (row * e->ow + i0) * cout;
    int32_t b[8][32];
    int64_t blk = -1; /* the 8 channels in b */
    unsigned rows = 0;
#define LD8(p) _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)(const void *)(p)))
    for (int k = 0; k < e->n_groups; t += gr[k].n, k++) {
        __m256i s0 = _mm256_setzero_si256(), s1 = s0, s2 = s0, s3 = s0;
        const int n = gr[k].n;
        if (nv == 4) {
            for (int j = 0; j < n; j++) {
                const uint8_t *xp = xr + t[j].off;
                const __m256i q = _mm256_set1_epi32(t[j].q);
                s0 = _mm256_add_epi32(s0, _mm256_mullo_epi32(q, LD8(xp)));
                s1 = _mm256_add_epi32(s1, _mm256_mullo_epi32(q, LD8(xp + 8)));
                s2 = _mm256_add_epi32(s2, _mm256_mullo_epi32(q, LD8(xp + 16)));
                s3 = _mm256_add_epi32(s3, _mm256_mullo_epi32(q, LD8(xp + 24)));
            }
        } else {
            for (int j = 0; j < n; j++) {
                const uint8_t *xp = xr + t[j].off;
                const __m256i q = _mm256_set1_epi32(t[j].q);
                s0 = _mm256_add_epi32(s0, _mm256_mullo_epi32(q, LD8(xp)));
                if (nv > 1) s1 = _mm256_add_epi32(s1, _mm256_mullo_epi32(q, LD8(xp + 8)));
                if (nv > 2) s2 = _mm256_add_epi32(s2, _mm256_mullo_epi32(q, LD8(xp + 16)));
            }
        }
        const __m256i zq = _mm256_set1_epi32(gr[k].zq);
        const int64_t oc = gr[k].oc;
        if (oc / 8 != blk) {
            if (rows) epi_add_block8(b, rows, arow, cout, blk * 8, np);
            blk = oc / 8, rows = 0;
        }
        int32_t *d = oc - oc % 8 + 8 <= cout ? b[oc % 8] : NULL, sum[32];
        if (!d) d = sum; /* the last, partial block */
        _mm256_storeu_si256((__m256i *)(void *)d, _mm256_sub_epi32(s0, zq));
        _mm256_storeu_si256((__m256i *)(void *)(d + 8), _mm256_sub_epi32(s1, zq));
        _mm256_storeu_si256((__m256i *)(void *)(d + 16), _mm256_sub_epi32(s2, zq));
        _mm256_storeu_si256((__m256i *)(void *)(d + 24), _mm256_sub_epi32(s3, zq));
        if (d == sum)
            for (int64_t i = 0; i < np; i++) arow[i * cout + oc] += sum[i];
        else
            rows |= 1u << (oc % 8);
    }
    if (rows) epi_add_block8(b, rows, arow, cout, blk * 8, np);
#undef LD8
}
#endif

/* The activation (a slope below 0, a clamp), then out_quant's clamp. */
static inline float epi_act(float v, float slope, float alo, float ahi, float clo, float chi) {
    v = v > 0.0f ? v : v * slope;
    v = v > alo ? v : alo;
    v = v < ahi ? v : ahi;
    v = v > clo ? v : clo;
    return v < chi ? v : chi;
}

/* Output rows [lo, hi): the rest, then bias, scale, activation, clamps, and the
 * u8 output saturated, then rounded to even (1.5 * 2^23: adding it leaves
 * no fraction bits), or the f32 one.  The loops over the channels read
 * locals only, so that they vectorize. */
typedef void (*epi_rest_fn)(const fr_dn_i8epi *e, const uint8_t *xt, int32_t *acc, int64_t row, int64_t i0);

static inline __attribute__((always_inline)) void epi_pixels(const fr_dn_i8epi *e, epi_rest_fn rest,
                                                             const uint8_t *xt, int32_t *acc, void *dst, int64_t lo,
                                                             int64_t hi) {
    const int cout = e->cout, out_u8 = e->out_u8;
    const float *restrict bias = e->bias, *restrict osc = e->osc;
    const float slope = e->slope, alo = e->act_lo, ahi = e->act_hi, clo = e->lo, chi = e->hi;
    const float zy = (float)e->zy, magic = 12582912.0f;
    for (int64_t p = lo * e->ow, i0 = 0; p < hi * e->ow; p++, i0 = i0 + 1 < e->ow ? i0 + 1 : 0) {
        if (i0 % 32 == 0) rest(e, xt, acc, p / e->ow, i0); /* the next 32 pixels' rest */
        const int32_t *restrict a = acc + p * cout;
        if (out_u8) {
            uint8_t *restrict y = (uint8_t *)dst + p * cout;
            for (int co = 0; co < cout; co++) {
                float t = epi_act(((float)a[co] + bias[co]) * osc[co], slope, alo, ahi, clo, chi) + zy;
                t = t > 0.0f ? t : 0.0f;
                t = t < 255.0f ? t : 255.0f;
                y[co] = (uint8_t)(int)((t + magic) - magic);
            }
        } else {
            float *restrict y = (float *)dst + p * cout;
            for (int co = 0; co < cout; co++)
                y[co] = epi_act(((float)a[co] + bias[co]) * osc[co], slope, alo, ahi, clo, chi);
        }
    }
}

static void epi_base(const fr_dn_i8epi *e, int transpose, const uint8_t *x, uint8_t *xt, int32_t *acc, void *dst,
                     int64_t lo, int64_t hi) {
    if (transpose) epi_transpose(e, NULL, NULL, NULL, x, xt, lo, hi);
    else epi_pixels(e, epi_rest_block, xt, acc, dst, lo, hi);
}

#if FR_KERNELS_X86 /* the same loops on 8 lanes, where the CPU has AVX2 */
__attribute__((target("avx2"))) static void epi_avx2(const fr_dn_i8epi *e, int transpose, const uint8_t *x,
                                                     uint8_t *xt, int32_t *acc, void *dst, int64_t lo, int64_t hi) {
    if (transpose) epi_transpose(e, epi_tr16_sse2, epi_tr16_tail_sse2, epi_tr16_s2_avx2, x, xt, lo, hi);
    else epi_pixels(e, epi_rest_block_avx2, xt, acc, dst, lo, hi);
}
#endif

/* A share of the rows: the input rows (transpose) or the output rows. */
static void epi_share(const epi_job *j, int ithr, int team, int transpose) {
    const fr_dn_i8epi *e = j->e;
    int64_t rows = e->n * (transpose ? e->ihp : e->oh), chunk = (rows + team - 1) / team, lo = chunk * ithr;
    int64_t hi = lo + chunk < rows ? lo + chunk : rows;
    if (lo >= hi) return;
    uint8_t *xt = j->ptrs[3];
#if FR_KERNELS_X86
    if (e->avx2) {
        epi_avx2(e, transpose, j->ptrs[0], xt, j->ptrs[1], j->ptrs[2], lo, hi);
        return;
    }
#endif
    epi_base(e, transpose, j->ptrs[0], xt, j->ptrs[1], j->ptrs[2], lo, hi);
}

/* One team for the step: the source transposed (by the first thread alone
 * when it is small), every thread waits for it, then the output rows. */
static void epi_task(void *data, int ithr, int team) {
    const epi_job *j = data;
    const fr_dn_i8epi *e = j->e;
    if (e->n * e->ihp * e->xt_row < 16384) {
        if (ithr == 0) epi_share(j, 0, 1, 1);
    } else {
        epi_share(j, ithr, team, 1);
    }
    fr_team_barrier(j->team, team);
    epi_share(j, ithr, team, 0);
}

static void epi_run(const fr_dn_state *st, const void *ctx, void *const *ptrs) {
    const fr_dn_i8epi *e = ctx;
    epi_job j = {e, ptrs, &st->team};
    int small = e->n * e->oh * e->ow * e->cout < 16384;
    fr_team_run(&st->team, small ? 1 : st->cfg.threads, epi_task, &j);
}

/* The geometry of the transposed source: padded rows an image, columns a
 * phase (every tap of output columns [0, ow8) inside), ow rounded up to 8. */
static void epi_geometry(const fr_conv_params *c, const int64_t *g, int64_t *ihp, int64_t *xw, int64_t *ow8) {
    int64_t sw = c->stride_w, ext_h = (int64_t)(c->kh - 1) * c->dil_h, ext_w = (int64_t)(c->kw - 1) * c->dil_w;
    int64_t rows = (g[3] - 1) * c->stride_h + ext_h + 1, cols = (g[2] - 1 + c->pad_left) / sw + 1;
    *ow8 = (g[4] + 7) / 8 * 8;
    *ihp = g[1] + c->pad_top > rows ? g[1] + c->pad_top : rows;
    *xw = cols > ext_w / sw + *ow8 ? cols : ext_w / sw + *ow8;
}

size_t fr_dn_int8_epilogue_temp(const fr_conv_params *c, const int64_t *g) {
    int64_t ihp, xw, ow8;
    epi_geometry(c, g, &ihp, &xw, &ow8);
    int64_t row = (int64_t)c->cin * c->stride_w * xw, taps = (int64_t)(c->kh - 1) * c->dil_h + 1;
    if (row > INT32_MAX / taps) return 0; /* the terms' offsets are int32 */
    return (size_t)(g[0] * ihp) * (size_t)row;
}

frost_status fr_dn_int8_add_epilogue(fr_dn_build *b, const fr_conv_params *c, const int64_t *g, int zx,
                                     const fr_u8q *qy, const float *bias, const float *osc,
                                     const fr_dn_i8rest *rest, int n_rest, const fr_dn_arg *args) {
    size_t cout = (size_t)c->cout, nr = (size_t)n_rest;
    /* groups: at most one per output channel */
    size_t cin = (size_t)c->cin;
    fr_dn_i8epi *e = malloc(sizeof(fr_dn_i8epi) + sizeof(fr_dn_i8term) * nr + sizeof(fr_dn_i8group) * cout +
                            sizeof(float) * cout * 2 + sizeof(int32_t) * cin);
    int *count = calloc(cout + 1 + cin, sizeof(int)), *map = count + cout + 1;
    if (!e || !count) {
        free(e);
        free(count);
        return FROST_E_NO_MEMORY;
    }
    fr_dn_i8term *terms = (fr_dn_i8term *)(e + 1);
    fr_dn_i8group *groups = (fr_dn_i8group *)(terms + nr);
    float *eosc = (float *)(groups + cout), *ebias = eosc + cout;
    int32_t *chan = (int32_t *)(ebias + cout);
    /* the channels with entries: transposed alone where fewer than half */
    int n_chan = 0;
    for (int k = 0; k < n_rest; k++) map[rest[k].ci] = 1;
    for (size_t ci = 0; ci < cin; ci++)
        if (map[ci]) chan[n_chan++] = (int32_t)ci;
    int compact = (size_t)n_chan * 2 < cin;
    if (!compact) n_chan = (int)cin;
    for (int k = 0; k < n_chan; k++) map[compact ? chan[k] : k] = k;
    const fr_fake_quant_params *oq = c->out_quant;
    float os = oq ? qy->scale : 1.0f;
    int relu = c->act == FR_ACT_RELU || c->act == FR_ACT_RELU6;
    int64_t sw = c->stride_w, ihp, xw, ow8;
    epi_geometry(c, g, &ihp, &xw, &ow8);
    int64_t xt_row = (int64_t)n_chan * sw * xw;
    *e = (fr_dn_i8epi){g[0], g[1], g[2], g[3], g[4], c->cin, c->cout, c->stride_h, c->stride_w, c->pad_top,
                       c->pad_left, zx, oq ? qy->zero_point : 0, oq != NULL, 0, b->st->isa.avx2,
                       ihp, xw, xt_row, ow8, n_chan, compact ? chan : NULL,
                       c->act == FR_ACT_LEAKY ? c->alpha : 1.0f, relu ? 0.0f : -INFINITY,
                       c->act == FR_ACT_RELU6 ? 6.0f / os : INFINITY,
                       oq && oq->clip ? oq->clip_min / os : -INFINITY,
                       oq && oq->clip ? oq->clip_max / os : INFINITY, groups, terms, ebias, eosc};
    /* the terms by output channel (a counting sort), each at its place in the
     * transposed rows: row dh, channel ci, column dw */
    for (int k = 0; k < n_rest; k++) count[rest[k].oc + 1]++;
    for (size_t co = 0; co < cout; co++) {
        if (count[co + 1]) groups[e->n_groups++] = (fr_dn_i8group){(int32_t)co, count[co + 1], 0};
        count[co + 1] += count[co];
    }
    for (int k = 0; k < n_rest; k++) {
        const fr_dn_i8rest *r = &rest[k];
        int64_t off = r->dh * xt_row + ((int64_t)map[r->ci] * sw + r->dw % sw) * xw + r->dw / sw;
        terms[count[r->oc]++] = (fr_dn_i8term){(int32_t)off, r->q};
    }
    for (int k = 0, j = 0; k < e->n_groups; k++)
        for (int end = j + groups[k].n; j < end; j++) groups[k].zq += zx * terms[j].q;
    free(count);
    memcpy(eosc, osc, sizeof(float) * cout);
    for (size_t co = 0; co < cout; co++) ebias[co] = bias ? bias[co] : 0.0f;
    return fr_dn_add_custom(b, epi_run, e, free, args, 4, "");
}
