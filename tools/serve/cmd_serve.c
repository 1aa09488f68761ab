/* frost serve: a TensorFlow Serving-compatible REST server with dynamic batching.
 * See docs/serve.md.  This file: the models of the command line and of
 * TF Serving's config files, start-up, signals, drain. */
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
#include "serve.h"
#include "serve_flags.h"

/* --model NAME=PATH[,key=value...]: a servable's name, path and frost's keys. */
static int parse_model(const char *spec, sv_servable *sv) {
    sv_model_opts *m = &sv->opts;
    sv_model_opts_init(m);
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
    sv->name = strdup(tok);
    sv->base_path = strdup(eq + 1);
    int rc = sv->name && sv->base_path ? 0 : -1;
    while (!rc && (tok = strtok_r(NULL, ",", &save))) {
        eq = strchr(tok, '=');
        if (!eq) {
            fprintf(stderr, "frost serve: --model %s: '%s' is not key=value\n", sv->name, tok);
            rc = -1;
            break;
        }
        *eq = '\0';
        const char *k = tok, *v = eq + 1;
        if (!strcmp(k, "labels")) free(m->labels_path), m->labels_path = strdup(v);
        else if (!strcmp(k, "input_mean")) rc = cli_parse_float("input_mean", v, &m->pp.mean);
        else if (!strcmp(k, "input_std")) rc = cli_parse_float("input_std", v, &m->pp.std);
        else if (!strcmp(k, "resize")) rc = cli_parse_resize(v, &m->pp.resize);
        else if (!strcmp(k, "input_layer") || !strcmp(k, "input")) free(m->input_name), m->input_name = strdup(v);
        else if (!strcmp(k, "output_layer") || !strcmp(k, "output")) free(m->output_name), m->output_name = strdup(v);
        else if (!strcmp(k, "input_width")) rc = cli_parse_int("input_width", v, 1, 1 << 16, &m->width);
        else if (!strcmp(k, "input_height")) rc = cli_parse_int("input_height", v, 1, 1 << 16, &m->height);
        else if (!strcmp(k, "top_k")) rc = cli_parse_int("top_k", v, 1, 100000, &m->top_k);
        else if (!strcmp(k, "fast_decode")) {
            if (!strcmp(v, "true") || !strcmp(v, "1")) m->fast_decode = 1;
            else if (strcmp(v, "false") && strcmp(v, "0")) {
                fprintf(stderr, "frost serve: fast_decode=%s: expected true or false\n", v);
                rc = -1;
            }
        } else {
            fprintf(stderr, "frost serve: --model %s: unknown key '%s'\n", sv->name, k);
            rc = -1;
        }
    }
    if (!rc && m->pp.std == 0.0f) {
        fprintf(stderr, "frost serve: --model %s: input_std must not be 0\n", sv->name);
        rc = -1;
    }
    if (!rc && !m->width != !m->height) {
        fprintf(stderr, "frost serve: model %s: give both input_width and input_height\n", sv->name);
        rc = -1;
    }
    free(copy);
    return rc;
}

