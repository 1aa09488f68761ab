/* Decompression of raw Snappy data (the block compression of LevelDB
 * tables, which TensorFlow writes for some variables.index files): a
 * bounds-checked decoder of the format's literals and back-references. */
#ifndef FR_SNAPPY_H
#define FR_SNAPPY_H

#include <stddef.h>
#include <stdint.h>

/* The uncompressed length that the data declares.  0 ok, -1 malformed. */
int fr_snappy_length(const uint8_t *src, size_t n, size_t *len_out);
/* Decompresses into dst, which has exactly the declared length.  0 ok, -1
 * malformed (a literal or copy past either end, an offset of 0 or before
 * the start, or a result shorter than declared). */
int fr_snappy_decompress(const uint8_t *src, size_t n, uint8_t *dst, size_t dst_len);

#endif
