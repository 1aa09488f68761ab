/* The reference backend: a portable, plain C kernel for every plan step kind
 * (one file per family here), run for every step a backend does not claim,
 * by the compiler to fold constant subgraphs (graph/builder.c), and by the
 * tests as the oracle every fast kernel is compared with.
 *
 * A kernel reads its inputs from and writes its output to `arena` (the
 * context's activation arena, plan->arena_bytes bytes, FR_ARENA_ALIGN
 * aligned) or constants (plan.h), allocates nothing, and keeps no state:
 * any number of threads may run kernels at once on different arenas.
 * Conv and matmul kernels read `weights` (never weights_raw / weight_scale,
 * which the runtime folds first).  Its fr_backend (fr_backend_reference(),
 * backend.h) claims no step, so the runtime runs them all here.
 */
#ifndef FR_BACKEND_REFERENCE_H
#define FR_BACKEND_REFERENCE_H

#include <math.h>

#include "backend/backend.h"
#include "graph/plan.h"

/* Runs one step on the reference kernels (reference.c). */
void fr_ref_kernel(const fr_plan *plan, const fr_step *step, void *arena);

/* The kernel of one step kind. */
typedef void (*fr_kernel_fn)(const fr_plan *plan, const fr_step *step, void *arena);

void fr_kernel_conv(const fr_plan *plan, const fr_step *s, void *arena);        /* conv.c */
void fr_kernel_matmul(const fr_plan *plan, const fr_step *s, void *arena);      /* matmul.c */
void fr_kernel_pool(const fr_plan *plan, const fr_step *s, void *arena);        /* pool.c */
void fr_kernel_binary(const fr_plan *plan, const fr_step *s, void *arena);      /* elementwise.c */
void fr_kernel_unary(const fr_plan *plan, const fr_step *s, void *arena);       /* elementwise.c */
void fr_kernel_scale_shift(const fr_plan *plan, const fr_step *s, void *arena); /* elementwise.c */
void fr_kernel_softmax(const fr_plan *plan, const fr_step *s, void *arena);     /* softmax.c */
void fr_kernel_reduce(const fr_plan *plan, const fr_step *s, void *arena);      /* reduce.c */
void fr_kernel_concat(const fr_plan *plan, const fr_step *s, void *arena);      /* array.c */
void fr_kernel_copy(const fr_plan *plan, const fr_step *s, void *arena);        /* array.c */
void fr_kernel_pad(const fr_plan *plan, const fr_step *s, void *arena);         /* array.c */
void fr_kernel_transpose(const fr_plan *plan, const fr_step *s, void *arena);   /* array.c */
void fr_kernel_slice(const fr_plan *plan, const fr_step *s, void *arena);       /* array.c */
void fr_kernel_fake_quant(const fr_plan *plan, const fr_step *s, void *arena);  /* quant.c */
/* FakeQuant `p` over the n elements of o (of `channels` channels, the last
 * axis), in place: out_quant of a conv / matmul step (quant.c). */
void fr_fake_quant_apply(const fr_fake_quant_params *p, float *o, size_t n);

/* One step of an odometer over `rank` dims of sizes `dims` (the last
 * fastest): advances the index idx and the offset *off, which moves by st[d]
 * per step of dim d, wrapping back to 0 past the end of a dim.  Walks a
 * strided view (transpose, slice) or maps elements to a reduction's output. */
static inline void fr_ref_advance(int rank, const int64_t *dims, const int64_t *st, int64_t *idx, int64_t *off) {
    for (int d = rank - 1; d >= 0; d--) {
        idx[d]++;
        *off += st[d];
        if (idx[d] < dims[d]) return;
        *off -= st[d] * idx[d];
        idx[d] = 0;
    }
}

/* Applies a fused activation. */
static inline float fr_apply_act(float x, fr_act act, float alpha) {
    switch (act) {
    case FR_ACT_NONE: return x;
    case FR_ACT_RELU: return x > 0 ? x : 0;
    case FR_ACT_RELU6: return x > 0 ? (x < 6 ? x : 6) : 0;
    case FR_ACT_LEAKY: return x < 0 ? alpha * x : x;
    case FR_ACT_SIGMOID: return 1.0f / (1.0f + expf(-x));
    case FR_ACT_TANH: return tanhf(x);
    }
    return x;
}

#endif
