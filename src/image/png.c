/* PNG through libspng, as TensorFlow's decode_png(channels=3, dtype=uint8):
 * palette expanded, grayscale replicated, alpha and tRNS dropped (no
 * compositing), 16-bit samples reduced to their high byte (libpng's
 * png_set_strip_16), no gamma correction; and decode_png's other channels
 * (fr_decode_png_channels). */

#include <spng.h>

#include "image/image_internal.h"

/* Ancillary chunks (text, ICC profiles) are capped so a small file cannot
 * make the decoder buffer gigabytes of metadata. */
#define FR_PNG_CHUNK_LIMIT ((size_t)16 << 20)
#define FR_PNG_CACHE_LIMIT ((size_t)64 << 20)

/* The decoder set up on data (chunk limits, the header read): 0, or -1 with
 * *st set (nothing left allocated). */
static int png_open(const uint8_t *data, size_t size, const frost_decode_options *opt, spng_ctx **out,
                    struct spng_ihdr *ihdr, frost_status *st, char **err) {
    spng_ctx *ctx = spng_ctx_new(0);
    if (!ctx) return *st = fr_img_error(err, FROST_E_NO_MEMORY, "PNG: out of memory"), -1;
    int ret = spng_set_chunk_limits(ctx, FR_PNG_CHUNK_LIMIT, FR_PNG_CACHE_LIMIT);
#ifdef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
    /* fuzz builds only: mutated chunks reach the decoder instead of failing their CRC */
    if (!ret) ret = spng_set_crc_action(ctx, SPNG_CRC_USE, SPNG_CRC_USE);
#endif
    if (!ret) ret = spng_set_png_buffer(ctx, data, size);
    if (!ret) ret = spng_get_ihdr(ctx, ihdr);
    *st = ret ? fr_img_error(err, FROST_E_IMAGE, "PNG: %s", spng_strerror(ret))
              : fr_img_check_size("PNG", ihdr->width, ihdr->height, opt, err);
    if (*st != FROST_OK) {
        spng_ctx_free(ctx);
        return -1;
    }
    *out = ctx;
    return 0;
}

/* The image decoded as `fmt` (SPNG_FMT_RGB8: 3 bytes a pixel, RGBA8: 4)
 * into a new buffer of exactly that size. */
static frost_status png_pixels(spng_ctx *ctx, const struct spng_ihdr *ihdr, int fmt, int flags, size_t bpp,
                               uint8_t **pix, char **err) {
    size_t need = 0;
    int ret = spng_decoded_image_size(ctx, fmt, &need);
    if (ret) return fr_img_error(err, FROST_E_IMAGE, "PNG: %s", spng_strerror(ret));
    if (need != (size_t)ihdr->width * ihdr->height * bpp)
        return fr_img_error(err, FROST_E_INTERNAL, "PNG: unexpected decoded size %zu", need);
    if (!(*pix = malloc(need))) return fr_img_error(err, FROST_E_NO_MEMORY, "PNG: out of memory");
    if ((ret = spng_decode_image(ctx, *pix, need, fmt, flags)) != 0) {
        free(*pix);
        *pix = NULL;
        return fr_img_error(err, FROST_E_IMAGE, "PNG: %s", spng_strerror(ret));
    }
    return FROST_OK;
}

frost_status fr_decode_png(const uint8_t *data, size_t size, const frost_decode_options *opt, frost_image **out,
                           char **err) {
    spng_ctx *ctx;
    struct spng_ihdr ihdr;
    frost_status st;
    if (png_open(data, size, opt, &ctx, &ihdr, &st, err)) return st;
    /* SPNG_FMT_RGB8 reduces 16-bit samples to their high byte, as
     * png_set_strip_16 does (checked by tests/test_image_formats.c). */
    fr_pixels px = {(int)ihdr.width, (int)ihdr.height, 3, NULL};
    st = png_pixels(ctx, &ihdr, SPNG_FMT_RGB8, 0, 3, &px.data, err);
    spng_ctx_free(ctx);
    if (st == FROST_OK && (st = fr_img_wrap(&px, out, err)) != FROST_OK) free(px.data);
    return st;
}

/* decode_png's channels as TensorFlow's png::CommonInitDecode sets libpng
 * up: 0 takes the file's (gray 1, gray + alpha 2, RGB 3, RGBA 4, palette 1);
 * an even count wants alpha (the file's, else its tRNS, else 255), an odd
 * one drops it; 3 or 4 replicate gray.  Color to 1 or 2 channels is
 * libpng's png_set_rgb_to_gray, which frost does not reproduce: refused. */
frost_status fr_decode_png_channels(const uint8_t *data, size_t size, const frost_decode_options *opt, int channels,
                                    fr_pixels *out, char **err) {
    spng_ctx *ctx;
    struct spng_ihdr ihdr;
    frost_status st;
    if (png_open(data, size, opt, &ctx, &ihdr, &st, err)) return st;
    static const int own[7] = {1, 0, 3, 1, 2, 0, 4}; /* by color type */
    int want = channels ? channels : ihdr.color_type <= 6 ? own[ihdr.color_type] : 3;
    int is_gray = ihdr.color_type == SPNG_COLOR_TYPE_GRAYSCALE || ihdr.color_type == SPNG_COLOR_TYPE_GRAYSCALE_ALPHA;
    if (want < 3 && !is_gray) {
        spng_ctx_free(ctx);
        return fr_img_error(err, FROST_E_IMAGE,
                            "PNG: a %s PNG to %d channel%s is libpng's rgb_to_gray conversion in TensorFlow, which "
                            "frost does not reproduce (channels=3 or 4 decode it)",
                            ihdr.color_type == SPNG_COLOR_TYPE_INDEXED ? "palette" : "color", want, want > 1 ? "s" : "");
    }
    *out = (fr_pixels){(int)ihdr.width, (int)ihdr.height, want, NULL};
    if (want == 3) {
        st = png_pixels(ctx, &ihdr, SPNG_FMT_RGB8, 0, 3, &out->data, err);
    } else if ((st = png_pixels(ctx, &ihdr, SPNG_FMT_RGBA8, SPNG_DECODE_TRNS, 4, &out->data, err)) == FROST_OK &&
               want < 4) {
        /* gray (replicated in R, G, B) and alpha, compacted in place */
        const size_t n = (size_t)ihdr.width * ihdr.height;
        uint8_t *p = out->data;
        for (size_t i = 0; i < n; i++) {
            p[(size_t)want * i] = p[4 * i];
            if (want == 2) p[2 * i + 1] = p[4 * i + 3];
        }
    }
    spng_ctx_free(ctx);
    return st;
}
