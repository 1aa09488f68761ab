/* The builder API used by op lowering functions (see builder.h). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "backend/reference/reference.h"
#include "graph/builder.h"
#include "graph/compile.h"
#include "graph/pages.h"

void *fr_b_alloc(fr_builder *b, size_t size) {
    if (b->alloc_budget && size > b->alloc_budget - b->alloc_bytes) {
        fr_b_fail(b, FROST_E_LIMIT,
                  "compile-time data exceeds the budget of %zu bytes (%zu used, %zu more requested; "
                  "the budget is max(64 MiB, %d x the graph file's size, 8- and 16-bit constants counted as float32))",
                  b->alloc_budget, b->alloc_bytes, size, FR_DATA_BUDGET_FACTOR);
        return NULL;
    }
    if (b->nb == b->cap_b) {
        int cap = b->cap_b ? b->cap_b * 2 : 256;
        void **nb = realloc(b->blocks, sizeof *nb * (size_t)cap);
        if (!nb) goto oom;
        b->blocks = nb;
        size_t *ns = realloc(b->block_sizes, sizeof *ns * (size_t)cap);
        if (!ns) goto oom;
        b->block_sizes = ns;
        b->cap_b = cap;
    }
    size_t map_len; /* freed with fr_pages_free_bytes(p, size) */
    void *p = fr_pages_alloc(size ? size : 1, FR_PAGES_ZERO, &map_len);
    if (!p) goto oom;
    b->block_sizes[b->nb] = size;
    b->blocks[b->nb++] = p;
    b->alloc_bytes += size;
    return p;
oom:
    fr_b_fail(b, FROST_E_NO_MEMORY, "out of memory");
    return NULL;
}

/* Whether [lo, hi) lies in the mapping at map of len bytes. */
static int in_map(uintptr_t lo, uintptr_t hi, const void *map, size_t len) {
    return map && lo >= (uintptr_t)map && hi <= (uintptr_t)map + len && hi >= lo;
}

void fr_graph_release_range(const frost_graph *g, const void *p, size_t bytes) {
    if (!g || !p || !bytes) return;
    uintptr_t lo = (uintptr_t)p, hi = lo + bytes;
    int mapped = in_map(lo, hi, g->map, g->map_len);
    for (int i = 0; !mapped && i < g->n_ext_maps; i++) mapped = in_map(lo, hi, g->ext_maps[i], g->ext_map_lens[i]);
    if (!mapped) return;
    long ps = sysconf(_SC_PAGESIZE);
    uintptr_t page = ps > 0 ? (uintptr_t)ps : 4096;
    uintptr_t a = (lo + page - 1) & ~(page - 1), e = hi & ~(page - 1);
    if (e > a) (void)madvise((void *)a, e - a, MADV_DONTNEED);
}

int fr_b_fail(fr_builder *b, frost_status st, const char *fmt, ...) {
    if (b->status != FROST_OK) return -1;
    b->status = st;
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (b->node) fr_errorf(b->err, "%s: node '%s' (%s): %s", b->g->source, b->node->name, b->node->op, msg);
    else fr_errorf(b->err, "%s: %s", b->g->source, msg);
    return -1;
}

static int grow_vals(fr_builder *b) {
    if (b->nv < b->cap_v) return 0;
    int cap = b->cap_v ? b->cap_v * 2 : 256;
    fr_ival *nv = realloc(b->vals, sizeof *nv * (size_t)cap);
    if (!nv) return fr_b_fail(b, FROST_E_NO_MEMORY, "out of memory");
    b->vals = nv;
    b->cap_v = cap;
    return 0;
}

static int new_val(fr_builder *b, int rank, const int64_t *dims) {
    if (grow_vals(b) != 0) return -1;
    if (rank < 0 || rank > FROST_MAX_RANK) return fr_b_fail(b, FROST_E_SHAPE, "rank %d not supported", rank);
    size_t count = 1;
    for (int i = 0; i < rank; i++) {
        if (dims[i] < 0) return fr_b_fail(b, FROST_E_SHAPE, "cannot infer dimension %d of the output", i);
        if (dims[i] && count > FR_MAX_ELEMENTS / (size_t)dims[i])
            return fr_b_fail(b, FROST_E_LIMIT, "tensor too large (more than %zu elements)", (size_t)FR_MAX_ELEMENTS);
        count *= (size_t)dims[i];
    }
    fr_ival *v = &b->vals[b->nv];
    memset(v, 0, sizeof *v);
    v->v.rank = rank;
    for (int i = 0; i < rank; i++) v->v.dims[i] = dims[i];
    v->v.count = count;
    v->producer = -1;
    v->dtype = FR_DT_FLOAT;
    v->v.name = b->node ? b->node->name : "";
    return b->nv++;
}

int fr_b_value(fr_builder *b, int rank, const int64_t *dims) {
    int id = new_val(b, rank, dims);
    if (id >= 0) b->vals[id].v.kind = FR_VALUE_ARENA;
    return id;
}

