/* frost serve: a TensorFlow Serving-compatible REST server with dynamic batching.
 * See docs/serve.md.  This file: flags, model specs, start-up, signals, drain. */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "common/cli.h"
#include "common/engine_flags.h"
#include "common/labels.h"
#include "serve.h"

static void usage(FILE *out) {
    fprintf(out,
            "usage: frost serve --model NAME=PATH[,key=value...] [--model ...] --port P [options]\n"
            "\n"
            "TensorFlow Serving's REST API for frozen graphs, with dynamic batching.\n"
            "  GET  /v1/models/NAME            status        GET /v1/models/NAME/metadata  signature\n"
            "  POST /v1/models/NAME:predict    {\"instances\": [...]} or {\"inputs\": ...}; an instance is a float\n"
            "                                  NHWC tensor or {\"b64\": \"<JPEG/PNG/BMP/GIF>\"}; or a raw image body\n"
            "                                  (Content-Type: image/*)\n"
            "  POST /v1/models/NAME:classify   same bodies (also \"examples\"), answers top-k [label, score]\n"
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
            "options:\n"
            "  --port P                 TCP port; 0 picks a free one (alias --rest_api_port)\n"
            "  --host ADDR              address to bind (default 127.0.0.1)\n"
            "  --max_batch_size N       largest batch run at once (default 16; 1 disables batching)\n"
            "  --batch_timeout_micros U longest wait for a batch to fill (default 1000)\n"
            "  --num_batch_threads N    batch threads (frost contexts) per model (default 1)\n"
            "  --threads N              compute threads per run (default: all cores)\n"
            "  --winograd               larger Winograd tiles: 3x3, 5x5, 1x3, 3x1 layers (faster,\n"
            "                           ~1e-5 relative difference)\n"
            "  --no-winograd            every convolution direct (by default 3x3, 1x7 and 7x1\n"
            "                           layers run Winograd kernels, within 1e-4)\n"
            "  --precision P            fp32 (default) | bf16 (where the CPU has AVX512-BF16)\n"
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
            "\n"
            "The first line on stdout is 'listening on HOST:PORT' once the server accepts requests.\n"
            "SIGTERM or SIGINT: stop accepting, finish the requests in flight, exit 0.\n");
}

static int parse_model(const char *spec, sv_model *m, int *width, int *height) {
    memset(m, 0, sizeof *m);
    m->pp.mean = 0.0f;
    m->pp.std = 255.0f;
    m->pp.resize = FROST_RESIZE_TF1;
    m->top_k = 5;
    m->image_input = -1;
    *width = *height = 0;
    char *copy = strdup(spec);
    if (!copy) return -1;
    char *save = NULL;
    char *tok = strtok_r(copy, ",", &save);
    char *eq = tok ? strchr(tok, '=') : NULL;
    if (!eq || eq == tok || !eq[1]) {
        fprintf(stderr, "frost serve: --model '%s': expected NAME=PATH[,key=value...]\n", spec);
        free(copy);
        return -1;
    }
    *eq = '\0';
    for (const char *p = tok; *p; p++)
        if (!isalnum((unsigned char)*p) && *p != '_' && *p != '-' && *p != '.') {
            fprintf(stderr, "frost serve: model name '%s': use letters, digits, '_', '-' and '.'\n", tok);
            free(copy);
            return -1;
        }
    m->name = strdup(tok);
    m->path = strdup(eq + 1);
    int rc = 0;
    while (!rc && (tok = strtok_r(NULL, ",", &save))) {
        eq = strchr(tok, '=');
        if (!eq) {
            fprintf(stderr, "frost serve: --model %s: '%s' is not key=value\n", m->name, tok);
            rc = -1;
            break;
        }
        *eq = '\0';
        const char *k = tok, *v = eq + 1;
        if (!strcmp(k, "labels")) m->labels_path = strdup(v);
        else if (!strcmp(k, "input_mean")) rc = cli_parse_float("input_mean", v, &m->pp.mean);
        else if (!strcmp(k, "input_std")) rc = cli_parse_float("input_std", v, &m->pp.std);
        else if (!strcmp(k, "resize")) rc = cli_parse_resize(v, &m->pp.resize);
        else if (!strcmp(k, "input_layer") || !strcmp(k, "input")) m->input_name = strdup(v);
        else if (!strcmp(k, "output_layer") || !strcmp(k, "output")) m->output_name = strdup(v);
        else if (!strcmp(k, "input_width")) rc = cli_parse_int("input_width", v, 1, 1 << 16, width);
        else if (!strcmp(k, "input_height")) rc = cli_parse_int("input_height", v, 1, 1 << 16, height);
        else if (!strcmp(k, "top_k")) rc = cli_parse_int("top_k", v, 1, 100000, &m->top_k);
        else if (!strcmp(k, "fast_decode")) {
            if (!strcmp(v, "true") || !strcmp(v, "1")) m->fast_decode = 1;
            else if (strcmp(v, "false") && strcmp(v, "0")) {
                fprintf(stderr, "frost serve: fast_decode=%s: expected true or false\n", v);
                rc = -1;
            }
        }
        else {
            fprintf(stderr, "frost serve: --model %s: unknown key '%s'\n", m->name, k);
            rc = -1;
        }
    }
    if (!rc && m->pp.std == 0.0f) {
        fprintf(stderr, "frost serve: --model %s: input_std must not be 0\n", m->name);
        rc = -1;
    }
    free(copy);
    return rc;
}

