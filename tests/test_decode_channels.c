/* The decode ops' `channels` as TensorFlow takes them: DecodeJpeg 0 / 1 / 3,
 * DecodePng and DecodeImage 0 / 1 / 3 / 4, DecodeBmp 0 / 3 / 4 (0: as many as
 * the image has).  Small images written here (libjpeg, libspng, BMP by hand)
 * go through contents -> OP -> Cast -> ExpandDims -> ResizeBilinear to their
 * own size (exact) -> Mul 1, so the model's output is the decoded pixels;
 * each is checked against what was written (PNG, BMP), against libjpeg's
 * own conversions run by djpeg (-grayscale: TensorFlow asks libjpeg for
 * JCS_GRAYSCALE), or against another channel count of the same file.
 * channels=0 compiles for 3 channels: an image of another count fails its
 * run, naming the count (TensorFlow would give that many).
 * frost-test-labels: asan */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frost.h"
#include "image/image_internal.h"
#include "imgtest.h"
#include "pb/pbwriter.h"
#include "tgraph.h"

#define W 13
#define H 9

/* contents -> OP(channels) -> Cast -> ExpandDims -> ResizeBilinear(H, W) -> Mul 1 */
static uint8_t *decode_graph(const char *op, int channels, size_t *len) {
    fr_gdw *w = tg_image_writer(op, channels, NULL, 0);
    fr_gdw_const_i32(w, "size", 1, (int64_t[]){2}, (int32_t[]){H, W});
    fr_gdw_node(w, "resize", "ResizeBilinear", (const char *[]){"expand", "size", NULL});
    fr_gdw_node_end(w);
    fr_gdw_const_f(w, "one", 0, NULL, (float[]){1});
    fr_gdw_node(w, "y", "Mul", (const char *[]){"resize", "one", NULL});
    fr_gdw_node_end(w);
    return tg_finish(w, len);
}

static frost_status compile(const char *op, int channels, frost_model **m, char **err) {
    size_t len;
    uint8_t *pb = decode_graph(op, channels, &len);
    frost_graph *g = NULL;
    frost_options o;
    frost_options_init(&o);
    o.threads = 1;
    o.backend = FROST_BACKEND_REFERENCE;
    frost_status st = pb ? frost_graph_load_memory(pb, len, 1, &g, err) : FROST_E_NO_MEMORY;
    if (st == FROST_OK) st = frost_model_compile(g, &o, m, err);
    frost_graph_free(g);
    free(pb);
    return st;
}

/* The model's output for the image's bytes as uint8 (malloc'ed, H * W *
 * channels), or NULL with *st and the context's message in *msg. */
static uint8_t *run(const char *op, int channels, const uint8_t *bytes, size_t n, frost_status *st, char **msg) {
    frost_model *m = NULL;
    frost_context *c = NULL;
    char *err = NULL;
    uint8_t *out = NULL;
    *msg = NULL;
    *st = compile(op, channels, &m, &err);
    CHECK_MSG(*st == FROST_OK, "%s channels=%d: %s", op, channels, err ? err : "");
    frost_free(err);
    if (*st == FROST_OK && (*st = frost_context_create(m, &c, NULL)) == FROST_OK) {
        size_t k = frost_model_output_size(m, 0);
        float *y = calloc(k, sizeof *y);
        frost_string s = {bytes, n};
        const float *in[1] = {NULL};
        float *o[1] = {y};
        *st = frost_context_set_string_input(c, 0, &s, 1);
        if (*st == FROST_OK) *st = frost_context_run(c, 1, in, o);
        if (*st == FROST_OK) {
            CHECK(k == (size_t)H * W * (channels ? channels : 3));
            out = malloc(k);
            for (size_t i = 0; i < k; i++) {
                CHECK_MSG(y[i] >= 0 && y[i] <= 255 && y[i] == (float)(int)y[i], "%s: output %zu is %g", op, i, y[i]);
                out[i] = (uint8_t)y[i];
            }
        } else {
            *msg = strdup(frost_context_error(c) ? frost_context_error(c) : "");
        }
        free(y);
    }
    frost_context_free(c);
    frost_model_free(m);
    return out;
}

