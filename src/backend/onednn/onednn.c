/* oneDNN backend: the fr_backend vtable (prepare / bind / run_step). */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backend/onednn/onednn.h"
#include "backend/onednn/internal.h"
#include "graph/pages.h"

typedef struct fr_dn_run {
    fr_dn_state *st;
    dnnl_stream_t stream;
    void *buf;                  /* scratchpad, then temporaries */
    size_t buf_map;             /* fr_pages_alloc's length of buf */
    dnnl_exec_arg_t *args;      /* all arguments of all executions */
    int n_args;                 /* memory objects created (== used entries of args) */
    dnnl_exec_arg_t **exec_arg; /* per execution (flattened over steps): its first argument */
    int *exec_nargs;
    int *step_exec; /* per step: index of its first execution */
} fr_dn_run;

static void step_clear(fr_dn_step *s) {
    for (int j = 0; j < s->n_execs; j++) {
        dnnl_primitive_destroy(s->execs[j].prim);
        free(s->execs[j].args);
        if (s->execs[j].ctx_free) s->execs[j].ctx_free(s->execs[j].ctx);
    }
    free(s->execs);
    free(s->kernel);
    memset(s, 0, sizeof(*s));
}

static void dn_release(void *state) {
    fr_dn_state *st = state;
    if (!st) return;
    if (st->steps)
        for (int i = 0; i < st->plan->n_steps; i++) step_clear(&st->steps[i]);
    free(st->steps);
    for (int i = 0; i < st->n_owned; i++) free(st->owned[i]);
    free(st->owned);
    free(st->value_dt);
    free(st->value_q);
    if (st->engine) dnnl_engine_destroy(st->engine);
    free(st);
}

/* Thread count of the OpenMP runtime for the calling thread, set for the
 * duration of a prepare or a step (`step`: whose teams run on them,
 * fr_team_starting) and restored afterwards. */
static int threads_enter(const fr_dn_state *st, int step) {
    int want = fr_team_threads(&st->team, st->cfg.threads);
    if (step) fr_team_starting(&st->team, want);
    if (!st->team.set_max_threads) return 0;
    int prev = fr_team_max_threads(&st->team);
    if (prev != want) fr_team_set_max_threads(&st->team, want);
    return prev;
}

static void threads_leave(const fr_dn_state *st, int prev) {
    if (prev > 0 && prev != fr_team_threads(&st->team, st->cfg.threads)) fr_team_set_max_threads(&st->team, prev);
}

static void dn_model_free(void *shared) {
    fr_dn_shared *sh = shared;
    if (!sh) return;
    for (int i = 0; i < sh->n_w; i++) free(sh->w[i].key);
    free(sh->w);
    fr_slab_free(&sh->slab);
    pthread_cond_destroy(&sh->freed);
    pthread_mutex_destroy(&sh->lock);
    free(sh);
}

static size_t dn_model_weight_bytes(void *shared) {
    fr_dn_shared *sh = shared;
    size_t bytes = 0;
    if (!sh) return 0;
    pthread_mutex_lock(&sh->lock);
    for (int i = 0; i < sh->n_w; i++) bytes += dnnl_memory_desc_get_size(&sh->w[i].md);
    pthread_mutex_unlock(&sh->lock);
    return bytes;
}

static frost_status dn_model_create(const fr_backend_config *config, void **shared_out, char **error) {
    fr_dn_shared *sh = calloc(1, sizeof(*sh));
    *shared_out = NULL;
    if (!sh) return FROST_E_NO_MEMORY;
    if (pthread_mutex_init(&sh->lock, NULL) != 0) {
        free(sh);
        return FROST_E_NO_MEMORY;
    }
    if (pthread_cond_init(&sh->freed, NULL) != 0) {
        pthread_mutex_destroy(&sh->lock);
        free(sh);
        return FROST_E_NO_MEMORY;
    }
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    sh->cores = sh->cores_free = n > 0 ? (int)n : 1;
    *shared_out = sh;
    return FROST_OK;
}

/* Several contexts of one model running at once: a oneDNN step takes as many
 * of the model's cores as it has threads and waits while they are in use, so
 * their OpenMP teams never oversubscribe the machine (contexts with 1 thread
 * each still run in parallel, up to one per core).  Called from the
 * threads of the caller's own OpenMP team, a step runs on its thread alone
 * (oneDNN's and frost's teams there have one thread) and takes one core. */
static int cores_take(const fr_dn_state *st) {
    fr_dn_shared *sh = st->shared;
    if (!sh) return 0;
    int need = st->cfg.threads < sh->cores ? st->cfg.threads : sh->cores;
    if (fr_team_nested(&st->team)) need = 1;
    pthread_mutex_lock(&sh->lock);
    while (sh->cores_free < need) pthread_cond_wait(&sh->freed, &sh->lock);
    sh->cores_free -= need;
    pthread_mutex_unlock(&sh->lock);
    return need;
}

