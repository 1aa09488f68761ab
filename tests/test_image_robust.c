/* frost-test-labels: asan */
/* Decoders on bad input: truncated and corrupted files of every format fail
 * with an error (never a crash), decompression bombs (huge declared size,
 * tiny file) fail fast with FROST_E_LIMIT before any pixel buffer exists,
 * and frost_image_load names the file in its messages. */
#include <time.h>

#include "frost.h"
#include "imgtest.h"

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static frost_status decode_status(const uint8_t *d, size_t n, const frost_decode_options *opt, char **msg) {
    frost_image *img = NULL;
    frost_status st = frost_image_decode(d, n, opt, &img, msg);
    if (st == FROST_OK) {
        CHECK(img && img->width > 0 && img->height > 0 && img->rgb);
    } else {
        CHECK(img == NULL);
    }
    frost_image_free(img);
    return st;
}

static uint32_t crc32_of(const uint8_t *p, size_t n) {
    uint32_t c = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++) c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1)));
    }
    return ~c;
}

static void put_be32(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)(v >> 24), p[1] = (uint8_t)(v >> 16), p[2] = (uint8_t)(v >> 8), p[3] = (uint8_t)v;
}

/* A PNG with only a (valid) IHDR and IEND. */
static size_t png_header_only(uint8_t *b, uint32_t w, uint32_t h) {
    memcpy(b, "\x89PNG\r\n\x1a\n", 8);
    put_be32(b + 8, 13);
    memcpy(b + 12, "IHDR", 4);
    put_be32(b + 16, w);
    put_be32(b + 20, h);
    b[24] = 8, b[25] = 2, b[26] = 0, b[27] = 0, b[28] = 0;
    put_be32(b + 29, crc32_of(b + 12, 17));
    put_be32(b + 33, 0);
    memcpy(b + 37, "IEND", 4);
    put_be32(b + 41, crc32_of(b + 37, 4));
    return 45;
}

static void expect_bomb(const char *label, const uint8_t *d, size_t n) {
    double t0 = now_s();
    char *msg = NULL;
    frost_status st = decode_status(d, n, NULL, &msg);
    double dt = now_s() - t0;
    CHECK_MSG(st == FROST_E_LIMIT, "%s: status %s (%s)", label, frost_strerror(st), msg ? msg : "");
    CHECK_MSG(msg && strstr(msg, "limit"), "%s: message '%s' should mention the limit", label, msg ? msg : "");
    CHECK_MSG(dt < 0.05, "%s: took %.3f s", label, dt);
    frost_free(msg);
}

