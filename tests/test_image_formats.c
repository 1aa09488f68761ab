/* frost-test-labels: asan */
/* PNG, BMP and GIF decoding of generated images of every variant, compared
 * with the pixels that were encoded, transformed as TensorFlow's decoders do
 * (channels=3: gray replicated, palette expanded, alpha dropped, 16-bit
 * samples reduced to the high byte; GIF: first frame on a black screen). */
#include "frost.h"
#include "imgtest.h"

static frost_image *decode(const char *label, const uint8_t *data, size_t size, frost_image_format want) {
    CHECK_MSG(frost_image_detect(data, size) == want, "%s: format detected %d, want %d", label,
              (int)frost_image_detect(data, size), (int)want);
    frost_image *img = NULL;
    char *err = NULL;
    frost_status st = frost_image_decode(data, size, NULL, &img, &err);
    CHECK_MSG(st == FROST_OK, "%s: %s (%s)", label, frost_strerror(st), err ? err : "");
    frost_free(err);
    return img;
}

static void expect_rgb(const char *label, const frost_image *img, const uint8_t *want, int w, int h) {
    if (!img) return;
    CHECK_MSG(img->width == w && img->height == h, "%s: %dx%d, want %dx%d", label, img->width, img->height, w, h);
    if (img->width != w || img->height != h) return;
    int maxd;
    size_t bad = it_rgb_diff(img->rgb, want, (size_t)w * h * 3, &maxd);
    CHECK_MSG(bad == 0, "%s: %zu samples differ (max %d)", label, bad, maxd);
}

/* ------------------------------------------------------------------- PNG */

