/* The SavedModel functions behind the tools: frost_savedmodel_select (tag
 * set and signature by name, with a message), frost_savedmodel_freeze (the
 * GraphDef bytes of `frost convert DIR`), frost_path_is_savedmodel,
 * frost_graph_load_signature, and frost_tensor_info's is_ref / has_shape
 * (what saved_model_cli prints for DT_FLOAT_REF and for a TensorInfo
 * without a shape).  On ../shared/savedmodels; skipped without it.
 * frost-test-labels: asan */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "frost.h"
#include "testutil.h"

static const char *sm_dir(const char *rel) { return tu_path("%s/savedmodels/%s", tu_shared_dir(), rel); }

#define HP2 "saved_model_half_plus_two_cpu/00000123"

/* y = f(x) on [1, 2, 5] for a graph of one input and one output. */
static void expect_run(const frost_graph *g, float a, float b, const char *what) {
    frost_model *m = NULL;
    frost_context *c = NULL;
    char *err = NULL;
    CHECK_MSG(frost_model_compile(g, NULL, &m, &err) == FROST_OK, "%s: %s", what, err ? err : "");
    frost_free(err);
    if (!m) return;
    float x[3] = {1, 2, 5}, y[3] = {0};
    CHECK(frost_context_create(m, &c, NULL) == FROST_OK);
    CHECK(frost_context_run1(c, 3, x, y) == FROST_OK);
    for (int i = 0; i < 3; i++) CHECK_MSG(y[i] == a * x[i] + b, "%s: y(%g) = %g", what, x[i], y[i]);
    frost_context_free(c);
    frost_model_free(m);
}

