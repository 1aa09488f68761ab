/* Queries on a built plan. */
#include <stdint.h>
#include <stdlib.h>

#include "graph/plan.h"

typedef struct {
    size_t off, end;
} span;

static int span_cmp(const void *a, const void *b) {
    const span *x = a, *y = b;
    return x->off < y->off ? -1 : x->off > y->off;
}

size_t fr_plan_arena_gap(const fr_plan *p, int step, size_t bytes) {
    if (!p || step < 0 || step >= p->n_steps || !bytes) return SIZE_MAX;
    int n = p->n_values;
    int *first = malloc(sizeof(int) * (size_t)(n + 1)), *last = malloc(sizeof(int) * (size_t)(n + 1));
    span *live = malloc(sizeof(span) * (size_t)(n + 1));
    size_t best = SIZE_MAX;
    if (!first || !last || !live) goto done;
    /* lifetimes as the arena was planned: from the writing step (the
     * inputs: before the first) to the last reader (the outputs: after the last) */
    for (int v = 0; v < n; v++) first[v] = p->n_steps, last[v] = -1;
    for (int i = 0; i < p->n_inputs; i++) first[p->inputs[i]] = -1;
    for (int i = 0; i < p->n_steps; i++) {
        const fr_step *s = &p->steps[i];
        for (int k = 0; k < s->n_inputs; k++)
            if (last[s->inputs[k]] < i) last[s->inputs[k]] = i;
        int res = fr_step_residual(s);
        if (res >= 0 && last[res] < i) last[res] = i;
        if (first[s->output] > i) first[s->output] = i;
        if (last[s->output] < i) last[s->output] = i;
    }
    for (int i = 0; i < p->n_outputs; i++) last[p->outputs[i]] = p->n_steps;
    int nl = 0;
    for (int v = 0; v < n; v++) {
        const fr_value *x = &p->values[v];
        if (x->kind != FR_VALUE_ARENA || first[v] > step || last[v] < step) continue;
        size_t size = (x->count * sizeof(float) + FR_ARENA_ALIGN - 1) & ~(size_t)(FR_ARENA_ALIGN - 1);
        live[nl++] = (span){x->offset, x->offset + (size ? size : FR_ARENA_ALIGN)};
    }
    qsort(live, (size_t)nl, sizeof(span), span_cmp);
    /* the smallest gap between them (or after them, inside the arena) that fits */
    size_t prev = 0, best_gap = SIZE_MAX;
    for (int j = 0; j <= nl; j++) {
        size_t end = j < nl ? live[j].off : p->arena_bytes;
        if (end > prev && end - prev >= bytes && end - prev < best_gap) best_gap = end - prev, best = prev;
        if (j < nl && live[j].end > prev) prev = live[j].end;
    }
done:
    free(first);
    free(last);
    free(live);
    return best;
}
