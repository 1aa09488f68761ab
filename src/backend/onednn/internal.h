/* oneDNN backend internals shared by src/backend/onednn/.
 *
 * prepare() turns every claimed plan step into a short program of
 * executions: oneDNN primitives (usually one; a bf16 step adds a reorder
 * before it), or one of frost's own kernels (kernels.c).  Every argument of
 * an execution is bound symbolically (a plan value, a pointer owned by the
 * state, a per-context temporary buffer or the scratchpad); bind() turns the
 * bindings into dnnl_memory_t objects over one context's arena, so
 * run_step() only executes.
 */
#ifndef FR_ONEDNN_INTERNAL_H
#define FR_ONEDNN_INTERNAL_H

#include <oneapi/dnnl/dnnl.h>
#include <pthread.h>

#include "backend/backend.h"
#include "graph/int8.h"
#include "graph/pages.h"
#include "kernels/kernels.h"

typedef enum fr_dn_bind {
    FR_DN_VALUE = 0, /* plan value `value` (arena offset or constant data) */
    FR_DN_PTR,       /* fixed pointer `ptr` (reordered weights, bias) */
    FR_DN_TEMP,      /* byte `offset` of the context's temporary buffer */
    FR_DN_ARENA,     /* byte `offset` of the arena (no value lives there during the step) */
    FR_DN_SCRATCH    /* the context's scratchpad */
} fr_dn_bind;

typedef struct fr_dn_arg {
    int arg; /* DNNL_ARG_* */
    fr_dn_bind bind;
    int value;
    const void *ptr;
    size_t offset;
    dnnl_memory_desc_t md;
} fr_dn_arg;

struct fr_dn_state;
#define FR_DN_MAX_CUSTOM_ARGS 8

/* frost's own kernel run in place of a primitive (kernels.c): ptrs[k] is the
 * data of args[k] of the execution (NULL past the last). */
typedef void (*fr_dn_custom_fn)(const struct fr_dn_state *st, const void *ctx, void *const *ptrs);

typedef struct fr_dn_exec {
    dnnl_primitive_t prim; /* NULL: fn(st, ctx, ...) instead */
    int n_args;
    fr_dn_arg *args;
    fr_dn_custom_fn fn;
    void *ctx;                 /* owned by the execution: ctx_free(ctx) frees it */
    void (*ctx_free)(void *ctx);
} fr_dn_exec;

typedef struct fr_dn_step {
    int n_execs; /* 0: not claimed */
    fr_dn_exec *execs;
    char *kernel; /* "onednn:brgconv:avx512_core" */
    int own_weights; /* runs on reordered weights: the plan's weights are not read */
} fr_dn_step;

/* Weights reordered for one plan, reused by the plans of other batch sizes
 * (keyed by step name and layout: the compiler folds weights per plan). */
typedef struct fr_dn_weights {
    char *key;
    dnnl_memory_desc_t md;
    void *buf; /* in fr_dn_shared.slab */
} fr_dn_weights;

/* Model-wide state (fr_backend.model_create). */
typedef struct fr_dn_shared {
    pthread_mutex_t lock;
    pthread_cond_t freed;
    int cores;      /* online CPUs */
    int cores_free; /* not used by a running oneDNN step of this model */
    fr_dn_weights *w;
    int n_w, cap_w;
    fr_slab slab; /* the weights' bytes (under lock) */
} fr_dn_shared;

typedef struct fr_dn_state {
    fr_backend_config cfg;
    fr_dn_shared *shared; /* NULL when the runtime gave none */
    const fr_plan *plan;
    dnnl_engine_t engine;
    fr_dn_step *steps;
    size_t scratch_bytes; /* largest scratchpad of any primitive */
    size_t temp_bytes;    /* per-context temporaries (after the scratchpad) */
    void **owned;         /* buffers owned by the state (reordered weights) */
    int n_owned, cap_owned;
    /* bf16 / int8 precision: data type each value has in the arena (dnnl_f32,
     * dnnl_bf16; int8: dnnl_u8 for quantized values, int8.c). */
    dnnl_data_type_t *value_dt;
    /* int8: the grid of every quantized value (scale 0: none), whatever its
     * data type in the arena. */
    fr_u8q *value_q;
    /* The OpenMP runtime oneDNN runs on (its thread count is set around
     * every oneDNN call); frost's own kernels run on the same threads. */
    fr_team team;
    fr_kernels_isa isa; /* the forms of frost's microkernels this CPU runs */
} fr_dn_state;

/* Builds the program of one step.  Returns FROST_OK with out->n_execs == 0
 * when oneDNN should not run it (unsupported parameters or only a reference
 * implementation); an error status only for real failures. */
typedef struct fr_dn_build {
    fr_dn_state *st;
    const fr_plan *plan;
    const fr_step *step;
    int index;
    fr_dn_step *out;
    char **error;
} fr_dn_build;

frost_status fr_dn_build_step(fr_dn_build *b);

/* --- helpers (util.c) --- */

