/* frost's own compute kernels: what a backend needs to run them.
 *
 * The kernels run steps of a compiled plan (graph/plan.h) on NHWC float32
 * data, next to a backend's own (oneDNN's, src/backend/onednn/) where they
 * were measured to beat it:
 *   convolution   an indirect GEMM (igemm.c) for dense convolutions, and
 *                 Winograd (wino.c): F(2x2, 3x3), F(4x4, 3x3), F(4x4, 5x5)
 *                 and 1-D F(4, 3), F(2, 5), F(2, 7) for stride-1 layers
 *   pooling       max / average over NHWC (pool.c), f32 and the u8 codes
 *                 of int8 precision
 * Which one runs for a layer is decided in one place, select.c, from the
 * layer, the configuration and what the backend would run instead.
 *
 * Layout of src/kernels/ (XNNPACK's operator / microkernel split, ncnn's
 * arch folders): drivers here (indirection, work split, weight packing),
 * microkernels (ukernels.h) in x86/ (AVX2, compiled with their target
 * attribute) and generic/ (portable C).  Nothing here depends on oneDNN:
 * the kernels build and are tested in every configuration.
 *
 * Objects and threads
 *   A kernel object (fr_kernels_conv, fr_pool_nhwc) is built once per plan
 *   step (create) and is then immutable: any number of threads may run it at
 *   once, each on its own data and temporaries.  run() allocates nothing.
 *   Packed weights live in a buffer the caller owns (so that it can share
 *   them between the plans of several batch sizes); it must outlive the
 *   kernel object.  The plan's bias may be read at run time: the plan must
 *   outlive the object too.
 *   A kernel splits its work over the threads of an fr_team (team.c): the
 *   OpenMP runtime loaded in the process (oneDNN's), or the calling thread
 *   alone when there is none.  Results never depend on the thread count.
 *
 * Errors: FROST_OK, or FROST_E_NO_MEMORY (nothing else can fail).
 */
#ifndef FR_KERNELS_H
#define FR_KERNELS_H

#include <stddef.h>
#include <stdint.h>

#include "frost.h"
#include "graph/plan.h"

/* ------------------------------------------------------------- threads --- */

/* The thread team the kernels run on: the entry points of the OpenMP runtime
 * loaded in the process (libgomp, loaded with oneDNN), looked up at run time
 * (dlsym) so that frost does not link OpenMP itself.  Plain data, filled by
 * fr_team_init(); read-only afterwards, shared by any threads. */
typedef struct fr_team {
    void (*parallel)(void (*fn)(void *), void *data, unsigned threads, unsigned flags); /* GOMP_parallel */
    int (*thread_num)(void);                                                           /* omp_get_thread_num */
    int (*team_size)(void);                                                            /* omp_get_num_threads */
    void (*set_max_threads)(int);                                                      /* omp_set_num_threads */
    int (*max_threads)(void);                                                          /* omp_get_max_threads */
    void (*barrier)(void);                                                             /* GOMP_barrier */
    int (*in_parallel)(void);                                                          /* omp_in_parallel */
} fr_team;

/* Fills t; without an OpenMP runtime in the process every entry is NULL and
 * fr_team_run() runs its tasks on the calling thread. */
void fr_team_init(fr_team *t);

/* Runs fn(data, ithr, team) on each thread of a new team of at most
 * `threads` threads, ithr = 0 .. team - 1, and returns when all are done.
 * Once, fn(data, 0, 1), on the calling thread with one thread or without a
 * runtime.  A team started inside another parallel region has one thread
 * (OpenMP's default), so ithr < threads always holds. */
typedef void (*fr_team_task_fn)(void *data, int ithr, int team);
void fr_team_run(const fr_team *t, int threads, fr_team_task_fn fn, void *data);

/* The runtime's thread count for the calling thread's next teams
 * (omp_get_max_threads; 0 without a runtime), and setting it (nothing
 * without a runtime): what a backend whose library runs on the same runtime
 * (oneDNN) sets around its own calls. */
int fr_team_max_threads(const fr_team *t);
void fr_team_set_max_threads(const fr_team *t, int threads);

