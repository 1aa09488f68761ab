/* Test helpers: deterministic pixel patterns and writers for every image
 * format frost decodes (libjpeg, libspng, giflib, BMP by hand), plus djpeg
 * as the JPEG reference.  Header-only: each test_image_*.c includes it. */
#ifndef FROST_IMGTEST_H
#define FROST_IMGTEST_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gif_lib.h>
#include <jpeglib.h>
#include <spng.h>

#include "testutil.h"

static inline uint32_t it_rand(uint32_t *state) {
    *state = *state * 1664525u + 1013904223u;
    return *state >> 8;
}

/* w x h x ch bytes: gradients, a sharp-edged block and noise. */
static inline uint8_t *it_pattern(int w, int h, int ch, uint32_t seed) {
    uint8_t *p = malloc((size_t)w * h * ch);
    uint32_t s = seed;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            for (int c = 0; c < ch; c++) {
                int v = (x * 255 / (w > 1 ? w - 1 : 1)) * (c % 3 == 0) + (y * 255 / (h > 1 ? h - 1 : 1)) * (c % 3 == 1) +
                        ((x + y) * 7) * (c % 3 == 2);
                if (x > w / 3 && x < w / 2 && y > h / 4 && y < h / 2) v = 255 - v;
                v += (int)(it_rand(&s) % 32) - 16;
                p[((size_t)y * w + x) * ch + c] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
            }
    return p;
}

/* ------------------------------------------------------------------ JPEG */

typedef struct {
    int hs, vs;        /* luma sampling factors: 2,2 = 4:2:0; 2,1 = 4:2:2; 1,1 = 4:4:4 */
    int progressive;
    int quality;
    int restart_rows;
    int adobe;         /* CMYK only: write the Adobe marker */
} it_jpeg_opts;

/* px has `comps` components of in_cs (JCS_RGB, JCS_GRAYSCALE or JCS_CMYK).
 * jpeg_cs: the color space stored in the file. Returns 0 on success. */
static inline int it_write_jpeg(const char *path, const uint8_t *px, int w, int h, int comps, J_COLOR_SPACE in_cs,
                                J_COLOR_SPACE jpeg_cs, it_jpeg_opts o) {
    FILE *f = fopen(path, "wb");
    if (!f) return -1;
    struct jpeg_compress_struct c;
    struct jpeg_error_mgr e;
    c.err = jpeg_std_error(&e);
    jpeg_create_compress(&c);
    jpeg_stdio_dest(&c, f);
    c.image_width = (JDIMENSION)w;
    c.image_height = (JDIMENSION)h;
    c.input_components = comps;
    c.in_color_space = in_cs;
    jpeg_set_defaults(&c);
    jpeg_set_colorspace(&c, jpeg_cs);
    if (jpeg_cs == JCS_CMYK || jpeg_cs == JCS_YCCK) c.write_Adobe_marker = o.adobe ? TRUE : FALSE;
    jpeg_set_quality(&c, o.quality ? o.quality : 90, TRUE);
    if (jpeg_cs == JCS_YCbCr || jpeg_cs == JCS_YCCK) {
        c.comp_info[0].h_samp_factor = o.hs ? o.hs : 2;
        c.comp_info[0].v_samp_factor = o.vs ? o.vs : 2;
        for (int i = 1; i < c.num_components; i++) c.comp_info[i].h_samp_factor = c.comp_info[i].v_samp_factor = 1;
        if (jpeg_cs == JCS_YCCK) c.comp_info[3].h_samp_factor = c.comp_info[3].v_samp_factor = c.comp_info[0].h_samp_factor;
    }
    if (o.progressive) jpeg_simple_progression(&c);
    c.restart_in_rows = o.restart_rows;
    jpeg_start_compress(&c, TRUE);
    while (c.next_scanline < c.image_height) {
        JSAMPROW row = (JSAMPROW)(px + (size_t)c.next_scanline * w * comps);
        jpeg_write_scanlines(&c, &row, 1);
    }
    jpeg_finish_compress(&c);
    jpeg_destroy_compress(&c);
    return fclose(f);
}

/* Decodes with `djpeg [extra] -dct fast` into RGB (PGM output replicated).
 * NULL if djpeg is missing or fails. */
