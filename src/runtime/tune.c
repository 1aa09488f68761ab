/* Tuning records at compile time: the explicit file or the per-user cache,
 * matched against this model, CPU and thread count (src/kernels/tune.h). */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/tune.h"
#include "pb/mapfile.h"
#include "runtime/runtime.h"

static char *dupf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *dupf(const char *fmt, ...) {
    va_list ap, aq;
    va_start(ap, fmt);
    va_copy(aq, ap);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *s = n >= 0 ? malloc((size_t)n + 1) : NULL;
    if (s) vsnprintf(s, (size_t)n + 1, fmt, aq);
    va_end(aq);
    return s;
}

static char *cache_path(uint64_t digest, int threads) {
    const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
    if (xdg && *xdg) return dupf("%s/frost/%016" PRIx64 "-%dt.tune", xdg, digest, threads);
    if (home && *home) return dupf("%s/.cache/frost/%016" PRIx64 "-%dt.tune", home, digest, threads);
    return NULL;
}

/* Why record r does not apply to model m on this machine, NULL when it does. */
static char *mismatch(const frost_model *m, const fr_tune_record *r) {
    char cpu[128], isa[256];
    fr_tune_machine(cpu, sizeof cpu, isa, sizeof isa);
    if (strcmp(r->cpu, cpu)) return dupf("measured on another CPU (%s; this one: %s)", r->cpu, cpu);
    if (strcmp(r->isa, isa)) return dupf("measured with other instruction sets (%s; here: %s)", r->isa, isa);
    if (r->model != m->digest)
        return dupf("for another model (digest %016" PRIx64 "; this one: %016" PRIx64 ")", r->model, m->digest);
    if (r->threads != m->cfg.threads) return dupf("measured with %d threads (this compile: %d)", r->threads, m->cfg.threads);
    return NULL;
}

frost_status fr_model_tune_load(frost_model *m, const char *tune_file, char **err) {
    m->digest = fr_graph_digest(m->g);
    if (tune_file && !*tune_file) return FROST_OK; /* "": none */
    int explicit = tune_file != NULL;
    char *path = explicit ? strdup(tune_file) : cache_path(m->digest, m->cfg.threads);
    if (!path) return explicit ? FROST_E_NO_MEMORY : FROST_OK;
    uint8_t *text = NULL;
    size_t len = 0;
    char *rerr = NULL, why[512];
    frost_status st = fr_read_file(path, &text, &len, &rerr);
    fr_tune_record *r = NULL;
    if (st == FROST_OK && !(r = calloc(1, sizeof *r))) st = FROST_E_NO_MEMORY;
    if (st == FROST_OK && fr_tune_parse((const char *)text, len, r, why, sizeof why)) {
        st = FROST_E_PARSE;
        free(rerr);
        rerr = dupf("%s: %s", path, why);
    }
    free(text);
    if (st != FROST_OK) {
        free(r);
        if (explicit) { /* asked for: an error */
            fr_errorf(err, "%s: tuning record: %s", m->g->source, rerr ? rerr : frost_strerror(st));
        } else if (st != FROST_E_IO || (rerr && !strstr(rerr, strerror(ENOENT)))) {
            m->tune_note = dupf("tuning record ignored: %s", rerr ? rerr : frost_strerror(st)); /* rerr names path */
            st = FROST_OK;
        } else {
            st = FROST_OK; /* none in the cache */
        }
        free(rerr);
        free(path);
        return st;
    }
    char *off = mismatch(m, r);
    if (off) {
        m->tune_note = dupf("tuning record %s ignored: %s", path, off);
        fr_tune_free(r);
        free(r);
    } else {
        m->tune = r;
        m->cfg.tune = r;
        m->tune_note = dupf("tuning record %s: %d layer(s)", path, r->n_layers);
    }
    free(off);
    free(path);
    return FROST_OK;
}

const char *frost_model_tune_note(const frost_model *m) { return m && m->tune_note ? m->tune_note : ""; }

frost_status frost_model_tune_path(const frost_model *m, char **path_out) {
    if (!m || !path_out) return FROST_E_INVALID_ARGUMENT;
    *path_out = cache_path(m->digest, m->cfg.threads);
    return *path_out ? FROST_OK : FROST_E_NOT_FOUND;
}

frost_status frost_model_tune_record(const frost_model *m, const char *const *layers, const char *const *picks,
                                     int count, const char *batches, char **text_out, char **err) {
    if (err) *err = NULL;
    if (!m || !text_out || count < 0 || (count && (!layers || !picks))) return FROST_E_INVALID_ARGUMENT;
    *text_out = NULL;
    char cpu[128], isa[256];
    fr_tune_machine(cpu, sizeof cpu, isa, sizeof isa);
    fr_tune_record r = {0};
    r.threads = m->cfg.threads;
    r.model = m->digest;
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
