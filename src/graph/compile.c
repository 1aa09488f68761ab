/* The compiler's driver: order, lower, check the outputs, fuse (fuse.c),
 * finalize with the arena (memplan.c); and the weight folding (compile.h). */
#include "graph/compile.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "feed/feed.h"
#include "graph/builder.h"
#include "graph/fuse.h"
#include "graph/memplan.h"
#include "graph/pages.h"
#include "ops/ops.h"

/* ------------------------------------------------------------- finalize */

/* Drops the steps the passes marked dead and, backwards from the outputs,
 * those nothing reads; b->vals[].uses become the live steps' reads. */
static frost_status drop_dead_steps(fr_builder *b, const fr_io_spec *io, const int *out_vals) {
    int ns = 0;
    for (int i = 0; i < b->ns; i++)
        if (b->steps[i].kind != FR_STEP_KIND_COUNT_) b->steps[ns++] = b->steps[i];
    b->ns = ns;
    for (int v = 0; v < b->nv; v++) b->vals[v].uses = 0;
    char *live = calloc((size_t)ns + 1, 1);
    if (!live) return fr_b_fail(b, FROST_E_NO_MEMORY, "out of memory"), FROST_E_NO_MEMORY;
    for (int i = 0; i < io->n_outputs; i++) b->vals[out_vals[i]].uses++;
    for (int i = ns - 1; i >= 0; i--) {
        fr_step *s = &b->steps[i];
        if (!b->vals[s->output].uses) continue;
        live[i] = 1;
        for (int k = 0; k < s->n_inputs; k++) b->vals[s->inputs[k]].uses++;
        if (fr_step_residual(s) >= 0) b->vals[fr_step_residual(s)].uses++;
    }
    int n = 0;
    for (int i = 0; i < ns; i++)
        if (live[i]) b->steps[n++] = b->steps[i];
    b->ns = n;
    free(live);
    return FROST_OK;
}

/* Copies the used values and the steps into c, numbered densely, and fills
 * c->plan (but its arena); step FLOPs on the way. */
static frost_status renumber(fr_builder *b, fr_compiled *c, const fr_io_spec *io, const int *in_vals,
                             const int *out_vals) {
    int ns = b->ns, nv = 0;
    int *newid = malloc(sizeof(int) * (size_t)(b->nv + 1));
    c->steps = calloc((size_t)ns + 1, sizeof *c->steps);
    c->inputs = calloc((size_t)io->n_inputs + 1, sizeof(int));
    c->outputs = calloc((size_t)io->n_outputs + 1, sizeof(int));
    if (newid) {
        for (int i = 0; i < io->n_inputs; i++) b->vals[in_vals[i]].uses++;
        for (int v = 0; v < b->nv; v++) newid[v] = b->vals[v].uses ? nv++ : -1;
        c->values = calloc((size_t)nv + 1, sizeof *c->values);
    }
    if (!newid || !c->values || !c->steps || !c->inputs || !c->outputs) {
        free(newid);
        return fr_b_fail(b, FROST_E_NO_MEMORY, "out of memory"), FROST_E_NO_MEMORY;
    }
    for (int v = 0; v < b->nv; v++)
        if (newid[v] >= 0) c->values[newid[v]] = b->vals[v].v;
    for (int i = 0; i < ns; i++) {
        fr_step *s = &c->steps[i];
        *s = b->steps[i];
        int *ins = (int *)(uintptr_t)s->inputs;
        for (int k = 0; k < s->n_inputs; k++) ins[k] = newid[ins[k]];
        if (s->kind == FR_STEP_CONV && s->p.conv.residual >= 0) s->p.conv.residual = newid[s->p.conv.residual];
        if (s->kind == FR_STEP_MATMUL && s->p.matmul.residual >= 0) s->p.matmul.residual = newid[s->p.matmul.residual];
        s->output = newid[s->output];
        const fr_value *o = &c->values[s->output];
        if (s->kind == FR_STEP_CONV)
            s->flops = 2 * (int64_t)o->count * s->p.conv.kh * s->p.conv.kw * (s->p.conv.cin / s->p.conv.groups);
        else if (s->kind == FR_STEP_MATMUL)
            s->flops = 2 * (int64_t)s->p.matmul.m * s->p.matmul.k * s->p.matmul.n;
        c->flops += s->flops;
    }
    for (int i = 0; i < io->n_inputs; i++) c->inputs[i] = newid[in_vals[i]];
    for (int i = 0; i < io->n_outputs; i++) c->outputs[i] = newid[out_vals[i]];
    free(newid);
    c->plan = (fr_plan){.batch = b->batch, .n_values = nv, .values = c->values, .n_steps = ns, .steps = c->steps,
                        .n_inputs = io->n_inputs, .inputs = c->inputs, .n_outputs = io->n_outputs,
                        .outputs = c->outputs};
    return FROST_OK;
}

