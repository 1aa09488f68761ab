/* SavedModel import: the fixtures of ../shared/savedmodels (TF1 and TF2
 * half_plus_two / half_plus_three, the counter, three Keras classifiers),
 * a synthetic TF2 model built in memory and its hostile variants, and
 * broken copies of a real SavedModel (truncated / flipped / missing files).
 *
 *   test_savedmodel                                 the tests
 *   test_savedmodel --seeds DIR                     write the fuzz_savedmodel seeds
 * frost-test-labels: asan */
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "frost.h"
#include "savedmodel/check.h"
#include "savedmodel/savedmodel.h"
#include "sm_synth.h"
#include "testutil.h"

static const char *sm_dir(const char *rel) { return tu_path("%s/savedmodels/%s", tu_shared_dir(), rel); }

/* Compiles the default signature of `path` and runs x (batch 3, one value an item). */
static void check_linear(const char *rel, float a, float b) {
    frost_model *m = NULL;
    char *err = NULL;
    frost_options o;
    frost_options_init(&o);
    o.threads = 1;
    frost_status st = frost_model_load(sm_dir(rel), &o, &m, &err);
    CHECK_MSG(st == FROST_OK, "%s: %s", rel, err ? err : "");
    frost_free(err);
    if (!m) return;
    CHECK(frost_model_input_count(m) == 1 && frost_model_output_count(m) == 1);
    CHECK(frost_model_input_size(m, 0) == 1 && frost_model_output_size(m, 0) == 1);
    frost_context *c = NULL;
    CHECK(frost_context_create(m, &c, NULL) == FROST_OK);
    const float x[3] = {1, 2, 5};
    float y[3] = {0};
    CHECK(frost_context_run1(c, 3, x, y) == FROST_OK);
    for (int i = 0; i < 3; i++) CHECK_MSG(y[i] == a * x[i] + b, "%s: y(%g) = %g, want %g", rel, x[i], y[i], a * x[i] + b);
    frost_context_free(c);
    frost_model_free(m);
}

/* The graph of signature `key` (of the {serve} meta graph): its status and message. */
static frost_status sig_graph(const char *rel, const char *key, frost_graph **g, char **err) {
    frost_savedmodel *sm = NULL;
    *g = NULL;
    frost_status st = frost_savedmodel_open(sm_dir(rel), &sm, err);
    if (st != FROST_OK) return st;
    int s = frost_savedmodel_find_signature(sm, -1, key);
    st = s < 0 ? FROST_E_NOT_FOUND : frost_savedmodel_graph(sm, -1, s, g, err);
    frost_savedmodel_free(sm);
    return st;
}

