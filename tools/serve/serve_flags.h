/* frost serve: the command line (serve_flags.c), frost's flags and
 * tensorflow_model_server's, both in "--flag=value" and "--flag value". */
#ifndef FROST_SERVE_FLAGS_H
#define FROST_SERVE_FLAGS_H

#include "common/engine_flags.h"

#define SV_MAX_SPECS 64

typedef struct sv_flags {
    const char *specs[SV_MAX_SPECS]; /* --model NAME=PATH[,key=value...] */
    int nspecs;
    /* TensorFlow Serving's */
    const char *model_name, *model_base_path, *model_config_file, *batching_file, *monitoring_file;
    int enable_batching; /* -1: not given */
    int poll_s;          /* --file_system_poll_wait_seconds */
    int config_poll_s;   /* --model_config_file_poll_wait_seconds (0: read once) */
    int rest_threads;    /* --rest_api_num_threads (0: a thread per connection) */
    int timeout_ms;      /* --rest_api_timeout_in_ms (default 30000; 0: none) */
    int rest_port, grpc_port; /* --rest_api_port, --port (-1: not given) */
    /* frost's */
    const char *host, *allowed;
    int max_batch, timeout_us, batch_threads, max_queue, max_depth, max_instances, timeout_s, max_conn, drain_s;
    int warmup, request_s;
    int warmup_iterations; /* --num_request_iterations_for_warmup (default 1) */
    int tune, tune_budget; /* --tune: frost_tune() each model after start-up, within --tune_budget seconds */
    long long max_body, max_pixels;
    engine_flags engine;
} sv_flags;

/* 0, 1 for --help (printed), 2 for a usage error (message printed). */
int sv_flags_parse(int argc, char **argv, sv_flags *f);

#endif
