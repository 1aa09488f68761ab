/* frost-test-labels: asan */
/* JPEG decoding: pixel-identical to `djpeg -dct fast` (TensorFlow's
 * decode_jpeg defaults) on the shared photo and on generated files of every
 * variant; CMYK follows TensorFlow's integer formula; --fast-decode matches
 * `djpeg -scale`. */
#include "frost.h"
#include "imgtest.h"

static int have_djpeg(void) { return system("command -v djpeg >/dev/null 2>&1") == 0; }

static void compare_with_djpeg(const char *label, const char *path, const frost_decode_options *opt,
                               const char *djpeg_extra, int tolerance) {
    frost_image *img = NULL;
    char *err = NULL;
    frost_status st = frost_image_load(path, opt, &img, &err);
    CHECK_MSG(st == FROST_OK, "%s: %s", label, err ? err : "?");
    frost_free(err);
    int w = 0, h = 0;
    uint8_t *ref = it_djpeg(path, djpeg_extra, &w, &h);
    CHECK_MSG(ref != NULL, "%s: djpeg failed", label);
    if (img && ref) {
        CHECK_MSG(img->width == w && img->height == h, "%s: %dx%d vs djpeg %dx%d", label, img->width, img->height, w,
                  h);
        if (img->width == w && img->height == h) {
            int maxd;
            size_t bad = it_rgb_diff(img->rgb, ref, (size_t)w * h * 3, &maxd);
            CHECK_MSG(maxd <= tolerance, "%s: %zu samples differ from djpeg, max difference %d", label, bad, maxd);
        }
    }
    free(ref);
    frost_image_free(img);
}