static void test_half_plus_two(void) {
    check_linear("saved_model_half_plus_two_cpu/00000123", 0.5f, 2);
    check_linear("saved_model_half_plus_two_cpu/00000123/saved_model.pb", 0.5f, 2);
    check_linear("saved_model_half_plus_two_2_versions/00000123", 0.5f, 2);
    check_linear("saved_model_half_plus_two_2_versions/00000124", 0.5f, 2);
    check_linear("saved_model_half_plus_two_tf2_cpu/00000123", 0.5f, 2);
    check_linear("saved_model_half_plus_three/00000123", 0.5f, 3);

    /* the signature API: TF1 half_plus_two lists its five signatures */
    frost_savedmodel *sm = NULL;
    char *err = NULL;
    CHECK(frost_savedmodel_open(sm_dir("saved_model_half_plus_two_cpu/00000123"), &sm, &err) == FROST_OK);
    if (sm) {
        CHECK(frost_savedmodel_meta_graph_count(sm) == 1 && frost_savedmodel_tag_count(sm, 0) == 1 &&
              !strcmp(frost_savedmodel_tag(sm, 0, 0), "serve"));
        CHECK(frost_savedmodel_find_meta_graph(sm, NULL, 0) == 0);
        CHECK(frost_savedmodel_find_meta_graph(sm, (const char *[]){"serve", "serve"}, 2) == 0);
        CHECK(frost_savedmodel_find_meta_graph(sm, (const char *[]){"serve", "gpu"}, 2) == -1);
        CHECK(frost_savedmodel_signature_count(sm, 0) == 5);
        int s = frost_savedmodel_find_signature(sm, 0, NULL);
        CHECK(s >= 0 && !strcmp(frost_savedmodel_signature_key(sm, 0, s), "serving_default"));
        CHECK(!strcmp(frost_savedmodel_signature_method(sm, 0, s), "tensorflow/serving/predict"));
        frost_tensor_info ti;
        CHECK(frost_savedmodel_signature_input(sm, 0, s, 0, &ti) == FROST_OK && !strcmp(ti.key, "x") &&
              !strcmp(ti.name, "x:0") && ti.dtype == FROST_DTYPE_FLOAT && ti.shape.rank == 2 && ti.shape.dims[0] == -1 &&
              ti.shape.dims[1] == 1);
        CHECK(frost_savedmodel_signature_output(sm, 0, s, 0, &ti) == FROST_OK && !strcmp(ti.key, "y"));
        CHECK(frost_savedmodel_signature_input(sm, 0, s, 1, &ti) == FROST_E_INVALID_ARGUMENT);
        int c = frost_savedmodel_find_signature(sm, 0, "classify_x_to_y");
        CHECK(c >= 0 && frost_savedmodel_signature_input(sm, 0, c, 0, &ti) == FROST_OK &&
              ti.dtype == FROST_DTYPE_STRING && !strcmp(frost_dtype_name(ti.dtype), "DT_STRING"));
        CHECK(!strcmp(frost_savedmodel_signature_method(sm, 0, c), "tensorflow/serving/classify"));
        /* its graph: the Placeholder is the signature's input, the sink its output */
        frost_graph *g = NULL;
        CHECK(frost_savedmodel_graph(sm, -1, s, &g, &err) == FROST_OK);
        CHECK(g && frost_graph_placeholder_count(g) == 1 && !strcmp(frost_graph_placeholder_name(g, 0), "x") &&
              frost_graph_sink_count(g) == 1 && !strcmp(frost_graph_sink_name(g, 0), "y"));
        frost_graph_free(g);
        /* ParseExample signatures load (test_example runs them) */
        CHECK(frost_savedmodel_graph(sm, 0, c, &g, &err) == FROST_OK && g);
        frost_graph_free(g);
        frost_savedmodel_free(sm);
    }
    /* regress_x2_to_y3 takes floats: 0.5 x + 3 */
    frost_graph *g = NULL;
    CHECK(sig_graph("saved_model_half_plus_two_cpu/00000123", "regress_x2_to_y3", &g, &err) == FROST_OK);
    if (g) {
        frost_model *m = NULL;
        CHECK(frost_model_compile(g, NULL, &m, &err) == FROST_OK);
        frost_graph_free(g); /* the model keeps what it needs */
        frost_context *c = NULL;
        const float x[3] = {1, 2, 5};
        float y[3];
        CHECK(m && frost_context_create(m, &c, NULL) == FROST_OK && frost_context_run1(c, 3, x, y) == FROST_OK &&
              y[0] == 3.5f && y[1] == 4.0f && y[2] == 5.5f);
        CHECK(m && !strcmp(frost_model_input_name(m, 0), "x2") && !strcmp(frost_model_output_name(m, 0), "y3"));
        frost_context_free(c);
        frost_model_free(m);
    }
    frost_free(err);
    err = NULL;
    /* TF2: the init op is no computation; the ParseExampleV2 signatures load */
    CHECK(sig_graph("saved_model_half_plus_two_tf2_cpu/00000123", "__saved_model_init_op", &g, &err) ==
              FROST_E_INVALID_ARGUMENT &&
          err && strstr(err, "initialization"));
    frost_free(err);
    err = NULL;
    CHECK(sig_graph("saved_model_half_plus_two_tf2_cpu/00000123", "regress_x_to_y", &g, &err) == FROST_OK && g);
    frost_graph_free(g);
    CHECK(sig_graph("saved_model_half_plus_two_tf2_cpu/00000123", "regress_x2_to_y3", &g, &err) == FROST_OK && g &&
          !strcmp(frost_graph_sink_name(g, 0), "StatefulPartitionedCall_2"));
    frost_graph_free(g);
}

static void test_counter(void) {
    const char *rel = "saved_model_counter/00000123";
    frost_graph *g = NULL;
    char *err = NULL;
    const char *writers[][2] = {{"incr_counter", "AssignAdd"}, {"incr_counter_by", "AssignAdd"}, {"reset_counter", "Assign"}};
    for (int i = 0; i < 3; i++) {
        frost_status st = sig_graph(rel, writers[i][0], &g, &err);
        CHECK_MSG(st == FROST_E_UNSUPPORTED_OP && err && strstr(err, writers[i][1]) && strstr(err, "state") &&
                      strstr(err, writers[i][0]),
                  "%s: %s", writers[i][0], err ? err : "");
        frost_free(err);
        err = NULL;
    }
    /* reading the counter changes nothing */
    CHECK(sig_graph(rel, "get_counter", &g, &err) == FROST_OK);
    frost_graph_free(g);
    /* no serving_default among several: the default load names them */
    frost_model *m = NULL;
    CHECK(frost_model_load(sm_dir(rel), NULL, &m, &err) == FROST_E_NOT_FOUND && err && strstr(err, "serving_default") &&
          strstr(err, "'incr_counter'"));
    frost_free(err);
}

