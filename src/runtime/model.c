/* frost_model: compile options, per-batch plan cache, queries. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include "feed/feed.h"
#include "graph/builder.h"
#include "graph/pages.h"
#include "kernels/tune.h"
#include "runtime/runtime.h"

#if defined(FROST_HAVE_ONEDNN) && defined(__has_include)
#if __has_include("backend/onednn/onednn.h")
#define FR_WITH_ONEDNN 1
#endif
#endif

static void batch_plan_free(fr_batch_plan *p) {
    if (!p) return;
    if (p->be && p->be_state) p->be->release(p->be_state);
    fr_compiled_free(p->c);
    free(p->claimed);
    free(p);
}

/* Weights of the plan being prepared, for fr_backend_config.weights_done:
 * each weights pointer with the number of steps still reading it (values
 * that are constants pin theirs), and the owned block that holds it. */
typedef struct {
    const void *p;
    int refs;  /* steps that have not released it; < 0: pinned */
    int block; /* index in the compiled plan's blocks, or -1 (file map / shared) */
} weight_ref;

typedef struct {
    fr_compiled *c;
    const frost_graph *g;
    weight_ref *w;
    int n;
    int freed; /* blocks freed (set to NULL) */
} weight_refs;

static int cmp_wref(const void *a, const void *b) {
    uintptr_t x = (uintptr_t)((const weight_ref *)a)->p, y = (uintptr_t)((const weight_ref *)b)->p;
    return x < y ? -1 : x > y;
}

static const float **step_weights(fr_step *s, size_t *bytes) {
    if (s->kind == FR_STEP_CONV && s->p.conv.weights) {
        const fr_conv_params *c = &s->p.conv;
        *bytes = fr_conv_weight_count(c) * sizeof(float);
        return &s->p.conv.weights;
    }
    if (s->kind == FR_STEP_MATMUL && s->p.matmul.weights) {
        *bytes = fr_matmul_weight_count(&s->p.matmul) * sizeof(float);
        return &s->p.matmul.weights;
    }
    return NULL;
}

static weight_ref *wref_find(weight_refs *r, const void *p) {
    weight_ref key = {p, 0, 0};
    return r->w ? bsearch(&key, r->w, (size_t)r->n, sizeof *r->w, cmp_wref) : NULL;
}

static int weight_refs_build(weight_refs *r) {
    fr_compiled *c = r->c;
    r->n = 0;
    r->w = malloc(sizeof *r->w * (size_t)(c->plan.n_steps + c->plan.n_values + 1));
    if (!r->w) return -1;
    int m = 0;
    for (int i = 0; i < c->plan.n_steps; i++) {
        size_t bytes;
        const float **w = step_weights(&c->steps[i], &bytes);
        if (w) r->w[m++] = (weight_ref){*w, 1, -1};
    }
    for (int v = 0; v < c->plan.n_values; v++)
        if (c->values[v].kind == FR_VALUE_CONST && c->values[v].data) r->w[m++] = (weight_ref){c->values[v].data, -1, -1};
    qsort(r->w, (size_t)m, sizeof *r->w, cmp_wref);
    for (int i = 0; i < m; i++) { /* merge duplicates */
        if (r->n && r->w[r->n - 1].p == r->w[i].p) {
            weight_ref *d = &r->w[r->n - 1];
            d->refs = d->refs < 0 || r->w[i].refs < 0 ? -1 : d->refs + r->w[i].refs;
        } else {
            r->w[r->n++] = r->w[i];
        }
    }
    for (int b = 0; b < c->n_blocks; b++) {
        weight_ref *e = wref_find(r, c->blocks[b]);
        if (e) e->block = b;
    }
    return 0;
}

/* Step `index` no longer reads the weights at `p`: free them once no other
 * step or value reads them. */
static void weights_unref(weight_refs *r, const void *p, size_t bytes) {
    weight_ref *e = wref_find(r, p);
    if (!e || e->refs < 0 || --e->refs > 0) return;
    if (e->block >= 0) {
        fr_pages_free_bytes(r->c->blocks[e->block], r->c->block_sizes[e->block]);
        r->c->blocks[e->block] = NULL;
        r->freed++;
    } else {
        fr_graph_release_range(r->g, e->p, bytes); /* weights used in place from the file */
    }
}

