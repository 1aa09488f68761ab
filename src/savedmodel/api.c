/* The public SavedModel API (include/frost.h, "SavedModels") and the
 * SavedModel path of frost_graph_load(). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "savedmodel/check.h"
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
    out->is_ref = t->is_ref;
    out->has_shape = t->has_shape;
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

static void release_bundle(void *b) { fr_bundle_free(b); }

/* Gives g the contents of the variables the freezing left in the bundle,
 * and a reference on the bundle that holds them. */
static frost_status attach_external(frost_graph *g, fr_sm_frozen *f, char **err) {
    if (!f->n_ext) return FROST_OK;
    g->ext_content = calloc((size_t)g->n_nodes, sizeof *g->ext_content);
    g->ext_len = calloc((size_t)g->n_nodes, sizeof *g->ext_len);
    if (!g->ext_content || !g->ext_len) {
        fr_errorf(err, "%s: out of memory", f->description);
        return FROST_E_NO_MEMORY;
    }
    for (int i = 0; i < f->n_ext; i++) {
        int node = fr_graph_find(g, f->ext_name[i], strlen(f->ext_name[i]));
        if (node < 0 || strcmp(g->nodes[node].op, "Const")) {
            fr_errorf(err, "%s: the variable '%s' is not a Const of the frozen graph (a bug)", f->description,
                      f->ext_name[i]);
            return FROST_E_INTERNAL;
        }
        const fr_bundle_entry *e = f->ext_entry[i];
        g->ext_content[node] = f->bundle->shard[e->shard] + e->offset;
        g->ext_len[node] = (size_t)e->size;
        g->ext_bytes += (size_t)e->size;
    }
    g->n_ext_maps = f->bundle->num_shards;
    g->ext_maps = f->bundle->map;
    g->ext_map_lens = f->bundle->shard_len;
    g->keep = f->bundle;
    g->keep_free = release_bundle;
    f->bundle = NULL;
    /* their CRC-32C, which the freezing left to the graph: while it compiles */
    return fr_sm_check_start(f->description, g->keep, f->ext_entry, f->n_ext, g, err);
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
    if ((st = attach_external(g, f, err)) != FROST_OK) {
        frost_graph_free(g);
        return st;
    }
    if (g->n_placeholders != f->n_inputs || g->n_sinks != f->n_outputs) {
        fr_errorf(err, "%s: the frozen graph has %d placeholders and %d sinks for %d inputs and %d outputs (a bug)",
                  f->description, g->n_placeholders, g->n_sinks, f->n_inputs, f->n_outputs);
        frost_graph_free(g);
        return FROST_E_INTERNAL;
    }
    *out = g;
    return FROST_OK;
}

/* The meta graph and signature indices of frost_savedmodel_graph() and
 * frost_savedmodel_freeze(): -1 picks the default; FROST_OK or an error. */
static frost_status resolve(const frost_savedmodel *sm, const char *fn, int *m, int *s, char **err) {
    if (!sm) {
        fr_errorf(err, "%s: the SavedModel is NULL", fn);
        return FROST_E_INVALID_ARGUMENT;
    }
    if (*m < 0 && (*m = fr_sm_default_meta_graph(sm, err)) < 0) return FROST_E_NOT_FOUND;
    if (*m >= sm->n_meta_graphs) {
        fr_errorf(err, "%s: no meta graph %d (it has %d)", sm->source, *m, sm->n_meta_graphs);
        return FROST_E_INVALID_ARGUMENT;
    }
    if (*s < 0 && (*s = fr_sm_default_signature(sm, *m, err)) < 0) return FROST_E_NOT_FOUND;
    if (*s >= sm->mg[*m].n_signatures) {
        fr_errorf(err, "%s: no signature %d (the meta graph has %d)", sm->source, *s, sm->mg[*m].n_signatures);
        return FROST_E_INVALID_ARGUMENT;
    }
    return FROST_OK;
}