static void test_select(void) {
    frost_savedmodel *sm = NULL;
    char *err = NULL;
    CHECK(frost_savedmodel_open(sm_dir(HP2), &sm, &err) == FROST_OK);
    if (!sm) return;
    int m = 7, s = 7;
    CHECK(frost_savedmodel_select(sm, NULL, 0, NULL, &m, &s, &err) == FROST_OK && m == 0 && err == NULL);
    CHECK(s >= 0 && !strcmp(frost_savedmodel_signature_key(sm, m, s), "serving_default"));
    const char *serve[] = {"serve"}, *two[] = {"serve", "gpu"};
    CHECK(frost_savedmodel_select(sm, serve, 1, "regress_x2_to_y3", &m, &s, &err) == FROST_OK);
    CHECK(!strcmp(frost_savedmodel_signature_key(sm, m, s), "regress_x2_to_y3"));
    CHECK(frost_savedmodel_select(sm, serve, 1, "nope", &m, &s, &err) == FROST_E_NOT_FOUND && m == -1 && s == -1);
    CHECK_MSG(err && strstr(err, "no signature 'nope'; choose one of: 'classify_x_to_y', 'regress_x2_to_y3', "
                                 "'regress_x_to_y', 'regress_x_to_y2', 'serving_default'"),
              "%s", err ? err : "(no message)");
    frost_free(err);
    CHECK(frost_savedmodel_select(sm, two, 2, NULL, &m, &s, &err) == FROST_E_NOT_FOUND);
    CHECK_MSG(err && strstr(err, "no meta graph is tagged exactly {serve, gpu} (its tag sets: {serve})"), "%s",
              err ? err : "(no message)");
    frost_free(err);
    CHECK(frost_savedmodel_select(NULL, NULL, 0, NULL, &m, &s, &err) == FROST_E_INVALID_ARGUMENT);
    frost_free(err);
    CHECK(frost_savedmodel_select(sm, serve, 0, NULL, &m, &s, NULL) == FROST_E_INVALID_ARGUMENT);
    CHECK(frost_savedmodel_select(sm, NULL, 0, NULL, NULL, &s, NULL) == FROST_E_INVALID_ARGUMENT);

    /* the frozen bytes: a GraphDef that loads on its own and runs the signature */
    void *pb = NULL;
    size_t len = 0;
    CHECK(frost_savedmodel_select(sm, NULL, 0, "regress_x2_to_y3", &m, &s, NULL) == FROST_OK);
    CHECK(frost_savedmodel_freeze(sm, m, s, &pb, &len, &err) == FROST_OK && pb && len > 0);
    frost_graph *g = NULL;
    CHECK(frost_graph_load_memory(pb, len, 1, &g, NULL) == FROST_OK);
    frost_free(pb);
    if (g) {
        CHECK(frost_graph_placeholder_count(g) == 1 && !strcmp(frost_graph_placeholder_name(g, 0), "x2"));
        CHECK(frost_graph_sink_count(g) == 1 && !strcmp(frost_graph_sink_name(g, 0), "y3"));
        expect_run(g, 0.5f, 3.0f, "frozen regress_x2_to_y3");
        frost_graph_free(g);
    }
    CHECK(frost_savedmodel_freeze(sm, -1, -1, &pb, &len, NULL) == FROST_OK); /* the defaults */
    frost_free(pb);
    CHECK(frost_savedmodel_freeze(sm, 0, 99, &pb, &len, &err) == FROST_E_INVALID_ARGUMENT && !pb && len == 0);
    frost_free(err);
    CHECK(frost_savedmodel_freeze(NULL, 0, 0, &pb, &len, &err) == FROST_E_INVALID_ARGUMENT);
    frost_free(err);
    CHECK(frost_savedmodel_freeze(sm, 0, 0, NULL, &len, NULL) == FROST_E_INVALID_ARGUMENT);
    int ex = frost_savedmodel_find_signature(sm, 0, "regress_x_to_y"); /* ParseExample: a string input */
    CHECK(frost_savedmodel_freeze(sm, 0, ex, &pb, &len, NULL) == FROST_OK && pb);
    g = NULL;
    CHECK(frost_graph_load_memory(pb, len, 1, &g, NULL) == FROST_OK && g);
    if (g) CHECK(frost_graph_placeholder_count(g) == 1 && !strcmp(frost_graph_placeholder_name(g, 0), "tf_example"));
    frost_graph_free(g);
    frost_free(pb);

    /* TensorInfo details */
    frost_tensor_info t;
    CHECK(frost_savedmodel_signature_input(sm, 0, ex, 0, &t) == FROST_OK && t.dtype == FROST_DTYPE_STRING &&
          !t.is_ref && t.has_shape && t.shape.rank == -1);
    frost_savedmodel_free(sm);
}

static void test_tensor_info_flags(void) {
    frost_savedmodel *sm = NULL;
    frost_tensor_info t;
    /* the counter's outputs are DT_FLOAT_REF (TF1 variables), shape () */
    CHECK(frost_savedmodel_open(sm_dir("saved_model_counter/00000123"), &sm, NULL) == FROST_OK);
    int s = frost_savedmodel_find_signature(sm, -1, "get_counter");
    CHECK(frost_savedmodel_signature_output(sm, -1, s, 0, &t) == FROST_OK && t.dtype == FROST_DTYPE_FLOAT &&
          t.is_ref && t.has_shape && t.shape.rank == 0);
    frost_savedmodel_free(sm);
    /* half_plus_three's TensorInfos carry no tensor_shape at all */
    CHECK(frost_savedmodel_open(sm_dir("saved_model_half_plus_three/00000123"), &sm, NULL) == FROST_OK);
    s = frost_savedmodel_find_signature(sm, -1, NULL);
    CHECK(frost_savedmodel_signature_input(sm, -1, s, 0, &t) == FROST_OK && t.dtype == FROST_DTYPE_FLOAT &&
          !t.is_ref && !t.has_shape && t.shape.rank == -1);
    frost_savedmodel_free(sm);
}