typedef struct {
    const char *rel;
    int h, w, c, classes;
    float scale; /* the input range: 0..scale */
} keras_model;

static const keras_model KERAS[] = {
    {"keras/intel6-cnn/saved_model", 150, 150, 3, 6, 255.0f},
    {"keras/rice5-cnn/saved_model", 24, 24, 3, 5, 1.0f},
    {"keras/mnist-cnn-k2/saved_model", 28, 28, 1, 10, 1.0f},
};

/* Const tensors of 256 bytes or more in g: how many, 4-byte aligned, kept
 * outside the GraphDef bytes (in a bundle's shard). */
static void count_weights(const frost_graph *g, int *weights, int *aligned, int *in_shard) {
    for (int i = 0; g && i < g->n_nodes; i++) {
        fr_pb_tensor t;
        const char *why;
        if (strcmp(g->nodes[i].op, "Const") || fr_node_const_tensor(g, &g->nodes[i], &t, &why) || !t.content ||
            t.content_len < 256)
            continue;
        ++*weights;
        *aligned += ((uintptr_t)t.content & 3) == 0;
        *in_shard += t.content < g->data || t.content >= g->data + g->size;
    }
}

static void test_keras(void) {
    for (size_t k = 0; k < sizeof KERAS / sizeof *KERAS; k++) {
        const keras_model *km = &KERAS[k];
        frost_savedmodel *sm = NULL;
        char *err = NULL;
        CHECK_MSG(frost_savedmodel_open(sm_dir(km->rel), &sm, &err) == FROST_OK, "%s: %s", km->rel, err ? err : "");
        if (!sm) {
            frost_free(err);
            continue;
        }
        int s = frost_savedmodel_find_signature(sm, -1, NULL);
        frost_tensor_info in, out;
        CHECK(s >= 0 && frost_savedmodel_signature_input(sm, -1, s, 0, &in) == FROST_OK &&
              frost_savedmodel_signature_output(sm, -1, s, 0, &out) == FROST_OK);
        CHECK(in.dtype == FROST_DTYPE_FLOAT && in.shape.rank == 4 && in.shape.dims[1] == km->h &&
              in.shape.dims[2] == km->w && in.shape.dims[3] == km->c);
        CHECK(out.shape.rank == 2 && out.shape.dims[1] == km->classes);
        frost_graph *g = NULL;
        CHECK_MSG(frost_savedmodel_graph(sm, -1, s, &g, &err) == FROST_OK, "%s: %s", km->rel, err ? err : "");
        /* loaded at once, the variables stay in the bundle's data shard (no
         * copy; the graph keeps it mapped after the SavedModel is freed) */
        int weights = 0, aligned = 0, in_shard = 0;
        count_weights(g, &weights, &aligned, &in_shard);
        CHECK_MSG(weights >= 4 && aligned == weights && in_shard == weights, "%s: %d weight tensors, %d aligned, %d in the shard",
                  km->rel, weights, aligned, in_shard);
        /* frozen into bytes (frost convert), their contents lie 4-byte
         * aligned in the GraphDef: its import uses them in place */
        void *pb = NULL;
        size_t pb_len = 0;
        frost_graph *gf = NULL;
        CHECK(frost_savedmodel_freeze(sm, -1, s, &pb, &pb_len, NULL) == FROST_OK &&
              frost_graph_load_memory(pb, pb_len, 0, &gf, NULL) == FROST_OK);
        int weights_pb = 0, aligned_pb = 0, in_shard_pb = 0;
        count_weights(gf, &weights_pb, &aligned_pb, &in_shard_pb);
        CHECK_MSG(weights_pb == weights && aligned_pb == weights && in_shard_pb == 0, "%s: %d of %d aligned in the .pb",
                  km->rel, aligned_pb, weights_pb);
        frost_graph_free(gf);
        free(pb);
        frost_savedmodel_free(sm);
        frost_model *m = NULL;
        frost_options o;
        frost_options_init(&o);
        o.threads = 1;
        o.max_batch = 4;
        if (g) CHECK_MSG(frost_model_compile(g, &o, &m, &err) == FROST_OK, "%s: %s", km->rel, err ? err : "");
        frost_graph_free(g);
        frost_free(err);
        if (!m) continue;
        frost_shape os;
        CHECK(frost_model_output_shape(m, 0, &os) == FROST_OK && os.rank == 2 && os.dims[0] == -1 &&
              os.dims[1] == km->classes);
        size_t n_in = frost_model_input_size(m, 0), n_out = frost_model_output_size(m, 0);
        CHECK(n_in == (size_t)km->h * km->w * km->c && n_out == (size_t)km->classes);
        float *x = malloc(sizeof(float) * n_in * 4), *y1 = malloc(sizeof(float) * n_out), *y4 = malloc(sizeof(float) * n_out * 4);
        uint32_t r = 12345u + (uint32_t)k;
        for (size_t i = 0; i < n_in * 4; i++) {
            r = r * 1664525u + 1013904223u;
            x[i] = km->scale * (float)(r >> 8) / (float)(1u << 24);
        }
        frost_context *c = NULL;
        CHECK(frost_context_create(m, &c, NULL) == FROST_OK);
        CHECK(frost_context_run1(c, 1, x, y1) == FROST_OK);
        CHECK(frost_context_run1(c, 4, x, y4) == FROST_OK);
        int finite = 1;
        double worst_sum = 0, worst_b = 0;
        for (int b = 0; b < 4; b++) {
            double sum = 0;
            for (size_t i = 0; i < n_out; i++) {
                float v = y4[b * n_out + i];
                finite &= isfinite(v) && v >= 0 && v <= 1;
                sum += v;
            }
            worst_sum = fmax(worst_sum, fabs(sum - 1));
        }
        for (size_t i = 0; i < n_out; i++) worst_b = fmax(worst_b, fabs(y1[i] - y4[i]));
        CHECK_MSG(finite, "%s: outputs are not probabilities", km->rel);
        CHECK_MSG(worst_sum < 1e-4, "%s: softmax sums off by %g", km->rel, worst_sum);
        CHECK_MSG(worst_b < 1e-5, "%s: item 0 of batch 4 differs from batch 1 by %g", km->rel, worst_b);
        printf("%s: batch 1 -> [%g %g %g ...]\n", km->rel, y1[0], y1[1], y1[2]);
        frost_context_free(c);
        frost_model_free(m);
        free(x);
        free(y1);
        free(y4);
    }
}

