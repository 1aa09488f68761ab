#include "savedmodel/snappy.h"

#include <string.h>

/* The preamble: the uncompressed length as a little-endian varint of at
 * most 32 bits. */
static int preamble(const uint8_t *src, size_t n, size_t *len, size_t *used) {
    uint64_t v = 0;
    for (size_t i = 0; i < 5; i++) {
        if (i >= n) return -1;
        v |= (uint64_t)(src[i] & 0x7f) << (7 * i);
        if (!(src[i] & 0x80)) {
            if (v > 0xffffffffu) return -1;
            *len = (size_t)v;
            *used = i + 1;
            return 0;
        }
    }
    return -1;
}

int fr_snappy_length(const uint8_t *src, size_t n, size_t *len_out) {
    size_t used;
    return preamble(src, n, len_out, &used);
}

int fr_snappy_decompress(const uint8_t *src, size_t n, uint8_t *dst, size_t dst_len) {
    size_t want, i, o = 0;
    if (preamble(src, n, &want, &i) || want != dst_len) return -1;
    while (i < n) {
        uint8_t tag = src[i++];
        size_t len, off;
        if ((tag & 3) == 0) { /* literal */
            len = tag >> 2;
            if (len >= 60) {
                size_t nb = len - 59; /* 1..4 length bytes */
                if (n - i < nb) return -1;
                len = 0;
                for (size_t k = 0; k < nb; k++) len |= (size_t)src[i + k] << (8 * k);
                i += nb;
            }
            len += 1;
            if (len > n - i || len > dst_len - o) return -1;
            memcpy(dst + o, src + i, len);
            i += len;
            o += len;
            continue;
        }
        if ((tag & 3) == 1) { /* copy, 1-byte offset */
            if (i >= n) return -1;
            len = 4 + ((tag >> 2) & 7);
            off = ((size_t)(tag >> 5) << 8) | src[i++];
        } else if ((tag & 3) == 2) { /* copy, 2-byte offset */
            if (n - i < 2) return -1;
            len = (size_t)(tag >> 2) + 1;
            off = (size_t)src[i] | (size_t)src[i + 1] << 8;
            i += 2;
        } else { /* copy, 4-byte offset */
            if (n - i < 4) return -1;
            len = (size_t)(tag >> 2) + 1;
            off = (size_t)src[i] | (size_t)src[i + 1] << 8 | (size_t)src[i + 2] << 16 | (size_t)src[i + 3] << 24;
            i += 4;
        }
        if (off == 0 || off > o || len > dst_len - o) return -1;
        /* byte by byte: the source may overlap what is being written */
        for (size_t k = 0; k < len; k++, o++) dst[o] = dst[o - off];
    }
    return o == dst_len ? 0 : -1;
}
