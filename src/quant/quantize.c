/* Post-training static quantization: which weights and activations are
 * quantized, and their ranges from calibration runs (frost_quantizer, frost.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "quant/quant.h"

/* The percentile FROST_QUANTIZE_PERCENTILE keeps (and 100 minus it at the low end). */
#define FR_QUANT_PERCENTILE 99.99

typedef struct {
    const frost_graph *g;
    int *start, *list; /* consumers of output 0 of node i: list[start[i] .. start[i + 1]) (node indices) */
    const char *const *outputs;
    int n_outputs;
} graph_view;

static int is_op(const fr_node *n, const char *op) { return !strcmp(n->op, op); }
static int is_identity(const fr_node *n) {
    return is_op(n, "Identity") || is_op(n, "Snapshot") || is_op(n, "StopGradient");
}

/* The node whose output 0 an input reads, through Identity nodes; -1 when it reads another output. */
static int source(const frost_graph *g, const fr_input_ref *in) {
    int node = in->index == 0 ? in->node : -1;
    for (int hops = 0; node >= 0 && hops < 64 && is_identity(&g->nodes[node]) && g->nodes[node].n_inputs > 0; hops++) {
        const fr_input_ref *r = &g->nodes[node].inputs[0];
        node = r->index == 0 ? r->node : -1;
    }
    return node;
}

static int is_const(const frost_graph *g, int node) { return node >= 0 && is_op(&g->nodes[node], "Const"); }

/* Whether node computes from constants alone (a Const, or an op over such
 * nodes: TF-slim's decomposed batch norm, gamma * Rsqrt(variance + epsilon)). */
static int is_const_expr(const frost_graph *g, int node, int depth) {
    if (is_const(g, node)) return 1;
    if (node < 0 || depth > 8 || g->nodes[node].n_inputs == 0) return 0;
    for (int k = 0; k < g->nodes[node].n_inputs; k++)
        if (!is_const_expr(g, source(g, &g->nodes[node].inputs[k]), depth + 1)) return 0;
    return 1;
}

static int build_consumers(graph_view *v) {
    const frost_graph *g = v->g;
    int n = g->n_nodes;
    v->start = calloc((size_t)n + 1, sizeof(int));
    int total = 0;
    for (int i = 0; i < n; i++) total += g->nodes[i].n_inputs;
    v->list = malloc(sizeof(int) * (size_t)(total + 1));
    int *fill = calloc((size_t)n + 1, sizeof(int));
    if (!v->start || !v->list || !fill) return free(fill), -1;
    for (int i = 0; i < n; i++)
        for (int k = 0; k < g->nodes[i].n_inputs; k++) {
            const fr_input_ref *r = &g->nodes[i].inputs[k];
            if (r->node >= 0 && r->index == 0) v->start[r->node + 1]++;
        }
    for (int i = 0; i < n; i++) v->start[i + 1] += v->start[i];
    for (int i = 0; i < n; i++)
        for (int k = 0; k < g->nodes[i].n_inputs; k++) {
            const fr_input_ref *r = &g->nodes[i].inputs[k];
            if (r->node >= 0 && r->index == 0) v->list[v->start[r->node] + fill[r->node]++] = i;
        }
    free(fill);
    return 0;
}

static int is_output(const graph_view *v, int node) {
    const char *name = v->g->nodes[node].name;
    size_t len = strlen(name);
    for (int i = 0; i < v->n_outputs; i++) {
        const char *o = v->outputs[i];
        if (!strncmp(o, name, len) && (o[len] == 0 || !strcmp(o + len, ":0"))) return 1;
    }
    return 0;
}

/* Whether output 0 of `node` feeds only the classifier's head (reshapes and a
 * softmax on the way to a model output): float there, as int8 kernels
 * would dequantize their last output. */
static int head_only(const graph_view *v, int node, int depth) {
    if (is_output(v, node)) return 1;
    if (depth > 16) return 0;
    for (int k = v->start[node]; k < v->start[node + 1]; k++) {
        const fr_node *c = &v->g->nodes[v->list[k]];
        if (!(is_op(c, "Reshape") || is_op(c, "Squeeze") || is_identity(c) || is_op(c, "Softmax"))) return 0;
        if (!head_only(v, v->list[k], depth + 1)) return 0;
    }
    return 1;
}

/* The end of the epilogue of a convolution / matmul / pool / concat: bias,
 * batch norm, per-channel constants and activation that follow it alone. */