/* ---- the synthetic model and its hostile variants (in memory) ---- */

static frost_status synth_graph(int variant, frost_graph **g, char **err) {
    fr_pbw pb, index, data;
    fr_pbw_init(&pb);
    fr_pbw_init(&index);
    fr_pbw_init(&data);
    sy_build(variant, &pb, &index, &data);
    frost_savedmodel *sm = NULL;
    const void *shard = data.data;
    size_t len = data.len;
    frost_status st = fr_sm_open_memory(pb.data, pb.len, index.data, index.len, &shard, &len, 1, &sm, err);
    if (st == FROST_OK) st = frost_savedmodel_graph(sm, -1, -1, g, err);
    frost_savedmodel_free(sm);
    fr_pbw_free(&pb);
    fr_pbw_free(&index);
    fr_pbw_free(&data);
    return st;
}

static void test_synthetic(void) {
    frost_graph *g = NULL;
    char *err = NULL;
    frost_status st = synth_graph(SY_OK, &g, &err);
    CHECK_MSG(st == FROST_OK, "%s", err ? err : "");
    frost_free(err);
    err = NULL;
    if (g) {
        CHECK(frost_graph_sink_count(g) == 1 && !strcmp(frost_graph_sink_name(g, 0), "call"));
        frost_model *m = NULL;
        CHECK(frost_model_compile(g, NULL, &m, &err) == FROST_OK);
        frost_graph_free(g);
        const float x[6] = {1, 2, 3, 4, 5, 6};
        float y[6] = {0};
        frost_context *c = NULL;
        CHECK(m && frost_context_create(m, &c, NULL) == FROST_OK && frost_context_run1(c, 2, x, y) == FROST_OK);
        /* v from the key the object graph names ([1, 2, 3]), not the shared_name decoy */
        const float want[6] = {2, 5, 10, 5, 11, 19};
        CHECK_MSG(!memcmp(y, want, sizeof y), "y = %g %g %g %g %g %g", y[0], y[1], y[2], y[3], y[4], y[5]);
        frost_context_free(c);
        frost_model_free(m);
    }
    static const struct {
        int variant;
        frost_status status;
        const char *a, *b;
    } bad[] = {
        {SY_RECURSIVE, FROST_E_GRAPH, "calls itself", "outer_fn"},
        {SY_MISSING_FN, FROST_E_GRAPH, "nope_fn", "not in the library"},
        {SY_ASSIGN, FROST_E_UNSUPPORTED_OP, "AssignVariableOp", "state"},
        {SY_CYCLE, FROST_E_GRAPH, "cycle", "call/inner/"},
        {SY_ARG_COUNT, FROST_E_GRAPH, "passes 1 inputs", "outer_fn"},
        {SY_NO_KEY, FROST_E_GRAPH, "v/.ATTRIBUTES/VARIABLE_VALUE", "no tensor"},
        {SY_BAD_OUTPUT, FROST_E_GRAPH, "no output named 'nosuch'", "ReadVariableOp"},
        {SY_PLACEHOLDER, FROST_E_GRAPH, "Placeholder", "inner_fn"},
        /* as TensorFlow's parse of saved_model.pb fails, also for a node no signature reaches */
        {SY_BAD_ATTR, FROST_E_PARSE, "'junk'", "malformed attribute"},
    };
    /* deeper than an AttrValue's own fields, a node the signature does not reach is not read: it loads */
    g = NULL;
    st = synth_graph(SY_BAD_SHAPE, &g, &err);
    CHECK_MSG(st == FROST_OK && g && frost_graph_sink_count(g) == 1, "bad shape in an unreached node: %s",
              err ? err : "");
    frost_graph_free(g);
    frost_free(err);
    err = NULL;
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        g = NULL;
        st = synth_graph(bad[i].variant, &g, &err);
        CHECK_MSG(st == bad[i].status && err && strstr(err, bad[i].a) && strstr(err, bad[i].b) && !g,
                  "variant %d: status %d, %s", bad[i].variant, st, err ? err : "(no message)");
        frost_graph_free(g);
        frost_free(err);
        err = NULL;
    }
    /* saved_model.pb cut at every length: an error each time, never a crash */
    fr_pbw pb, index, data;
    fr_pbw_init(&pb);
    fr_pbw_init(&index);
    fr_pbw_init(&data);
    sy_build(SY_OK, &pb, &index, &data);
    int clean = 1;
    for (size_t n = 0; n < pb.len; n += 1 + n / 64) {
        frost_savedmodel *sm = NULL;
        const void *shard = data.data;
        size_t len = data.len;
        st = fr_sm_open_memory(pb.data, n, index.data, index.len, &shard, &len, 1, &sm, &err);
        if (st == FROST_OK) st = frost_savedmodel_graph(sm, -1, -1, &g, &err);
        if (st == FROST_OK) frost_graph_free(g);
        else if (!err) clean = 0;
        frost_savedmodel_free(sm);
        frost_free(err);
        err = NULL;
    }
    CHECK(clean);
    fr_pbw_free(&pb);
    fr_pbw_free(&index);
    fr_pbw_free(&data);
}