/* fr_backend_config.weights_done: the backend holds its own copy of step
 * `index`'s weights. */
static void weights_done(void *ctx, int index) {
    weight_refs *r = ctx;
    if (index < 0 || index >= r->c->plan.n_steps) return;
    fr_step *s = &r->c->steps[index];
    if (s->kind == FR_STEP_CONV && s->p.conv.weights_raw) { /* read from the file map: drop its pages */
        const fr_conv_params *c = &s->p.conv;
        fr_graph_release_range(r->g, c->weights_raw, fr_conv_weight_count(c) * sizeof(float));
        s->p.conv.weights_raw = NULL;
        s->p.conv.weight_scale = NULL;
        return;
    }
    size_t bytes = 0;
    const float **w = step_weights(&r->c->steps[index], &bytes);
    if (!w) return;
    const void *p = *w;
    *w = NULL;
    if (r->c->steps[index].kind == FR_STEP_CONV) r->c->steps[index].p.conv.weight_scale = NULL;
    else r->c->steps[index].p.matmul.weight_scale = NULL;
    weights_unref(r, p, bytes);
}

static frost_status build_plan(const frost_model *m, int batch, fr_batch_plan **out, char **err) {
    fr_batch_plan *p = calloc(1, sizeof *p);
    if (!p) return FROST_E_NO_MEMORY;
    p->batch = batch;
    frost_status st = fr_compile(m->g, m->pio, batch,
                                   (m->optimize ? FR_COMPILE_OPTIMIZE : 0u) |
                                       (m->cfg.precision == FROST_PRECISION_INT8 && m->backend->int8 &&
                                                m->backend->int8()
                                            ? FR_COMPILE_INT8
                                            : 0u),
                                   &p->c, err);
    if (st != FROST_OK) {
        free(p);
        return st;
    }
    if (fr_compiled_intern_except_weights(p->c, m->consts) != FROST_OK) {
        batch_plan_free(p);
        return FROST_E_NO_MEMORY;
    }
    const fr_plan *plan = &p->c->plan;
    if (m->out_size) {
        for (int i = 0; i < plan->n_outputs; i++)
            if (plan->values[plan->outputs[i]].count != (size_t)batch * m->out_size[i]) {
                fr_errorf(err, "%s: output '%s' does not scale with the batch size", m->g->source, m->io.out_names[i]);
                batch_plan_free(p);
                return FROST_E_SHAPE;
            }
    }
    p->claimed = calloc((size_t)plan->n_steps + 1, 1);
    if (!p->claimed) {
        batch_plan_free(p);
        return FROST_E_NO_MEMORY;
    }
    p->be = m->backend;
    char *berr = NULL;
    /* The backend prepares the plan before its constants are shared with other
     * batch sizes, so that weights it copies (reorders) can be freed at once. */
    fr_backend_config cfg = m->cfg;
    weight_refs refs = {p->c, m->g, NULL, 0, 0};
    if (weight_refs_build(&refs) == 0) {
        cfg.weights_done = weights_done;
        cfg.weights_done_ctx = &refs;
    }
    uint8_t *offered = NULL; /* the steps the backend says it can run (supports) */
    if (p->be->supports && !(offered = calloc((size_t)plan->n_steps + 1, 1))) st = FROST_E_NO_MEMORY;
    for (int i = 0; offered && i < plan->n_steps; i++) offered[i] = p->be->supports(plan, &plan->steps[i]) != 0;
    cfg.offered = offered;
    if (st == FROST_OK) st = p->be->prepare(plan, &cfg, &p->be_state, p->claimed, &berr);
    for (int i = 0; st == FROST_OK && offered && i < plan->n_steps; i++)
        if (p->claimed[i] && !offered[i]) st = FROST_E_INTERNAL; /* claimed a step it refused */
    free(offered);
    /* steps left to the reference kernels get their batch norm folded into
     * their weights now (the unscaled weights are then released) */
    for (int i = 0; i < plan->n_steps && st == FROST_OK; i++) {
        size_t bytes = 0;
        fr_step *s = &p->c->steps[i];
        const void *raw = s->kind == FR_STEP_CONV ? s->p.conv.weights_raw : NULL;
        const float **w = step_weights(s, &bytes);
        const float *ws = !w && !raw ? NULL : s->kind == FR_STEP_CONV ? s->p.conv.weight_scale : s->p.matmul.weight_scale;
        if (p->claimed[i] || (!ws && !raw)) continue;
        const float *old = w ? *w : NULL;
        st = fr_compiled_fold_weights(p->c, i);
        if (st == FROST_OK && old) weights_unref(&refs, old, bytes);
        if (st == FROST_OK && raw) { /* copied out of the file map */
            step_weights(s, &bytes);
            fr_graph_release_range(m->g, raw, bytes);
        }
    }
    if (st != FROST_OK && p->be_state) { /* folding failed after a successful prepare */
        p->be->release(p->be_state);
        p->be_state = NULL;
    }
    free(refs.w);
    if (refs.freed) { /* drop the freed blocks */
        fr_compiled *c = p->c;
        int k = 0;
        for (int b = 0; b < c->n_blocks; b++)
            if (c->blocks[b]) c->block_sizes[k] = c->block_sizes[b], c->blocks[k++] = c->blocks[b];
        c->n_blocks = k;
    }
    if (st != FROST_OK) {
        fr_errorf(err, "%s: backend %s: %s", m->g->source, p->be->name, berr ? berr : frost_strerror(st));
        free(berr);
        p->be = NULL;
        batch_plan_free(p);
        return st;
    }
    free(berr);
    /* the weights the backend did not take (steps left to the reference
     * kernels, or a backend that keeps none) are shared with other batch
     * sizes; the backend holds no pointer to them */
    if (fr_compiled_intern(p->c, m->consts) != FROST_OK) {
        batch_plan_free(p);
        return FROST_E_NO_MEMORY;
    }
    /* Nothing is read from the file now until a step reading its weights in
     * place runs, or the next batch size compiles: drop the pages the
     * compiler read (node definitions, small constants, the ends of pages
     * around released weights: ~1 MB of Inception v3); so for a SavedModel's
     * data shards */
    fr_graph_release_range(m->g, m->g->map, m->g->map_len);
    for (int i = 0; i < m->g->n_ext_maps; i++) fr_graph_release_range(m->g, m->g->ext_maps[i], m->g->ext_map_lens[i]);
    *out = p;
    return FROST_OK;
}