static int epilogue_end(const graph_view *v, int node) {
    const frost_graph *g = v->g;
    for (int hops = 0; hops < 16; hops++) {
        if (v->start[node + 1] - v->start[node] != 1 || is_output(v, node)) break;
        int c = v->list[v->start[node]];
        const fr_node *cn = &g->nodes[c];
        int ok = is_op(cn, "BiasAdd") || is_op(cn, "Relu") || is_op(cn, "Relu6") || is_identity(cn) ||
                 ((is_op(cn, "FusedBatchNorm") || is_op(cn, "FusedBatchNormV2") || is_op(cn, "FusedBatchNormV3")) &&
                  cn->inputs[0].node == node);
        if (!ok && cn->n_inputs == 2 &&
            (is_op(cn, "Add") || is_op(cn, "AddV2") || is_op(cn, "Mul") || is_op(cn, "Sub")))
            ok = is_const_expr(g, source(g, &cn->inputs[cn->inputs[0].node == node ? 1 : 0]), 0);
        if (!ok) break;
        node = c;
    }
    return node;
}

/* Whether `node` is a model input (a Placeholder), or computes from one
 * through ops that keep it on its grid (reshapes, pads, Identity). */
static int reads_placeholder(const frost_graph *g, int node, int depth) {
    if (node < 0 || depth > 8) return 0;
    const fr_node *n = &g->nodes[node];
    if (is_op(n, "Placeholder")) return 1;
    if (n->n_inputs < 1 || !(is_op(n, "Reshape") || is_op(n, "Pad") || is_op(n, "ExpandDims") || is_identity(n)))
        return 0;
    return reads_placeholder(g, source(g, &n->inputs[0]), depth + 1);
}

static void mark_tensor(frost_quantizer *q, int node) {
    if (node < 0 || is_const(q->g, node) || q->tensor[node] >= 0) return;
    q->tensor[node] = -2; /* chosen; numbered below */
}

static void mark_weight(frost_quantizer *q, int node, fr_qw_kind kind) {
    if (!is_const(q->g, node)) return;
    fr_pb_attr a;
    if (fr_node_attr_get(&q->g->nodes[node], "dtype", &a) != 1 || a.i != FR_DT_FLOAT) return;
    q->weight[node] = q->weight[node] == FR_QW_NONE || q->weight[node] == kind ? kind : FR_QW_CONFLICT;
}

/* Marks the weights and the activations of every convolution, matmul, pool and concat. */
static void choose(frost_quantizer *q, const graph_view *v) {
    const frost_graph *g = q->g;
    for (int i = 0; i < g->n_nodes; i++) {
        const fr_node *n = &g->nodes[i];
        int conv = is_op(n, "Conv2D"), dw = is_op(n, "DepthwiseConv2dNative"), mm = is_op(n, "MatMul");
        int pool = is_op(n, "MaxPool") || is_op(n, "AvgPool"), cat = is_op(n, "ConcatV2") || is_op(n, "Concat");
        if (!(conv || dw || mm || pool || cat)) continue;
        if ((q->flags & FROST_QUANTIZE_FLOAT_INPUT_LAYER) && (conv || dw || mm) && n->n_inputs > 0 &&
            reads_placeholder(g, source(g, &n->inputs[0]), 0))
            continue; /* the input layer stays float */
        int first = 0, last = n->n_inputs; /* activation inputs [first, last) */
        if (conv || dw || mm) {
            last = n->n_inputs < 2 ? n->n_inputs : 1;
            int w = n->n_inputs >= 2 ? source(g, &n->inputs[1]) : -1;
            if (is_const(g, w)) {
                fr_pb_attr a;
                int tb = mm && fr_node_attr_get(n, "transpose_b", &a) == 1 && a.i;
                mark_weight(q, w, conv ? FR_QW_CONV : dw ? FR_QW_DEPTHWISE : tb ? FR_QW_MATMUL_T : FR_QW_MATMUL);
            } else if (mm && n->n_inputs >= 2) {
                last = 2;
            }
        } else if (pool) {
            last = n->n_inputs < 1 ? n->n_inputs : 1;
        } else if (is_op(n, "ConcatV2")) {
            last = n->n_inputs - 1; /* the axis is last */
        } else {
            first = 1; /* Concat: the axis is first */
        }
        for (int k = first; k < last; k++) mark_tensor(q, source(g, &n->inputs[k]));
        int end = epilogue_end(v, i);
        if (!head_only(v, end, 0)) mark_tensor(q, end);
    }
}

