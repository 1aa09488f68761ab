/* Reference data movement: copy, concat, pad, transpose, slice. */
#include <string.h>

#include "backend/reference/reference.h"

void fr_kernel_copy(const fr_plan *plan, const fr_step *s, void *arena) {
    const fr_value *ov = &plan->values[s->output];
    memcpy(fr_value_ptr(plan, arena, s->output), fr_value_ptr(plan, arena, s->inputs[0]), ov->count * sizeof(float));
}

void fr_kernel_concat(const fr_plan *plan, const fr_step *s, void *arena) {
    const fr_value *ov = &plan->values[s->output];
    float *o = fr_value_ptr(plan, arena, s->output);
    size_t outer = 1;
    for (int i = 0; i < s->p.concat.axis; i++) outer *= (size_t)ov->dims[i];
    if (!outer) return;
    size_t pos = 0;
    for (size_t k = 0; k < outer; k++)
        for (int j = 0; j < s->n_inputs; j++) {
            const fr_value *iv = &plan->values[s->inputs[j]];
            size_t chunk = iv->count / outer;
            memcpy(o + pos, fr_value_ptr(plan, arena, s->inputs[j]) + k * chunk, chunk * sizeof(float));
            pos += chunk;
        }
    fr_fake_quant_apply(s->p.concat.out_quant, o, ov->count);
}

/* Iterates the rows (last dim) of a strided view: shared by pad / transpose / slice. */
void fr_kernel_pad(const fr_plan *plan, const fr_step *s, void *arena) {
    const fr_value *xv = &plan->values[s->inputs[0]], *ov = &plan->values[s->output];
    const float *x = fr_value_ptr(plan, arena, s->inputs[0]);
    float *o = fr_value_ptr(plan, arena, s->output);
    for (size_t i = 0; i < ov->count; i++) o[i] = s->p.pad.value;
    int r = xv->rank;
    if (!xv->count) return;
    if (r == 0) {
        o[0] = x[0];
        return;
    }
    size_t ostr[FROST_MAX_RANK], m = 1;
    for (int i = r - 1; i >= 0; i--) ostr[i] = m, m *= (size_t)ov->dims[i];
    size_t row = (size_t)xv->dims[r - 1];
    int64_t idx[FROST_MAX_RANK] = {0};
    for (size_t base = 0; base < xv->count; base += row) {
        size_t off = 0;
        for (int i = 0; i < r; i++) off += (size_t)(idx[i] + s->p.pad.before[i]) * ostr[i];
        memcpy(o + off, x + base, row * sizeof(float));
        for (int d = r - 2; d >= 0; d--) {
            if (++idx[d] < xv->dims[d]) break;
            idx[d] = 0;
        }
    }
}

void fr_kernel_transpose(const fr_plan *plan, const fr_step *s, void *arena) {
    const fr_value *xv = &plan->values[s->inputs[0]], *ov = &plan->values[s->output];
    const float *x = fr_value_ptr(plan, arena, s->inputs[0]);
    float *o = fr_value_ptr(plan, arena, s->output);
    int r = ov->rank;
    int64_t istr[FROST_MAX_RANK], m = 1, st[FROST_MAX_RANK];
    for (int i = r - 1; i >= 0; i--) istr[i] = m, m *= xv->dims[i];
    for (int i = 0; i < r; i++) st[i] = istr[s->p.transpose.perm[i]];
    int64_t idx[FROST_MAX_RANK] = {0}, off = 0;
    for (size_t k = 0; k < ov->count; k++) {
        o[k] = x[off];
        fr_ref_advance(r, ov->dims, st, idx, &off);
    }
}

void fr_kernel_slice(const fr_plan *plan, const fr_step *s, void *arena) {
    const fr_value *xv = &plan->values[s->inputs[0]], *ov = &plan->values[s->output];
    const float *x = fr_value_ptr(plan, arena, s->inputs[0]);
    float *o = fr_value_ptr(plan, arena, s->output);
    int r = xv->rank;
    if (!ov->count) return;
    int64_t istr[FROST_MAX_RANK], m = 1, st[FROST_MAX_RANK], start = 0;
    for (int i = r - 1; i >= 0; i--) istr[i] = m, m *= xv->dims[i];
    for (int i = 0; i < r; i++) st[i] = istr[i] * s->p.slice.stride[i], start += s->p.slice.begin[i] * istr[i];
    int64_t idx[FROST_MAX_RANK] = {0}, off = start;
    for (size_t k = 0; k < ov->count; k++) {
        o[k] = x[off];
        fr_ref_advance(r, s->p.slice.size, st, idx, &off);
    }
}
