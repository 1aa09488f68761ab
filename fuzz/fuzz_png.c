/* libFuzzer target: the PNG decoder alone (the PNG magic is prepended to an
 * input that lacks it) and preprocessing; see fuzz_image.h.
 * run: ./fuzz/fuzz_png -max_len=65536 CORPUS_DIR */
#define FUZZ_IMAGE_MAGIC "\x89PNG\r\n\x1a\n"
#define FUZZ_IMAGE_MAGIC_LEN 8
#include "fuzz_image.h"