/* Formats "oneDNN <what> failed: <status>" into *error; returns FROST_E_BACKEND. */
frost_status fr_dn_fail(char **error, const char *what, dnnl_status_t s);
#define FR_DN_TRY(b, call)                                                                                            \
    do {                                                                                                              \
        dnnl_status_t fr_dn_s_ = (call);                                                                              \
        if (fr_dn_s_ != dnnl_success) return fr_dn_fail((b)->error, #call, fr_dn_s_);                                 \
    } while (0)

/* Dense row-major descriptor of `rank` dims (rank 0 is treated as [1]). */
void fr_dn_md_plain(dnnl_memory_desc_t *md, int rank, const int64_t *dims, dnnl_data_type_t dt);
/* 4-D NHWC tensor as oneDNN's logical (N, C, H, W) with NHWC strides. */
void fr_dn_md_nhwc(dnnl_memory_desc_t *md, int64_t n, int64_t c, int64_t h, int64_t w, dnnl_data_type_t dt);

/* Data type of value `id` in the arena. */
dnnl_data_type_t fr_dn_value_dt(const fr_dn_state *st, int id);

/* Appends an execution to out (takes ownership of prim).  The args are copied. */
frost_status fr_dn_add_exec(fr_dn_build *b, dnnl_primitive_t prim, const fr_dn_arg *args, int n_args);
/* Creates the primitive of pd, records its kernel name (first call per step)
 * and scratchpad size, and returns it in *prim. */
frost_status fr_dn_make_prim(fr_dn_build *b, dnnl_primitive_desc_t pd, dnnl_primitive_t *prim);
/* Implementation name of pd ("brgconv:avx512_core"); non-zero when it is
 * oneDNN's slow reference code ("ref:any"), which frost never runs. */
const char *fr_dn_impl(const_dnnl_primitive_desc_t pd);
int fr_dn_is_ref(const_dnnl_primitive_desc_t pd);
/* Creates pd; *pd_out = NULL (and FROST_OK) when oneDNN has no implementation
 * or only its reference one. */
frost_status fr_dn_make_pd(fr_dn_build *b, dnnl_primitive_desc_t *pd_out, const_dnnl_op_desc_t desc,
                           const_dnnl_primitive_attr_t attr);
/* Scratchpad argument of pd (always present; oneDNN accepts a zero-size one). */
fr_dn_arg fr_dn_arg_scratch(const_dnnl_primitive_desc_t pd);
/* A reorder between two descriptions of a tensor, with `attr` (NULL: none;
 * its scratchpad mode is set to user; the caller still owns it): *prim_out
 * NULL when none is needed (equal descriptors, no attr). */
frost_status fr_dn_make_reorder(fr_dn_build *b, dnnl_primitive_attr_t attr, const dnnl_memory_desc_t *from,
                                const dnnl_memory_desc_t *to, dnnl_primitive_t *prim_out, fr_dn_arg *scratch_out);
/* Takes ownership of p (freed with the state). */
frost_status fr_dn_own(fr_dn_state *st, void *p);

/* The weights of a dense convolution as stored in the plan (HWIO: logical
 * dims cout, cin, kh, kw), f32. */
void fr_dn_md_hwio(dnnl_memory_desc_t *md, const fr_conv_params *c);

/* Reserves `bytes` of per-context temporary memory for the step being built;
 * temporaries of different steps overlap. */
size_t fr_dn_temp(fr_dn_build *b, size_t bytes, size_t *cursor);

/* Attribute with user scratchpad and the post-ops of a fused epilogue:
 * residual (binary add of a tensor described by res_md; NULL: none), then act. */
frost_status fr_dn_attr(fr_dn_build *b, const dnnl_memory_desc_t *res_md, fr_act act, float alpha,
                        dnnl_primitive_attr_t *attr_out);

/* --- constant buffers shared by batch sizes (weights.c) --- */

/* Reorders `src` (plain data described by src_md) into a buffer of layout
 * dst_md owned by the state (or, with model-wide state, shared by the plans of
 * every batch size: then a buffer reordered earlier for the same step and
 * layout is returned); returns the buffer. */
frost_status fr_dn_reorder_const(fr_dn_build *b, const dnnl_memory_desc_t *src_md, const void *src,
                                 const dnnl_memory_desc_t *dst_md, const void **out);
/* The same, multiplying the weights by per-output-channel `scale` (NULL:
 * none; n_scale entries over the dims in scale_mask, row-major) on the way:
 * a batch norm folded into the weights (fr_conv_params.weight_scale). */
frost_status fr_dn_reorder_weights(fr_dn_build *b, const dnnl_memory_desc_t *src_md, const void *src,
                                   const float *scale, int n_scale, int scale_mask, const dnnl_memory_desc_t *dst_md,
                                   const void **out);

/* A constant buffer of layout md for the step being built, filled once by
 * fill(b, buf, ctx): owned by the state, or with model-wide state shared by
 * the plans of every batch size (keyed by step name and md). */
typedef frost_status (*fr_dn_fill_fn)(fr_dn_build *b, void *buf, const void *ctx);
frost_status fr_dn_const_make(fr_dn_build *b, const dnnl_memory_desc_t *md, fr_dn_fill_fn fill, const void *ctx,
                              const void **out);

/* --- frost's own kernels as custom executions (kernels.c) --- */

/* The selection's view of this backend (kernels.h): the configuration, and
 * the facts at a layer given oneDNN's pick. */
fr_kernels_policy fr_dn_policy(const fr_dn_state *st);
fr_kernels_facts fr_dn_facts(const fr_dn_state *st, fr_kernels_pick pick);

/* Appends a custom execution: fn over ctx, which the execution then owns
 * (freed by ctx_free, now if this fails); `kernel` names the step's kernel
 * unless one is named already. */
frost_status fr_dn_add_custom(fr_dn_build *b, fr_dn_custom_fn fn, void *ctx, void (*ctx_free)(void *),
                              const fr_dn_arg *args, int n_args, const char *kernel);

/* Builds the convolution step being built as the frost kernel `ch` names
 * (fr_kernels_select_conv), on weights packed once per model (shared by the
 * plans of every batch size), its temporaries in the arena where no value
 * lives at the step, else among the context's temporaries. */
frost_status fr_dn_build_own_conv(fr_dn_build *b, const fr_conv_choice *ch);
/* Builds the pool step being built as frost's NHWC pooling
 * (fr_kernels_select_pool said yes). */
frost_status fr_dn_build_own_pool(fr_dn_build *b);
/* frost's u8 pool kernel for a u8 -> u8 pool step (int8 precision). */
frost_status fr_dn_build_own_pool_u8(fr_dn_build *b);

/* bf16 (bf16.c): initial data type of every value (bf16 where a oneDNN
 * step produces it for other oneDNN steps), and the correction after a build:
 * every bf16 value touched by an unclaimed step becomes f32.  Returns the
 * number of values changed. */
frost_status fr_dn_assign_bf16(fr_dn_state *st, char **error);
int fr_dn_fix_bf16(fr_dn_state *st);

/* int8 (int8.c): the data types of the values (u8 for quantized values
 * that only steps running on u8 read), and the builders of the steps that
 * run in int8: conv / matmul steps with int8_scale (FROST_OK with nothing
 * built where oneDNN cannot) and u8 FakeQuant steps (reorders). */
frost_status fr_dn_assign_int8(fr_dn_state *st, char **error);
frost_status fr_dn_build_int8(fr_dn_build *b);

/* int8 without VNNI (int8_pairs.c): vpmaddubsw's saturating sums of the
 * products of input channels 2j and 2j+1. */
typedef struct fr_dn_i8rest fr_dn_i8rest;
/* Whether oneDNN's effective ISA multiplies u8 x s8 without saturation (VNNI). */
int fr_dn_int8_vnni(void);
/* Whether int8 weights in layout w pair input channels (2j, 2j+1) only (dw:
 * a depthwise convolution's, which pairs none). */
int fr_dn_int8_pairs_layout(const dnnl_memory_desc_t *w, int dw);
/* The int8 weights of c (round(w * winv[co]), HWIO, w as unaligned f32
 * bytes) as *h_out (f32, HWIO, malloc'ed), whose same-signed pairs add up
 * to at most 128 in magnitude, and the rest q - h as *n_rest entries
 * (*rest_out, malloc'ed; NULL when none). */
frost_status fr_dn_int8_split(const fr_conv_params *c, const void *w, const float *winv, float **h_out,
                              fr_dn_i8rest **rest_out, int *n_rest);
/* The bytes of temporaries the epilogue of a split step takes (the source
 * transposed and padded; 0: none can, the offsets in one image too large);
 * g: n, ih, iw, oh, ow. */
size_t fr_dn_int8_epilogue_temp(const fr_conv_params *c, const int64_t *g);
/* Appends the epilogue of a split step: args {u8 source, s32 sums of h,
 * destination (u8 with out_quant, else f32), fr_dn_int8_epilogue_temp's
 * temporaries}; g: n, ih, iw, oh, ow; zx: the source's zero point; bias (in
 * units of the sums; NULL: none) and osc as oneDNN's convolution would take
 * them (copied). */
frost_status fr_dn_int8_add_epilogue(fr_dn_build *b, const fr_conv_params *c, const int64_t *g, int zx,
                                     const fr_u8q *qy, const float *bias, const float *osc,
                                     const fr_dn_i8rest *rest, int n_rest, const fr_dn_arg *args);
frost_status fr_dn_build_fake_quant(fr_dn_build *b);
/* A concatenation into a u8 value (int8.c): of u8 values on its grid, or
 * with out_quant (inputs u8 on their own grids or f32): frost's loop. */
frost_status fr_dn_build_concat_u8(fr_dn_build *b);
/* Appends a reorder of u8 value `value` into f32 at byte temp_off of the
 * temporaries (described by `to`): its real values. */
frost_status fr_dn_add_dequantize(fr_dn_build *b, int value, const dnnl_memory_desc_t *to, size_t temp_off);

static inline int fr_dn_is_bf16(const fr_dn_state *st) {
    return st->value_dt && st->cfg.precision == FROST_PRECISION_BF16;
}
static inline int fr_dn_is_int8(const fr_dn_state *st) {
    return st->value_q != NULL;
}

#endif
