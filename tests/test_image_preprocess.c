/* frost-test-labels: asan */
/* frost_image_preprocess: TensorFlow's ResizeBilinear (TF1 default,
 * half_pixel_centers, align_corners) on hand-checked cases and against a
 * double-precision reference of the formulas; then the shared expected input
 * tensors (made by TensorFlow.js from grace_hopper.bmp and cat.bmp,
 * 128x128, mean 128, std 128) within 1e-6. */
#include <math.h>
#include <stdlib.h>

#include "frost.h"
#include "testutil.h"

/* Image whose R channel holds `v`, G = 255 - v, B = 7. */
static frost_image *make_image(int w, int h, const uint8_t *v) {
    frost_image *img = malloc(sizeof *img);
    img->width = w, img->height = h;
    img->rgb = malloc((size_t)w * h * 3);
    for (int i = 0; i < w * h; i++) img->rgb[3 * i] = v[i], img->rgb[3 * i + 1] = (uint8_t)(255 - v[i]), img->rgb[3 * i + 2] = 7;
    return img;
}

static void check_case(const char *label, int w, int h, const uint8_t *v, int ow, int oh, frost_resize mode,
                       const double *want_r) {
    frost_image *img = make_image(w, h, v);
    frost_preprocess pp = {ow, oh, 0.0f, 1.0f, mode};
    float *out = malloc(sizeof(float) * (size_t)ow * oh * 3);
    CHECK_MSG(frost_image_preprocess(img, &pp, out) == FROST_OK, "%s", label);
    double worst = 0;
    for (int i = 0; i < ow * oh; i++) {
        worst = fmax(worst, fabs(out[3 * i] - want_r[i]));
        worst = fmax(worst, fabs(out[3 * i + 1] - (255.0 - want_r[i])));
        worst = fmax(worst, fabs(out[3 * i + 2] - 7.0));
    }
    CHECK_MSG(worst < 1e-4, "%s: off by %g", label, worst);
    /* Normalisation: (x - mean) / std. */
    pp.mean = 128.0f, pp.std = 64.0f;
    CHECK(frost_image_preprocess(img, &pp, out) == FROST_OK);
    worst = 0;
    for (int i = 0; i < ow * oh; i++) worst = fmax(worst, fabs(out[3 * i] - (want_r[i] - 128.0) / 64.0));
    CHECK_MSG(worst < 1e-6, "%s normalised: off by %g", label, worst);
    free(out);
    frost_image_free(img);
}

/* The formulas of TF-SEMANTICS.md in double precision, written independently. */
static void ref_resize(const frost_image *img, int ow, int oh, frost_resize mode, double *out) {
    for (int y = 0; y < oh; y++)
        for (int x = 0; x < ow; x++) {
            double src[2];
            int lo[2], hi[2];
            const int in_sz[2] = {img->height, img->width}, out_sz[2] = {oh, ow}, pos[2] = {y, x};
            for (int d = 0; d < 2; d++) {
                double scale = (mode == FROST_RESIZE_ALIGN_CORNERS && out_sz[d] > 1)
                                   ? (double)(in_sz[d] - 1) / (out_sz[d] - 1)
                                   : (double)in_sz[d] / out_sz[d];
                if (mode == FROST_RESIZE_TF2) {
                    src[d] = (pos[d] + 0.5) * scale - 0.5;
                    lo[d] = (int)fmax(floor(src[d]), 0);
                    hi[d] = (int)fmin(ceil(src[d]), in_sz[d] - 1);
                    src[d] = src[d] - floor(src[d]);
                } else {
                    src[d] = pos[d] * scale;
                    lo[d] = (int)floor(src[d]);
                    hi[d] = lo[d] + 1 < in_sz[d] ? lo[d] + 1 : in_sz[d] - 1;
                    src[d] = src[d] - lo[d];
                }
            }
            for (int c = 0; c < 3; c++) {
#define P(yy, xx) ((double)img->rgb[((size_t)(yy) * img->width + (xx)) * 3 + c])
                double top = P(lo[0], lo[1]) + (P(lo[0], hi[1]) - P(lo[0], lo[1])) * src[1];
                double bot = P(hi[0], lo[1]) + (P(hi[0], hi[1]) - P(hi[0], lo[1])) * src[1];
                out[((size_t)y * ow + x) * 3 + c] = top + (bot - top) * src[0];
#undef P
            }
        }
}

