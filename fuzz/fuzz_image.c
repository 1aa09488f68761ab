/* libFuzzer target: the image decoders (format chosen by magic bytes) and
 * preprocessing of whatever decodes.  Build: CC=clang cmake -DFROST_FUZZ=ON;
 * run: ./fuzz/fuzz_image -max_len=65536 CORPUS_DIR
 * fuzz_jpeg / fuzz_png / fuzz_bmp / fuzz_gif drive one decoder each. */
#include "fuzz_image.h"