/* ---- broken copies of a real SavedModel ---- */

static int copy_file(const char *from, const char *to) {
    size_t n;
    void *d = tu_read_file(from, &n);
    if (!d) return -1;
    int rc = tu_write_file(to, d, n);
    free(d);
    return rc;
}

static char *fresh_copy(const char *rel, const char *name) {
    char *dst = strdup(tu_path("%s/%s", tu_tmp_dir(), name));
    mkdir(dst, 0755);
    mkdir(tu_path("%s/variables", dst), 0755);
    const char *files[] = {"saved_model.pb", "variables/variables.index", "variables/variables.data-00000-of-00001"};
    for (int i = 0; i < 3; i++) {
        char *from = strdup(tu_path("%s/%s", sm_dir(rel), files[i]));
        copy_file(from, tu_path("%s/%s", dst, files[i]));
        free(from);
    }
    return dst;
}

static frost_status load_status(const char *dir, char **err) {
    frost_model *m = NULL;
    frost_status st = frost_model_load(dir, NULL, &m, err);
    frost_model_free(m);
    return st;
}

static void test_broken_files(void) {
    const char *rel = "saved_model_half_plus_two_tf2_cpu/00000123";
    char *dir = fresh_copy(rel, "sm_broken");
    char *err = NULL;
    CHECK_MSG(load_status(dir, &err) == FROST_OK, "%s", err ? err : "");
    frost_free(err);
    err = NULL;
    char *index = strdup(tu_path("%s/variables/variables.index", dir));
    char *data = strdup(tu_path("%s/variables/variables.data-00000-of-00001", dir));
    char *pbp = strdup(tu_path("%s/saved_model.pb", dir));
    size_t n_index, n_data, n_pb;
    uint8_t *idx = tu_read_file(index, &n_index), *dat = tu_read_file(data, &n_data), *pb = tu_read_file(pbp, &n_pb);
    /* the index truncated at every length */
    int all = 1;
    for (size_t n = 0; idx && n < n_index; n++) {
        tu_write_file(index, idx, n);
        frost_status st = load_status(dir, &err);
        if (st == FROST_OK || !err || !strstr(err, "variables.index")) all = 0;
        frost_free(err);
        err = NULL;
    }
    CHECK(all);
    tu_write_file(index, idx, n_index);
    /* a byte of a variable flipped: its checksum */
    dat[1] ^= 0x40;
    tu_write_file(data, dat, n_data);
    CHECK(load_status(dir, &err) == FROST_E_PARSE && err && strstr(err, "checksum") && strstr(err, "a/.ATTRIBUTES"));
    frost_free(err);
    err = NULL;
    dat[1] ^= 0x40;
    /* the data shard cut short: the offsets lie past its end */
    tu_write_file(data, dat, n_data - 2);
    CHECK(load_status(dir, &err) == FROST_E_PARSE && err && strstr(err, "lies at bytes") && strstr(err, "shard"));
    frost_free(err);
    err = NULL;
    /* no data shard */
    unlink(data);
    CHECK(load_status(dir, &err) == FROST_E_IO && err && strstr(err, "variables.data-00000-of-00001"));
    frost_free(err);
    err = NULL;
    tu_write_file(data, dat, n_data);
    /* saved_model.pb truncated and flipped at places */
    int clean = 1;
    for (size_t n = 0; pb && n < n_pb; n += 1 + n / 16) {
        tu_write_file(pbp, pb, n);
        frost_status st = load_status(dir, &err);
        if (st != FROST_OK && !err) clean = 0;
        frost_free(err);
        err = NULL;
    }
    for (size_t i = 0; pb && i < n_pb; i += 97) {
        pb[i] ^= 0x11;
        tu_write_file(pbp, pb, n_pb);
        frost_status st = load_status(dir, &err);
        if (st != FROST_OK && !err) clean = 0;
        frost_free(err);
        err = NULL;
        pb[i] ^= 0x11;
    }
    CHECK(clean);
    tu_write_file(pbp, pb, n_pb);
    /* an absurd shape in the index */
    {
        fr_pbw ix, dt;
        fr_pbw_init(&ix);
        fr_pbw_init(&dt);
        float v = 1;
        sb_tensor t = {"a/.ATTRIBUTES/VARIABLE_VALUE", 1, 3, {(int64_t)1 << 30, (int64_t)1 << 30, (int64_t)1 << 30}, &v, 4, NULL, 0, 0, 0};
        sb_bundle(&ix, &dt, &t, 1, 1, 0);
        tu_write_file(index, ix.data, ix.len);
        tu_write_file(data, dt.data, dt.len);
        CHECK(load_status(dir, &err) == FROST_E_PARSE && err && strstr(err, "absurd"));
        frost_free(err);
        err = NULL;
        fr_pbw_free(&ix);
        fr_pbw_free(&dt);
    }
    /* not a SavedModel */
    CHECK(load_status(tu_tmp_dir(), &err) == FROST_E_IO && err && strstr(err, "no saved_model.pb"));
    frost_free(err);
    free(idx);
    free(dat);
    free(pb);
    free(index);
    free(data);
    free(pbp);
    free(dir);
}

