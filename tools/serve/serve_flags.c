/* frost serve: the command line.  frost's own flags and those of
 * TensorFlow Serving's tensorflow_model_server, so that its command lines
 * work unchanged; every flag takes "--flag=value" and "--flag value" (and a
 * single dash), switches also "--flag" and "--flag=true|false". */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cli.h"
#include "serve_flags.h"

static void usage(FILE *out) {
    fprintf(out,
            "usage: frost serve --model NAME=PATH[,key=value...] [--model ...] --port P [options]\n"
            "       frost serve --rest_api_port=P --model_name=NAME --model_base_path=DIR [options]\n"
            "       frost serve --rest_api_port=P --model_config_file=FILE [options]\n"
            "\n"
            "TensorFlow Serving's REST API for SavedModels and frozen graphs, with dynamic batching.\n"
            "PATH / DIR: a frozen GraphDef (.pb), a SavedModel directory, or a base path of numbered\n"
            "version folders (polled for new and removed versions).\n"
            "  GET  /v1/models/NAME[/versions/N|/labels/L]            status (and /metadata: signatures)\n"
            "  POST /v1/models/NAME[/versions/N|/labels/L]:predict    {\"instances\": [...]} or {\"inputs\": ...},\n"
            "                                  \"signature_name\" optional; an instance is a float\n"
            "                                  NHWC tensor or {\"b64\": \"<JPEG/PNG/BMP/GIF>\"}; or a raw image body\n"
            "                                  (Content-Type: image/*)\n"
            "  POST /v1/models/NAME:classify   same bodies, answers top-k [label, score]; with \"examples\"\n"
            "                                  (tf.Example features), TF Serving's :classify / :regress\n"
            "  GET  /metrics (Prometheus), GET /healthz\n"
            "\n"
            "model keys (after NAME=PATH, comma separated):\n"
            "  labels=FILE          labels, one per line (classify answers the class index without)\n"
            "  input_mean=F         image preprocessing (pixel - mean) / std   (default 0)\n"
            "  input_std=F          (default 255)\n"
            "  resize=tf1|tf2|align_corners   bilinear resize semantics (default tf1)\n"
            "  input_layer=NAME, output_layer=NAME   (default: the single Placeholder, the sink)\n"
            "  input_width=W, input_height=H         when the Placeholder's size is unknown\n"
            "  top_k=K              classify answers (default 5; ?top_k=K per request)\n"
            "  fast_decode=true     JPEG: decode at 1/2, 1/4, 1/8 scale when the image is large enough\n"
            "                       (faster; not identical to TensorFlow's decode_jpeg)\n"
            "\n"
            "TensorFlow Serving's flags (tensorflow_model_server):\n"
            "  --rest_api_port P        the REST port (frost's --port); with it, --port is TF Serving's\n"
            "                           gRPC port, which frost does not serve (ignored, with a note)\n"
            "  --model_name NAME        (default: default)    --model_base_path DIR\n"
            "  --model_config_file F    model_config_list { config { name base_path model_platform\n"
            "                           model_version_policy version_labels } ... } (text format)\n"
            "  --file_system_poll_wait_seconds S   poll the base paths every S seconds (default 1; 0: once)\n"
            "  --enable_batching[=false]           (frost batches by default; false: --max_batch_size 1)\n"
            "  --batching_parameters_file F        max_batch_size, batch_timeout_micros, num_batch_threads,\n"
            "                                      max_enqueued_batches, allowed_batch_sizes (text format)\n"
            "  --monitoring_config_file F          prometheus_config { enable: true path: \"/...\" }: the\n"
            "                                      metrics there too (always at /metrics)\n"
            "  --rest_api_timeout_in_ms N          a request that waited N ms for its batch answers 504\n"
            "                                      (default 30000, as TF Serving; 0: no limit)\n"
            "  --rest_api_num_threads N            N HTTP threads, each serving its connections in turn:\n"
            "                                      at most N requests handled at once (default: a\n"
            "                                      thread per connection)\n"
            "  --tensorflow_intra_op_parallelism N (= --threads), --tensorflow_inter_op_parallelism,\n"
            "  --model_config_file_poll_wait_seconds S  read --model_config_file again every S seconds:\n"
            "                                      models added, removed, policies changed (default 0: once)\n"
            "  --enable_model_warmup (= --warmup): also runs a SavedModel's recorded warm-up requests\n"
            "                                      (assets.extra/tf_serving_warmup_requests) before the\n"
            "                                      version is made available; one that fails fails the load\n"
            "  --num_request_iterations_for_warmup N  runs of each warm-up request (default 1)\n"
            "\n"
            "options:\n"
            "  --port P                 TCP port; 0 picks a free one\n"
            "  --host ADDR              address to bind (default 127.0.0.1)\n"
            "  --max_batch_size N       largest batch run at once (default 16; 1 disables batching)\n"
            "  --batch_timeout_micros U longest wait for a batch to fill (default 1000)\n"
            "  --num_batch_threads N    batch threads (frost contexts) per model (default: the tuning\n"
            "                           record's thread split, W contexts of threads / W compute\n"
            "                           threads each (frost tune); else 1)\n"
            "  --threads N              compute threads per run (default: all cores)\n"
            "  --wait_policy P          idle compute threads: auto (a brief spin unless OMP_WAIT_POLICY /\n"
            "                           GOMP_SPINCOUNT is set), passive (sleep), active (spin)\n"
            "  --winograd               larger Winograd tiles: 3x3, 5x5, 1x3, 3x1 layers (faster,\n"
            "                           ~1e-5 relative difference)\n"
            "  --no-winograd            every convolution direct (by default 3x3, 1x7 and 7x1\n"
            "                           layers run Winograd kernels, within 1e-4)\n"
            "  --tune_file F, --no_tune a tuning record (frost tune) / none (default: the one for\n"
            "                           each model, CPU and --threads in ~/.cache/frost, if any)\n"
            "  --precision P            fp32 (default) | bf16 (where the CPU has AVX512-BF16) |\n"
            "                           int8 (graphs with FakeQuant ops, docs/int8.md)\n"
            "  --micro-batch N          items per pass of the network: batches run in passes of N\n"
            "                           (default 0: chosen for the model; -1: none)\n"
            "  --max_queue N            instances waiting per model before 503 (default 1024)\n"
            "  --max_body_bytes N       request body limit (default 16777216)\n"
            "  --max_json_depth N       JSON nesting limit (default 64)\n"
            "  --max_instances N        instances per request (default 64)\n"
            "  --max_pixels N           pixels per decoded image (default 25000000)\n"
            "  --timeout S              close connections idle for S seconds (default 30)\n"
            "  --request_timeout S      close a connection whose request body is still arriving S seconds\n"
            "                           after its headers (default 60)\n"
            "  --max_connections N      concurrent connections (default 256)\n"
            "  --drain_timeout S        on SIGTERM, wait up to S seconds for requests in flight (default 30)\n"
            "  --allowed_batch_sizes L  batch sizes a run may have, ascending, ending with max_batch_size\n"
            "                           (default: powers of two and max_batch_size); a batch of another\n"
            "                           size runs as several runs of these sizes (no padding)\n"
            "  --warmup=false           skip the start-up runs that build the plan of every run size\n"
            "                           and a SavedModel's warm-up requests\n"
            "  --tune                   after start-up, measure each model's convolution kernels on this\n"
            "                           machine (frost tune), write the tuning record and swap the faster\n"
            "                           plan in while serving (no request fails)\n"
            "  --tune_budget S          seconds of measuring per model (default 60)\n"
            "\n"
            "The first line on stdout is 'listening on HOST:PORT' once the server accepts requests.\n"
            "SIGTERM or SIGINT: stop accepting, finish the requests in flight, exit 0.\n");
}