static float *read_f32(const char *path, size_t want) {
    size_t n = 0;
    float *f = tu_read_file(path, &n);
    if (f && n != want * sizeof(float)) {
        fprintf(stderr, "%s: %zu bytes, want %zu\n", path, n, want * sizeof(float));
        free(f);
        return NULL;
    }
    return f;
}

int main(void) {
    /* 2x2 -> 4x4, values a b / c d = 0 100 / 200 40. */
    static const uint8_t q[4] = {0, 100, 200, 40};
    static const double tf1_4x4[16] = {0, 50, 100, 100, 100, 85, 70, 70, 200, 120, 40, 40, 200, 120, 40, 40};
    check_case("tf1 2x2->4x4", 2, 2, q, 4, 4, FROST_RESIZE_TF1, tf1_4x4);
    static const double tf2_4x4[16] = {0,   25,     75,    100, 50,  58.75, 76.25, 85,
                                       150, 126.25, 78.75, 55,  200, 160,   80,    40};
    check_case("tf2 2x2->4x4", 2, 2, q, 4, 4, FROST_RESIZE_TF2, tf2_4x4);
    static const double ac_3x3[9] = {0, 50, 100, 100, 85, 70, 200, 120, 40};
    check_case("align_corners 2x2->3x3", 2, 2, q, 3, 3, FROST_RESIZE_ALIGN_CORNERS, ac_3x3);
    /* 4x1 -> 3x1 (TF1): scale 4/3; x=1 -> 1.333: 30 + 30/3; x=2 -> 2.667: 60 + 30*2/3. */
    static const uint8_t row4[4] = {0, 30, 60, 90};
    static const double tf1_3[3] = {0, 40, 80};
    check_case("tf1 4->3", 4, 1, row4, 3, 1, FROST_RESIZE_TF1, tf1_3);
    /* TF2 4 -> 2: src = (x + .5) * 2 - .5 = .5, 2.5. */
    static const double tf2_2[2] = {15, 75};
    check_case("tf2 4->2", 4, 1, row4, 2, 1, FROST_RESIZE_TF2, tf2_2);
    /* align_corners 4 -> 2: the two end pixels; TF1 4 -> 2: pixels 0 and 2. */
    static const double ac_2[2] = {0, 90}, tf1_2[2] = {0, 60};
    check_case("align_corners 4->2", 4, 1, row4, 2, 1, FROST_RESIZE_ALIGN_CORNERS, ac_2);
    check_case("tf1 4->2", 4, 1, row4, 2, 1, FROST_RESIZE_TF1, tf1_2);
    /* Output of 1 with align_corners uses in/out like TF1: pixel 0. */
    static const double one[1] = {0};
    check_case("align_corners 4->1", 4, 1, row4, 1, 1, FROST_RESIZE_ALIGN_CORNERS, one);
    /* Same size: identity in every mode. */
    static const double same[4] = {0, 30, 60, 90};
    for (int m = 0; m < 3; m++) check_case("same size", 4, 1, row4, 4, 1, (frost_resize)m, same);

    /* Random sizes against the double-precision reference. */
    uint32_t s = 7;
    for (int t = 0; t < 62; t++) {
        s = s * 1664525u + 1013904223u;
        int w = 1 + (int)(s >> 8) % 50, h = 1 + (int)(s >> 16) % 50;
        s = s * 1664525u + 1013904223u;
        int ow = 1 + (int)(s >> 8) % 60, oh = 1 + (int)(s >> 16) % 60;
        if (t >= 60) ow = 1500 + t, oh = 3; /* wider than the column-weight cache */
        frost_image img = {w, h, malloc((size_t)w * h * 3)};
        for (int i = 0; i < w * h * 3; i++) {
            s = s * 1664525u + 1013904223u;
            img.rgb[i] = (uint8_t)(s >> 24);
        }
        float *out = malloc(sizeof(float) * (size_t)ow * oh * 3);
        double *ref = malloc(sizeof(double) * (size_t)ow * oh * 3);
        for (int m = 0; m < 3; m++) {
            frost_preprocess pp = {ow, oh, 0.0f, 1.0f, (frost_resize)m};
            CHECK(frost_image_preprocess(&img, &pp, out) == FROST_OK);
            ref_resize(&img, ow, oh, (frost_resize)m, ref);
            double worst = 0;
            for (int i = 0; i < ow * oh * 3; i++) worst = fmax(worst, fabs(out[i] - ref[i]));
            /* float vs double: the scale rounds (up to ~1e-5 of a pixel step x 255). */
            CHECK_MSG(worst < 5e-3, "random %dx%d -> %dx%d mode %d: off by %g", w, h, ow, oh, m, worst);
        }
        free(out);
        free(ref);
        free(img.rgb);
    }

    /* Bad arguments. */
    {
        static const uint8_t px[1] = {5};
        frost_image *img = make_image(1, 1, px);
        float out[3 * 4];
        frost_preprocess pp = {2, 2, 0.0f, 0.0f, FROST_RESIZE_TF1};
        CHECK(frost_image_preprocess(img, &pp, out) == FROST_E_INVALID_ARGUMENT); /* std 0 */
        pp.std = 1.0f, pp.resize = (frost_resize)9;
        CHECK(frost_image_preprocess(img, &pp, out) == FROST_E_INVALID_ARGUMENT);
        pp.resize = FROST_RESIZE_TF1, pp.width = 0;
        CHECK(frost_image_preprocess(img, &pp, out) == FROST_E_INVALID_ARGUMENT);
        pp.width = 2;
        CHECK(frost_image_preprocess(NULL, &pp, out) == FROST_E_INVALID_ARGUMENT);
        CHECK(frost_image_preprocess(img, &pp, out) == FROST_OK);
        CHECK(out[0] == 5.0f && out[9] == 5.0f && out[10] == 250.0f && out[11] == 7.0f);
        frost_image_free(img);
    }

    /* The shared expected tensors. */
    const char *shared = tu_shared_dir();
    if (!shared) {
        printf("no ../shared: expected tensors skipped\n");
        return tu_done();
    }
    static const char *names[] = {"grace_hopper", "cat"};
    for (int i = 0; i < 2; i++) {
        frost_image *img = NULL;
        char *err = NULL;
        CHECK_MSG(frost_image_load(tu_path("%s/images/%s.bmp", shared, names[i]), NULL, &img, &err) == FROST_OK, "%s",
                  err ? err : "");
        frost_free(err);
        const size_t n = 128 * 128 * 3;
        float *want = read_f32(
            tu_path("%s/expected/tensors/mobilenet_v1_0.25_128_quant_float__%s.input.f32", shared, names[i]), n);
        CHECK_MSG(want != NULL, "%s: expected tensor missing", names[i]);
        if (img && want) {
            float *out = malloc(n * sizeof(float));
            frost_preprocess pp = {128, 128, 128.0f, 128.0f, FROST_RESIZE_TF1};
            CHECK(frost_image_preprocess(img, &pp, out) == FROST_OK);
            double d = tu_max_abs_diff(out, want, n);
            printf("%s: max |frost - expected| = %g\n", names[i], d);
            CHECK_MSG(d <= 1e-6, "%s: max difference %g", names[i], d);
            /* TF2 resizing is a different tensor: the comparison can fail. */
            pp.resize = FROST_RESIZE_TF2;
            CHECK(frost_image_preprocess(img, &pp, out) == FROST_OK);
            CHECK(tu_max_abs_diff(out, want, n) > 1e-3);
            free(out);
        }
        free(want);
        frost_image_free(img);
    }
    return tu_done();
}