/* ---- tools for other tests ---- */

/* fuzz_savedmodel inputs: [u32 LE pb length][u32 LE index length][pb][index][data shard] */
static int write_seeds(const char *dir) {
    static const char *names[SY_COUNT] = {"ok",         "recursive",   "missing_fn", "assign",   "cycle",    "arg_count",
                                          "no_key",     "bad_output", "placeholder", "bad_attr", "bad_shape"};
    mkdir(dir, 0755);
    for (int v = 0; v < SY_COUNT; v++) {
        fr_pbw pb, index, data, all;
        fr_pbw_init(&pb);
        fr_pbw_init(&index);
        fr_pbw_init(&data);
        fr_pbw_init(&all);
        sy_build(v, &pb, &index, &data);
        sb_le32(&all, (uint32_t)pb.len);
        sb_le32(&all, (uint32_t)index.len);
        fr_pbw_raw(&all, pb.data, pb.len);
        fr_pbw_raw(&all, index.data, index.len);
        fr_pbw_raw(&all, data.data, data.len);
        if (tu_write_file(tu_path("%s/synthetic_%s.bin", dir, names[v]), all.data, all.len)) return 1;
        fr_pbw *bufs[] = {&pb, &index, &data, &all};
        for (int i = 0; i < 4; i++) fr_pbw_free(bufs[i]);
    }
    return 0;
}