static void cores_give(const fr_dn_state *st, int n) {
    fr_dn_shared *sh = st->shared;
    if (!sh || n <= 0) return;
    pthread_mutex_lock(&sh->lock);
    sh->cores_free += n;
    pthread_cond_broadcast(&sh->freed);
    pthread_mutex_unlock(&sh->lock);
}

static frost_status dn_prepare(const fr_plan *plan, const fr_backend_config *config, void **state_out,
                               uint8_t *claimed, char **error) {
    *state_out = NULL;
    fr_dn_state *st = calloc(1, sizeof(*st));
    if (!st) return FROST_E_NO_MEMORY;
    st->cfg = *config;
    st->shared = config->shared;
    if (st->cfg.threads < 1) st->cfg.threads = 1;
    st->plan = plan;
    fr_team_init(&st->team);
    fr_kernels_cpu cpu = fr_kernels_cpu_detect();
    st->isa = fr_kernels_select_isa(&cpu, st->cfg.portable);
    dnnl_status_t ds = dnnl_engine_create(&st->engine, dnnl_cpu, 0);
    if (ds != dnnl_success) {
        dn_release(st);
        return fr_dn_fail(error, "dnnl_engine_create", ds);
    }
    st->steps = calloc((size_t)(plan->n_steps > 0 ? plan->n_steps : 1), sizeof(*st->steps));
    if (!st->steps) {
        dn_release(st);
        return FROST_E_NO_MEMORY;
    }
    frost_status status = FROST_OK;
    int prev = threads_enter(st, 0);
    if (config->precision == FROST_PRECISION_BF16) status = fr_dn_assign_bf16(st, error);
    if (config->precision == FROST_PRECISION_INT8) status = fr_dn_assign_int8(st, error);
    /* bf16 / int8: a step left to the reference kernels needs f32 values
     * around it; rebuild until every bf16 / u8 value is produced and consumed
     * by oneDNN. */
    for (int pass = 0; status == FROST_OK; pass++) {
        for (int i = 0; i < plan->n_steps && status == FROST_OK; i++) {
            fr_dn_build b = {st, plan, &plan->steps[i], i, &st->steps[i], error};
            status = fr_dn_build_step(&b);
            if (status == FROST_OK && st->steps[i].n_execs == 0) step_clear(&st->steps[i]);
            claimed[i] = st->steps[i].n_execs > 0;
            /* FP32 builds each step once: its plan weights are done now */
            if (status == FROST_OK && claimed[i] && st->steps[i].own_weights && config->weights_done &&
                !st->value_dt)
                config->weights_done(config->weights_done_ctx, i);
        }
        if (status != FROST_OK || fr_dn_fix_bf16(st) == 0) break;
        for (int i = 0; i < plan->n_steps; i++) step_clear(&st->steps[i]);
        for (int i = 0; i < st->n_owned; i++) free(st->owned[i]);
        st->n_owned = 0;
        st->scratch_bytes = st->temp_bytes = 0;
    }
    threads_leave(st, prev);
    if (status != FROST_OK) {
        memset(claimed, 0, (size_t)plan->n_steps);
        dn_release(st);
        return status;
    }
    if (st->value_dt && config->weights_done) /* bf16: steps may have been rebuilt; done only now */
        for (int i = 0; i < plan->n_steps; i++)
            if (claimed[i] && st->steps[i].own_weights) config->weights_done(config->weights_done_ctx, i);
    *state_out = st;
    return FROST_OK;
}

static void dn_unbind(void *run_state) {
    fr_dn_run *r = run_state;
    if (!r) return;
    for (int i = 0; i < r->n_args; i++) dnnl_memory_destroy(r->args[i].memory);
    if (r->stream) dnnl_stream_destroy(r->stream);
    free(r->args);
    free(r->exec_arg);
    free(r->exec_nargs);
    free(r->step_exec);
    fr_pages_free(r->buf, r->buf_map);
    free(r);
}

