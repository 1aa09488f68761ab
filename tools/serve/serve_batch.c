/* frost serve: dynamic batching.
 *
 * Connection threads decode and preprocess their instances, then queue one
 * sv_item per instance.  Each model has num_batch_threads batch threads, each
 * with its own frost_context on the shared frost_model.  A batch thread takes
 * up to max_batch_size queued items; while the batch is not full and more
 * items have been announced (requests being received or decoded), it waits
 * for them, but never longer than batch_timeout_micros after the oldest item
 * was queued.  So a lone client is never delayed, and concurrent clients
 * share batches.  Outputs are copied back and each item's waiter signalled. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "serve.h"

void sv_waiter_init(sv_waiter *w, int pending) {
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->cv, NULL);
    w->pending = pending;
    w->failed = 0;
    w->code = 500;
    w->error[0] = '\0';
}

void sv_waiter_wait(sv_waiter *w) {
    pthread_mutex_lock(&w->mu);
    while (w->pending > 0) pthread_cond_wait(&w->cv, &w->mu);
    pthread_mutex_unlock(&w->mu);
}

void sv_waiter_destroy(sv_waiter *w) {
    pthread_mutex_destroy(&w->mu);
    pthread_cond_destroy(&w->cv);
}

static void waiter_done(sv_waiter *w, const char *error, int code) {
    pthread_mutex_lock(&w->mu);
    if (error && !w->failed) {
        w->failed = 1;
        w->code = code;
        snprintf(w->error, sizeof w->error, "%s", error);
    }
    if (--w->pending == 0) pthread_cond_broadcast(&w->cv);
    pthread_mutex_unlock(&w->mu);
}


typedef struct {
    sv_batcher *b;
    int index;
} thread_arg;

/* Run items[first .. first + n) (their inputs already in in[], at their batch
 * positions) as pieces of the allowed sizes, largest first (15 = 8 + 4 + 2 +
 * 1): only those batch sizes ever get a plan, and all of them were built at
 * start-up.  String inputs are bound before each piece. */
static frost_status run_pieces(sv_batcher *b, frost_context *ctx, sv_item **items, int first, int n, float **in,
                               float **out, frost_string *strs) {
    sv_model *m = b->model;
    frost_status st = FROST_OK;
    for (int done = first; done < first + n && st == FROST_OK;) {
        int piece = 1;
        for (int k = 0; k < b->num_sizes; k++)
            if (b->sizes[k] <= first + n - done && b->sizes[k] > piece) piece = b->sizes[k];
        const float *pin[SERVE_MAX_IO];
        float *pout[SERVE_MAX_IO];
        for (int i = 0; i < m->num_inputs; i++) {
            pin[i] = in[i] + (size_t)done * m->in_size[i];
            if (!m->in_string[i]) continue;
            for (int k = 0; k < piece; k++) strs[k] = items[done + k]->strings[i];
            if ((st = frost_context_set_string_input(ctx, i, strs, piece)) != FROST_OK) return st;
        }
        for (int j = 0; j < m->num_outputs; j++) pout[j] = out[j] + (size_t)done * m->out_size[j];
        st = frost_context_run(ctx, piece, pin, pout);
        done += piece;
    }
    return st;
}

static void run_batch(sv_batcher *b, frost_context *ctx, sv_item **items, int n, float **in, float **out,
                      frost_string *strs) {
    sv_model *m = b->model;
    for (int i = 0; i < m->num_inputs; i++)
        for (int k = 0; k < n; k++)
            memcpy(in[i] + (size_t)k * m->in_size[i], items[k]->inputs[i], m->in_size[i] * sizeof(float));
    double t0 = sv_now();
    frost_status st = run_pieces(b, ctx, items, 0, n, in, out, strs);
    char msg[1024];
    int code = st == FROST_E_PARSE ? 400 : 500; /* bytes of a request the graph cannot parse (a tf.Example) */
    if (st != FROST_OK) snprintf(msg, sizeof msg, "inference failed: %s: %s", frost_strerror(st), frost_context_error(ctx));
    frost_status *one = NULL;
    if (st != FROST_OK && m->num_string_inputs && n > 1 && (one = malloc((size_t)n * sizeof *one))) {
        /* one request's bytes failed the run of several requests' items: run each alone, so that
         * only the items that fail answer the error */
        for (int k = 0; k < n; k++) one[k] = run_pieces(b, ctx, items, k, 1, in, out, strs);
    }
    double dt = sv_now() - t0;
    /* Counted before any waiter wakes: a client that has its answer then
     * reads /metrics with its batch in them. */
    pthread_mutex_lock(&b->mu);
    sv_hist_observe(&b->batch_sizes, sv_batch_bounds, SV_BATCH_BUCKETS, n);
    b->batches++;
    b->items += (uint64_t)n;
    b->run_seconds += dt;
    if (st != FROST_OK) b->run_errors++;
    pthread_mutex_unlock(&b->mu);
    for (int k = 0; k < n; k++) {
        frost_status sk = one ? one[k] : st;
        if (one && sk != FROST_OK)
            snprintf(msg, sizeof msg, "inference failed: %s: %s", frost_strerror(sk), frost_context_error(ctx));
        if (sk == FROST_OK)
            for (int j = 0; j < m->num_outputs; j++)
                memcpy(items[k]->outputs[j], out[j] + (size_t)k * m->out_size[j], m->out_size[j] * sizeof(float));
        waiter_done(items[k]->waiter, sk == FROST_OK ? NULL : msg, sk == FROST_E_PARSE ? 400 : code);
    }
    free(one);
}