/* ---- a large TF1 SavedModel: its CRC-32C checked while it compiles ---- */

/* DIR/saved_model.pb and DIR/variables/: y = x + v, x a [-1, n] Placeholder,
 * v a [n] VariableV2 of n floats (v[i] = i / 4) in the bundle; flip: the
 * data shard's byte at that offset flipped (-1: none). */
static void write_add_model(const char *dir, int64_t n, long flip) {
    float *v = malloc(sizeof(float) * (size_t)n);
    for (int64_t i = 0; v && i < n; i++) v[i] = (float)i / 4;
    sb_tensor t = {.key = "v", .dtype = FR_DT_FLOAT, .rank = 1, .dims = {n}, .data = v, .size = sizeof(float) * (size_t)n};
    fr_pbw sm, mg, meta, index, data;
    fr_pbw *all[] = {&sm, &mg, &meta, &index, &data};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) fr_pbw_init(all[i]);
    sb_bundle(&index, &data, &t, 1, 1, 0);
    if (flip >= 0 && (size_t)flip < data.len) data.data[flip] ^= 0x40;
    const int64_t xd[2] = {-1, n};
    fr_gdw *g = fr_gdw_new();
    fr_gdw_placeholder(g, "x", 2, xd);
    fr_gdw_node_end(g);
    fr_gdw_node_begin(g, "v", "VariableV2");
    fr_gdw_attr_type(g, "dtype", FR_DT_FLOAT);
    fr_gdw_attr_shape(g, "shape", 1, &n);
    fr_gdw_node_end(g);
    fr_gdw_node(g, "y", "Add", (const char *[]){"x", "v", NULL});
    fr_gdw_attr_type(g, "T", FR_DT_FLOAT);
    fr_gdw_node_end(g);
    size_t glen;
    const uint8_t *gd = fr_gdw_finish(g, &glen);
    fr_pbw_str(&meta, 4, "serve");
    fr_pbw_msg(&mg, 1, &meta);
    if (gd) fr_pbw_bytes(&mg, 2, gd, glen);
    sb_predict_signature(&mg, "x:0", "y:0", 2, xd);
    fr_pbw_int(&sm, 1, 1);
    fr_pbw_msg(&sm, 2, &mg);
    mkdir(dir, 0755);
    mkdir(tu_path("%s/variables", dir), 0755);
    tu_write_file(tu_path("%s/saved_model.pb", dir), sm.data, sm.len);
    tu_write_file(tu_path("%s/variables/variables.index", dir), index.data, index.len);
    tu_write_file(tu_path("%s/variables/variables.data-00000-of-00001", dir), data.data, data.len);
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) fr_pbw_free(all[i]);
    fr_gdw_free(g);
    free(v);
}

/* From FR_SM_CHECK_ASYNC_BYTES of variables used in place, their CRC-32C
 * is checked on a thread while the graph compiles: the compile's result
 * waits for it.  A byte flipped in the shard then fails the compile (not
 * the load) with the tensor named; a graph freed without a compile, or
 * compiled twice, is fine (ASan, valgrind); a small model's flip fails the
 * load itself, as before. */
/* Compiles g, the model y = x + v of write_add_model (n values), and checks
 * it: y exact on x = 1 (v[i] = i / 4), or, with the byte flipped, the
 * compile failing as the checksum of tensor 'v' of the SavedModel `name`
 * (its signature 'serving_default').  1 when it holds (else the status
 * and message on stderr). */
static int compile_checked(frost_graph *g, int64_t n, int flip, const char *name) {
    frost_model *m = NULL;
    char *err = NULL;
    frost_status st = frost_model_compile(g, NULL, &m, &err);
    int ok = 0;
    char where[128];
    snprintf(where, sizeof where, "%s: signature 'serving_default'", name);
    if (flip) {
        ok = st == FROST_E_PARSE && !m && err && strstr(err, where) && strstr(err, "tensor 'v'") &&
             strstr(err, "checksum");
    } else if (st == FROST_OK && m) {
        float *x = malloc(sizeof(float) * (size_t)n), *y = malloc(sizeof(float) * (size_t)n);
        frost_context *c = NULL;
        for (int64_t i = 0; x && i < n; i++) x[i] = 1.f;
        ok = x && y && frost_context_create(m, &c, NULL) == FROST_OK && frost_context_run1(c, 1, x, y) == FROST_OK;
        for (int64_t i = 0; ok && i < n; i++) ok = y[i] == 1.f + (float)i / 4;
        frost_context_free(c);
        free(x), free(y);
    }
    if (!ok)
        fprintf(stderr, "%s%s: status %d: %s\n", name, flip ? " (flipped)" : "", (int)st, err ? err : "(no message)");
    frost_free(err);
    frost_model_free(m);
    return ok;
}

