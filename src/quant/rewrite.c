/* The quantized GraphDef: every node of the original, in its order, with
 *  - each weight constant W replaced by  W/int8 (Const int8) -> W/dequantize
 *    (Cast to float) -> W = Mul(W/dequantize, W/scale (Const float)): the
 *    consumers keep reading "W", now the dequantized weights;
 *  - after each chosen activation X, X/act_quant =
 *    FakeQuantWithMinMaxVars(X, X/act_quant/min, X/act_quant/max), num_bits 8,
 *    and every reader of X reading X/act_quant instead;
 *  - the GraphDef's other fields (versions, library) copied as they are. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pb/pbwriter.h"
#include "quant/quant.h"

#define FQ_SUFFIX "/act_quant"

static char *join(const char *a, const char *b) {
    size_t n = strlen(a) + strlen(b) + 1;
    char *s = malloc(n);
    if (s) snprintf(s, n, "%s%s", a, b);
    return s;
}

/* Fails when a name the rewrite adds is already a node of the graph. */
static int name_taken(const frost_quantizer *q, const char *base, const char *suffix, char **error_out) {
    char *s = join(base, suffix);
    int taken = !s || fr_graph_find(q->g, s, strlen(s)) >= 0;
    if (taken) fr_errorf(error_out, "%s: cannot quantize node '%s': the graph already has a node '%s%s'", q->g->source,
                         base, base, suffix);
    free(s);
    return taken;
}

/* The step s of the grid the weights already lie on, every w an integer
 * multiple of s with at most 255 steps between the extremes (weights trained
 * with quantization and exported in float, as TFLite or TensorFlow.js
 * uint8 weights dequantized: w = (q - zero_point) * s); 0 when there is none.
 * Candidates: the smallest |w| > 0 divided by 1 .. 4. */
static float weight_grid(const float *v, size_t n) {
    float m = INFINITY, lo = INFINITY, hi = -INFINITY;
    for (size_t i = 0; i < n; i++) {
        float a = fabsf(v[i]);
        if (a > 0.0f && a < m) m = a;
        if (v[i] < lo) lo = v[i];
        if (v[i] > hi) hi = v[i];
    }
    if (!isfinite(m)) return 0.0f;
    for (int j = 1; j <= 4; j++) {
        float s = m / (float)j;
        if ((hi - lo) / s > 255.5f) return 0.0f;
        size_t i = 0;
        for (; i < n; i++) {
            float k = v[i] / s;
            if (fabsf(k - roundf(k)) > 1e-3f) break;
        }
        if (i == n) return s;
    }
    return 0.0f;
}

