#include "savedmodel/crc32c.h"

#include <pthread.h>
#include <string.h>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <nmmintrin.h>
#define FR_CRC32C_SSE42 1
#endif

static uint32_t table[8][256];
static pthread_once_t table_once = PTHREAD_ONCE_INIT;

static void table_init(void) {
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++) c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
        table[0][i] = c;
    }
    for (int t = 1; t < 8; t++)
        for (int i = 0; i < 256; i++) table[t][i] = (table[t - 1][i] >> 8) ^ table[0][table[t - 1][i] & 0xff];
}

uint32_t fr_crc32c_extend_portable(uint32_t crc, const void *data, size_t n) {
    pthread_once(&table_once, table_init);
    const uint8_t *p = data;
    uint32_t c = ~crc;
    for (; n && ((uintptr_t)p & 7); n--) c = table[0][(c ^ *p++) & 0xff] ^ (c >> 8);
    for (; n >= 8; n -= 8, p += 8) {
        uint32_t lo = c ^ ((uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24);
        uint32_t hi = (uint32_t)p[4] | (uint32_t)p[5] << 8 | (uint32_t)p[6] << 16 | (uint32_t)p[7] << 24;
        c = table[7][lo & 0xff] ^ table[6][(lo >> 8) & 0xff] ^ table[5][(lo >> 16) & 0xff] ^ table[4][lo >> 24] ^
            table[3][hi & 0xff] ^ table[2][(hi >> 8) & 0xff] ^ table[1][(hi >> 16) & 0xff] ^ table[0][hi >> 24];
    }
    for (; n; n--) c = table[0][(c ^ *p++) & 0xff] ^ (c >> 8);
    return ~c;
}

#ifdef FR_CRC32C_SSE42
/* SSE4.2's crc32 computes the same reflected CRC-32C update, without the
 * inversions before and after.  One chain of crc32 instructions waits on
 * each result (3 cycles each); three independent chains over three
 * consecutive blocks keep the unit busy, and the three CRCs are joined by
 * shifting one over the length of the next: a linear map of the 32-bit CRC,
 * applied through four tables of 256 entries (the method of Mark Adler's
 * crc32c.c).  Tables for blocks of CRC_LONG and CRC_SHORT bytes. */
#define CRC_LONG 8192
#define CRC_SHORT 256

static uint32_t shift_long[4][256], shift_short[4][256];
static pthread_once_t shift_once = PTHREAD_ONCE_INIT;

static uint32_t gf2_times(const uint32_t *mat, uint32_t vec) {
    uint32_t sum = 0;
    for (; vec; vec >>= 1, mat++)
        if (vec & 1) sum ^= *mat;
    return sum;
}

static void gf2_square(uint32_t *sq, const uint32_t *mat) {
    for (int n = 0; n < 32; n++) sq[n] = gf2_times(mat, mat[n]);
}

/* The operator that appends len zero bytes to a message (len > 0). */
static void zeros_op(uint32_t *even, size_t len) {
    uint32_t odd[32], row = 1;
    odd[0] = 0x82F63B78u; /* one zero bit */
    for (int n = 1; n < 32; n++, row <<= 1) odd[n] = row;
    gf2_square(even, odd); /* two zero bits */
    gf2_square(odd, even); /* four */
    for (;;) {             /* one zero byte in even, two in odd, ... */
        gf2_square(even, odd);
        if (!(len >>= 1)) return;
        gf2_square(odd, even);
        if (!(len >>= 1)) break;
    }
    memcpy(even, odd, sizeof odd);
}

static void zeros_tables(uint32_t t[4][256], size_t len) {
    uint32_t op[32];
    zeros_op(op, len);
    for (uint32_t n = 0; n < 256; n++)
        for (int k = 0; k < 4; k++) t[k][n] = gf2_times(op, n << (8 * k));
}

static void shift_init(void) {
    zeros_tables(shift_long, CRC_LONG);
    zeros_tables(shift_short, CRC_SHORT);
}

static uint32_t crc_shift(uint32_t t[4][256], uint32_t crc) {
    return t[0][crc & 0xff] ^ t[1][(crc >> 8) & 0xff] ^ t[2][(crc >> 16) & 0xff] ^ t[3][crc >> 24];
}

__attribute__((target("sse4.2"))) static uint64_t crc32c_3way(uint64_t c0, const uint8_t **pp, size_t *np, size_t block,
                                                              uint32_t t[4][256]) {
    const uint8_t *p = *pp;
    size_t n = *np;
    for (; n >= 3 * block; n -= 3 * block, p += 3 * block) {
        uint64_t c1 = 0, c2 = 0, v0, v1, v2;
        for (size_t i = 0; i < block; i += 8) {
            memcpy(&v0, p + i, 8);
            memcpy(&v1, p + block + i, 8);
            memcpy(&v2, p + 2 * block + i, 8);
            c0 = _mm_crc32_u64(c0, v0);
            c1 = _mm_crc32_u64(c1, v1);
            c2 = _mm_crc32_u64(c2, v2);
        }
        c0 = crc_shift(t, (uint32_t)c0) ^ (uint32_t)c1;
        c0 = crc_shift(t, (uint32_t)c0) ^ (uint32_t)c2;
    }
    *pp = p;
    *np = n;
    return c0;
}

__attribute__((target("sse4.2"))) static uint32_t crc32c_sse42(uint32_t crc, const uint8_t *p, size_t n) {
    uint32_t c = ~crc;
    for (; n && ((uintptr_t)p & 7); n--) c = _mm_crc32_u8(c, *p++);
    uint64_t c64 = c;
    if (n >= 3 * CRC_SHORT) {
        pthread_once(&shift_once, shift_init);
        c64 = crc32c_3way(c64, &p, &n, CRC_LONG, shift_long);
        c64 = crc32c_3way(c64, &p, &n, CRC_SHORT, shift_short);
    }
    for (; n >= 8; n -= 8, p += 8) {
        uint64_t v;
        memcpy(&v, p, 8);
        c64 = _mm_crc32_u64(c64, v);
    }
    c = (uint32_t)c64;
    for (; n; n--) c = _mm_crc32_u8(c, *p++);
    return ~c;
}
#endif

uint32_t fr_crc32c_extend(uint32_t crc, const void *data, size_t n) {
#ifdef FR_CRC32C_SSE42
    if (__builtin_cpu_supports("sse4.2")) return crc32c_sse42(crc, data, n);
#endif
    return fr_crc32c_extend_portable(crc, data, n);
}