static void test_large_checked(void) {
    const int64_t n = (int64_t)(FR_SM_CHECK_ASYNC_BYTES / sizeof(float)) + 1000;
    char *dir = strdup(tu_path("%s/sm_large", tu_tmp_dir()));
    char *err = NULL;
    for (int flip = 0; flip < 2; flip++) {
        write_add_model(dir, n, flip ? (long)(n / 2 * 4 + 1) : -1);
        frost_graph *g = NULL;
        frost_status st = frost_graph_load(dir, &g, &err);
        CHECK_MSG(st == FROST_OK, "large SavedModel%s: load: %s", flip ? " (flipped)" : "", err ? err : "");
        frost_free(err), err = NULL;
        for (int k = 0; k < 2 && g; k++)
            CHECK_MSG(compile_checked(g, n, flip, "sm_large"), "large SavedModel%s: compile %d",
                      flip ? " (flipped)" : "", k);
        frost_graph_free(g);
        g = NULL; /* and once freed without a compile */
        CHECK(frost_graph_load(dir, &g, NULL) == FROST_OK);
        frost_graph_free(g);
        frost_model *m = NULL;
        st = frost_model_load(dir, NULL, &m, &err);
        CHECK_MSG(flip ? st == FROST_E_PARSE && !m : st == FROST_OK, "frost_model_load%s: %s",
                  flip ? " (flipped)" : "", err ? err : "");
        frost_free(err), err = NULL;
        frost_model_free(m);
    }
    /* below the threshold the flip fails the load, at once */
    write_add_model(dir, 1000, 2001);
    frost_graph *g = NULL;
    CHECK_MSG(frost_graph_load(dir, &g, &err) == FROST_E_PARSE && !g && err && strstr(err, "checksum"), "small: %s",
              err ? err : "(loaded)");
    frost_free(err);
    frost_graph_free(g);
    free(dir);
}

/* A process that forks between a large SavedModel's load and its compile:
 * the child has the graph but not the thread checking its variables (fork
 * copies the calling thread alone), and must check them itself rather than
 * wait for a thread that is not there.  The child compiles and checks the
 * graph, its exit status says how it went; so does the parent's own compile
 * after it. */
static void test_fork_before_compile(void) {
    /* a check of a few ms; a 32 MiB variable, so that the compile-time data
     * (64 MiB with the input) passes the budget only when the variables
     * kept in the shard count as part of the model's file, as a frozen
     * GraphDef's weights do */
    const int64_t n = (int64_t)(4 * FR_SM_CHECK_ASYNC_BYTES / sizeof(float));
    char *dir = strdup(tu_path("%s/sm_fork", tu_tmp_dir()));
    for (int flip = 0; flip < 2; flip++) {
        write_add_model(dir, n, flip ? (long)(n / 2 * 4 + 1) : -1);
        frost_graph *g = NULL;
        CHECK(frost_graph_load(dir, &g, NULL) == FROST_OK);
        if (!g) break;
        fflush(NULL);
        pid_t pid = fork(); /* at once: the parent's check thread is still reading */
        if (pid == 0) _exit(compile_checked(g, n, flip, "sm_fork") ? 0 : 1);
        CHECK(pid > 0);
        CHECK(tu_child_ok(pid, 60, flip ? "fork between load and compile (flipped)" : "fork between load and compile"));
        CHECK_MSG(compile_checked(g, n, flip, "sm_fork"), "fork between load and compile%s: the parent's compile",
                  flip ? " (flipped)" : "");
        frost_graph_free(g);
    }
    free(dir);
}

int main(int argc, char **argv) {
    if (argc == 3 && !strcmp(argv[1], "--seeds")) return write_seeds(argv[2]);
    test_synthetic();
    test_large_checked();
    test_fork_before_compile();
    if (!tu_shared_dir() || access(sm_dir("saved_model_counter"), F_OK)) {
        printf("../shared/savedmodels not found: the fixture tests are skipped\n");
        tu_done();
        return tu_failed ? 1 : 77;
    }
    test_half_plus_two();
    test_counter();
    test_keras();
    test_broken_files();
    return tu_done();
}
