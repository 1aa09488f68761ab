/* frost serve: the JSON answers: predict (row and columnar), classify,
 * model status, metadata (TensorFlow Serving's shapes), errors. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "serve.h"

/* ---- responses ---------------------------------------------------------------- */

static void put_nested(sv_buf *b, const frost_shape *s, int d, const float **p) {
    if (d == s->rank) {
        sv_buf_float(b, *(*p)++);
        return;
    }
    sv_buf_put(b, "[", 1);
    for (int64_t k = 0; k < s->dims[d]; k++) {
        if (k) sv_buf_put(b, ",", 1);
        put_nested(b, s, d + 1, p);
    }
    sv_buf_put(b, "]", 1);
}

static char *finish(sv_buf *b, size_t *len) {
    if (b->oom) {
        free(b->data);
        return NULL;
    }
    *len = b->len;
    return b->data;
}

/* With several outputs, output j's key in an object ("name": ), after a comma but for the first. */
static void put_output_key(sv_buf *b, const sv_model *m, int j) {
    if (m->num_outputs < 2) return;
    if (j) sv_buf_put(b, ",", 1);
    sv_buf_json_string(b, m->out_key[j]);
    sv_buf_put(b, ":", 1);
}

static int is_integer_dtype(int dt) {
    return dt == FROST_DTYPE_INT32 || dt == FROST_DTYPE_INT64 || dt == FROST_DTYPE_INT16 || dt == FROST_DTYPE_INT8 ||
           dt == FROST_DTYPE_UINT8 || dt == FROST_DTYPE_UINT16;
}

/* Output j of instance k, as nested arrays of its shape.  When the request
 * gave its one-element inputs as scalars (req->squeeze: TF Serving's
 * tutorial sends [1.0, 2.0, 5.0] to an input of shape [-1, 1]), one-element
 * outputs are scalars too, as TensorFlow computes them on the lower-rank
 * tensor. */
static void put_output(sv_buf *b, const sv_model *m, const sv_request *req, int j, int k) {
    const float *p = req->out_ptr[j] + (size_t)k * m->out_size[j];
    if (is_integer_dtype(m->out_dtype[j])) {
        frost_shape s = m->out_shape[j];
        size_t n = m->out_size[j];
        if (s.rank <= 1 || (req->squeeze && n == 1)) {
            sv_buf_printf(b, "%lld", (long long)p[0]);
            return;
        }
        /* nested integers: print the floats through a rank-1 walk */
        sv_buf_put(b, "[", 1);
        for (size_t i = 0; i < n; i++) sv_buf_printf(b, i ? ",%lld" : "%lld", (long long)p[i]);
        sv_buf_put(b, "]", 1);
        return;
    }
    if (req->squeeze && m->out_size[j] == 1) {
        sv_buf_float(b, p[0]);
        return;
    }
    put_nested(b, &m->out_shape[j], 1, &p);
}

char *sv_response_predict(const sv_model *m, const sv_request *req, size_t *len) {
    sv_buf b = {0};
    if (!req->columnar) {
        sv_buf_puts(&b, "{\"predictions\":[");
        for (int k = 0; k < req->count; k++) {
            if (k) sv_buf_put(&b, ",", 1);
            if (m->num_outputs > 1) sv_buf_put(&b, "{", 1);
            for (int j = 0; j < m->num_outputs; j++) {
                put_output_key(&b, m, j);
                put_output(&b, m, req, j, k);
            }
            if (m->num_outputs > 1) sv_buf_put(&b, "}", 1);
        }
        sv_buf_puts(&b, "]}");
    } else {
        sv_buf_puts(&b, "{\"outputs\":");
        if (m->num_outputs > 1) sv_buf_put(&b, "{", 1);
        for (int j = 0; j < m->num_outputs; j++) {
            put_output_key(&b, m, j);
            sv_buf_put(&b, "[", 1);
            for (int k = 0; k < req->count; k++) {
                if (k) sv_buf_put(&b, ",", 1);
                put_output(&b, m, req, j, k);
            }
            sv_buf_put(&b, "]", 1);
        }
        if (m->num_outputs > 1) sv_buf_put(&b, "}", 1);
        sv_buf_puts(&b, "}");
    }
    return finish(&b, len);
}

