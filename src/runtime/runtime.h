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

struct frost_model {
    frost_graph *g;
    fr_io_spec io;
    int optimize, max_batch, profiling;
    const fr_backend *backend;
    fr_backend_config cfg;
    frost_shape *out_shape;
    size_t *in_size, *out_size;
    frost_model_stats stats;
    pthread_mutex_t lock;
    fr_intern *consts;     /* constants shared by all plans (under lock) */
    fr_batch_plan **plans; /* [max_batch + 1], built on demand under lock */
    int micro;             /* items per pass: a run of more is split (0: never) */
};

/* Items per pass that keep a memory-bound network's activations in the
 * last-level cache: flops and arena bytes of one item, llc the cache's bytes
 * (0: unknown).  0: run every batch whole. */
int fr_micro_auto(int64_t flops, size_t arena, long llc);

/* The plan for `batch` (compiled and cached on first use).  Thread-safe. */
frost_status fr_model_plan(const frost_model *m, int batch, const fr_batch_plan **out, char **err);

#endif