/* The op's output equals want (H * W * channels bytes). */
static void expect_pixels(const char *what, const char *op, int channels, const uint8_t *bytes, size_t n,
                          const uint8_t *want) {
    frost_status st;
    char *msg;
    uint8_t *got = run(op, channels, bytes, n, &st, &msg);
    CHECK_MSG(got, "%s: %s channels=%d: %s (%s)", what, op, channels, frost_strerror(st), msg ? msg : "");
    if (got) {
        size_t k = (size_t)H * W * (size_t)channels, bad = 0;
        while (bad < k && got[bad] == want[bad]) bad++;
        CHECK_MSG(bad == k, "%s: %s channels=%d: byte %zu is %d, want %d", what, op, channels, bad, got[bad], want[bad]);
    }
    free(got);
    free(msg);
}

/* The run fails with status `want` and a message holding `text`. */
static void expect_failure(const char *what, const char *op, int channels, const uint8_t *bytes, size_t n,
                           frost_status want, const char *text) {
    frost_status st;
    char *msg;
    uint8_t *got = run(op, channels, bytes, n, &st, &msg);
    CHECK_MSG(!got && st == want && msg && strstr(msg, text), "%s: %s channels=%d: want %s '%s', got %s: %s", what, op,
              channels, frost_strerror(want), text, frost_strerror(st), msg ? msg : "(output)");
    free(got);
    free(msg);
}

/* fr_decode_tf's channel count for channels=0 and its pixels against want. */
static void expect_own(const char *what, const uint8_t *bytes, size_t n, int channels, const uint8_t *want) {
    frost_decode_options opt;
    frost_decode_options_init(&opt);
    fr_pixels px;
    char *err = NULL;
    frost_status st = fr_decode_tf(bytes, n, &opt, 1, 0, &px, &err);
    CHECK_MSG(st == FROST_OK && px.channels == channels && px.width == W && px.height == H,
              "%s: channels=0 gives %d channels, want %d (%s)", what, st == FROST_OK ? px.channels : -1, channels,
              err ? err : "");
    if (st == FROST_OK && px.channels == channels)
        CHECK_MSG(!memcmp(px.data, want, (size_t)W * H * (size_t)channels), "%s: channels=0 pixels differ", what);
    if (st == FROST_OK) free(px.data);
    free(err);
}

static uint8_t *plane(const uint8_t *rgb, int ch, int from, int c) {
    uint8_t *p = malloc((size_t)W * H * (size_t)ch);
    for (int i = 0; i < W * H; i++) p[i * ch + c] = rgb[i * from];
    return p;
}

static void jpeg_tests(void) {
    /* a grayscale JPEG and a color one, written with libjpeg */
    uint8_t *gray = it_pattern(W, H, 1, 7), *rgb = it_pattern(W, H, 3, 8);
    const char *gpath = tu_path("%s/gray.jpg", tu_tmp_dir()), *cpath = tu_path("%s/color.jpg", tu_tmp_dir());
    it_jpeg_opts o = {1, 1, 0, 90, 0, 0};
    CHECK(it_write_jpeg(gpath, gray, W, H, 1, JCS_GRAYSCALE, JCS_GRAYSCALE, o) == 0);
    CHECK(it_write_jpeg(cpath, rgb, W, H, 3, JCS_RGB, JCS_YCbCr, o) == 0);
    size_t gn, cn;
    uint8_t *gj = tu_read_file(gpath, &gn), *cj = tu_read_file(cpath, &cn);
    int w, h;
    /* djpeg's decodes (libjpeg's own conversions, -dct fast as TensorFlow's default) */
    uint8_t *g_ref = it_djpeg(gpath, NULL, &w, &h), *c_rgb = it_djpeg(cpath, NULL, &w, &h);
    uint8_t *c_gray = it_djpeg(cpath, "-grayscale", &w, &h);
    if (!g_ref || !c_rgb || !c_gray) {
        printf("djpeg not found: the JPEG references are frost's own 3-channel decode\n");
        frost_image *img = NULL;
        if (!g_ref && frost_image_decode(gj, gn, NULL, &img, NULL) == FROST_OK) g_ref = img->rgb, img->rgb = NULL;
        frost_image_free(img);
    }
    uint8_t *g1 = g_ref ? plane(g_ref, 1, 3, 0) : NULL;
    if (g1) {
        /* a grayscale JPEG: channels=1 is its gray plane, channels=0 too (fr_decode_tf: 1 channel) */
        expect_pixels("gray JPEG", "DecodeJpeg", 1, gj, gn, g1);
        expect_pixels("gray JPEG", "DecodeImage", 1, gj, gn, g1);
        expect_own("gray JPEG", gj, gn, 1, g1);
        expect_pixels("gray JPEG", "DecodeJpeg", 3, gj, gn, g_ref); /* replicated */
    }
    /* compiled for 3 channels, channels=0 fails on it naming TensorFlow's 1 channel */
    expect_failure("gray JPEG", "DecodeJpeg", 0, gj, gn, FROST_E_IMAGE, "1 channel");
    if (c_rgb && c_gray) {
        /* a color JPEG: channels=1 is libjpeg's JCS_GRAYSCALE (djpeg -grayscale), 0 and 3 its RGB */
        uint8_t *c1 = plane(c_gray, 1, 3, 0);
        expect_pixels("color JPEG", "DecodeJpeg", 1, cj, cn, c1);
        expect_pixels("color JPEG", "DecodeJpeg", 0, cj, cn, c_rgb);
        expect_pixels("color JPEG", "DecodeJpeg", 3, cj, cn, c_rgb);
        expect_own("color JPEG", cj, cn, 3, c_rgb);
        free(c1);
    }
    /* DecodeImage and DecodePng take JPEG bytes as TensorFlow's do: 4 channels is an error there */
    expect_failure("color JPEG", "DecodeImage", 4, cj, cn, FROST_E_IMAGE, "channels must be 0, 1, or 3 for JPEG");
    free(g1);
    free(g_ref);
    free(c_rgb);
    free(c_gray);
    free(gj);
    free(cj);
    free(gray);
    free(rgb);
}

