/* frost serve: Prometheus metrics (text exposition format 0.0.4). */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "serve.h"

static const double lat_bounds[SV_LAT_BUCKETS] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                                  0.1,    0.25,  0.5,    1,     2.5,   5,     10};
const double sv_batch_bounds[SV_BATCH_BUCKETS] = {1, 2, 4, 8, 16, 32, 64, 128, 256, 512};

void sv_hist_observe(sv_hist *h, const double *bounds, int nbounds, double v) {
    int bucket = nbounds;
    for (int i = 0; i < nbounds; i++)
        if (v <= bounds[i]) {
            bucket = i;
            break;
        }
    h->counts[bucket]++;
    h->count++;
    h->sum += v;
}

void sv_metrics_init(sv_metrics *m) {
    memset(m, 0, sizeof *m);
    pthread_mutex_init(&m->mu, NULL);
}

void sv_metrics_destroy(sv_metrics *m) { pthread_mutex_destroy(&m->mu); }

void sv_metrics_request(sv_metrics *m, unsigned code, double seconds) {
    pthread_mutex_lock(&m->mu);
    if (code < 600) m->by_code[code]++;
    sv_hist_observe(&m->latency, lat_bounds, SV_LAT_BUCKETS, seconds);
    pthread_mutex_unlock(&m->mu);
}

/* The labels of a runner's series: model="NAME" (a frozen graph), with
 * version="V",signature="KEY" for a SavedModel's signature. */
static void runner_labels(const sv_model *m, char *buf, size_t n) {
    if (m->savedmodel)
        snprintf(buf, n, "model=\"%s\",version=\"%lld\",signature=\"%s\"", m->name, (long long)m->version, m->sig_key);
    else
        snprintf(buf, n, "model=\"%s\"", m->name);
}

/* One runner's lines of a metric family (the order of help[] below). */
static void put_runner(sv_buf *b, sv_model *m, int family) {
    char lab[600];
    runner_labels(m, lab, sizeof lab);
    sv_batcher *bt = &m->batcher;
    if (family == 0) {
        pthread_mutex_lock(&bt->mu);
        uint64_t cum = 0;
        for (int i = 0; i < SV_BATCH_BUCKETS; i++) {
            cum += bt->batch_sizes.counts[i];
            sv_buf_printf(b, "frost_serve_batch_size_bucket{%s,le=\"%g\"} %llu\n", lab, sv_batch_bounds[i],
                          (unsigned long long)cum);
        }
        sv_buf_printf(b, "frost_serve_batch_size_bucket{%s,le=\"+Inf\"} %llu\n", lab,
                      (unsigned long long)bt->batch_sizes.count);
        sv_buf_printf(b, "frost_serve_batch_size_sum{%s} %.0f\n", lab, bt->batch_sizes.sum);
        sv_buf_printf(b, "frost_serve_batch_size_count{%s} %llu\n", lab, (unsigned long long)bt->batch_sizes.count);
        pthread_mutex_unlock(&bt->mu);
    } else if (family == 1)
        sv_buf_printf(b, "frost_serve_queue_depth{%s} %d\n", lab, sv_batcher_queue_depth(bt));
    else if (family == 2 || family == 3) {
        pthread_mutex_lock(&bt->mu);
        double t = bt->run_seconds;
        uint64_t errs = bt->run_errors;
        pthread_mutex_unlock(&bt->mu);
        if (family == 3) sv_buf_printf(b, "frost_serve_inference_errors_total{%s} %llu\n", lab, (unsigned long long)errs);
        else sv_buf_printf(b, "frost_serve_inference_seconds_total{%s} %.6f\n", lab, t);
    } else if (family == 4 && m->decode_stats)
        sv_buf_printf(b, "frost_serve_decode_seconds_total{%s} %.6f\n", lab,
                      (double)atomic_load(&m->decode_stats->nanoseconds) * 1e-9);
    else if (family == 5 && m->decode_stats)
        sv_buf_printf(b, "frost_serve_decoded_images_total{%s} %llu\n", lab,
                      (unsigned long long)atomic_load(&m->decode_stats->images));
}