static void test_png(void) {
    const int w = 37, h = 23;
    uint32_t seed = 99;
    /* Truecolor / gray / alpha at 8 and 16 bits, plain and interlaced. */
    static const struct {
        int color, channels;
    } kinds[] = {{SPNG_COLOR_TYPE_TRUECOLOR, 3},
                 {SPNG_COLOR_TYPE_TRUECOLOR_ALPHA, 4},
                 {SPNG_COLOR_TYPE_GRAYSCALE, 1},
                 {SPNG_COLOR_TYPE_GRAYSCALE_ALPHA, 2}};
    for (size_t k = 0; k < 4; k++)
        for (int depth = 8; depth <= 16; depth += 8)
            for (int interlace = 0; interlace < 2; interlace++) {
                const int ch = kinds[k].channels;
                const size_t n = (size_t)w * h * ch;
                uint16_t *v = malloc(n * sizeof *v);
                for (size_t i = 0; i < n; i++) v[i] = (uint16_t)(it_rand(&seed) & (depth == 16 ? 0xFFFF : 0xFF));
                void *raw;
                size_t raw_len;
                if (depth == 16) {
                    raw = v;
                    raw_len = n * 2;
                } else {
                    uint8_t *r8 = malloc(n);
                    for (size_t i = 0; i < n; i++) r8[i] = (uint8_t)v[i];
                    raw = r8;
                    raw_len = n;
                }
                size_t len = 0;
                uint8_t *png = it_write_png(raw, raw_len, w, h, depth, kinds[k].color, interlace, NULL, NULL, &len);
                const char *label = tu_path("png color %d depth %d interlace %d", kinds[k].color, depth, interlace);
                CHECK_MSG(png != NULL, "%s: encoding failed", label);
                uint8_t *want = malloc((size_t)w * h * 3);
                for (size_t p = 0; p < (size_t)w * h; p++)
                    for (int c = 0; c < 3; c++) {
                        uint16_t s = v[p * ch + (ch >= 3 ? c : 0)];
                        want[3 * p + c] = (uint8_t)(depth == 16 ? s >> 8 : s);
                    }
                if (png) {
                    frost_image *img = decode(label, png, len, FROST_IMAGE_PNG);
                    expect_rgb(label, img, want, w, h);
                    frost_image_free(img);
                }
                free(want);
                free(png);
                if (raw != v) free(raw);
                free(v);
            }

    /* Gray at 1, 2 and 4 bits: scaled to 8 bits (x255, x85, x17). */
    for (int depth = 1; depth <= 4; depth *= 2) {
        const int per = 8 / depth;
        const size_t row = (size_t)(w + per - 1) / per;
        uint8_t *raw = calloc(row * h, 1), *want = malloc((size_t)w * h * 3);
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++) {
                unsigned s = it_rand(&seed) & ((1u << depth) - 1);
                raw[y * row + x / per] |= (uint8_t)(s << (8 - depth * (x % per + 1)));
                memset(want + ((size_t)y * w + x) * 3, (int)(s * (255u / ((1u << depth) - 1))), 3);
            }
        size_t len = 0;
        uint8_t *png = it_write_png(raw, row * h, w, h, depth, SPNG_COLOR_TYPE_GRAYSCALE, 0, NULL, NULL, &len);
        const char *label = tu_path("png gray %d-bit", depth);
        CHECK(png != NULL);
        if (png) {
            frost_image *img = decode(label, png, len, FROST_IMAGE_PNG);
            expect_rgb(label, img, want, w, h);
            frost_image_free(img);
        }
        free(png);
        free(raw);
        free(want);
    }

    /* Palette at 1, 2, 4, 8 bits, with and without tRNS (ignored). */
    for (int depth = 1; depth <= 8; depth *= 2)
        for (int with_trns = 0; with_trns < 2; with_trns++) {
            const int per = 8 / depth, ncol = 1 << depth;
            const size_t row = (size_t)(w + per - 1) / per;
            struct spng_plte plte = {0};
            plte.n_entries = (uint32_t)ncol;
            for (int i = 0; i < ncol; i++) {
                plte.entries[i].red = (uint8_t)it_rand(&seed);
                plte.entries[i].green = (uint8_t)it_rand(&seed);
                plte.entries[i].blue = (uint8_t)it_rand(&seed);
            }
            struct spng_trns trns = {0};
            trns.n_type3_entries = (uint32_t)ncol;
            for (int i = 0; i < ncol; i++) trns.type3_alpha[i] = (uint8_t)(i * 37);
            uint8_t *raw = calloc(row * h, 1), *want = malloc((size_t)w * h * 3);
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++) {
                    unsigned s = it_rand(&seed) & (unsigned)(ncol - 1);
                    raw[y * row + x / per] |= (uint8_t)(s << (8 - depth * (x % per + 1)));
                    uint8_t *o = want + ((size_t)y * w + x) * 3;
                    o[0] = plte.entries[s].red, o[1] = plte.entries[s].green, o[2] = plte.entries[s].blue;
                }
            size_t len = 0;
            uint8_t *png = it_write_png(raw, row * h, w, h, depth, SPNG_COLOR_TYPE_INDEXED, 0, &plte,
                                        with_trns ? &trns : NULL, &len);
            const char *label = tu_path("png palette %d-bit trns %d", depth, with_trns);
            CHECK_MSG(png != NULL, "%s: encoding failed", label);
            if (png) {
                frost_image *img = decode(label, png, len, FROST_IMAGE_PNG);
                expect_rgb(label, img, want, w, h);
                frost_image_free(img);
            }
            free(png);
            free(raw);
            free(want);
        }

    /* tRNS on truecolor: ignored (alpha dropped). */
    {
        uint8_t *px = it_pattern(w, h, 3, 3);
        struct spng_trns trns = {0};
        trns.red = px[0], trns.green = px[1], trns.blue = px[2];
        size_t len = 0;
        uint8_t *png = it_write_png(px, (size_t)w * h * 3, w, h, 8, SPNG_COLOR_TYPE_TRUECOLOR, 0, NULL, &trns, &len);
        CHECK(png != NULL);
        if (png) {
            frost_image *img = decode("png rgb trns", png, len, FROST_IMAGE_PNG);
            expect_rgb("png rgb trns", img, px, w, h);
            frost_image_free(img);
        }
        free(png);
        free(px);
    }
}

/* ------------------------------------------------------------------- BMP */

