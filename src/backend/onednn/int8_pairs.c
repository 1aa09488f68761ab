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

/* FP exceptions ignored, as clang's default: GCC then vectorizes the
 * epilogue's selects and clamps (the values are the same). */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("no-trapping-math")
#endif

struct fr_dn_i8rest {
    int32_t oc, dh, dw, ci, q; /* q * x[tap (dh, dw), ci] goes to output channel oc */
    int32_t off;               /* (dh * iw + dw) * cin + ci: set by the epilogue */
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
                                            (int32_t)(*m - keep), 0};
                *m = keep;
            }
    *h_out = h, *rest_out = rest, *n_rest = nr;
    return FROST_OK;
}

/* The epilogue: geometry, the rest, and per output channel the bias (in
 * units of the sums) and the output scale. */
typedef struct {
    int64_t n, ih, iw, oh, ow;
    int cin, cout, sh, sw, pt, pl, zx, zy, out_u8, n_rest, avx2;
    int64_t ext_h, ext_w; /* the taps' extent - 1: (kh - 1) * dil_h, (kw - 1) * dil_w */
    /* the activation as a slope below 0 and a clamp, then out_quant's clamp
     * (-inf, inf: none), in output units */
    float slope, act_lo, act_hi, lo, hi;
    const fr_dn_i8rest *rest;
    const float *bias, *osc;
} fr_dn_i8epi;

typedef struct {
    const fr_dn_i8epi *e;
    void *const *ptrs; /* source (u8), sums (s32), destination (u8 or f32) */
} epi_job;

/* Adds the rest into the sums `acc` of the output pixel whose taps start
 * at (y0, x0) of image xi, tap by tap checked against the padding. */
static void epi_rest_edge(const fr_dn_i8epi *e, const uint8_t *xi, int32_t *acc, int64_t y0, int64_t x0) {
    const fr_dn_i8rest *restrict r = e->rest;
    for (int k = 0; k < e->n_rest; k++) {
        int64_t iy = y0 + r[k].dh, ix = x0 + r[k].dw;
        if (iy < 0 || iy >= e->ih || ix < 0 || ix >= e->iw) continue; /* padding: the real 0 */
        acc[r[k].oc] += r[k].q * ((int32_t)xi[(iy * e->iw + ix) * e->cin + r[k].ci] - e->zx);
    }
}

/* Adds the rest into the sums of the output row `row` (image, y): entry by
 * entry along the pixels whose taps are all inside, the others pixel by pixel. */
