/* frost serve: internal interfaces shared by tools/serve/cmd_serve.c and serve_*.c.
 *
 *   cmd_serve.c      start-up, signal handling, drain
 *   serve_flags.c    frost's flags and TensorFlow Serving's (tensorflow_model_server's)
 *   serve_config.c   TF Serving's text-format config files (serve_config.h)
 *   serve_models.c   served models: versions, signatures, loading, reference counts
 *   serve_poll.c     the base path: version folders, the version policy, polling, unloading
 *   serve_http.c     libmicrohttpd handler: routing, body limits, endpoints
 *   serve_json.c     JSON pre-scan, request parsing into float tensors
 *   serve_response.c JSON answers: predict, classify, status, metadata
 *   serve_example.c  :classify / :regress "examples" as serialized tf.Example protos
 *   serve_warmup.c   a SavedModel's warm-up requests (assets.extra/, serve_warmup.h), run at load
 *   serve_batch.c    the dynamic-batching queue and its batch threads
 *   serve_metrics.c  Prometheus counters and histograms
 *
 * Objects: a server holds served models (sv_servable, one per model name);
 * each has live versions (sv_version, reference counted: a request holds its
 * version until answered, so a version unloaded meanwhile is freed only
 * after its last request); a version has signatures (sv_signature); a
 * signature that runs has a runner (sv_model: one compiled frost_model and
 * its batcher). */
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
    int failed;    /* non-zero: error[] holds the first failure, code its HTTP status */
    int code;
    char error[1024];
} sv_waiter;

void sv_waiter_init(sv_waiter *w, int pending);
/* Items whose deadline has passed before their batch ran are answered with
 * this code (TF Serving's DEADLINE_EXCEEDED). */
#define SV_DEADLINE_CODE 504
void sv_waiter_wait(sv_waiter *w);
void sv_waiter_destroy(sv_waiter *w);