static void test_bmp(void) {
    const int w = 13, h = 7; /* odd width: rows are padded */
    uint8_t *rgb = it_pattern(w, h, 3, 11);
    /* 24-bit, bottom-up and top-down, 40/108/12-byte headers. */
    static const int headers[] = {40, 108, 124, 12};
    for (size_t hi = 0; hi < 4; hi++)
        for (int td = 0; td < 2; td++) {
            if (headers[hi] == 12 && td) continue; /* core headers cannot be top-down */
            uint8_t *rows = malloc((size_t)w * h * 3);
            for (size_t i = 0; i < (size_t)w * h; i++)
                rows[3 * i] = rgb[3 * i + 2], rows[3 * i + 1] = rgb[3 * i + 1], rows[3 * i + 2] = rgb[3 * i];
            size_t len;
            uint8_t *bmp = it_write_bmp(w, h, 24, headers[hi], td, rows, (size_t)w * 3, NULL, 0, NULL, &len);
            const char *label = tu_path("bmp 24-bit header %d top-down %d", headers[hi], td);
            frost_image *img = decode(label, bmp, len, FROST_IMAGE_BMP);
            expect_rgb(label, img, rgb, w, h);
            frost_image_free(img);
            free(bmp);
            free(rows);
        }
    /* 32-bit BGRX, plain and with bit fields (RGBA byte order). */
    for (int fields = 0; fields < 2; fields++)
        for (int td = 0; td < 2; td++) {
            uint8_t *rows = malloc((size_t)w * h * 4);
            for (size_t i = 0; i < (size_t)w * h; i++) {
                if (fields) { /* masks R=0x000000FF G=0x0000FF00 B=0x00FF0000 */
                    rows[4 * i] = rgb[3 * i], rows[4 * i + 1] = rgb[3 * i + 1], rows[4 * i + 2] = rgb[3 * i + 2];
                } else {
                    rows[4 * i] = rgb[3 * i + 2], rows[4 * i + 1] = rgb[3 * i + 1], rows[4 * i + 2] = rgb[3 * i];
                }
                rows[4 * i + 3] = (uint8_t)(i * 13); /* alpha: dropped */
            }
            static const uint32_t masks[3] = {0x000000FF, 0x0000FF00, 0x00FF0000};
            size_t len;
            uint8_t *bmp =
                it_write_bmp(w, h, 32, fields ? 108 : 40, td, rows, (size_t)w * 4, NULL, 0, fields ? masks : NULL, &len);
            const char *label = tu_path("bmp 32-bit fields %d top-down %d", fields, td);
            frost_image *img = decode(label, bmp, len, FROST_IMAGE_BMP);
            expect_rgb(label, img, rgb, w, h);
            frost_image_free(img);
            free(bmp);
            free(rows);
        }
    /* 16-bit: 5-5-5 (no fields) and 5-6-5 (fields); hand-checked values. */
    {
        /* pixel -> expected RGB; 5 bits v -> round(v*255/31), 6 bits v -> round(v*255/63) */
        static const struct {
            uint16_t px555, px565;
            uint8_t r, g, b;
        } v[] = {
            {0x7FFF, 0xFFFF, 255, 255, 255},
            {0x0000, 0x0000, 0, 0, 0},
            {(16 << 10) | (1 << 5) | 31, (16 << 11) | (2 << 5) | 31, 132, 8, 255},
            {(1 << 10) | (15 << 5) | 0, (1 << 11) | (30 << 5) | 0, 8, 123, 0},
        };
        const int n = 4;
        for (int fields = 0; fields < 2; fields++) {
            uint8_t rows[8], want[12];
            for (int i = 0; i < n; i++) {
                uint16_t p = fields ? v[i].px565 : v[i].px555;
                rows[2 * i] = (uint8_t)p, rows[2 * i + 1] = (uint8_t)(p >> 8);
                want[3 * i] = v[i].r, want[3 * i + 1] = v[i].g, want[3 * i + 2] = v[i].b;
            }
            if (fields) want[3 * 2 + 1] = 8, want[3 * 3 + 1] = 121; /* 6-bit green: 2 -> 8.1, 30 -> 121.4 */
            static const uint32_t m565[3] = {0xF800, 0x07E0, 0x001F};
            size_t len;
            uint8_t *bmp = it_write_bmp(n, 1, 16, 40, 0, rows, 8, NULL, 0, fields ? m565 : NULL, &len);
            const char *label = fields ? "bmp 16-bit 565" : "bmp 16-bit 555";
            frost_image *img = decode(label, bmp, len, FROST_IMAGE_BMP);
            expect_rgb(label, img, want, n, 1);
            frost_image_free(img);
            free(bmp);
        }
    }
    /* Palette: 1, 4, 8 bits. */
    uint32_t seed = 5;
    static const int depths[] = {1, 4, 8};
    for (size_t di = 0; di < 3; di++) {
        const int bpp = depths[di], ncol = 1 << bpp, per = 8 / bpp;
        uint8_t pal[256 * 4];
        for (int i = 0; i < ncol * 4; i++) pal[i] = (uint8_t)it_rand(&seed);
        const size_t row = (size_t)(w + per - 1) / per;
        uint8_t *rows = calloc(row * h, 1), *want = malloc((size_t)w * h * 3);
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++) {
                unsigned s = it_rand(&seed) & (unsigned)(ncol - 1);
                rows[y * row + x / per] |= (uint8_t)(s << (8 - bpp * (x % per + 1)));
                uint8_t *o = want + ((size_t)y * w + x) * 3;
                o[0] = pal[4 * s + 2], o[1] = pal[4 * s + 1], o[2] = pal[4 * s];
            }
        for (int td = 0; td < 2; td++) {
            size_t len;
            uint8_t *bmp = it_write_bmp(w, h, bpp, 40, td, rows, row, pal, ncol, NULL, &len);
            const char *label = tu_path("bmp %d-bit palette top-down %d", bpp, td);
            frost_image *img = decode(label, bmp, len, FROST_IMAGE_BMP);
            expect_rgb(label, img, want, w, h);
            frost_image_free(img);
            free(bmp);
        }
        free(rows);
        free(want);
    }
    free(rgb);
}

/* ------------------------------------------------------------------- GIF */

