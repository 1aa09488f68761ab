/* libFuzzer target: the image decoders (format chosen by magic bytes) and
 * preprocessing of whatever decodes.  Build: CC=clang cmake -DFROST_FUZZ=ON;
 * run: ./fuzz/fuzz_image -max_len=65536 CORPUS_DIR */
#include <stddef.h>
#include <stdint.h>

#include "frost.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
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
    return 0;
}