/* The arena (memplan.h); the value that does not fit is named. */
static frost_status plan_arena(fr_builder *b, fr_compiled *c) {
    size_t cap = (size_t)b->batch * FR_MAX_ARENA_BYTES_PER_ITEM;
    if (cap < FR_MAX_ARENA_BYTES) cap = FR_MAX_ARENA_BYTES;
    size_t *offsets = malloc(sizeof(size_t) * (size_t)(c->plan.n_values + 1));
    int failed = -1;
    frost_status st = offsets ? fr_memplan_arena(&c->plan, cap, offsets, &c->plan.arena_bytes, &failed)
                              : FROST_E_NO_MEMORY;
    if (st == FROST_OK)
        for (int v = 0; v < c->plan.n_values; v++)
            if (c->values[v].kind == FR_VALUE_ARENA) c->values[v].offset = offsets[v];
    free(offsets);
    if (st == FROST_E_LIMIT) {
        const fr_value *v = &c->values[failed];
        fr_b_fail(b, st, "activations need more than %zu bytes at batch %d (value '%s' of %zu bytes)", cap, b->batch,
                  v->name ? v->name : "?", fr_value_arena_bytes(v));
    } else if (st != FROST_OK) {
        fr_b_fail(b, st, "out of memory");
    }
    return st;
}

/* Parameters the plan references: constants, weights, biases, scales. */
static int64_t count_params(const fr_compiled *c) {
    int64_t params = 0;
    for (int v = 0; v < c->plan.n_values; v++)
        if (c->values[v].kind == FR_VALUE_CONST) params += (int64_t)c->values[v].count;
    for (int i = 0; i < c->plan.n_steps; i++) {
        const fr_step *s = &c->steps[i];
        if (s->kind == FR_STEP_CONV) {
            params += (int64_t)fr_conv_weight_count(&s->p.conv);
            if (s->p.conv.bias) params += s->p.conv.cout;
        } else if (s->kind == FR_STEP_MATMUL && s->p.matmul.weights) {
            params += (int64_t)fr_matmul_weight_count(&s->p.matmul) + (s->p.matmul.bias ? s->p.matmul.n : 0);
        } else if (s->kind == FR_STEP_SCALE_SHIFT) {
            params += 2 * (int64_t)s->p.scale_shift.channels;
        }
    }
    return params;
}

static int cmp_ptr(const void *a, const void *b) {
    uintptr_t x = (uintptr_t) * (void *const *)a, y = (uintptr_t) * (void *const *)b;
    return x < y ? -1 : x > y;
}

static void keep_ptr(void **keep, int *nk, const void *p) {
    if (p) keep[(*nk)++] = (void *)(uintptr_t)p;
}

static void keep_out_quant(void **keep, int *nk, const fr_fake_quant_params *q) {
    if (q) keep_ptr(keep, nk, q), keep_ptr(keep, nk, q->ranges);
}