int main(void) {
    if (!have_djpeg()) {
        printf("djpeg not installed (libjpeg-turbo-progs); skipped\n");
        return 77;
    }
    const char *tmp = tu_tmp_dir();
    const char *shared = tu_shared_dir();

    /* The photo label_image uses. */
    if (shared) compare_with_djpeg("grace_hopper.jpg", tu_path("%s/images/grace_hopper.jpg", shared), NULL, "", 0);

    /* Generated variants: odd sizes exercise partial MCUs. */
    static const struct {
        const char *name;
        int w, h;
        it_jpeg_opts o;
        int gray;
    } cases[] = {
        {"420", 67, 45, {2, 2, 0, 90, 0, 0}, 0},          {"422", 66, 41, {2, 1, 0, 85, 0, 0}, 0},
        {"444", 33, 29, {1, 1, 0, 95, 0, 0}, 0},          {"440", 40, 37, {1, 2, 0, 75, 0, 0}, 0},
        {"progressive", 71, 53, {2, 2, 1, 80, 0, 0}, 0}, {"progressive444", 30, 30, {1, 1, 1, 92, 0, 0}, 0},
        {"restart", 64, 64, {2, 2, 0, 70, 1, 0}, 0},     {"gray", 51, 39, {1, 1, 0, 90, 0, 0}, 1},
        {"gray_progressive", 48, 33, {1, 1, 1, 90, 0, 0}, 1}, {"tiny", 1, 1, {2, 2, 0, 90, 0, 0}, 0},
        {"q100", 17, 9, {1, 1, 0, 100, 0, 0}, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int ch = cases[i].gray ? 1 : 3;
        uint8_t *px = it_pattern(cases[i].w, cases[i].h, ch, (uint32_t)i + 1);
        const char *path = tu_path("%s/gen_%s.jpg", tmp, cases[i].name);
        int r = it_write_jpeg(path, px, cases[i].w, cases[i].h, ch, cases[i].gray ? JCS_GRAYSCALE : JCS_RGB,
                              cases[i].gray ? JCS_GRAYSCALE : JCS_YCbCr, cases[i].o);
        CHECK_MSG(r == 0, "writing %s", path);
        compare_with_djpeg(cases[i].name, path, NULL, "", 0);
        free(px);
    }

    /* CMYK and YCCK with an Adobe marker: djpeg converts with rounding,
     * TensorFlow (and frost) truncate: at most 1 apart. Exactness against the
     * formula is checked below on the raw CMYK samples. */
    for (int ycck = 0; ycck < 2; ycck++)
        for (int adobe = 0; adobe < 2; adobe++) {
            if (ycck && !adobe) continue; /* YCCK needs the Adobe marker */
            int w = 45, h = 31;
            uint8_t *px = it_pattern(w, h, 4, 77u + (uint32_t)ycck);
            const char *path = tu_path("%s/gen_cmyk_%d_%d.jpg", tmp, ycck, adobe);
            it_jpeg_opts o = {1, 1, 0, 95, 0, adobe};
            CHECK(it_write_jpeg(path, px, w, h, 4, JCS_CMYK, ycck ? JCS_YCCK : JCS_CMYK, o) == 0);
            if (adobe) compare_with_djpeg(ycck ? "ycck" : "cmyk", path, NULL, "", 1);
            /* Reference: raw CMYK samples from libjpeg (JDCT_IFAST) + TF's formula. */
            struct jpeg_decompress_struct d;
            struct jpeg_error_mgr e;
            d.err = jpeg_std_error(&e);
            jpeg_create_decompress(&d);
            FILE *f = fopen(path, "rb");
            jpeg_stdio_src(&d, f);
            jpeg_read_header(&d, TRUE);
            d.out_color_space = JCS_CMYK;
            d.dct_method = JDCT_IFAST;
            jpeg_start_decompress(&d);
            uint8_t *ref = malloc((size_t)w * h * 3), *row = malloc((size_t)w * 4);
            int saw_adobe = d.saw_Adobe_marker;
            while (d.output_scanline < d.output_height) {
                int y = (int)d.output_scanline;
                jpeg_read_scanlines(&d, &row, 1);
                for (int x = 0; x < w; x++) {
                    int c = row[4 * x], m = row[4 * x + 1], yy = row[4 * x + 2], k = row[4 * x + 3];
                    uint8_t *o3 = ref + ((size_t)y * w + x) * 3;
                    if (saw_adobe) {
                        o3[0] = (uint8_t)(k * c / 255), o3[1] = (uint8_t)(k * m / 255), o3[2] = (uint8_t)(k * yy / 255);
                    } else {
                        o3[0] = (uint8_t)((255 - k) * (255 - c) / 255);
                        o3[1] = (uint8_t)((255 - k) * (255 - m) / 255);
                        o3[2] = (uint8_t)((255 - k) * (255 - yy) / 255);
                    }
                }
            }
            jpeg_finish_decompress(&d);
            jpeg_destroy_decompress(&d);
            fclose(f);
            CHECK_MSG(saw_adobe == adobe, "Adobe marker written: %d, seen %d", adobe, saw_adobe);
            frost_image *img = NULL;
            CHECK(frost_image_load(path, NULL, &img, NULL) == FROST_OK);
            if (img) {
                int maxd;
                size_t bad = it_rgb_diff(img->rgb, ref, (size_t)w * h * 3, &maxd);
                CHECK_MSG(bad == 0, "cmyk ycck=%d adobe=%d: %zu samples differ from TF's formula (max %d)", ycck,
                          adobe, bad, maxd);
            }
            frost_image_free(img);
            free(ref);
            free(row);
            free(px);
        }

    /* --fast-decode: DCT scaling while the result stays >= 2x the target. */
    {
        int w = 517, h = 606;
        uint8_t *px = it_pattern(w, h, 3, 5);
        char path[4096];
        snprintf(path, sizeof path, "%s/gen_big.jpg", tmp);
        it_jpeg_opts o = {2, 2, 0, 90, 0, 0};
        CHECK(it_write_jpeg(path, px, w, h, 3, JCS_RGB, JCS_YCbCr, o) == 0);
        static const struct {
            int tw, th;
            const char *scale;
            int ew, eh;
        } fc[] = {
            {128, 128, "-scale 1/2", 259, 303}, /* 1/4 would give 130 < 256 wide */
            {64, 64, "-scale 1/4", 130, 152},   {32, 32, "-scale 1/8", 65, 76},
            {300, 300, "", 517, 606},           {16, 300, "", 517, 606}, /* height forbids any reduction */
        };
        for (size_t i = 0; i < sizeof fc / sizeof fc[0]; i++) {
            frost_decode_options opt;
            frost_decode_options_init(&opt);
            opt.fast_decode = 1;
            opt.target_width = fc[i].tw;
            opt.target_height = fc[i].th;
            compare_with_djpeg(tu_path("fast %dx%d", fc[i].tw, fc[i].th), path, &opt, fc[i].scale, 0);
            frost_image *img = NULL;
            if (frost_image_load(path, &opt, &img, NULL) == FROST_OK) {
                CHECK_MSG(img->width == fc[i].ew && img->height == fc[i].eh, "fast %dx%d: got %dx%d", fc[i].tw,
                          fc[i].th, img->width, img->height);
            }
            frost_image_free(img);
        }
        /* fast_decode without a target does nothing. */
        frost_decode_options opt;
        frost_decode_options_init(&opt);
        opt.fast_decode = 1;
        compare_with_djpeg("fast without target", path, &opt, "", 0);
        free(px);
    }
    return tu_done();
}
