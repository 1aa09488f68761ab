/* libFuzzer target: the GraphDef reader (frost_graph_load_memory), the graph
 * queries, the compiler, and one run of what compiles (when small).
 * Build: CC=clang cmake -DFROST_FUZZ=ON; run:
 *   ./fuzz/fuzz_graph -max_len=4000000 -rss_limit_mb=4096 CORPUS_DIR SEED_DIR
 * Seeds: any frozen .pb (../shared/models, tests/graphgen output).
 * FUZZ_GRAPH_NO_RUN=1 in the environment: load and compile only. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "frost.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Keep a single execution cheap: models above these are compiled, not run. */
#define FUZZ_MAX_ARENA ((size_t)32 << 20)
#define FUZZ_MAX_FLOPS ((int64_t)200000000)
#define FUZZ_MAX_INPUT ((size_t)4 << 20)

static void query_graph(const frost_graph *g) {
    volatile size_t sink = 0;
    sink += (size_t)frost_graph_node_count(g) + (size_t)frost_graph_param_count(g);
    for (int k = 0; k < frost_graph_placeholder_count(g); k++) {
        frost_shape s;
        sink += *frost_graph_placeholder_name(g, k);
        if (frost_graph_placeholder_shape(g, k, &s) == FROST_OK) sink += (size_t)s.rank;
    }
    for (int k = 0; k < frost_graph_sink_count(g); k++) sink += *frost_graph_sink_name(g, k);
    for (int k = 0; k < frost_graph_op_type_count(g); k++)
        sink += *frost_graph_op_type_name(g, k) + (size_t)frost_graph_op_type_uses(g, k);
    (void)sink;
}

static void run_once(const frost_model *m) {
    frost_compile_stats st;
    if (frost_model_stats(m, &st) != FROST_OK) return;
    if (st.arena_bytes > FUZZ_MAX_ARENA || st.flops > FUZZ_MAX_FLOPS) return;
    int nin = frost_model_input_count(m), nout = frost_model_output_count(m);
    if (nin > 16 || nout > 16) return;
    const float *ins[16] = {0};
    float *outs[16] = {0};
    frost_context *ctx = NULL;
    char *err = NULL;
    for (int k = 0; k < nin; k++) {
        size_t n = frost_model_input_size(m, k);
        if (n > FUZZ_MAX_INPUT) goto done;
        float *buf = malloc((n ? n : 1) * sizeof(float));
        if (!buf) goto done;
        for (size_t i = 0; i < n; i++) buf[i] = (float)((int)(i % 7) - 3) * 0.25f;
        ins[k] = buf;
    }
    for (int k = 0; k < nout; k++) {
        size_t n = frost_model_output_size(m, k);
        if (n > FUZZ_MAX_INPUT || !(outs[k] = malloc((n ? n : 1) * sizeof(float)))) goto done;
    }
    if (frost_context_create(m, &ctx, &err) == FROST_OK) {
        frost_context_run(ctx, 1, ins, outs);
        frost_context_run(ctx, 1, ins, outs); /* a second run reuses the plan */
    }
done:
    frost_free(err);
    frost_context_free(ctx);
    for (int k = 0; k < 16; k++) {
        free((void *)ins[k]);
        free(outs[k]);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    frost_graph *g = NULL;
    char *err = NULL;
    if (frost_graph_load_memory(data, size, 0, &g, &err) != FROST_OK) {
        frost_free(err);
        return 0;
    }
    query_graph(g);
    frost_options opt;
    frost_options_init(&opt);
    opt.max_batch = 1;
    opt.threads = 1;
    opt.backend = FROST_BACKEND_REFERENCE;
    opt.debug_flags = size > 0 && (data[size - 1] & 1) ? FROST_DEBUG_NO_OPTIMIZE : 0; /* both compiler paths */
    frost_model *m = NULL;
    if (frost_model_compile(g, &opt, &m, &err) == FROST_OK && !getenv("FUZZ_GRAPH_NO_RUN")) run_once(m);
    frost_free(err);
    frost_graph_free(g); /* before the model: the model must keep what it needs */
    frost_model_free(m);
    return 0;
}
