/* oneDNN backend end to end on the real models of ../shared/models.
 *
 *  - FP32: for every shared image, the oneDNN output equals the reference
 *    backend's within a relative 1e-4, at batch 1 and with all images in one
 *    batch, with 1 and 2 threads; and equals the independently computed
 *    expected tensors (TensorFlow.js) within 1e-4 where ../shared has them.
 *  - Every convolution / pooling / concat / softmax step runs on a oneDNN
 *    kernel that is not oneDNN's reference code ("onednn:ref" never appears).
 *  - bf16 (opt-in): prints top-1 agreement and the max abs difference vs FP32
 *    for every model and image; top-1 must be unchanged wherever FP32's top-1
 *    leads its runner-up by more than 0.05.
 *  - Winograd (opt-in): outputs within 1e-3 of FP32, top-1 unchanged.
 *  - Several contexts of one model running at once from several threads
 *    (their oneDNN steps share the model's cores) give the same results. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "frost.h"
#include "testutil.h"

#define MAX_IMAGES 8

static const char *images[] = {"grace_hopper.jpg", "grace_hopper.bmp", "cat.bmp", "bird.bmp", "dragonfly.bmp"};
#define N_IMAGES ((int)(sizeof(images) / sizeof(images[0])))

typedef struct model_case {
    const char *file;
    int size;
} model_case;

static const model_case models[] = {{"mobilenet_v1_0.25_128_quant_float", 128}, {"mobilenet_v2_1.0_224_quant_float", 224}};

enum { WINOGRAD = 1, ONEDNN_ONLY = 2 }; /* load() flags */

static frost_model *load(const char *path, frost_backend be, frost_precision prec, int flags, int threads,
                         int profiling) {
    frost_options o;
    frost_options_init(&o);
    o.backend = be;
    o.precision = prec;
    o.winograd = flags & WINOGRAD ? FROST_WINOGRAD_ALL : FROST_WINOGRAD_DEFAULT;
    o.debug_flags = flags & ONEDNN_ONLY ? FROST_DEBUG_ONEDNN_ONLY : 0;
    o.threads = threads;
    o.profiling = profiling;
    o.max_batch = MAX_IMAGES;
    frost_model *m = NULL;
    char *err = NULL;
    frost_status s = frost_model_load(path, &o, &m, &err);
    CHECK_MSG(s == FROST_OK, "load %s: %s", path, err ? err : frost_strerror(s));
    frost_free(err);
    return m;
}

/* Runs `batch` inputs through a fresh context of m. */
static int run(frost_model *m, int batch, const float *in, float *out) {
    frost_context *c = NULL;
    if (!m || frost_context_create(m, &c, NULL) != FROST_OK) return -1;
    frost_status s = frost_context_run1(c, batch, in, out);
    CHECK_MSG(s == FROST_OK, "run: %s", frost_context_error(c));
    frost_context_free(c);
    return s == FROST_OK ? 0 : -1;
}

static int argmax(const float *p, int n, float *margin) {
    int best = 0, second = -1;
    for (int i = 1; i < n; i++) {
        if (p[i] > p[best]) {
            second = best;
            best = i;
        } else if (second < 0 || p[i] > p[second]) {
            second = i;
        }
    }
    if (margin) *margin = second >= 0 ? p[best] - p[second] : p[best];
    return best;
}

/* Every step that oneDNN implements must run on oneDNN (or frost's own kernels
 * next to it: pooling, Winograd, the indirect GEMM; none of those with
 * onednn_only), and never on oneDNN's "ref:" code. */
static void check_kernels(frost_model *m, int batch, const float *in, float *out, const char *name, int onednn_only) {
    frost_context *c = NULL;
    if (!m || frost_context_create(m, &c, NULL) != FROST_OK) return;
    frost_context_run1(c, batch, in, out);
    const frost_op_profile *p = NULL;
    int n = 0;
    CHECK(frost_context_profile(c, &p, &n) == FROST_OK);
    int convs = 0;
    for (int i = 0; i < n; i++) {
        const char *k = p[i].kernel ? p[i].kernel : "";
        CHECK_MSG(strncmp(k, "onednn:ref", 10) != 0, "%s: step %s runs oneDNN reference code %s", name, p[i].name, k);
        if (p[i].op && (strstr(p[i].op, "Conv2D") || strstr(p[i].op, "DepthwiseConv2dNative") ||
                        strstr(p[i].op, "Pool") || strstr(p[i].op, "Softmax") || strstr(p[i].op, "Concat"))) {
            CHECK_MSG(strncmp(k, "onednn:", 7) == 0 || (!onednn_only && strncmp(k, "frost:", 6) == 0),
                      "%s: step %s (%s) not on oneDNN%s: %s", name, p[i].name, p[i].op,
                      onednn_only ? " (onednn_only)" : " or frost's own fast kernels", k);
            convs++;
        }
    }
    CHECK_MSG(convs > 10, "%s: only %d convolution/pool steps profiled", name, convs);
    frost_context_free(c);
}