static inline uint8_t *it_djpeg(const char *jpeg_path, const char *extra, int *w, int *h) {
    const char *out = tu_path("%s.djpeg.pnm", jpeg_path);
    char cmd[8192];
    snprintf(cmd, sizeof cmd, "djpeg -dct fast %s -outfile '%s' '%s' 2>/dev/null", extra ? extra : "", out, jpeg_path);
    if (system(cmd) != 0) return NULL;
    size_t n;
    uint8_t *d = tu_read_file(out, &n);
    remove(out);
    if (!d) return NULL;
    int maxval, ch, off = 0;
    char magic[3] = {0};
    if (sscanf((char *)d, "%2s %d %d %d%n", magic, w, h, &maxval, &off) != 4 || maxval != 255) {
        free(d);
        return NULL;
    }
    ch = !strcmp(magic, "P6") ? 3 : !strcmp(magic, "P5") ? 1 : 0;
    off++; /* one whitespace byte after maxval */
    size_t npix = (size_t)*w * *h;
    if (!ch || n < off + npix * ch) {
        free(d);
        return NULL;
    }
    uint8_t *rgb = malloc(npix * 3);
    for (size_t i = 0; i < npix; i++)
        for (int c = 0; c < 3; c++) rgb[3 * i + c] = d[off + i * ch + (ch == 3 ? c : 0)];
    free(d);
    return rgb;
}

/* ------------------------------------------------------------------- PNG */

/* Encodes raw PNG-layout rows (SPNG_FMT_PNG: packed sub-byte samples,
 * host-endian 16-bit samples).  plte/trns may be NULL. Returns malloc'd bytes. */
static inline uint8_t *it_write_png(const void *raw, size_t raw_len, int w, int h, int depth, int color, int interlace,
                                    struct spng_plte *plte, struct spng_trns *trns, size_t *len_out) {
    spng_ctx *ctx = spng_ctx_new(SPNG_CTX_ENCODER);
    if (!ctx) return NULL;
    spng_set_option(ctx, SPNG_ENCODE_TO_BUFFER, 1);
    struct spng_ihdr ihdr = {0};
    ihdr.width = (uint32_t)w;
    ihdr.height = (uint32_t)h;
    ihdr.bit_depth = (uint8_t)depth;
    ihdr.color_type = (uint8_t)color;
    ihdr.interlace_method = (uint8_t)interlace;
    int r = spng_set_ihdr(ctx, &ihdr);
    if (!r && plte) r = spng_set_plte(ctx, plte);
    if (!r && trns) r = spng_set_trns(ctx, trns);
    if (!r) r = spng_encode_image(ctx, raw, raw_len, SPNG_FMT_PNG, SPNG_ENCODE_FINALIZE);
    uint8_t *out = NULL;
    if (!r) out = spng_get_png_buffer(ctx, len_out, &r);
    if (r) {
        fprintf(stderr, "spng encode: %s\n", spng_strerror(r));
        free(out);
        out = NULL;
    }
    spng_ctx_free(ctx);
    return out;
}

/* ------------------------------------------------------------------- BMP */

static inline void it_put16(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}
static inline void it_put32(uint8_t *p, uint32_t v) {
    for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
}

/* A BMP with a header of hsize bytes (12, 40 or 108), bpp bits, top_down
 * rows, `pixels` already in file layout per row (unpadded: row_bytes each),
 * optional palette (BGRA entries, ncolors) and masks (bitfields when non-NULL). */
static inline uint8_t *it_write_bmp(int w, int h, int bpp, int hsize, int top_down, const uint8_t *pixels,
                                    size_t row_bytes, const uint8_t *palette_bgra, int ncolors, const uint32_t *masks,
                                    size_t *len_out) {
    size_t stride = (((size_t)w * bpp + 31) / 32) * 4;
    size_t entry = hsize == 12 ? 3 : 4;
    size_t extra_masks = (masks && hsize == 40) ? 12 : 0;
    size_t off = 14 + hsize + extra_masks + (size_t)ncolors * entry;
    size_t len = off + stride * h;
    uint8_t *b = calloc(1, len);
    b[0] = 'B';
    b[1] = 'M';
    it_put32(b + 2, (uint32_t)len);
    it_put32(b + 10, (uint32_t)off);
    uint8_t *hd = b + 14;
    it_put32(hd, (uint32_t)hsize);
    if (hsize == 12) {
        it_put16(hd + 4, (uint32_t)w);
        it_put16(hd + 6, (uint32_t)h);
        it_put16(hd + 8, 1);
        it_put16(hd + 10, (uint32_t)bpp);
    } else {
        it_put32(hd + 4, (uint32_t)w);
        it_put32(hd + 8, (uint32_t)(top_down ? -h : h));
        it_put16(hd + 12, 1);
        it_put16(hd + 14, (uint32_t)bpp);
        it_put32(hd + 16, masks ? 3 : 0);
        it_put32(hd + 20, (uint32_t)(stride * h));
        it_put32(hd + 32, (uint32_t)ncolors);
        if (masks)
            for (int i = 0; i < 3; i++) it_put32(b + 14 + 40 + 4 * i, masks[i]);
    }
    for (int i = 0; i < ncolors; i++) memcpy(b + 14 + hsize + extra_masks + i * entry, palette_bgra + 4 * i, entry);
    for (int y = 0; y < h; y++) {
        int row = top_down ? y : h - 1 - y;
        memcpy(b + off + (size_t)row * stride, pixels + (size_t)y * row_bytes, row_bytes);
    }
    *len_out = len;
    return b;
}