/* Hands b's owned blocks to c, freeing those the plan no longer references. */
static void take_blocks(fr_builder *b, fr_compiled *c) {
    int ns = c->plan.n_steps, nv = c->plan.n_values;
    int cap = b->nb + 12 * ns + nv + 1, nk = 0;
    void **keep = malloc(sizeof(void *) * (size_t)cap);
    if (keep) {
        for (int v = 0; v < nv; v++) keep_ptr(keep, &nk, c->values[v].data);
        for (int i = 0; i < ns; i++) {
            const fr_step *s = &c->steps[i];
            keep_ptr(keep, &nk, s->inputs);
            keep_ptr(keep, &nk, s->label);
            if (s->kind == FR_STEP_CONV)
                keep_ptr(keep, &nk, s->p.conv.weights), keep_ptr(keep, &nk, s->p.conv.bias),
                    keep_ptr(keep, &nk, s->p.conv.weight_scale), keep_ptr(keep, &nk, s->p.conv.int8_scale),
                    keep_out_quant(keep, &nk, s->p.conv.out_quant);
            if (s->kind == FR_STEP_MATMUL)
                keep_ptr(keep, &nk, s->p.matmul.weights), keep_ptr(keep, &nk, s->p.matmul.bias),
                    keep_ptr(keep, &nk, s->p.matmul.weight_scale), keep_ptr(keep, &nk, s->p.matmul.int8_scale),
                    keep_out_quant(keep, &nk, s->p.matmul.out_quant);
            if (s->kind == FR_STEP_SCALE_SHIFT)
                keep_ptr(keep, &nk, s->p.scale_shift.scale), keep_ptr(keep, &nk, s->p.scale_shift.shift);
            if (s->kind == FR_STEP_POOL) keep_ptr(keep, &nk, s->p.pool.bias);
            if (s->kind == FR_STEP_CONCAT) keep_out_quant(keep, &nk, s->p.concat.out_quant);
            if (s->kind == FR_STEP_FAKE_QUANT) keep_ptr(keep, &nk, s->p.fake_quant.ranges);
        }
        qsort(keep, (size_t)nk, sizeof *keep, cmp_ptr);
        int m = 0;
        for (int i = 0; i < b->nb; i++) {
            if (bsearch(&b->blocks[i], keep, (size_t)nk, sizeof *keep, cmp_ptr)) {
                b->block_sizes[m] = b->block_sizes[i];
                b->blocks[m++] = b->blocks[i];
            } else {
                fr_pages_free_bytes(b->blocks[i], b->block_sizes[i]);
            }
        }
        b->nb = m;
        free(keep);
    }
    c->blocks = b->blocks;
    c->block_sizes = b->block_sizes;
    c->n_blocks = b->nb;
    b->blocks = NULL;
    b->block_sizes = NULL;
    b->nb = 0;
}

static frost_status finalize(fr_builder *b, fr_compiled *c, const fr_io_spec *io, const int *in_vals,
                             const int *out_vals) {
    if (drop_dead_steps(b, io, out_vals) != FROST_OK || renumber(b, c, io, in_vals, out_vals) != FROST_OK ||
        plan_arena(b, c) != FROST_OK)
        return b->status;
    c->params = count_params(c);
    take_blocks(b, c);
    return FROST_OK;
}

/* ------------------------------------------------------ weight scales */