int fr_b_const(fr_builder *b, int dtype, int rank, const int64_t *dims, const float *data, int owned) {
    int id = new_val(b, rank, dims);
    if (id < 0) return -1;
    fr_ival *v = &b->vals[id];
    v->v.kind = FR_VALUE_CONST;
    v->v.data = data;
    v->dtype = dtype;
    v->owned = owned;
    return id;
}

int fr_b_input(fr_builder *b, int i) {
    const fr_node *n = b->node;
    if (i < 0 || i >= n->n_inputs) return fr_b_fail(b, FROST_E_GRAPH, "expected at least %d inputs, has %d", i + 1, n->n_inputs);
    const fr_input_ref *in = &n->inputs[i];
    if (in->node < 0) return fr_b_fail(b, FROST_E_GRAPH, "input '%s' is not a node of the graph", in->name);
    if (in->index >= FR_MAX_OUTPUTS || b->node_out[in->node][in->index] < 0)
        return fr_b_fail(b, FROST_E_GRAPH, "input '%s' has no output %d", in->name, in->index);
    return b->node_out[in->node][in->index];
}

const float *fr_b_data(fr_builder *b, int id) {
    if (id < 0 || id >= b->nv) return NULL;
    fr_ival *v = &b->vals[id];
    if (v->v.kind == FR_VALUE_CONST && !v->v.data && v->raw) {
        size_t bytes = v->v.count * sizeof(float);
        float *d = fr_b_alloc(b, bytes + 4);
        if (!d) return NULL;
        v = &b->vals[id];
        memcpy(d, v->raw, bytes);
        fr_graph_release_range(b->g, v->raw, bytes); /* copied */
        v->v.data = d;
        v->owned = 1;
        v->raw = NULL;
    }
    return v->v.data;
}

int fr_b_const_ints(fr_builder *b, int id, int64_t *out, int max, const char *what) {
    if (id < 0) return -1;
    if (b->vals[id].v.kind == FR_VALUE_CONST && !fr_b_data(b, id)) return -1;
    fr_ival *v = &b->vals[id];
    if (v->v.kind != FR_VALUE_CONST)
        return fr_b_fail(b, FROST_E_GRAPH, "%s must be a constant (it depends on a run-time input)", what);
    if (v->v.count > (size_t)max) return fr_b_fail(b, FROST_E_GRAPH, "%s has too many elements (%zu)", what, v->v.count);
    for (size_t i = 0; i < v->v.count; i++) {
        float f = v->v.data[i];
        if (f != f) return fr_b_fail(b, FROST_E_GRAPH, "%s is not a valid integer", what);
        /* huge values (INT64_MAX as "to the end") saturate */
        out[i] = f >= 4.6e18f ? (int64_t)1 << 62 : f <= -4.6e18f ? -((int64_t)1 << 62) : (int64_t)f;
    }
    return (int)v->v.count;
}

void fr_b_set_output(fr_builder *b, int k, int value) {
    if (k >= 0 && k < FR_MAX_OUTPUTS && b->node) b->node_out[b->node - b->g->nodes][k] = value;
}

static int push_step(fr_builder *b, const fr_step *s) {
    if (b->ns == b->cap_s) {
        int cap = b->cap_s ? b->cap_s * 2 : 256;
        fr_step *ns = realloc(b->steps, sizeof *ns * (size_t)cap);
        if (!ns) return fr_b_fail(b, FROST_E_NO_MEMORY, "out of memory");
        b->steps = ns;
        b->cap_s = cap;
    }
    b->steps[b->ns] = *s;
    return b->ns++;
}

