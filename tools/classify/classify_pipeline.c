#include "classify_pipeline.h"

#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

typedef struct {
    cls_item item;
    int ready; /* processed by a worker */
} cls_slot;

struct cls_pipeline {
    cls_pipeline_config cfg;
    size_t image_floats;
    cls_slot *slots;
    int nslots;
    /* Sequence numbers: tail <= got <= head, claim <= head. */
    long head;  /* next to be filled by the producer */
    long claim; /* next to be processed by a worker */
    long got;   /* next to be handed to the consumer */
    long tail;  /* oldest not yet released */
    int eof;    /* the producer has enumerated everything */
    int stop;   /* shutting down */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    pthread_t producer;
    pthread_t *workers;
    int nworkers;
    int producer_started;
    int reading_stdin;
};

/* ------------------------------------------------------------ producer */

/* Appends one path; waits for a free slot.  Returns -1 when stopping. */
static int push_path(cls_pipeline *p, const char *path, int from_dir) {
    char *copy = strdup(path);
    if (!copy) return -1;
    pthread_mutex_lock(&p->mu);
    while (!p->stop && p->head - p->tail >= p->nslots) pthread_cond_wait(&p->cv, &p->mu);
    if (p->stop) {
        pthread_mutex_unlock(&p->mu);
        free(copy);
        return -1;
    }
    cls_slot *s = &p->slots[p->head % p->nslots];
    s->ready = 0;
    s->item.path = copy;
    s->item.from_dir = from_dir;
    s->item.skipped = 0;
    s->item.status = FROST_OK;
    s->item.error = NULL;
    s->item.width = s->item.height = 0;
    s->item.size = 0;
    p->head++;
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
    return 0;
}

static int by_name(const struct dirent **a, const struct dirent **b) { return strcmp((*a)->d_name, (*b)->d_name); }

static int visible(const struct dirent *d) { return d->d_name[0] != '.'; }

static char *join_path(const char *dir, const char *name) {
    size_t n = strlen(dir);
    int slash = n > 0 && dir[n - 1] == '/';
    char *s = malloc(n + strlen(name) + 2);
    if (s) sprintf(s, "%s%s%s", dir, slash ? "" : "/", name);
    return s;
}

/* Directory entries in byte order of their names, hidden ones left out,
 * sub-directories visited where they sort; symbolic links to directories
 * are not followed (no cycles).  `visit` gets each regular file; returns -1
 * to stop. */
typedef int (*walk_fn)(void *ctx, const char *path);

static int walk_dir(const char *dir, walk_fn visit, void *ctx, int quiet) {
    struct dirent **names = NULL;
    int n = scandir(dir, &names, visible, by_name);
    if (n < 0) {
        if (!quiet) fprintf(stderr, "frost: cannot read directory %s: %s\n", dir, strerror(errno));
        return 0;
    }
    int rc = 0;
    for (int i = 0; i < n; i++) {
        char *path = rc ? NULL : join_path(dir, names[i]->d_name);
        struct stat st;
        if (path && lstat(path, &st) == 0) {
            if (S_ISDIR(st.st_mode)) rc = walk_dir(path, visit, ctx, quiet);
            else if (S_ISREG(st.st_mode) || (S_ISLNK(st.st_mode) && stat(path, &st) == 0 && S_ISREG(st.st_mode)))
                rc = visit(ctx, path);
        }
        free(path);
        free(names[i]);
    }
    free(names);
    return rc;
}

static int push_from_dir(void *ctx, const char *path) { return push_path(ctx, path, 1); }