static int load_model(sv_model *m, int width, int height, int max_batch, const engine_flags *engine) {
    frost_options o;
    frost_options_init(&o);
    engine_flags_apply(engine, &o); /* threads, winograd, precision, micro-batch */
    o.max_batch = max_batch;
    const char *in_names[1] = {m->input_name}, *out_names[1] = {m->output_name};
    if (m->input_name) o.inputs = in_names, o.num_inputs = 1;
    if (m->output_name) o.outputs = out_names, o.num_outputs = 1;
    frost_shape shape = {4, {-1, height, width, 3}};
    if (width || height) {
        if (!width || !height) {
            fprintf(stderr, "frost serve: model %s: give both input_width and input_height\n", m->name);
            return -1;
        }
        o.input_shapes = &shape;
    }
    char *err = NULL;
    frost_status st = frost_model_load(m->path, &o, &m->model, &err);
    if (st != FROST_OK) {
        fprintf(stderr, "frost serve: cannot load model %s from %s: %s\n", m->name, m->path,
                err ? err : frost_strerror(st));
        frost_free(err);
        return -1;
    }
    m->decode_stats = calloc(1, sizeof *m->decode_stats);
    if (!m->decode_stats) {
        fprintf(stderr, "frost serve: out of memory\n");
        return -1;
    }
    if (sv_model_describe(m) != 0) {
        fprintf(stderr, "frost serve: model %s has %d inputs and %d outputs; frost serve handles 1 to %d of each\n",
                m->name, m->num_inputs, m->num_outputs, SERVE_MAX_IO);
        return -1;
    }
    for (int i = 0; i < m->num_inputs; i++)
        for (int d = 1; d < m->in_shape[i].rank; d++)
            if (m->in_shape[i].dims[d] < 1) {
                fprintf(stderr, "frost serve: model %s: input %s has an unknown size; give input_width/input_height\n",
                        m->name, frost_model_input_name(m->model, i));
                return -1;
            }
    if (m->labels_path) {
        m->num_labels = cli_labels_load(m->labels_path, &m->labels);
        if (m->num_labels < 0) return -1;
    }
    return 0;
}

static void free_model(sv_model *m) {
    sv_batcher_stop(&m->batcher);
    frost_model_free(m->model);
    cli_labels_free(m->labels, m->num_labels > 0 ? m->num_labels : 0);
    free(m->name);
    free(m->path);
    free(m->input_name);
    free(m->output_name);
    free(m->labels_path);
    free(m->decode_stats);
}

