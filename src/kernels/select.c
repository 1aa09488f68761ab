/* Which implementation runs each layer: frost's kernels or the backend's,
 * and which form of the microkernels (AVX2 or portable C).  The rules, with
 * the measurements behind them; no other file decides. */
#include <stdlib.h>
#include <strings.h>

#include "kernels/kernels.h"
#include "kernels/tune.h"
#include "kernels/ukernels.h"

/* Whether ONEDNN_MAX_CPU_ISA (oneDNN's cap, which makes this machine run as
 * an older one) leaves AVX-512 allowed: unset, ALL or an AVX512_* value. */
static int isa_cap_allows_avx512(void) {
    const char *cap = getenv("ONEDNN_MAX_CPU_ISA");
    if (!cap || !*cap) cap = getenv("DNNL_MAX_CPU_ISA");
    return !cap || !*cap || !strcasecmp(cap, "ALL") || !strncasecmp(cap, "AVX512", 6);
}

fr_kernels_cpu fr_kernels_cpu_detect(void) {
    fr_kernels_cpu cpu = {0, 0, 0};
#if FR_KERNELS_X86
    __builtin_cpu_init();
    cpu.avx2 = __builtin_cpu_supports("avx2") != 0;
    cpu.fma = __builtin_cpu_supports("fma") != 0;
    cpu.avx512f = __builtin_cpu_supports("avx512f") != 0 && isa_cap_allows_avx512();
#endif
    return cpu;
}

/* Whether the AVX-512 forms of the int8 loops run: AVX-512 allowed
 * (fr_kernels_cpu.avx512f), with BW and VL, and VBMI where vbmi is set. */
static int avx512_int8(int portable, int vbmi) {
#if FR_KERNELS_X86
    fr_kernels_cpu cpu = fr_kernels_cpu_detect();
    return !portable && cpu.avx512f && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl") &&
           (!vbmi || __builtin_cpu_supports("avx512vbmi"));
#else
    (void)portable, (void)vbmi;
    return 0;
#endif
}

int fr_kernels_avx512_int8(int portable) {
    return avx512_int8(portable, 0);
}

/* The x86 forms sum a window in 16-bit lanes: at most 257 codes (AVX-512,
 * 64 with a quotient by multiply-high, more in f32), 64 (AVX2). */
fr_pool_u8_row_fn fr_kernels_select_pool_u8_row(int max, int64_t window, int portable) {
#if FR_KERNELS_X86
    if (avx512_int8(portable, 0) && (max || window <= 257)) return fr_pool_u8_row_avx512;
    if (!portable && fr_kernels_cpu_detect().avx2 && (max || window <= 64)) return fr_pool_u8_row_avx2;
#else
    (void)max, (void)window, (void)portable;
#endif
    return fr_pool_u8_row_generic;
}

fr_fq_u8_fn fr_kernels_select_fq_u8(int portable) {
#if FR_KERNELS_X86
    if (avx512_int8(portable, 0)) return fr_fq_u8_avx512;
#endif
    return fr_fq_u8_generic;
}

fr_u8_table_fn fr_kernels_select_u8_table(int portable) {
#if FR_KERNELS_X86
    if (avx512_int8(portable, 1)) return fr_u8_table_avx512vbmi;
#endif
    return fr_u8_table_generic;
}

fr_kernels_isa fr_kernels_select_isa(const fr_kernels_cpu *cpu, int portable) {
    fr_kernels_isa isa = {0, 0, 0};
#if FR_KERNELS_X86 /* elsewhere there is no x86/ code to pick */
    isa.avx2 = !portable && cpu->avx2;
    isa.avx2_fma = !portable && cpu->avx2 && cpu->fma;
    isa.avx512 = isa.avx2_fma && cpu->avx512f;
#else
    (void)cpu, (void)portable;
#endif
    return isa;
}