/* ------------------------------------------------------------------- GIF */

typedef struct {
    uint8_t *data;
    size_t size, cap;
} it_buf;

static inline int it_gif_out(GifFileType *g, const GifByteType *d, int n) {
    it_buf *b = g->UserData;
    if (b->size + (size_t)n > b->cap) {
        b->cap = (b->size + (size_t)n) * 2 + 256;
        b->data = realloc(b->data, b->cap);
    }
    memcpy(b->data + b->size, d, (size_t)n);
    b->size += (size_t)n;
    return n;
}

typedef struct {
    int left, top, w, h, interlace;
    const uint8_t *indices; /* w*h */
    int transparent;        /* -1: none */
    const ColorMapObject *local; /* NULL: global */
} it_gif_frame;

static inline uint8_t *it_write_gif(int sw, int sh, const ColorMapObject *global, const it_gif_frame *frames,
                                    int nframes, size_t *len_out) {
    it_buf b = {0};
    int err = 0;
    GifFileType *g = EGifOpen(&b, it_gif_out, &err);
    if (!g) return NULL;
    EGifSetGifVersion(g, true);
    if (EGifPutScreenDesc(g, sw, sh, 8, 0, global) == GIF_ERROR) goto fail;
    for (int k = 0; k < nframes; k++) {
        const it_gif_frame *f = &frames[k];
        if (f->transparent >= 0) {
            uint8_t gce[4] = {1, 0, 0, (uint8_t)f->transparent};
            if (EGifPutExtension(g, GRAPHICS_EXT_FUNC_CODE, 4, gce) == GIF_ERROR) goto fail;
        }
        /* giflib 5.2 drops (leaks) the previous frame's local color map copy. */
        if (g->Image.ColorMap) {
            GifFreeMapObject(g->Image.ColorMap);
            g->Image.ColorMap = NULL;
        }
        if (EGifPutImageDesc(g, f->left, f->top, f->w, f->h, f->interlace, f->local) == GIF_ERROR) goto fail;
        static const int start[4] = {0, 4, 2, 1}, step[4] = {8, 8, 4, 2};
        for (int p = 0; p < (f->interlace ? 4 : 1); p++)
            for (int y = f->interlace ? start[p] : 0; y < f->h; y += f->interlace ? step[p] : 1)
                if (EGifPutLine(g, (GifPixelType *)(f->indices + (size_t)y * f->w), f->w) == GIF_ERROR) goto fail;
    }
    /* ... and never frees the last one. */
    if (g->Image.ColorMap) {
        GifFreeMapObject(g->Image.ColorMap);
        g->Image.ColorMap = NULL;
    }
    if (EGifCloseFile(g, &err) == GIF_ERROR) {
        free(b.data);
        return NULL;
    }
    *len_out = b.size;
    return b.data;
fail:
    EGifCloseFile(g, &err);
    free(b.data);
    return NULL;
}

/* Number of positions where two RGB buffers differ, and the largest difference. */
static inline size_t it_rgb_diff(const uint8_t *a, const uint8_t *b, size_t n, int *maxdiff) {
    size_t bad = 0;
    int m = 0;
    for (size_t i = 0; i < n; i++) {
        int d = abs((int)a[i] - (int)b[i]);
        if (d) bad++;
        if (d > m) m = d;
    }
    if (maxdiff) *maxdiff = m;
    return bad;
}

#endif