/* The threads a team asked for `threads` gets: 1 in a child forked after
 * this process ran a team of more than one thread (libgomp's threads were
 * not copied: team.c), else `threads`.  fr_team_run() and
 * fr_team_set_max_threads() go through it; a backend that lets its library
 * size its own teams asks it too, and calls fr_team_starting() before it
 * runs them. */
int fr_team_threads(const fr_team *t, int threads);
/* A team of `threads` (fr_team_threads()'s) is about to run: from 2 on, the
 * process counts as having started the runtime's threads. */
void fr_team_starting(const fr_team *t, int threads);

/* Non-zero on a thread of a running team: the caller's own OpenMP loop
 * calling frost on each of its threads (or a task of fr_team_run()).  Teams
 * started there have one thread. */
int fr_team_nested(const fr_team *t);

/* Inside a task of fr_team_run(): waits until every thread of the team has
 * reached it (nothing on a team of one).  Every thread of the team must call
 * it as often as the others. */
void fr_team_barrier(const fr_team *t, int team);

/* ------------------------------------------------ CPU and instruction set --- */

/* What this CPU runs, as __builtin_cpu_supports reports it (all 0 where
 * frost has no x86 code); tests pass other values to the selection. */
typedef struct fr_kernels_cpu {
    int avx2;
    int fma;
    int avx512f; /* with the OS's support, and unless ONEDNN_MAX_CPU_ISA caps below AVX-512 */
} fr_kernels_cpu;
fr_kernels_cpu fr_kernels_cpu_detect(void);

/* Which form of the microkernels runs: non-zero the x86/ one, zero the
 * generic/ one.  Never non-zero where the CPU lacks the instructions. */
typedef struct fr_kernels_isa {
    int avx2;     /* Winograd transforms, pool rows: AVX2 */
    int avx2_fma; /* the GEMM tile: AVX2 + FMA */
    int avx512;   /* the Winograd products: AVX-512F (also AVX2 + FMA here) */
} fr_kernels_isa;
/* portable: the generic forms whatever the CPU (tests; fr_backend_config.portable). */
fr_kernels_isa fr_kernels_select_isa(const fr_kernels_cpu *cpu, int portable);

/* y[i] = table[x[i]] for i < n (table: 256 entries; x and y may be the same
 * array): a u8 requantization of int8 precision. */
typedef void (*fr_u8_table_fn)(const uint8_t *table, const uint8_t *x, uint8_t *y, size_t n);
/* Its fastest form here: AVX-512 VBMI where the CPU has it and AVX-512 is
 * allowed (fr_kernels_cpu.avx512f), else portable C (also when portable). */
fr_u8_table_fn fr_kernels_select_u8_table(int portable);

/* A u8 FakeQuant of f32 values: x clamped to [lo, hi] (NaN: lo), then
 * TensorFlow's arithmetic with the nudged range (fr_fq_range; divide:
 * FakeQuantWithMinMaxVars' division by scale, else * inv_scale), the code
 * floor(...) + quant_zero in [0, 255]. */
typedef struct fr_fq_u8 {
    float lo, hi;
    float nudged_min, nudged_max, scale, inv_scale, quant_zero;
    int divide;
} fr_fq_u8;
typedef void (*fr_fq_u8_fn)(const fr_fq_u8 *k, const float *x, uint8_t *y, size_t n);
/* Its fastest form here: AVX-512 where allowed (fr_kernels_cpu.avx512f),
 * else portable C (also when portable); the same codes. */
fr_fq_u8_fn fr_kernels_select_fq_u8(int portable);

/* Whether the AVX-512 forms of the u8 loops run here (AVX-512 allowed, with
 * BW and VL), unless portable. */
int fr_kernels_avx512_int8(int portable);

/* ----------------------------------------------------------- selection --- */

/* How a backend uses frost's kernels (fr_backend_config's fields of the same
 * names). */
typedef struct fr_kernels_policy {
    int own;              /* 0 none, 1 where they pay (default), 2 wherever they apply (tests) */
    int winograd;         /* opt-in: the larger Winograd tiles, whatever the backend would run */
    int winograd_default; /* F(2x2, 3x3), F(2, 5), F(2, 7) in place of the AVX2 direct kernel */
    int portable;         /* the generic microkernels only */
    const struct fr_tune_record *tune; /* per-layer picks measured on this machine (tune.h), NULL: none */
} fr_kernels_policy;

