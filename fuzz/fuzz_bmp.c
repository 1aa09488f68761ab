/* libFuzzer target: the BMP decoder alone (the BMP magic is prepended to an
 * input that lacks it) and preprocessing; see fuzz_image.h.
 * run: ./fuzz/fuzz_bmp -max_len=65536 CORPUS_DIR */
#define FUZZ_IMAGE_MAGIC "BM"
#define FUZZ_IMAGE_MAGIC_LEN 2
#include "fuzz_image.h"
