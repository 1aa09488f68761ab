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
 */
#include <stdatomic.h>
#include <stdlib.h>

#include "kernels/kernels.h"
#include "kernels/ukernels.h"

struct fr_pool_nhwc {
    fr_pool_geom k;
    fr_pool_row_fn row; /* fr_pool_row_avx2 or fr_pool_row_generic */
    int threads;
};

enum { POOL_UNITS = 8 };

typedef struct {
    const fr_pool_nhwc *p;
    const float *x;
    float *y;
    int64_t units;     /* runs of rows */
    atomic_llong next; /* the next run to take */
} pool_job;

static void pool_thread(void *arg, int ithr, int team) {
    pool_job *j = arg;
    const fr_pool_geom *k = &j->p->k;
    int64_t rows = k->n * k->oh;
    (void)ithr, (void)team;
    for (;;) {
        int64_t u = atomic_fetch_add_explicit(&j->next, 1, memory_order_relaxed);
        if (u >= j->units) break;
        for (int64_t r = rows * u / j->units, r1 = rows * (u + 1) / j->units; r < r1; r++) {
            int64_t n = r / k->oh;
            j->p->row(k, j->x + n * k->h * k->w * k->c, j->y + n * k->oh * k->ow * k->c, r % k->oh);
        }
    }
}

void fr_pool_nhwc_run(const fr_pool_nhwc *p, const fr_team *team, const float *x, float *y) {
    int64_t rows = p->k.n * p->k.oh, units = p->threads > 1 ? (int64_t)POOL_UNITS * p->threads : 1;
    pool_job j = {p, x, y, units < rows ? units : rows, 0};
    fr_team_run(team, p->threads, pool_thread, &j);
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
#if FR_KERNELS_X86
    if (isa.avx2) p->row = fr_pool_row_avx2;
#endif
    p->threads = threads < 1 ? 1 : threads;
    *out = p;
    return FROST_OK;
}

const char *fr_pool_nhwc_name(const fr_pool_nhwc *p) {
    return p->k.max ? "frost:maxpool_nhwc" : "frost:avgpool_nhwc";
}

void fr_pool_nhwc_free(fr_pool_nhwc *p) {
    free(p);
}
