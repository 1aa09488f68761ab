/* The activation arena's planner (memplan.h). */
#include "graph/memplan.h"

#include <stdlib.h>
#include <string.h>

void fr_value_lifetimes(const fr_plan *p, int *first, int *last) {
    for (int v = 0; v < p->n_values; v++) first[v] = p->n_steps, last[v] = -1;
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
}

/* greedy best fit over lifetimes (memplan.h, Strategy) */
frost_status fr_memplan_place(fr_mem_block *blocks, int n, size_t cap, size_t *arena_bytes, int *failed) {
    typedef struct {
        size_t off, size;
        int last;
    } live_block;
    live_block *live = malloc(sizeof *live * (size_t)(n + 1));
    *arena_bytes = 0;
    *failed = -1;
    if (!live) return FROST_E_NO_MEMORY;
    int nl = 0;
    size_t arena = 0;
    for (int k = 0; k < n; k++) {
        fr_mem_block *blk = &blocks[k];
        int def = blk->first;
        int m = 0;
        for (int j = 0; j < nl; j++)
            if (live[j].last >= def && live[j].last >= 0) live[m++] = live[j];
        nl = m;
        size_t size = blk->bytes, best_off = (size_t)-1, best_gap = (size_t)-1, prev_end = 0;
        int best_pos = nl;
        for (int j = 0; j < nl; j++) {
            size_t gap = live[j].off - prev_end;
            if (gap >= size && gap < best_gap) best_gap = gap, best_off = prev_end, best_pos = j;
            prev_end = live[j].off + live[j].size;
        }
        if (best_gap == (size_t)-1) best_off = prev_end, best_pos = nl;
        if (size > cap || best_off > cap - size) {
            free(live);
            *failed = k;
            return FROST_E_LIMIT;
        }
        blk->offset = best_off;
        memmove(&live[best_pos + 1], &live[best_pos], sizeof *live * (size_t)(nl - best_pos));
        live[best_pos] = (live_block){best_off, size, blk->last < def ? def : blk->last};
        nl++;
        if (best_off + size > arena) arena = best_off + size;
    }
    free(live);
    *arena_bytes = arena;
    return FROST_OK;
}

frost_status fr_memplan_arena(const fr_plan *p, size_t cap, size_t *offsets, size_t *arena_bytes,
                              int *failed_value) {
    int nv = p->n_values, nb = 0, failed = -1;
    int *first = malloc(sizeof(int) * (size_t)(nv + 1)), *last = malloc(sizeof(int) * (size_t)(nv + 1));
    int *ids = malloc(sizeof(int) * (size_t)(p->n_inputs + p->n_steps + 1));
    fr_mem_block *blocks = malloc(sizeof *blocks * (size_t)(p->n_inputs + p->n_steps + 1));
    frost_status st = FROST_E_NO_MEMORY;
    *failed_value = -1;
    if (!first || !last || !ids || !blocks) goto done;
    fr_value_lifetimes(p, first, last);
    for (int k = 0; k < p->n_inputs + p->n_steps; k++) {
        int v = k < p->n_inputs ? p->inputs[k] : p->steps[k - p->n_inputs].output, dup = 0;
        if (k < p->n_inputs)
            for (int j = 0; j < k; j++) dup |= p->inputs[j] == v;
        if (p->values[v].kind != FR_VALUE_ARENA || dup) continue;
        ids[nb] = v;
        blocks[nb++] = (fr_mem_block){fr_value_arena_bytes(&p->values[v]), first[v], last[v], 0};
    }
    st = fr_memplan_place(blocks, nb, cap, arena_bytes, &failed);
    if (st == FROST_E_LIMIT) *failed_value = ids[failed];
    if (st != FROST_OK) goto done;
    for (int v = 0; v < nv; v++) offsets[v] = 0;
    for (int k = 0; k < nb; k++) offsets[ids[k]] = blocks[k].offset;
    if (!*arena_bytes) *arena_bytes = FR_ARENA_ALIGN;
done:
    free(first), free(last), free(ids), free(blocks);
    return st;
}