/* Writes the int8 weights of Const node `n`; 0 written, 1 left in float (not the expected shape), -1 failed. */
static int write_weight(const frost_quantizer *q, fr_gdw *w, const fr_node *n, fr_qw_kind kind, char **error_out) {
    fr_pb_tensor t;
    const char *why = "";
    if (fr_node_const_tensor(q->g, n, &t, &why)) return 1;
    int rank = t.shape.rank;
    const int64_t *d = t.shape.dims;
    int want = kind == FR_QW_CONV || kind == FR_QW_DEPTHWISE ? 4 : 2;
    if (rank != want || t.count <= 0) return 1;
    size_t count = (size_t)t.count, C, inner = 1;
    int64_t sdims[2];
    int srank;
    if (kind == FR_QW_CONV) C = (size_t)d[3], sdims[0] = d[3], srank = 1;
    else if (kind == FR_QW_DEPTHWISE) C = (size_t)(d[2] * d[3]), sdims[0] = d[2], sdims[1] = d[3], srank = 2;
    else if (kind == FR_QW_MATMUL) C = (size_t)d[1], sdims[0] = d[1], srank = 1;
    else C = (size_t)d[0], inner = (size_t)d[1], sdims[0] = d[0], sdims[1] = 1, srank = 2;
    if (!(q->flags & FROST_QUANTIZE_PER_CHANNEL)) C = 1, srank = 0;
    if (name_taken(q, n->name, "/int8", error_out) || name_taken(q, n->name, "/scale", error_out) ||
        name_taken(q, n->name, "/dequantize", error_out))
        return -1;
    float *v = malloc(sizeof(float) * count), *scale = calloc(C, sizeof(float));
    int8_t *q8 = malloc(count);
    char *n_i8 = join(n->name, "/int8"), *n_sc = join(n->name, "/scale"), *n_dq = join(n->name, "/dequantize");
    int rc = -1;
    if (!v || !scale || !q8 || !n_i8 || !n_sc || !n_dq) {
        fr_errorf(error_out, "out of memory");
        goto done;
    }
    fr_pb_tensor_to_float(&t, v);
    /* symmetric, narrow: w = q * scale, q in [-127, 127], scale = max |w| / 127 over the channel */
    for (size_t i = 0; i < count; i++) {
        size_t c = C == 1 ? 0 : (i / inner) % C;
        if (!isfinite(v[i])) {
            fr_errorf(error_out, "%s: node '%s': weight %zu is not finite", q->g->source, n->name, i);
            goto done;
        }
        if (fabsf(v[i]) > scale[c]) scale[c] = fabsf(v[i]);
    }
    /* weights on an 8-bit grid already keep it where a channel's multiples of
     * it fit in [-127, 127] (exactly representable); others get max |w| / 127 */
    float grid = weight_grid(v, count);
    for (size_t c = 0; c < C; c++)
        scale[c] = grid > 0.0f && scale[c] / grid <= 127.5f ? grid : scale[c] > 0.0f ? scale[c] / 127.0f : 1.0f;
    for (size_t i = 0; i < count; i++) {
        float r = roundf(v[i] / scale[C == 1 ? 0 : (i / inner) % C]);
        q8[i] = (int8_t)(r > 127.0f ? 127 : r < -127.0f ? -127 : r);
    }
    fr_gdw_node_begin(w, n_i8, "Const");
    fr_gdw_attr_type(w, "dtype", FR_DT_INT8);
    fr_gdw_attr_tensor(w, "value", FR_DT_INT8, rank, d, q8, count);
    fr_gdw_const_f(w, n_sc, srank, sdims, scale);
    fr_gdw_node(w, n_dq, "Cast", (const char *const[]){n_i8, NULL});
    fr_gdw_attr_type(w, "SrcT", FR_DT_INT8);
    fr_gdw_attr_type(w, "DstT", FR_DT_FLOAT);
    fr_gdw_attr_bool(w, "Truncate", 0);
    fr_gdw_node(w, n->name, "Mul", (const char *const[]){n_dq, n_sc, NULL});
    fr_gdw_attr_type(w, "T", FR_DT_FLOAT);
    rc = fr_gdw_node_end(w) ? -1 : 0;
    if (rc) fr_errorf(error_out, "out of memory");
done:
    free(v), free(scale), free(q8), free(n_i8), free(n_sc), free(n_dq);
    return rc;
}

/* Appends node n as it is, its readings of quantized activations redirected. */
static void write_node(const frost_quantizer *q, fr_gdw *w, const fr_node *n, char *buf, size_t cap) {
    fr_gdw_node_begin(w, n->name, n->op);
    for (int k = 0; k < n->n_inputs; k++) {
        const fr_input_ref *r = &n->inputs[k];
        if (r->node >= 0 && r->index == 0 && q->tensor[r->node] >= 0) snprintf(buf, cap, "%s" FQ_SUFFIX, r->name);
        else if (r->index) snprintf(buf, cap, "%s:%d", r->name, r->index);
        else snprintf(buf, cap, "%s", r->name);
        fr_gdw_input(w, buf);
    }
    for (int k = 0; k < n->n_control; k++) {
        snprintf(buf, cap, "^%s", n->control[k].name);
        fr_gdw_input(w, buf);
    }
    const frost_graph *g = q->g;
    int ext = g->ext_content && g->ext_content[n - g->nodes];
    for (int k = 0; k < n->n_attrs; k++) {
        fr_pb_tensor t;
        const char *why;
        if (ext && !strcmp(n->attrs[k].key, "value") && !fr_node_const_tensor(g, n, &t, &why))
            fr_gdw_attr_tensor(w, "value", t.dtype, t.shape.rank, t.shape.dims, t.content, t.content_len);
        else
            fr_gdw_attr_raw(w, n->attrs[k].key, n->attrs[k].val, n->attrs[k].len);
    }
}