static void png_tests(void) {
    /* RGBA: channels 4 gives the pixels written, 3 drops alpha, 0 is 4 channels, 1 is refused */
    uint8_t *rgba = it_pattern(W, H, 4, 9);
    size_t n;
    uint8_t *png = it_write_png(rgba, (size_t)W * H * 4, W, H, 8, SPNG_COLOR_TYPE_TRUECOLOR_ALPHA, 0, NULL, NULL, &n);
    CHECK(png != NULL);
    uint8_t *rgb = malloc((size_t)W * H * 3);
    for (int i = 0; i < W * H; i++) memcpy(rgb + 3 * i, rgba + 4 * i, 3);
    expect_pixels("RGBA PNG", "DecodePng", 4, png, n, rgba);
    expect_pixels("RGBA PNG", "DecodeImage", 4, png, n, rgba);
    expect_pixels("RGBA PNG", "DecodePng", 3, png, n, rgb);
    expect_own("RGBA PNG", png, n, 4, rgba);
    expect_failure("RGBA PNG", "DecodePng", 0, png, n, FROST_E_IMAGE, "4 channels");
    expect_failure("RGBA PNG", "DecodePng", 1, png, n, FROST_E_IMAGE, "rgb_to_gray");
    free(png);

    /* RGB with tRNS: channels 4 has alpha 0 on the pixels of the transparent color, 255 elsewhere */
    for (int i = 0; i < W * H; i += 5) memcpy(rgb + 3 * i, "\x10\x20\x30", 3);
    struct spng_trns trns = {0};
    trns.red = 0x10, trns.green = 0x20, trns.blue = 0x30;
    png = it_write_png(rgb, (size_t)W * H * 3, W, H, 8, SPNG_COLOR_TYPE_TRUECOLOR, 0, NULL, &trns, &n);
    for (int i = 0; i < W * H; i++) {
        memcpy(rgba + 4 * i, rgb + 3 * i, 3);
        rgba[4 * i + 3] = memcmp(rgb + 3 * i, "\x10\x20\x30", 3) ? 255 : 0;
    }
    expect_pixels("RGB PNG with tRNS", "DecodePng", 4, png, n, rgba);
    expect_pixels("RGB PNG with tRNS", "DecodePng", 3, png, n, rgb);
    expect_own("RGB PNG with tRNS", png, n, 3, rgb);
    free(png);

    /* gray: channels 1 and 0 are the gray written, 3 replicates it, 4 adds alpha 255; gray + alpha: 0 is 2 channels */
    uint8_t *g = it_pattern(W, H, 1, 10), *ga = it_pattern(W, H, 2, 11);
    png = it_write_png(g, (size_t)W * H, W, H, 8, SPNG_COLOR_TYPE_GRAYSCALE, 0, NULL, NULL, &n);
    for (int i = 0; i < W * H; i++) {
        memset(rgb + 3 * i, g[i], 3);
        memset(rgba + 4 * i, g[i], 3);
        rgba[4 * i + 3] = 255;
    }
    expect_pixels("gray PNG", "DecodePng", 1, png, n, g);
    expect_pixels("gray PNG", "DecodePng", 3, png, n, rgb);
    expect_pixels("gray PNG", "DecodePng", 4, png, n, rgba);
    expect_own("gray PNG", png, n, 1, g);
    free(png);
    png = it_write_png(ga, (size_t)W * H * 2, W, H, 8, SPNG_COLOR_TYPE_GRAYSCALE_ALPHA, 0, NULL, NULL, &n);
    for (int i = 0; i < W * H; i++) g[i] = ga[2 * i];
    expect_own("gray + alpha PNG", png, n, 2, ga);
    expect_pixels("gray + alpha PNG", "DecodePng", 1, png, n, g);
    free(png);
    free(g);
    free(ga);
    free(rgb);
    free(rgba);
}