frost_status frost_quantizer_create(const frost_graph *graph, const frost_options *options, unsigned flags,
                                    frost_quantizer **quantizer_out, char **error_out) {
    if (error_out) *error_out = NULL;
    if (quantizer_out) *quantizer_out = NULL;
    if (!graph || !quantizer_out || (flags & ~(unsigned)FROST_QUANTIZE_ALL)) {
        fr_errorf(error_out, "frost_quantizer_create: %s", !graph || !quantizer_out ? "NULL argument" : "unknown flags");
        return FROST_E_INVALID_ARGUMENT;
    }
    frost_options opt; /* the caller's fields (an older, smaller struct: the rest at their defaults) */
    frost_options_init(&opt);
    if (options) {
        if (options->struct_size < FROST_OPTIONS_MIN_SIZE) {
            fr_errorf(error_out, "frost_quantizer_create: options were not set up by frost_options_init()");
            return FROST_E_INVALID_ARGUMENT;
        }
        memcpy(&opt, options, options->struct_size < sizeof opt ? options->struct_size : sizeof opt);
        opt.struct_size = sizeof opt;
    }
    opt.precision = FROST_PRECISION_FP32; /* the float model; no load-time quantization of it */
    opt.calibrate_dir = NULL;
    opt.calibrate_preprocess = NULL;
    frost_quantizer *q = calloc(1, sizeof *q);
    graph_view v = {graph, NULL, NULL, NULL, 0};
    const char **outs = NULL;
    frost_status st = FROST_E_NO_MEMORY;
    if (!q) goto fail;
    q->g = fr_graph_ref(graph);
    q->flags = flags;
    int n = graph->n_nodes;
    q->weight = calloc((size_t)n + 1, sizeof *q->weight);
    q->tensor = malloc(sizeof(int) * ((size_t)n + 1));
    if (!q->weight || !q->tensor || build_consumers(&v)) goto fail;
    for (int i = 0; i < n; i++) q->tensor[i] = -1;
    int n_user = opt.outputs ? opt.num_outputs : frost_graph_sink_count(graph);
    outs = malloc(sizeof(char *) * ((size_t)n_user + (size_t)n + 1));
    if (!outs) goto fail;
    for (int i = 0; i < n_user; i++) outs[i] = opt.outputs ? opt.outputs[i] : frost_graph_sink_name(graph, i);
    v.outputs = outs, v.n_outputs = n_user;
    choose(q, &v);
    int nt = 0;
    for (int i = 0; i < n; i++)
        if (q->tensor[i] == -2 && !is_output(&v, i)) nt++;
        else q->tensor[i] = -1;
    q->t = calloc((size_t)nt + 1, sizeof *q->t);
    if (!q->t) goto fail;
    for (int i = 0; i < n; i++)
        if (q->tensor[i] == -2) {
            q->t[q->n_t] = (fr_qtensor){i, 0, INFINITY, -INFINITY, 0, 0};
            q->tensor[i] = q->n_t++;
            outs[n_user + q->tensor[i]] = graph->nodes[i].name;
        }
    q->n_user_outputs = n_user;
    opt.outputs = outs;
    opt.num_outputs = n_user + q->n_t;
    if ((st = frost_model_compile(graph, &opt, &q->model, error_out)) != FROST_OK) goto fail;
    if ((st = frost_context_create(q->model, &q->ctx, error_out)) != FROST_OK) goto fail;
    for (int k = 0; k < q->n_t; k++) q->t[k].size = frost_model_output_size(q->model, n_user + k);
    free(outs), free(v.start), free(v.list);
    *quantizer_out = q;
    return FROST_OK;
fail:
    if (st == FROST_E_NO_MEMORY && error_out && !*error_out) fr_errorf(error_out, "frost_quantizer_create: out of memory");
    free(outs), free(v.start), free(v.list);
    frost_quantizer_free(q);
    return st;
}

void frost_quantizer_free(frost_quantizer *q) {
    if (!q) return;
    frost_context_free(q->ctx);
    frost_model_free(q->model);
    if (q->outs)
        for (int k = 0; k < q->n_user_outputs + q->n_t; k++) free(q->outs[k]);
    free(q->outs);
    free(q->scratch);
    free(q->t);
    free(q->weight);
    free(q->tensor);
    frost_graph_free(q->g);
    free(q);
}

const frost_model *frost_quantizer_model(const frost_quantizer *q) { return q ? q->model : NULL; }

