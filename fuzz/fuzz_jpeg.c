/* libFuzzer target: the JPEG decoder alone (the JPEG magic is prepended to an
 * input that lacks it) and preprocessing; see fuzz_image.h.
 * run: ./fuzz/fuzz_jpeg -max_len=65536 CORPUS_DIR */
#define FUZZ_IMAGE_MAGIC "\xff\xd8\xff"
#define FUZZ_IMAGE_MAGIC_LEN 3
#include "fuzz_image.h"
