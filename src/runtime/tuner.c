/* frost_tune(): each convolution's implementations timed inside the running
 * network (one compile per candidate, forcing it on every layer it applies
 * to; the candidates run in turn, round after round, with per-layer
 * profiling, so that noise hits them alike), the fastest kept per layer,
 * the whole checked against the built-in rules. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "graph/graph.h"
#include "kernels/tune.h"
#include "runtime/runtime.h"

#define TN_CANDS FROST_TUNE_CANDIDATES
#define TN_MAX_BATCHES 16
#define TN_MAX_ROUNDS 64

static const char *const CANDS[TN_CANDS] = {"rules", "backend", "igemm", "winograd", "winograd-large"};

const char *frost_tune_candidate_name(int c) { return c >= 0 && c < TN_CANDS ? CANDS[c] : "?"; }

typedef struct {
    frost_model *m;
    frost_context *ctx;
    float **in, **out;
    int nin, nout;
    int borrowed;       /* m and in belong to another cand (cand_share) */
    fr_tune_record rec; /* what it forces (candidates 1 ..) */
} cand;

typedef struct {
    double ms[TN_CANDS][TN_MAX_BATCHES][TN_MAX_ROUNDS];
    const char *kernel[TN_CANDS];
} layer_times;

static double now_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec * 1e-6;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, int n) {
    if (n <= 0) return -1;
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* Whether a layer of candidate c ran the implementation c forces (the rules: any). */
static int ran_as(int c, const char *kernel) {
    int own = !strncmp(kernel, "frost:", 6);
    switch (c) {
    case 1: return !own;
    case 2: return own && strstr(kernel, "igemm") != NULL;
    case 3: return own && (strstr(kernel, "_f2x2_") || strstr(kernel, "_f2_")); /* F(2x2, 3x3), F(2, 5), F(2, 7) */
    case 4: return own && (strstr(kernel, "_f4x4_") || strstr(kernel, "_f4_"));  /* F(4x4, 3x3 / 5x5), F(4, 3) */
    default: return 1;
    }
}

/* The candidate that names what the rules ran. */
static int as_candidate(const char *kernel) {
    for (int c = 2; c < TN_CANDS; c++)
        if (ran_as(c, kernel)) return c;
    return 1;
}

static void cand_close(cand *c) {
    for (int i = 0; !c->borrowed && c->in && i < c->nin; i++) free(c->in[i]);
    for (int j = 0; c->out && j < c->nout; j++) free(c->out[j]);
    if (!c->borrowed) free(c->in);
    free(c->out);
    frost_context_free(c->ctx);
    if (!c->borrowed) frost_model_free(c->m);
    fr_tune_free(&c->rec);
    memset(c, 0, sizeof *c);
}

static frost_status cand_outputs(cand *c, int max_batch) {
    for (int j = 0; j < c->nout; j++) {
        size_t n = frost_model_output_size(c->m, j) * (size_t)max_batch;
        if (!(c->out[j] = malloc((n ? n : 1) * sizeof(float)))) return FROST_E_NO_MEMORY;
    }
    return FROST_OK;
}

/* Another context of src's model, reading src's inputs, writing outputs of its own. */
static frost_status cand_share(const cand *src, int max_batch, cand *c, char **err) {
    c->m = src->m, c->in = src->in, c->nin = src->nin, c->nout = src->nout, c->borrowed = 1;
    frost_status st = frost_context_create(c->m, &c->ctx, err);
    if (st != FROST_OK) return st;
    if (!(c->out = calloc((size_t)c->nout + 1, sizeof *c->out))) return FROST_E_NO_MEMORY;
    return cand_outputs(c, max_batch);
}

static frost_status cand_open(const frost_graph *g, const frost_options *o, const fr_tune_record *rec, cand *c,
                              char **err) {
    frost_status st = fr_model_compile_tuned(g, o, rec, &c->m, err);
    if (st == FROST_OK) st = frost_context_create(c->m, &c->ctx, err);
    if (st != FROST_OK) return st;
    c->nin = frost_model_input_count(c->m);
    c->nout = frost_model_output_count(c->m);
    c->in = calloc((size_t)c->nin + 1, sizeof *c->in);
    c->out = calloc((size_t)c->nout + 1, sizeof *c->out);
    if (!c->in || !c->out) return FROST_E_NO_MEMORY;
    uint32_t x = 2463534242u;
    for (int i = 0; i < c->nin; i++) {
        if (frost_model_input_dtype(c->m, i) != FROST_DTYPE_FLOAT) {
            fr_errorf(err, "%s: input %s is not float32 (frost_tune feeds random float tensors)", g->source,
                      frost_model_input_name(c->m, i));
            return FROST_E_INVALID_ARGUMENT;
        }
        size_t n = frost_model_input_size(c->m, i) * (size_t)o->max_batch;
        if (!(c->in[i] = malloc((n ? n : 1) * sizeof(float)))) return FROST_E_NO_MEMORY;
        for (size_t k = 0; k < n; k++) x ^= x << 13, x ^= x >> 17, x ^= x << 5, c->in[i][k] = (float)(x >> 8) * 0x1p-24f;
    }
    return cand_outputs(c, o->max_batch);
}

/* One run at batch b: its time, the per-step profile (prof NULL: none). */
static frost_status cand_run(cand *c, int b, double *ms, const frost_op_profile **prof, int *n, char **err) {
    frost_context_profile_reset(c->ctx);
    double t0 = now_ms();
    frost_status st = frost_context_run(c->ctx, b, (const float *const *)c->in, c->out);
    *ms = now_ms() - t0;
    if (st != FROST_OK) {
        fr_errorf(err, "frost_tune: run at batch %d: %s", b, frost_context_error(c->ctx));
        return st;
    }
    return prof ? frost_context_profile(c->ctx, prof, n) : FROST_OK;
}

/* A record forcing `picks` (candidate numbers, per layer) on the layers. */
static frost_status make_record(const frost_model *m, const frost_tune_layer *L, int nl, const int *picks, int all,
                                fr_tune_record *r) {
    memset(r, 0, sizeof *r);
    r->threads = m->cfg.threads;
    r->model = fr_model_digest(m);
    r->layers = calloc((size_t)nl + 1, sizeof *r->layers);
    if (!r->layers) return FROST_E_NO_MEMORY;
    for (int i = 0; i < nl; i++) {
        if (!(r->layers[i].name = strdup(L[i].name))) return FROST_E_NO_MEMORY;
        r->layers[i].pick = (fr_tune_pick)((picks ? picks[i] : all) - 1);
        r->n_layers = i + 1;
    }
    return fr_tune_sort(r) ? FROST_E_INTERNAL : FROST_OK;
}

/* Whole-network ms per image of c: median over `rounds` runs, summed over the batch sizes. */
static frost_status whole(cand *c, const int *batches, int nb, int rounds, double *out, char **err) {
    double v[TN_MAX_ROUNDS], sum = 0;
    for (int k = 0; k < nb; k++) {
        for (int r = 0; r < rounds; r++) {
            const frost_op_profile *prof;
            int n;
            frost_status st = cand_run(c, batches[k], &v[r], &prof, &n, err);
            if (st != FROST_OK) return st;
        }
        sum += median(v, rounds) / batches[k];
    }
    *out = sum;
    return FROST_OK;
}

/* The pass sizes at batch B with the choices of `rec` (NULL: the rules):
 * the compile's own pick, one pass, 1, 2, 4, ... items a pass, compiled
 * and timed in turn, round after round; the fastest recorded if it beats
 * the compile's own pick by 3 %.  Graphs whose items are not independent
 * measure nothing. */
static frost_status tune_micro(const frost_graph *g, frost_options o, const fr_tune_record *rec, int B, int rounds,
                               frost_tune_result *res, char **err) {
    cand c[FROST_TUNE_MICRO_MAX];
    memset(c, 0, sizeof c);
    o.profiling = 0;
    o.max_batch = B;
    /* the first candidate: what a compile picks by itself (options' 0; rec
     * records no pass size); then one pass, 1, 2, 4, ... items a pass */
    o.micro_batch = 0;
    frost_status st = cand_open(g, &o, rec, &c[0], err);
    if (st != FROST_OK) goto done;
    int rule = frost_model_micro_batch(c[0].m);
    res->micro_rule = rule > 0 ? rule : -1;
    res->micro_values[0] = res->micro_rule;
    int n = 1;
    for (int v = -1; v < B && n < FROST_TUNE_MICRO_MAX; v = v < 0 ? 1 : v * 2) {
        if (v == res->micro_rule) continue;
        o.micro_batch = v;
        char *cerr = NULL;
        st = cand_open(g, &o, rec, &c[n], &cerr);
        if (st == FROST_E_INVALID_ARGUMENT && v > 0) { /* items not independent: nothing to choose */
            free(cerr);
            st = FROST_OK;
            n = 0;
            break;
        }
        if (st != FROST_OK) {
            if (err) *err = cerr;
            else free(cerr);
            goto done;
        }
        res->micro_values[n++] = v;
    }
    if (n < 2) goto done;
    if (rounds > 7) rounds = 7;
    double t[FROST_TUNE_MICRO_MAX][TN_MAX_ROUNDS];
    for (int r = 0; r < rounds; r++)
        for (int k = 0; k < n; k++)
            if ((st = cand_run(&c[k], B, &t[k][r], NULL, NULL, err)) != FROST_OK) goto done;
    int best = 0;
    for (int k = 0; k < n; k++) {
        res->micro_ms[k] = median(t[k], rounds) / B;
        if (res->micro_ms[k] < res->micro_ms[best]) best = k;
    }
    res->num_micro = n;
    if (res->micro_ms[best] < 0.97 * res->micro_ms[0]) res->micro_batch = res->micro_values[best]; /* 0: the rule */
done:
    for (int k = 0; k < FROST_TUNE_MICRO_MAX; k++) cand_close(&c[k]);
    return st;
}

/* W contexts of one model running at once, each on a thread of its own
 * that waits for a new round (gen), runs once at batch b, and counts
 * itself done. */
typedef struct split_group split_group;
typedef struct {
    split_group *g;
    cand c;
    pthread_t th;
    frost_status st;
} split_worker;
struct split_group {
    int w, b, started, gen, pending, stop, sync;
    pthread_mutex_t mu;
    pthread_cond_t go, done;
    split_worker *wk;
};

static void *split_main(void *arg) {
    split_worker *k = arg;
    split_group *g = k->g;
    int seen = 0;
    pthread_mutex_lock(&g->mu);
    for (;;) {
        while (g->gen == seen && !g->stop) pthread_cond_wait(&g->go, &g->mu);
        if (g->stop) break;
        seen = g->gen;
        pthread_mutex_unlock(&g->mu);
        double ms;
        frost_status st = cand_run(&k->c, g->b, &ms, NULL, NULL, NULL);
        pthread_mutex_lock(&g->mu);
        if (st != FROST_OK) k->st = st;
        if (--g->pending == 0) pthread_cond_signal(&g->done);
    }
    pthread_mutex_unlock(&g->mu);
    return NULL;
}

static void split_close(split_group *g) {
    if (g->sync) {
        pthread_mutex_lock(&g->mu);
        g->stop = 1;
        pthread_cond_broadcast(&g->go);
        pthread_mutex_unlock(&g->mu);
        for (int i = 0; i < g->started; i++) pthread_join(g->wk[i].th, NULL);
        pthread_cond_destroy(&g->go);
        pthread_cond_destroy(&g->done);
        pthread_mutex_destroy(&g->mu);
    }
    for (int i = g->w - 1; g->wk && i >= 0; i--) cand_close(&g->wk[i].c); /* the model's owner, 0, last */
    free(g->wk);
    memset(g, 0, sizeof *g);
}

/* Compiles the graph once with o's threads and opens w contexts on threads of their own. */
static frost_status split_open(const frost_graph *gr, const frost_options *o, const fr_tune_record *rec, int w, int b,
                               split_group *g, char **err) {
    memset(g, 0, sizeof *g);
    g->w = w, g->b = b;
    if (!(g->wk = calloc((size_t)w, sizeof *g->wk))) return FROST_E_NO_MEMORY;
    frost_status st = cand_open(gr, o, rec, &g->wk[0].c, err);
    for (int i = 1; i < w && st == FROST_OK; i++) st = cand_share(&g->wk[0].c, o->max_batch, &g->wk[i].c, err);
    if (st != FROST_OK || w == 1) return st;
    pthread_mutex_init(&g->mu, NULL);
    pthread_cond_init(&g->go, NULL);
    pthread_cond_init(&g->done, NULL);
    g->sync = 1;
    for (int i = 0; i < w; i++) {
        g->wk[i].g = g;
        if (pthread_create(&g->wk[i].th, NULL, split_main, &g->wk[i])) {
            fr_errorf(err, "frost_tune: cannot start %d threads", w);
            return FROST_E_INTERNAL;
        }
        g->started++;
    }
    return FROST_OK;
}

/* One round: every context runs once at once; the wall time, ms per image. */
static frost_status split_round(split_group *g, double *ms_per_image, char **err) {
    double t0 = now_ms(), ms;
    if (g->w == 1) {
        frost_status st = cand_run(&g->wk[0].c, g->b, &ms, NULL, NULL, err);
        *ms_per_image = (now_ms() - t0) / g->b;
        return st;
    }
    pthread_mutex_lock(&g->mu);
    g->pending = g->w;
    g->gen++;
    pthread_cond_broadcast(&g->go);
    while (g->pending) pthread_cond_wait(&g->done, &g->mu);
    pthread_mutex_unlock(&g->mu);
    *ms_per_image = (now_ms() - t0) / ((double)g->w * g->b);
    for (int i = 0; i < g->w; i++)
        if (g->wk[i].st != FROST_OK) {
            fr_errorf(err, "frost_tune: run at batch %d with %d contexts: %s", g->b, g->w,
                      frost_context_error(g->wk[i].c.ctx));
            return g->wk[i].st;
        }
    return FROST_OK;
}

/* The thread splits at batch B: one context with all T threads (the choices
 * of `rec`, the pass size `micro`), then W contexts of T / W threads for
 * each W dividing T (the rules: a record is for its thread count), every
 * context busy; one split open at a time (W contexts at batch B hold what a
 * server running that split holds), a warm-up round, then `rounds`; the
 * most images per second recorded if it beats one context by 3 %. */
static frost_status tune_split(const frost_graph *g, frost_options o, const fr_tune_record *rec, int micro, int T, int B,
                               int rounds, frost_tune_result *res, char **err) {
    o.profiling = 0;
    o.max_batch = B;
    if (rounds > 7) rounds = 7;
    frost_status st = FROST_OK;
    int n = 0;
    for (int w = 1; w <= T && n < FROST_TUNE_SPLIT_MAX && st == FROST_OK; w++) {
        if (T % w) continue;
        frost_options ow = o;
        ow.threads = T / w;
        ow.micro_batch = o.micro_batch ? o.micro_batch : w == 1 ? micro : 0; /* fixed by the options, else measured */
        split_group grp;
        double t[TN_MAX_ROUNDS + 1];
        st = split_open(g, &ow, w == 1 ? rec : NULL, w, B, &grp, err);
        for (int r = 0; r <= rounds && st == FROST_OK; r++) st = split_round(&grp, &t[r], err); /* t[0]: warm-up */
        split_close(&grp);
        if (st != FROST_OK) break;
        res->split_contexts[n] = w;
        res->split_ms[n++] = median(t + 1, rounds);
    }
    if (st != FROST_OK) return st;
    int best = 0;
    for (int k = 1; k < n; k++)
        if (res->split_ms[k] < res->split_ms[best]) best = k;
    res->num_splits = n;
    if (best && res->split_ms[best] < 0.97 * res->split_ms[0]) res->thread_split = res->split_contexts[best];
    return FROST_OK;
}

void frost_tune_result_free(frost_tune_result *r) {
    if (!r) return;
    for (int i = 0; i < r->num_layers; i++) free((char *)r->layers[i].name);
    free(r->layers);
    free(r->record);
    free(r->cache_path);
    free(r);
}

frost_status frost_tune(const frost_graph *g, const frost_options *options, const int *batches, int nb,
                        double budget_s, int max_rounds, frost_tune_result **out, char **err) {
    if (err) *err = NULL;
    if (!g || !out || !batches || nb < 1 || nb > TN_MAX_BATCHES || budget_s < 0 || max_rounds < 3)
        return FROST_E_INVALID_ARGUMENT;
    *out = NULL;
    frost_options o;
    frost_status st = fr_options_read(g, options, &o, err);
    if (st != FROST_OK) return st;
    int maxb = 1;
    for (int k = 0; k < nb; k++) {
        if (batches[k] < 1 || batches[k] > 4096) return FROST_E_INVALID_ARGUMENT;
        if (batches[k] > maxb) maxb = batches[k];
    }
    o.max_batch = maxb;
    o.profiling = 1;
    o.tune_file = "";
    if (max_rounds > TN_MAX_ROUNDS) max_rounds = TN_MAX_ROUNDS;
    cand c[TN_CANDS + 1];
    memset(c, 0, sizeof c);
    frost_tune_result *res = calloc(1, sizeof *res);
    layer_times *T = NULL;
    int *picks = NULL;
    if (!res) return FROST_E_NO_MEMORY;
    /* the layers: the convolutions of the rules' plan, named as its profile names them */
    const frost_op_profile *prof;
    int n = 0;
    double ms;
    if ((st = cand_open(g, &o, NULL, &c[0], err)) != FROST_OK || (st = cand_run(&c[0], 1, &ms, &prof, &n, err)) != FROST_OK)
        goto done;
    res->layers = calloc((size_t)n + 1, sizeof *res->layers);
    if (!res->layers) goto oom;
    for (int e = 0; e < n; e++)
        if (prof[e].name && prof[e].op && !strncmp(prof[e].op, "Conv2D", 6)) {
            frost_tune_layer *l = &res->layers[res->num_layers];
            if (!(l->name = strdup(prof[e].name))) goto oom;
            l->flops = prof[e].flops;
            res->num_layers++;
        }
    int nl = res->num_layers;
    T = calloc((size_t)nl + 1, sizeof *T);
    picks = calloc((size_t)nl + 1, sizeof *picks);
    if (!T || !picks) goto oom;
    for (int k = 1; k < TN_CANDS && nl; k++)
        if ((st = make_record(c[0].m, res->layers, nl, NULL, k, &c[k].rec)) != FROST_OK ||
            (st = cand_open(g, &o, &c[k].rec, &c[k], err)) != FROST_OK)
            goto done;
    /* the rounds: every candidate in turn at every batch size */
    double t_end = now_ms() + budget_s * 1e3;
    int r = 0;
    for (; nl && r < max_rounds && (r < 3 || now_ms() < t_end); r++)
        for (int k = 0; k < TN_CANDS; k++)
            for (int b = 0; b < nb; b++) {
                if ((st = cand_run(&c[k], batches[b], &ms, &prof, &n, err)) != FROST_OK) goto done;
                for (int i = 0; i < nl; i++)
                    for (int e = 0; e < n; e++)
                        if (prof[e].runs > 0 && !strcmp(prof[e].name, res->layers[i].name)) {
                            T[i].ms[k][b][r] = prof[e].total_ms / (double)prof[e].runs;
                            T[i].kernel[k] = prof[e].kernel;
                        }
            }
    res->rounds = r;
    /* per layer: the fastest candidate that ran as forced, if it beats the rules by 3 % */
    for (int i = 0; i < nl; i++) {
        frost_tune_layer *l = &res->layers[i];
        for (int k = 0; k < TN_CANDS; k++) {
            l->ms[k] = -1;
            if (!T[i].kernel[k] || !ran_as(k, T[i].kernel[k])) continue;
            double sum = 0;
            for (int b = 0; b < nb; b++) sum += median(T[i].ms[k][b], r) / batches[b];
            l->ms[k] = sum;
        }
        picks[i] = T[i].kernel[0] ? as_candidate(T[i].kernel[0]) : 1;
        l->choice = l->rules = picks[i];
        double best = l->ms[0];
        for (int k = 1; k < TN_CANDS; k++)
            if (l->ms[k] >= 0 && best >= 0 && l->ms[k] < 0.97 * best) best = l->ms[k], l->choice = k;
    }
    /* the choices, whole, against the rules (interleaved) */
    res->kept = 0;
    if (nl) {
        for (int i = 0; i < nl; i++) picks[i] = res->layers[i].choice;
        if ((st = make_record(c[0].m, res->layers, nl, picks, 0, &c[TN_CANDS].rec)) != FROST_OK ||
            (st = cand_open(g, &o, &c[TN_CANDS].rec, &c[TN_CANDS], err)) != FROST_OK)
            goto done;
        for (int rep = 0; rep < 3; rep++) {
            double a, b;
            if ((st = whole(&c[0], batches, nb, r, &a, err)) != FROST_OK ||
                (st = whole(&c[TN_CANDS], batches, nb, r, &b, err)) != FROST_OK)
                goto done;
            res->rules_ms += a / 3, res->tuned_ms += b / 3;
        }
        res->kept = res->tuned_ms < res->rules_ms;
        if (!res->kept) /* the record then says what the rules run */
            for (int i = 0; i < nl; i++) res->layers[i].choice = res->layers[i].rules;
    }
    /* the pass size at the largest batch, unless the options fix it */
    if (maxb >= 2 && o.micro_batch == 0 &&
        (st = tune_micro(g, o, nl && res->kept ? &c[TN_CANDS].rec : NULL, maxb, r > 3 ? r : 3, res, err)) != FROST_OK)
        goto done;
    /* the thread split at the largest batch */
    int nthr = c[0].m->cfg.threads;
    if (nthr >= 2 && (st = tune_split(g, o, nl && res->kept ? &c[TN_CANDS].rec : NULL, res->micro_batch, nthr, maxb,
                                      r > 3 ? r : 3, res, err)) != FROST_OK)
        goto done;
    /* the record */
    char batches_s[TN_MAX_BATCHES * 6] = "";
    for (int b = 0, w = 0; b < nb; b++) w += snprintf(batches_s + w, sizeof batches_s - (size_t)w, "%s%d", b ? "," : "", batches[b]);
    const char **names = calloc((size_t)nl + 1, sizeof *names), **cands = calloc((size_t)nl + 1, sizeof *cands);
    if (!names || !cands) {
        free(names), free(cands);
        goto oom;
    }
    for (int i = 0; i < nl; i++) names[i] = res->layers[i].name, cands[i] = CANDS[res->layers[i].choice];
    st = fr_model_tune_record(c[0].m, names, cands, nl, batches_s, res->micro_batch, res->thread_split, &res->record,
                              err);
    free(names), free(cands);
    if (st == FROST_OK && frost_model_tune_path(c[0].m, &res->cache_path) == FROST_E_NO_MEMORY) st = FROST_E_NO_MEMORY;
    goto done;
oom:
    st = FROST_E_NO_MEMORY;
done:
    for (int k = 0; k <= TN_CANDS; k++) cand_close(&c[k]);
    free(T);
    free(picks);
    if (st != FROST_OK) {
        if (st == FROST_E_NO_MEMORY && err && !*err) fr_errorf(err, "frost_tune: out of memory");
        frost_tune_result_free(res);
        return st;
    }
    *out = res;
    return FROST_OK;
}