/* The element of rank `k` (0-based) in a[0..n) (partially reorders a). */
static float select_rank(float *a, size_t n, size_t k) {
    size_t lo = 0, hi = n - 1;
    while (lo < hi) {
        float pivot = a[lo + (hi - lo) / 2];
        size_t i = lo, j = hi;
        while (i <= j) {
            while (a[i] < pivot) i++;
            while (a[j] > pivot) j--;
            if (i <= j) {
                float t = a[i];
                a[i] = a[j], a[j] = t;
                i++;
                if (j == 0) break;
                j--;
            }
        }
        if (k <= j) hi = j;
        else if (k >= i) lo = i;
        else return a[k];
    }
    return a[k];
}

frost_status frost_quantizer_observe(frost_quantizer *q, int batch, const float *input, char **error_out) {
    if (error_out) *error_out = NULL;
    if (!q || !input || batch < 1 || batch > frost_model_max_batch(q->model)) {
        fr_errorf(error_out, "frost_quantizer_observe: %s", !q || !input ? "NULL argument" : "batch out of range");
        return FROST_E_INVALID_ARGUMENT;
    }
    int n_out = q->n_user_outputs + q->n_t;
    if (batch > q->outs_batch) {
        if (!q->outs && !(q->outs = calloc((size_t)n_out + 1, sizeof *q->outs))) goto oom;
        for (int k = 0; k < n_out; k++) {
            float *p = realloc(q->outs[k], sizeof(float) * (size_t)batch * frost_model_output_size(q->model, k) + 1);
            if (!p) goto oom;
            q->outs[k] = p;
        }
        q->outs_batch = batch;
    }
    const float *ins[1] = {input};
    frost_status st = frost_context_run(q->ctx, batch, ins, q->outs);
    if (st != FROST_OK) {
        fr_errorf(error_out, "%s", frost_context_error(q->ctx));
        return st;
    }
    for (int k = 0; k < q->n_t; k++) {
        fr_qtensor *t = &q->t[k];
        const float *x = q->outs[q->n_user_outputs + k];
        size_t n = (size_t)batch * t->size;
        for (size_t i = 0; i < n; i++) {
            if (x[i] < t->lo) t->lo = x[i];
            if (x[i] > t->hi) t->hi = x[i];
        }
        if ((q->flags & FROST_QUANTIZE_PERCENTILE) && n) {
            if (n > q->scratch_n) {
                float *s = realloc(q->scratch, sizeof(float) * n);
                if (!s) goto oom;
                q->scratch = s, q->scratch_n = n;
            }
            memcpy(q->scratch, x, sizeof(float) * n);
            double f = (100.0 - FR_QUANT_PERCENTILE) / 100.0 * (double)(n - 1);
            t->plo += select_rank(q->scratch, n, (size_t)floor(f));
            t->phi += select_rank(q->scratch, n, (size_t)ceil((double)(n - 1) - f));
        }
    }
    q->runs++;
    q->images += batch;
    return FROST_OK;
oom:
    fr_errorf(error_out, "frost_quantizer_observe: out of memory");
    return FROST_E_NO_MEMORY;
}

void fr_quant_range(const frost_quantizer *q, int k, float *lo, float *hi) {
    const fr_qtensor *t = &q->t[k];
    float a = t->lo, b = t->hi;
    if ((q->flags & FROST_QUANTIZE_PERCENTILE) && q->runs > 0)
        a = (float)(t->plo / q->runs), b = (float)(t->phi / q->runs);
    *lo = a < 0.0f ? a : 0.0f;
    *hi = b > 0.0f ? b : 0.0f;
}

frost_status frost_quantizer_summary(const frost_quantizer *q, int *weights_out, int *activations_out,
                                     int *images_out) {
    if (!q) return FROST_E_INVALID_ARGUMENT;
    int w = 0;
    for (int i = 0; i < q->g->n_nodes; i++) w += q->weight[i] != FR_QW_NONE && q->weight[i] != FR_QW_CONFLICT;
    if (weights_out) *weights_out = w;
    if (activations_out) *activations_out = q->n_t;
    if (images_out) *images_out = q->images;
    return FROST_OK;
}

frost_status frost_quantizer_graphdef(const frost_quantizer *q, void **data_out, size_t *size_out, char **error_out) {
    if (error_out) *error_out = NULL;
    if (!q || !data_out || !size_out) {
        fr_errorf(error_out, "frost_quantizer_graphdef: NULL argument");
        return FROST_E_INVALID_ARGUMENT;
    }
    if (q->images == 0) {
        fr_errorf(error_out, "frost_quantizer_graphdef: no calibration input was observed");
        return FROST_E_INVALID_ARGUMENT;
    }
    return fr_quant_write(q, data_out, size_out, error_out);
}
