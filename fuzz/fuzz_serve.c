/* libFuzzer target: the HTTP server's request handling below the HTTP layer
 * (tools/serve/serve_json.c): the nesting-depth / value-count pre-scan
 * (sv_json_scan), predict and classify JSON bodies ("instances" / "inputs",
 * {"b64": ...} images, "examples"), raw image bodies, base64, and the JSON
 * responses built from what parses.  Two tiny models are compiled once:
 *   "img"  x [-1, 4, 4, 3] -> Reshape [-1, 48] -> MatMul [48, 3] -> Softmax
 *   "two"  a [-1, 3], b [-1, 3] -> AddV2
 * The first byte picks what the rest is: (b & 3) 0 predict JSON on "img",
 * 1 classify JSON on "img", 2 predict JSON on "two", 3 a raw image body on
 * "img"; (b & 4) fast JPEG decode; (b & 8) also the body's "examples" written as
 * tf.Example protos (tools/serve/serve_example.c). */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frost.h"
#include "pb/pbwriter.h"
#include "serve/serve.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_MAX_BATCH 4

static sv_model g_models[2];
static frost_context *g_ctx[2];
static int g_ready; /* 1: ok, -1: setup failed */
static int g_verbose; /* FUZZ_VERBOSE set: say what each input did (checking seeds) */

static int setup_model(sv_model *m, const char *name, const uint8_t *pb, size_t len) {
    memset(m, 0, sizeof *m);
    m->name = (char *)name;
    m->image_input = -1;
    m->top_k = 2;
    m->pp.mean = 127.5f;
    m->pp.std = 127.5f;
    m->pp.resize = FROST_RESIZE_TF1;
    frost_options o;
    frost_options_init(&o);
    o.max_batch = FUZZ_MAX_BATCH;
    o.threads = 1;
    o.backend = FROST_BACKEND_REFERENCE;
    frost_graph *g = NULL;
    if (frost_graph_load_memory(pb, len, 1, &g, NULL) != FROST_OK) return -1;
    frost_status st = frost_model_compile(g, &o, &m->model, NULL);
    frost_graph_free(g);
    if (st != FROST_OK) return -1;
    if (sv_model_describe(m)) return -1;
    m->sig_key = (char *)"serving_default";
    for (int i = 0; i < m->num_inputs; i++) m->in_key[i] = (char *)frost_model_input_name(m->model, i);
    for (int j = 0; j < m->num_outputs; j++) m->out_key[j] = (char *)frost_model_output_name(m->model, j);
    return 0;
}

/* The tf.Example writer against bytes encoded independently (by hand, from
 * example.proto and feature.proto): a float feature, the context merged
 * first, packed int64s, bytes, a boolean. */
static int check_examples(void) {
    static const char body[] = "{\"examples\": [{\"x\": 2.0}, {\"n\": [1, 2], \"s\": \"ab\", \"t\": true}], "
                               "\"context\": {\"c\": [0.5, 1e1]}}";
    static const char *const want[2] = {
        "0a130a110a0163120c120a0a080000003f000020410a0f0a0d0a0178120812060a0400000040",
        "0a130a110a0163120c120a0a080000003f000020410a260a0b0a016e12061a040a0201020a0b0a017312060a040a0261620a0a0a01"
        "7412051a030a0101"};
    sv_limits lim = {1 << 20, 16, FUZZ_MAX_BATCH, 1 << 16, 10};
    char err[256];
    int code = 0, ok = 0;
    struct json_t *root = sv_json_parse(&lim, body, sizeof body - 1, 64, err, sizeof err, &code);
    sv_examples ex;
    if (root && sv_examples_from_json(root, &lim, &ex, err, sizeof err, &code) == 0) {
        ok = ex.count == 2;
        for (int k = 0; ok && k < 2; k++) {
            ok = ex.size[k] * 2 == strlen(want[k]);
            for (size_t i = 0; ok && i < ex.size[k]; i++) {
                char hex[3];
                snprintf(hex, sizeof hex, "%02x", ex.data[k][i]);
                ok = !memcmp(hex, want[k] + 2 * i, 2);
            }
        }
        sv_examples_free(&ex);
    }
    sv_json_free(root);
    if (!ok) fprintf(stderr, "fuzz_serve: the tf.Example writer does not write the expected bytes\n");
    return ok;
}