frost_status fr_model_plan(const frost_model *mc, int batch, const fr_batch_plan **out, char **err) {
    frost_model *m = (frost_model *)(uintptr_t)mc;
    frost_status st = FROST_OK;
    pthread_mutex_lock(&m->lock);
    if (!m->plans[batch]) st = build_plan(m, batch, &m->plans[batch], err);
    *out = m->plans[batch];
    pthread_mutex_unlock(&m->lock);
    return st;
}

static const fr_backend *pick_backend(frost_backend which) {
    if (which == FROST_BACKEND_REFERENCE) return fr_backend_reference();
#ifdef FR_WITH_ONEDNN
    const fr_backend *d = fr_backend_onednn();
    if (d) return d;
#endif
    return which == FROST_BACKEND_AUTO ? fr_backend_reference() : NULL;
}

void frost_model_free(frost_model *m) {
    if (!m) return;
    if (m->plans)
        for (int i = 0; i <= m->max_batch; i++) batch_plan_free(m->plans[i]);
    free(m->plans);
    if (m->backend && m->backend->model_free && m->cfg.shared) m->backend->model_free(m->cfg.shared);
    fr_intern_free(m->consts);
    fr_io_spec_free(&m->io);
    fr_feed_free(m->feed);
    free(m->plan_in_size);
    free(m->out_shape);
    free(m->in_size);
    free(m->out_size);
    pthread_mutex_destroy(&m->lock);
    frost_graph_free(m->g);
    if (m->tune) fr_tune_free(m->tune);
    free(m->tune);
    free(m->tune_note);
    free(m);
#if defined(__GLIBC__)
    /* The weights were freed piecewise while compiling, which makes glibc
     * serve the large buffers that followed from its heap; hand those pages
     * back to the system now rather than keep them for the next model. */
    malloc_trim(0);
#endif
}

