/* oneDNN backend, bf16 precision: which values are stored as bf16.
 *
 * A value is bf16 when a oneDNN step writes it and only oneDNN steps read it;
 * model inputs and outputs, and anything a reference kernel touches, stay f32
 * (the backend contract).  bf16 values live at their f32 arena offset (they
 * need half the bytes).  Convolutions and inner products with an f32 input
 * convert it into a temporary first.
 */
#include <stdlib.h>

#include "backend/onednn/internal.h"

static int produces_bf16(fr_step_kind k) {
    switch (k) {
    case FR_STEP_CONV:
    case FR_STEP_MATMUL:
    case FR_STEP_POOL:
    case FR_STEP_CONCAT:
    case FR_STEP_BINARY:
    case FR_STEP_REDUCE: return 1;
    default: return 0;
    }
}

frost_status fr_dn_assign_bf16(fr_dn_state *st, char **error) {
    const fr_plan *p = st->plan;
    (void)error;
    if (dnnl_get_effective_cpu_isa() < dnnl_cpu_isa_avx512_core_bf16) return FROST_OK; /* stays FP32 */
    st->value_dt = malloc(sizeof(*st->value_dt) * (size_t)(p->n_values > 0 ? p->n_values : 1));
    if (!st->value_dt) return FROST_E_NO_MEMORY;
    for (int i = 0; i < p->n_values; i++) st->value_dt[i] = dnnl_f32;
    for (int i = 0; i < p->n_steps; i++)
        if (produces_bf16(p->steps[i].kind)) st->value_dt[p->steps[i].output] = dnnl_bf16;
    for (int i = 0; i < p->n_inputs; i++) st->value_dt[p->inputs[i]] = dnnl_f32;
    for (int i = 0; i < p->n_outputs; i++) st->value_dt[p->outputs[i]] = dnnl_f32;
    for (int i = 0; i < p->n_values; i++)
        if (p->values[i].kind != FR_VALUE_ARENA) st->value_dt[i] = dnnl_f32;
    return FROST_OK;
}

static int to_f32(fr_dn_state *st, int id) {
    if (id < 0 || st->value_dt[id] == dnnl_f32) return 0;
    st->value_dt[id] = dnnl_f32;
    return 1;
}

int fr_dn_fix_bf16(fr_dn_state *st) {
    if (!st->value_dt) return 0;
    const fr_plan *p = st->plan;
    int changed = 0;
    for (int i = 0; i < p->n_steps; i++) {
        if (st->steps[i].n_execs > 0) continue;
        const fr_step *s = &p->steps[i];
        for (int j = 0; j < s->n_inputs; j++) changed += to_f32(st, s->inputs[j]);
        if (s->kind == FR_STEP_CONV) changed += to_f32(st, s->p.conv.residual);
        if (s->kind == FR_STEP_MATMUL) changed += to_f32(st, s->p.matmul.residual);
        changed += to_f32(st, s->output);
    }
    return changed;
}