frost_status fr_compiled_fold_weights(fr_compiled *c, int i) {
    fr_step *s = &c->steps[i];
    const float **w, **ws;
    size_t n, cout;
    const void *raw = NULL;
    if (s->kind == FR_STEP_CONV) {
        w = &s->p.conv.weights, ws = &s->p.conv.weight_scale, cout = (size_t)s->p.conv.cout;
        raw = s->p.conv.weights_raw;
        n = fr_conv_weight_count(&s->p.conv);
    } else if (s->kind == FR_STEP_MATMUL) {
        w = &s->p.matmul.weights, ws = &s->p.matmul.weight_scale, cout = (size_t)s->p.matmul.n;
        n = fr_matmul_weight_count(&s->p.matmul);
    } else {
        return FROST_OK;
    }
    if (!*ws && !raw) return FROST_OK;
    if (!*w && !raw) return FROST_OK;
    void **blocks = realloc(c->blocks, sizeof *blocks * (size_t)(c->n_blocks + 1));
    if (!blocks) return FROST_E_NO_MEMORY;
    c->blocks = blocks;
    size_t *sizes = realloc(c->block_sizes, sizeof *sizes * (size_t)(c->n_blocks + 1));
    if (!sizes) return FROST_E_NO_MEMORY;
    c->block_sizes = sizes;
    size_t map_len;
    float *nw = fr_pages_alloc(n * sizeof(float) + 4, 0, &map_len);
    if (!nw) return FROST_E_NO_MEMORY;
    nw[n] = 0.0f; /* the block is compared whole (fr_compiled_intern) */
    const float *sc = *ws;
    if (raw) memcpy(nw, raw, n * sizeof(float)); /* little-endian float32 bytes */
    const float *src = raw ? nw : *w;
    if (sc)
        for (size_t r = 0; r < n; r += cout)
            for (size_t k = 0; k < cout; k++) nw[r + k] = src[r + k] * sc[k];
    else if (!raw)
        memcpy(nw, src, n * sizeof(float));
    if (s->kind == FR_STEP_CONV) s->p.conv.weights_raw = NULL;
    c->blocks[c->n_blocks] = nw;
    c->block_sizes[c->n_blocks++] = n * sizeof(float) + 4;
    *w = nw;
    *ws = NULL;
    return FROST_OK;
}

/* ------------------------------------------------------------- compile */

static int is_identity_op(const char *op) {
    return !strcmp(op, "Identity") || !strcmp(op, "Snapshot") || !strcmp(op, "StopGradient") ||
           !strcmp(op, "NoOp") || !strcmp(op, "PreventGradient");
}

/* Frees n owned blocks and the arrays that list them and their sizes. */
static void free_blocks(void **blocks, size_t *sizes, int n) {
    for (int i = 0; i < n; i++) fr_pages_free_bytes(blocks[i], sizes[i]);
    free(blocks);
    free(sizes);
}

void fr_compiled_free(fr_compiled *c) {
    if (!c) return;
    free_blocks(c->blocks, c->block_sizes, c->n_blocks);
    free(c->values);
    free(c->steps);
    free(c->inputs);
    free(c->outputs);
    free(c->out_batched);
    free(c);
}

