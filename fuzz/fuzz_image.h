/* The body shared by the image fuzz targets: fuzz_image (any format, the
 * decoder chosen by magic bytes) and one target per decoder (fuzz_jpeg,
 * fuzz_png, fuzz_bmp, fuzz_gif).  A per-decoder target defines
 * FUZZ_IMAGE_MAGIC (and FUZZ_IMAGE_MAGIC_LEN) before including this file:
 * an input that does not start with that format's magic gets it prepended,
 * so every execution reaches that decoder (the copy is an exact-size heap
 * buffer, so over-reads still show under ASan).  The last byte's low bit
 * selects the DCT-scaled fast JPEG path; whatever decodes is preprocessed
 * with each resize mode.  The decode ops' path (fr_decode_tf: TensorFlow's
 * channels, its raw BMP reader) runs too, channels 0 / 1 / 3 / 4 from the
 * first byte. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "frost.h"
#include "image/image_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_image_decode(const uint8_t *data, size_t size) {
    frost_decode_options opt;
    frost_decode_options_init(&opt);
    opt.max_pixels = (int64_t)4 << 20; /* keep each run small */
    if (size > 0 && (data[size - 1] & 1)) {
        opt.fast_decode = 1;
        opt.target_width = 16;
        opt.target_height = 16;
    }
    frost_image *img = NULL;
    char *err = NULL;
    if (frost_image_decode(data, size, &opt, &img, &err) == FROST_OK) {
        float out[12 * 10 * 3];
        for (int mode = 0; mode < 3; mode++) {
            frost_preprocess pp = {12, 10, 127.5f, 127.5f, (frost_resize)mode};
            frost_image_preprocess(img, &pp, out);
        }
    }
    frost_free(err);
    frost_image_free(img);
    static const int channels[4] = {0, 1, 3, 4};
    fr_pixels px;
    err = NULL;
    opt.fast_decode = 0;
    if (fr_decode_tf(data, size, &opt, 1, channels[size ? data[0] & 3 : 0], &px, &err) == FROST_OK) free(px.data);
    frost_free(err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
#ifdef FUZZ_IMAGE_MAGIC
    const size_t mlen = FUZZ_IMAGE_MAGIC_LEN;
    if (size >= mlen && !memcmp(data, FUZZ_IMAGE_MAGIC, mlen)) {
        fuzz_image_decode(data, size);
        return 0;
    }
    uint8_t *buf = malloc(mlen + size);
    if (!buf) return 0;
    memcpy(buf, FUZZ_IMAGE_MAGIC, mlen);
    if (size) memcpy(buf + mlen, data, size);
    fuzz_image_decode(buf, mlen + size);
    free(buf);
#else
    fuzz_image_decode(data, size);
#endif
    return 0;
}
