#include "tgraph.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testutil.h"

void tg_options(frost_options *o) {
    frost_options_init(o);
    o->backend = FROST_BACKEND_REFERENCE;
    o->max_batch = 8;
}

/* Ends a call: its status, and its message (owned) when it failed. */
static frost_status finish(tg_model *t, frost_status st, char *err) {
    free(t->error);
    t->error = st == FROST_OK ? (free(err), NULL) : err;
    return t->status = st;
}

static const char *dump_dir(void) {
    const char *dir = getenv("FROST_TEST_DUMP_DIR");
    return dir && *dir ? dir : NULL;
}

frost_status tg_load(tg_model *t, const void *pb, size_t len) {
    memset(t, 0, sizeof *t);
    if (pb && dump_dir() && (t->pb_ = malloc(len + 1))) memcpy(t->pb_, pb, len);
    t->pb_len_ = len;
    char *err = NULL;
    frost_status st = frost_graph_load_memory(pb, len, 1, &t->graph, &err);
    return finish(t, st, err);
}

static void free_model(tg_model *t) {
    for (int k = 0; t->out && k < frost_model_output_count(t->model); k++) free(t->out[k]);
    for (int k = 0; t->in_ && k < frost_model_input_count(t->model); k++) free(t->in_[k]);
    free(t->out), free(t->in_);
    t->out = t->in_ = NULL;
    frost_context_free(t->ctx);
    frost_model_free(t->model);
    t->ctx = NULL;
    t->model = NULL;
}

frost_status tg_compile(tg_model *t, const char *output, const frost_options *o) {
    free_model(t);
    frost_options opt;
    if (o) opt = *o;
    else tg_options(&opt);
    if ((t->output_ = output)) {
        opt.outputs = &t->output_;
        opt.num_outputs = 1;
    }
    char *err = NULL;
    frost_status st = t->graph ? frost_model_compile(t->graph, &opt, &t->model, &err) : FROST_E_INVALID_ARGUMENT;
    if (st == FROST_OK) st = frost_context_create(t->model, &t->ctx, &err);
    if (st == FROST_OK) {
        t->out = calloc((size_t)frost_model_output_count(t->model) + 1, sizeof *t->out);
        t->in_ = calloc((size_t)frost_model_input_count(t->model) + 1, sizeof *t->in_);
        if (!t->out || !t->in_) st = FROST_E_NO_MEMORY;
    }
    return finish(t, st, err);
}

frost_status tg_build(tg_model *t, const void *pb, size_t len, const char *output, const frost_options *o) {
    if (tg_load(t, pb, len) == FROST_OK) tg_compile(t, output, o);
    frost_graph_free(t->graph);
    t->graph = NULL;
    return t->status;
}

static uint64_t fnv(uint64_t h, const void *p, size_t n) {
    for (size_t i = 0; i < n; i++) h = (h ^ ((const uint8_t *)p)[i]) * 1099511628211u;
    return h;
}

/* Whether `frost run` can replay the model: at most 64 inputs and outputs
 * (MF_MAX_TENSORS, tools/inspect_run/model_flags.h), named without ',' (--output takes
 * lists), '=' (--input NAME=FILE) or what JSON escapes (a corrupt graph's). */
static int replayable(const frost_model *m) {
    int nin = frost_model_input_count(m), nout = frost_model_output_count(m);
    for (int k = 0; k < nin + nout; k++)
        for (const char *c = k < nin ? frost_model_input_name(m, k) : frost_model_output_name(m, k - nin); *c; c++)
            if (*c < 0x20 || *c > 0x7e || strchr(",=\"\\", *c)) return 0;
    return nin <= 64 && nout <= 64;
}

/* FROST_TEST_DUMP_DIR: the graph, its inputs and the JSON naming them (tgraph.h). */
static void dump(const tg_model *t, int batch, const float *const *inputs) {
    static uint64_t seen[4096];
    static int n_seen, seq;
    const char *dir = dump_dir();
    if (!dir || !t->pb_ || !replayable(t->model)) return;
    int nin = frost_model_input_count(t->model), nout = frost_model_output_count(t->model);
    uint64_t h = fnv(fnv(14695981039346656037u, t->pb_, t->pb_len_), &batch, sizeof batch);
    for (int k = 0; k < nin; k++) h = fnv(h, inputs[k], (size_t)batch * frost_model_input_size(t->model, k) * 4);
    for (int i = 0; i < n_seen; i++)
        if (seen[i] == h) return; /* the same graph, batch and inputs as before */
    if (n_seen < 4096) seen[n_seen++] = h;
    /* the first free <seq>, taken by creating its JSON (written last): other
     * runs of the test (test_bad_input_valgrind's) may share the folder */
    char name[256], json[4096];
    int fd;
    do {
        snprintf(name, sizeof name, "%s-%03d", program_invocation_short_name, seq++);
        snprintf(json, sizeof json, "%s/%s.json", dir, name);
    } while ((fd = open(json, O_WRONLY | O_CREAT | O_EXCL, 0644)) < 0 && errno == EEXIST);
    int ok = fd >= 0 && tu_write_file(tu_path("%s/%s.pb", dir, name), t->pb_, t->pb_len_) == 0;
    for (int k = 0; ok && k < nin; k++) /* as float32 LE: frost runs on little-endian CPUs only */
        ok = tu_write_file(tu_path("%s/%s.in%d.f32", dir, name, k), inputs[k],
                           (size_t)batch * frost_model_input_size(t->model, k) * 4) == 0;
    FILE *f = ok ? fdopen(fd, "w") : NULL;
    if (!f) {
        fprintf(stderr, "FROST_TEST_DUMP_DIR: cannot write %s/%s: %s\n", dir, name, strerror(errno));
        if (fd >= 0) close(fd), unlink(json);
        return;
    }
    fprintf(f, "{\"batch\": %d, \"inputs\": [", batch);
    for (int k = 0; k < nin; k++) {
        frost_shape s;
        frost_model_input_shape(t->model, k, &s);
        fprintf(f, "%s{\"name\": \"%s\", \"shape\": [%d", k ? ", " : "", frost_model_input_name(t->model, k), batch);
        for (int d = 1; d < s.rank; d++) fprintf(f, ", %lld", (long long)s.dims[d]);
        fprintf(f, "], \"file\": \"%s.in%d.f32\"}", name, k);
    }
    fprintf(f, "], \"outputs\": [");
    for (int k = 0; k < nout; k++) fprintf(f, "%s\"%s\"", k ? ", " : "", frost_model_output_name(t->model, k));
    fprintf(f, "]}\n");
    fclose(f);
}