static void *batch_thread(void *p) {
    thread_arg *a = p;
    sv_batcher *b = a->b;
    frost_context *ctx = b->contexts[a->index];
    free(a);
    sv_model *m = b->model;
    float *in[SERVE_MAX_IO] = {0}, *out[SERVE_MAX_IO] = {0};
    sv_item **items = malloc((size_t)b->max_batch * sizeof *items);
    frost_string *strs = malloc((size_t)b->max_batch * sizeof *strs);
    int ok = items != NULL && strs != NULL;
    for (int i = 0; i < m->num_inputs; i++)
        ok = ok && (in[i] = malloc((size_t)b->max_batch * m->in_size[i] * sizeof(float)));
    for (int j = 0; j < m->num_outputs; j++)
        ok = ok && (out[j] = malloc((size_t)b->max_batch * m->out_size[j] * sizeof(float)));
    pthread_mutex_lock(&b->mu);
    for (;;) {
        while (b->queued == 0 && !b->stopping) pthread_cond_wait(&b->cv, &b->mu);
        if (b->queued == 0) break; /* stopping and drained */
        while (b->queued < b->max_batch && b->incoming > 0 && !b->stopping) {
            double deadline = b->head->t_enqueue + b->timeout_s;
            if (sv_now() >= deadline) break;
            struct timespec ts;
            clock_gettime(CLOCK_MONOTONIC, &ts);
            double wait = deadline - sv_now();
            if (wait <= 0) break;
            ts.tv_sec += (time_t)wait;
            ts.tv_nsec += (long)((wait - (double)(time_t)wait) * 1e9);
            if (ts.tv_nsec >= 1000000000L) ts.tv_sec++, ts.tv_nsec -= 1000000000L;
            pthread_cond_timedwait(&b->cv, &b->mu, &ts);
            if (b->queued == 0) break;
        }
        if (b->queued == 0) continue;
        int n = 0, late = 0;
        double now = sv_now();
        while (n < b->max_batch && b->head) {
            sv_item *it = b->head;
            b->head = it->next;
            b->queued--;
            if (it->deadline > 0 && now > it->deadline) { /* waited past --rest_api_timeout_in_ms: not run */
                it->next = NULL;
                items[b->max_batch - 1 - late++] = it; /* kept at the end of items[], answered below */
                if (n + late >= b->max_batch) break;
                continue;
            }
            items[n++] = it;
        }
        if (!b->head) b->tail = NULL;
        pthread_mutex_unlock(&b->mu);
        for (int k = 0; k < late; k++)
            waiter_done(items[b->max_batch - 1 - k]->waiter, "Deadline Exceeded: the request waited in the queue "
                        "longer than --rest_api_timeout_in_ms", SV_DEADLINE_CODE);
        if (n == 0) {
            pthread_mutex_lock(&b->mu);
            continue;
        }
        if (ok) run_batch(b, ctx, items, n, in, out, strs);
        else
            for (int k = 0; k < n; k++) waiter_done(items[k]->waiter, "out of memory for the batch buffers", 503);
        pthread_mutex_lock(&b->mu);
    }
    pthread_mutex_unlock(&b->mu);
    for (int i = 0; i < SERVE_MAX_IO; i++) free(in[i]), free(out[i]);
    free(items);
    free(strs);
    return NULL;
}

