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

    sv_buf_puts(&b, "# HELP frost_serve_batch_size Instances per inference run.\n"
                    "# TYPE frost_serve_batch_size histogram\n");
    for (int k = 0; k < s->num_models; k++) {
        sv_batcher *bt = &s->models[k].batcher;
        pthread_mutex_lock(&bt->mu);
        cum = 0;
        for (int i = 0; i < SV_BATCH_BUCKETS; i++) {
            cum += bt->batch_sizes.counts[i];
            sv_buf_printf(&b, "frost_serve_batch_size_bucket{model=\"%s\",le=\"%g\"} %llu\n", s->models[k].name,
                          sv_batch_bounds[i], (unsigned long long)cum);
        }
        sv_buf_printf(&b, "frost_serve_batch_size_bucket{model=\"%s\",le=\"+Inf\"} %llu\n", s->models[k].name,
                      (unsigned long long)bt->batch_sizes.count);
        sv_buf_printf(&b, "frost_serve_batch_size_sum{model=\"%s\"} %.0f\n", s->models[k].name, bt->batch_sizes.sum);
        sv_buf_printf(&b, "frost_serve_batch_size_count{model=\"%s\"} %llu\n", s->models[k].name,
                      (unsigned long long)bt->batch_sizes.count);
        pthread_mutex_unlock(&bt->mu);
    }
    sv_buf_puts(&b, "# HELP frost_serve_queue_depth Instances waiting for a batch thread.\n"
                    "# TYPE frost_serve_queue_depth gauge\n");
    for (int k = 0; k < s->num_models; k++)
        sv_buf_printf(&b, "frost_serve_queue_depth{model=\"%s\"} %d\n", s->models[k].name,
                      sv_batcher_queue_depth(&s->models[k].batcher));
    for (int pass = 0; pass < 2; pass++) {
        sv_buf_puts(&b, pass ? "# HELP frost_serve_inference_errors_total Failed inference runs.\n"
                               "# TYPE frost_serve_inference_errors_total counter\n"
                             : "# HELP frost_serve_inference_seconds_total Time spent in frost_context_run.\n"
                               "# TYPE frost_serve_inference_seconds_total counter\n");
        for (int k = 0; k < s->num_models; k++) {
            sv_batcher *bt = &s->models[k].batcher;
            pthread_mutex_lock(&bt->mu);
            double t = bt->run_seconds;
            uint64_t errs = bt->run_errors;
            pthread_mutex_unlock(&bt->mu);
            if (pass) sv_buf_printf(&b, "frost_serve_inference_errors_total{model=\"%s\"} %llu\n", s->models[k].name,
                                    (unsigned long long)errs);
            else sv_buf_printf(&b, "frost_serve_inference_seconds_total{model=\"%s\"} %.6f\n", s->models[k].name, t);
        }
    }
    sv_buf_puts(&b, "# HELP frost_serve_decode_seconds_total Time spent decoding and preprocessing images.\n"
                    "# TYPE frost_serve_decode_seconds_total counter\n");
    for (int k = 0; k < s->num_models; k++)
        if (s->models[k].decode_stats)
            sv_buf_printf(&b, "frost_serve_decode_seconds_total{model=\"%s\"} %.6f\n", s->models[k].name,
                          (double)atomic_load(&s->models[k].decode_stats->nanoseconds) * 1e-9);
    sv_buf_puts(&b, "# HELP frost_serve_decoded_images_total Images decoded and preprocessed.\n"
                    "# TYPE frost_serve_decoded_images_total counter\n");
    for (int k = 0; k < s->num_models; k++)
        if (s->models[k].decode_stats)
            sv_buf_printf(&b, "frost_serve_decoded_images_total{model=\"%s\"} %llu\n", s->models[k].name,
                          (unsigned long long)atomic_load(&s->models[k].decode_stats->images));
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