int fr_b_emit(fr_builder *b, fr_step *s, const int *inputs, int n_inputs, int rank, const int64_t *dims,
              int force_fold) {
    (void)force_fold;
    if (b->status != FROST_OK) return -1;
    for (int i = 0; i < n_inputs; i++)
        if (inputs[i] < 0 || inputs[i] >= b->nv) return fr_b_fail(b, FROST_E_INTERNAL, "bad step input");
    for (int i = 0; i < n_inputs; i++) /* a step (or a fold) reads its constant inputs as floats */
        if (b->vals[inputs[i]].v.kind == FR_VALUE_CONST && !fr_b_data(b, inputs[i])) return -1;
    int out = fr_b_value(b, rank, dims);
    if (out < 0) return -1;
    int all_const = 1;
    for (int i = 0; i < n_inputs; i++)
        if (b->vals[inputs[i]].v.kind != FR_VALUE_CONST) all_const = 0;
    if (s->kind == FR_STEP_CONV && s->p.conv.residual >= 0) all_const = 0;
    if (s->kind == FR_STEP_MATMUL && s->p.matmul.residual >= 0) all_const = 0;
    if (!s->name) s->name = b->node ? b->node->name : "";
    if (!s->label) s->label = b->node ? b->node->op : "";
    if (all_const) {
        /* constant folding: run the reference kernel now */
        fr_value tmp[64];
        int ids[64];
        if (n_inputs >= 64) return fr_b_fail(b, FROST_E_GRAPH, "too many constant inputs");
        for (int i = 0; i < n_inputs; i++) tmp[i] = b->vals[inputs[i]].v, ids[i] = i;
        tmp[n_inputs] = b->vals[out].v;
        tmp[n_inputs].offset = 0;
        float *data = fr_b_alloc(b, tmp[n_inputs].count * sizeof(float));
        if (!data) return -1;
        fr_step st = *s;
        st.inputs = ids;
        st.n_inputs = n_inputs;
        st.output = n_inputs;
        fr_plan p = {0};
        p.values = tmp;
        p.n_values = n_inputs + 1;
        p.steps = &st;
        p.n_steps = 1;
        fr_ref_kernel(&p, &st, data);
        fr_ival *v = &b->vals[out];
        v->v.kind = FR_VALUE_CONST;
        v->v.data = data;
        v->owned = 1;
        v->dtype = n_inputs ? b->vals[inputs[0]].dtype : FR_DT_FLOAT;
        return out;
    }
    for (int i = 0; i < n_inputs; i++)
        if (b->vals[inputs[i]].dtype != FR_DT_FLOAT && b->vals[inputs[i]].dtype != FR_DT_HALF &&
            b->vals[inputs[i]].dtype != FR_DT_DOUBLE)
            return fr_b_fail(b, FROST_E_GRAPH, "run-time tensors of type %s are not supported",
                             fr_dtype_name(b->vals[inputs[i]].dtype));
    int *ins = fr_b_alloc(b, sizeof(int) * (size_t)(n_inputs + 1));
    if (!ins) return -1;
    memcpy(ins, inputs, sizeof(int) * (size_t)n_inputs);
    s->inputs = ins;
    s->n_inputs = n_inputs;
    s->output = out;
    int idx = push_step(b, s);
    if (idx < 0) return -1;
    b->vals[out].producer = idx;
    for (int i = 0; i < n_inputs; i++) {
        b->vals[inputs[i]].uses++;
        /* the batch dimension flows from an input to the output when the leading dim is kept */
        if (b->vals[inputs[i]].batch_lead && rank > 0 && b->vals[inputs[i]].v.rank > 0 &&
            dims[0] == b->vals[inputs[i]].v.dims[0])
            b->vals[out].batch_lead = 1;
    }
    return out;
}

int64_t fr_b_attr_int(fr_builder *b, const char *key, int64_t dflt) {
    fr_pb_attr a;
    int r = fr_node_attr_get(b->node, key, &a);
    if (r < 0) return fr_b_fail(b, FROST_E_PARSE, "malformed attribute '%s'", key), dflt;
    if (r == 0) return dflt;
    if (a.kind == FR_ATTR_I || a.kind == FR_ATTR_B || a.kind == FR_ATTR_TYPE) return a.i;
    fr_b_fail(b, FROST_E_GRAPH, "attribute '%s' is not an integer", key);
    return dflt;
}

float fr_b_attr_float(fr_builder *b, const char *key, float dflt) {
    fr_pb_attr a;
    int r = fr_node_attr_get(b->node, key, &a);
    if (r < 0) return fr_b_fail(b, FROST_E_PARSE, "malformed attribute '%s'", key), dflt;
    if (r == 0) return dflt;
    if (a.kind == FR_ATTR_F) return a.f;
    if (a.kind == FR_ATTR_I) return (float)a.i;
    fr_b_fail(b, FROST_E_GRAPH, "attribute '%s' is not a float", key);
    return dflt;
}

int fr_b_attr_str(fr_builder *b, const char *key, char *buf, size_t cap) {
    fr_pb_attr a;
    int r = fr_node_attr_get(b->node, key, &a);
    buf[0] = 0;
    if (r < 0) return fr_b_fail(b, FROST_E_PARSE, "malformed attribute '%s'", key), 0;
    if (r == 0) return 0;
    if (a.kind != FR_ATTR_S) return fr_b_fail(b, FROST_E_GRAPH, "attribute '%s' is not a string", key), 0;
    size_t n = a.len < cap - 1 ? a.len : cap - 1;
    memcpy(buf, a.ptr, n);
    buf[n] = 0;
    return 1;
}

int fr_b_attr_ints(fr_builder *b, const char *key, int64_t *out, int max) {
    fr_pb_attr a;
    int r = fr_node_attr_get(b->node, key, &a);
    if (r < 0) return fr_b_fail(b, FROST_E_PARSE, "malformed attribute '%s'", key), 0;
    if (r == 0) return 0;
    if (a.kind != FR_ATTR_LIST) return fr_b_fail(b, FROST_E_GRAPH, "attribute '%s' is not a list", key), 0;
    int n = fr_pb_list_ints(a.ptr, a.len, out, max);
    if (n < 0) return fr_b_fail(b, FROST_E_PARSE, "malformed attribute '%s'", key), 0;
    if (n > max) return fr_b_fail(b, FROST_E_GRAPH, "attribute '%s' has too many entries (%d)", key, n), 0;
    return n;
}
