/* frost serve: served models, their versions and signatures.
 *
 * A version is a frozen graph (one signature, "serving_default", compiled
 * on loading) or a SavedModel directory: every signature of its {serve} meta
 * graph is listed (for the metadata), the default one is compiled on
 * loading, the others on their first request (a Keras export holds the same
 * network as "serve" and "serving_default": compiling both up front would
 * double the load time and the weights in memory).  A signature frost cannot
 * run (a variable assignment, an op frost lacks) keeps the
 * library's message and answers it to every request that names it; a
 * version none of whose signatures runs fails to load.
 *
 * Versions are reference counted: the servable's live list holds one
 * reference and each request one more, taken under the servable's mutex, so
 * that unloading (serve_poll.c) only moves a version to the retired list;
 * it is freed once its last request has been answered. */
#include <errno.h>
#include <libgen.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/labels.h"
#include "serve.h"

void sv_model_opts_init(sv_model_opts *o) {
    memset(o, 0, sizeof *o);
    o->pp.mean = 0.0f;
    o->pp.std = 255.0f;
    o->pp.resize = FROST_RESIZE_TF1;
    o->top_k = 5;
}

sv_servable *sv_server_find(sv_server *s, const char *name, size_t len) {
    for (int i = 0; i < s->num_models; i++)
        if (!s->models[i].removed && strlen(s->models[i].name) == len && !memcmp(s->models[i].name, name, len))
            return &s->models[i];
    return NULL;
}

/* ---- runners ---------------------------------------------------------------------- */

/* The server's log says which tuning record a model compiled with, or why not. */
static void tune_note(const sv_servable *sv, const frost_model *m) {
    const char *note = frost_model_tune_note(m);
    if (note[0]) fprintf(stderr, "frost serve: model %s: %s\n", sv->name, note);
}

/* The batch threads of a model compiled with options o: --num_batch_threads,
 * else the tuning record's thread split W.  For W > 1, o->threads becomes
 * threads / W and the model must be compiled again with it (*again). */
static int batch_threads(const sv_server *srv, const sv_servable *sv, const frost_model *fm, frost_options *o, int *again) {
    *again = 0;
    if (srv->batch.num_batch_threads > 0) return srv->batch.num_batch_threads;
    int each = 0, w = frost_model_thread_split(fm, &each);
    if (w > 1) {
        fprintf(stderr, "frost serve: model %s: %d batch threads of %d compute thread(s) (the tuning record's thread split)\n",
                sv->name, w, each);
        o->threads = each;
        *again = 1;
    }
    return w;
}

static void runner_free(sv_model *m) {
    if (!m) return;
    sv_batcher_stop(&m->batcher);
    frost_model_free(m->model);
    free(m->name);
    free(m->sig_key);
    for (int i = 0; i < SERVE_MAX_IO; i++) free(m->in_key[i]), free(m->out_key[i]);
    free(m->decode_stats);
    free(m);
}

/* A runner around a compiled model: io shapes, the image input, the batcher.
 * in_keys / out_keys: the names in JSON (NULL: the model's tensor names).
 * On failure the runner (and the model) are freed. */
