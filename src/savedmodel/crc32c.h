/* CRC-32C (Castagnoli, reflected polynomial 0x82F63B78) and the masking
 * LevelDB and TensorFlow's tensor bundles store it with.  On x86-64 CPUs with
 * SSE4.2 its crc32 instruction computes it (a bundle's variables are
 * checksummed at every load); elsewhere portable C, table-driven (slicing by
 * 8).  fr_crc32c("123456789", 9) == 0xE3069283. */
#ifndef FR_CRC32C_H
#define FR_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/* The CRC of `crc`'s message followed by the n bytes at p (crc = 0 to start). */
uint32_t fr_crc32c_extend(uint32_t crc, const void *p, size_t n);

/* The same in portable C whatever the CPU (the reference of the tests). */
uint32_t fr_crc32c_extend_portable(uint32_t crc, const void *p, size_t n);

static inline uint32_t fr_crc32c(const void *p, size_t n) { return fr_crc32c_extend(0, p, n); }

/* crc32c::Mask / Unmask: a rotation by 15 bits plus a constant, so that a
 * CRC stored in data that is itself checksummed does not cancel out. */
static inline uint32_t fr_crc32c_mask(uint32_t crc) { return ((crc >> 15) | (crc << 17)) + 0xa282ead8u; }
static inline uint32_t fr_crc32c_unmask(uint32_t masked) {
    uint32_t r = masked - 0xa282ead8u;
    return (r >> 17) | (r << 15);
}

#endif