typedef struct worker {
    frost_model *m;
    const float *in;
    float *out;
    int batch, runs;
    frost_status st;
} worker;

static void *worker_main(void *arg) {
    worker *w = arg;
    frost_context *c = NULL;
    w->st = frost_context_create(w->m, &c, NULL);
    for (int i = 0; i < w->runs && w->st == FROST_OK; i++) w->st = frost_context_run1(c, w->batch, w->in, w->out);
    frost_context_free(c);
    return NULL;
}

/* Three threads, three contexts, batch sizes 1, 2 and n, at the same time. */
static void test_concurrent(frost_model *m, const float *in, const float *ref, size_t in_n, size_t out_n, int n,
                            const char *name) {
    worker w[3];
    pthread_t t[3];
    int batches[3] = {1, 2, n};
    for (int i = 0; i < 3; i++) {
        w[i] = (worker){m, in, calloc(out_n * (size_t)batches[i], sizeof(float)), batches[i], 4, FROST_OK};
        CHECK(pthread_create(&t[i], NULL, worker_main, &w[i]) == 0);
    }
    for (int i = 0; i < 3; i++) {
        pthread_join(t[i], NULL);
        CHECK_MSG(w[i].st == FROST_OK, "%s: concurrent context %d failed", name, i);
        double d = tu_max_rel_diff(w[i].out, ref, out_n * (size_t)w[i].batch);
        CHECK_MSG(d <= 1e-4, "%s: concurrent context batch %d rel diff %g", name, w[i].batch, d);
        free(w[i].out);
    }
    (void)in_n;
}