int fr_kernels_act_ok(fr_act act) {
    return act == FR_ACT_NONE || act == FR_ACT_RELU || act == FR_ACT_RELU6 || act == FR_ACT_LEAKY;
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
int fr_wino_pays(int m, int r, int64_t cin, int64_t cout, int64_t oh, int64_t ow) {
    int64_t tiles = ((oh + m - 1) / m) * ((ow + m - 1) / m);
    if (m == 2) return r == 3 && tiles >= 64 && cin >= 32 && cout >= 64;
    return tiles >= 16 && cin >= 32 && cout >= 32;
}

/* In place of oneDNN 2.6's AVX-512 direct kernel (`brgconv:avx512_core`),
 * the default Winograd kernels (F(2x2, 3x3), 1-D F(2, 5), F(2, 7): FP32's
 * 1e-4) in their AVX-512 forms, measured inside Inception v3 by `frost
 * tune` (Zen 5, 2 threads, batch 1 and 16, ms per image summed, against
 * brgconv; the per-layer times move by up to 8 % between runs):
 * F(2x2, 3x3) 1.4-1.5x on 71x71 80->192, 1.2-1.5x on the 35x35
 * 64/96-channel layers, 1.1-1.3x on 147x147 32->64, but 0.94x on 147x147
 * 32->32; F(2, 7) 1.05-1.2x on the 17x17 1x7 / 7x1 ones.  The 8x8 layers
 * (16 tiles) and every 1x1 and strided one stay with brgconv.  The larger
 * tiles won by more on the 35x35 and larger maps (F(4x4, 3x3) up to
 * 1.8x, F(4x4, 5x5) 1.6x on 35x35 48->64) but stay opted in (--winograd,
 * or a tuning record): their error is larger.  Hence from 64 tiles per
 * image, 32 channels in and 64 out. */
int fr_wino_pays_avx512(int64_t cin, int64_t cout, int64_t tiles) { return tiles >= 64 && cin >= 32 && cout >= 64; }

/* 1-D F(2, 7), F(4, 3), against the indirect GEMM (bench/conv_layers.py,
 * Zen 3, 2 threads): 1.2-1.4x on Inception's 17x17 1x7 / 7x1 layers at
 * batch 1 (153 tiles) and 1.3-1.5x at batch 16; 1.3-1.4x on its 8x8
 * 1x3 / 3x1 ones at batch 1 (16 tiles) and 1.6-1.7x at batch 16.  (With
 * transforms from the matrices and fixed shares of the chunks they made
 * 0.8-1.0x at batch 1.)  Per image, as fr_wino_pays. */
int fr_wino1_pays(int r, int64_t cin, int64_t cout, int64_t lines, int64_t len) {
    int m = r == 3 ? 4 : 2;
    return lines * ((len + m - 1) / m) >= 16 && cin >= 32 && cout >= 32;
}

/* Measured against oneDNN 2.6's `jit:avx2` kernels in Inception v3 and per
 * layer (bench/conv_layers.py, variants onednn and default; Zen 3, 2
 * threads, batch 1 and 16): 1.4-2.3x on its 3x3 (stride 1 and 2), 1x7,
 * 1x3 and 3x1 layers of 64 to 448 channels, 1.1-1.3x on 17x17 7x1 and
 * 147x147 32->64.  oneDNN stays ahead on 1x1 layers (its jit_1x1 kernel,
 * by 4-16 % over the network's 1x1 layers), on layers with few input
 * channels (the RGB input: 3 per tap), on 149x149 32->32 and on the 5x5 48->64 ones (by
 * 5-10 % at batch 16).  Used only where oneDNN's choice is `jit:avx2`
 * (FR_PICK_AVX2_DIRECT): its AVX-512 kernels (brgconv) run near that
 * machine's peak. */
int fr_igemm_pays(int64_t cin, int64_t cout, int kh, int kw) {
    int taps = kh * kw;
    return taps > 1 && cin >= 16 && cin * cout >= 2048 && (taps < 25 || cin >= 64);
}

/* What every convolution kernel of frost's needs: a dense NHWC layer of f32
 * activations in the arena, an activation it fuses, a residual of the
 * output's size, the weights. */
static int conv_applies(const fr_plan *plan, const fr_step *s, const fr_kernels_facts *facts) {
    const fr_conv_params *c = &s->p.conv;
    const fr_value *x = &plan->values[s->inputs[0]], *y = &plan->values[s->output];
    if (x->rank != 4 || y->rank != 4 || x->kind != FR_VALUE_ARENA || c->groups != 1 || facts->bf16 ||
        !fr_kernels_act_ok(c->act))
        return 0;
    if (c->residual >= 0 && plan->values[c->residual].count != y->count) return 0;
    return c->weights || c->weights_raw;
}

/* Winograd where it applies and pays: stride 1, no dilation; 3x3 ->
 * F(2x2, 3x3) (the default, within FP32's 1e-4) or F(4x4, 3x3) (opted in),
 * 5x5 -> F(4x4, 5x5) (opted in); 1 x r or r x 1 with r = 3 -> F(4, 3)
 * (opted in), 5 -> F(2, 5), 7 -> F(2, 7), whose weights take 8/7 and 6/5
 * of the direct ones (F(4, 3): 2x). */
enum { WINO_PAYS, WINO_PAYS_AVX512, WINO_ANY }; /* whether it pays: AVX2's rules, AVX-512's, not asked */
static fr_conv_choice wino_shape(int large, int mode, const fr_plan *plan, const fr_step *s,
                                 const fr_kernels_facts *facts) {
    const fr_conv_choice none = {FR_CONV_BACKEND, 0, 0, 0};
    const fr_conv_params *c = &s->p.conv;
    if (!conv_applies(plan, s, facts) || c->stride_h != 1 || c->stride_w != 1 || c->dil_h != 1 || c->dil_w != 1)
        return none;
    const fr_value *y = &plan->values[s->output];
    int64_t oh = y->dims[1], ow = y->dims[2];
    if (c->kh == c->kw && (c->kh == 3 || c->kh == 5)) {
        int r = c->kh, m = large ? 4 : 2;
        int64_t tiles = ((oh + m - 1) / m) * ((ow + m - 1) / m);
        if ((m == 2 && r != 3) || (mode == WINO_PAYS && !fr_wino_pays(m, r, c->cin, c->cout, oh, ow)) ||
            (mode == WINO_PAYS_AVX512 && !fr_wino_pays_avx512(c->cin, c->cout, tiles)))
            return none;
        return (fr_conv_choice){FR_CONV_WINO, m, r, 0};
    }
    if ((c->kh == 1 || c->kw == 1) && (c->kh + c->kw == 4 || c->kh + c->kw == 6 || c->kh + c->kw == 8)) {
        int axis = c->kw == 1 ? 1 : 2, r = c->kh + c->kw - 1, m = r == 3 ? 4 : 2;
        if (!large && r == 3) return none;
        int pad_off = axis == 1 ? c->pad_left + c->pad_right : c->pad_top + c->pad_bottom;
        int64_t lines = axis == 1 ? ow : oh, len = axis == 1 ? oh : ow;
        if (pad_off || (mode == WINO_PAYS && !fr_wino1_pays(r, c->cin, c->cout, lines, len)) ||
            (mode == WINO_PAYS_AVX512 && !fr_wino_pays_avx512(c->cin, c->cout, lines * ((len + m - 1) / m))))
            return none;
        return (fr_conv_choice){FR_CONV_WINO, m, r, axis};
    }
    return none;
}

static fr_conv_choice wino_choice(const fr_kernels_policy *pol, const fr_plan *plan, const fr_step *s,
                                  const fr_kernels_facts *facts) {
    return wino_shape(pol->winograd, WINO_PAYS, plan, s, facts);
}

/* The tuning record's pick for the layer, measured on this machine (so
 * whether it pays is not asked); -1 when the record has none or the pick
 * does not apply to the layer. */
static int tuned_choice(const fr_kernels_policy *pol, const fr_plan *plan, const fr_step *s,
                        const fr_kernels_facts *facts, fr_conv_choice *ch) {
    const fr_conv_choice none = {FR_CONV_BACKEND, 0, 0, 0};
    int pick = fr_tune_find(pol->tune, s->name);
    *ch = none;
    if (pick == FR_TUNE_BACKEND) return 0;
    if (pick == FR_TUNE_IGEMM && conv_applies(plan, s, facts)) *ch = (fr_conv_choice){FR_CONV_IGEMM, 0, 0, 0};
    if (pick == FR_TUNE_WINO || pick == FR_TUNE_WINO_LARGE) *ch = wino_shape(pick == FR_TUNE_WINO_LARGE, WINO_ANY, plan, s, facts);
    return ch->impl == FR_CONV_BACKEND ? -1 : 0;
}

fr_conv_choice fr_kernels_select_conv(const fr_kernels_policy *pol, const fr_plan *plan, const fr_step *step,
                                      const fr_kernels_facts *facts) {
    const fr_conv_choice none = {FR_CONV_BACKEND, 0, 0, 0};
    fr_conv_choice ch = none;
    if (step->kind != FR_STEP_CONV) return none;
    if (pol->tune && pol->own && tuned_choice(pol, plan, step, facts, &ch) == 0) return ch;
    /* --winograd: the larger tiles wherever they pay, whatever the backend
     * would run */
    if (pol->winograd) ch = wino_choice(pol, plan, step, facts);
    if (ch.impl != FR_CONV_BACKEND || facts->pick == FR_PICK_UNKNOWN) return ch;
    /* In place of the AVX2 direct kernel: by default Winograd F(2x2, 3x3),
     * F(2, 7), F(2, 5), else the indirect GEMM, where they were measured to
     * beat it; in place of the AVX-512 one, the same Winograd kernels in
     * their AVX-512 forms where they were measured to beat it; the
     * backend's other kernels stay */
    int avx2 = facts->pick == FR_PICK_AVX2_DIRECT;
    if (pol->winograd_default && !pol->winograd && avx2) ch = wino_choice(pol, plan, step, facts);
    if (pol->winograd_default && !pol->winograd && facts->pick == FR_PICK_AVX512_DIRECT && facts->avx512)
        ch = wino_shape(0, WINO_PAYS_AVX512, plan, step, facts);
    if (ch.impl != FR_CONV_BACKEND) return ch;
    const fr_conv_params *c = &step->p.conv;
    if ((pol->own == 2 || (pol->own == 1 && avx2)) && conv_applies(plan, step, facts) &&
        (pol->own == 2 || fr_igemm_pays(c->cin, c->cout, c->kh, c->kw)))
        return (fr_conv_choice){FR_CONV_IGEMM, 0, 0, 0};
    return none;
}

int fr_kernels_select_pool(const fr_kernels_policy *pol, const fr_plan *plan, const fr_step *step,
                           const fr_kernels_facts *facts) {
    if (step->kind != FR_STEP_POOL || !pol->own || facts->bf16) return 0;
    const fr_pool_params *p = &step->p.pool;
    const fr_value *x = &plan->values[step->inputs[0]], *y = &plan->values[step->output];
    if (x->rank != 4 || x->kind != FR_VALUE_ARENA || !fr_kernels_act_ok(p->act)) return 0;
    if (p->kh < 1 || p->kw < 1 || p->stride_h < 1 || p->stride_w < 1 || p->pad_top < 0 || p->pad_bottom < 0 ||
        p->pad_left < 0 || p->pad_right < 0)
        return 0;
    int64_t oh = (x->dims[1] + p->pad_top + p->pad_bottom - p->kh) / p->stride_h + 1;
    int64_t ow = (x->dims[2] + p->pad_left + p->pad_right - p->kw) / p->stride_w + 1;
    return oh >= 1 && ow >= 1 && (size_t)(x->dims[0] * oh * ow * x->dims[3]) == y->count;
}

/* Measured inside Inception v3 int8 (`frost classify --precision int8
 * --profiling`, Zen 5, 2 threads, batch 1), against oneDNN 2.6's
 * `jit_int:avx512_core` pooling: the max pools 1.2-3x faster (147x147x64
 * 3x3/2: 0.055-0.075 ms against 0.161), the average pools together 0.30-0.34
 * ms an image against 0.47-0.48 (three interleaved pairs of runs; divided
 * by a multiply-high in 16-bit lanes: with the quotients in f32 they had
 * been slower).  The AVX2 form against `jit_int:avx2`, on the same machine
 * capped at AVX2 (ONEDNN_MAX_CPU_ISA=AVX2; no AVX2-only machine at hand):
 * all pools 0.48-0.58 ms an image against 0.55-0.84 (three pairs).  So
 * wherever an x86 form runs the layer (fr_kernels_select_pool_u8_row); the
 * portable form only when forced (own == 2: tests). */
int fr_kernels_select_pool_u8(const fr_kernels_policy *pol, const fr_plan *plan, const fr_step *step,
                              const fr_kernels_facts *facts) {
    const fr_pool_params *p = &step->p.pool;
    if (!fr_kernels_select_pool(pol, plan, step, facts) || p->bias || p->act != FR_ACT_NONE) return 0;
    return pol->own == 2 || fr_kernels_select_pool_u8_row(p->op == FR_POOL_MAX, (int64_t)p->kh * p->kw,
                                                          pol->portable) != fr_pool_u8_row_generic;
}