/* One instance queued for inference. */
typedef struct sv_item {
    struct sv_item *next;
    const float *inputs[SERVE_MAX_IO]; /* one batch item of each input */
    frost_string strings[SERVE_MAX_IO]; /* ... and of each string input (a tf.Example, an encoded image) */
    float *outputs[SERVE_MAX_IO];      /* where one batch item of each output goes */
    sv_waiter *waiter;
    double t_enqueue;
    double deadline; /* monotonic seconds; 0: none (--rest_api_timeout_in_ms) */
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

/* A runner: one compiled signature (a frozen graph, or one SavedModel
 * signature frozen by the library) and its batcher. */
struct sv_model {
    char *name;     /* the model's name */
    char *sig_key;  /* the signature ("serving_default" for a frozen graph) */
    int64_t version;
    int savedmodel; /* metrics labels name the version and signature */
    char *in_key[SERVE_MAX_IO], *out_key[SERVE_MAX_IO]; /* names in JSON requests and answers */
    int out_dtype[SERVE_MAX_IO];                         /* answers print integers for integer outputs */
    int in_string[SERVE_MAX_IO]; /* a string input (frost_model_input_dtype): items are byte strings */
    int num_string_inputs;
    char **labels; /* borrowed from the servable's options */
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

/* ---- served models, versions, signatures (serve_models.c, serve_poll.c) ---- */
#include "serve_config.h"

/* One input or output of a signature, as its metadata lists it. */
typedef struct sv_tensor {
    char *key;  /* the signature's name for it ("x") */
    char *name; /* the graph tensor ("x:0") */
    int dtype;  /* frost_dtype */
    frost_shape shape; /* rank -1: unknown */
} sv_tensor;

typedef enum sv_sig_state { SV_SIG_UNTRIED, SV_SIG_READY, SV_SIG_FAILED } sv_sig_state;

typedef struct sv_signature {
    char *key, *method;
    sv_tensor *inputs, *outputs;
    int num_inputs, num_outputs;
    sv_sig_state state; /* SavedModel signatures compile on first use, but the default one */
    sv_model *run;      /* READY */
    char *error;        /* FAILED: why frost cannot run it */
    int error_code;     /* its HTTP status */
} sv_signature;

/* A version of a served model; its state as GET /v1/models/NAME lists it. */
typedef enum sv_state { SV_START, SV_LOADING, SV_AVAILABLE, SV_UNLOADING, SV_END } sv_state;

struct sv_servable;
typedef struct sv_version {
    struct sv_servable *owner;
    int64_t number;
    char *path;                /* the SavedModel directory or the frozen graph */
    frost_savedmodel *sm;      /* kept open for the signatures compiled on first use; NULL: frozen graph */
    sv_signature *sigs;        /* sorted by key */
    int num_sigs;
    int default_sig;           /* "serving_default" (or the only one), -1: none */
    pthread_mutex_t mu;        /* compiling a signature */
    _Atomic int refs;          /* the live list's + one per request in flight */
    struct sv_version *next;   /* in the retired list */
} sv_version;

typedef struct sv_status_entry {
    int64_t version;
    sv_state state;
    char *error; /* NULL: OK */
    const char *error_code; /* TF Serving's name ("UNIMPLEMENTED") when error */
} sv_status_entry;

/* frost's per-model keys (--model NAME=PATH,key=value), shared by every version. */
typedef struct sv_model_opts {
    char *input_name, *output_name; /* frozen graphs; NULL: detected */
    char *labels_path;
    char **labels;
    int num_labels;
    frost_preprocess pp; /* mean, std, resize */
    int width, height;   /* input_width / input_height (0: from the graph) */
    int top_k;
    int fast_decode;
} sv_model_opts;

/* How PATH is laid out. */
typedef enum sv_layout {
    SV_FROZEN,     /* a GraphDef file: version 1 */
    SV_SAVEDMODEL, /* one SavedModel directory: version = its name if a number, else 1 */
    SV_BASE_PATH   /* numbered version folders, polled */
} sv_layout;

typedef struct sv_servable {
    char *name;
    char *base_path;
    sv_layout layout;
    sv_version_policy policy;
    char *label_keys[SV_MAX_LABELS];
    int64_t label_versions[SV_MAX_LABELS];
    int num_labels;
    sv_model_opts opts;
    pthread_mutex_t mu;        /* the lists below */
    sv_version **live;         /* descending version numbers */
    int num_live, cap_live;
    sv_version *retired;       /* unloaded, waiting for their last request */
    sv_status_entry *status;   /* every version seen, descending */
    int num_status, cap_status;
    int from_flags;            /* --model / --model_base_path: not the config file's */
    _Atomic int removed;       /* left out of a re-read --model_config_file: not found, no versions */
    int64_t *failed;           /* versions that failed to load, with the stamp of their files */
    int64_t *failed_stamp;
    int num_failed, cap_failed;
} sv_servable;

#define SV_RELOAD_ROOM 256 /* models a re-read --model_config_file may add */

typedef struct sv_server {
    sv_servable *models; /* cap_models entries, never moved: a re-read config file appends */
    _Atomic int num_models;
    int cap_models;
    const char *config_file; /* --model_config_file */
    double config_poll_s;  /* --model_config_file_poll_wait_seconds (<= 0: read once) */
    int64_t config_stamp;  /* the file's mtime and size when last read */
    sv_limits limits;
    sv_metrics metrics;
    frost_options compile; /* engine flags applied, max_batch */
    sv_batch_config batch;
    double timeout_s;      /* --rest_api_timeout_in_ms (0: none) */
    char *prometheus_path; /* --monitoring_config_file's path besides /metrics; NULL: none */
    double poll_s;         /* --file_system_poll_wait_seconds (<= 0: no polling) */
    pthread_t poller;
    int poller_started, poller_stop;
    pthread_cond_t poll_cv; /* with mu */
    pthread_mutex_t mu;
    pthread_cond_t idle_cv;
    int active;   /* requests in progress */
    int draining; /* SIGTERM received: new requests get 503 */
    int warmup_iterations; /* --num_request_iterations_for_warmup; 0: no warm-up requests (--enable_model_warmup=false) */
    /* --tune (serve_tune.c) */
    int tune_budget;
    pthread_t tuner;
    int tuner_started;
    _Atomic int tuner_stop;
} sv_server;

sv_servable *sv_server_find(sv_server *s, const char *name, size_t len);

/* Set up servable `sv` (name, base_path, layout detected from the path; opts
 * and policy filled by the caller) and load its first version(s).  -1 with a
 * message in err. */
int sv_servable_start(sv_server *srv, sv_servable *sv, char *err, size_t errlen);
void sv_servable_free(sv_servable *sv);
void sv_model_opts_init(sv_model_opts *o);

/* The version a request names: `version` >= 0, a label (label != NULL), else
 * the latest.  Holds a reference (sv_version_release).  NULL with *code and
 * err as TF Serving answers (404 not found, 400 unknown label). */
sv_version *sv_servable_acquire(sv_servable *sv, int64_t version, const char *label, char *err, size_t errlen,
                                int *code);
void sv_version_release(sv_version *v);
/* The runner of signature `key` (NULL or "": the default), compiled on first
 * use.  NULL with *code and err (400 no such signature, 501 a signature frost
 * cannot run, with the library's reason). */
sv_model *sv_version_runner(sv_server *srv, sv_version *v, const char *key, char *err, size_t errlen, int *code);
int sv_version_find_sig(const sv_version *v, const char *key);

/* Loading (serve_models.c): a version from its path; NULL with err and *err_code (TF Serving's name). */
sv_version *sv_version_load(sv_server *srv, sv_servable *sv, int64_t number, const char *path, char *err,
                            size_t errlen, const char **err_code);
void sv_version_free(sv_version *v);
/* Warm-up (serve_warmup.c): runs the requests of the version's
 * assets.extra/tf_serving_warmup_requests, if it has one, `iterations`
 * times each, through their signatures' runners.  0 (*records: the records
 * read; 0 without the file), or -1 with err and *code (TF Serving's name)
 * when the file is corrupt or a request fails: the load fails, as in TF
 * Serving. */
int sv_warmup_version(sv_server *srv, sv_version *v, int iterations, int *records, char *err, size_t errlen,
                      const char **code);
/* The status list: set the state of a version (error NULL: OK). Under sv->mu. */
void sv_status_set(sv_servable *sv, int64_t version, sv_state state, const char *error, const char *error_code);

/* Polling (serve_poll.c): one pass over a base path (load new versions in the
 * policy, unload the others, free unloaded versions nobody uses); the thread
 * that repeats it every srv->poll_s seconds. */
int sv_servable_poll(sv_server *srv, sv_servable *sv, char *err, size_t errlen);
void sv_servable_reap(sv_servable *sv);
int sv_poller_start(sv_server *srv);
/* Every live version of sv unloaded (freed after their last requests). */
void sv_servable_retire_all(sv_servable *sv);
/* Live version `old` replaced by `v` (same number): requests from now on get
 * v; old is freed after its last request.  -1 (nothing changed) when old is
 * no longer live. */
int sv_servable_replace(sv_servable *sv, sv_version *old, sv_version *v);
/* --tune: a thread that tunes each model's latest version in turn and swaps
 * the tuned one in (serve_tune.c); stopping waits for the model being tuned. */
int sv_tuner_start(sv_server *srv);
void sv_tuner_stop(sv_server *srv);
/* serve_reload.c: the servable of one config { } entry (name, base path,
 * policy and labels moved out of c); -1 when memory runs out. */
int sv_servable_from_config(sv_servable *sv, sv_model_config *c);
/* The file's stamp (mtime and size), 0 when it cannot be read. */
int64_t sv_file_stamp(const char *path);
/* Re-reads srv->config_file when its stamp changed: models added are
 * loaded, models left out unloaded (404 from then on), models kept take the
 * file's policy, labels and base path.  A file that does not parse changes
 * nothing (the error is logged). */
void sv_config_reload(sv_server *srv);
void sv_poller_stop(sv_server *srv);
/* The number of a version folder's name ("00000123" -> 123); -1 when it is not one. */
int64_t sv_version_number(const char *name);

/* ---- JSON requests -------------------------------------------------------- */
/* Largest bracket nesting of a JSON text, scanning outside strings without
 * recursion; stops early (returns max + 1) once max is exceeded.  *values_out
 * (may be NULL) receives an upper bound of the number of values (commas + 1). */
int sv_json_scan(const char *s, size_t n, int max, size_t *values_out);
/* A number of a parsed request, NaN and +-Infinity among them (TF Serving
 * reads those; sv_json_parse keeps them as marked strings): 1 with *out, 0
 * for any other value. */
struct json_t;
int sv_json_float(const struct json_t *v, double *out);

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
    int squeeze;       /* one-element inputs were given as scalars: one-element outputs answer scalars */
    unsigned char form[SERVE_MAX_IO]; /* per input, how its numbers came: 1 scalars, 2 nested lists (one
                                       * form a request, as TF Serving requires the same shape of each) */
    float *in;         /* count * sum(in_size) floats, instance-major per input */
    float *out;        /* count * sum(out_size) floats */
    float *in_ptr[SERVE_MAX_IO];
    float *out_ptr[SERVE_MAX_IO];
    frost_string *str[SERVE_MAX_IO]; /* string inputs: count items each */
    void **owned;                    /* decoded "b64" bytes the strings point into */
    int num_owned;
} sv_request;

/* Parse a predict / classify JSON body (classify also takes "examples" of
 * {"b64": image}) for runner m; "signature_name" must be m's.
 * On failure returns -1 with *http_code and err set. */
int sv_request_parse_json(const sv_model *m, const sv_limits *lim, const char *body, size_t len, int classify,
                          sv_request *req, char *err, size_t errlen, int *http_code);

/* The same in steps, for a version whose signature the body chooses:
 * sv_json_parse (pre-scan against the limits, with at most
 * `floats_per_instance` values an instance, then parse; the root must be an
 * object), sv_json_signature ("signature_name": "" when absent, NULL on a
 * non-string), then sv_request_from_json for the chosen runner. */
struct json_t;
struct json_t *sv_json_parse(const sv_limits *lim, const char *body, size_t len, size_t floats_per_instance,
                             char *err, size_t errlen, int *http_code);
const char *sv_json_signature(struct json_t *root, char *err, size_t errlen, int *http_code);
int sv_json_has(struct json_t *root, const char *key);
void sv_json_free(struct json_t *root);
int sv_request_from_json(const sv_model *m, const sv_limits *lim, struct json_t *root, int classify,
                         sv_request *req, char *err, size_t errlen, int *http_code);

/* :classify / :regress with "examples" (and "context"): each example as a
 * serialized tf.Example (the context's features first, as TF Serving merges
 * them), for a signature whose one input is a DT_STRING tensor. */
typedef struct sv_examples {
    int count;
    uint8_t **data;
    size_t *size;
} sv_examples;
int sv_examples_from_json(struct json_t *root, const sv_limits *lim, sv_examples *out, char *err, size_t errlen,
                          int *http_code);
void sv_examples_free(sv_examples *ex);
/* Whether signature `key` ("" : the default) takes examples: one DT_STRING input. */
int sv_examples_signature(const sv_version *v, const char *key);
/* One raw encoded image. */
int sv_request_from_image(const sv_model *m, const sv_limits *lim, const void *data, size_t len, sv_request *req,
                          char *err, size_t errlen, int *http_code);
int sv_request_alloc(const sv_model *m, int count, sv_request *req);
/* The batch items of req's instances on runner m: item k points at
 * instance k of each input and output; each answers waiter w, and is
 * dropped unrun after `deadline` (0: none). */
void sv_request_items(const sv_model *m, const sv_request *req, sv_item *items, sv_waiter *w, double deadline);
void sv_request_free(sv_request *req);
/* n instances or examples (`what`) of one request within --max_instances:
 * 0, or -1 with a 413 and its message. */
int sv_check_count(const sv_limits *lim, size_t n, const char *what, char *err, size_t errlen, int *http_code);

/* Responses (malloc'd JSON text). */
/* Fill m's signature from its compiled model: input/output counts, shapes and
 * sizes, and the image input (frost_model_image_spec: the first NHWC input
 * with 3 channels, whose height/width become m->pp's).  -1 when the model has no inputs or outputs,
 * or more than SERVE_MAX_IO of either. */
int sv_model_describe(sv_model *m);

char *sv_response_predict(const sv_model *m, const sv_request *req, size_t *len);
char *sv_response_classify(const sv_model *m, const sv_request *req, int top_k, size_t *len);
/* GET /v1/models/NAME[/versions/N] (version -1: every version); NULL with *code and err. */
char *sv_response_status(sv_servable *sv, int64_t version, size_t *len, char *err, size_t errlen, int *code);
char *sv_response_metadata(const sv_version *v, size_t *len);
/* :classify / :regress answers in TF Serving's shape: {"results": [[[label, score], ...], ...]}
 * from scores [count, classes] (and labels [count, classes], NULL: ""), {"results": [v, ...]}. */
char *sv_response_results_classify(int count, int classes, const float *scores, char *const *labels, size_t *len);
char *sv_response_results_regress(int count, const float *values, size_t *len);
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
    unsigned threads; /* a pool of this many HTTP threads; 0: a thread per connection */
};
struct MHD_Daemon *sv_http_start(sv_server *s, const struct sv_http_config *cfg);

double sv_now(void); /* monotonic seconds */

#endif
