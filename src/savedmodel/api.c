/* The public SavedModel API (include/frost.h, "SavedModels") and the
 * SavedModel path of frost_graph_load(). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "savedmodel/savedmodel.h"

const char *frost_dtype_name(int dtype) {
    switch (dtype) {
    case FROST_DTYPE_FLOAT: return "DT_FLOAT";
    case FROST_DTYPE_DOUBLE: return "DT_DOUBLE";
    case FROST_DTYPE_INT32: return "DT_INT32";
    case FROST_DTYPE_UINT8: return "DT_UINT8";
    case FROST_DTYPE_INT16: return "DT_INT16";
    case FROST_DTYPE_INT8: return "DT_INT8";
    case FROST_DTYPE_STRING: return "DT_STRING";
    case 8: return "DT_COMPLEX64";
    case FROST_DTYPE_INT64: return "DT_INT64";
    case FROST_DTYPE_BOOL: return "DT_BOOL";
    case 14: return "DT_BFLOAT16";
    case FROST_DTYPE_UINT16: return "DT_UINT16";
    case 18: return "DT_COMPLEX128";
    case FROST_DTYPE_HALF: return "DT_HALF";
    case 20: return "DT_RESOURCE";
    case 21: return "DT_VARIANT";
    case 22: return "DT_UINT32";
    case 23: return "DT_UINT64";
    default: return "DT_INVALID";
    }
}

static const fr_sm_meta_graph *mg_at(const frost_savedmodel *sm, int *m) {
    if (!sm) return NULL;
    if (*m < 0) *m = frost_savedmodel_find_meta_graph(sm, NULL, 0);
    return *m >= 0 && *m < sm->n_meta_graphs ? &sm->mg[*m] : NULL;
}

static const fr_sm_signature *sig_at(const frost_savedmodel *sm, int m, int s) {
    const fr_sm_meta_graph *mg = mg_at(sm, &m);
    return mg && s >= 0 && s < mg->n_signatures ? &mg->signatures[s] : NULL;
}

int frost_savedmodel_meta_graph_count(const frost_savedmodel *sm) { return sm ? sm->n_meta_graphs : 0; }

int frost_savedmodel_tag_count(const frost_savedmodel *sm, int m) {
    const fr_sm_meta_graph *mg = mg_at(sm, &m);
    return mg ? mg->n_tags : 0;
}

const char *frost_savedmodel_tag(const frost_savedmodel *sm, int m, int i) {
    const fr_sm_meta_graph *mg = mg_at(sm, &m);
    return mg && i >= 0 && i < mg->n_tags ? mg->tags[i] : NULL;
}

int frost_savedmodel_signature_count(const frost_savedmodel *sm, int m) {
    const fr_sm_meta_graph *mg = mg_at(sm, &m);
    return mg ? mg->n_signatures : 0;
}

const char *frost_savedmodel_signature_key(const frost_savedmodel *sm, int m, int s) {
    const fr_sm_signature *sig = sig_at(sm, m, s);
    return sig ? sig->key : NULL;
}

const char *frost_savedmodel_signature_method(const frost_savedmodel *sm, int m, int s) {
    const fr_sm_signature *sig = sig_at(sm, m, s);
    return sig ? sig->method : NULL;
}

int frost_savedmodel_signature_input_count(const frost_savedmodel *sm, int m, int s) {
    const fr_sm_signature *sig = sig_at(sm, m, s);
    return sig ? sig->n_inputs : 0;
}

int frost_savedmodel_signature_output_count(const frost_savedmodel *sm, int m, int s) {
    const fr_sm_signature *sig = sig_at(sm, m, s);
    return sig ? sig->n_outputs : 0;
}

static frost_status tensor_info(const fr_sm_tensor *t, frost_tensor_info *out) {
    memset(out, 0, sizeof *out);
    out->key = t->key;
    out->name = t->name;
    out->dtype = t->dtype;
    out->shape.rank = t->shape.rank;
    for (int i = 0; i < t->shape.rank && i < FROST_MAX_RANK; i++) out->shape.dims[i] = t->shape.dims[i];
    return FROST_OK;
}

frost_status frost_savedmodel_signature_input(const frost_savedmodel *sm, int m, int s, int i, frost_tensor_info *out) {
    const fr_sm_signature *sig = sig_at(sm, m, s);
    if (!sig || !out || i < 0 || i >= sig->n_inputs) return FROST_E_INVALID_ARGUMENT;
    return tensor_info(&sig->inputs[i], out);
}

frost_status frost_savedmodel_signature_output(const frost_savedmodel *sm, int m, int s, int i, frost_tensor_info *out) {
    const fr_sm_signature *sig = sig_at(sm, m, s);
    if (!sig || !out || i < 0 || i >= sig->n_outputs) return FROST_E_INVALID_ARGUMENT;
    return tensor_info(&sig->outputs[i], out);
}

/* Loads the frozen GraphDef as a frost_graph that owns its bytes; messages
 * name the SavedModel and signature instead of "<memory>". */
