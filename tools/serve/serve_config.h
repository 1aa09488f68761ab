/* frost serve: TensorFlow Serving's configuration files (protobuf text format).
 *
 *   --model_config_file         ModelServerConfig: model_config_list { config { name base_path
 *                               model_platform model_version_policy version_labels } ... }
 *   --batching_parameters_file  BatchingParameters: max_batch_size { value: N }, batch_timeout_micros,
 *                               max_enqueued_batches, num_batch_threads, allowed_batch_sizes, ...
 *   --monitoring_config_file    MonitoringConfig: prometheus_config { enable path }
 *
 * The text format: `name: value`, `name { ... }` (or `name: { ... }`,
 * `name < ... >`), `name: [v, v]` for repeated scalars, optional `,` or `;`
 * after a field, `#` comments, strings in '...' or "..." with C escapes,
 * adjacent strings concatenated.  Unknown fields are errors naming the field
 * and its line, as TensorFlow Serving's parser makes them.  Every function
 * here is pure (no I/O but sv_config_read_file): the fuzz target
 * fuzz/fuzz_serve_config.c feeds them arbitrary bytes. */
#ifndef FROST_SERVE_CONFIG_H
#define FROST_SERVE_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#define SV_MAX_LABELS 64
#define SV_MAX_SPECIFIC 64

typedef enum sv_policy_kind { SV_POLICY_LATEST, SV_POLICY_ALL, SV_POLICY_SPECIFIC } sv_policy_kind;

/* model_version_policy: which of the version folders are served. */
typedef struct sv_version_policy {
    sv_policy_kind kind;
    int num_versions; /* latest: the N largest (default 1) */
    int64_t versions[SV_MAX_SPECIFIC]; /* specific */
    int num_specific;
} sv_version_policy;

/* One `config { ... }` of a model_config_list. */
typedef struct sv_model_config {
    char *name;
    char *base_path;
    sv_version_policy policy;
    char *label_keys[SV_MAX_LABELS]; /* version_labels { key: K value: V } */
    int64_t label_versions[SV_MAX_LABELS];
    int num_labels;
} sv_model_config;

/* BatchingParameters; a field left out keeps -1 (the caller's default). */
typedef struct sv_batching_file {
    int64_t max_batch_size, batch_timeout_micros, max_enqueued_batches, num_batch_threads;
    int64_t allowed[32];
    int num_allowed;
} sv_batching_file;

typedef struct sv_monitoring_file {
    int prometheus_enable;
    char *prometheus_path; /* NULL: TF Serving's default /monitoring/prometheus/metrics */
} sv_monitoring_file;

/* Each returns 0, or -1 with a message in err naming the line and the field.
 * *out is filled only on success (free with the matching _free). */
int sv_config_parse_models(const char *text, size_t len, sv_model_config **out, int *count, char *err,
                           size_t errlen);
void sv_config_models_free(sv_model_config *m, int count);
int sv_config_parse_batching(const char *text, size_t len, sv_batching_file *out, char *err, size_t errlen);
int sv_config_parse_monitoring(const char *text, size_t len, sv_monitoring_file *out, char *err, size_t errlen);
void sv_config_monitoring_free(sv_monitoring_file *m);

/* A whole file (at most 16 MiB), NUL-terminated; NULL with err set. */
char *sv_config_read_file(const char *path, size_t *len, char *err, size_t errlen);

#endif