char *sv_response_classify(const sv_model *m, const sv_request *req, int top_k, size_t *len) {
    size_t n = m->out_size[0];
    if (top_k < 0) top_k = 0;
    if ((size_t)top_k > n) top_k = (int)n;
    int *best = malloc((size_t)(top_k > 0 ? top_k : 1) * sizeof *best);
    if (!best) return NULL;
    sv_buf b = {0};
    sv_buf_puts(&b, "{\"result\":[");
    for (int k = 0; k < req->count; k++) {
        const float *o = req->out_ptr[0] + (size_t)k * n;
        int nb = 0; /* ranked as every frost classifier ranks: ties by lower index, NaN last */
        if (frost_top_k(o, n, top_k, best, NULL, &nb) != FROST_OK) nb = 0;
        if (k) sv_buf_put(&b, ",", 1);
        sv_buf_put(&b, "[", 1);
        for (int r = 0; r < nb; r++) {
            if (r) sv_buf_put(&b, ",", 1);
            sv_buf_put(&b, "[", 1);
            if (best[r] < m->num_labels) sv_buf_json_string(&b, m->labels[best[r]]);
            else sv_buf_printf(&b, "\"%d\"", best[r]);
            sv_buf_put(&b, ",", 1);
            sv_buf_float(&b, o[best[r]]);
            sv_buf_put(&b, "]", 1);
        }
        sv_buf_put(&b, "]", 1);
    }
    sv_buf_puts(&b, "]}");
    free(best);
    return finish(&b, len);
}

static const char *state_name(sv_state st) {
    static const char *const names[] = {"START", "LOADING", "AVAILABLE", "UNLOADING", "END"};
    return (unsigned)st < 5 ? names[st] : "UNKNOWN";
}

/* GetModelStatusResponse: every version seen (version < 0) or one, descending. */
char *sv_response_status(sv_servable *sv, int64_t version, size_t *len, char *err, size_t errlen, int *code) {
    sv_buf b = {0};
    int found = 0;
    pthread_mutex_lock(&sv->mu);
    sv_buf_puts(&b, "{\"model_version_status\":[");
    for (int k = 0; k < sv->num_status; k++) {
        const sv_status_entry *e = &sv->status[k];
        if (version >= 0 && e->version != version) continue;
        sv_buf_printf(&b, "%s{\"version\":\"%lld\",\"state\":\"%s\",\"status\":{\"error_code\":\"%s\",\"error_message\":",
                      found++ ? "," : "", (long long)e->version, state_name(e->state),
                      e->error ? e->error_code : "OK");
        sv_buf_json_string(&b, e->error ? e->error : "");
        sv_buf_puts(&b, "}}");
    }
    sv_buf_puts(&b, "]}");
    pthread_mutex_unlock(&sv->mu);
    if (!found) {
        free(b.data);
        *code = 404;
        if (version >= 0) snprintf(err, errlen, "Could not find version %lld of model %s", (long long)version, sv->name);
        else snprintf(err, errlen, "Could not find any versions of model %s", sv->name);
        return NULL;
    }
    if (b.oom) *code = 503, snprintf(err, errlen, "out of memory");
    return finish(&b, len);
}

/* A TensorInfo as protobuf's JSON printer writes it (always_print_primitive_fields). */
static void put_tensor_info(sv_buf *b, const sv_tensor *t) {
    sv_buf_json_string(b, t->key);
    sv_buf_puts(b, ":{\"dtype\":");
    sv_buf_json_string(b, frost_dtype_name(t->dtype));
    sv_buf_puts(b, ",\"tensor_shape\":{\"dim\":[");
    for (int d = 0; d < t->shape.rank; d++)
        sv_buf_printf(b, "%s{\"size\":\"%lld\",\"name\":\"\"}", d ? "," : "", (long long)t->shape.dims[d]);
    sv_buf_printf(b, "],\"unknown_rank\":%s},\"name\":", t->shape.rank < 0 ? "true" : "false");
    sv_buf_json_string(b, t->name);
    sv_buf_put(b, "}", 1);
}

/* frost's extras in a frozen graph's metadata: preprocessing and batching. */
static void put_frost_section(sv_buf *b, const sv_model *m) {
    sv_buf_puts(b, ",\"frost\":{");
    sv_buf_printf(b, "\"max_batch_size\":%d,\"labels\":%d", frost_model_max_batch(m->model), m->num_labels);
    if (m->image_input >= 0) {
        sv_buf_puts(b, ",\"image_input\":");
        sv_buf_json_string(b, frost_model_input_name(m->model, m->image_input));
        sv_buf_printf(b, ",\"preprocess\":{\"width\":%d,\"height\":%d,\"input_mean\":", m->pp.width, m->pp.height);
        sv_buf_float(b, m->pp.mean);
        sv_buf_puts(b, ",\"input_std\":");
        sv_buf_float(b, m->pp.std);
        sv_buf_printf(b, ",\"resize\":\"%s\"}", m->pp.resize == FROST_RESIZE_TF2             ? "tf2"
                                                : m->pp.resize == FROST_RESIZE_ALIGN_CORNERS ? "align_corners"
                                                                                             : "tf1");
    }
    sv_buf_puts(b, "}");
}

