/* Reference FakeQuant: TensorFlow's forward functors of FakeQuantWithMinMaxArgs,
 * FakeQuantWithMinMaxVars and FakeQuantWithMinMaxVarsPerChannel
 * (tensorflow/core/kernels/fake_quant_ops_functor.h), operation for operation
 * in float, on the nudged ranges the compiler resolved (FR_STEP_FAKE_QUANT). */
#include "backend/reference/reference.h"

/* Each operation rounds on its own, as TensorFlow's do. */
#ifdef __clang__ /* GCC contracts nothing in ISO C mode (-std=c11) */
#pragma STDC FP_CONTRACT OFF
#endif

static inline float fake_quant(float x, const fr_fq_range *r, int divide) {
    if (r->scale == 0.0f) return 0.0f; /* min == max == 0 */
    /* Eigen's cwiseMin(nudged_max).cwiseMax(nudged_min): a NaN stays NaN */
    float c = r->nudged_max < x ? r->nudged_max : x;
    c = c < r->nudged_min ? r->nudged_min : c;
    float shifted = c - r->nudged_min;
    float q = divide ? shifted / r->scale : shifted * r->inv_scale;
    q = q - r->quant_zero;
    q = q + 0.5f;
    return floorf(q) * r->scale;
}

static void fake_quant_n(const fr_fake_quant_params *p, const float *x, float *o, size_t n) {
    size_t C = p->channels > 0 ? (size_t)p->channels : 1;
    for (size_t i = 0; i < n; i++) {
        float v = x[i];
        if (p->clip) {
            v = p->clip_max < v ? p->clip_max : v;
            v = v < p->clip_min ? p->clip_min : v;
        }
        o[i] = fake_quant(v, &p->ranges[C == 1 ? 0 : i % C], p->divide);
    }
}

void fr_kernel_fake_quant(const fr_plan *plan, const fr_step *s, void *arena) {
    const fr_value *ov = &plan->values[s->output];
    fake_quant_n(&s->p.fake_quant, fr_value_ptr(plan, arena, s->inputs[0]), fr_value_ptr(plan, arena, s->output),
                 ov->count);
}

void fr_fake_quant_apply(const fr_fake_quant_params *p, float *o, size_t n) {
    if (p) fake_quant_n(p, o, o, n);
}
