/* Backend interface: how a compiled plan (src/graph/plan.h) is executed.
 *
 * The runtime executes a plan step by step.  For every plan (one per model and
 * batch size) it asks the selected backend to `prepare` it; the backend marks
 * in claimed[i] the steps it executes itself; every other step runs on the
 * reference kernels (src/backend/reference/), which implement every step
 * kind.  So a backend may support only some steps (or only some parameters
 * of a step); one that can say so per step without building anything
 * provides supports(), and prepare() is then offered only those steps.
 * Backends: reference (src/backend/reference/), oneDNN
 * (src/backend/onednn/, which also runs frost's own kernels, src/kernels/).
 *
 * Objects and threads
 *   plan state   prepare() -> void *state.  Built once per (model, batch size),
 *                shared read-only by all contexts/threads (e.g. oneDNN
 *                primitives and reordered weights).  release() frees it.
 *   run state    bind() -> void *run_state.  One per (context, batch size),
 *                used by one thread at a time; holds per-thread things (stream,
 *                memory objects pointing into the arena, scratchpad).  The
 *                arena pointer given to bind() stays the same for the life of
 *                the run state.  unbind() frees it.
 *   run_step()   executes claimed step `index`, reading inputs from and writing
 *                the output to the arena (or constants).  Must not allocate.
 *                Steps are called strictly in plan order, once per run.
 *
 * Memory
 *   arena        every activation of one run lives in ONE buffer, the arena:
 *                plan->arena_bytes bytes, FR_ARENA_ALIGN-aligned, owned by
 *                the context (one per batch size it has run, allocated when
 *                it first runs that batch size, freed with the context).  It is
 *                handed to bind() and stays at that address for the life of
 *                the run state; a backend never allocates, resizes or frees
 *                it.  Values lie at their plan offsets (plan.h); the bytes
 *                no value uses during a step (fr_plan_arena_gap) may hold a
 *                kernel's temporaries for that step.
 *   weights      the plan's constants, owned by the model; a backend may
 *                keep its own copy (see fr_backend_config.weights_done).
 *
 * A backend may keep a value in a private layout between claimed steps only if
 * it also guarantees that, whenever an unclaimed step runs or the run ends,
 * every value that step (or the caller) reads is in the arena in plain layout.
 * The simplest correct backend: read/write the arena in NHWC in every step.
 *
 * All functions return FROST_OK or an error status with a message in *error
 * (malloc'ed, may be left NULL); the runtime prefixes the step name.
 *
 * Stability: additive changes only.
 */
#ifndef FR_BACKEND_H
#define FR_BACKEND_H

#include <stdint.h>

#include "frost.h"
#include "graph/plan.h"

typedef struct fr_backend_config {
    int threads;               /* >= 1 */
    frost_precision precision; /* FP32 or BF16 */
    int winograd;              /* non-zero: frost's Winograd kernels where they pay, 2-D and 1-D
                                (frost_options.winograd = FROST_WINOGRAD_ALL) */
    /* non-zero: the Winograd kernels whose results stay within the 1e-4 of
     * FP32, where they pay, in place of oneDNN's AVX2 direct kernel: 1-D
     * F(2, 7) and F(2, 5) (1x7, 7x1, 1x5, 5x1; weights 8/7 and 6/5 of the
     * direct ones) and F(2x2, 3x3) (16/9) (the default; off with
     * FROST_WINOGRAD_OFF or FROST_DEBUG_ONEDNN_ONLY) */
    int winograd_default;
    /* frost's kernels next to oneDNN's: 0 none (FROST_DEBUG_ONEDNN_ONLY),
     * 1 where they were measured to pay (the default), 2 wherever they apply
     * (tests: the indirect-GEMM convolution on every CPU and shape) */
    int own_kernels;
    /* non-zero: frost's own kernels run their portable C versions instead of
     * the AVX2 ones (tests: the versions CPUs without AVX2 run) */
    int portable;
    /* Added for backends with model-wide state: the result of the backend's
     * model_create() (NULL when it has none); prepare() may use it. */
    void *shared;
    /* Added for backends that keep their own copy of a step's weights (oneDNN
     * reorders them): when non-NULL, prepare() calls weights_done(ctx, i) as
     * soon as claimed step i will never read the plan's weights again (conv /
     * matmul `weights`; the bias is still read).  The runtime then frees them
     * (or releases their pages of the file) and sets the pointer to NULL, so a
     * model's weights are resident once.  prepare() must not call it for a
     * step it may still rebuild from the plan's weights, nor for a step it
     * does not claim.  A backend that claims a conv / matmul step must apply
     * its weight_scale (plan.h) when non-NULL; for the steps it leaves, the
     * runtime folds the scale into the weights after prepare(). */
    void (*weights_done)(void *ctx, int index);
    void *weights_done_ctx;
    /* Added with fr_backend.supports: NULL, every step is offered (a
     * backend without supports()); else plan->n_steps flags, and prepare()
     * may claim step i only where offered[i] is non-zero. */
    const uint8_t *offered;
    /* Added with tuning: the per-layer picks of a tuning record that
     * matches this model and machine (src/kernels/tune.h), NULL: none. */
    const struct fr_tune_record *tune;
} fr_backend_config;

