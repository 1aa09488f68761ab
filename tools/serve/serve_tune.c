/* frost serve --tune: after start-up, on a thread of its own, each model's
 * latest version is tuned (frost_tune() on its graph, compiled as it is
 * served, at batch 1 and the largest batch size, within --tune_budget
 * seconds); the tuning record goes where compiles look by default, and when
 * the tuned choices beat the rules the version is loaded again (it then
 * compiles with the record) and swapped in: requests in flight finish on
 * the old one, none fails.  Tuning shares the machine with the requests of
 * the moment: it is meant for a server's quiet start. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cli.h"
#include "serve.h"

/* The graph of version v's runner m, with the options it was compiled with. */
static frost_status tune_one(sv_server *srv, const sv_version *v, const sv_model *m, char *msg, size_t len,
                             int *swap) {
    frost_graph *g = NULL;
    char *err = NULL;
    *swap = 0;
    frost_status st = v->sm ? frost_graph_load_signature(v->path, NULL, 0, m->sig_key, &g, &err)
                            : frost_graph_load(v->path, &g, &err);
    const char *in[SERVE_MAX_IO], *out[SERVE_MAX_IO];
    frost_shape shapes[SERVE_MAX_IO];
    for (int i = 0; i < m->num_inputs; i++) {
        in[i] = frost_model_input_name(m->model, i);
        frost_model_input_shape(m->model, i, &shapes[i]);
    }
    for (int j = 0; j < m->num_outputs; j++) out[j] = frost_model_output_name(m->model, j);
    frost_options o = srv->compile;
    o.inputs = in, o.num_inputs = m->num_inputs, o.input_shapes = shapes;
    o.outputs = out, o.num_outputs = m->num_outputs;
    int batches[2] = {1, srv->batch.max_batch_size}, nb = batches[1] > 1 ? 2 : 1;
    frost_tune_result *res = NULL;
    if (st == FROST_OK) st = frost_tune(g, &o, batches, nb, srv->tune_budget, 9, &res, &err);
    frost_graph_free(g);
    if (st != FROST_OK) {
        snprintf(msg, len, "%s", err ? err : frost_strerror(st));
        frost_free(err);
        return st;
    }
    FILE *fp = NULL;
    if (res->cache_path) cli_make_parent_dirs(res->cache_path);
    if (!res->cache_path || !(fp = fopen(res->cache_path, "w")) || fputs(res->record, fp) < 0) {
        snprintf(msg, len, "cannot write the tuning record %s: %s", res->cache_path ? res->cache_path : "(no cache directory)",
                 strerror(errno));
        st = FROST_E_IO;
    } else {
        *swap = res->kept || (res->thread_split > 1 && srv->batch.num_batch_threads <= 0);
        char split[64] = "";
        if (res->thread_split > 1) snprintf(split, sizeof split, ", thread split: %d contexts", res->thread_split);
        snprintf(msg, len, "%d layer(s), rules %.3f ms/image, tuned %.3f ms/image%s: %s (record %s)", res->num_layers,
                 res->rules_ms, res->tuned_ms, split, *swap ? "swapping the tuned plan in" : "no gain, the rules stay",
                 res->cache_path);
    }
    if (fp && fclose(fp) && st == FROST_OK) st = FROST_E_IO;
    frost_tune_result_free(res);
    return st;
}

static void *tuner_main(void *arg) {
    sv_server *srv = arg;
    for (int k = 0; k < srv->num_models && !srv->tuner_stop; k++) {
        sv_servable *sv = &srv->models[k];
        char err[512], msg[1024];
        int code = 0;
        sv_version *v = sv->removed ? NULL : sv_servable_acquire(sv, -1, NULL, err, sizeof err, &code);
        if (!v) continue;
        sv_model *m = sv_version_runner(srv, v, NULL, err, sizeof err, &code);
        int swap = 0;
        if (m && m->model) {
            fprintf(stderr, "frost serve: model %s version %lld: tuning (%d s)\n", sv->name, (long long)v->number,
                    srv->tune_budget);
            frost_status st = tune_one(srv, v, m, msg, sizeof msg, &swap);
            fprintf(stderr, "frost serve: model %s version %lld: %s%s\n", sv->name, (long long)v->number,
                    st == FROST_OK ? "tuned: " : "not tuned: ", msg);
        }
        if (swap && !srv->tuner_stop) {
            const char *ecode = NULL;
            sv_version *nv = sv_version_load(srv, sv, v->number, v->path, msg, sizeof msg, &ecode);
            if (!nv) fprintf(stderr, "frost serve: model %s: the tuned version did not load: %s\n", sv->name, msg);
            else if (sv_servable_replace(sv, v, nv)) sv_version_free(nv); /* unloaded meanwhile */
            else fprintf(stderr, "frost serve: model %s version %lld: the tuned plan serves\n", sv->name, (long long)nv->number);
        }
        sv_version_release(v);
        sv_servable_reap(sv);
    }
    return NULL;
}

int sv_tuner_start(sv_server *srv) {
    if (pthread_create(&srv->tuner, NULL, tuner_main, srv)) return -1;
    srv->tuner_started = 1;
    return 0;
}

void sv_tuner_stop(sv_server *srv) {
    if (!srv->tuner_started) return;
    srv->tuner_stop = 1;
    pthread_join(srv->tuner, NULL);
    srv->tuner_started = 0;
}