static void test_gif(void) {
    uint32_t seed = 17;
    ColorMapObject *global = GifMakeMapObject(16, NULL), *local = GifMakeMapObject(8, NULL);
    for (int i = 0; i < 16; i++)
        global->Colors[i].Red = (uint8_t)it_rand(&seed), global->Colors[i].Green = (uint8_t)it_rand(&seed),
        global->Colors[i].Blue = (uint8_t)it_rand(&seed);
    for (int i = 0; i < 8; i++)
        local->Colors[i].Red = (uint8_t)it_rand(&seed), local->Colors[i].Green = (uint8_t)it_rand(&seed),
        local->Colors[i].Blue = (uint8_t)it_rand(&seed);
    const int sw = 29, sh = 21;
    static const struct {
        const char *name;
        int left, top, w, h, interlace, transparent, use_local;
    } cases[] = {
        {"full", 0, 0, 29, 21, 0, -1, 0},       {"interlaced", 0, 0, 29, 21, 1, -1, 0},
        {"local map", 0, 0, 29, 21, 0, -1, 1}, {"offset frame", 5, 3, 11, 9, 0, -1, 0},
        {"transparent", 0, 0, 29, 21, 0, 3, 0}, {"offset interlaced transparent", 2, 7, 20, 13, 1, 5, 1},
        {"frame past the screen", 20, 15, 15, 10, 0, -1, 0},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        const int fw = cases[k].w, fh = cases[k].h, ncol = cases[k].use_local ? 8 : 16;
        const ColorMapObject *cmap = cases[k].use_local ? local : global;
        uint8_t *idx = malloc((size_t)fw * fh), *idx2 = malloc((size_t)sw * sh);
        for (int i = 0; i < fw * fh; i++) idx[i] = (uint8_t)(it_rand(&seed) % (unsigned)ncol);
        for (int i = 0; i < sw * sh; i++) idx2[i] = (uint8_t)(it_rand(&seed) % 16);
        uint8_t *want = calloc((size_t)sw * sh * 3, 1);
        for (int y = 0; y < fh; y++)
            for (int x = 0; x < fw; x++) {
                int cx = cases[k].left + x, cy = cases[k].top + y, s = idx[y * fw + x];
                if (cx >= sw || cy >= sh || s == cases[k].transparent) continue;
                uint8_t *o = want + ((size_t)cy * sw + cx) * 3;
                o[0] = cmap->Colors[s].Red, o[1] = cmap->Colors[s].Green, o[2] = cmap->Colors[s].Blue;
            }
        /* A second frame that must be ignored. */
        it_gif_frame frames[2] = {
            {cases[k].left, cases[k].top, fw, fh, cases[k].interlace, idx, cases[k].transparent,
             cases[k].use_local ? local : NULL},
            {0, 0, sw, sh, 0, idx2, -1, NULL},
        };
        size_t len = 0;
        /* giflib refuses frames outside the screen: widen the screen there,
         * then patch the logical screen size back in the header. */
        int past = cases[k].left + fw > sw || cases[k].top + fh > sh;
        uint8_t *gif = it_write_gif(past ? 64 : sw, past ? 64 : sh, global, frames, past ? 1 : 2, &len);
        CHECK_MSG(gif != NULL, "gif %s: encoding failed", cases[k].name);
        if (gif && past) it_put16(gif + 6, (uint32_t)sw), it_put16(gif + 8, (uint32_t)sh);
        if (gif) {
            const char *label = tu_path("gif %s", cases[k].name);
            frost_image *img = decode(label, gif, len, FROST_IMAGE_GIF);
            expect_rgb(label, img, want, sw, sh);
            frost_image_free(img);
        }
        free(gif);
        free(want);
        free(idx);
        free(idx2);
    }
    GifFreeMapObject(global);
    GifFreeMapObject(local);
}

int main(void) {
    test_png();
    test_bmp();
    test_gif();

    /* The shared BMPs decode to their declared size (24-bit, bottom-up). */
    const char *shared = tu_shared_dir();
    if (shared) {
        static const struct {
            const char *name;
            int w, h;
        } s[] = {{"grace_hopper.bmp", 512, 600}, {"cat.bmp", 512, 341}, {"bird.bmp", 512, 343}, {"dragonfly.bmp", 512, 418}};
        for (int i = 0; i < 4; i++) {
            frost_image *img = NULL;
            char *err = NULL;
            frost_status st = frost_image_load(tu_path("%s/images/%s", shared, s[i].name), NULL, &img, &err);
            CHECK_MSG(st == FROST_OK, "%s: %s", s[i].name, err ? err : "");
            if (img) CHECK(img->width == s[i].w && img->height == s[i].h);
            frost_image_free(img);
            frost_free(err);
        }
    }
    return tu_done();
}