/* What the backend would run for a convolution itself. */
typedef enum fr_kernels_pick {
    FR_PICK_UNKNOWN = 0, /* not asked yet: only choices that do not depend on it are made */
    FR_PICK_AVX2_DIRECT, /* its AVX2 direct convolution (oneDNN's `jit:avx2`): what frost's
                            kernels were measured against and replace where they pay */
    FR_PICK_AVX512_DIRECT, /* its AVX-512 direct convolution (oneDNN's `brgconv:avx512_core`,
                              `jit:avx512_core`): the default Winograd kernels replace it where
                              they pay */
    FR_PICK_OTHER        /* anything else (oneDNN's 1x1 kernels, ...), which stays */
} fr_kernels_pick;

/* Facts about the backend at the layer. */
typedef struct fr_kernels_facts {
    fr_kernels_pick pick;
    int bf16;   /* the backend keeps activations in bf16: frost's kernels read f32 only */
    int avx512; /* frost's kernels run their AVX-512 forms here (fr_kernels_isa.avx512) */
} fr_kernels_facts;

/* A convolution's implementation: the backend's own, or one of frost's. */
typedef enum fr_conv_impl { FR_CONV_BACKEND = 0, FR_CONV_IGEMM, FR_CONV_WINO } fr_conv_impl;
typedef struct fr_conv_choice {
    fr_conv_impl impl;
    int m, r; /* FR_CONV_WINO: F(m x m, r x r), or 1-D F(m, r) */
    int axis; /* FR_CONV_WINO: 0 2-D; 1-D along 1 (H: an r x 1 kernel) or 2 (W: 1 x r) */
} fr_conv_choice;

/* The implementation of conv step `step` of `plan`: first the pick of the
 * tuning record (pol->tune) for its node where there is one and it applies;
 * else, in order, Winograd with
 * the larger tiles where opted in and it pays; then, once the backend's pick
 * is known, the default Winograd kernels in place of its AVX2 direct kernel
 * where they pay, or in place of its AVX-512 direct kernel where they pay
 * (frost's AVX-512 forms only); then the indirect GEMM in place of it (anywhere it applies
 * with own == 2).  FR_CONV_BACKEND where none applies: a depthwise or
 * grouped layer, bf16 values, an activation the kernels do not fuse
 * (sigmoid, tanh), a value not in the arena, no weights.  A backend asks
 * with FR_PICK_UNKNOWN before it has a pick, then again with its pick. */
fr_conv_choice fr_kernels_select_conv(const fr_kernels_policy *pol, const fr_plan *plan, const fr_step *step,
                                      const fr_kernels_facts *facts);
/* Whether frost's NHWC pooling runs pool step `step` (any CPU: oneDNN 2.6's
 * NHWC pooling ran 5-10x below memory speed). */
int fr_kernels_select_pool(const fr_kernels_policy *pol, const fr_plan *plan, const fr_step *step,
                           const fr_kernels_facts *facts);
/* Whether frost's u8 pooling (fr_pool_u8_create) runs pool step `step`
 * whose input and output are u8 codes (int8 precision): where its
 * AVX-512BW form runs (fr_kernels_avx512_int8; an average of at most 257
 * codes a window) or its AVX2 one (at most 64); anywhere with own == 2. */
int fr_kernels_select_pool_u8(const fr_kernels_policy *pol, const fr_plan *plan, const fr_step *step,
                              const fr_kernels_facts *facts);

/* The rules behind the choices (select.c: where each was measured to pay). */
int fr_kernels_act_ok(fr_act act); /* the activations the kernels fuse */
/* F(m x m, r x r) (m = 4 or 2 for r = 3, m = 4 for r = 5) for a layer whose
 * output map is oh x ow per image: the same answer at every batch size, so
 * the plans of all batch sizes share the transformed weights. */