/* Measured (bench/frost_time, Zen 3, 2 threads, 32 MiB L3; ms per image at
 * batch 1 / 2 / 4 / 16): MobileNet v1 7.91 / 7.67 / 8.14 / 8.78 (1.14
 * GFLOP, 7.0 MB arena per item), MobileNet v2 4.69 / 4.52 / 4.38 / 5.53
 * (0.60 GFLOP, 6.8 MB): their batch-16 activations leave the cache between
 * layers; Inception v3 69.2 / 65.5 / 63.7 / 62.3 (11.4 GFLOP, 12.2 MB),
 * compute-bound, gains from every item more.  Passes of a batch of 16 in
 * the same process, interleaved (16 rounds): MobileNet v1 in 2 / 4 / 1
 * items 0.984 / 0.972 / 1.024 of the time in one pass, MobileNet v2 in 2 /
 * 4 0.993 / 0.947.  Hence passes for the networks under 400 FLOPs per arena
 * byte, of as many items (a power of two) as fill the last-level cache. */
int fr_micro_auto(int64_t flops, size_t arena, long llc) {
    if (llc <= 0 || arena == 0 || flops < 0 || (uint64_t)flops >= (uint64_t)400 * arena) return 0;
    int s = 1;
    while (s < 1 << 16 && (uint64_t)(2 * s) * arena <= (uint64_t)llc) s *= 2;
    return s;
}

/* Bytes of the last-level cache the first CPU uses (Linux sysfs: the
 * highest level's; a VM's CPUID, which sysconf reads, may give the whole
 * host's: 256 MiB on a 2-core EPYC guest with 32 MiB per core complex);
 * 0 when unknown. */
static long llc_bytes(void) {
    long best = 0;
    int best_level = 0;
    for (int i = 0; i < 8; i++) {
        char path[96], buf[32];
        int level = 0;
        long kb = 0;
        snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu0/cache/index%d/level", i);
        FILE *f = fopen(path, "r");
        if (!f) break;
        if (fgets(buf, sizeof buf, f)) level = atoi(buf);
        fclose(f);
        snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu0/cache/index%d/size", i);
        f = fopen(path, "r");
        if (!f) continue;
        if (fgets(buf, sizeof buf, f)) kb = strtol(buf, NULL, 10);
        fclose(f);
        if (level > best_level && kb > 0) best_level = level, best = kb * 1024;
    }
#ifdef _SC_LEVEL3_CACHE_SIZE
    if (!best) best = sysconf(_SC_LEVEL3_CACHE_SIZE);
#endif
    return best > 0 ? best : 0;
}

/* Whether the items of a run are independent: the plans of batch 1 and of
 * batch b (>= 2) have the same activations but for their first dimension,
 * 1 and b (a step that mixes items, a reduction or a reshape across the
 * batch, shows there). */
static int items_independent(const fr_plan *p1, const fr_plan *pb, int b) {
    if (p1->n_values != pb->n_values || p1->n_steps != pb->n_steps) return 0;
    for (int v = 0; v < p1->n_values; v++) {
        const fr_value *x = &p1->values[v], *y = &pb->values[v];
        if (x->kind != y->kind) return 0;
        if (x->kind != FR_VALUE_ARENA) continue;
        if (x->rank != y->rank || x->rank < 1 || x->dims[0] != 1 || y->dims[0] != b) return 0;
        for (int k = 1; k < x->rank; k++)
            if (x->dims[k] != y->dims[k]) return 0;
    }
    return 1;
}

/* m->micro from frost_options.micro_batch, else the tuning record's, else
 * the rule (after the batch-1 plan). */