static frost_status dn_bind(void *state, const fr_plan *plan, void *arena, void **run_state_out, char **error) {
    fr_dn_state *st = state;
    *run_state_out = NULL;
    fr_dn_run *r = calloc(1, sizeof(*r));
    if (!r) return FROST_E_NO_MEMORY;
    r->st = st;
    int n_exec = 0, n_arg = 0;
    for (int i = 0; i < plan->n_steps; i++) {
        n_exec += st->steps[i].n_execs;
        for (int j = 0; j < st->steps[i].n_execs; j++) n_arg += st->steps[i].execs[j].n_args;
    }
    size_t scratch = (st->scratch_bytes + 63) / 64 * 64;
    size_t total = scratch + st->temp_bytes;
    r->args = calloc((size_t)n_arg + 1, sizeof(*r->args));
    r->exec_arg = calloc((size_t)n_exec + 1, sizeof(*r->exec_arg));
    r->exec_nargs = calloc((size_t)n_exec + 1, sizeof(*r->exec_nargs));
    r->step_exec = calloc((size_t)plan->n_steps + 1, sizeof(*r->step_exec));
    r->buf = total ? fr_pages_alloc(total, 0, &r->buf_map) : NULL;
    if (!r->args || !r->exec_arg || !r->exec_nargs || !r->step_exec || (total && !r->buf)) {
        dn_unbind(r);
        return FROST_E_NO_MEMORY;
    }
    dnnl_status_t ds = dnnl_stream_create(&r->stream, st->engine, dnnl_stream_default_flags);
    int e = 0;
    for (int i = 0; i < plan->n_steps && ds == dnnl_success; i++) {
        r->step_exec[i] = e;
        for (int j = 0; j < st->steps[i].n_execs && ds == dnnl_success; j++, e++) {
            const fr_dn_exec *x = &st->steps[i].execs[j];
            r->exec_arg[e] = r->args + r->n_args;
            for (int k = 0; k < x->n_args && ds == dnnl_success; k++) {
                const fr_dn_arg *a = &x->args[k];
                void *h = NULL;
                switch (a->bind) {
                case FR_DN_VALUE: h = fr_value_ptr(plan, arena, a->value); break;
                case FR_DN_PTR: h = (void *)(uintptr_t)a->ptr; break;
                case FR_DN_TEMP: h = (char *)r->buf + scratch + a->offset; break;
                case FR_DN_ARENA: h = (char *)arena + a->offset; break;
                case FR_DN_SCRATCH:
                    if (dnnl_memory_desc_get_size(&a->md) == 0) continue;
                    h = r->buf;
                    break;
                }
                dnnl_exec_arg_t *out = &r->args[r->n_args];
                ds = dnnl_memory_create(&out->memory, &a->md, st->engine, h);
                if (ds == dnnl_success) {
                    out->arg = a->arg;
                    r->n_args++;
                    r->exec_nargs[e]++;
                }
            }
        }
    }
    if (ds != dnnl_success) {
        dn_unbind(r);
        return fr_dn_fail(error, "binding memory", ds);
    }
    *run_state_out = r;
    return FROST_OK;
}

static frost_status dn_run_step(void *state, void *run_state, int index, char **error) {
    fr_dn_state *st = state;
    fr_dn_run *r = run_state;
    const fr_dn_step *s = &st->steps[index];
    int cores = cores_take(st);
    int prev = threads_enter(st, 1);
    dnnl_status_t ds = dnnl_success;
    for (int j = 0, e = r->step_exec[index]; j < s->n_execs && ds == dnnl_success; j++, e++) {
        const fr_dn_exec *x = &s->execs[j];
        if (x->prim) {
            ds = dnnl_primitive_execute(x->prim, r->stream, r->exec_nargs[e], r->exec_arg[e]);
            continue;
        }
        void *ptrs[FR_DN_MAX_CUSTOM_ARGS] = {NULL};
        for (int k = 0; k < r->exec_nargs[e] && k < FR_DN_MAX_CUSTOM_ARGS && ds == dnnl_success; k++)
            ds = dnnl_memory_get_data_handle(r->exec_arg[e][k].memory, &ptrs[k]);
        if (ds == dnnl_success) ds = dnnl_stream_wait(r->stream);
        if (ds == dnnl_success) x->fn(st, x->ctx, ptrs);
    }
    if (ds == dnnl_success) ds = dnnl_stream_wait(r->stream);
    threads_leave(st, prev);
    cores_give(st, cores);
    if (ds != dnnl_success) return fr_dn_fail(error, "dnnl_primitive_execute", ds);
    return FROST_OK;
}

static const char *dn_kernel_name(void *state, int index) {
    const fr_dn_state *st = state;
    if (!st || index < 0 || index >= st->plan->n_steps) return NULL;
    return st->steps[index].kernel;
}

/* int8 from AVX2 on (without VNNI: int8_pairs.c); below it, SSE4.1's
 * kernels are not checked for saturation, and the FakeQuant graph runs in float. */
static int dn_int8(void) {
    dnnl_cpu_isa_t isa = dnnl_get_effective_cpu_isa();
    return fr_dn_int8_vnni() || isa == dnnl_cpu_isa_avx2 || isa == dnnl_cpu_isa_avx512_core;
}

static const fr_backend dn_backend = {
    .name = "onednn",
    .prepare = dn_prepare,
    .release = dn_release,
    .bind = dn_bind,
    .unbind = dn_unbind,
    .run_step = dn_run_step,
    .kernel_name = dn_kernel_name,
    .model_create = dn_model_create,
    .model_free = dn_model_free,
    .model_weight_bytes = dn_model_weight_bytes,
    .int8 = dn_int8,
};

const fr_backend *fr_backend_onednn(void) {
    return &dn_backend;
}