static void test_load_signature(void) {
    char *err = NULL;
    frost_graph *g = NULL;
    CHECK(frost_path_is_savedmodel(sm_dir(HP2)) == 1);
    CHECK(frost_path_is_savedmodel(sm_dir(HP2 "/saved_model.pb")) == 1);
    CHECK(frost_path_is_savedmodel(tu_path("%s/models/x.pb", tu_shared_dir())) == 0);
    CHECK(frost_path_is_savedmodel(NULL) == 0);

    const char *serve[] = {"serve"};
    CHECK(frost_graph_load_signature(sm_dir(HP2), serve, 1, "regress_x2_to_y3", &g, &err) == FROST_OK);
    if (g) expect_run(g, 0.5f, 3.0f, "regress_x2_to_y3");
    frost_graph_free(g);
    CHECK(frost_graph_load_signature(sm_dir(HP2 "/saved_model.pb"), NULL, 0, NULL, &g, &err) == FROST_OK);
    if (g) expect_run(g, 0.5f, 2.0f, "serving_default");
    frost_graph_free(g);
    CHECK(frost_graph_load_signature(sm_dir("saved_model_half_plus_two_tf2_cpu/00000123"), NULL, 0,
                                     "regress_x2_to_y3", &g, &err) == FROST_OK);
    frost_graph_free(g);
    CHECK(frost_graph_load_signature(sm_dir(HP2), NULL, 0, "nope", &g, &err) == FROST_E_NOT_FOUND && !g);
    CHECK(err && strstr(err, "no signature 'nope'"));
    frost_free(err);
    CHECK(frost_graph_load_signature(sm_dir("saved_model_counter/00000123"), NULL, 0, NULL, &g, &err) ==
          FROST_E_NOT_FOUND);
    CHECK(err && strstr(err, "no 'serving_default' signature; choose one of: 'get_counter'"));
    frost_free(err);
    CHECK(frost_graph_load_signature(sm_dir("saved_model_counter/00000123"), NULL, 0, "incr_counter", &g, &err) ==
          FROST_E_UNSUPPORTED_OP);
    frost_free(err);
    /* a GraphDef: as frost_graph_load without a signature; refused with one */
    const char *pb = tu_path("%s/frozen.pb", tu_tmp_dir());
    void *data = NULL;
    size_t len = 0;
    frost_savedmodel *sm = NULL;
    CHECK(frost_savedmodel_open(sm_dir(HP2), &sm, NULL) == FROST_OK);
    CHECK(frost_savedmodel_freeze(sm, -1, -1, &data, &len, NULL) == FROST_OK);
    CHECK(tu_write_file(pb, data, len) == 0);
    frost_free(data);
    frost_savedmodel_free(sm);
    CHECK(frost_graph_load_signature(pb, NULL, 0, NULL, &g, &err) == FROST_OK);
    if (g) expect_run(g, 0.5f, 2.0f, "the frozen .pb");
    frost_graph_free(g);
    CHECK(frost_graph_load_signature(pb, NULL, 0, "serving_default", &g, &err) == FROST_E_INVALID_ARGUMENT && !g);
    CHECK(err && strstr(err, "a frozen GraphDef has no signatures"));
    frost_free(err);
    CHECK(frost_graph_load_signature(pb, serve, 1, NULL, &g, &err) == FROST_E_INVALID_ARGUMENT);
    frost_free(err);
    CHECK(frost_graph_load_signature(NULL, NULL, 0, NULL, &g, &err) == FROST_E_INVALID_ARGUMENT);
    frost_free(err);
    CHECK(frost_graph_load_signature(pb, NULL, 0, NULL, NULL, NULL) == FROST_E_INVALID_ARGUMENT);
}

int main(void) {
    if (!tu_shared_dir() || access(sm_dir(HP2), F_OK)) {
        printf("../shared/savedmodels not found: skipped\n");
        return 77;
    }
    test_select();
    test_tensor_info_flags();
    test_load_signature();
    return tu_done();
}