static void epi_rest_row(const fr_dn_i8epi *e, const uint8_t *x, int32_t *acc, int64_t row) {
    const int64_t ow = e->ow, cout = e->cout, oy = row % e->oh, y0 = oy * e->sh - e->pt;
    const uint8_t *xi = x + row / e->oh * e->ih * e->iw * e->cin;
    int32_t *arow = acc + row * ow * cout;
    int64_t a = 0, b = 0; /* pixels [a, b): every tap inside */
    if (y0 >= 0 && y0 + e->ext_h < e->ih) {
        int64_t last = e->iw - 1 - e->ext_w + e->pl; /* ox * sw <= last */
        a = (e->pl + e->sw - 1) / e->sw;
        b = last < 0 ? 0 : last / e->sw + 1;
        b = b < ow ? b : ow;
        a = a < b ? a : b;
    }
    for (int64_t ox = 0; ox < ow; ox++) {
        if (ox == a) ox = b; /* the inside below */
        if (ox < ow) epi_rest_edge(e, xi, arow + ox * cout, y0, ox * e->sw - e->pl);
    }
    if (a >= b) return;
    const fr_dn_i8rest *restrict r = e->rest;
    const uint8_t *x0 = xi + (y0 * e->iw + a * e->sw - e->pl) * e->cin;
    const int64_t xs = (int64_t)e->sw * e->cin, np = b - a;
    const int zx = e->zx;
    for (int k = 0; k < e->n_rest; k++) {
        const uint8_t *restrict xp = x0 + r[k].off;
        int32_t *restrict ap = arow + a * cout + r[k].oc;
        const int32_t q = r[k].q;
        for (int64_t i = 0; i < np; i++) ap[i * cout] += q * ((int32_t)xp[i * xs] - zx);
    }
}

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
static inline __attribute__((always_inline)) void epi_pixels(const fr_dn_i8epi *e, const uint8_t *x, int32_t *acc,
                                                             void *dst, int64_t lo, int64_t hi) {
    const int cout = e->cout, out_u8 = e->out_u8;
    const float *restrict bias = e->bias, *restrict osc = e->osc;
    const float slope = e->slope, alo = e->act_lo, ahi = e->act_hi, clo = e->lo, chi = e->hi;
    const float zy = (float)e->zy, magic = 12582912.0f;
    for (int64_t row = lo; row < hi; row++) epi_rest_row(e, x, acc, row);
    for (int64_t p = lo * e->ow; p < hi * e->ow; p++) {
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

static void epi_pixels_base(const fr_dn_i8epi *e, const uint8_t *x, int32_t *acc, void *dst, int64_t lo,
                            int64_t hi) {
    epi_pixels(e, x, acc, dst, lo, hi);
}

#if FR_KERNELS_X86 /* the same loops on 8 lanes, where the CPU has AVX2 */
__attribute__((target("avx2"))) static void epi_pixels_avx2(const fr_dn_i8epi *e, const uint8_t *x, int32_t *acc,
                                                            void *dst, int64_t lo, int64_t hi) {
    epi_pixels(e, x, acc, dst, lo, hi);
}
#endif

static void epi_task(void *data, int ithr, int team) {
    const epi_job *j = data;
    const fr_dn_i8epi *e = j->e;
    int64_t rows = e->n * e->oh, chunk = (rows + team - 1) / team, lo = chunk * ithr;
    int64_t hi = lo + chunk < rows ? lo + chunk : rows;
    if (lo >= hi) return;
#if FR_KERNELS_X86
    if (e->avx2) {
        epi_pixels_avx2(e, j->ptrs[0], j->ptrs[1], j->ptrs[2], lo, hi);
        return;
    }
#endif
    epi_pixels_base(e, j->ptrs[0], j->ptrs[1], j->ptrs[2], lo, hi);
}

static void epi_run(const fr_dn_state *st, const void *ctx, void *const *ptrs) {
    const fr_dn_i8epi *e = ctx;
    epi_job j = {e, ptrs};
    int threads = e->n * e->oh * e->ow * e->cout < 16384 ? 1 : st->cfg.threads;
    fr_team_run(&st->team, threads, epi_task, &j);
}

frost_status fr_dn_int8_add_epilogue(fr_dn_build *b, const fr_conv_params *c, const int64_t *g, int zx,
                                     const fr_u8q *qy, const float *bias, const float *osc,
                                     const fr_dn_i8rest *rest, int n_rest, const fr_dn_arg *args) {
    size_t cout = (size_t)c->cout, bytes = sizeof(fr_dn_i8epi) + sizeof(fr_dn_i8rest) * (size_t)n_rest;
    fr_dn_i8epi *e = malloc(bytes + sizeof(float) * cout * 2);
    if (!e) return FROST_E_NO_MEMORY;
    fr_dn_i8rest *r = (fr_dn_i8rest *)(e + 1);
    float *eosc = (float *)(r + n_rest), *ebias = eosc + cout;
    const fr_fake_quant_params *oq = c->out_quant;
    float os = oq ? qy->scale : 1.0f;
    int relu = c->act == FR_ACT_RELU || c->act == FR_ACT_RELU6;
    *e = (fr_dn_i8epi){g[0], g[1], g[2], g[3], g[4], c->cin, c->cout, c->stride_h, c->stride_w, c->pad_top,
                       c->pad_left, zx, oq ? qy->zero_point : 0, oq != NULL, n_rest, fr_kernels_cpu_detect().avx2,
                       (int64_t)(c->kh - 1) * c->dil_h, (int64_t)(c->kw - 1) * c->dil_w,
                       c->act == FR_ACT_LEAKY ? c->alpha : 1.0f, relu ? 0.0f : -INFINITY,
                       c->act == FR_ACT_RELU6 ? 6.0f / os : INFINITY,
                       oq && oq->clip ? oq->clip_min / os : -INFINITY,
                       oq && oq->clip ? oq->clip_max / os : INFINITY, r, ebias, eosc};
    if (n_rest) memcpy(r, rest, sizeof(*r) * (size_t)n_rest);
    for (int k = 0; k < n_rest; k++) r[k].off = (int32_t)((r[k].dh * g[2] + r[k].dw) * c->cin + r[k].ci);
    memcpy(eosc, osc, sizeof(float) * cout);
    for (size_t co = 0; co < cout; co++) ebias[co] = bias ? bias[co] : 0.0f;
    return fr_dn_add_custom(b, epi_run, e, free, args, 3, "");
}