/* Bind host:port; returns the socket, its bound port in *port_out. */
static int open_listener(const char *host, int port, int *port_out, int *ipv6) {
    struct addrinfo hints = {0}, *res = NULL;
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    char portstr[16];
    snprintf(portstr, sizeof portstr, "%d", port);
    int rc = getaddrinfo(host, portstr, &hints, &res);
    if (rc) {
        fprintf(stderr, "frost serve: cannot resolve --host %s: %s\n", host, gai_strerror(rc));
        return -1;
    }
    int fd = -1;
    for (struct addrinfo *a = res; a; a = a->ai_next) {
        fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
        if (fd < 0) continue;
        int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (bind(fd, a->ai_addr, a->ai_addrlen) == 0 && listen(fd, 256) == 0) {
            *ipv6 = a->ai_family == AF_INET6;
            break;
        }
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    if (fd < 0) {
        fprintf(stderr, "frost serve: cannot listen on %s:%d: %s\n", host, port, strerror(errno));
        return -1;
    }
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    getsockname(fd, (struct sockaddr *)&ss, &sl);
    *port_out = ss.ss_family == AF_INET6 ? ntohs(((struct sockaddr_in6 *)&ss)->sin6_port)
                                         : ntohs(((struct sockaddr_in *)&ss)->sin_port);
    return fd;
}

/* --allowed_batch_sizes: ascending, the last one = --max_batch_size; 1 is always allowed. */
static int parse_allowed(const char *list, int max_batch, sv_batch_config *bc) {
    char *copy = strdup(list), *save = NULL;
    if (!copy) return -1;
    bc->num_allowed = 0;
    bc->allowed[bc->num_allowed++] = 1;
    int rc = 0;
    for (char *tok = strtok_r(copy, ",", &save); tok && !rc; tok = strtok_r(NULL, ",", &save)) {
        int v;
        if (cli_parse_int("allowed_batch_sizes", tok, 1, max_batch, &v)) rc = -1;
        else if (v == 1 && bc->num_allowed == 1) continue;
        else if (v <= bc->allowed[bc->num_allowed - 1] || bc->num_allowed == SV_MAX_SIZES) {
            fprintf(stderr, "frost serve: --allowed_batch_sizes must be ascending (at most %d sizes)\n", SV_MAX_SIZES);
            rc = -1;
        } else
            bc->allowed[bc->num_allowed++] = v;
    }
    if (!rc && bc->allowed[bc->num_allowed - 1] != max_batch) {
        fprintf(stderr, "frost serve: the last of --allowed_batch_sizes must be --max_batch_size (%d)\n", max_batch);
        rc = -1;
    }
    free(copy);
    return rc;
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

int frost_cmd_serve(int argc, char **argv) {
    const char *specs[64];
    int nspecs = 0, port = -1, max_batch = 16, timeout_us = 1000, batch_threads = 1, max_queue = 1024;
    int max_depth = 64, max_instances = 64, timeout_s = 30, max_conn = 256, drain_s = 30, warmup = 1;
    int request_s = 60;
    long long max_body = 16 << 20, max_pixels = 25000000;
    const char *host = "127.0.0.1", *allowed = NULL;
    engine_flags engine;
    engine_flags_init(&engine);
    for (int i = 1; i < argc;) {
        const char *v = NULL;
        int r, sw = 0;
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage(stdout);
            return 0;
        }
#define INTFLAG(name, var, lo, hi)                                                          \
    if ((r = cli_flag(argc, argv, &i, name, &v)) != 0) {                                    \
        if (r < 0 || cli_parse_int(name, v, lo, hi, &var)) return 2;                        \
        continue;                                                                           \
    }
        if ((r = cli_flag(argc, argv, &i, "model", &v)) != 0) {
            if (r < 0) return 2;
            if (nspecs == 64) {
                fprintf(stderr, "frost serve: at most 64 models\n");
                return 2;
            }
            specs[nspecs++] = v;
            continue;
        }
        if ((r = cli_flag(argc, argv, &i, "host", &v)) != 0) {
            if (r < 0) return 2;
            host = v;
            continue;
        }
        INTFLAG("port", port, 0, 65535)
        INTFLAG("rest_api_port", port, 0, 65535)
        INTFLAG("max_batch_size", max_batch, 1, 4096)
        INTFLAG("batch_timeout_micros", timeout_us, 0, 60000000)
        INTFLAG("num_batch_threads", batch_threads, 1, 256)
        if ((r = engine_flags_parse(&engine, EF_THREADS | EF_PRECISION | EF_WINOGRAD | EF_MICRO_BATCH, argc, argv,
                                    &i)) != 0) {
            if (r < 0) return 2;
            continue;
        }
        INTFLAG("max_queue", max_queue, 1, 1 << 24)
        INTFLAG("max_json_depth", max_depth, 2, 100000)
        INTFLAG("max_instances", max_instances, 1, 1 << 20)
        INTFLAG("timeout", timeout_s, 1, 86400)
        INTFLAG("max_connections", max_conn, 1, 65536)
        INTFLAG("drain_timeout", drain_s, 0, 86400)
        INTFLAG("request_timeout", request_s, 1, 86400)
        if ((r = cli_flag(argc, argv, &i, "max_body_bytes", &v)) != 0) {
            if (r < 0 || parse_size("max_body_bytes", v, &max_body)) return 2;
            continue;
        }
        if ((r = cli_flag(argc, argv, &i, "max_pixels", &v)) != 0) {
            if (r < 0 || parse_size("max_pixels", v, &max_pixels)) return 2;
            continue;
        }
        if ((r = cli_flag(argc, argv, &i, "allowed_batch_sizes", &v)) != 0) {
            if (r < 0) return 2;
            allowed = v;
            continue;
        }
        if ((r = cli_switch(argc, argv, &i, "warmup", &sw)) != 0) {
            if (r < 0) return 2;
            warmup = sw;
            continue;
        }
#undef INTFLAG
        fprintf(stderr, "frost serve: unknown argument '%s' (see frost serve --help)\n", argv[i]);
        return 2;
    }
    if (nspecs == 0 || port < 0) {
        fprintf(stderr, "frost serve: need at least one --model NAME=PATH and --port (see frost serve --help)\n");
        return 2;
    }
    if (max_queue < max_instances) max_queue = max_instances;

    /* Signals: every thread created from here on inherits the blocked mask; main waits in sigwait(). */
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    signal(SIGPIPE, SIG_IGN);

    sv_server s;
    memset(&s, 0, sizeof s);
    pthread_mutex_init(&s.mu, NULL);
    pthread_cond_init(&s.idle_cv, NULL);
    sv_metrics_init(&s.metrics);
    s.limits.max_body_bytes = (size_t)max_body;
    s.limits.max_json_depth = max_depth;
    s.limits.max_instances = max_instances;
    s.limits.max_pixels = max_pixels;
    s.limits.request_timeout_s = request_s;
    s.models = calloc((size_t)nspecs, sizeof *s.models);
    int rc = 1, listen_fd = -1, bound_port = 0, ipv6 = 0;
    struct MHD_Daemon *d = NULL;
    if (!s.models) goto out;
    sv_batch_config bc = {max_batch, timeout_us, batch_threads, max_queue, warmup, {0}, 0};
    if (allowed && parse_allowed(allowed, max_batch, &bc)) {
        rc = 2;
        goto out;
    }
    for (int k = 0; k < nspecs; k++) {
        int w, h;
        s.num_models = k + 1;
        if (parse_model(specs[k], &s.models[k], &w, &h)) {
            rc = 2;
            goto out;
        }
        for (int j = 0; j < k; j++)
            if (!strcmp(s.models[j].name, s.models[k].name)) {
                fprintf(stderr, "frost serve: two models named '%s'\n", s.models[k].name);
                rc = 2;
                goto out;
            }
        double t0 = sv_now();
        if (load_model(&s.models[k], w, h, max_batch, &engine)) goto out;
        char err[512];
        if (sv_batcher_start(&s.models[k], &bc, err, sizeof err)) {
            fprintf(stderr, "frost serve: %s\n", err);
            goto out;
        }
        fprintf(stderr, "frost serve: model %s (%s) ready in %.2f s: %d input(s), %d output(s)%s\n", s.models[k].name,
                s.models[k].path, sv_now() - t0, s.models[k].num_inputs, s.models[k].num_outputs,
                s.models[k].image_input >= 0 ? ", takes images" : "");
    }
    listen_fd = open_listener(host, port, &bound_port, &ipv6);
    if (listen_fd < 0) goto out;
    struct sv_http_config hc = {listen_fd, (unsigned)timeout_s, (unsigned)max_conn, 0, ipv6};
    d = sv_http_start(&s, &hc);
    if (!d) {
        fprintf(stderr, "frost serve: cannot start the HTTP server\n");
        goto out;
    }
    printf(ipv6 ? "listening on [%s]:%d\n" : "listening on %s:%d\n", host, bound_port);
    fflush(stdout);
    fprintf(stderr, "frost serve: max_batch_size %d, batch_timeout_micros %d, num_batch_threads %d\n", max_batch,
            timeout_us, batch_threads);

    int sig = 0;
    sigwait(&sigs, &sig);
    fprintf(stderr, "frost serve: %s: draining\n", sig == SIGTERM ? "SIGTERM" : "SIGINT");
    pthread_mutex_lock(&s.mu);
    s.draining = 1;
    pthread_mutex_unlock(&s.mu);
    MHD_socket q = MHD_quiesce_daemon(d); /* stop accepting; the listening socket is ours again */
    if (q != MHD_INVALID_SOCKET) close(q);
    listen_fd = -1;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += drain_s;
    pthread_mutex_lock(&s.mu);
    while (s.active > 0)
        if (pthread_cond_timedwait(&s.idle_cv, &s.mu, &ts) == ETIMEDOUT) break;
    int left = s.active;
    pthread_mutex_unlock(&s.mu);
    if (left) fprintf(stderr, "frost serve: %d request(s) still in progress after %d s; closing\n", left, drain_s);
    rc = 0;
out:
    if (d) MHD_stop_daemon(d);
    if (listen_fd >= 0) close(listen_fd);
    for (int k = 0; k < s.num_models; k++) free_model(&s.models[k]);
    free(s.models);
    sv_metrics_destroy(&s.metrics);
    if (rc == 0) fprintf(stderr, "frost serve: stopped\n");
    return rc;
}
