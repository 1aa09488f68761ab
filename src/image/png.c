/* PNG through libspng, as TensorFlow's decode_png(channels=3, dtype=uint8):
 * palette expanded, grayscale replicated, alpha and tRNS dropped (no
 * compositing), 16-bit samples reduced to their high byte (libpng's
 * png_set_strip_16), no gamma correction. */

#include <spng.h>

#include "image/image_internal.h"

/* Ancillary chunks (text, ICC profiles) are capped so a small file cannot
 * make the decoder buffer gigabytes of metadata. */
#define FR_PNG_CHUNK_LIMIT ((size_t)16 << 20)
#define FR_PNG_CACHE_LIMIT ((size_t)64 << 20)

frost_status fr_decode_png(const uint8_t *data, size_t size, const frost_decode_options *opt, frost_image **out,
                           char **err) {
    spng_ctx *ctx = spng_ctx_new(0);
    if (!ctx) return fr_img_error(err, FROST_E_NO_MEMORY, "PNG: out of memory");
    frost_image *img = NULL;
    frost_status st = FROST_OK;
    struct spng_ihdr ihdr;
    int ret = spng_set_chunk_limits(ctx, FR_PNG_CHUNK_LIMIT, FR_PNG_CACHE_LIMIT);
#ifdef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
    /* fuzz builds only: mutated chunks reach the decoder instead of failing their CRC */
    if (!ret) ret = spng_set_crc_action(ctx, SPNG_CRC_USE, SPNG_CRC_USE);
#endif
    if (!ret) ret = spng_set_png_buffer(ctx, data, size);
    if (!ret) ret = spng_get_ihdr(ctx, &ihdr);
    if (ret) {
        st = fr_img_error(err, FROST_E_IMAGE, "PNG: %s", spng_strerror(ret));
        goto done;
    }
    if ((st = fr_img_check_size("PNG", ihdr.width, ihdr.height, opt, err)) != FROST_OK) goto done;
    if ((st = fr_img_alloc((int)ihdr.width, (int)ihdr.height, &img, err)) != FROST_OK) goto done;

    /* SPNG_FMT_RGB8 reduces 16-bit samples to their high byte, as
     * png_set_strip_16 does (checked by tests/test_image_formats.c). */
    const size_t npix = (size_t)ihdr.width * ihdr.height;
    size_t need = 0;
    if ((ret = spng_decoded_image_size(ctx, SPNG_FMT_RGB8, &need)) != 0) goto spng_fail;
    if (need != npix * 3) goto size_fail;
    if ((ret = spng_decode_image(ctx, img->rgb, need, SPNG_FMT_RGB8, 0)) != 0) goto spng_fail;
    goto done;

spng_fail:
    st = fr_img_error(err, FROST_E_IMAGE, "PNG: %s", spng_strerror(ret));
    goto done;
size_fail:
    st = fr_img_error(err, FROST_E_INTERNAL, "PNG: unexpected decoded size %zu", need);
done:
    spng_ctx_free(ctx);
    if (st != FROST_OK) {
        frost_image_free(img);
        return st;
    }
    *out = img;
    return FROST_OK;
}
