/* frost-test-labels: asan */
/* frost_options as an extensible struct: struct_size set by
 * frost_options_init(); a program built against an older, smaller header
 * (its struct ends earlier) still compiles, every field past its struct_size
 * taking its default, and the library reads nothing past struct_size (the
 * old struct is allocated at its exact size, for ASan); a struct_size of 0
 * (init not called), too small, too large or ending inside a field is
 * FROST_E_INVALID_ARGUMENT with a message saying why; a newer, larger struct
 * is accepted when the fields this library does not know are zero; the
 * winograd setting and the debug flags are checked. */
#include <stdlib.h>
#include <string.h>

#include "frost.h"
#include "pb/pbwriter.h"
#include "testutil.h"

#define D(...) ((const int64_t[]){__VA_ARGS__})
#define I32(...) ((const int32_t[]){__VA_ARGS__})
#define IN(...) ((const char *const[]){__VA_ARGS__, NULL})

/* x [N,6,6,3] -> Conv 3x3 (3->4) + BiasAdd + Relu -> Mean[1,2] -> y [N,4] */
static frost_graph *graph(fr_gdw *w) {
    float k[3 * 3 * 3 * 4];
    for (int i = 0; i < 108; i++) k[i] = (float)((i * 5) % 13) / 13.0f - 0.4f;
    fr_gdw_placeholder(w, "x", 4, D(-1, 6, 6, 3));
    fr_gdw_const_f(w, "k", 4, D(3, 3, 3, 4), k);
    fr_gdw_const_f(w, "b", 1, D(4), (const float[]){0.1f, -0.2f, 0.3f, 0.0f});
    fr_gdw_node(w, "conv", "Conv2D", IN("x", "k"));
    fr_gdw_attr_str(w, "padding", "SAME");
    fr_gdw_attr_ints(w, "strides", 4, D(1, 1, 1, 1));
    fr_gdw_node(w, "bias", "BiasAdd", IN("conv", "b"));
    fr_gdw_node(w, "relu", "Relu", IN("bias"));
    fr_gdw_const_i32(w, "axes", 1, D(2), I32(1, 2));
    fr_gdw_node(w, "y", "Mean", IN("relu", "axes"));
    size_t len;
    const uint8_t *bytes = fr_gdw_finish(w, &len);
    frost_graph *g = NULL;
    CHECK(bytes && frost_graph_load_memory(bytes, len, 0, &g, NULL) == FROST_OK);
    return g;
}

static float input[2 * 6 * 6 * 3];

/* Compiles with `opt`; on success runs 2 items into out[8] and fills *stats;
 * checks that profiling is on exactly when `profiling`. */
static frost_status compile_run(const frost_graph *g, const frost_options *opt, int profiling, float *out,
                                frost_compile_stats *stats, frost_model **model_out, char **err) {
    frost_model *m = NULL;
    frost_status st = frost_model_compile(g, opt, &m, err);
    if (st != FROST_OK) return st;
    frost_context *c = NULL;
    st = frost_context_create(m, &c, NULL);
    if (st == FROST_OK) st = frost_context_run1(c, 2, input, out);
    if (st == FROST_OK) st = frost_model_stats(m, stats);
    const frost_op_profile *prof = NULL;
    int n = 0;
    CHECK(c && frost_context_profile(c, &prof, &n) == (profiling ? FROST_OK : FROST_E_INVALID_ARGUMENT));
    frost_context_free(c);
    *model_out = m;
    return st;
}

/* The compile fails with FROST_E_INVALID_ARGUMENT and a message containing `want`. */
static void refused(const frost_graph *g, const frost_options *opt, const char *what, const char *want) {
    frost_model *m = NULL;
    char *err = NULL;
    frost_status st = frost_model_compile(g, opt, &m, &err);
    CHECK_MSG(st == FROST_E_INVALID_ARGUMENT && !m, "%s: status %d", what, st);
    CHECK_MSG(err && strstr(err, want), "%s: message '%s' lacks '%s'", what, err ? err : "(none)", want);
    frost_free(err);
    frost_model_free(m);
}

