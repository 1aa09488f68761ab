/* Queries on a built plan. */
#include <stdint.h>
#include <stdlib.h>

#include "graph/memplan.h"
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
    fr_value_lifetimes(p, first, last); /* as the arena was planned */
    int nl = 0;
    for (int v = 0; v < n; v++) {
        const fr_value *x = &p->values[v];
        if (x->kind != FR_VALUE_ARENA || first[v] > step || last[v] < step) continue;
        live[nl++] = (span){x->offset, x->offset + fr_value_arena_bytes(x)};
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
