/* frost_context: per-thread arenas (one per batch size used) and the run loop. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "backend/reference/reference.h"
#include "feed/feed.h"
#include "graph/pages.h"
#include "runtime/runtime.h"

typedef struct fr_ctx_batch {
    const fr_batch_plan *bp;
    void *arena;
    size_t arena_map; /* fr_pages_alloc's length, 0 for a heap block */
    void *run_state;
    frost_op_profile *prof;
} fr_ctx_batch;

struct frost_context {
    const frost_model *m;
    fr_ctx_batch **entries; /* [max_batch + 1] */
    int last_batch;
    char error[1024];
    /* string inputs (src/feed/feed.h): the strings bound for the next run,
     * per model input, and the boundaries they decode to */
    const frost_string **strings;
    int *n_strings;
    float **stage;
    size_t *stage_cap;
};

static void set_error(frost_context *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void set_error(frost_context *c, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->error, sizeof c->error, fmt, ap);
    va_end(ap);
}

static void entry_free(fr_ctx_batch *e) {
    if (!e) return;
    if (e->run_state && e->bp->be) e->bp->be->unbind(e->run_state);
    fr_pages_free(e->arena, e->arena_map);
    free(e->prof);
    free(e);
}

frost_status frost_context_create(const frost_model *m, frost_context **out, char **err) {
    if (err) *err = NULL;
    if (!out) return FROST_E_INVALID_ARGUMENT;
    *out = NULL;
    if (!m) {
        fr_errorf(err, "frost_context_create: model is NULL");
        return FROST_E_INVALID_ARGUMENT;
    }
    frost_context *c = calloc(1, sizeof *c);
    if (!c) return FROST_E_NO_MEMORY;
    c->m = m;
    c->entries = calloc((size_t)m->max_batch + 1, sizeof *c->entries);
    if (m->feed) {
        c->strings = calloc((size_t)m->io.n_inputs + 1, sizeof *c->strings);
        c->n_strings = calloc((size_t)m->io.n_inputs + 1, sizeof *c->n_strings);
        c->stage = calloc((size_t)m->feed->n_bound + 1, sizeof *c->stage);
        c->stage_cap = calloc((size_t)m->feed->n_bound + 1, sizeof *c->stage_cap);
    }
    if (!c->entries || (m->feed && (!c->strings || !c->n_strings || !c->stage || !c->stage_cap))) {
        frost_context_free(c);
        return FROST_E_NO_MEMORY;
    }
    *out = c;
    return FROST_OK;
}

void frost_context_free(frost_context *c) {
    if (!c) return;
    for (int i = 0; c->entries && i <= c->m->max_batch; i++) entry_free(c->entries[i]);
    for (int k = 0; c->stage && k < c->m->feed->n_bound; k++) free(c->stage[k]);
    free(c->entries);
    free(c->strings);
    free(c->n_strings);
    free(c->stage);
    free(c->stage_cap);
    free(c);
}

const char *frost_context_error(const frost_context *c) { return c ? c->error : ""; }

size_t frost_context_arena_bytes(const frost_context *c) {
    size_t bytes = 0;
    if (!c) return 0;
    for (int i = 0; i <= c->m->max_batch; i++)
        if (c->entries[i])
            bytes += (c->entries[i]->bp->c->plan.arena_bytes + FR_ARENA_ALIGN - 1) / FR_ARENA_ALIGN * FR_ARENA_ALIGN;
    return bytes;
}

static frost_status get_entry(frost_context *c, int batch, fr_ctx_batch **out) {
    fr_ctx_batch *e = c->entries[batch];
    if (e) {
        *out = e;
        return FROST_OK;
    }
    const fr_batch_plan *bp;
    char *err = NULL;
    frost_status st = fr_model_plan(c->m, batch, &bp, &err);
    if (st != FROST_OK) {
        set_error(c, "%s", err ? err : frost_strerror(st));
        free(err);
        return st;
    }
    const fr_plan *p = &bp->c->plan;
    e = calloc(1, sizeof *e);
    if (!e) goto oom;
    e->bp = bp;
    size_t bytes = (p->arena_bytes + FR_ARENA_ALIGN - 1) / FR_ARENA_ALIGN * FR_ARENA_ALIGN;
    /* zeroed, its pages faulted in now: the run path takes no page faults */
    e->arena = fr_pages_alloc(bytes, FR_PAGES_ZERO | FR_PAGES_POPULATE, &e->arena_map);
    if (!e->arena) goto oom;
    if (c->m->profiling) {
        e->prof = calloc((size_t)p->n_steps + 1, sizeof *e->prof);
        if (!e->prof) goto oom;
        for (int i = 0; i < p->n_steps; i++) {
            const fr_step *s = &p->steps[i];
            e->prof[i].name = s->name;
            e->prof[i].op = s->label;
            e->prof[i].flops = s->flops;
            const char *k = "reference";
            if (bp->claimed[i]) k = bp->be->kernel_name ? bp->be->kernel_name(bp->be_state, i) : bp->be->name;
            e->prof[i].kernel = k ? k : bp->be->name;
        }
    }
    st = bp->be->bind(bp->be_state, p, e->arena, &e->run_state, &err);
    if (st != FROST_OK) {
        set_error(c, "backend %s: %s", bp->be->name, err ? err : frost_strerror(st));
        free(err);
        entry_free(e);
        return st;
    }
    c->entries[batch] = e;
    *out = e;
    return FROST_OK;
oom:
    entry_free(e);
    set_error(c, "out of memory");
    return FROST_E_NO_MEMORY;
}

