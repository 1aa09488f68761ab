/* The CRC-32C of a SavedModel's variables that stay in its mapped shard,
 * checked while the graph compiles.
 *
 * The freezing leaves the check of the variables the graph uses in place
 * (fr_sm_frozen.ext_entry) to the graph: a large model's are checked on a
 * thread of their own, started when the graph is made, while the caller
 * goes on to compile it (an 89 MB Inception v3 bundle: ~5 ms of CRC at
 * memory speed, against a compile of ~40 ms that reads the same weights);
 * frost_model_compile waits for the result before it returns a model
 * (fr_graph_check), and a corrupt shard fails it with the tensor named.
 * Small bundles are checked at once: a thread costs more than their CRC.
 * A process forked between the load and the compile has no such thread
 * (fork copies the calling thread alone): there the compile checks the
 * variables itself. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "savedmodel/bundle.h"
#include "savedmodel/check.h"

typedef struct {
    char *what; /* messages start with it: the SavedModel and signature */
    const fr_bundle *b;
    const fr_bundle_entry **e;
    int n;
    pthread_t thread;
    pid_t pid; /* the process the thread runs in */
    pthread_mutex_t lock;
    int joined;
    frost_status st;
    char *msg;
} sm_check;

static frost_status check_all(const char *what, const fr_bundle *b, const fr_bundle_entry *const *e, int n,
                              char **err) {
    for (int i = 0; i < n; i++) {
        char *why = NULL;
        frost_status st = fr_bundle_check(b, e[i], &why);
        if (st != FROST_OK) {
            fr_errorf(err, "%s: %s", what, why ? why : frost_strerror(st));
            free(why);
            return st;
        }
    }
    return FROST_OK;
}

static void *check_thread(void *arg) {
    sm_check *c = arg;
    c->st = check_all(c->what, c->b, c->e, c->n, &c->msg);
    return NULL;
}

static frost_status check_wait(void *arg, char **err) {
    sm_check *c = arg;
    pthread_mutex_lock(&c->lock);
    if (!c->joined && getpid() != c->pid) { /* a forked child: the thread is not here, whatever it did */
        free(c->msg), c->msg = NULL;
        c->st = check_all(c->what, c->b, c->e, c->n, &c->msg);
        c->joined = 1;
    }
    if (!c->joined) pthread_join(c->thread, NULL), c->joined = 1;
    pthread_mutex_unlock(&c->lock);
    if (c->st != FROST_OK) fr_errorf(err, "%s", c->msg ? c->msg : frost_strerror(c->st));
    return c->st;
}

static void check_free(void *arg) {
    sm_check *c = arg;
    check_wait(c, NULL);
    pthread_mutex_destroy(&c->lock);
    free(c->msg);
    free(c->e);
    free(c->what);
    free(c);
}

frost_status fr_sm_check_start(const char *what, const fr_bundle *b, const fr_bundle_entry *const *e, int n,
                               frost_graph *g, char **err) {
    size_t bytes = 0;
    for (int i = 0; i < n; i++) bytes += (size_t)e[i]->size;
    sm_check *c = bytes >= FR_SM_CHECK_ASYNC_BYTES ? calloc(1, sizeof *c) : NULL;
    if (c && (c->e = malloc(sizeof *c->e * (size_t)n)) != NULL && (c->what = strdup(what)) != NULL) {
        memcpy(c->e, e, sizeof *c->e * (size_t)n);
        c->b = b, c->n = n, c->pid = getpid();
        pthread_mutex_init(&c->lock, NULL);
        if (pthread_create(&c->thread, NULL, check_thread, c) == 0) {
            g->check = c, g->check_wait = check_wait, g->check_free = check_free;
            return FROST_OK;
        }
        pthread_mutex_destroy(&c->lock);
    }
    if (c) free(c->e), free(c->what);
    free(c);
    return check_all(what, b, e, n, err); /* small, or no thread to be had: here and now */
}
