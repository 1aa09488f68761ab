/* The reference backend: its fr_backend (claims nothing, so the runtime runs
 * every step here) and the kernel of each step kind. */
#include "backend/reference/reference.h"

static const fr_kernel_fn kernels[FR_STEP_KIND_COUNT_] = {
    [FR_STEP_CONV] = fr_kernel_conv,       [FR_STEP_MATMUL] = fr_kernel_matmul,
    [FR_STEP_POOL] = fr_kernel_pool,       [FR_STEP_BINARY] = fr_kernel_binary,
    [FR_STEP_UNARY] = fr_kernel_unary,     [FR_STEP_SCALE_SHIFT] = fr_kernel_scale_shift,
    [FR_STEP_SOFTMAX] = fr_kernel_softmax, [FR_STEP_CONCAT] = fr_kernel_concat,
    [FR_STEP_REDUCE] = fr_kernel_reduce,   [FR_STEP_COPY] = fr_kernel_copy,
    [FR_STEP_PAD] = fr_kernel_pad,         [FR_STEP_TRANSPOSE] = fr_kernel_transpose,
    [FR_STEP_SLICE] = fr_kernel_slice,     [FR_STEP_FAKE_QUANT] = fr_kernel_fake_quant,
};

void fr_ref_kernel(const fr_plan *plan, const fr_step *step, void *arena) {
    if ((unsigned)step->kind < FR_STEP_KIND_COUNT_ && kernels[step->kind]) kernels[step->kind](plan, step, arena);
}

frost_status fr_ref_run_step(const fr_plan *plan, int index, void *arena) {
    if (index < 0 || index >= plan->n_steps) return FROST_E_INTERNAL;
    fr_ref_kernel(plan, &plan->steps[index], arena);
    return FROST_OK;
}

static frost_status ref_prepare(const fr_plan *plan, const fr_backend_config *cfg, void **state, uint8_t *claimed,
                                char **error) {
    (void)plan, (void)cfg, (void)claimed, (void)error;
    *state = NULL;
    return FROST_OK;
}
static void ref_release(void *state) { (void)state; }
static frost_status ref_bind(void *state, const fr_plan *plan, void *arena, void **run_state, char **error) {
    (void)state, (void)plan, (void)arena, (void)error;
    *run_state = NULL;
    return FROST_OK;
}
static void ref_unbind(void *run_state) { (void)run_state; }
static frost_status ref_run_step(void *state, void *run_state, int index, char **error) {
    (void)state, (void)run_state, (void)index, (void)error;
    return FROST_E_INTERNAL; /* claims nothing */
}

static const fr_backend reference = {
    .name = "reference",
    .prepare = ref_prepare,
    .release = ref_release,
    .bind = ref_bind,
    .unbind = ref_unbind,
    .run_step = ref_run_step,
};

const fr_backend *fr_backend_reference(void) { return &reference; }
