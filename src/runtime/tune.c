/* Tuning records at compile time: the explicit file or the per-user cache,
 * matched against this model, CPU and thread count (src/kernels/tune.h). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kernels/tune.h"
#include "pb/mapfile.h"
#include "runtime/runtime.h"

uint64_t fr_model_digest(const frost_model *m) { return m->digest ? m->digest : fr_graph_digest(m->g); }

/* The per-user cache's record of this digest and thread count (malloc'ed);
 * NULL when neither XDG_CACHE_HOME nor HOME is set. */
static char *cache_path(uint64_t digest, int threads) {
    const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
    char *path = NULL;
    if (xdg && *xdg) fr_errorf(&path, "%s/frost/%016" PRIx64 "-%dt.tune", xdg, digest, threads);
    else if (home && *home) fr_errorf(&path, "%s/.cache/frost/%016" PRIx64 "-%dt.tune", home, digest, threads);
    return path;
}

/* Why record r does not apply to model m on this machine, NULL when it does. */
static char *mismatch(const frost_model *m, const fr_tune_record *r) {
    char cpu[128], isa[256], *why = NULL;
    fr_tune_machine(cpu, sizeof cpu, isa, sizeof isa);
    if (strcmp(r->cpu, cpu)) fr_errorf(&why, "measured on another CPU (%s; this one: %s)", r->cpu, cpu);
    else if (strcmp(r->isa, isa)) fr_errorf(&why, "measured with other instruction sets (%s; here: %s)", r->isa, isa);
    else if (r->model != m->digest)
        fr_errorf(&why, "for another model (digest %016" PRIx64 "; this one: %016" PRIx64 ")", r->model, m->digest);
    else if (r->threads != m->cfg.threads)
        fr_errorf(&why, "measured with %d threads (this compile: %d)", r->threads, m->cfg.threads);
    return why;
}

frost_status fr_model_tune_load(frost_model *m, const char *tune_file, char **err) {
    if (tune_file && !*tune_file) return FROST_OK; /* "": none (and no digest to compute) */
    m->digest = fr_graph_digest(m->g);
    int explicit = tune_file != NULL;
    char *path = explicit ? strdup(tune_file) : cache_path(m->digest, m->cfg.threads);
    if (!path) return explicit ? FROST_E_NO_MEMORY : FROST_OK;
    if (!explicit && access(path, F_OK) != 0) { /* none in the cache */
        free(path);
        return FROST_OK;
    }
    uint8_t *text = NULL;
    size_t len = 0;
    char *rerr = NULL, why[512];
    frost_status st = fr_read_file(path, &text, &len, &rerr);
    fr_tune_record *r = NULL;
    if (st == FROST_OK && !(r = calloc(1, sizeof *r))) st = FROST_E_NO_MEMORY;
    if (st == FROST_OK && fr_tune_parse((const char *)text, len, r, why, sizeof why)) {
        st = FROST_E_PARSE;
        fr_errorf(&rerr, "%s: %s", path, why);
    }
    free(text);
    if (st != FROST_OK) {
        free(r);
        if (explicit) { /* asked for: an error */
            fr_errorf(err, "%s: tuning record: %s", m->g->source, rerr ? rerr : frost_strerror(st));
        } else { /* the cache's: noted, ignored */
            fr_errorf(&m->tune_note, "tuning record ignored: %s", rerr ? rerr : frost_strerror(st)); /* rerr names path */
            st = FROST_OK;
        }
        free(rerr);
        free(path);
        return st;
    }
    char *off = mismatch(m, r);
    if (off) {
        fr_errorf(&m->tune_note, "tuning record %s ignored: %s", path, off);
        fr_tune_free(r);
        free(r);
    } else {
        m->tune = r;
        m->cfg.tune = r;
        char mb[32] = "";
        if (r->micro > 0) snprintf(mb, sizeof mb, ", micro_batch %d", r->micro);
        else if (r->micro < 0) snprintf(mb, sizeof mb, ", micro_batch none");
        char ts[48] = "";
        if (r->split > 0) snprintf(ts, sizeof ts, ", thread_split %dx%d", r->split, r->threads / r->split);
        fr_errorf(&m->tune_note, "tuning record %s: %d layer(s)%s%s", path, r->n_layers, mb, ts);
    }
    free(off);
    free(path);
    return FROST_OK;
}

const char *frost_model_tune_note(const frost_model *m) { return m && m->tune_note ? m->tune_note : ""; }

frost_status frost_model_tune_path(const frost_model *m, char **path_out) {
    if (!m || !path_out) return FROST_E_INVALID_ARGUMENT;
    *path_out = cache_path(fr_model_digest(m), m->cfg.threads);
    return *path_out ? FROST_OK : FROST_E_NOT_FOUND;
}

frost_status frost_model_tune_record(const frost_model *m, const char *const *layers, const char *const *picks,
                                     int count, const char *batches, char **text_out, char **err) {
    return fr_model_tune_record(m, layers, picks, count, batches, 0, 0, text_out, err);
}

int frost_model_thread_split(const frost_model *m, int *threads_out) {
    int w = m && m->tune && m->tune->split > 0 ? m->tune->split : 1;
    if (threads_out) *threads_out = m ? m->cfg.threads / w : 0;
    return w;
}

frost_status fr_model_tune_record(const frost_model *m, const char *const *layers, const char *const *picks, int count,
                                  const char *batches, int micro, int split, char **text_out, char **err) {
    if (err) *err = NULL;
    if (!m || !text_out || count < 0 || (count && (!layers || !picks)) || split < 0 ||
        (split > 0 && m->cfg.threads % split))
        return FROST_E_INVALID_ARGUMENT;
    *text_out = NULL;
    char cpu[128], isa[256];
    fr_tune_machine(cpu, sizeof cpu, isa, sizeof isa);
    fr_tune_record r = {0};
    r.threads = m->cfg.threads;
    r.micro = micro;
    r.split = split;
    r.model = fr_model_digest(m);
    r.cpu = strdup(cpu);
    r.isa = strdup(isa);
    r.batches = strdup(batches ? batches : "");
    r.layers = calloc((size_t)count + 1, sizeof *r.layers);
    frost_status st = r.cpu && r.isa && r.batches && r.layers ? FROST_OK : FROST_E_NO_MEMORY;
    for (int i = 0; i < count && st == FROST_OK; i++) {
        int pick = picks[i] ? fr_tune_pick_parse(picks[i]) : -1;
        if (pick < 0 || !layers[i] || !*layers[i] || strpbrk(layers[i], " \t\n")) {
            fr_errorf(err, "tuning record: layer %d ('%s'): %s", i, layers[i] ? layers[i] : "(null)",
                      pick < 0 ? "unknown pick (backend, igemm, winograd, winograd-large)" : "not a node name");
            st = FROST_E_INVALID_ARGUMENT;
            break;
        }
        if (!(r.layers[i].name = strdup(layers[i]))) st = FROST_E_NO_MEMORY;
        r.layers[i].pick = (fr_tune_pick)pick;
        r.n_layers = i + 1;
    }
    if (st == FROST_OK && fr_tune_sort(&r)) {
        fr_errorf(err, "tuning record: a layer is given twice");
        st = FROST_E_INVALID_ARGUMENT;
    }
    if (st == FROST_OK && !(*text_out = fr_tune_format(&r))) st = FROST_E_NO_MEMORY;
    fr_tune_free(&r);
    return st;
}
