/* libFuzzer target: the GIF decoder alone (the GIF magic is prepended to an
 * input that lacks it) and preprocessing; see fuzz_image.h.
 * run: ./fuzz/fuzz_gif -max_len=65536 CORPUS_DIR */
#define FUZZ_IMAGE_MAGIC "GIF89a"
#define FUZZ_IMAGE_MAGIC_LEN 6
#include "fuzz_image.h"
