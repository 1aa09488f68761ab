/* Reference Softmax over the last axis. */
#include <math.h>

#include "backend/reference/reference.h"

void fr_kernel_softmax(const fr_plan *plan, const fr_step *s, void *arena) {
    const fr_value *ov = &plan->values[s->output];
    const float *x = fr_value_ptr(plan, arena, s->inputs[0]);
    float *o = fr_value_ptr(plan, arena, s->output);
    size_t C = ov->rank ? (size_t)ov->dims[ov->rank - 1] : 1;
    if (!C) return;
    for (size_t base = 0; base < ov->count; base += C) {
        float m = x[base];
        for (size_t c = 1; c < C; c++)
            if (x[base + c] > m) m = x[base + c];
        float sum = 0;
        for (size_t c = 0; c < C; c++) sum += (o[base + c] = expf(x[base + c] - m));
        for (size_t c = 0; c < C; c++) o[base + c] /= sum;
    }
}