int main(void) {
    for (size_t i = 0; i < sizeof input / sizeof *input; i++) input[i] = (float)((i * 7) % 17) / 8.0f - 1.0f;
    fr_gdw *w = fr_gdw_new();
    frost_graph *g = graph(w);
    if (!g) {
        fr_gdw_free(w);
        return tu_done();
    }

    /* init: struct_size = the program's sizeof, every other byte zero */
    frost_options o;
    memset(&o, 0xA5, sizeof o);
    CHECK(frost_options_init(&o) == FROST_OK && o.struct_size == sizeof(frost_options));
    CHECK(o.inputs == NULL && o.max_batch == 0 && o.winograd == FROST_WINOGRAD_DEFAULT && o.debug_flags == 0 &&
          o.micro_batch == 0 && o.profiling == 0);
    CHECK(frost_options_init_sized(NULL, sizeof o) == FROST_E_INVALID_ARGUMENT);
    CHECK(frost_options_init_sized(&o, 3) == FROST_E_INVALID_ARGUMENT && o.struct_size == sizeof o);

    /* the defaults (NULL options), and the same from an initialised struct */
    float want[8], got[8];
    frost_compile_stats s_def, s;
    frost_model *def = NULL, *m = NULL;
    CHECK(compile_run(g, NULL, 0, want, &s_def, &def, NULL) == FROST_OK);
    CHECK(compile_run(g, &o, 0, got, &s, &m, NULL) == FROST_OK && !memcmp(got, want, sizeof got));
    CHECK(s_def.fused_ops > 0 && s.fused_ops == s_def.fused_ops && s.steps == s_def.steps);
    frost_model_free(m);

    /* An old program: its header's frost_options ended before `winograd`
     * (the fields up to `precision`, the same layout), allocated at exactly
     * that size (ASan: nothing past it is read).  The fields it has are used
     * (max_batch), the others take their defaults. */
    const size_t old_size = offsetof(frost_options, winograd);
    frost_options fields;
    memset(&fields, 0xA5, sizeof fields);
    CHECK(frost_options_init_sized(&fields, old_size) == FROST_OK && fields.struct_size == old_size);
    CHECK(fields.max_batch == 0 && fields.precision == FROST_PRECISION_FP32 && fields.debug_flags == 0xA5A5A5A5u);
    fields.max_batch = 3;
    fields.threads = 1;
    unsigned char *old = malloc(old_size);
    if (old) {
        memcpy(old, &fields, old_size);
        char *err = NULL;
        CHECK_MSG(compile_run(g, (const frost_options *)(void *)old, 0, got, &s, &m, &err) == FROST_OK,
                  "old layout: %s", err ? err : "");
        frost_free(err);
        CHECK(m && frost_model_max_batch(m) == 3 && frost_model_micro_batch(m) == frost_model_micro_batch(def));
        CHECK(!memcmp(got, want, sizeof got) && s.fused_ops == s_def.fused_ops);
        frost_model_free(m);
        free(old);
    }
    /* ... and whatever lies past its struct_size is not read: here bytes that
     * would be an invalid winograd, micro_batch and debug_flags */
    unsigned char *buf = malloc(sizeof(frost_options) + 64);
    if (buf) {
        memset(buf, 0xA5, sizeof(frost_options) + 64);
        frost_options *p = (frost_options *)buf;
        CHECK(frost_options_init_sized(p, offsetof(frost_options, winograd)) == FROST_OK);
        CHECK(buf[offsetof(frost_options, winograd)] == 0xA5);
        p->max_batch = 2;
        CHECK(compile_run(g, p, 0, got, &s, &m, NULL) == FROST_OK && !memcmp(got, want, sizeof got));
        frost_model_free(m);
        /* the smallest accepted: only what to compile */
        p->struct_size = FROST_OPTIONS_MIN_SIZE;
        CHECK(compile_run(g, p, 0, got, &s, &m, NULL) == FROST_OK && m && frost_model_max_batch(m) == 64);
        frost_model_free(m);
        p->struct_size = FROST_OPTIONS_MIN_SIZE - 1;
        refused(g, p, "struct_size below the minimum", "frost_options_init");
        p->struct_size = offsetof(frost_options, max_batch) + 2;
        refused(g, p, "struct_size inside max_batch", "ends inside a field");
        free(buf);
    }

    /* init not called: struct_size 0 */
    frost_options raw;
    memset(&raw, 0, sizeof raw);
    raw.max_batch = 2;
    refused(g, &raw, "struct_size 0", "struct_size is 0");
    raw.struct_size = 4096;
    refused(g, &raw, "struct_size 4096", "initialise the options with frost_options_init()");

    /* a newer program: a larger struct, its extra fields zero (their
     * defaults) is fine; a field set that this library does not know is not */
    unsigned char *big = calloc(1, sizeof(frost_options) + 32);
    if (big) {
        frost_options *p = (frost_options *)big;
        CHECK(frost_options_init_sized(p, sizeof(frost_options) + 32) == FROST_OK);
        CHECK(compile_run(g, p, 0, got, &s, &m, NULL) == FROST_OK && !memcmp(got, want, sizeof got));
        frost_model_free(m);
        big[sizeof(frost_options) + 8] = 1;
        refused(g, p, "unknown field set", "does not know");
        free(big);
    }

    /* the settings: winograd is one of three, debug_flags only FROST_DEBUG_* */
    frost_options_init(&o);
    o.winograd = (frost_winograd)3;
    refused(g, &o, "winograd 3", "invalid option value");
    frost_options_init(&o);
    o.debug_flags = 0x8;
    refused(g, &o, "debug_flags 0x8", "FROST_DEBUG_");
    const frost_winograd modes[] = {FROST_WINOGRAD_DEFAULT, FROST_WINOGRAD_OFF, FROST_WINOGRAD_ALL};
    for (int k = 0; k < 3; k++) {
        frost_options_init(&o);
        o.winograd = modes[k];
        o.profiling = 1;
        CHECK_MSG(compile_run(g, &o, 1, got, &s, &m, NULL) == FROST_OK && tu_max_rel_diff(got, want, 8) <= 1e-4,
                  "winograd %d", k);
        frost_model_free(m);
    }
    /* FROST_DEBUG_NO_OPTIMIZE: nothing fused, the same results;
     * FROST_DEBUG_ONEDNN_ONLY, FROST_DEBUG_PORTABLE_KERNELS: the same results */
    frost_options_init(&o);
    o.debug_flags = FROST_DEBUG_NO_OPTIMIZE;
    CHECK(compile_run(g, &o, 0, got, &s, &m, NULL) == FROST_OK && s.fused_ops == 0 && s.steps > s_def.steps &&
          tu_max_rel_diff(got, want, 8) <= 1e-4);
    frost_model_free(m);
    frost_options_init(&o);
    o.debug_flags = FROST_DEBUG_ONEDNN_ONLY | FROST_DEBUG_NO_OPTIMIZE;
    CHECK(compile_run(g, &o, 0, got, &s, &m, NULL) == FROST_OK && s.fused_ops == 0 &&
          tu_max_rel_diff(got, want, 8) <= 1e-4);
    frost_model_free(m);
    frost_options_init(&o);
    o.debug_flags = FROST_DEBUG_PORTABLE_KERNELS;
    CHECK(compile_run(g, &o, 0, got, &s, &m, NULL) == FROST_OK && tu_max_rel_diff(got, want, 8) <= 1e-4);
    frost_model_free(m);

    frost_model_free(def);
    frost_graph_free(g);
    fr_gdw_free(w);
    return tu_done();
}