typedef struct fr_backend {
    const char *name; /* "reference", "onednn" (frost_compile_stats.backend) */

    /* Build the shared state of `plan` and set claimed[i] = 1 for each step
     * this backend runs (claimed[] has plan->n_steps entries, all 0 on entry;
     * only steps config->offered offers).  The plan outlives the state. */
    frost_status (*prepare)(const fr_plan *plan, const fr_backend_config *config, void **state_out,
                            uint8_t *claimed, char **error);
    void (*release)(void *state);

    /* Per-context state for one arena (arena has plan->arena_bytes bytes,
     * FR_ARENA_ALIGN aligned).  May be NULL-returning if nothing is needed. */
    frost_status (*bind)(void *state, const fr_plan *plan, void *arena, void **run_state_out, char **error);
    void (*unbind)(void *run_state);

    /* Execute claimed step `index`. */
    frost_status (*run_step)(void *state, void *run_state, int index, char **error);

    /* Optional (may be NULL): a short name of the implementation used for
     * claimed step `index` ("onednn:jit:avx2"), for profiles. */
    const char *(*kernel_name)(void *state, int index);

    /* Optional (may be NULL), added for state shared by the plans of all batch
     * sizes of one model (oneDNN: weights reordered once for every batch size;
     * a count of free cores so that several contexts running at once do not
     * oversubscribe them).  The runtime calls model_create() once when the
     * model is compiled, before the first prepare(), and stores the result in
     * config->shared; model_free() after every plan state is released. */
    frost_status (*model_create)(const fr_backend_config *config, void **shared_out, char **error);
    void (*model_free)(void *shared);
    /* Optional (may be NULL), added for frost_compile_stats.weight_bytes: the
     * bytes of weights the model-wide state holds now (in the backend's own
     * layouts), over the plans of every batch size prepared so far. */
    size_t (*model_weight_bytes)(void *shared);

    /* Optional (may be NULL: then prepare() decides alone, as both backends
     * do today), added for a second backend: whether this backend can run
     * `step` of `plan`, answered from the step's kind and parameters alone
     * (nothing built, no state; any thread).  The runtime asks it for every
     * step before prepare() and passes the answers as config->offered; the
     * steps it refuses run on the reference kernels.  A runtime holding
     * several backends can ask each of them. */
    int (*supports)(const fr_plan *plan, const fr_step *step);

    /* Optional (may be NULL: no int8), added for FROST_PRECISION_INT8:
     * whether this backend runs the int8 steps of graph/int8.h exactly on
     * this machine (oneDNN: where the CPU has VNNI; without it, oneDNN's u8 x
     * s8 kernels saturate their 16-bit pair sums).  The runtime compiles the
     * int8 marks only then; elsewhere FROST_PRECISION_INT8 runs FakeQuant in
     * float, as FP32 does. */
    int (*int8)(void);
} fr_backend;

/* The portable reference backend (src/backend/reference/): claims nothing,
 * so the runtime runs every step with the reference kernels.  Never NULL. */
const fr_backend *fr_backend_reference(void);

/* The oneDNN backend (src/backend/onednn/), compiled when FROST_HAVE_ONEDNN
 * is defined (CMake option FROST_ONEDNN).  The runtime calls it only when
 * FROST_HAVE_ONEDNN is defined AND the header "backend/onednn/onednn.h" exists
 * (checked with __has_include), so the tree links before the oneDNN backend
 * is written: whoever adds src/backend/onednn/onednn.h must define this function.
 * Returns NULL if oneDNN cannot run here (then AUTO falls back to reference,
 * and FROST_BACKEND_ONEDNN fails with FROST_E_BACKEND). */
const fr_backend *fr_backend_onednn(void);

/* Reference kernel of one step (src/backend/reference/): used for unclaimed
 * steps and by tests/backends as the oracle.  `arena` as in bind(). */
frost_status fr_ref_run_step(const fr_plan *plan, int index, void *arena);

#endif /* FR_BACKEND_H */