static int setup(void) {
    int ok = check_examples();
    fr_gdw *w = fr_gdw_new();
    fr_gdw_placeholder(w, "x", 4, (const int64_t[]){-1, 4, 4, 3});
    fr_gdw_const_i32(w, "shape", 1, (const int64_t[]){2}, (const int32_t[]){-1, 48});
    fr_gdw_node(w, "flat", "Reshape", (const char *[]){"x", "shape", NULL});
    float k[48 * 3];
    for (int i = 0; i < 48 * 3; i++) k[i] = (float)((i * 7) % 11 - 5) * 0.1f;
    fr_gdw_const_f(w, "k", 2, (const int64_t[]){48, 3}, k);
    fr_gdw_node(w, "logits", "MatMul", (const char *[]){"flat", "k", NULL});
    fr_gdw_node(w, "prob", "Softmax", (const char *[]){"logits", NULL});
    size_t n = 0;
    const uint8_t *pb = fr_gdw_finish(w, &n);
    ok = ok && pb && setup_model(&g_models[0], "img", pb, n) == 0;
    fr_gdw_free(w);

    w = fr_gdw_new();
    fr_gdw_placeholder(w, "a", 2, (const int64_t[]){-1, 3});
    fr_gdw_placeholder(w, "b", 2, (const int64_t[]){-1, 3});
    fr_gdw_node(w, "sum", "AddV2", (const char *[]){"a", "b", NULL});
    pb = fr_gdw_finish(w, &n);
    ok = ok && pb && setup_model(&g_models[1], "two", pb, n) == 0;
    fr_gdw_free(w);
    for (int i = 0; ok && i < 2; i++) ok = frost_context_create(g_models[i].model, &g_ctx[i], NULL) == FROST_OK;
    return ok ? 1 : -1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (!g_ready) {
        g_ready = setup();
        g_verbose = getenv("FUZZ_VERBOSE") != NULL;
    }
    if (g_ready < 0) abort(); /* the harness itself is broken: say so loudly */
    if (size < 1) return 0;
    int mode = data[0] & 3, fast = (data[0] >> 2) & 1;
    const char *body = (const char *)data + 1;
    size_t len = size - 1;

    /* The pre-scan and base64 on arbitrary bytes. */
    size_t values = 0;
    (void)sv_json_scan(body, len, 1 + (data[0] >> 4), &values);
    size_t blen = 0;
    free(sv_base64_decode(body, len, &blen));

    sv_limits lim;
    memset(&lim, 0, sizeof lim);
    lim.max_body_bytes = 1 << 20;
    lim.max_json_depth = 16;
    lim.max_instances = FUZZ_MAX_BATCH;
    lim.max_pixels = 1 << 16;
    if (data[0] & 8) {
        int ecode = 0;
        char eerr[256];
        struct json_t *root = sv_json_parse(&lim, body, len, 64, eerr, sizeof eerr, &ecode);
        sv_examples ex;
        if (root && sv_examples_from_json(root, &lim, &ex, eerr, sizeof eerr, &ecode) == 0) {
            if (ex.count < 1 || ex.count > FUZZ_MAX_BATCH) abort();
            sv_examples_free(&ex);
        } else if (ecode < 400 || ecode > 599)
            abort();
        sv_json_free(root);
    }
    sv_model *m = &g_models[mode == 2 ? 1 : 0];
    frost_context *ctx = g_ctx[mode == 2 ? 1 : 0];
    m->fast_decode = fast;
    sv_request req;
    memset(&req, 0, sizeof req);
    char err[512];
    int code = 0, rc;
    if (mode == 3) rc = sv_request_from_image(m, &lim, body, len, &req, err, sizeof err, &code);
    else rc = sv_request_parse_json(m, &lim, body, len, mode == 1, &req, err, sizeof err, &code);
    if (g_verbose) fprintf(stderr, "fuzz_serve: mode %d: %s%s\n", mode, rc ? "error: " : "ok", rc ? err : "");
    size_t out_len = 0;
    if (rc == 0) {
        if (req.count < 1 || req.count > FUZZ_MAX_BATCH) abort(); /* the limit was not enforced */
        if (frost_context_run(ctx, req.count, (const float *const *)req.in_ptr, req.out_ptr) == FROST_OK) {
            free(sv_response_predict(m, &req, &out_len));
            free(sv_response_classify(m, &req, 1 + (int)(len % 4), &out_len));
        }
    } else {
        if (code < 400 || code > 599) abort(); /* a failure must carry an HTTP error code */
        free(sv_response_error(err, &out_len));
    }
    sv_request_free(&req);
    return 0;
}