char *sv_response_metrics(sv_server *s, size_t *len) {
    sv_buf b = {0};
    sv_metrics *m = &s->metrics;
    pthread_mutex_lock(&m->mu);
    sv_buf_puts(&b, "# HELP frost_serve_requests_total HTTP requests answered, by status code.\n"
                    "# TYPE frost_serve_requests_total counter\n");
    for (unsigned c = 100; c < 600; c++)
        if (m->by_code[c]) sv_buf_printf(&b, "frost_serve_requests_total{code=\"%u\"} %llu\n", c,
                                         (unsigned long long)m->by_code[c]);
    sv_buf_puts(&b, "# HELP frost_serve_request_duration_seconds Time from the request's arrival to its answer.\n"
                    "# TYPE frost_serve_request_duration_seconds histogram\n");
    uint64_t cum = 0;
    for (int i = 0; i < SV_LAT_BUCKETS; i++) {
        cum += m->latency.counts[i];
        sv_buf_printf(&b, "frost_serve_request_duration_seconds_bucket{le=\"%g\"} %llu\n", lat_bounds[i],
                      (unsigned long long)cum);
    }
    sv_buf_printf(&b, "frost_serve_request_duration_seconds_bucket{le=\"+Inf\"} %llu\n",
                  (unsigned long long)m->latency.count);
    sv_buf_printf(&b, "frost_serve_request_duration_seconds_sum %.6f\n", m->latency.sum);
    sv_buf_printf(&b, "frost_serve_request_duration_seconds_count %llu\n", (unsigned long long)m->latency.count);
    pthread_mutex_unlock(&m->mu);

    static const char *const help[] = {
        "# HELP frost_serve_batch_size Instances per inference run.\n# TYPE frost_serve_batch_size histogram\n",
        "# HELP frost_serve_queue_depth Instances waiting for a batch thread.\n# TYPE frost_serve_queue_depth gauge\n",
        "# HELP frost_serve_inference_seconds_total Time spent in frost_context_run.\n"
        "# TYPE frost_serve_inference_seconds_total counter\n",
        "# HELP frost_serve_inference_errors_total Failed inference runs.\n"
        "# TYPE frost_serve_inference_errors_total counter\n",
        "# HELP frost_serve_decode_seconds_total Time spent decoding and preprocessing images.\n"
        "# TYPE frost_serve_decode_seconds_total counter\n",
        "# HELP frost_serve_decoded_images_total Images decoded and preprocessed.\n"
        "# TYPE frost_serve_decoded_images_total counter\n"};
    for (int family = 0; family < 6; family++) {
        sv_buf_puts(&b, help[family]);
        for (int k = 0; k < s->num_models; k++) {
            sv_servable *sv = &s->models[k];
            pthread_mutex_lock(&sv->mu);
            for (int l = 0; l < sv->num_live; l++) {
                sv_version *v = sv->live[l];
                pthread_mutex_lock(&v->mu);
                for (int g = 0; g < v->num_sigs; g++)
                    if (v->sigs[g].run) put_runner(&b, v->sigs[g].run, family);
                pthread_mutex_unlock(&v->mu);
            }
            pthread_mutex_unlock(&sv->mu);
        }
    }
    pthread_mutex_lock(&s->mu);
    sv_buf_printf(&b, "# HELP frost_serve_requests_in_progress Requests being received, decoded or run.\n"
                      "# TYPE frost_serve_requests_in_progress gauge\nfrost_serve_requests_in_progress %d\n",
                  s->active);
    pthread_mutex_unlock(&s->mu);
    if (b.oom) {
        free(b.data);
        return NULL;
    }
    *len = b.len;
    return b.data;
}
