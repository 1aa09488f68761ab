/* frost serve: --model_config_file read again every
 * --model_config_file_poll_wait_seconds, as TensorFlow Serving does.
 *
 * On the polling thread, when the file's mtime or size changed: a model new
 * to the file is loaded and then served; a model left out is no longer
 * found (404) and its versions are unloaded once their last requests are
 * answered; a model kept takes the file's version policy, labels and (for a
 * base path of version folders) base path, which the next poll applies.  A
 * file that cannot be read or parsed changes nothing: the error is logged
 * and the file read again once it changes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "serve.h"

int64_t sv_file_stamp(const char *path) {
    struct stat st;
    if (stat(path, &st) != 0) return 0;
    return (int64_t)st.st_mtim.tv_sec * 1000000007LL + st.st_mtim.tv_nsec + (int64_t)st.st_size;
}

/* The labels of c moved into sv (the old ones freed); under sv->mu when sv is served. */
static void take_labels(sv_servable *sv, sv_model_config *c) {
    for (int j = 0; j < sv->num_labels; j++) free(sv->label_keys[j]);
    for (int j = 0; j < c->num_labels; j++) {
        sv->label_keys[j] = c->label_keys[j], c->label_keys[j] = NULL;
        sv->label_versions[j] = c->label_versions[j];
    }
    sv->num_labels = c->num_labels;
}

int sv_servable_from_config(sv_servable *sv, sv_model_config *c) {
    sv->name = c->name, c->name = NULL;
    sv->base_path = c->base_path, c->base_path = NULL;
    sv->policy = c->policy;
    take_labels(sv, c);
    return sv->name && sv->base_path ? 0 : -1;
}

static sv_servable *find_any(sv_server *srv, const char *name) {
    for (int k = 0; k < srv->num_models; k++)
        if (!strcmp(srv->models[k].name, name)) return &srv->models[k];
    return NULL;
}

/* A model kept (or back): the file's policy, labels and base path. */
static void update(sv_server *srv, sv_servable *sv, sv_model_config *c) {
    pthread_mutex_lock(&sv->mu);
    sv->policy = c->policy;
    take_labels(sv, c);
    int moved = strcmp(sv->base_path, c->base_path) != 0;
    if (moved && sv->layout == SV_BASE_PATH) {
        free(sv->base_path);
        sv->base_path = c->base_path, c->base_path = NULL;
    }
    pthread_mutex_unlock(&sv->mu);
    if (moved && sv->layout != SV_BASE_PATH)
        fprintf(stderr, "frost serve: model %s: a new base_path for a single SavedModel or graph takes a restart\n",
                sv->name);
    if (sv->removed) {
        char err[4096];
        if (sv_servable_start(srv, sv, err, sizeof err)) fprintf(stderr, "frost serve: %s\n", err);
        sv->removed = 0;
        fprintf(stderr, "frost serve: model %s: in the config file again\n", sv->name);
    }
}

/* A model new to the file: loaded, then published. */
static void add(sv_server *srv, sv_model_config *c) {
    int n = srv->num_models;
    if (n == srv->cap_models) {
        fprintf(stderr, "frost serve: --model_config_file: model %s not added: at most %d models\n", c->name,
                srv->cap_models);
        return;
    }
    sv_servable *sv = &srv->models[n];
    memset(sv, 0, sizeof *sv);
    pthread_mutex_init(&sv->mu, NULL);
    sv_model_opts_init(&sv->opts);
    char err[4096];
    double t0 = sv_now();
    if (sv_servable_from_config(sv, c) || sv_servable_start(srv, sv, err, sizeof err)) {
        fprintf(stderr, "frost serve: --model_config_file: model %s not added: %s\n", sv->name ? sv->name : "?",
                sv->name ? err : "out of memory");
        sv_servable_free(sv);
        return;
    }
    srv->num_models = n + 1; /* published: requests find it from now on */
    fprintf(stderr, "frost serve: model %s added from the config file (%d version(s) in %.2f s)\n", sv->name,
            sv->num_live, sv_now() - t0);
}

void sv_config_reload(sv_server *srv) {
    int64_t stamp = sv_file_stamp(srv->config_file);
    if (stamp == srv->config_stamp) return;
    srv->config_stamp = stamp;
    char err[512];
    size_t len = 0;
    sv_model_config *cfg = NULL;
    int ncfg = 0;
    char *text = sv_config_read_file(srv->config_file, &len, err, sizeof err);
    if (!text || sv_config_parse_models(text, len, &cfg, &ncfg, err, sizeof err)) {
        fprintf(stderr, "frost serve: --model_config_file %s: %s (the models served are unchanged)\n",
                srv->config_file, err);
        free(text);
        return;
    }
    free(text);
    for (int k = 0; k < srv->num_models; k++) { /* left out: unloaded */
        sv_servable *sv = &srv->models[k];
        int kept = sv->from_flags; /* models of the command line stay */
        for (int j = 0; j < ncfg && !kept; j++) kept = !strcmp(cfg[j].name, sv->name);
        if (!kept && !sv->removed) {
            sv->removed = 1;
            fprintf(stderr, "frost serve: model %s: left out of the config file: unloading\n", sv->name);
            sv_servable_retire_all(sv);
        }
    }
    for (int j = 0; j < ncfg; j++) {
        sv_servable *sv = find_any(srv, cfg[j].name);
        if (sv && sv->from_flags) fprintf(stderr, "frost serve: model %s: named on the command line too\n", sv->name);
        else if (sv) update(srv, sv, &cfg[j]);
        else add(srv, &cfg[j]);
    }
    sv_config_models_free(cfg, ncfg);
}