int main(void) {
    const char *tmp = tu_tmp_dir();
    const int w = 48, h = 40;
    uint8_t *px = it_pattern(w, h, 3, 1);

    /* One valid file of each format. */
    size_t n_png = 0, n_bmp = 0, n_gif = 0, n_jpg = 0;
    uint8_t *png = it_write_png(px, (size_t)w * h * 3, w, h, 8, SPNG_COLOR_TYPE_TRUECOLOR, 0, NULL, NULL, &n_png);
    uint8_t *rows = malloc((size_t)w * h * 3);
    for (size_t i = 0; i < (size_t)w * h; i++)
        rows[3 * i] = px[3 * i + 2], rows[3 * i + 1] = px[3 * i + 1], rows[3 * i + 2] = px[3 * i];
    uint8_t *bmp = it_write_bmp(w, h, 24, 40, 0, rows, (size_t)w * 3, NULL, 0, NULL, &n_bmp);
    ColorMapObject *cmap = GifMakeMapObject(256, NULL);
    for (int i = 0; i < 256; i++) cmap->Colors[i].Red = (uint8_t)i, cmap->Colors[i].Green = (uint8_t)(255 - i);
    uint8_t *idx = malloc((size_t)w * h);
    for (int i = 0; i < w * h; i++) idx[i] = px[3 * i];
    it_gif_frame fr = {0, 0, w, h, 0, idx, -1, NULL};
    uint8_t *gif = it_write_gif(w, h, cmap, &fr, 1, &n_gif);
    const char *jpath = tu_path("%s/robust.jpg", tmp);
    it_jpeg_opts jo = {2, 2, 0, 90, 0, 0};
    CHECK(it_write_jpeg(jpath, px, w, h, 3, JCS_RGB, JCS_YCbCr, jo) == 0);
    uint8_t *jpg = tu_read_file(jpath, &n_jpg);
    CHECK(png && bmp && gif && jpg);
    if (!png || !bmp || !gif || !jpg) return tu_done();

    const struct {
        const char *name;
        uint8_t *d;
        size_t n;
    } files[] = {{"png", png, n_png}, {"bmp", bmp, n_bmp}, {"gif", gif, n_gif}, {"jpeg", jpg, n_jpg}};
    for (int f = 0; f < 4; f++) {
        CHECK_MSG(decode_status(files[f].d, files[f].n, NULL, NULL) == FROST_OK, "%s: valid file", files[f].name);
        /* Truncated anywhere before the end of the pixel data: an error. */
        size_t cuts[] = {0, 1, 2, 3, 7, 12, 20, 30, files[f].n / 4, files[f].n / 2, files[f].n * 3 / 4};
        for (size_t c = 0; c < sizeof cuts / sizeof cuts[0]; c++) {
            uint8_t *copy = malloc(cuts[c] + 1); /* exact-size copy so ASan sees overreads */
            memcpy(copy, files[f].d, cuts[c]);
            char *msg = NULL;
            frost_status st = decode_status(copy, cuts[c], NULL, &msg);
            CHECK_MSG(st == FROST_E_IMAGE, "%s truncated to %zu bytes: %s", files[f].name, cuts[c], frost_strerror(st));
            CHECK_MSG(msg && *msg, "%s truncated: has a message", files[f].name);
            frost_free(msg);
            free(copy);
        }
        /* Random corruption: any status is acceptable, a crash is not. */
        uint32_t seed = 1234u + (uint32_t)f;
        int failed = 0;
        for (int k = 0; k < 300; k++) {
            uint8_t *copy = malloc(files[f].n);
            memcpy(copy, files[f].d, files[f].n);
            int flips = 1 + (int)(it_rand(&seed) % 8);
            for (int j = 0; j < flips; j++) copy[it_rand(&seed) % files[f].n] = (uint8_t)it_rand(&seed);
            frost_status st = decode_status(copy, files[f].n, NULL, NULL);
            failed += st != FROST_OK;
            CHECK(st == FROST_OK || st == FROST_E_IMAGE || st == FROST_E_LIMIT);
            free(copy);
        }
        printf("%s: %d of 300 corrupted copies rejected\n", files[f].name, failed);
    }

    /* Bombs: huge declared sizes in tiny files. */
    uint8_t b[256];
    size_t n = png_header_only(b, 100000, 100000);
    expect_bomb("png 100000x100000", b, n);
    /* JPEG: patch the SOF dimensions of the valid file to 60000x60000. */
    {
        uint8_t *j = malloc(n_jpg);
        memcpy(j, jpg, n_jpg);
        for (size_t i = 2; i + 9 < n_jpg; i++)
            if (j[i] == 0xFF && (j[i + 1] == 0xC0 || j[i + 1] == 0xC2)) {
                j[i + 5] = 0xEA, j[i + 6] = 0x60, j[i + 7] = 0xEA, j[i + 8] = 0x60;
                break;
            }
        expect_bomb("jpeg 60000x60000", j, n_jpg);
        free(j);
    }
    {
        uint8_t g[64];
        memcpy(g, gif, 13);
        it_put16(g + 6, 65535), it_put16(g + 8, 65535);
        g[10] = 0; /* no global color map */
        g[13] = 0x3B;
        expect_bomb("gif 65535x65535", g, 14);
    }
    {
        uint8_t m[64];
        memcpy(m, bmp, 54);
        it_put32(m + 18, 100000), it_put32(m + 22, 100000);
        expect_bomb("bmp 100000x100000", m, 54);
        it_put32(m + 18, 100000), it_put32(m + 22, (uint32_t)-100000);
        expect_bomb("bmp 100000x-100000", m, 54);
    }

    /* A progressive JPEG whose last scan is repeated 600 times: real files
     * have about ten scans; this one is refused, quickly. */
    {
        int pw = 64, ph = 48;
        uint8_t *pp = it_pattern(pw, ph, 3, 9);
        const char *ppath = tu_path("%s/progressive.jpg", tmp);
        it_jpeg_opts po = {2, 2, 1, 90, 0, 0};
        CHECK(it_write_jpeg(ppath, pp, pw, ph, 3, JCS_RGB, JCS_YCbCr, po) == 0);
        size_t pn = 0;
        uint8_t *pj = tu_read_file(ppath, &pn);
        size_t last_sos = 0, i = 2;
        while (pj && i + 4 <= pn) { /* walk the marker segments */
            if (pj[i] != 0xFF) break;
            uint8_t mk = pj[i + 1];
            if (mk == 0xD9) break;
            size_t len = (size_t)pj[i + 2] << 8 | pj[i + 3];
            size_t next = i + 2 + len;
            if (mk == 0xDA) { /* entropy-coded data runs to the next real marker */
                last_sos = i;
                while (next + 1 < pn && !(pj[next] == 0xFF && pj[next + 1] != 0 && (pj[next + 1] < 0xD0 || pj[next + 1] > 0xD7)))
                    next++;
            }
            i = next;
        }
        CHECK(pj && last_sos > 0 && i + 2 == pn);
        if (pj && last_sos > 0 && i + 2 == pn) {
            size_t scan = i - last_sos, reps = 600;
            uint8_t *bomb = malloc(pn + scan * reps);
            memcpy(bomb, pj, i);
            for (size_t r = 0; r < reps; r++) memcpy(bomb + i + r * scan, pj + last_sos, scan);
            memcpy(bomb + i + reps * scan, pj + i, 2);
            CHECK(decode_status(pj, pn, NULL, NULL) == FROST_OK);
            double t0 = now_s();
            char *m = NULL;
            frost_status st = decode_status(bomb, pn + scan * reps, NULL, &m);
            CHECK_MSG(st == FROST_E_LIMIT && m && strstr(m, "scans"), "600 extra scans: %s (%s)", frost_strerror(st),
                      m ? m : "");
            CHECK(now_s() - t0 < 1.0);
            frost_free(m);
            free(bomb);
        }
        free(pj);
        free(pp);
    }

    /* The limit is configurable. */
    frost_decode_options opt;
    frost_decode_options_init(&opt);
    CHECK(opt.max_pixels == 100000000);
    for (int f = 0; f < 4; f++) {
        opt.max_pixels = (int64_t)w * h - 1;
        CHECK_MSG(decode_status(files[f].d, files[f].n, &opt, NULL) == FROST_E_LIMIT, "%s: one pixel over",
                  files[f].name);
        opt.max_pixels = (int64_t)w * h;
        CHECK_MSG(decode_status(files[f].d, files[f].n, &opt, NULL) == FROST_OK, "%s: at the limit", files[f].name);
    }
    opt.max_pixels = -1;
    CHECK(decode_status(png, n_png, &opt, NULL) == FROST_E_INVALID_ARGUMENT);

    /* Detection is by content, not name; messages of frost_image_load name the file. */
    const char *misnamed = tu_path("%s/really_a_png.jpg", tmp);
    CHECK(tu_write_file(misnamed, png, n_png) == 0);
    frost_image *img = NULL;
    CHECK(frost_image_load(misnamed, NULL, &img, NULL) == FROST_OK);
    frost_image_free(img);
    img = NULL;
    char *msg = NULL;
    const char *missing = tu_path("%s/no_such_file.png", tmp);
    CHECK(frost_image_load(missing, NULL, &img, &msg) == FROST_E_IO);
    CHECK_MSG(msg && strstr(msg, missing), "message '%s' names the file", msg ? msg : "");
    frost_free(msg);
    msg = NULL;
    const char *text = tu_path("%s/notes.txt", tmp);
    CHECK(tu_write_file(text, "hello, world\n", 13) == 0);
    CHECK(frost_image_load(text, NULL, &img, &msg) == FROST_E_IMAGE);
    CHECK_MSG(msg && strstr(msg, text) && strstr(msg, "unknown image format"), "message: %s", msg ? msg : "");
    frost_free(msg);
    msg = NULL;
    const char *trunc = tu_path("%s/truncated.jpg", tmp);
    CHECK(tu_write_file(trunc, jpg, n_jpg / 2) == 0);
    CHECK(frost_image_load(trunc, NULL, &img, &msg) == FROST_E_IMAGE);
    CHECK_MSG(msg && strstr(msg, trunc) && strstr(msg, "JPEG"), "message: %s", msg ? msg : "");
    frost_free(msg);
    msg = NULL;
    CHECK(frost_image_load(tmp, NULL, &img, &msg) == FROST_E_IO); /* a directory */
    frost_free(msg);
    CHECK(frost_image_decode(png, n_png, NULL, NULL, NULL) == FROST_E_INVALID_ARGUMENT);
    CHECK(frost_image_detect(NULL, 10) == FROST_IMAGE_UNKNOWN);
    CHECK(frost_image_detect("\xFF\xD8\xFF", 3) == FROST_IMAGE_JPEG);
    CHECK(frost_image_detect("BM", 2) == FROST_IMAGE_BMP);
    CHECK(frost_image_detect("GIF87a", 6) == FROST_IMAGE_GIF);
    CHECK(frost_image_detect("GIF88a", 6) == FROST_IMAGE_UNKNOWN);
    frost_image_free(NULL);

    free(png), free(bmp), free(gif), free(jpg), free(rows), free(idx), free(px);
    GifFreeMapObject(cmap);
    return tu_done();
}