frost_status frost_context_reserve(frost_context *c, int batch) {
    if (!c) return FROST_E_INVALID_ARGUMENT;
    c->error[0] = 0;
    if (batch < 1 || batch > c->m->max_batch) {
        set_error(c, "batch size %d is outside 1..%d", batch, c->m->max_batch);
        return FROST_E_LIMIT;
    }
    /* the pass size and the last pass's, as frost_context_run splits */
    int pass = c->m->micro > 0 && batch > c->m->micro ? c->m->micro : batch;
    fr_ctx_batch *e;
    frost_status st = get_entry(c, pass, &e);
    if (st == FROST_OK && batch % pass) st = get_entry(c, batch % pass, &e);
    return st;
}

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static frost_status run_pass(frost_context *c, int batch, const float *const *inputs, float *const *outputs,
                             size_t first);

static int is_string_input(const frost_model *m, int i) { return frost_model_input_dtype(m, i) == FROST_DTYPE_STRING; }

frost_status frost_context_set_string_input(frost_context *c, int index, const frost_string *strings, int count) {
    if (!c) return FROST_E_INVALID_ARGUMENT;
    c->error[0] = 0;
    if (index < 0 || index >= c->m->io.n_inputs || !is_string_input(c->m, index)) {
        set_error(c, "input %d is not a string input of the model", index);
        return FROST_E_INVALID_ARGUMENT;
    }
    if (!strings || count < 1 || count > c->m->max_batch) {
        set_error(c, "string input '%s': %s (count %d, max batch %d)", c->m->io.in_names[index],
                  strings ? "count outside 1..max batch" : "strings is NULL", count, c->m->max_batch);
        return FROST_E_INVALID_ARGUMENT;
    }
    c->strings[index] = strings;
    c->n_strings[index] = count;
    return FROST_OK;
}

/* The boundaries of the string inputs bound for a run of `batch` items,
 * decoded into c->stage; the bindings are dropped. */
static frost_status run_feed(frost_context *c, int batch) {
    const frost_model *m = c->m;
    const fr_feed *f = m->feed;
    frost_status st = FROST_OK;
    for (int i = 0; i < m->io.n_inputs && st == FROST_OK; i++)
        if (is_string_input(m, i) && c->n_strings[i] != batch) {
            set_error(c, "string input '%s': %d strings bound for a run of %d items (frost_context_set_string_input)",
                      m->io.in_names[i], c->n_strings[i], batch);
            st = FROST_E_INVALID_ARGUMENT;
        }
    for (int k = 0; k < f->n_bound && st == FROST_OK; k++) {
        size_t need = (size_t)batch * f->bound_size[k];
        if (need <= c->stage_cap[k]) continue;
        free(c->stage[k]);
        c->stage_cap[k] = 0;
        if (!(c->stage[k] = malloc(need * sizeof(float)))) {
            set_error(c, "out of memory");
            st = FROST_E_NO_MEMORY;
        } else {
            c->stage_cap[k] = need;
        }
    }
    if (st == FROST_OK) {
        char *err = NULL;
        st = fr_feed_run(f, c->strings, batch, c->stage, &err);
        if (st != FROST_OK) set_error(c, "%s: %s", m->g->source, err ? err : frost_strerror(st));
        free(err);
    }
    for (int i = 0; i < m->io.n_inputs; i++) c->strings[i] = NULL, c->n_strings[i] = 0;
    return st;
}