static int is_dir(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static void *producer_main(void *arg) {
    cls_pipeline *p = arg;
    for (int i = 0; i < p->cfg.num_inputs; i++) {
        const char *in = p->cfg.inputs[i];
        int rc = 0;
        if (!strcmp(in, "-")) {
            char *line = NULL;
            size_t cap = 0;
            ssize_t len;
            while (rc == 0 && (len = getline(&line, &cap, stdin)) >= 0) {
                while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r')) line[--len] = '\0';
                if (len == 0) continue;
                rc = push_path(p, line, 0);
            }
            free(line);
        } else if (is_dir(in)) {
            rc = walk_dir(in, push_from_dir, p, 0);
        } else {
            rc = push_path(p, in, 0);
        }
        if (rc) break;
    }
    pthread_mutex_lock(&p->mu);
    p->eof = 1;
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

/* ------------------------------------------------------------- workers */

static void set_error(cls_item *it, frost_status st, const char *fmt, const char *a, const char *b) {
    it->status = st;
    size_t n = strlen(fmt) + strlen(a) + (b ? strlen(b) : 0) + 1;
    it->error = malloc(n);
    if (it->error) snprintf(it->error, n, fmt, a, b ? b : "");
}

/* Reads a whole file into *buf (grown as needed). */
static int read_file(const char *path, unsigned char **buf, size_t *cap, size_t *size, const char **why) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        *why = strerror(errno);
        return -1;
    }
    size_t n = 0;
    for (;;) {
        if (n == *cap) {
            size_t ncap = *cap ? *cap * 2 : (size_t)1 << 20;
            unsigned char *g = realloc(*buf, ncap);
            if (!g) {
                fclose(f);
                *why = "out of memory";
                return -1;
            }
            *buf = g;
            *cap = ncap;
        }
        size_t got = fread(*buf + n, 1, *cap - n, f);
        n += got;
        if (got == 0) break;
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        *why = "read error";
        return -1;
    }
    *size = n;
    return 0;
}

static void process(cls_pipeline *p, cls_item *it, unsigned char **buf, size_t *cap) {
    size_t size = 0;
    const char *why = NULL;
    if (p->cfg.keep_bytes) { /* into the item's own buffer, kept for the consumer */
        buf = &it->bytes;
        cap = &it->bytes_cap;
    }
    if (read_file(it->path, buf, cap, &size, &why) != 0) {
        set_error(it, FROST_E_IO, "%s: cannot read: %s", it->path, why);
        return;
    }
    if (it->from_dir && frost_image_detect(*buf, size) == FROST_IMAGE_UNKNOWN) {
        it->skipped = 1;
        return;
    }
    if (p->cfg.keep_bytes) {
        it->size = size;
        return;
    }
    frost_image *img = NULL;
    char *msg = NULL;
    frost_status st = frost_image_decode(*buf, size, &p->cfg.decode, &img, &msg);
    if (st != FROST_OK) {
        set_error(it, st, "%s: %s", it->path, msg ? msg : frost_strerror(st));
        frost_free(msg);
        return;
    }
    it->width = img->width;
    it->height = img->height;
    st = frost_image_preprocess(img, &p->cfg.pp, it->input);
    frost_image_free(img);
    if (st != FROST_OK) set_error(it, st, "%s: preprocessing failed: %s", it->path, frost_strerror(st));
}

static void *worker_main(void *arg) {
    cls_pipeline *p = arg;
    unsigned char *buf = NULL;
    size_t cap = 0;
    pthread_mutex_lock(&p->mu);
    for (;;) {
        while (!p->stop && p->claim == p->head && !p->eof) pthread_cond_wait(&p->cv, &p->mu);
        if (p->stop || p->claim == p->head) break;
        cls_slot *s = &p->slots[p->claim % p->nslots];
        p->claim++;
        pthread_mutex_unlock(&p->mu);
        process(p, &s->item, &buf, &cap);
        pthread_mutex_lock(&p->mu);
        s->ready = 1;
        pthread_cond_broadcast(&p->cv);
    }
    pthread_mutex_unlock(&p->mu);
    free(buf);
    return NULL;
}

/* ------------------------------------------------------------ consumer */