static void test_model(const char *shared, const model_case *mc) {
    const char *path = tu_path("%s/models/%s.pb", shared, mc->file);
    size_t in_n = (size_t)mc->size * mc->size * 3, out_n = 1001;
    float *in = calloc(in_n * MAX_IMAGES, sizeof(float));
    float *ref = calloc(out_n * MAX_IMAGES, sizeof(float)), *fast = calloc(out_n * MAX_IMAGES, sizeof(float));
    float *tmp = calloc(out_n * MAX_IMAGES, sizeof(float));
    int n = 0;
    frost_preprocess pp = {mc->size, mc->size, 128.f, 128.f, FROST_RESIZE_TF1};
    for (int i = 0; i < N_IMAGES && n < MAX_IMAGES; i++) {
        frost_image *img = NULL;
        if (frost_image_load(tu_path("%s/images/%s", shared, images[i]), NULL, &img, NULL) != FROST_OK) continue;
        if (frost_image_preprocess(img, &pp, in + in_n * (size_t)n) == FROST_OK) n++;
        frost_image_free(img);
    }
    CHECK_MSG(n == N_IMAGES, "%s: %d of %d images prepared", mc->file, n, N_IMAGES);

    frost_model *mref = load(path, FROST_BACKEND_REFERENCE, FROST_PRECISION_FP32, 0, 1, 0);
    frost_model *m2 = load(path, FROST_BACKEND_ONEDNN, FROST_PRECISION_FP32, 0, 2, 1);
    frost_model *m1 = load(path, FROST_BACKEND_ONEDNN, FROST_PRECISION_FP32, 0, 1, 0);
    frost_model *mb = load(path, FROST_BACKEND_ONEDNN, FROST_PRECISION_BF16, 0, 2, 0);
    frost_model *mw = load(path, FROST_BACKEND_ONEDNN, FROST_PRECISION_FP32, WINOGRAD, 2, 0);
    frost_model *mo = load(path, FROST_BACKEND_ONEDNN, FROST_PRECISION_FP32, ONEDNN_ONLY, 2, 1);
    if (mref && m2) {
        frost_compile_stats st;
        CHECK(frost_model_stats(m2, &st) == FROST_OK && st.backend && strcmp(st.backend, "onednn") == 0);
    }
    /* FP32, one image at a time and all in one batch */
    for (int i = 0; i < n; i++) {
        if (run(mref, 1, in + in_n * i, ref + out_n * i) != 0) break;
        run(m2, 1, in + in_n * i, fast + out_n * i);
        double d = tu_max_rel_diff(fast + out_n * i, ref + out_n * i, out_n);
        CHECK_MSG(d <= 1e-4, "%s %s: oneDNN vs reference rel diff %g", mc->file, images[i], d);
        run(m1, 1, in + in_n * i, tmp);
        d = tu_max_rel_diff(tmp, ref + out_n * i, out_n);
        CHECK_MSG(d <= 1e-4, "%s %s: oneDNN 1 thread vs reference rel diff %g", mc->file, images[i], d);
    }
    if (n > 1 && run(m2, n, in, tmp) == 0) {
        double d = tu_max_rel_diff(tmp, ref, out_n * (size_t)n);
        CHECK_MSG(d <= 1e-4, "%s: oneDNN batch %d vs reference rel diff %g", mc->file, n, d);
    }
    check_kernels(m2, 1, in, tmp, mc->file, 0);
    /* onednn_only: oneDNN's primitives everywhere, the same results */
    check_kernels(mo, 1, in, tmp, mc->file, 1);
    if (n > 0 && run(mo, 1, in, tmp) == 0) {
        double d = tu_max_rel_diff(tmp, ref, out_n);
        CHECK_MSG(d <= 1e-4, "%s: onednn_only vs reference rel diff %g", mc->file, d);
    }
    if (m2 && n > 2) test_concurrent(m2, in, ref, in_n, out_n, n, mc->file);

    /* expected tensors computed by TensorFlow.js */
    for (int i = 0; i < N_IMAGES; i++) {
        char stem[64];
        snprintf(stem, sizeof(stem), "%s", images[i]);
        *strrchr(stem, '.') = 0;
        size_t isz = 0, osz = 0;
        float *ein = tu_read_file(tu_path("%s/expected/tensors/%s__%s.input.f32", shared, mc->file, stem), &isz);
        float *eout = tu_read_file(tu_path("%s/expected/tensors/%s__%s.output.f32", shared, mc->file, stem), &osz);
        if (ein && eout && isz == in_n * sizeof(float) && osz == out_n * sizeof(float) && run(m2, 1, ein, tmp) == 0) {
            double d = tu_max_abs_diff(tmp, eout, out_n);
            CHECK_MSG(d <= 1e-4, "%s %s: oneDNN vs expected tensor abs diff %g", mc->file, stem, d);
        }
        free(ein);
        free(eout);
    }

    /* bf16 and Winograd reports */
    for (int i = 0; i < n && mb; i++) {
        if (run(mb, 1, in + in_n * i, tmp) != 0) break;
        float margin;
        int t32 = argmax(ref + out_n * i, (int)out_n, &margin), t16 = argmax(tmp, (int)out_n, NULL);
        double d = tu_max_abs_diff(tmp, ref + out_n * i, out_n);
        printf("bf16     %-36s %-18s top-1 fp32 %4d bf16 %4d (%s)  max abs diff %.5f  (fp32 margin %.4f)\n",
               mc->file, images[i], t32, t16, t32 == t16 ? "same" : "DIFFERENT", d, margin);
        if (margin > 0.05f) CHECK_MSG(t32 == t16, "%s %s: bf16 changed top-1", mc->file, images[i]);
        CHECK_MSG(d < 0.1, "%s %s: bf16 max abs diff %g", mc->file, images[i], d);
    }
    for (int i = 0; i < n && mw; i++) {
        if (run(mw, 1, in + in_n * i, tmp) != 0) break;
        int t32 = argmax(ref + out_n * i, (int)out_n, NULL), tw = argmax(tmp, (int)out_n, NULL);
        double d = tu_max_abs_diff(tmp, ref + out_n * i, out_n);
        printf("winograd %-36s %-18s top-1 fp32 %4d winograd %4d  max abs diff %.2g\n", mc->file, images[i], t32,
               tw, d);
        CHECK_MSG(t32 == tw && d <= 1e-3, "%s %s: Winograd top-1 %d vs %d, diff %g", mc->file, images[i], tw, t32, d);
    }
    frost_model_free(mref);
    frost_model_free(m1);
    frost_model_free(m2);
    frost_model_free(mb);
    frost_model_free(mw);
    frost_model_free(mo);
    free(in);
    free(ref);
    free(fast);
    free(tmp);
}

int main(void) {
    const char *shared = tu_shared_dir();
    if (!shared) {
        fprintf(stderr, "no ../shared: skipped\n");
        return 77;
    }
#ifndef FROST_HAVE_ONEDNN
    fprintf(stderr, "frost built without oneDNN: skipped\n");
    return 77;
#endif
    for (size_t i = 0; i < sizeof(models) / sizeof(models[0]); i++) test_model(shared, &models[i]);
    return tu_done();
}