int sv_batcher_start(sv_model *m, const sv_batch_config *cfg, char *err, size_t errlen) {
    sv_batcher *b = &m->batcher;
    memset(b, 0, sizeof *b);
    err[0] = '\0';
    b->model = m;
    b->max_batch = cfg->max_batch_size;
    b->max_queue = cfg->max_queue;
    b->timeout_s = (double)cfg->batch_timeout_micros * 1e-6;
    b->num_threads = cfg->num_batch_threads;
    pthread_mutex_init(&b->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&b->cv, &ca);
    pthread_condattr_destroy(&ca);
    b->threads = calloc((size_t)b->num_threads, sizeof *b->threads);
    b->contexts = calloc((size_t)b->num_threads, sizeof *b->contexts);
    if (!b->threads || !b->contexts) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    for (int t = 0; t < b->num_threads; t++) {
        char *msg = NULL;
        frost_status st = frost_context_create(m->model, &b->contexts[t], &msg);
        if (st != FROST_OK) {
            snprintf(err, errlen, "model '%s': cannot create a context: %s", m->name, msg ? msg : frost_strerror(st));
            frost_free(msg);
            return -1;
        }
    }
    /* allowed run sizes: the configured list, or the powers of two below max_batch and max_batch */
    if (cfg->num_allowed > 0) {
        for (int k = 0; k < cfg->num_allowed && k < SV_MAX_SIZES; k++) b->sizes[b->num_sizes++] = cfg->allowed[k];
    } else {
        for (int v = 1; v < b->max_batch && b->num_sizes < SV_MAX_SIZES - 1; v *= 2) b->sizes[b->num_sizes++] = v;
        b->sizes[b->num_sizes++] = b->max_batch;
    }
    if (cfg->warmup) { /* build the plan of every run size now, not while answering a request */
        float *in[SERVE_MAX_IO] = {0}, *out[SERVE_MAX_IO] = {0};
        int ok = 1;
        for (int i = 0; i < m->num_inputs; i++)
            ok = ok && (in[i] = calloc((size_t)b->max_batch * m->in_size[i], sizeof(float)));
        for (int j = 0; j < m->num_outputs; j++)
            ok = ok && (out[j] = calloc((size_t)b->max_batch * m->out_size[j], sizeof(float)));
        for (int t = 0; ok && t < b->num_threads; t++) {
            for (int k = 0; k < b->num_sizes; k++) {
                /* string inputs have no neutral value to run on: build the plan only */
                frost_status st = m->num_string_inputs
                                      ? frost_context_reserve(b->contexts[t], b->sizes[k])
                                      : frost_context_run(b->contexts[t], b->sizes[k], (const float *const *)in, out);
                if (st != FROST_OK) {
                    snprintf(err, errlen, "model '%s': warm-up run at batch %d failed: %s", m->name, b->sizes[k],
                             frost_context_error(b->contexts[t]));
                    ok = 0;
                    break;
                }
            }
        }
        for (int i = 0; i < SERVE_MAX_IO; i++) free(in[i]), free(out[i]);
        if (!ok) {
            if (!err[0]) snprintf(err, errlen, "out of memory");
            return -1;
        }
    }
    for (int t = 0; t < b->num_threads; t++) {
        thread_arg *a = malloc(sizeof *a);
        if (!a) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        a->b = b;
        a->index = t;
        if (pthread_create(&b->threads[t], NULL, batch_thread, a)) {
            free(a);
            snprintf(err, errlen, "cannot start a batch thread");
            return -1;
        }
        b->threads_started++;
    }
    return 0;
}

void sv_batcher_announce(sv_batcher *b, int n) {
    pthread_mutex_lock(&b->mu);
    b->incoming += n;
    if (n < 0) pthread_cond_broadcast(&b->cv);
    pthread_mutex_unlock(&b->mu);
}

int sv_batcher_submit(sv_batcher *b, sv_item *items, int n, int announced) {
    double now = sv_now();
    pthread_mutex_lock(&b->mu);
    b->incoming -= announced;
    if (b->stopping || b->queued + n > b->max_queue) {
        pthread_cond_broadcast(&b->cv);
        pthread_mutex_unlock(&b->mu);
        return -1;
    }
    for (int k = 0; k < n; k++) {
        items[k].next = NULL;
        items[k].t_enqueue = now;
        if (b->tail) b->tail->next = &items[k];
        else b->head = &items[k];
        b->tail = &items[k];
    }
    b->queued += n;
    pthread_cond_broadcast(&b->cv);
    pthread_mutex_unlock(&b->mu);
    return 0;
}

int sv_batcher_queue_depth(sv_batcher *b) {
    pthread_mutex_lock(&b->mu);
    int n = b->queued;
    pthread_mutex_unlock(&b->mu);
    return n;
}

void sv_batcher_stop(sv_batcher *b) {
    if (!b->model) return;
    pthread_mutex_lock(&b->mu);
    b->stopping = 1;
    pthread_cond_broadcast(&b->cv);
    pthread_mutex_unlock(&b->mu);
    for (int t = 0; t < b->threads_started; t++) pthread_join(b->threads[t], NULL);
    b->threads_started = 0;
    for (int t = 0; t < b->num_threads && b->contexts; t++) frost_context_free(b->contexts[t]);
    free(b->contexts);
    free(b->threads);
    b->contexts = NULL;
    b->threads = NULL;
    pthread_mutex_destroy(&b->mu);
    pthread_cond_destroy(&b->cv);
    b->model = NULL;
}