frost_status fr_compile(const frost_graph *g, const fr_io_spec *io, int batch, unsigned flags, fr_compiled **out,
                        char **err) {
    *out = NULL;
    fr_builder bb, *b = &bb;
    memset(b, 0, sizeof *b);
    b->g = g;
    b->batch = batch;
    const int optimize = (flags & FR_COMPILE_OPTIMIZE) != 0;
    b->optimize = optimize;
    b->int8 = optimize && (flags & FR_COMPILE_INT8);
    b->err = err;
    /* the file (a SavedModel's variables used in place among it) with its
     * narrow constants as float32 */
    size_t as_float = g->size + g->ext_bytes + g->widened_bytes;
    b->alloc_budget = as_float > FR_MIN_DATA_BUDGET / FR_DATA_BUDGET_FACTOR ? as_float * FR_DATA_BUDGET_FACTOR
                                                                           : FR_MIN_DATA_BUDGET;
    int n = g->n_nodes;
    fr_compiled *c = calloc(1, sizeof *c);
    int *order = malloc(sizeof(int) * (size_t)(n + 1));
    int *stack = malloc(sizeof(int) * (size_t)(n + 1));
    int *next = calloc((size_t)n + 1, sizeof(int));
    char *color = calloc((size_t)n + 1, 1);
    char *is_in = calloc((size_t)n + 1, 1);
    b->node_out = malloc(sizeof *b->node_out * (size_t)(n + 1));
    int *in_vals = calloc((size_t)io->n_inputs + 1, sizeof(int));
    int *out_vals = calloc((size_t)io->n_outputs + 1, sizeof(int));
    if (c) c->out_batched = calloc((size_t)io->n_outputs + 1, 1);
    if (!c || !c->out_batched || !order || !stack || !next || !color || !is_in || !b->node_out || !in_vals || !out_vals) {
        fr_b_fail(b, FROST_E_NO_MEMORY, "out of memory");
        goto done;
    }
    memset(b->node_out, 0xff, sizeof *b->node_out * (size_t)(n + 1));
    for (int i = 0; i < io->n_inputs; i++) is_in[io->in_node[i]] = 1;
    /* topological order of what the outputs need (iterative DFS) */
    int no = 0;
    for (int o = 0; o < io->n_outputs && b->status == FROST_OK; o++) {
        int root = io->out_node[o];
        if (color[root]) continue;
        int sp = 0;
        stack[sp++] = root;
        color[root] = 1;
        while (sp && b->status == FROST_OK) {
            int v = stack[sp - 1];
            const fr_node *nd = &g->nodes[v];
            if (!is_in[v] && next[v] < nd->n_inputs) {
                const fr_input_ref *in = &nd->inputs[next[v]++];
                if (in->node < 0) {
                    b->node = nd;
                    fr_b_fail(b, FROST_E_GRAPH, "input '%s' is not a node of the graph", in->name);
                } else if (color[in->node] == 1) {
                    b->node = nd;
                    fr_b_fail(b, FROST_E_GRAPH, "the graph has a cycle through '%s'", in->name);
                } else if (!color[in->node]) {
                    color[in->node] = 1;
                    stack[sp++] = in->node;
                }
            } else {
                color[v] = 2;
                order[no++] = v;
                sp--;
            }
        }
    }
    if (b->status != FROST_OK) goto done;
    c->graph_nodes = n;
    c->pruned_nodes = n - no;
    /* lower every node */
    for (int k = 0; k < no && b->status == FROST_OK; k++) {
        int v = order[k];
        const fr_node *nd = &g->nodes[v];
        b->node = nd;
        if (is_in[v]) { /* each of its outputs fed */
            for (int i = 0; i < io->n_inputs; i++) {
                if (io->in_node[i] != v) continue;
                int64_t dims[FROST_MAX_RANK];
                const frost_shape *sh = &io->in_shape[i];
                dims[0] = batch;
                for (int d = 1; d < sh->rank; d++) dims[d] = sh->dims[d];
                int id = fr_b_value(b, sh->rank, dims);
                if (id < 0) break;
                b->vals[id].is_input = 1;
                b->vals[id].batch_lead = 1;
                b->vals[id].v.name = io->in_names[i];
                in_vals[i] = id;
                fr_b_set_output(b, io->in_index ? io->in_index[i] : 0, id);
            }
            continue;
        }
        if (is_identity_op(nd->op)) b->identity_nodes++;
        b->identity_nodes += nd->n_control;
        const fr_op_def *def = fr_op_find(nd->op);
        if (!def) {
            if (fr_feed_op_known(nd->op))
                fr_b_fail(b, FROST_E_UNSUPPORTED_OP, "frost runs it only on what a string input of the model "
                          "decodes to, and its input '%s' is not (name the string it decodes as an input to feed it)",
                          nd->n_inputs ? nd->inputs[0].name : "");
            else
                fr_b_fail(b, FROST_E_UNSUPPORTED_OP, "unsupported op");
            break;
        }
        int ns0 = b->ns, nv0 = b->nv;
        if (def->lower(b, nd) != 0) {
            if (b->status == FROST_OK) fr_b_fail(b, FROST_E_INTERNAL, "lowering failed");
            break;
        }
        /* a node that produced only constants from non-Const ops was folded */
        if (b->ns == ns0 && b->nv > nv0 && strcmp(nd->op, "Const") && !is_identity_op(nd->op)) b->folded_nodes++;
    }
    if (b->status != FROST_OK) goto done;
    b->node = NULL;
    /* outputs: must be distinct arena values produced by a step */
    for (int o = 0; o < io->n_outputs; o++) {
        int nd = io->out_node[o], idx = io->out_index[o];
        int v = idx < FR_MAX_OUTPUTS ? b->node_out[nd][idx] : -1;
        b->node = &g->nodes[nd];
        if (v < 0) {
            fr_b_fail(b, FROST_E_NOT_FOUND, "output '%s' does not exist", io->out_names[o]);
            goto done;
        }
        int dup = 0;
        for (int j = 0; j < o; j++) dup |= out_vals[j] == v;
        if (b->vals[v].v.kind == FR_VALUE_CONST || b->vals[v].is_input || b->vals[v].is_output || dup) {
            fr_step s;
            memset(&s, 0, sizeof s);
            s.kind = FR_STEP_COPY;
            s.label = "Copy";
            int dims_rank = b->vals[v].v.rank;
            int64_t dims[FROST_MAX_RANK];
            memcpy(dims, b->vals[v].v.dims, sizeof dims);
            /* constant outputs are copied by a step (not folded) */
            if (b->vals[v].v.kind == FR_VALUE_CONST && !fr_b_data(b, v)) goto done;
            fr_ival keep = b->vals[v];
            b->vals[v].v.kind = FR_VALUE_ARENA;
            int nv = fr_b_emit(b, &s, &v, 1, dims_rank, dims, 0);
            b->vals[v] = keep;
            if (nv < 0) goto done;
            b->vals[v].uses++;
            v = nv;
        }
        /* Outputs are returned per batch item, so their leading dim must be the
         * batch.  One that is not (a concatenation or reduction along axis 0,
         * a broadcast against a constant with more rows) is kept with its full
         * shape at batch 1 and refused at larger batch sizes. */
        c->out_batched[o] = (unsigned char)b->vals[v].batch_lead;
        if (!c->out_batched[o] && b->batch > 1) {
            char sh[160];
            int len = 0;
            const fr_value *ov = &b->vals[v].v;
            sh[0] = 0;
            for (int k = 0; k < ov->rank && len < (int)sizeof sh - 24; k++)
                len += snprintf(sh + len, sizeof sh - (size_t)len, "%s%lld", k ? "," : "", (long long)ov->dims[k]);
            fr_b_fail(b, FROST_E_SHAPE,
                      "output '%s' has shape [%s] at batch %d: its leading dimension is not the batch "
                      "(e.g. a concatenation along axis 0), so the graph runs at batch 1 only",
                      io->out_names[o], sh, b->batch);
            goto done;
        }
        b->vals[v].is_output = 1;
        b->vals[v].v.name = io->out_names[o];
        out_vals[o] = v;
    }
    b->node = NULL;
    if (optimize) fr_fuse_steps(b);
    if (b->status != FROST_OK) goto done;
    finalize(b, c, io, in_vals, out_vals);
    if (b->status != FROST_OK) goto done;
    c->identity_nodes = b->identity_nodes;
    c->folded_nodes = b->folded_nodes;
    c->folded_batchnorms = b->folded_batchnorms;
    c->fused_ops = b->fused_ops;
done:
    free_blocks(b->blocks, b->block_sizes, b->nb);
    free(b->vals);
    free(b->steps);
    free(b->node_out);
    free(order), free(stack), free(next), free(color), free(is_in), free(in_vals), free(out_vals);
    if (b->status != FROST_OK) {
        fr_compiled_free(c);
        return b->status;
    }
    *out = c;
    return FROST_OK;
}