frost_status tg_run(tg_model *t, int batch, const float *const *inputs, float *const *outputs) {
    if (!t->ctx) return finish(t, FROST_E_INVALID_ARGUMENT, NULL);
    for (int k = 0; batch > 0 && !inputs && k < frost_model_input_count(t->model); k++) {
        free(t->in_[k]);
        t->in_[k] = calloc((size_t)batch * frost_model_input_size(t->model, k) + 1, sizeof(float));
    }
    for (int k = 0; batch > 0 && !outputs && k < frost_model_output_count(t->model); k++) {
        free(t->out[k]);
        t->out[k] = malloc(((size_t)batch * frost_model_output_size(t->model, k) + 1) * sizeof(float));
    }
    if (!inputs) inputs = (const float *const *)t->in_;
    frost_status st = frost_context_run(t->ctx, batch, inputs, outputs ? outputs : t->out);
    if (st == FROST_OK) dump(t, batch, inputs);
    return finish(t, st, st == FROST_OK ? NULL : strdup(frost_context_error(t->ctx)));
}

frost_status tg_run1(tg_model *t, int batch, const float *in, float *out) {
    return tg_run(t, batch, in ? &in : NULL, out ? &out : NULL);
}

const char *tg_msg(const tg_model *t) { return t->error ? t->error : ""; }

void tg_free(tg_model *t) {
    free_model(t);
    frost_graph_free(t->graph);
    free(t->error);
    free(t->pb_);
    memset(t, 0, sizeof *t);
}

fr_gdw *tg_writer(const char *input, int rank, const int64_t *dims) {
    fr_gdw *w = fr_gdw_new();
    fr_gdw_placeholder(w, input, rank, dims);
    return w;
}

fr_gdw *tg_image_writer(const char *op, int channels, const char *dct, int rank) {
    fr_gdw *w = fr_gdw_new();
    fr_gdw_node_begin(w, "contents", "Placeholder");
    fr_gdw_attr_type(w, "dtype", FR_DT_STRING);
    fr_gdw_attr_shape(w, "shape", rank, (int64_t[]){-1});
    fr_gdw_node_end(w);
    fr_gdw_node(w, "decode", op, (const char *[]){"contents", NULL});
    fr_gdw_attr_int(w, "channels", channels);
    if (dct) fr_gdw_attr_str(w, "dct_method", dct);
    fr_gdw_node_end(w);
    fr_gdw_node(w, "cast", "Cast", (const char *[]){"decode", NULL});
    fr_gdw_attr_type(w, "SrcT", FR_DT_UINT8);
    fr_gdw_attr_type(w, "DstT", FR_DT_FLOAT);
    fr_gdw_node_end(w);
    fr_gdw_const_i32(w, "dim", 0, NULL, (int32_t[]){0});
    fr_gdw_node(w, "expand", "ExpandDims", (const char *[]){"cast", "dim", NULL});
    fr_gdw_node_end(w);
    return w;
}

uint8_t *tg_finish(fr_gdw *w, size_t *len) {
    const uint8_t *p = fr_gdw_finish(w, len);
    uint8_t *copy = p ? malloc(*len) : NULL;
    if (copy) memcpy(copy, p, *len);
    fr_gdw_free(w);
    return copy;
}

void tg_window(fr_gdw *w, const char *name, const char *op, const char *const *inputs, const char *padding, int k,
               int s) {
    fr_gdw_node(w, name, op, inputs);
    fr_gdw_attr_str(w, "padding", padding);
    if (k) fr_gdw_attr_ints(w, "ksize", 4, (const int64_t[]){1, k, k, 1});
    fr_gdw_attr_ints(w, "strides", 4, (const int64_t[]){1, s, s, 1});
}