static int valid_name(const char *name) {
    if (!name[0]) return 0;
    for (const char *p = name; *p; p++)
        if (!isalnum((unsigned char)*p) && *p != '_' && *p != '-' && *p != '.') return 0;
    return 1;
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

/* The servables of the command line: --model specs, --model_base_path, --model_config_file. */
static int make_models(const sv_flags *f, sv_server *s) {
    sv_model_config *cfg = NULL;
    int ncfg = 0;
    if (f->model_config_file) {
        char err[512];
        size_t len = 0;
        s->config_stamp = sv_file_stamp(f->model_config_file);
        char *text = sv_config_read_file(f->model_config_file, &len, err, sizeof err);
        if (!text || sv_config_parse_models(text, len, &cfg, &ncfg, err, sizeof err)) {
            fprintf(stderr, "frost serve: --model_config_file %s: %s\n", f->model_config_file, err);
            free(text);
            return -1;
        }
        free(text);
    }
    int total = f->nspecs + (f->model_base_path ? 1 : 0) + ncfg;
    /* room for the models a re-read config file adds (entries never move) */
    s->cap_models = total + (f->model_config_file && f->config_poll_s > 0 ? SV_RELOAD_ROOM : 0);
    s->models = calloc((size_t)s->cap_models, sizeof *s->models);
    if (!s->models) {
        sv_config_models_free(cfg, ncfg);
        return -1;
    }
    int rc = 0;
    for (int k = 0; k < total && !rc; k++) {
        sv_servable *sv = &s->models[k];
        pthread_mutex_init(&sv->mu, NULL);
        s->num_models = k + 1;
        sv->policy.kind = SV_POLICY_LATEST;
        sv->policy.num_versions = 1;
        if (k < f->nspecs) {
            rc = parse_model(f->specs[k], sv);
            sv->from_flags = 1;
        } else {
            sv_model_opts_init(&sv->opts);
            if (f->model_base_path && k == f->nspecs) {
                sv->name = strdup(f->model_name ? f->model_name : "default");
                sv->base_path = strdup(f->model_base_path);
                sv->from_flags = 1;
                if (!sv->name || !sv->base_path) rc = -1;
            } else {
                rc = sv_servable_from_config(sv, &cfg[k - f->nspecs - (f->model_base_path ? 1 : 0)]);
            }
        }
        if (!rc && !valid_name(sv->name)) {
            fprintf(stderr, "frost serve: model name '%s': use letters, digits, '_', '-' and '.'\n", sv->name);
            rc = -1;
        }
        for (int j = 0; !rc && j < k; j++)
            if (!strcmp(s->models[j].name, sv->name)) {
                fprintf(stderr, "frost serve: two models named '%s'\n", sv->name);
                rc = -1;
            }
    }
    sv_config_models_free(cfg, ncfg);
    return rc;
}

/* --batching_parameters_file and --monitoring_config_file into the server's settings. */
static int read_config_files(const sv_flags *f, sv_server *s) {
    char err[512];
    size_t len = 0;
    if (f->batching_file) {
        sv_batching_file bf;
        char *text = sv_config_read_file(f->batching_file, &len, err, sizeof err);
        if (!text || sv_config_parse_batching(text, len, &bf, err, sizeof err)) {
            fprintf(stderr, "frost serve: --batching_parameters_file %s: %s\n", f->batching_file, err);
            free(text);
            return -1;
        }
        free(text);
        sv_batch_config *bc = &s->batch;
        if (bf.max_batch_size > 0 && f->enable_batching != 0) bc->max_batch_size = (int)bf.max_batch_size;
        if (bf.batch_timeout_micros >= 0) bc->batch_timeout_micros = bf.batch_timeout_micros;
        if (bf.num_batch_threads > 0) bc->num_batch_threads = (int)bf.num_batch_threads;
        if (bf.max_enqueued_batches > 0) {
            int64_t q = bf.max_enqueued_batches * bc->max_batch_size;
            bc->max_queue = q > (1 << 24) || q / bc->max_batch_size != bf.max_enqueued_batches ? 1 << 24 : (int)q;
            if (bc->max_queue < s->limits.max_instances) bc->max_queue = s->limits.max_instances;
        }
        if (bf.num_allowed > 0) {
            bc->num_allowed = 0;
            bc->allowed[bc->num_allowed++] = 1;
            for (int k = 0; k < bf.num_allowed; k++) {
                if (bf.allowed[k] == 1 && k == 0) continue;
                if (bf.allowed[k] <= bc->allowed[bc->num_allowed - 1] || bc->num_allowed == SV_MAX_SIZES) {
                    fprintf(stderr, "frost serve: %s: allowed_batch_sizes must be ascending\n", f->batching_file);
                    return -1;
                }
                bc->allowed[bc->num_allowed++] = (int)bf.allowed[k];
            }
            if (bc->allowed[bc->num_allowed - 1] != bc->max_batch_size) {
                fprintf(stderr, "frost serve: %s: the last of allowed_batch_sizes must be max_batch_size (%d)\n",
                        f->batching_file, bc->max_batch_size);
                return -1;
            }
        }
    }
    if (f->monitoring_file) {
        sv_monitoring_file mf;
        char *text = sv_config_read_file(f->monitoring_file, &len, err, sizeof err);
        if (!text || sv_config_parse_monitoring(text, len, &mf, err, sizeof err)) {
            fprintf(stderr, "frost serve: --monitoring_config_file %s: %s\n", f->monitoring_file, err);
            free(text);
            return -1;
        }
        free(text);
        if (mf.prometheus_enable) {
            s->prometheus_path = mf.prometheus_path ? mf.prometheus_path : strdup("/monitoring/prometheus/metrics");
            mf.prometheus_path = NULL;
        }
        sv_config_monitoring_free(&mf);
    }
    return 0;
}

int frost_cmd_serve(int argc, char **argv) {
    sv_flags f;
    int r = sv_flags_parse(argc, argv, &f);
    if (r) return r == 1 ? 0 : 2;

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
    s.limits.max_body_bytes = (size_t)f.max_body;
    s.limits.max_json_depth = f.max_depth;
    s.limits.max_instances = f.max_instances;
    s.limits.max_pixels = f.max_pixels;
    s.limits.request_timeout_s = f.request_s;
    s.timeout_s = f.timeout_ms * 1e-3;
    s.poll_s = f.poll_s;
    s.config_file = f.model_config_file;
    s.config_poll_s = f.model_config_file ? f.config_poll_s : 0;
    sv_batch_config bc = {f.max_batch, f.timeout_us, f.batch_threads, f.max_queue, f.warmup, {0}, 0};
    s.batch = bc;
    s.warmup_iterations = f.warmup ? f.warmup_iterations : 0;
    int rc = 2, listen_fd = -1, bound_port = 0, ipv6 = 0;
    struct MHD_Daemon *d = NULL;
    if (f.allowed && parse_allowed(f.allowed, f.max_batch, &s.batch)) goto out;
    if (read_config_files(&f, &s) || make_models(&f, &s)) goto out;
    frost_options_init(&s.compile);
    engine_flags_apply(&f.engine, &s.compile); /* threads, winograd, precision, micro-batch */
    s.compile.max_batch = s.batch.max_batch_size;
    rc = 1;
    int polled = 0;
    for (int k = 0; k < s.num_models; k++) {
        sv_servable *sv = &s.models[k];
        char err[4096];
        double t0 = sv_now();
        if (sv_servable_start(&s, sv, err, sizeof err)) {
            fprintf(stderr, "frost serve: %s\n", err);
            goto out;
        }
        polled |= sv->layout == SV_BASE_PATH;
        for (int j = 0; j < sv->num_live; j++) {
            const sv_version *v = sv->live[j];
            const sv_model *m = v->default_sig >= 0 ? v->sigs[v->default_sig].run : NULL;
            fprintf(stderr, "frost serve: model %s version %lld (%s) ready in %.2f s: %d signature(s)", sv->name,
                    (long long)v->number, v->path, sv_now() - t0, v->num_sigs);
            if (m)
                fprintf(stderr, "; the default: %d input(s), %d output(s)%s", m->num_inputs, m->num_outputs,
                        m->image_input >= 0 ? ", takes images" : "");
            fprintf(stderr, "\n");
        }
    }
    if (((polled && s.poll_s > 0) || s.config_poll_s > 0) && sv_poller_start(&s)) {
        fprintf(stderr, "frost serve: cannot start the polling thread\n");
        goto out;
    }
    listen_fd = open_listener(f.host, f.rest_port, &bound_port, &ipv6);
    if (listen_fd < 0) goto out;
    struct sv_http_config hc = {listen_fd, (unsigned)f.timeout_s, (unsigned)f.max_conn, 0, ipv6, (unsigned)f.rest_threads};
    d = sv_http_start(&s, &hc);
    if (!d) {
        fprintf(stderr, "frost serve: cannot start the HTTP server\n");
        goto out;
    }
    printf(ipv6 ? "listening on [%s]:%d\n" : "listening on %s:%d\n", f.host, bound_port);
    fflush(stdout);
    char nbt[32] = "from the tuning record, else 1";
    if (s.batch.num_batch_threads > 0) snprintf(nbt, sizeof nbt, "%d", s.batch.num_batch_threads);
    fprintf(stderr, "frost serve: max_batch_size %d, batch_timeout_micros %lld, num_batch_threads %s%s%s\n",
            s.batch.max_batch_size, (long long)s.batch.batch_timeout_micros, nbt,
            s.prometheus_path ? ", Prometheus metrics also at " : "", s.prometheus_path ? s.prometheus_path : "");
    s.tune_budget = f.tune_budget;
    if (f.tune && sv_tuner_start(&s)) fprintf(stderr, "frost serve: cannot start the tuning thread\n");

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
    ts.tv_sec += f.drain_s;
    pthread_mutex_lock(&s.mu);
    while (s.active > 0)
        if (pthread_cond_timedwait(&s.idle_cv, &s.mu, &ts) == ETIMEDOUT) break;
    int left = s.active;
    pthread_mutex_unlock(&s.mu);
    if (left) fprintf(stderr, "frost serve: %d request(s) still in progress after %d s; closing\n", left, f.drain_s);
    rc = 0;
out:
    sv_tuner_stop(&s);
    if (d) MHD_stop_daemon(d);
    sv_poller_stop(&s);
    if (listen_fd >= 0) close(listen_fd);
    for (int k = 0; k < s.num_models; k++) sv_servable_free(&s.models[k]);
    free(s.models);
    free(s.prometheus_path);
    sv_metrics_destroy(&s.metrics);
    if (rc == 0) fprintf(stderr, "frost serve: stopped\n");
    return rc;
}
