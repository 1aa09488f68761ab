/* `frost classify --self_test`: a synthetic image goes through the whole
 * path (BMP bytes -> decoder -> preprocessing -> model) and the results are
 * checked for what must hold for any classifier; then the profile table. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "classify.h"

#define ST_W 61
#define ST_H 47

static void put32(unsigned char *p, unsigned v) {
    for (int i = 0; i < 4; i++) p[i] = (unsigned char)(v >> (8 * i));
}

/* Pixel (x, y) of the synthetic image: gradients and a block. */
static void st_pixel(int x, int y, unsigned char rgb[3]) {
    int block = x > ST_W / 3 && x < 2 * ST_W / 3 && y > ST_H / 3 && y < 2 * ST_H / 3;
    rgb[0] = (unsigned char)(x * 255 / (ST_W - 1));
    rgb[1] = (unsigned char)(y * 255 / (ST_H - 1));
    rgb[2] = (unsigned char)(block ? 230 : 20);
}

/* A bottom-up 24-bit BMP of the synthetic image. */
static unsigned char *st_bmp(size_t *len) {
    const size_t stride = ((ST_W * 3 + 3) / 4) * 4, off = 54;
    *len = off + stride * ST_H;
    unsigned char *b = calloc(1, *len);
    if (!b) return NULL;
    b[0] = 'B', b[1] = 'M';
    put32(b + 2, (unsigned)*len);
    put32(b + 10, (unsigned)off);
    put32(b + 14, 40);
    put32(b + 18, ST_W);
    put32(b + 22, ST_H);
    b[26] = 1, b[28] = 24;
    for (int y = 0; y < ST_H; y++)
        for (int x = 0; x < ST_W; x++) {
            unsigned char rgb[3], *d = b + off + (size_t)(ST_H - 1 - y) * stride + 3 * (size_t)x;
            st_pixel(x, y, rgb);
            d[0] = rgb[2], d[1] = rgb[1], d[2] = rgb[0];
        }
    return b;
}

#define ST_CHECK(cond, ...)                                                                                           \
    do {                                                                                                              \
        if (cond) {                                                                                                   \
            fprintf(log, "  ok    ");                                                                                 \
        } else {                                                                                                      \
            fprintf(log, "  FAIL  ");                                                                                 \
            failures++;                                                                                               \
        }                                                                                                             \
        fprintf(log, __VA_ARGS__);                                                                                    \
        fputc('\n', log);                                                                                             \
    } while (0)