static int parse_size(const char *flag, const char *v, long long *out) {
    char *e;
    errno = 0;
    long long x = strtoll(v, &e, 10);
    if (errno || e == v || *e || x < 1) {
        fprintf(stderr, "frost serve: --%s: '%s' is not a positive integer\n", flag, v);
        return -1;
    }
    *out = x;
    return 0;
}

static void flags_init(sv_flags *f) {
    memset(f, 0, sizeof *f);
    f->enable_batching = -1;
    f->poll_s = 1;
    f->timeout_ms = 30000;
    f->rest_port = f->grpc_port = -1;
    f->host = "127.0.0.1";
    f->max_batch = 16;
    f->timeout_us = 1000;
    f->batch_threads = 0; /* the tuning record's thread split, else 1 */
    f->max_queue = 1024;
    f->max_depth = 64;
    f->max_instances = 64;
    f->timeout_s = 30;
    f->max_conn = 256;
    f->drain_s = 30;
    f->warmup = 1;
    f->warmup_iterations = 1;
    f->tune_budget = 60;
    f->request_s = 60;
    f->max_body = 16 << 20;
    f->max_pixels = 25000000;
    engine_flags_init(&f->engine);
}

int sv_flags_parse(int argc, char **argv, sv_flags *f) {
    flags_init(f);
    int ignored = 0;
    for (int i = 1; i < argc;) {
        const char *v = NULL;
        int r, sw = 0;
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage(stdout);
            return 1;
        }
#define INTFLAG(name, var, lo, hi)                                                          \
    if ((r = cli_flag(argc, argv, &i, name, &v)) != 0) {                                    \
        if (r < 0 || cli_parse_int(name, v, lo, hi, &var)) return 2;                        \
        continue;                                                                           \
    }
#define STRFLAG(name, var)                                                                  \
    if ((r = cli_flag(argc, argv, &i, name, &v)) != 0) {                                    \
        if (r < 0) return 2;                                                                \
        var = v;                                                                            \
        continue;                                                                           \
    }
#define SWITCH(name, var)                                                                   \
    if ((r = cli_switch(argc, argv, &i, name, &sw)) != 0) {                                 \
        if (r < 0) return 2;                                                                \
        var = sw;                                                                           \
        continue;                                                                           \
    }
        if ((r = cli_flag(argc, argv, &i, "model", &v)) != 0) {
            if (r < 0) return 2;
            if (f->nspecs == SV_MAX_SPECS) {
                fprintf(stderr, "frost serve: at most %d models\n", SV_MAX_SPECS);
                return 2;
            }
            f->specs[f->nspecs++] = v;
            continue;
        }
        STRFLAG("host", f->host)
        INTFLAG("port", f->grpc_port, 0, 65535)
        INTFLAG("rest_api_port", f->rest_port, 0, 65535)
        STRFLAG("model_name", f->model_name)
        STRFLAG("model_base_path", f->model_base_path)
        STRFLAG("model_config_file", f->model_config_file)
        STRFLAG("batching_parameters_file", f->batching_file)
        STRFLAG("monitoring_config_file", f->monitoring_file)
        SWITCH("enable_batching", f->enable_batching)
        INTFLAG("file_system_poll_wait_seconds", f->poll_s, 0, 86400)
        INTFLAG("rest_api_num_threads", f->rest_threads, 0, 65536)
        INTFLAG("rest_api_timeout_in_ms", f->timeout_ms, 0, 86400000)
        INTFLAG("tensorflow_intra_op_parallelism", f->engine.threads, 0, 4096)
        INTFLAG("tensorflow_inter_op_parallelism", ignored, 0, 4096)
        INTFLAG("tensorflow_session_parallelism", ignored, 0, 4096)
        SWITCH("enable_model_warmup", f->warmup)
        INTFLAG("num_request_iterations_for_warmup", f->warmup_iterations, 1, 1000000)
        INTFLAG("model_config_file_poll_wait_seconds", f->config_poll_s, 0, 86400)
        INTFLAG("max_batch_size", f->max_batch, 1, 4096)
        INTFLAG("batch_timeout_micros", f->timeout_us, 0, 60000000)
        INTFLAG("num_batch_threads", f->batch_threads, 1, 256)
        if ((r = engine_flags_parse(&f->engine, EF_THREADS | EF_PRECISION | EF_WINOGRAD | EF_MICRO_BATCH | EF_TUNE, argc, argv,
                                    &i)) != 0) {
            if (r < 0) return 2;
            continue;
        }
        INTFLAG("max_queue", f->max_queue, 1, 1 << 24)
        INTFLAG("max_json_depth", f->max_depth, 2, 100000)
        INTFLAG("max_instances", f->max_instances, 1, 1 << 20)
        INTFLAG("timeout", f->timeout_s, 1, 86400)
        INTFLAG("max_connections", f->max_conn, 1, 65536)
        INTFLAG("drain_timeout", f->drain_s, 0, 86400)
        INTFLAG("request_timeout", f->request_s, 1, 86400)
        if ((r = cli_flag(argc, argv, &i, "max_body_bytes", &v)) != 0) {
            if (r < 0 || parse_size("max_body_bytes", v, &f->max_body)) return 2;
            continue;
        }
        if ((r = cli_flag(argc, argv, &i, "max_pixels", &v)) != 0) {
            if (r < 0 || parse_size("max_pixels", v, &f->max_pixels)) return 2;
            continue;
        }
        STRFLAG("allowed_batch_sizes", f->allowed)
        SWITCH("warmup", f->warmup)
        SWITCH("tune", f->tune)
        INTFLAG("tune_budget", f->tune_budget, 1, 86400)
#undef INTFLAG
#undef STRFLAG
#undef SWITCH
        fprintf(stderr, "frost serve: unknown argument '%s' (see frost serve --help)\n", argv[i]);
        return 2;
    }
    /* --port: frost's REST port, or, next to --rest_api_port, TF Serving's gRPC port */
    if (f->rest_port < 0) f->rest_port = f->grpc_port;
    else if (f->grpc_port >= 0)
        fprintf(stderr, "frost serve: --port %d is TensorFlow Serving's gRPC port; frost serves REST only, on "
                        "--rest_api_port %d\n", f->grpc_port, f->rest_port);
    if (f->model_base_path && f->model_config_file) {
        fprintf(stderr, "frost serve: give --model_base_path or --model_config_file, not both\n");
        return 2;
    }
    if (f->model_name && !f->model_base_path) {
        fprintf(stderr, "frost serve: --model_name needs --model_base_path\n");
        return 2;
    }
    if ((f->nspecs == 0 && !f->model_base_path && !f->model_config_file) || f->rest_port < 0) {
        fprintf(stderr, "frost serve: need a model (--model NAME=PATH, --model_base_path or --model_config_file) and "
                        "a port (--port or --rest_api_port); see frost serve --help\n");
        return 2;
    }
    if (f->tune && (f->engine.tune_file || f->engine.no_tune)) {
        fprintf(stderr, "frost serve: --tune writes the models' records where compiles look by default: not with "
                        "--tune_file or --no_tune\n");
        return 2;
    }
    if (f->enable_batching == 0) f->max_batch = 1;
    if (f->max_queue < f->max_instances) f->max_queue = f->max_instances;
    return 0;
}