int fr_wino_pays(int m, int r, int64_t cin, int64_t cout, int64_t oh, int64_t ow);
/* 1-D F(4, 3), F(2, 5), F(2, 7) of a 1 x r / r x 1 kernel: `lines` lines of
 * `len` outputs along the kernel's axis, per image. */
int fr_wino1_pays(int r, int64_t cin, int64_t cout, int64_t lines, int64_t len);
/* F(2x2, 3x3), 1-D F(2, 5), F(2, 7) in their AVX-512 forms against the
 * AVX-512 direct kernel: `tiles` per image. */
int fr_wino_pays_avx512(int64_t cin, int64_t cout, int64_t tiles);
/* The indirect GEMM against the AVX2 direct kernel. */
int fr_igemm_pays(int64_t cin, int64_t cout, int kh, int kw);

/* ----------------------------------------------------------- convolution --- */

/* A dense convolution as one of frost's kernels (igemm or Winograd). */
typedef struct fr_kernels_conv fr_kernels_conv;

/* The packed weights a choice runs on: `*rank` (<= 3) dims of floats,
 * row-major.  Two layers with the same dims and weights pack the same
 * buffer; different choices never share dims (so a cache keyed by layer and
 * dims never mixes them). */
void fr_kernels_conv_weights_dims(const fr_conv_choice *ch, const fr_conv_params *c, int *rank, int64_t dims[3]);
/* Packs c's weights (c->weights, or the file's unaligned c->weights_raw,
 * scaled by c->weight_scale when set) into buf (weights_dims floats). */
frost_status fr_kernels_conv_pack(const fr_conv_choice *ch, const fr_conv_params *c, float *buf);

/* The kernel of conv step `step` (a choice fr_kernels_select_conv made for
 * it) over the packed weights, for a team of `threads` threads. */
frost_status fr_kernels_conv_create(const fr_conv_choice *ch, const fr_plan *plan, const fr_step *step,
                                    const float *packed, fr_kernels_isa isa, int threads, fr_kernels_conv **out);
/* Bytes of temporaries run() needs (64-byte aligned, any contents). */
size_t fr_kernels_conv_temp_bytes(const fr_kernels_conv *k);
/* "frost:igemm_6x16", "frost:winograd_f2x2_3x3", ...: for profiles. */
const char *fr_kernels_conv_name(const fr_kernels_conv *k);
/* y = conv(x) (+ res: a tensor of y's shape, or NULL), act. */
void fr_kernels_conv_run(const fr_kernels_conv *k, const fr_team *team, const float *x, float *y, void *temp,
                         const float *res);
void fr_kernels_conv_free(fr_kernels_conv *k);

/* --------------------------------------------------------------- pooling --- */

typedef struct fr_pool_nhwc fr_pool_nhwc;

/* The kernel of pool step `step` (fr_kernels_select_pool said yes), for a
 * team of `threads` threads. */
frost_status fr_pool_nhwc_create(const fr_plan *plan, const fr_step *step, fr_kernels_isa isa, int threads,
                                 fr_pool_nhwc **out);
/* The same pooling on u8 codes of one grid (int8 precision): a max, or the
 * average rounded half up onto the grid (ukernels.h); the step's bias and
 * activation are not applied (a u8 pool has none).  In the form
 * select.c picks for the layer: AVX-512BW where fr_kernels_avx512_int8
 * (portable), else AVX2 where the CPU has it (a max, or an average of at
 * most 64 codes a window), else portable C (also when portable). */
frost_status fr_pool_u8_create(const fr_plan *plan, const fr_step *step, int portable, int threads,
                               fr_pool_nhwc **out);
void fr_pool_u8_run(const fr_pool_nhwc *k, const fr_team *team, const uint8_t *x, uint8_t *y);
/* "frost:maxpool_nhwc" / "frost:avgpool_nhwc"; u8: "frost:int8:maxpool" / "frost:int8:avgpool" */
const char *fr_pool_nhwc_name(const fr_pool_nhwc *k);
void fr_pool_nhwc_run(const fr_pool_nhwc *k, const fr_team *team, const float *x, float *y);
void fr_pool_nhwc_free(fr_pool_nhwc *k);

#endif