static frost_status pick_micro(frost_model *m, const frost_options *opt, char **err) {
    int want = opt->micro_batch;
    if (want == 0 && m->cfg.tune && m->cfg.tune->micro) want = m->cfg.tune->micro; /* measured by frost tune */
    if (want < 0) return FROST_OK;
    if (want == 0) {
        want = fr_micro_auto(m->stats.flops, m->stats.arena_bytes, llc_bytes());
    }
    if (want == 0 || want >= m->max_batch) return FROST_OK; /* no run is split */
    int b = want >= 2 ? want : 2;
    const fr_batch_plan *pb = NULL;
    char *perr = NULL;
    frost_status st = fr_model_plan(m, b, &pb, &perr);
    if (st == FROST_OK && items_independent(&m->plans[1]->c->plan, &pb->c->plan, b)) {
        m->micro = want;
    } else if (opt->micro_batch > 0) {
        if (st == FROST_OK) {
            fr_errorf(err, "%s: micro_batch %d: the items of a run are not independent in this graph (an activation "
                           "does not have the batch as its first dimension)", m->g->source, want);
            st = FROST_E_INVALID_ARGUMENT;
        } else {
            fr_errorf(err, "%s", perr ? perr : frost_strerror(st));
        }
        free(perr);
        return st;
    }
    free(perr);
    return FROST_OK;
}

/* frost_options.calibrate_dir: the graph quantized in memory as `frost
 * quantize` does (frost_quantize_graph, FROST_QUANTIZE_DEFAULT), then compiled. */
static frost_status compile_calibrated(const frost_graph *g, const frost_options *opt, const struct fr_tune_record *rec,
                                       frost_model **out, char **err) {
    if (opt->precision != FROST_PRECISION_INT8) {
        fr_errorf(err, "frost_options.calibrate_dir (--calibrate) quantizes for precision int8 only");
        return FROST_E_INVALID_ARGUMENT;
    }
    frost_options o = *opt;
    o.calibrate_dir = NULL;
    o.calibrate_preprocess = NULL;
    frost_graph *qg = NULL;
    char *qerr = NULL;
    frost_status st =
        frost_quantize_graph(g, &o, FROST_QUANTIZE_DEFAULT, opt->calibrate_dir, opt->calibrate_preprocess, &qg, &qerr);
    if (st != FROST_OK) fr_errorf(err, "int8 quantization at load time: %s", qerr ? qerr : frost_strerror(st));
    else st = fr_model_compile_tuned(qg, &o, rec, out, err);
    frost_free(qerr);
    frost_graph_free(qg);
    return st;
}

frost_status frost_model_compile(const frost_graph *g, const frost_options *opt, frost_model **out, char **err) {
    return fr_model_compile_tuned(g, opt, NULL, out, err);
}

/* A compile's end: the model only once the graph's pending check of its
 * weights (a large SavedModel's CRC-32C, run while the compile went on)
 * has passed. */
static frost_status checked(const frost_graph *g, frost_status st, frost_model **out, char **err) {
    if (st != FROST_OK) return st;
    if ((st = fr_graph_check(g, err)) != FROST_OK) {
        frost_model_free(*out);
        *out = NULL;
    }
    return st;
}