cls_pipeline *cls_pipeline_start(const cls_pipeline_config *cfg) {
    cls_pipeline *p = calloc(1, sizeof *p);
    if (!p) return NULL;
    p->cfg = *cfg;
    p->nslots = cfg->slots > 0 ? cfg->slots : 1;
    p->nworkers = cfg->workers > 0 ? cfg->workers : 1;
    p->image_floats = (size_t)cfg->pp.width * (size_t)cfg->pp.height * 3;
    p->slots = calloc((size_t)p->nslots, sizeof *p->slots);
    p->workers = calloc((size_t)p->nworkers, sizeof *p->workers);
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv, NULL);
    if (!p->slots || !p->workers) goto oom;
    for (int i = 0; i < p->nslots && !cfg->keep_bytes; i++)
        if (!(p->slots[i].item.input = malloc(p->image_floats * sizeof(float)))) goto oom;
    for (int i = 0; i < cfg->num_inputs; i++)
        if (!strcmp(cfg->inputs[i], "-")) p->reading_stdin = 1;
    int started = 0;
    for (int i = 0; i < p->nworkers; i++) {
        if (pthread_create(&p->workers[i], NULL, worker_main, p) != 0) break;
        started++;
    }
    p->nworkers = started;
    if (started == 0 || pthread_create(&p->producer, NULL, producer_main, p) != 0) {
        fprintf(stderr, "frost: cannot start threads\n");
        cls_pipeline_free(p);
        return NULL;
    }
    p->producer_started = 1;
    return p;
oom:
    fprintf(stderr, "frost: out of memory for the image pipeline\n");
    cls_pipeline_free(p);
    return NULL;
}

static cls_item *take(cls_pipeline *p, int wait) {
    pthread_mutex_lock(&p->mu);
    for (;;) {
        if (p->got < p->head && p->slots[p->got % p->nslots].ready) {
            cls_item *it = &p->slots[p->got % p->nslots].item;
            p->got++;
            pthread_mutex_unlock(&p->mu);
            return it;
        }
        if ((p->eof && p->got == p->head) || !wait) break;
        pthread_cond_wait(&p->cv, &p->mu);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

cls_item *cls_pipeline_next(cls_pipeline *p) { return take(p, 1); }

cls_item *cls_pipeline_try_next(cls_pipeline *p) { return take(p, 0); }

void cls_pipeline_release(cls_pipeline *p, cls_item *item) {
    pthread_mutex_lock(&p->mu);
    cls_slot *s = &p->slots[p->tail % p->nslots];
    if (&s->item == item && p->tail < p->got) {
        free(item->path);
        free(item->error);
        item->path = item->error = NULL;
        p->tail++;
        pthread_cond_broadcast(&p->cv);
    }
    pthread_mutex_unlock(&p->mu);
}

void cls_pipeline_free(cls_pipeline *p) {
    if (!p) return;
    pthread_mutex_lock(&p->mu);
    p->stop = 1;
    pthread_cond_broadcast(&p->cv);
    int producer_done = p->eof;
    pthread_mutex_unlock(&p->mu);
    for (int i = 0; i < p->nworkers; i++) pthread_join(p->workers[i], NULL);
    if (p->producer_started) {
        /* A producer blocked on stdin cannot be woken: leave it to exit(). */
        if (producer_done || !p->reading_stdin) {
            pthread_join(p->producer, NULL);
        } else {
            pthread_detach(p->producer);
            return; /* the detached thread still uses p */
        }
    }
    for (long s = p->tail; s < p->head; s++) {
        free(p->slots[s % p->nslots].item.path);
        free(p->slots[s % p->nslots].item.error);
    }
    if (p->slots)
        for (int i = 0; i < p->nslots; i++) {
            free(p->slots[i].item.input);
            free(p->slots[i].item.bytes);
        }
    free(p->slots);
    free(p->workers);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->cv);
    free(p);
}

/* --------------------------------------------------------------- count */

static int count_one(void *ctx, const char *path) {
    (void)path;
    (*(long *)ctx)++;
    return 0;
}

long cls_count_inputs(char **inputs, int num_inputs) {
    long n = 0;
    for (int i = 0; i < num_inputs; i++) {
        if (!strcmp(inputs[i], "-")) return -1;
        if (is_dir(inputs[i])) walk_dir(inputs[i], count_one, &n, 1);
        else n++;
    }
    return n;
}