frost_status frost_savedmodel_graph(const frost_savedmodel *sm, int m, int s, frost_graph **out, char **err) {
    if (err) *err = NULL;
    if (!out) return FROST_E_INVALID_ARGUMENT;
    *out = NULL;
    frost_status st = resolve(sm, "frost_savedmodel_graph", &m, &s, err);
    if (st != FROST_OK) return st;
    fr_sm_frozen f;
    if ((st = fr_sm_freeze(sm, m, s, FR_SM_FREEZE_EXTERNAL, &f, err)) != FROST_OK) return st;
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

/* Appends "{a, b}" (one tag set as written) to the buffer `b` of `cap` bytes at *o. */
static void put_tag_set(char *b, size_t cap, size_t *o, const char *const *tags, int n) {
    *o += (size_t)snprintf(b + *o, *o < cap ? cap - *o : 0, "{");
    for (int t = 0; t < n; t++)
        *o += (size_t)snprintf(b + *o, *o < cap ? cap - *o : 0, "%s%s", t ? ", " : "", tags[t] ? tags[t] : "");
    *o += (size_t)snprintf(b + *o, *o < cap ? cap - *o : 0, "}");
}

int fr_sm_meta_graph_of(const frost_savedmodel *sm, const char *const *tags, int n_tags, char **err) {
    static const char *const serve[] = {"serve"};
    int m = frost_savedmodel_find_meta_graph(sm, tags, n_tags);
    if (m >= 0) return m;
    if (!tags) tags = serve, n_tags = 1;
    size_t cap = 256;
    for (int t = 0; t < n_tags; t++) cap += strlen(tags[t] ? tags[t] : "") + 4;
    for (int i = 0; i < sm->n_meta_graphs; i++)
        for (int t = 0; t < sm->mg[i].n_tags; t++) cap += strlen(sm->mg[i].tags[t]) + 4;
    char *want = malloc(cap), *have = malloc(cap);
    if (want) want[0] = '\0';
    if (have) have[0] = '\0';
    if (want && have) {
        size_t o = 0, h = 0;
        put_tag_set(want, cap, &o, tags, n_tags);
        for (int i = 0; i < sm->n_meta_graphs; i++) {
            h += (size_t)snprintf(have + h, h < cap ? cap - h : 0, "%s", i ? ", " : "");
            put_tag_set(have, cap, &h, sm->mg[i].tags, sm->mg[i].n_tags);
        }
    }
    fr_errorf(err, "%s: no meta graph is tagged exactly %s (its tag sets: %s)", sm->source, want && *want ? want : "?",
              have && *have ? have : "none");
    free(want);
    free(have);
    return -1;
}

int fr_sm_signature_of(const frost_savedmodel *sm, int m, const char *key, char **err) {
    int s = frost_savedmodel_find_signature(sm, m, key);
    if (s >= 0) return s;
    const fr_sm_meta_graph *mg = &sm->mg[m];
    size_t len = 256;
    for (int i = 0; i < mg->n_signatures; i++) len += strlen(mg->signatures[i].key) + 4;
    char *list = malloc(len);
    if (list) {
        size_t o = 0;
        list[0] = 0;
        for (int i = 0; i < mg->n_signatures; i++)
            o += (size_t)snprintf(list + o, len - o, "%s'%s'", i ? ", " : "", mg->signatures[i].key);
    }
    if (key)
        fr_errorf(err, "%s: no signature '%s'; choose one of: %s", sm->source, key, list && *list ? list : "(none)");
    else
        fr_errorf(err, "%s: no 'serving_default' signature; choose one of: %s", sm->source,
                  list && *list ? list : "(none)");
    free(list);
    return -1;
}

frost_status frost_savedmodel_freeze(const frost_savedmodel *sm, int m, int s, void **data_out, size_t *size_out,
                                     char **err) {
    if (err) *err = NULL;
    if (!data_out || !size_out) return FROST_E_INVALID_ARGUMENT;
    *data_out = NULL;
    *size_out = 0;
    frost_status st = resolve(sm, "frost_savedmodel_freeze", &m, &s, err);
    if (st != FROST_OK) return st;
    fr_sm_frozen f;
    if ((st = fr_sm_freeze(sm, m, s, 0, &f, err)) != FROST_OK) return st;
    *data_out = f.data; /* the caller's now */
    *size_out = f.size;
    f.data = NULL;
    fr_sm_frozen_free(&f);
    return FROST_OK;
}

int frost_path_is_savedmodel(const char *path) { return fr_sm_is_savedmodel_path(path); }

frost_status frost_savedmodel_select(const frost_savedmodel *sm, const char *const *tags, int n_tags, const char *key,
                                     int *m_out, int *s_out, char **err) {
    if (err) *err = NULL;
    if (m_out) *m_out = -1;
    if (s_out) *s_out = -1;
    if (!sm || !m_out || !s_out || n_tags < 0 || (tags && n_tags == 0)) {
        fr_errorf(err, "frost_savedmodel_select: %s", !sm || !m_out || !s_out ? "a NULL argument" : "no tags");
        return FROST_E_INVALID_ARGUMENT;
    }
    int m = fr_sm_meta_graph_of(sm, tags, n_tags, err);
    if (m < 0) return FROST_E_NOT_FOUND;
    int s = fr_sm_signature_of(sm, m, key, err);
    if (s < 0) return FROST_E_NOT_FOUND;
    *m_out = m;
    *s_out = s;
    return FROST_OK;
}

frost_status frost_graph_load_signature(const char *path, const char *const *tags, int n_tags, const char *signature,
                                        frost_graph **out, char **err) {
    if (err) *err = NULL;
    if (!out) return FROST_E_INVALID_ARGUMENT;
    *out = NULL;
    if (!path) {
        fr_errorf(err, "frost_graph_load_signature: path is NULL");
        return FROST_E_INVALID_ARGUMENT;
    }
    if (!fr_sm_is_savedmodel_path(path)) {
        if (!tags && !signature) return frost_graph_load(path, out, err);
        fr_errorf(err, "%s: a frozen GraphDef has no %s: only a SavedModel (a directory) has", path,
                  signature ? "signatures" : "tag sets");
        return FROST_E_INVALID_ARGUMENT;
    }
    frost_savedmodel *sm = NULL;
    frost_status st = frost_savedmodel_open(path, &sm, err);
    if (st != FROST_OK) return st;
    int m, s;
    if ((st = frost_savedmodel_select(sm, tags, n_tags, signature, &m, &s, err)) == FROST_OK)
        st = frost_savedmodel_graph(sm, m, s, out, err);
    frost_savedmodel_free(sm);
    return st;
}