/* GetModelMetadataResponse in TF Serving's JSON: model_spec, then every
 * signature of the meta graph as protobuf's printer writes a SignatureDefMap
 * ("defaults": {} on each but __saved_model_init_op, as in TF Serving's own
 * expected files).  A frozen graph's one signature is described from the
 * compiled model, followed by a "frost" object. */
char *sv_response_metadata(const sv_version *v, size_t *len) {
    sv_buf b = {0};
    sv_buf_puts(&b, "{\"model_spec\":{\"name\":");
    sv_buf_json_string(&b, v->owner->name);
    sv_buf_printf(&b, ",\"signature_name\":\"\",\"version\":\"%lld\"},\"metadata\":{\"signature_def\":{"
                      "\"signature_def\":{", (long long)v->number);
    for (int s = 0; s < v->num_sigs; s++) {
        const sv_signature *sig = &v->sigs[s];
        if (s) sv_buf_put(&b, ",", 1);
        sv_buf_json_string(&b, sig->key);
        sv_buf_puts(&b, ":{\"inputs\":{");
        for (int i = 0; i < sig->num_inputs; i++) {
            if (i) sv_buf_put(&b, ",", 1);
            put_tensor_info(&b, &sig->inputs[i]);
        }
        sv_buf_puts(&b, "},\"outputs\":{");
        for (int j = 0; j < sig->num_outputs; j++) {
            if (j) sv_buf_put(&b, ",", 1);
            put_tensor_info(&b, &sig->outputs[j]);
        }
        sv_buf_puts(&b, "},\"method_name\":");
        sv_buf_json_string(&b, sig->method);
        if (strcmp(sig->key, "__saved_model_init_op")) sv_buf_puts(&b, ",\"defaults\":{}");
        sv_buf_put(&b, "}", 1);
    }
    sv_buf_puts(&b, "}}}");
    if (!v->sm && v->num_sigs == 1 && v->sigs[0].run) put_frost_section(&b, v->sigs[0].run);
    sv_buf_puts(&b, "}");
    return finish(&b, len);
}

char *sv_response_results_classify(int count, int classes, const float *scores, char *const *labels, size_t *len) {
    sv_buf b = {0};
    sv_buf_puts(&b, "{\"results\":[");
    for (int k = 0; k < count; k++) {
        sv_buf_puts(&b, k ? ",[" : "[");
        for (int c = 0; c < classes; c++) {
            size_t at = (size_t)k * (size_t)classes + (size_t)c;
            sv_buf_puts(&b, c ? ",[" : "[");
            sv_buf_json_string(&b, labels && labels[at] ? labels[at] : "");
            sv_buf_put(&b, ",", 1);
            if (scores) sv_buf_float(&b, scores[at]);
            else sv_buf_puts(&b, "0.0");
            sv_buf_put(&b, "]", 1);
        }
        sv_buf_put(&b, "]", 1);
    }
    sv_buf_puts(&b, "]}");
    return finish(&b, len);
}

char *sv_response_results_regress(int count, const float *values, size_t *len) {
    sv_buf b = {0};
    sv_buf_puts(&b, "{\"results\":[");
    for (int k = 0; k < count; k++) {
        if (k) sv_buf_put(&b, ",", 1);
        sv_buf_float(&b, values[k]);
    }
    sv_buf_puts(&b, "]}");
    return finish(&b, len);
}

char *sv_response_error(const char *msg, size_t *len) {
    sv_buf b = {0};
    sv_buf_puts(&b, "{\"error\":");
    sv_buf_json_string(&b, msg);
    sv_buf_puts(&b, "}");
    return finish(&b, len);
}

int sv_model_describe(sv_model *m) {
    m->num_inputs = frost_model_input_count(m->model);
    m->num_outputs = frost_model_output_count(m->model);
    if (m->num_inputs < 1 || m->num_inputs > SERVE_MAX_IO || m->num_outputs < 1 || m->num_outputs > SERVE_MAX_IO)
        return -1;
    m->num_string_inputs = 0;
    for (int i = 0; i < m->num_inputs; i++) {
        frost_model_input_shape(m->model, i, &m->in_shape[i]);
        m->in_size[i] = frost_model_input_size(m->model, i);
        m->in_string[i] = frost_model_input_dtype(m->model, i) == FROST_DTYPE_STRING;
        m->num_string_inputs += m->in_string[i];
    }
    frost_image_spec spec; /* the input that takes images, if any */
    m->image_input = -1;
    if (frost_model_image_spec(m->model, &spec, NULL) == FROST_OK) {
        m->image_input = spec.input;
        m->pp.height = spec.height;
        m->pp.width = spec.width;
    }
    for (int j = 0; j < m->num_outputs; j++) {
        frost_model_output_shape(m->model, j, &m->out_shape[j]);
        m->out_size[j] = frost_model_output_size(m->model, j);
    }
    return 0;
}