static frost_status graph_from_frozen(fr_sm_frozen *f, frost_graph **out, char **err) {
    char *e2 = NULL;
    frost_graph *g = NULL;
    frost_status st = frost_graph_load_memory(f->data, f->size, 0, &g, &e2);
    if (st != FROST_OK) {
        const char *msg = e2 ? e2 : frost_strerror(st);
        if (!strncmp(msg, "<memory>", 8)) msg += 8;
        fr_errorf(err, "%s%s%s", f->description, *msg == ':' ? "" : ": ", msg);
        free(e2);
        return st;
    }
    char *src = strdup(f->description);
    if (!src) {
        frost_graph_free(g);
        fr_errorf(err, "%s: out of memory", f->description);
        return FROST_E_NO_MEMORY;
    }
    free(g->source);
    g->source = src;
    g->copy = f->data; /* the graph owns the GraphDef bytes now */
    f->data = NULL;
    if (g->n_placeholders != f->n_inputs || g->n_sinks != f->n_outputs) {
        fr_errorf(err, "%s: the frozen graph has %d placeholders and %d sinks for %d inputs and %d outputs (a bug)",
                  f->description, g->n_placeholders, g->n_sinks, f->n_inputs, f->n_outputs);
        frost_graph_free(g);
        return FROST_E_INTERNAL;
    }
    *out = g;
    return FROST_OK;
}

frost_status frost_savedmodel_graph(const frost_savedmodel *sm, int m, int s, frost_graph **out, char **err) {
    if (err) *err = NULL;
    if (!out) return FROST_E_INVALID_ARGUMENT;
    *out = NULL;
    if (!sm) {
        fr_errorf(err, "frost_savedmodel_graph: the SavedModel is NULL");
        return FROST_E_INVALID_ARGUMENT;
    }
    if (m < 0 && (m = fr_sm_default_meta_graph(sm, err)) < 0) return FROST_E_NOT_FOUND;
    if (m >= sm->n_meta_graphs) {
        fr_errorf(err, "%s: no meta graph %d (it has %d)", sm->source, m, sm->n_meta_graphs);
        return FROST_E_INVALID_ARGUMENT;
    }
    if (s < 0 && (s = fr_sm_default_signature(sm, m, err)) < 0) return FROST_E_NOT_FOUND;
    if (s >= sm->mg[m].n_signatures) {
        fr_errorf(err, "%s: no signature %d (the meta graph has %d)", sm->source, s, sm->mg[m].n_signatures);
        return FROST_E_INVALID_ARGUMENT;
    }
    fr_sm_frozen f;
    frost_status st = fr_sm_freeze(sm, m, s, &f, err);
    if (st != FROST_OK) return st;
    st = graph_from_frozen(&f, out, err);
    fr_sm_frozen_free(&f);
    return st;
}

frost_status fr_sm_graph_load(const char *path, frost_graph **out, char **err) {
    frost_savedmodel *sm = NULL;
    frost_status st = frost_savedmodel_open(path, &sm, err);
    if (st == FROST_OK) st = frost_savedmodel_graph(sm, -1, -1, out, err);
    frost_savedmodel_free(sm);
    return st;
}
