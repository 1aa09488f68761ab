/* Max and average pooling over NHWC: frost's own kernel.
 *
 * oneDNN 2.6's pooling reads NHWC one channel block at a time per window
 * position and ran 5-10x below memory speed here (Inception v3's
 * 147x147x64 max pool: 1.8 ms on one Zen 3 core); this kernel takes eight
 * channels per vector across the whole window instead (the row:
 * x86/pool_avx2.c, generic/pool.c).  TensorFlow's semantics: padding never
 * wins a max and is not counted by an average.  The epilogue
 * y = act(pool(x) + bias) serves a 1x1 convolution's bias and activation
 * moved behind an average pool (compile.c).  The threads take fixed shares
 * of the output rows.
 */
#include <stdlib.h>

#include "kernels/kernels.h"
#include "kernels/ukernels.h"

struct fr_pool_nhwc {
    fr_pool_geom k;
    fr_pool_row_fn row; /* fr_pool_row_avx2 or fr_pool_row_generic */
    int threads;
};

typedef struct {
    const fr_pool_nhwc *p;
    const float *x;
    float *y;
} pool_job;

static void pool_thread(void *arg, int ithr, int team) {
    const pool_job *j = arg;
    const fr_pool_geom *k = &j->p->k;
    int64_t rows = k->n * k->oh, r0 = rows * ithr / team, r1 = rows * (ithr + 1) / team;
    for (int64_t r = r0; r < r1; r++) {
        int64_t n = r / k->oh;
        j->p->row(k, j->x + n * k->h * k->w * k->c, j->y + n * k->oh * k->ow * k->c, r % k->oh);
    }
}

void fr_pool_nhwc_run(const fr_pool_nhwc *p, const fr_team *team, const float *x, float *y) {
    pool_job j = {p, x, y};
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
