/* Internal runtime objects: the model (immutable, with a per-batch plan
 * cache) and the context (per-thread arenas). */
#ifndef FR_RUNTIME_H
#define FR_RUNTIME_H

#include <pthread.h>

#include "backend/backend.h"
#include "graph/compile.h"

/* One compiled batch size: the plan plus the backend's shared state. */
typedef struct fr_batch_plan {
    int batch;
    fr_compiled *c;
    const fr_backend *be;
    void *be_state;
    uint8_t *claimed; /* per step: 1 = run by the backend */
} fr_batch_plan;

struct fr_feed;

struct frost_model {
    frost_graph *g;
    fr_io_spec io;         /* the model's inputs (string ones too) and outputs */
    struct fr_feed *feed;  /* string inputs: what runs before the plan (src/feed/feed.h); NULL: none */
    const fr_io_spec *pio; /* the plan's inputs and outputs: &io, or the feed's */
    size_t *plan_in_size;  /* floats per item of each plan input */
    int optimize, max_batch, profiling;
    const fr_backend *backend;
    fr_backend_config cfg;
    frost_shape *out_shape;
    size_t *in_size, *out_size;
    frost_compile_stats stats;
    pthread_mutex_t lock;
    fr_intern *consts;     /* constants shared by all plans (under lock) */
    fr_batch_plan **plans; /* [max_batch + 1], built on demand under lock */
    int micro;             /* items per pass: a run of more is split (0: never) */
    struct fr_tune_record *tune; /* the tuning record in use (cfg.tune), NULL: none */
    char *tune_note;             /* frost_model_tune_note() */
    uint64_t digest;             /* fr_graph_digest(g) once a record was looked for, else 0 (fr_model_digest) */
};

/* The tuning record for m (tune.c): from opt->tune_file or the per-user
 * cache (none for ""); sets m->tune, m->cfg.tune, m->tune_note and, when it
 * looks for one, m->digest.  Fails only
 * for an explicit record that cannot be read or parsed (or no memory). */
frost_status fr_model_tune_load(frost_model *m, const char *tune_file, char **err);
/* frost_model_tune_record() with the record's micro_batch (0: none recorded,
 * -1: never split, N: passes of N) and thread_split (0: none recorded, W:
 * W contexts of m's threads / W threads; W divides m's threads). */
frost_status fr_model_tune_record(const frost_model *m, const char *const *layers, const char *const *picks, int count,
                                  const char *batches, int micro, int split, char **text_out, char **err);
/* The model's digest, computed from its graph when no record was looked for. */
uint64_t fr_model_digest(const frost_model *m);

/* frost_model_compile() with the picks of `rec` (borrowed: it must outlive
 * the model), whatever opt->tune_file says: the tuner's candidates. */
struct fr_tune_record;
frost_status fr_model_compile_tuned(const frost_graph *g, const frost_options *opt, const struct fr_tune_record *rec,
                                    frost_model **out, char **err);

/* Items per pass that keep a memory-bound network's activations in the
 * last-level cache: flops and arena bytes of one item, llc the cache's bytes
 * (0: unknown).  0: run every batch whole. */
int fr_micro_auto(int64_t flops, size_t arena, long llc);

/* *out = the caller's options `opt` (NULL: the defaults) as this library's
 * frost_options: the fields within opt->struct_size copied, every later one
 * its default.  FROST_E_INVALID_ARGUMENT (message in *err, naming g's
 * source) for a struct_size that is too small, too large or ends inside a
 * field, or a larger struct that sets fields this library does not know. */
frost_status fr_options_read(const frost_graph *g, const frost_options *opt, frost_options *out, char **err);

/* The plan for `batch` (compiled and cached on first use).  Thread-safe. */
frost_status fr_model_plan(const frost_model *m, int batch, const fr_batch_plan **out, char **err);

#endif