frost_status fr_model_compile_tuned(const frost_graph *g, const frost_options *opt, const struct fr_tune_record *rec,
                                    frost_model **out, char **err) {
    if (err) *err = NULL;
    if (!out) return FROST_E_INVALID_ARGUMENT;
    *out = NULL;
    if (!g) {
        fr_errorf(err, "frost_model_compile: graph is NULL");
        return FROST_E_INVALID_ARGUMENT;
    }
    frost_options options;
    frost_status st = fr_options_read(g, opt, &options, err);
    if (st != FROST_OK) return st;
    opt = &options;
    if (opt->max_batch < 0 || opt->max_batch > 1 << 16 || opt->threads < 0 || opt->num_inputs < 0 ||
        opt->num_outputs < 0 || (unsigned)opt->backend > FROST_BACKEND_ONEDNN ||
        (unsigned)opt->precision > FROST_PRECISION_INT8 || (unsigned)opt->winograd > FROST_WINOGRAD_ALL) {
        fr_errorf(err, "%s: invalid option value", g->source);
        return FROST_E_INVALID_ARGUMENT;
    }
    if (opt->debug_flags & ~(FROST_DEBUG_NO_OPTIMIZE | FROST_DEBUG_ONEDNN_ONLY | FROST_DEBUG_PORTABLE_KERNELS)) {
        fr_errorf(err, "%s: frost_options.debug_flags 0x%x has bits that are no FROST_DEBUG_* flag", g->source,
                  opt->debug_flags);
        return FROST_E_INVALID_ARGUMENT;
    }
    if (opt->calibrate_dir) return checked(g, compile_calibrated(g, opt, rec, out, err), out, err);
    const int onednn_only = (opt->debug_flags & FROST_DEBUG_ONEDNN_ONLY) != 0;
    const fr_backend *be = pick_backend(opt->backend);
    if (!be) {
        fr_errorf(err, "%s: the oneDNN backend is not available in this build or on this CPU", g->source);
        return FROST_E_BACKEND;
    }
    frost_model *m = calloc(1, sizeof *m);
    if (!m) return FROST_E_NO_MEMORY;
    pthread_mutex_init(&m->lock, NULL);
    m->g = fr_graph_ref(g);
    m->optimize = !(opt->debug_flags & FROST_DEBUG_NO_OPTIMIZE);
    m->max_batch = opt->max_batch ? opt->max_batch : 64;
    m->profiling = opt->profiling != 0;
    m->backend = be;
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    m->cfg.threads = opt->threads ? opt->threads : (ncpu > 0 ? (int)ncpu : 1);
    m->cfg.precision = opt->precision;
    m->cfg.winograd = opt->winograd == FROST_WINOGRAD_ALL;
    m->cfg.winograd_default = opt->winograd != FROST_WINOGRAD_OFF && !onednn_only;
    m->cfg.own_kernels = !onednn_only;
    m->cfg.portable = (opt->debug_flags & FROST_DEBUG_PORTABLE_KERNELS) != 0;
    m->plans = calloc((size_t)m->max_batch + 1, sizeof *m->plans);
    m->consts = fr_intern_new();
    st = m->plans && m->consts ? fr_io_resolve(g, opt, &m->io, err) : FROST_E_NO_MEMORY;
    if (st == FROST_OK && rec) m->cfg.tune = rec; /* the tuner's candidate */
    else if (st == FROST_OK) st = fr_model_tune_load(m, opt->tune_file, err);
    if (st == FROST_OK) st = fr_feed_build(g, &m->io, &m->feed, err);
    m->pio = m->feed ? &m->feed->io : &m->io;
    if (st == FROST_OK && be->model_create) { /* backend state shared by every batch size */
        char *berr = NULL;
        st = be->model_create(&m->cfg, &m->cfg.shared, &berr);
        if (st != FROST_OK) fr_errorf(err, "%s: backend %s: %s", g->source, be->name, berr ? berr : frost_strerror(st));
        free(berr);
    }
    if (st == FROST_OK) st = build_plan(m, 1, &m->plans[1], err);
    if (st != FROST_OK) {
        if (st == FROST_E_NO_MEMORY && err && !*err) fr_errorf(err, "%s: out of memory", g->source);
        frost_model_free(m);
        return st;
    }
    const fr_compiled *c = m->plans[1]->c;
    const fr_plan *p = &c->plan;
    m->out_shape = calloc((size_t)p->n_outputs + 1, sizeof *m->out_shape);
    m->in_size = calloc((size_t)m->io.n_inputs + 1, sizeof(size_t));
    m->plan_in_size = calloc((size_t)p->n_inputs + 1, sizeof(size_t));
    m->out_size = calloc((size_t)p->n_outputs + 1, sizeof(size_t));
    if (!m->out_shape || !m->in_size || !m->plan_in_size || !m->out_size) {
        frost_model_free(m);
        return FROST_E_NO_MEMORY;
    }
    for (int i = 0; i < m->io.n_inputs; i++) m->in_size[i] = 1; /* a string input: one string an item */
    for (int j = 0; j < p->n_inputs; j++) {
        m->plan_in_size[j] = p->values[p->inputs[j]].count;
        int i = m->feed ? m->feed->src[j] : j;
        if (i >= 0) m->in_size[i] = m->plan_in_size[j];
    }
    for (int i = 0; i < p->n_outputs; i++) {
        const fr_value *v = &p->values[p->outputs[i]];
        m->out_size[i] = v->count;
        m->out_shape[i].rank = v->rank;
        for (int k = 0; k < v->rank; k++) m->out_shape[i].dims[k] = v->dims[k];
        if (v->rank > 0 && c->out_batched[i]) m->out_shape[i].dims[0] = -1; /* else: its batch-1 shape */
    }
    frost_compile_stats *s = &m->stats;
    s->graph_nodes = c->graph_nodes;
    s->pruned_nodes = c->pruned_nodes;
    s->identity_nodes = c->identity_nodes;
    s->folded_nodes = c->folded_nodes;
    s->folded_batchnorms = c->folded_batchnorms;
    s->fused_ops = c->fused_ops;
    s->steps = p->n_steps;
    s->params = c->params;
    s->flops = c->flops;
    s->arena_bytes = p->arena_bytes;
    s->backend = be->name;
    st = pick_micro(m, opt, err);
    if (st != FROST_OK) {
        frost_model_free(m);
        return st;
    }
    *out = m;
    return checked(g, FROST_OK, out, err);
}

