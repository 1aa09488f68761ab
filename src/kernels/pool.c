/* Max and average pooling over NHWC: frost's own kernel.
 *
 * oneDNN 2.6's pooling reads NHWC one channel block at a time per window
 * position and ran 5-10x below memory speed here (Inception v3's
 * 147x147x64 max pool: 1.8 ms on one Zen 3 core); this kernel takes eight
 * channels per vector across the whole window instead (the row:
 * x86/pool_avx2.c, generic/pool.c).  TensorFlow's semantics: padding never
 * wins a max and is not counted by an average.  The epilogue
 * y = act(pool(x) + bias) serves a 1x1 convolution's bias and activation
 * moved behind an average pool (compile.c).  The threads take runs of
 * output rows from a shared counter as they finish the previous one (about
 * POOL_UNITS runs per thread): a thread the machine holds back leaves its
 * rows to the others instead of holding up the step.  Each row is computed
 * by one thread, so the results do not depend on who takes it.
 *
 * The same driver runs the pooling of u8 codes (int8 precision,
 * fr_pool_u8_create): x86/pool_u8_avx512.c (AVX-512BW, 64 channels a
 * vector), x86/pool_u8_avx2.c (32), generic/pool_u8.c; a max, or the average rounded half up onto
 * the codes' grid (ukernels.h).
 */
#include <stdatomic.h>
#include <stdlib.h>

#include "kernels/kernels.h"
#include "kernels/ukernels.h"

struct fr_pool_nhwc {
    fr_pool_geom k;
    fr_pool_row_fn row;       /* f32: fr_pool_row_avx2 or fr_pool_row_generic */
    fr_pool_u8_row_fn row_u8; /* u8 codes: fr_pool_u8_row_avx512 or fr_pool_u8_row_generic; NULL for f32 */
    int threads;
};

enum { POOL_UNITS = 8 };

typedef struct {
    const fr_pool_nhwc *p;
    const void *x; /* f32 values, or u8 codes where p->row_u8 */
    void *y;
    int64_t units;     /* runs of rows */
    atomic_llong next; /* the next run to take */
} pool_job;

static void pool_thread(void *arg, int ithr, int team) {
    pool_job *j = arg;
    const fr_pool_geom *k = &j->p->k;
    int64_t rows = k->n * k->oh;
    size_t size = j->p->row_u8 ? 1 : sizeof(float); /* bytes an element */
    (void)ithr, (void)team;
    for (;;) {
        int64_t u = atomic_fetch_add_explicit(&j->next, 1, memory_order_relaxed);
        if (u >= j->units) break;
        for (int64_t r = rows * u / j->units, r1 = rows * (u + 1) / j->units; r < r1; r++) {
            size_t n = (size_t)(r / k->oh), xo = n * (size_t)(k->h * k->w * k->c) * size,
                   yo = n * (size_t)(k->oh * k->ow * k->c) * size;
            const char *x = (const char *)j->x + xo;
            char *y = (char *)j->y + yo;
            if (j->p->row_u8)
                j->p->row_u8(k, (const uint8_t *)x, (uint8_t *)y, r % k->oh);
            else
                j->p->row(k, (const float *)(const void *)x, (float *)(void *)y, r % k->oh);
        }
    }
}

static void pool_run(const fr_pool_nhwc *p, const fr_team *team, const void *x, void *y) {
    int64_t rows = p->k.n * p->k.oh, units = p->threads > 1 ? (int64_t)POOL_UNITS * p->threads : 1;
    pool_job j = {p, x, y, units < rows ? units : rows, 0};
    fr_team_run(team, p->threads, pool_thread, &j);
}

void fr_pool_nhwc_run(const fr_pool_nhwc *p, const fr_team *team, const float *x, float *y) {
    pool_run(p, team, x, y);
}

frost_status fr_pool_nhwc_create(const fr_plan *plan, const fr_step *step, fr_kernels_isa isa, int threads,
                                 fr_pool_nhwc **out) {
    const fr_pool_params *pp = &step->p.pool;
    const fr_value *x = &plan->values[step->inputs[0]];
    int64_t n = x->dims[0], h = x->dims[1], w = x->dims[2], c = x->dims[3];
    int64_t oh = (h + pp->pad_top + pp->pad_bottom - pp->kh) / pp->stride_h + 1;
    int64_t ow = (w + pp->pad_left + pp->pad_right - pp->kw) / pp->stride_w + 1;
    fr_pool_nhwc *p = malloc(sizeof(*p));
    *out = NULL;
    if (!p) return FROST_E_NO_MEMORY;
    p->k = (fr_pool_geom){n, h, w, c, oh, ow, pp->kh, pp->kw, pp->stride_h, pp->stride_w, pp->pad_top,
                          pp->pad_left, pp->op == FR_POOL_MAX, pp->bias, pp->act, pp->alpha};
    p->row = fr_pool_row_generic;
    p->row_u8 = NULL;
#if FR_KERNELS_X86
    if (isa.avx2) p->row = fr_pool_row_avx2;
#endif
    p->threads = threads < 1 ? 1 : threads;
    *out = p;
    return FROST_OK;
}

frost_status fr_pool_u8_create(const fr_plan *plan, const fr_step *step, int portable, int threads,
                               fr_pool_nhwc **out) {
    fr_kernels_isa none = {0, 0, 0};
    frost_status st = fr_pool_nhwc_create(plan, step, none, threads, out);
    if (st != FROST_OK) return st;
    fr_pool_nhwc *p = *out;
    p->k.bias = NULL, p->k.act = FR_ACT_NONE;
    p->row_u8 = fr_kernels_select_pool_u8_row(p->k.max, (int64_t)p->k.kh * p->k.kw, portable);
    return FROST_OK;
}

void fr_pool_u8_run(const fr_pool_nhwc *p, const fr_team *team, const uint8_t *x, uint8_t *y) {
    pool_run(p, team, x, y);
}

const char *fr_pool_nhwc_name(const fr_pool_nhwc *p) {
    if (p->row_u8) return p->k.max ? "frost:int8:maxpool" : "frost:int8:avgpool";
    return p->k.max ? "frost:maxpool_nhwc" : "frost:avgpool_nhwc";
}

void fr_pool_nhwc_free(fr_pool_nhwc *p) {
    free(p);
}
