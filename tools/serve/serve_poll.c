/* frost serve: a model's base path, as TensorFlow Serving reads it.
 *
 * Version folders are the children of the base path whose names are
 * numbers ("00000123" is version 123) and that hold a saved_model.pb
 * (others are ignored, as is a folder still being copied without its
 * saved_model.pb).  The version policy chooses among them: `latest` the N
 * largest (N = 1 by default), `all`, or `specific` versions.  Each poll
 * (every --file_system_poll_wait_seconds, on a thread of its own) loads
 * the chosen versions not loaded yet, in the background while the others
 * keep answering, then makes them live, and only then unloads the versions
 * the policy no longer chooses or whose folder is gone: a request never
 * finds no version between the two.  A version that fails to load keeps the
 * versions already live (the policy chooses among those that load) and is
 * not tried again until its files change.  An unloaded version is freed once
 * its last request has been answered (sv_servable_reap). */
#include <dirent.h>
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "serve.h"

int64_t sv_version_number(const char *name) {
    if (!name[0] || strlen(name) > 18) return -1;
    int64_t v = 0;
    for (const char *p = name; *p; p++) {
        if (*p < '0' || *p > '9') return -1;
        v = v * 10 + (*p - '0');
    }
    return v;
}

typedef struct found {
    int64_t version;
    int64_t stamp; /* saved_model.pb's mtime and size: a changed file may load now */
    char *path;
} found;

static int cmp_desc(const void *a, const void *b) {
    int64_t x = ((const found *)a)->version, y = ((const found *)b)->version;
    return x < y ? 1 : x > y ? -1 : 0;
}

/* The version folders under the base path, descending.  -1 when it cannot be read. */
static int scan(const char *base, found **out, int *n, char *err, size_t errlen) {
    *out = NULL;
    *n = 0;
    DIR *d = opendir(base);
    if (!d) {
        snprintf(err, errlen, "cannot read the base path %s: %s", base, strerror(errno));
        return -1;
    }
    int cap = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        int64_t v = sv_version_number(e->d_name);
        if (v < 0) continue;
        size_t len = strlen(base) + strlen(e->d_name) + 20;
        char *path = malloc(len), *pb = malloc(len);
        struct stat st;
        if (!path || !pb) {
            free(path), free(pb);
            break;
        }
        snprintf(path, len, "%s/%s", base, e->d_name);
        snprintf(pb, len, "%s/saved_model.pb", path);
        int ok = stat(pb, &st) == 0 && S_ISREG(st.st_mode);
        free(pb);
        if (!ok || (*n == cap && !(cap = cap ? cap * 2 : 8, *out = realloc(*out, (size_t)cap * sizeof **out)))) {
            free(path);
            if (!*out) cap = 0;
            continue;
        }
        (*out)[*n].version = v;
        (*out)[*n].stamp = (int64_t)st.st_mtim.tv_sec * 1000000007LL + st.st_mtim.tv_nsec + (int64_t)st.st_size;
        (*out)[*n].path = path;
        (*n)++;
    }
    closedir(d);
    if (*n) qsort(*out, (size_t)*n, sizeof **out, cmp_desc);
    return 0;
}

/* Whether the policy chooses version f[k] among the candidates f[0..n) (descending). */
static int chosen(const sv_version_policy *p, const found *f, int n, int k) {
    (void)n;
    switch (p->kind) {
    case SV_POLICY_ALL: return 1;
    case SV_POLICY_SPECIFIC:
        for (int j = 0; j < p->num_specific; j++)
            if (p->versions[j] == f[k].version) return 1;
        return 0;
    default: return k < (p->num_versions > 0 ? p->num_versions : 1);
    }
}

static int failed_before(const sv_servable *sv, const found *f) {
    for (int k = 0; k < sv->num_failed; k++)
        if (sv->failed[k] == f->version) return sv->failed_stamp[k] == f->stamp;
    return 0;
}

static void remember_failure(sv_servable *sv, const found *f) {
    for (int k = 0; k < sv->num_failed; k++)
        if (sv->failed[k] == f->version) {
            sv->failed_stamp[k] = f->stamp;
            return;
        }
    if (sv->num_failed == sv->cap_failed) {
        int cap = sv->cap_failed ? sv->cap_failed * 2 : 8;
        int64_t *a = realloc(sv->failed, (size_t)cap * sizeof *a);
        if (a) sv->failed = a;
        int64_t *b = realloc(sv->failed_stamp, (size_t)cap * sizeof *b);
        if (b) sv->failed_stamp = b;
        if (!a || !b) return; /* then it is tried again at the next poll */
        sv->cap_failed = cap;
    }
    sv->failed[sv->num_failed] = f->version;
    sv->failed_stamp[sv->num_failed++] = f->stamp;
}