static void bmp_tests(void) {
    /* 32 bits a pixel (BGRA in the file): channels 4 and 0 give RGBA with the file's alpha, 3 is
     * TensorFlow's error; 24 bits: 3 and 0 give RGB, 4 is the error */
    uint8_t *rgba = it_pattern(W, H, 4, 12), *bgra = malloc((size_t)W * H * 4), *rgb = malloc((size_t)W * H * 3);
    uint8_t *bgr = malloc((size_t)W * H * 3);
    for (int i = 0; i < W * H; i++) {
        const uint8_t *p = rgba + 4 * i;
        uint8_t q[4] = {p[2], p[1], p[0], p[3]};
        memcpy(bgra + 4 * i, q, 4);
        memcpy(bgr + 3 * i, q, 3);
        memcpy(rgb + 3 * i, p, 3);
    }
    size_t n;
    uint8_t *bmp = it_write_bmp(W, H, 32, 40, 0, bgra, (size_t)W * 4, NULL, 0, NULL, &n);
    expect_pixels("32-bit BMP", "DecodeBmp", 4, bmp, n, rgba);
    expect_pixels("32-bit BMP", "DecodeImage", 4, bmp, n, rgba);
    expect_own("32-bit BMP", bmp, n, 4, rgba);
    expect_failure("32-bit BMP", "DecodeBmp", 3, bmp, n, FROST_E_IMAGE, "does not match bits per pixel");
    free(bmp);
    bmp = it_write_bmp(W, H, 24, 40, 1, bgr, (size_t)W * 3, NULL, 0, NULL, &n); /* top-down */
    expect_pixels("24-bit BMP", "DecodeBmp", 3, bmp, n, rgb);
    expect_pixels("24-bit BMP", "DecodeBmp", 0, bmp, n, rgb);
    expect_own("24-bit BMP", bmp, n, 3, rgb);
    expect_failure("24-bit BMP", "DecodeBmp", 4, bmp, n, FROST_E_IMAGE, "does not match bits per pixel");
    free(bmp);
    free(rgba);
    free(bgra);
    free(rgb);
    free(bgr);
}

/* channels TensorFlow's op refuses: the graph does not compile, the node named */
static void check_refused(const char *op, int channels) {
    frost_model *m = NULL;
    char *err = NULL;
    frost_status st = compile(op, channels, &m, &err);
    CHECK_MSG(st == FROST_E_GRAPH && err && strstr(err, "'decode'") && strstr(err, "channels="),
              "%s channels=%d: %s %s", op, channels, frost_strerror(st), err ? err : "");
    frost_free(err);
    frost_model_free(m);
}

int main(void) {
    check_refused("DecodeJpeg", 4);
    check_refused("DecodeBmp", 1);
    check_refused("DecodePng", 2);
    check_refused("DecodeImage", 5);
    jpeg_tests();
    png_tests();
    bmp_tests();
    return tu_done();
}