static int write_fake_quant(const frost_quantizer *q, fr_gdw *w, const fr_node *n, int k, char *buf, size_t cap) {
    float lo, hi;
    fr_quant_range(q, k, &lo, &hi);
    char *fq = join(n->name, FQ_SUFFIX);
    if (!fq) return -1;
    snprintf(buf, cap, "%s/min", fq);
    fr_gdw_const_f(w, buf, 0, NULL, &lo);
    snprintf(buf, cap, "%s/max", fq);
    fr_gdw_const_f(w, buf, 0, NULL, &hi);
    char *mn = join(fq, "/min"), *mx = join(fq, "/max");
    int rc = -1;
    if (mn && mx) {
        fr_gdw_node(w, fq, "FakeQuantWithMinMaxVars", (const char *const[]){n->name, mn, mx, NULL});
        fr_gdw_attr_int(w, "num_bits", 8);
        fr_gdw_attr_bool(w, "narrow_range", 0);
        rc = fr_gdw_node_end(w);
    }
    free(fq), free(mn), free(mx);
    return rc;
}

frost_status fr_quant_write(const frost_quantizer *q, void **data_out, size_t *size_out, char **error_out) {
    const frost_graph *g = q->g;
    size_t cap = 64;
    for (int i = 0; i < g->n_nodes; i++) {
        const fr_node *n = &g->nodes[i];
        for (int k = 0; k < n->n_inputs + n->n_control; k++)
            if (strlen(n->inputs[k].name) + 32 > cap) cap = strlen(n->inputs[k].name) + 32;
        if (strlen(n->name) + 32 > cap) cap = strlen(n->name) + 32;
    }
    for (int k = 0; k < q->n_t; k++)
        if (name_taken(q, g->nodes[q->t[k].node].name, FQ_SUFFIX, error_out)) return FROST_E_GRAPH;
    fr_gdw *w = fr_gdw_new();
    char *buf = malloc(cap);
    frost_status st = FROST_E_NO_MEMORY;
    if (!w || !buf) goto done;
    for (int i = 0; i < g->n_nodes; i++) {
        const fr_node *n = &g->nodes[i];
        int rc = 1;
        if (q->weight[i] != FR_QW_NONE && q->weight[i] != FR_QW_CONFLICT && (rc = write_weight(q, w, n, q->weight[i], error_out)) < 0) {
            st = FROST_E_GRAPH;
            goto done;
        }
        if (rc == 1) {
            write_node(q, w, n, buf, cap);
            if (fr_gdw_node_end(w)) goto done;
        }
        if (q->tensor[i] >= 0 && write_fake_quant(q, w, n, q->tensor[i], buf, cap)) goto done;
    }
    /* the GraphDef's other fields (versions, library, ...) as they are */
    pb_reader r = pb_make(g->data, g->size);
    pb_field f;
    while (pb_more(&r) && pb_next(&r, &f) == 0) {
        if (f.number == 1) continue;
        if (f.wire == PB_LEN) fr_pbw_bytes(&w->out, f.number, f.ptr, f.len);
        else if (f.wire == PB_VARINT) fr_pbw_int(&w->out, f.number, (int64_t)f.u);
    }
    size_t len;
    const uint8_t *bytes = fr_gdw_finish(w, &len);
    void *copy = bytes ? malloc(len ? len : 1) : NULL;
    if (!copy) goto done;
    memcpy(copy, bytes, len);
    *data_out = copy;
    *size_out = len;
    st = FROST_OK;
done:
    if (st == FROST_E_NO_MEMORY && error_out && !*error_out) fr_errorf(error_out, "quantized GraphDef: out of memory");
    free(buf);
    fr_gdw_free(w);
    return st;
}