frost_status frost_model_load(const char *path, const frost_options *opt, frost_model **out, char **err) {
    if (err) *err = NULL;
    if (!out) return FROST_E_INVALID_ARGUMENT;
    *out = NULL;
    frost_graph *g = NULL;
    frost_status st = frost_graph_load(path, &g, err);
    if (st != FROST_OK) return st;
    st = frost_model_compile(g, opt, out, err);
    frost_graph_free(g);
    return st;
}

int frost_model_input_count(const frost_model *m) { return m ? m->io.n_inputs : 0; }
frost_dtype frost_model_input_dtype(const frost_model *m, int i) {
    if (!m || i < 0 || i >= m->io.n_inputs) return FROST_DTYPE_INVALID;
    return m->io.in_dtype && m->io.in_dtype[i] == FR_DT_STRING ? FROST_DTYPE_STRING : FROST_DTYPE_FLOAT;
}
frost_dtype frost_model_output_dtype(const frost_model *m, int i) {
    return m && i >= 0 && i < m->io.n_outputs ? FROST_DTYPE_FLOAT : FROST_DTYPE_INVALID;
}
int frost_model_output_count(const frost_model *m) { return m ? m->io.n_outputs : 0; }
const char *frost_model_input_name(const frost_model *m, int i) {
    return m && i >= 0 && i < m->io.n_inputs ? m->io.in_names[i] : NULL;
}
const char *frost_model_output_name(const frost_model *m, int i) {
    return m && i >= 0 && i < m->io.n_outputs ? m->io.out_names[i] : NULL;
}
frost_status frost_model_input_shape(const frost_model *m, int i, frost_shape *out) {
    if (!m || !out || i < 0 || i >= m->io.n_inputs) return FROST_E_INVALID_ARGUMENT;
    *out = m->io.in_shape[i];
    if (frost_model_input_dtype(m, i) == FROST_DTYPE_STRING) out->rank = 1; /* one string an item */
    out->dims[0] = -1;
    return FROST_OK;
}
frost_status frost_model_output_shape(const frost_model *m, int i, frost_shape *out) {
    if (!m || !out || i < 0 || i >= m->io.n_outputs) return FROST_E_INVALID_ARGUMENT;
    *out = m->out_shape[i];
    return FROST_OK;
}
size_t frost_model_input_size(const frost_model *m, int i) {
    return m && i >= 0 && i < m->io.n_inputs ? m->in_size[i] : 0;
}
size_t frost_model_output_size(const frost_model *m, int i) {
    return m && i >= 0 && i < m->io.n_outputs ? m->out_size[i] : 0;
}
int frost_model_max_batch(const frost_model *m) { return m ? m->max_batch : 0; }

int frost_model_micro_batch(const frost_model *m) { return m ? m->micro : 0; }

frost_status frost_model_stats(const frost_model *m, frost_compile_stats *out) {
    if (!m || !out) return FROST_E_INVALID_ARGUMENT;
    *out = m->stats;
    /* the weights held now: the backend's copies and the constants the
     * plans share, over every batch size compiled so far */
    frost_model *mm = (frost_model *)(uintptr_t)m;
    pthread_mutex_lock(&mm->lock);
    out->weight_bytes = fr_intern_bytes(m->consts);
    if (m->backend && m->backend->model_weight_bytes && m->cfg.shared)
        out->weight_bytes += m->backend->model_weight_bytes(m->cfg.shared);
    pthread_mutex_unlock(&mm->lock);
    return FROST_OK;
}