int cls_self_test(const frost_model *model, const frost_preprocess *pp, FILE *log) {
    int failures = 0;
    fprintf(log, "self test:\n");
    size_t len = 0;
    unsigned char *bmp = st_bmp(&len);
    frost_image *img = NULL;
    char *err = NULL;
    frost_status st = bmp ? frost_image_decode(bmp, len, NULL, &img, &err) : FROST_E_NO_MEMORY;
    free(bmp);
    ST_CHECK(st == FROST_OK, "decode a generated %dx%d BMP%s%s", ST_W, ST_H, err ? ": " : "", err ? err : "");
    frost_free(err);
    if (st != FROST_OK) return 1;
    int exact = img->width == ST_W && img->height == ST_H;
    for (int y = 0; exact && y < ST_H; y++)
        for (int x = 0; x < ST_W; x++) {
            unsigned char rgb[3];
            st_pixel(x, y, rgb);
            if (memcmp(rgb, img->rgb + ((size_t)y * ST_W + x) * 3, 3)) exact = 0;
        }
    ST_CHECK(exact, "decoded pixels equal the generated ones");

    const size_t in_n = frost_model_input_size(model, 0), out_n = frost_model_output_size(model, 0);
    const size_t img_n = (size_t)pp->width * (size_t)pp->height * 3;
    ST_CHECK(in_n == img_n, "model input holds %zu values, a %dx%dx3 image %zu", in_n, pp->width, pp->height, img_n);
    int max_batch = frost_model_max_batch(model);
    int batch = max_batch >= 2 ? 2 : 1;
    float *in = malloc(img_n * sizeof(float) * 2), *out1 = malloc(out_n * sizeof(float)),
          *out2 = malloc(out_n * sizeof(float) * 2);
    frost_context *ctx = NULL;
    if (!in || !out1 || !out2 || in_n != img_n) goto done;

    st = frost_image_preprocess(img, pp, in);
    ST_CHECK(st == FROST_OK, "preprocess to %dx%d", pp->width, pp->height);
    float lo = (0.0f - pp->mean) / pp->std, hi = (255.0f - pp->mean) / pp->std;
    if (lo > hi) {
        float t = lo;
        lo = hi, hi = t;
    }
    int in_range = 1;
    for (size_t i = 0; i < img_n; i++)
        if (!(in[i] >= lo - 1e-5f && in[i] <= hi + 1e-5f)) in_range = 0;
    ST_CHECK(in_range, "preprocessed values lie in [%g, %g]", (double)lo, (double)hi);

    st = frost_context_create(model, &ctx, &err);
    ST_CHECK(st == FROST_OK, "create a context%s%s", err ? ": " : "", err ? err : "");
    frost_free(err);
    if (st != FROST_OK) goto done;
    st = frost_context_run1(ctx, 1, in, out1);
    ST_CHECK(st == FROST_OK, "run batch 1%s%s", st ? ": " : "", st ? frost_context_error(ctx) : "");
    if (st != FROST_OK) goto done;
    int finite = 1, probs = 1;
    double sum = 0;
    for (size_t i = 0; i < out_n; i++) {
        if (!isfinite(out1[i])) finite = 0;
        if (!(out1[i] >= 0.0f && out1[i] <= 1.0f)) probs = 0;
        sum += out1[i];
    }
    ST_CHECK(finite, "all %zu outputs are finite", out_n);
    if (probs && fabs(sum - 1.0) < 0.5)
        ST_CHECK(fabs(sum - 1.0) < 1e-3, "outputs are probabilities: they sum to %.6f", sum);
    else
        fprintf(log, "  note  outputs are not probabilities (sum %g): no softmax at the output\n", sum);

    if (batch == 2) {
        /* A second, different item must not change the first one's result. */
        for (size_t i = 0; i < img_n; i++) in[img_n + i] = -in[i];
        st = frost_context_run1(ctx, 2, in, out2);
        ST_CHECK(st == FROST_OK, "run batch 2%s%s", st ? ": " : "", st ? frost_context_error(ctx) : "");
        if (st == FROST_OK) {
            double worst = 0;
            for (size_t i = 0; i < out_n; i++) {
                double d = fabs((double)out2[i] - out1[i]) / fmax(1.0, fabs(out1[i]));
                if (!(d <= worst)) worst = d;
            }
            ST_CHECK(worst <= 1e-4, "batch item 0 equals the batch-1 result (max relative difference %.2g)", worst);
        }
    } else {
        fprintf(log, "  note  max batch is 1: batch consistency not checked\n");
    }
    /* Same input, same context: same output. */
    st = frost_context_run1(ctx, 1, in, out2);
    ST_CHECK(st == FROST_OK && !memcmp(out1, out2, out_n * sizeof(float)), "a second run gives identical outputs");
done:
    if (!in || !out1 || !out2) ST_CHECK(0, "allocate buffers");
    frost_context_free(ctx);
    free(in);
    free(out1);
    free(out2);
    frost_image_free(img);
    fprintf(log, "self test %s (%d failure%s)\n", failures ? "FAILED" : "passed", failures, failures == 1 ? "" : "s");
    return failures ? 1 : 0;
}

static int by_total(const void *a, const void *b) {
    const frost_op_profile *x = *(const frost_op_profile *const *)a, *y = *(const frost_op_profile *const *)b;
    return (x->total_ms < y->total_ms) - (x->total_ms > y->total_ms);
}

void cls_print_profile(const frost_context *ctx, FILE *f) {
    const frost_op_profile *prof = NULL;
    int n = 0;
    if (frost_context_profile(ctx, &prof, &n) != FROST_OK || n <= 0) {
        fprintf(f, "no profile recorded\n");
        return;
    }
    const frost_op_profile **order = malloc(sizeof *order * (size_t)n);
    if (!order) return;
    double total = 0;
    for (int i = 0; i < n; i++) order[i] = &prof[i], total += prof[i].total_ms;
    qsort(order, (size_t)n, sizeof *order, by_total);
    fprintf(f, "\nper-op profile (%d steps, %.3f ms in total, slowest first):\n", n, total);
    fprintf(f, "%10s %6s %10s %7s %8s  %-28s %-22s %s\n", "total ms", "%", "avg ms", "runs", "GFLOP/s", "op", "kernel",
            "node");
    for (int i = 0; i < n; i++) {
        const frost_op_profile *p = order[i];
        double avg = p->runs ? p->total_ms / (double)p->runs : 0;
        double gflops = (p->flops > 0 && avg > 0) ? (double)p->flops / (avg * 1e6) : 0;
        fprintf(f, "%10.3f %6.2f %10.4f %7lld ", p->total_ms, total > 0 ? 100.0 * p->total_ms / total : 0, avg,
                (long long)p->runs);
        if (gflops > 0) fprintf(f, "%8.2f", gflops);
        else fprintf(f, "%8s", "-");
        fprintf(f, "  %-28s %-22s %s\n", p->op ? p->op : "?", p->kernel ? p->kernel : "?", p->name ? p->name : "?");
    }
    free(order);
}