static sv_version *live_version(const sv_servable *sv, int64_t number) {
    for (int k = 0; k < sv->num_live; k++)
        if (sv->live[k]->number == number) return sv->live[k];
    return NULL;
}

/* Insert v into the live list, descending.  Under sv->mu. */
static int add_live(sv_servable *sv, sv_version *v) {
    if (sv->num_live == sv->cap_live) {
        int cap = sv->cap_live ? sv->cap_live * 2 : 4;
        sv_version **l = realloc(sv->live, (size_t)cap * sizeof *l);
        if (!l) return -1;
        sv->live = l;
        sv->cap_live = cap;
    }
    int k = 0;
    while (k < sv->num_live && sv->live[k]->number > v->number) k++;
    memmove(&sv->live[k + 1], &sv->live[k], (size_t)(sv->num_live - k) * sizeof *sv->live);
    sv->live[k] = v;
    sv->num_live++;
    return 0;
}

/* Live version k leaves the live list for the retired one (under sv->mu):
 * freed once its last request is answered. */
static void retire(sv_servable *sv, int k) {
    sv_version *v = sv->live[k];
    memmove(&sv->live[k], &sv->live[k + 1], (size_t)(sv->num_live - k - 1) * sizeof *sv->live);
    sv->num_live--;
    v->next = sv->retired;
    sv->retired = v;
    atomic_fetch_sub(&v->refs, 1); /* the live list's reference */
    sv_status_set(sv, v->number, SV_END, NULL, NULL);
    fprintf(stderr, "frost serve: model %s: version %lld unloaded\n", sv->name, (long long)v->number);
}

int sv_servable_replace(sv_servable *sv, sv_version *old, sv_version *v) {
    pthread_mutex_lock(&sv->mu);
    int k = 0;
    while (k < sv->num_live && sv->live[k] != old) k++;
    if (k == sv->num_live) {
        pthread_mutex_unlock(&sv->mu);
        return -1;
    }
    sv->live[k] = v; /* the live list's reference moves to v (version_new's) */
    old->next = sv->retired;
    sv->retired = old;
    atomic_fetch_sub(&old->refs, 1);
    sv_status_set(sv, v->number, SV_AVAILABLE, NULL, NULL);
    pthread_mutex_unlock(&sv->mu);
    sv_servable_reap(sv);
    return 0;
}

void sv_servable_retire_all(sv_servable *sv) {
    pthread_mutex_lock(&sv->mu);
    while (sv->num_live) retire(sv, 0);
    pthread_mutex_unlock(&sv->mu);
    sv_servable_reap(sv);
}

