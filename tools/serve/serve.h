/* frost serve: internal interfaces shared by tools/serve/cmd_serve.c and serve_*.c.
 *
 *   cmd_serve.c     flags, model specs, start-up, signal handling, drain
 *   serve_http.c    libmicrohttpd handler: routing, body limits, endpoints
 *   serve_json.c    JSON pre-scan, request parsing into float tensors, responses
 *   serve_batch.c   the dynamic-batching queue and its batch threads
 *   serve_metrics.c Prometheus counters and histograms
 */
#ifndef FROST_SERVE_H
#define FROST_SERVE_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "frost.h"

#define SERVE_MAX_IO 8 /* inputs / outputs of a served model */

/* ---- growable string ---------------------------------------------------- */
typedef struct sv_buf {
    char *data;
    size_t len, cap;
    int oom;
} sv_buf;

void sv_buf_put(sv_buf *b, const char *s, size_t n);
void sv_buf_puts(sv_buf *b, const char *s);
void sv_buf_printf(sv_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sv_buf_json_string(sv_buf *b, const char *s); /* quoted and escaped */
void sv_buf_float(sv_buf *b, float v);             /* shortest-ish, NaN / Infinity as TF Serving */

/* ---- metrics -------------------------------------------------------------- */
#define SV_LAT_BUCKETS 14
#define SV_BATCH_BUCKETS 10

typedef struct sv_hist {
    uint64_t counts[16]; /* per bucket (not cumulative); last = +Inf */
    uint64_t count;
    double sum;
} sv_hist;

typedef struct sv_metrics {
    pthread_mutex_t mu;
    uint64_t by_code[600];
    sv_hist latency; /* seconds */
} sv_metrics;

/* Counts v in h: in the first bucket whose upper bound is >= v, else +Inf. */
void sv_hist_observe(sv_hist *h, const double *bounds, int nbounds, double v);
/* Upper bounds of the batch-size buckets (frost_serve_batch_size). */
extern const double sv_batch_bounds[SV_BATCH_BUCKETS];

void sv_metrics_init(sv_metrics *m);
void sv_metrics_destroy(sv_metrics *m);
void sv_metrics_request(sv_metrics *m, unsigned code, double seconds);

/* ---- models and batching -------------------------------------------------- */
typedef struct sv_waiter {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int pending;   /* items not yet answered */
    int failed;    /* non-zero: error[] holds the first failure */
    char error[256];
} sv_waiter;

void sv_waiter_init(sv_waiter *w, int pending);
void sv_waiter_wait(sv_waiter *w);
void sv_waiter_destroy(sv_waiter *w);

/* One instance queued for inference. */
typedef struct sv_item {
    struct sv_item *next;
    const float *inputs[SERVE_MAX_IO]; /* one batch item of each input */
    float *outputs[SERVE_MAX_IO];      /* where one batch item of each output goes */
    sv_waiter *waiter;
    double t_enqueue;
} sv_item;

typedef struct sv_model sv_model;

/* Decode + preprocess time of a model's images (connection threads). */
typedef struct sv_decode_stats {
    _Atomic uint64_t images;
    _Atomic uint64_t nanoseconds;
} sv_decode_stats;

#define SV_MAX_SIZES 32

typedef struct sv_batcher {
    sv_model *model;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    sv_item *head, *tail;
    int queued;   /* items in the queue */
    int incoming; /* items announced (request being received / decoded), not yet queued */
    int stopping;
    int max_batch;
    int sizes[SV_MAX_SIZES]; /* batch sizes a run may have; a batch runs as pieces of these */
    int num_sizes;
    int max_queue;
    double timeout_s;
    int num_threads;
    pthread_t *threads;
    int threads_started;
    frost_context **contexts;
    /* statistics (under mu) */
    sv_hist batch_sizes;
    uint64_t batches, items, run_errors;
    double run_seconds;
} sv_batcher;

struct sv_model {
    char *name;
    char *path;
    char *input_name, *output_name; /* NULL: detected */
    char *labels_path;
    char **labels;
    int num_labels;
    frost_preprocess pp; /* width/height filled from the image input's shape */
    int top_k;
    int fast_decode; /* JPEG DCT scaling (not TensorFlow-exact) */
    frost_model *model;
    int num_inputs, num_outputs;
    frost_shape in_shape[SERVE_MAX_IO], out_shape[SERVE_MAX_IO];
    size_t in_size[SERVE_MAX_IO], out_size[SERVE_MAX_IO];
    int image_input; /* index of the NHWC 3-channel input that takes images, -1 if none */
    sv_decode_stats *decode_stats;
    sv_batcher batcher;
};

/* Batching configuration (TF Serving's knobs). */
typedef struct sv_batch_config {
    int max_batch_size;
    int64_t batch_timeout_micros;
    int num_batch_threads;
    int max_queue;
    int warmup; /* run every allowed batch size once at start-up */
    int allowed[SV_MAX_SIZES]; /* --allowed_batch_sizes (ascending, last = max_batch_size); 0 entries: powers of two */
    int num_allowed;
} sv_batch_config;

int sv_batcher_start(sv_model *m, const sv_batch_config *cfg, char *err, size_t errlen);
/* Announce items that will be submitted soon (lets a forming batch wait for them). */
void sv_batcher_announce(sv_batcher *b, int n);
/* Submit n items (they move from "announced" to "queued": pass announced = how many
 * of them were announced).  Returns 0, or -1 when the queue is full or stopping
 * (nothing queued; the announcement is withdrawn). */
int sv_batcher_submit(sv_batcher *b, sv_item *items, int n, int announced);
/* Finish every queued item, then stop and join the threads, free the contexts. */
void sv_batcher_stop(sv_batcher *b);
int sv_batcher_queue_depth(sv_batcher *b);

/* ---- server --------------------------------------------------------------- */
typedef struct sv_limits {
    size_t max_body_bytes;
    int max_json_depth;
    int max_instances;
    int64_t max_pixels;
    double request_timeout_s; /* the body must have arrived this long after the headers */
} sv_limits;

typedef struct sv_server {
    sv_model *models;
    int num_models;
    sv_limits limits;
    sv_metrics metrics;
    pthread_mutex_t mu;
    pthread_cond_t idle_cv;
    int active;   /* requests in progress */
    int draining; /* SIGTERM received: new requests get 503 */
} sv_server;

sv_model *sv_server_find(sv_server *s, const char *name, size_t len);

/* ---- JSON requests -------------------------------------------------------- */
/* Largest bracket nesting of a JSON text, scanning outside strings without
 * recursion; stops early (returns max + 1) once max is exceeded.  *values_out
 * (may be NULL) receives an upper bound of the number of values (commas + 1). */
int sv_json_scan(const char *s, size_t n, int max, size_t *values_out);

/* Base64 (standard or URL-safe alphabet, padding optional, whitespace ignored).
 * Returns a malloc'd buffer and its size, or NULL on bad input. */
uint8_t *sv_base64_decode(const char *s, size_t n, size_t *size_out);

/* Decode + preprocess an encoded image into the model's image input (one batch item). */
int sv_image_to_input(const sv_model *m, const sv_limits *lim, const void *data, size_t size, float *out,
                      char *err, size_t errlen, int *http_code);

/* A parsed request: instances already turned into float tensors. */
typedef struct sv_request {
    int count;         /* instances */
    int columnar;      /* "inputs" (answer "outputs") instead of "instances" */
    float *in;         /* count * sum(in_size) floats, instance-major per input */
    float *out;        /* count * sum(out_size) floats */
    float *in_ptr[SERVE_MAX_IO];
    float *out_ptr[SERVE_MAX_IO];
} sv_request;

/* Parse a predict / classify JSON body (classify also takes "examples").
 * On failure returns -1 with *http_code and err set. */
int sv_request_parse_json(const sv_model *m, const sv_limits *lim, const char *body, size_t len, int classify,
                          sv_request *req, char *err, size_t errlen, int *http_code);
/* One raw encoded image. */
int sv_request_from_image(const sv_model *m, const sv_limits *lim, const void *data, size_t len, sv_request *req,
                          char *err, size_t errlen, int *http_code);
int sv_request_alloc(const sv_model *m, int count, sv_request *req);
void sv_request_free(sv_request *req);

/* Responses (malloc'd JSON text). */
/* Fill m's signature from its compiled model: input/output counts, shapes and
 * sizes, and the image input (frost_model_image_spec: the first NHWC input
 * with 3 channels, whose height/width become m->pp's).  -1 when the model has no inputs or outputs,
 * or more than SERVE_MAX_IO of either. */
int sv_model_describe(sv_model *m);

char *sv_response_predict(const sv_model *m, const sv_request *req, size_t *len);
char *sv_response_classify(const sv_model *m, const sv_request *req, int top_k, size_t *len);
char *sv_response_status(const sv_model *m, size_t *len);
char *sv_response_metadata(const sv_model *m, size_t *len);
char *sv_response_error(const char *msg, size_t *len);
char *sv_response_metrics(sv_server *s, size_t *len);

/* ---- HTTP ----------------------------------------------------------------- */
struct MHD_Daemon;
struct sv_http_config {
    int listen_fd;
    unsigned timeout_s;
    unsigned max_connections;
    unsigned per_ip_connections;
    int ipv6;
};
struct MHD_Daemon *sv_http_start(sv_server *s, const struct sv_http_config *cfg);

double sv_now(void); /* monotonic seconds */

#endif