frost_status frost_context_run(frost_context *c, int batch, const float *const *inputs, float *const *outputs) {
    if (!c) return FROST_E_INVALID_ARGUMENT;
    c->error[0] = 0;
    const frost_model *m = c->m;
    if (m->feed) {
        frost_status st = batch < 1 || batch > m->max_batch ? FROST_E_LIMIT : run_feed(c, batch);
        if (st == FROST_E_LIMIT) set_error(c, "batch size %d is outside 1..%d", batch, m->max_batch);
        if (st != FROST_OK) return st;
    }
    if (batch < 1 || batch > m->max_batch) {
        set_error(c, "batch size %d is outside 1..%d", batch, m->max_batch);
        return FROST_E_LIMIT;
    }
    if (!inputs || !outputs) {
        set_error(c, "inputs or outputs array is NULL");
        return FROST_E_INVALID_ARGUMENT;
    }
    for (int i = 0; i < m->io.n_inputs; i++)
        if (!inputs[i] && !is_string_input(m, i)) {
            set_error(c, "input %d ('%s') is NULL", i, m->io.in_names[i]);
            return FROST_E_INVALID_ARGUMENT;
        }
    for (int i = 0; i < m->io.n_outputs; i++)
        if (!outputs[i]) {
            set_error(c, "output %d ('%s') is NULL", i, m->io.out_names[i]);
            return FROST_E_INVALID_ARGUMENT;
        }
    /* in passes of at most m->micro items (their activations stay in the
     * cache); the profile is that of the passes of the first's size */
    int pass = m->micro > 0 && batch > m->micro ? m->micro : batch;
    for (int first = 0; first < batch; first += pass) {
        frost_status st = run_pass(c, batch - first < pass ? batch - first : pass, inputs, outputs, (size_t)first);
        if (st != FROST_OK) return st;
    }
    c->last_batch = pass;
    return FROST_OK;
}

/* `batch` items of a run, from item `first` of its inputs and outputs. */
static frost_status run_pass(frost_context *c, int batch, const float *const *inputs, float *const *outputs,
                             size_t first) {
    const frost_model *m = c->m;
    fr_ctx_batch *e;
    frost_status st = get_entry(c, batch, &e);
    if (st != FROST_OK) return st;
    const fr_batch_plan *bp = e->bp;
    const fr_plan *p = &bp->c->plan;
    for (int j = 0; j < p->n_inputs; j++) {
        const fr_value *v = &p->values[p->inputs[j]];
        int i = m->feed ? m->feed->src[j] : j; /* the model's input, or -1 - k: boundary k of the feed */
        const float *src = i >= 0 ? inputs[i] : c->stage[-1 - i];
        memcpy((char *)e->arena + v->offset, src + first * m->plan_in_size[j], v->count * sizeof(float));
    }
    for (int i = 0; i < p->n_steps; i++) {
        double t0 = e->prof ? now_ms() : 0;
        if (bp->claimed[i]) {
            char *err = NULL;
            st = bp->be->run_step(bp->be_state, e->run_state, i, &err);
            if (st != FROST_OK) {
                set_error(c, "step %d (node '%s', %s): %s: %s", i, p->steps[i].name, p->steps[i].label, bp->be->name,
                          err ? err : frost_strerror(st));
                free(err);
                return st;
            }
        } else {
            fr_ref_kernel(p, &p->steps[i], e->arena);
        }
        if (e->prof) {
            e->prof[i].total_ms += now_ms() - t0;
            e->prof[i].runs++;
        }
    }
    for (int i = 0; i < p->n_outputs; i++) {
        const fr_value *v = &p->values[p->outputs[i]];
        memcpy(outputs[i] + first * m->out_size[i], (char *)e->arena + v->offset, v->count * sizeof(float));
    }
    return FROST_OK;
}

frost_status frost_context_run1(frost_context *c, int batch, const float *input, float *output) {
    if (!c) return FROST_E_INVALID_ARGUMENT;
    if (c->m->io.n_inputs != 1 || c->m->io.n_outputs != 1) {
        set_error(c, "frost_context_run1 needs a model with one input and one output (has %d and %d)",
                  c->m->io.n_inputs, c->m->io.n_outputs);
        return FROST_E_INVALID_ARGUMENT;
    }
    return frost_context_run(c, batch, &input, &output);
}

frost_status frost_context_profile(const frost_context *c, const frost_op_profile **out, int *count) {
    if (!c || !out || !count || !c->m->profiling) return FROST_E_INVALID_ARGUMENT;
    *out = NULL;
    *count = 0;
    if (!c->last_batch) return FROST_OK;
    const fr_ctx_batch *e = c->entries[c->last_batch];
    *out = e->prof;
    *count = e->bp->c->plan.n_steps;
    return FROST_OK;
}

void frost_context_profile_reset(frost_context *c) {
    if (!c) return;
    for (int b = 0; b <= c->m->max_batch; b++) {
        fr_ctx_batch *e = c->entries[b];
        if (!e || !e->prof) continue;
        for (int i = 0; i < e->bp->c->plan.n_steps; i++) e->prof[i].total_ms = 0, e->prof[i].runs = 0;
    }
}