int sv_servable_poll(sv_server *srv, sv_servable *sv, char *err, size_t errlen) {
    found *f = NULL;
    int n = 0;
    if (scan(sv->base_path, &f, &n, err, errlen)) return -1;
    /* candidates: present and not failed with these same files */
    found *c = calloc((size_t)(n > 0 ? n : 1), sizeof *c);
    int nc = 0;
    if (!c) {
        for (int k = 0; k < n; k++) free(f[k].path);
        free(f);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    for (int k = 0; k < n; k++)
        if (!failed_before(sv, &f[k])) c[nc++] = f[k];
    /* load what the policy chooses and is not live (the others keep answering meanwhile) */
    for (int k = 0; k < nc; k++) {
        if (!chosen(&sv->policy, c, nc, k)) continue;
        pthread_mutex_lock(&sv->mu);
        int have = live_version(sv, c[k].version) != NULL;
        if (!have) sv_status_set(sv, c[k].version, SV_LOADING, NULL, NULL);
        pthread_mutex_unlock(&sv->mu);
        if (have) continue;
        char msg[2048];
        const char *code = NULL;
        double t0 = sv_now();
        sv_version *v = sv_version_load(srv, sv, c[k].version, c[k].path, msg, sizeof msg, &code);
        pthread_mutex_lock(&sv->mu);
        if (v && add_live(sv, v) == 0) {
            sv_status_set(sv, v->number, SV_AVAILABLE, NULL, NULL);
            fprintf(stderr, "frost serve: model %s: version %lld loaded in %.2f s (%s)\n", sv->name,
                    (long long)v->number, sv_now() - t0, c[k].path);
        } else {
            if (v) sv_version_free(v), snprintf(msg, sizeof msg, "out of memory"), code = "RESOURCE_EXHAUSTED";
            sv_status_set(sv, c[k].version, SV_END, msg, code);
            remember_failure(sv, &c[k]);
            fprintf(stderr, "frost serve: model %s: version %lld failed to load: %s\n", sv->name,
                    (long long)c[k].version, msg);
            memmove(&c[k], &c[k + 1], (size_t)(nc - k - 1) * sizeof *c); /* the policy chooses among the others */
            nc--;
            k = -1; /* choose again: with latest N, the next older version may be chosen now */
        }
        pthread_mutex_unlock(&sv->mu);
    }
    /* unload the live versions the policy no longer chooses (or whose folder is gone) */
    pthread_mutex_lock(&sv->mu);
    for (int k = 0; k < sv->num_live;) {
        sv_version *v = sv->live[k];
        int keep = 0;
        for (int j = 0; j < nc && !keep; j++) keep = c[j].version == v->number && chosen(&sv->policy, c, nc, j);
        if (keep) {
            k++;
            continue;
        }
        retire(sv, k);
    }
    pthread_mutex_unlock(&sv->mu);
    sv_servable_reap(sv);
    for (int k = 0; k < n; k++) free(f[k].path);
    free(f);
    free(c);
    return 0;
}

void sv_servable_reap(sv_servable *sv) {
    pthread_mutex_lock(&sv->mu);
    sv_version **p = &sv->retired, *dead = NULL;
    while (*p) {
        sv_version *v = *p;
        if (atomic_load(&v->refs) == 0) {
            *p = v->next;
            v->next = dead;
            dead = v;
        } else
            p = &v->next;
    }
    pthread_mutex_unlock(&sv->mu);
    while (dead) { /* outside the lock: freeing joins the version's batch threads */
        sv_version *n = dead->next;
        sv_version_free(dead);
        dead = n;
    }
}

static void *poller(void *arg) {
    sv_server *srv = arg;
    double next_config = sv_now() + srv->config_poll_s;
    pthread_mutex_lock(&srv->mu);
    while (!srv->poller_stop) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        double wait = srv->poll_s > 0 ? srv->poll_s : 1.0;
        if (srv->config_poll_s > 0 && srv->config_poll_s < wait) wait = srv->config_poll_s;
        ts.tv_sec += (time_t)wait;
        ts.tv_nsec += (long)((wait - (double)(time_t)wait) * 1e9);
        if (ts.tv_nsec >= 1000000000L) ts.tv_sec++, ts.tv_nsec -= 1000000000L;
        pthread_cond_timedwait(&srv->poll_cv, &srv->mu, &ts);
        if (srv->poller_stop) break;
        pthread_mutex_unlock(&srv->mu);
        double now = sv_now();
        if (srv->config_poll_s > 0 && now >= next_config) {
            sv_config_reload(srv);
            next_config = now + srv->config_poll_s;
        }
        for (int k = 0; k < srv->num_models; k++) {
            sv_servable *sv = &srv->models[k];
            char err[512];
            if (sv->layout == SV_BASE_PATH && srv->poll_s > 0 && !sv->removed && sv_servable_poll(srv, sv, err, sizeof err))
                fprintf(stderr, "frost serve: model %s: %s\n", sv->name, err);
            sv_servable_reap(sv);
        }
        pthread_mutex_lock(&srv->mu);
    }
    pthread_mutex_unlock(&srv->mu);
    return NULL;
}

int sv_poller_start(sv_server *srv) {
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&srv->poll_cv, &ca);
    pthread_condattr_destroy(&ca);
    if (pthread_create(&srv->poller, NULL, poller, srv)) return -1;
    srv->poller_started = 1;
    return 0;
}

void sv_poller_stop(sv_server *srv) {
    if (!srv->poller_started) return;
    pthread_mutex_lock(&srv->mu);
    srv->poller_stop = 1;
    pthread_cond_broadcast(&srv->poll_cv);
    pthread_mutex_unlock(&srv->mu);
    pthread_join(srv->poller, NULL);
    srv->poller_started = 0;
    pthread_cond_destroy(&srv->poll_cv);
}