static sv_model *runner_new(sv_server *srv, sv_servable *sv, int64_t version, const char *sig_key, frost_model *fm,
                            int contexts, const sv_tensor *ins, const sv_tensor *outs, char *err, size_t errlen) {
    sv_model *m = calloc(1, sizeof *m);
    if (!m) {
        frost_model_free(fm);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    m->model = fm;
    m->name = strdup(sv->name);
    m->sig_key = strdup(sig_key);
    m->version = version;
    m->savedmodel = ins != NULL;
    m->labels = sv->opts.labels;
    m->num_labels = sv->opts.num_labels;
    m->pp = sv->opts.pp;
    m->top_k = sv->opts.top_k;
    m->fast_decode = sv->opts.fast_decode;
    m->image_input = -1;
    m->decode_stats = calloc(1, sizeof *m->decode_stats);
    if (!m->name || !m->sig_key || !m->decode_stats) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    if (sv_model_describe(m) != 0) {
        snprintf(err, errlen, "%d inputs and %d outputs; frost serve handles 1 to %d of each",
                 frost_model_input_count(fm), frost_model_output_count(fm), SERVE_MAX_IO);
        goto fail;
    }
    for (int i = 0; i < m->num_inputs; i++) {
        m->in_key[i] = strdup(ins ? ins[i].key : frost_model_input_name(fm, i));
        for (int d = 1; d < m->in_shape[i].rank; d++)
            if (m->in_shape[i].dims[d] < 1) {
                snprintf(err, errlen, "input '%s' has an unknown size; give input_width/input_height",
                         frost_model_input_name(fm, i));
                goto fail;
            }
    }
    for (int j = 0; j < m->num_outputs; j++) {
        m->out_key[j] = strdup(outs ? outs[j].key : frost_model_output_name(fm, j));
        m->out_dtype[j] = outs ? outs[j].dtype : FROST_DTYPE_FLOAT;
    }
    for (int i = 0; i < m->num_inputs; i++)
        if (!m->in_key[i]) goto oom;
    for (int j = 0; j < m->num_outputs; j++)
        if (!m->out_key[j]) goto oom;
    char msg[512];
    sv_batch_config bc = srv->batch;
    bc.num_batch_threads = contexts;
    if (sv_batcher_start(m, &bc, msg, sizeof msg)) {
        snprintf(err, errlen, "%s", msg);
        goto fail;
    }
    return m;
oom:
    snprintf(err, errlen, "out of memory");
fail:
    runner_free(m);
    return NULL;
}

/* The frozen graph's node of a signature tensor: "x:0" -> "x", "n:2" -> "n_2"
 * (how the library names the Placeholders and outputs it writes). */
static char *node_of(const char *tensor) {
    const char *c = strrchr(tensor, ':');
    char *out = malloc(strlen(tensor) + 2);
    if (!out) return NULL;
    if (!c) strcpy(out, tensor);
    else if (!strcmp(c, ":0")) snprintf(out, strlen(tensor) + 2, "%.*s", (int)(c - tensor), tensor);
    else snprintf(out, strlen(tensor) + 2, "%.*s_%s", (int)(c - tensor), tensor, c + 1);
    return out;
}

static const char *code_name(frost_status st) {
    switch (st) {
    case FROST_E_IO: return "NOT_FOUND";
    case FROST_E_PARSE: return "DATA_LOSS";
    case FROST_E_UNSUPPORTED_OP: return "UNIMPLEMENTED";
    case FROST_E_NO_MEMORY:
    case FROST_E_LIMIT: return "RESOURCE_EXHAUSTED";
    case FROST_E_INTERNAL: return "INTERNAL";
    default: return "INVALID_ARGUMENT";
    }
}

/* Compile signature s of a SavedModel version.  Under v->mu (or before the version is shared). */
static void compile_sig(sv_server *srv, sv_version *v, int s) {
    sv_signature *sig = &v->sigs[s];
    char err[1024];
    int code = 501;
    err[0] = '\0';
    frost_graph *g = NULL;
    frost_model *fm = NULL;
    char *msg = NULL;
    const char *in_names[SERVE_MAX_IO], *out_names[SERVE_MAX_IO];
    char *names[2 * SERVE_MAX_IO] = {0};
    int contexts = 1;
    if (sig->num_inputs > SERVE_MAX_IO || sig->num_outputs > SERVE_MAX_IO || sig->num_outputs == 0) {
        snprintf(err, sizeof err, "signature '%s' has %d inputs and %d outputs; frost serve handles 1 to %d of each",
                 sig->key, sig->num_inputs, sig->num_outputs, SERVE_MAX_IO);
    } else {
        /* the library's verdict first: a state-changing signature is refused for that, inputs or not */
        frost_status st = frost_savedmodel_graph(v->sm, -1, s, &g, &msg);
        if (st != FROST_OK) {
            code = st == FROST_E_UNSUPPORTED_OP || st == FROST_E_INVALID_ARGUMENT ? 501 : 500;
            snprintf(err, sizeof err, "%s", msg ? msg : frost_strerror(st));
        } else if (sig->num_inputs == 0) {
            code = 400; /* TF Serving's answer to a signature without inputs */
            snprintf(err, sizeof err, "Failed to get input map for signature: %s (it has no inputs)", sig->key);
        }
        for (int i = 0; !err[0] && i < sig->num_inputs; i++)
            if (sig->inputs[i].dtype != FROST_DTYPE_FLOAT && sig->inputs[i].dtype != FROST_DTYPE_STRING)
                snprintf(err, sizeof err, "signature '%s': input '%s' is %s; frost serve feeds DT_FLOAT and DT_STRING "
                         "inputs", sig->key, sig->inputs[i].key, frost_dtype_name(sig->inputs[i].dtype));
        for (int i = 0; !err[0] && i < sig->num_inputs + sig->num_outputs; i++) {
            const sv_tensor *t = i < sig->num_inputs ? &sig->inputs[i] : &sig->outputs[i - sig->num_inputs];
            if (!(names[i] = node_of(t->name))) snprintf(err, sizeof err, "out of memory");
            else if (i < sig->num_inputs) in_names[i] = names[i];
            else out_names[i - sig->num_inputs] = names[i];
        }
        if (!err[0]) {
            frost_options o = srv->compile;
            o.inputs = in_names;
            o.num_inputs = sig->num_inputs;
            o.outputs = out_names;
            o.num_outputs = sig->num_outputs;
            const sv_model_opts *mo = &v->owner->opts;
            frost_shape shape = {4, {-1, mo->height, mo->width, 3}};
            if (mo->width && mo->height && sig->num_inputs == 1) o.input_shapes = &shape;
            frost_free(msg);
            msg = NULL;
            st = frost_model_compile(g, &o, &fm, &msg);
            int again = 0;
            if (st == FROST_OK) tune_note(v->owner, fm), contexts = batch_threads(srv, v->owner, fm, &o, &again);
            if (again) { /* on threads / contexts threads each */
                frost_model_free(fm);
                fm = NULL;
                st = frost_model_compile(g, &o, &fm, &msg);
                if (st == FROST_OK) tune_note(v->owner, fm);
            }
            if (st != FROST_OK) {
                code = st == FROST_E_UNSUPPORTED_OP ? 501 : 500;
                snprintf(err, sizeof err, "signature '%s': %s", sig->key, msg ? msg : frost_strerror(st));
            }
        }
    }
    frost_graph_free(g);
    frost_free(msg);
    for (int i = 0; i < 2 * SERVE_MAX_IO; i++) free(names[i]);
    if (!err[0]) {
        char rerr[512];
        sig->run = runner_new(srv, v->owner, v->number, sig->key, fm, contexts, sig->inputs, sig->outputs, rerr,
                              sizeof rerr);
        if (!sig->run) {
            code = 500;
            snprintf(err, sizeof err, "signature '%s': %s", sig->key, rerr);
        }
    }
    if (sig->run) {
        sig->state = SV_SIG_READY;
        return;
    }
    sig->state = SV_SIG_FAILED;
    sig->error_code = code;
    sig->error = strdup(err);
}

/* ---- versions ----------------------------------------------------------------------- */

static void tensors_free(sv_tensor *t, int n) {
    for (int i = 0; t && i < n; i++) free(t[i].key), free(t[i].name);
    free(t);
}

void sv_version_free(sv_version *v) {
    if (!v) return;
    for (int s = 0; s < v->num_sigs; s++) {
        sv_signature *sig = &v->sigs[s];
        runner_free(sig->run);
        free(sig->key);
        free(sig->method);
        free(sig->error);
        tensors_free(sig->inputs, sig->num_inputs);
        tensors_free(sig->outputs, sig->num_outputs);
    }
    free(v->sigs);
    frost_savedmodel_free(v->sm);
    pthread_mutex_destroy(&v->mu);
    free(v->path);
    free(v);
}

static sv_version *version_new(sv_servable *sv, int64_t number, const char *path, int nsigs) {
    sv_version *v = calloc(1, sizeof *v);
    if (!v) return NULL;
    v->owner = sv;
    v->number = number;
    v->default_sig = -1;
    pthread_mutex_init(&v->mu, NULL);
    atomic_init(&v->refs, 1);
    v->path = strdup(path);
    v->sigs = calloc((size_t)(nsigs > 0 ? nsigs : 1), sizeof *v->sigs);
    v->num_sigs = nsigs;
    if (!v->path || !v->sigs) {
        v->num_sigs = 0;
        sv_version_free(v);
        return NULL;
    }
    return v;
}

/* The frozen graph at `path`: version 1, one signature described from the compiled model. */
static sv_version *load_frozen(sv_server *srv, sv_servable *sv, const char *path, char *err, size_t errlen,
                               const char **err_code) {
    frost_options o = srv->compile;
    const sv_model_opts *mo = &sv->opts;
    const char *in_names[1] = {mo->input_name}, *out_names[1] = {mo->output_name};
    if (mo->input_name) o.inputs = in_names, o.num_inputs = 1;
    if (mo->output_name) o.outputs = out_names, o.num_outputs = 1;
    frost_shape shape = {4, {-1, mo->height, mo->width, 3}};
    if (mo->width && mo->height) o.input_shapes = &shape;
    frost_model *fm = NULL;
    char *msg = NULL;
    frost_status st = frost_model_load(path, &o, &fm, &msg);
    int again = 0, contexts = 1;
    if (st == FROST_OK) tune_note(sv, fm), contexts = batch_threads(srv, sv, fm, &o, &again);
    if (again) { /* on threads / contexts threads each */
        frost_model_free(fm);
        fm = NULL;
        st = frost_model_load(path, &o, &fm, &msg);
        if (st == FROST_OK) tune_note(sv, fm);
    }
    if (st != FROST_OK) {
        snprintf(err, errlen, "%s", msg ? msg : frost_strerror(st));
        frost_free(msg);
        *err_code = code_name(st);
        return NULL;
    }
    *err_code = "INVALID_ARGUMENT";
    sv_version *v = version_new(sv, 1, path, 1);
    if (!v) {
        frost_model_free(fm);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    sv_signature *sig = &v->sigs[0];
    v->default_sig = 0;
    sig->key = strdup("serving_default");
    sig->method = strdup("tensorflow/serving/predict");
    if (!(sig->run = runner_new(srv, sv, 1, "serving_default", fm, contexts, NULL, NULL, err, errlen)) || !sig->key ||
        !sig->method) {
        if (sig->run && (!sig->key || !sig->method)) snprintf(err, errlen, "out of memory");
        sv_version_free(v);
        return NULL;
    }
    sig->state = SV_SIG_READY;
    sv_model *m = sig->run;
    sig->inputs = calloc((size_t)m->num_inputs, sizeof *sig->inputs);
    sig->outputs = calloc((size_t)m->num_outputs, sizeof *sig->outputs);
    if (!sig->inputs || !sig->outputs) goto oom;
    sig->num_inputs = m->num_inputs;
    sig->num_outputs = m->num_outputs;
    for (int i = 0; i < m->num_inputs + m->num_outputs; i++) {
        int out = i >= m->num_inputs, k = out ? i - m->num_inputs : i;
        sv_tensor *t = out ? &sig->outputs[k] : &sig->inputs[k];
        const char *name = out ? frost_model_output_name(m->model, k) : frost_model_input_name(m->model, k);
        size_t nl = strlen(name);
        t->dtype = FROST_DTYPE_FLOAT;
        t->shape = out ? m->out_shape[k] : m->in_shape[k];
        t->shape.dims[0] = -1;
        /* key: the tensor name without ":0"; name: with it */
        t->key = strdup(name);
        t->name = malloc(nl + 3);
        if (!t->key || !t->name) goto oom;
        if (nl > 2 && !strcmp(t->key + nl - 2, ":0")) t->key[nl - 2] = '\0';
        snprintf(t->name, nl + 3, strchr(name, ':') ? "%s" : "%s:0", name);
    }
    return v;
oom:
    snprintf(err, errlen, "out of memory");
    sv_version_free(v);
    return NULL;
}

static int copy_tensors(const frost_savedmodel *sm, int s, int out, sv_tensor **dst, int *n) {
    int count = out ? frost_savedmodel_signature_output_count(sm, -1, s)
                    : frost_savedmodel_signature_input_count(sm, -1, s);
    *n = 0;
    *dst = calloc((size_t)(count > 0 ? count : 1), sizeof **dst);
    if (!*dst) return -1;
    for (int i = 0; i < count; i++) {
        frost_tensor_info t;
        if ((out ? frost_savedmodel_signature_output : frost_savedmodel_signature_input)(sm, -1, s, i, &t) != FROST_OK)
            return -1;
        sv_tensor *d = &(*dst)[(*n)++];
        d->key = strdup(t.key);
        d->name = strdup(t.name);
        d->dtype = t.dtype;
        d->shape = t.shape;
        if (!d->key || !d->name) return -1;
    }
    return 0;
}

static sv_version *load_savedmodel(sv_server *srv, sv_servable *sv, int64_t number, const char *path, char *err,
                                   size_t errlen, const char **err_code) {
    frost_savedmodel *sm = NULL;
    char *msg = NULL;
    frost_status st = frost_savedmodel_open(path, &sm, &msg);
    if (st != FROST_OK) {
        snprintf(err, errlen, "%s", msg ? msg : frost_strerror(st));
        frost_free(msg);
        *err_code = code_name(st);
        return NULL;
    }
    *err_code = "NOT_FOUND";
    if (frost_savedmodel_find_meta_graph(sm, NULL, 0) < 0) {
        snprintf(err, errlen, "%s: no meta graph tagged exactly {serve}", path);
        frost_savedmodel_free(sm);
        return NULL;
    }
    int nsig = frost_savedmodel_signature_count(sm, -1);
    sv_version *v = version_new(sv, number, path, nsig);
    if (!v) {
        frost_savedmodel_free(sm);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    v->sm = sm;
    for (int s = 0; s < nsig; s++) {
        sv_signature *sig = &v->sigs[s];
        sig->key = strdup(frost_savedmodel_signature_key(sm, -1, s));
        sig->method = strdup(frost_savedmodel_signature_method(sm, -1, s));
        if (!sig->key || !sig->method || copy_tensors(sm, s, 0, &sig->inputs, &sig->num_inputs) ||
            copy_tensors(sm, s, 1, &sig->outputs, &sig->num_outputs)) {
            snprintf(err, errlen, "out of memory");
            sv_version_free(v);
            return NULL;
        }
    }
    /* The default signature now; without one (or when it cannot run), the first that runs. */
    v->default_sig = frost_savedmodel_find_signature(sm, -1, NULL);
    if (v->default_sig >= 0) compile_sig(srv, v, v->default_sig);
    for (int s = 0; s < nsig && !(v->default_sig >= 0 && v->sigs[v->default_sig].run); s++)
        if (v->sigs[s].state == SV_SIG_UNTRIED && strcmp(v->sigs[s].key, "__saved_model_init_op"))
            compile_sig(srv, v, s);
    int ready = 0, records = 0;
    for (int s = 0; s < nsig; s++) ready += v->sigs[s].state == SV_SIG_READY;
    if (ready && srv->warmup_iterations > 0) {
        double t0 = sv_now();
        if (sv_warmup_version(srv, v, srv->warmup_iterations, &records, err, errlen, err_code)) {
            sv_version_free(v);
            return NULL;
        }
        if (records)
            fprintf(stderr, "frost serve: model %s: version %lld: %d warm-up record%s run in %.2f s\n", sv->name,
                    (long long)number, records, records == 1 ? "" : "s", sv_now() - t0);
    }
    if (ready) return v;
    /* nothing runs: say why for each signature */
    size_t o = (size_t)snprintf(err, errlen, "%s: no signature frost can serve", path);
    for (int s = 0; s < nsig && o < errlen; s++)
        if (v->sigs[s].error)
            o += (size_t)snprintf(err + o, errlen - o, "; %s", v->sigs[s].error);
    *err_code = "UNIMPLEMENTED";
    sv_version_free(v);
    return NULL;
}

sv_version *sv_version_load(sv_server *srv, sv_servable *sv, int64_t number, const char *path, char *err,
                            size_t errlen, const char **err_code) {
    if (sv->layout == SV_FROZEN) return load_frozen(srv, sv, path, err, errlen, err_code);
    return load_savedmodel(srv, sv, number, path, err, errlen, err_code);
}

int sv_version_find_sig(const sv_version *v, const char *key) {
    for (int s = 0; s < v->num_sigs; s++)
        if (!strcmp(v->sigs[s].key, key)) return s;
    return -1;
}

sv_model *sv_version_runner(sv_server *srv, sv_version *v, const char *key, char *err, size_t errlen, int *code) {
    int s = key && key[0] ? sv_version_find_sig(v, key) : v->default_sig;
    if (s < 0) {
        *code = 400;
        snprintf(err, errlen, "Serving signature name: \"%.200s\" not found in signature def",
                 key && key[0] ? key : "serving_default");
        return NULL;
    }
    sv_signature *sig = &v->sigs[s];
    pthread_mutex_lock(&v->mu);
    if (sig->state == SV_SIG_UNTRIED) compile_sig(srv, v, s);
    pthread_mutex_unlock(&v->mu);
    if (sig->state != SV_SIG_READY) {
        *code = sig->error_code ? sig->error_code : 500;
        snprintf(err, errlen, "%s", sig->error ? sig->error : "out of memory");
        return NULL;
    }
    return sig->run;
}

/* ---- reference counts, status --------------------------------------------------------- */

sv_version *sv_servable_acquire(sv_servable *sv, int64_t version, const char *label, char *err, size_t errlen,
                                int *code) {
    sv_version *v = NULL;
    pthread_mutex_lock(&sv->mu);
    if (label) {
        int k = 0;
        while (k < sv->num_labels && strcmp(sv->label_keys[k], label)) k++;
        if (k == sv->num_labels) {
            pthread_mutex_unlock(&sv->mu);
            *code = 400;
            snprintf(err, errlen, "Unrecognized servable version label: %.200s", label);
            return NULL;
        }
        version = sv->label_versions[k];
    }
    if (version < 0) v = sv->num_live ? sv->live[0] : NULL;
    else
        for (int k = 0; k < sv->num_live && !v; k++)
            if (sv->live[k]->number == version) v = sv->live[k];
    if (v) atomic_fetch_add(&v->refs, 1);
    pthread_mutex_unlock(&sv->mu);
    if (!v) {
        *code = 404;
        if (version < 0) snprintf(err, errlen, "Servable not found for request: Latest(%s)", sv->name);
        else snprintf(err, errlen, "Servable not found for request: Specific(%s, %lld)", sv->name, (long long)version);
    }
    return v;
}

/* The last reference of a retired version is dropped here; the poller frees it (sv_servable_reap). */
void sv_version_release(sv_version *v) {
    if (v) atomic_fetch_sub(&v->refs, 1);
}

void sv_status_set(sv_servable *sv, int64_t version, sv_state state, const char *error, const char *error_code) {
    int k = 0;
    while (k < sv->num_status && sv->status[k].version > version) k++;
    if (k == sv->num_status || sv->status[k].version != version) {
        if (sv->num_status == sv->cap_status) {
            int cap = sv->cap_status ? sv->cap_status * 2 : 8;
            sv_status_entry *n = realloc(sv->status, (size_t)cap * sizeof *n);
            if (!n) return; /* the status list is informative: keep serving */
            sv->status = n;
            sv->cap_status = cap;
        }
        memmove(&sv->status[k + 1], &sv->status[k], (size_t)(sv->num_status - k) * sizeof *sv->status);
        sv->num_status++;
        memset(&sv->status[k], 0, sizeof *sv->status);
        sv->status[k].version = version;
    }
    sv_status_entry *e = &sv->status[k];
    free(e->error);
    e->state = state;
    e->error = error ? strdup(error) : NULL;
    e->error_code = error_code ? error_code : "UNKNOWN";
}

/* ---- start, free ------------------------------------------------------------------------ */

int sv_servable_start(sv_server *srv, sv_servable *sv, char *err, size_t errlen) {
    struct stat st;
    if (stat(sv->base_path, &st) != 0) {
        snprintf(err, errlen, "model %s: cannot open %s: %s", sv->name, sv->base_path, strerror(errno));
        return -1;
    }
    if (sv->opts.labels_path) {
        sv->opts.num_labels = cli_labels_load(sv->opts.labels_path, &sv->opts.labels);
        if (sv->opts.num_labels < 0) {
            snprintf(err, errlen, "model %s: cannot read the labels file %s", sv->name, sv->opts.labels_path);
            return -1;
        }
    }
    char *copy = strdup(sv->base_path), *pb = malloc(strlen(sv->base_path) + 20);
    if (!copy || !pb) {
        free(copy), free(pb);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    sprintf(pb, "%s/saved_model.pb", sv->base_path);
    struct stat st2;
    int64_t number = 1;
    const char *path = sv->base_path;
    if (S_ISDIR(st.st_mode) && stat(pb, &st2) == 0) {
        sv->layout = SV_SAVEDMODEL;
        int64_t n = sv_version_number(basename(copy));
        if (n >= 0) number = n;
    } else if (S_ISDIR(st.st_mode))
        sv->layout = SV_BASE_PATH;
    else if (!strcmp(basename(copy), "saved_model.pb")) {
        sv->layout = SV_SAVEDMODEL; /* the path of saved_model.pb: its directory */
        strcpy(copy, sv->base_path);
        path = dirname(copy);
        char *dir = strdup(path);
        int64_t n = dir ? sv_version_number(basename(dir)) : -1;
        free(dir);
        if (n >= 0) number = n;
    } else
        sv->layout = SV_FROZEN;
    int rc = 0;
    if (sv->layout == SV_BASE_PATH) {
        rc = sv_servable_poll(srv, sv, err, errlen);
        if (!rc && sv->num_live == 0) {
            size_t o = (size_t)snprintf(err, errlen, "model %s: no version could be loaded from %s", sv->name,
                                        sv->base_path);
            for (int k = 0; k < sv->num_status && o < errlen; k++)
                if (sv->status[k].error)
                    o += (size_t)snprintf(err + o, errlen - o, "; version %lld: %s", (long long)sv->status[k].version,
                                          sv->status[k].error);
            if (!sv->num_status && o < errlen)
                snprintf(err + o, errlen - o, " (no version folders: numbers holding a saved_model.pb)");
            rc = -1;
        }
    } else {
        const char *code = NULL;
        char msg[2048];
        sv_version *v = sv_version_load(srv, sv, number, path, msg, sizeof msg, &code);
        if (!v) {
            snprintf(err, errlen, "model %s: cannot load %s: %s", sv->name, path, msg);
            rc = -1;
        } else {
            sv->live = malloc(sizeof *sv->live);
            if (!sv->live) {
                sv_version_free(v);
                snprintf(err, errlen, "out of memory");
                rc = -1;
            } else {
                sv->live[0] = v;
                sv->num_live = sv->cap_live = 1;
                sv_status_set(sv, number, SV_AVAILABLE, NULL, NULL);
            }
        }
    }
    free(copy);
    free(pb);
    return rc;
}

void sv_servable_free(sv_servable *sv) {
    for (int k = 0; k < sv->num_live; k++) sv_version_free(sv->live[k]);
    free(sv->live);
    while (sv->retired) {
        sv_version *n = sv->retired->next;
        sv_version_free(sv->retired);
        sv->retired = n;
    }
    for (int k = 0; k < sv->num_status; k++) free(sv->status[k].error);
    free(sv->status);
    free(sv->failed);
    free(sv->failed_stamp);
    for (int k = 0; k < sv->num_labels; k++) free(sv->label_keys[k]);
    cli_labels_free(sv->opts.labels, sv->opts.num_labels > 0 ? sv->opts.num_labels : 0);
    free(sv->opts.input_name);
    free(sv->opts.output_name);
    free(sv->opts.labels_path);
    free(sv->name);
    free(sv->base_path);
    pthread_mutex_destroy(&sv->mu);
}
