/* The readers under the SavedModel import, on hand-built bytes: CRC-32C
 * (check values), Snappy, LevelDB tables (prefix compression, restarts,
 * several blocks, Snappy blocks, checksums, truncation at every length,
 * bad magic, unknown compression, repeated / unsorted keys) and tensor
 * bundles (CRC of every entry, offsets past the shard, sizes that disagree
 * with dtype x shape, absurd shapes, missing shards, string tensors).
 * frost-test-labels: asan */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "savedmodel/bundle.h"
#include "savedmodel/crc32c.h"
#include "savedmodel/snappy.h"
#include "savedmodel/sstable.h"
#include "sm_build.h"
#include "testutil.h"

static void test_crc32c(void) {
    CHECK(fr_crc32c("123456789", 9) == 0xE3069283u);
    CHECK(fr_crc32c("", 0) == 0);
    uint8_t z[32] = {0}, ff[32], inc[48];
    memset(ff, 0xff, sizeof ff);
    for (int i = 0; i < 48; i++) inc[i] = (uint8_t)i;
    /* the iSCSI (RFC 3720, B.4) check values */
    CHECK(fr_crc32c(z, 32) == 0x8A9136AAu);
    CHECK(fr_crc32c(ff, 32) == 0x62A8AB43u);
    CHECK(fr_crc32c(inc, 32) == 0x46DD794Eu);
    /* extending piece by piece at every split (the unaligned head, the 8-byte loop, the tail) */
    uint32_t whole = fr_crc32c(inc, 48);
    int same = 1;
    for (size_t k = 0; k <= 48; k++) same &= fr_crc32c_extend(fr_crc32c(inc, k), inc + k, 48 - k) == whole;
    CHECK(same);
    same = 1;
    for (size_t k = 0; k < 16; k++) same &= fr_crc32c(inc + k, 32) == fr_crc32c_extend(0, inc + k, 32);
    CHECK(same);
    /* both forms (this CPU's: SSE4.2's crc32 on x86-64; the portable tables)
     * on the check value and on pseudo-random bytes at every alignment and
     * length up to 300, extended from a nonzero CRC */
    CHECK(fr_crc32c_extend_portable(0, "123456789", 9) == 0xE3069283u);
    uint8_t rnd[320];
    uint32_t x = 2463534242u;
    for (size_t i = 0; i < sizeof rnd; i++) x ^= x << 13, x ^= x >> 17, x ^= x << 5, rnd[i] = (uint8_t)x;
    same = 1;
    for (size_t off = 0; off < 16; off++)
        for (size_t len = 0; len <= 300; len++)
            same &= fr_crc32c_extend(0x12345678u, rnd + off, len) == fr_crc32c_extend_portable(0x12345678u, rnd + off, len);
    CHECK(same);
    /* past the three-block joins (3 x 256 and 3 x 8192 bytes): lengths around
     * their multiples, at odd offsets */
    static uint8_t big[3 * 8192 * 2 + 3 * 256 * 3 + 64];
    for (size_t i = 0; i < sizeof big; i++) x ^= x << 13, x ^= x >> 17, x ^= x << 5, big[i] = (uint8_t)x;
    const size_t lens[] = {767, 768, 769, 3 * 256 * 2 + 5, 24575, 24576, 24577, 24576 + 768 + 9, 2 * 24576, sizeof big - 8};
    same = 1;
    for (size_t off = 0; off < 8; off += 3)
        for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++)
            same &= fr_crc32c_extend(0xDEADBEEFu, big + off, lens[i]) ==
                    fr_crc32c_extend_portable(0xDEADBEEFu, big + off, lens[i]);
    CHECK(same);
    CHECK(fr_crc32c_unmask(fr_crc32c_mask(0xE3069283u)) == 0xE3069283u);
    CHECK(fr_crc32c_mask(0xE3069283u) != 0xE3069283u);
}

static void test_snappy(void) {
    /* "abcd" then a copy of 8 bytes at offset 4 (overlapping): "abcdabcdabcd" */
    const uint8_t ok[] = {12, 3 << 2, 'a', 'b', 'c', 'd', 1 | ((8 - 4) << 2), 4};
    uint8_t out[16];
    size_t n;
    CHECK(fr_snappy_length(ok, sizeof ok, &n) == 0 && n == 12);
    CHECK(fr_snappy_decompress(ok, sizeof ok, out, 12) == 0 && !memcmp(out, "abcdabcdabcd", 12));
    /* 2-byte offset copy and a 1-byte-length literal */
    uint8_t lit[70];
    for (int i = 0; i < 70; i++) lit[i] = (uint8_t)('A' + i % 26);
    fr_pbw w;
    fr_pbw_init(&w);
    fr_pbw_varint(&w, 70 + 10);
    uint8_t t[2] = {60 << 2, 69};
    fr_pbw_raw(&w, t, 2);
    fr_pbw_raw(&w, lit, 70);
    uint8_t c2[3] = {2 | ((10 - 1) << 2), 70, 0};
    fr_pbw_raw(&w, c2, 3);
    uint8_t big[80];
    CHECK(fr_snappy_decompress(w.data, w.len, big, 80) == 0 && !memcmp(big + 70, lit, 10));
    CHECK(fr_snappy_decompress(w.data, w.len, big, 79) == -1); /* not the declared length */
    fr_pbw_free(&w);
    const uint8_t off0[] = {8, 3 << 2, 'a', 'b', 'c', 'd', 1 | (0 << 2), 0};   /* offset 0 */
    const uint8_t before[] = {8, 3 << 2, 'a', 'b', 'c', 'd', 1 | (0 << 2), 5}; /* before the start */
    const uint8_t past[] = {6, 3 << 2, 'a', 'b', 'c', 'd', 1 | (0 << 2), 4};   /* past the end of the output */
    const uint8_t trunc[] = {10, 9 << 2, 'a', 'b'};                            /* literal past the input */
    const uint8_t short_[] = {10, 3 << 2, 'a', 'b', 'c', 'd'};                 /* shorter than declared */
    const uint8_t badlen[] = {0x80, 0x80, 0x80, 0x80, 0x80, 0x01};            /* length varint too long */
    CHECK(fr_snappy_decompress(off0, sizeof off0, out, 8) == -1);
    CHECK(fr_snappy_decompress(before, sizeof before, out, 8) == -1);
    CHECK(fr_snappy_decompress(past, sizeof past, out, 6) == -1);
    CHECK(fr_snappy_decompress(trunc, sizeof trunc, out, 10) == -1);
    CHECK(fr_snappy_decompress(short_, sizeof short_, out, 10) == -1);
    CHECK(fr_snappy_length(badlen, sizeof badlen, &n) == -1);
    CHECK(fr_snappy_length(badlen, 2, &n) == -1);
}

#define NKEYS 40

static void make_keys(char keys[NKEYS][32], const char *kp[NKEYS], const uint8_t *vp[NKEYS], size_t vl[NKEYS]) {
    for (int i = 0; i < NKEYS; i++) {
        snprintf(keys[i], 32, "layer_%02d/kernel%s", i / 2, i % 2 ? "/m" : "");
        kp[i] = keys[i];
        vp[i] = (const uint8_t *)keys[i]; /* the value: the key itself */
        vl[i] = strlen(keys[i]);
    }
}

static void test_table(void) {
    char keys[NKEYS][32];
    const char *kp[NKEYS];
    const uint8_t *vp[NKEYS];
    size_t vl[NKEYS];
    make_keys(keys, kp, vp, vl);
    for (int compress = 0; compress <= 1; compress++)
        for (int per = 1; per <= NKEYS; per += 13) {
            fr_pbw t;
            fr_pbw_init(&t);
            sb_table(&t, kp, vp, vl, NKEYS, per, compress);
            fr_sst s;
            char *err = NULL;
            frost_status st = fr_sst_read(t.data, t.len, "t.index", &s, &err);
            CHECK_MSG(st == FROST_OK, "compress %d, %d per block: %s", compress, per, err ? err : "");
            int good = st == FROST_OK && s.n == NKEYS;
            for (int i = 0; good && i < NKEYS; i++)
                good = !strcmp(s.e[i].key, keys[i]) && s.e[i].val_len == vl[i] && !memcmp(s.e[i].val, keys[i], vl[i]);
            CHECK_MSG(good, "compress %d, %d per block: entries differ", compress, per);
            CHECK(st != FROST_OK || (fr_sst_find(&s, "layer_07/kernel", 15) && !fr_sst_find(&s, "layer_07/kerne", 14)));
            fr_sst_free(&s);
            free(err);
            /* truncated at every length: an error, never a crash */
            int all_fail = 1;
            for (size_t n = 0; n < t.len; n++) {
                fr_sst s2;
                char *e2 = NULL;
                if (fr_sst_read(t.data, n, "t.index", &s2, &e2) == FROST_OK) all_fail = 0, fr_sst_free(&s2);
                if (!e2) all_fail = 0;
                free(e2);
            }
            CHECK(all_fail);
            /* each byte flipped: a checksum error (or, in the footer, another clear error) */
            int flips_fail = 1;
            for (size_t i = 0; i < t.len; i++) {
                t.data[i] ^= 0x20;
                fr_sst s2;
                char *e2 = NULL;
                frost_status st2 = fr_sst_read(t.data, t.len, "t.index", &s2, &e2);
                if (st2 == FROST_OK) {
                    fr_sst_free(&s2);
                    /* footer padding bytes are not covered by any checksum */
                    if (i < t.len - 48) flips_fail = 0;
                } else if (!e2) {
                    flips_fail = 0;
                }
                free(e2);
                t.data[i] ^= 0x20;
            }
            CHECK(flips_fail);
            fr_pbw_free(&t);
        }
    /* a flipped byte in a data block names the checksum */
    fr_pbw t;
    fr_pbw_init(&t);
    sb_table(&t, kp, vp, vl, NKEYS, 8, 0);
    t.data[3] ^= 1;
    fr_sst s;
    char *err = NULL;
    CHECK(fr_sst_read(t.data, t.len, "t.index", &s, &err) == FROST_E_PARSE && err && strstr(err, "checksum"));
    free(err);
    err = NULL;
    t.data[3] ^= 1;
    t.data[t.len - 1] ^= 1; /* magic */
    CHECK(fr_sst_read(t.data, t.len, "t.index", &s, &err) == FROST_E_PARSE && err && strstr(err, "magic"));
    free(err);
    err = NULL;
    fr_pbw_free(&t);
    /* unknown compression type */
    fr_pbw_init(&t);
    sb_table(&t, kp, vp, vl, NKEYS, 8, 5);
    CHECK(fr_sst_read(t.data, t.len, "t.index", &s, &err) == FROST_E_PARSE && err && strstr(err, "compression type 5"));
    free(err);
    err = NULL;
    fr_pbw_free(&t);
    /* a repeated key and keys out of order */
    const char *dup[3] = {"a", "b", "b"}, *unsorted[3] = {"a", "c", "b"};
    const uint8_t *v3[3] = {(const uint8_t *)"1", (const uint8_t *)"2", (const uint8_t *)"3"};
    size_t l3[3] = {1, 1, 1};
    fr_pbw_init(&t);
    sb_table(&t, dup, v3, l3, 3, 2, 0);
    CHECK(fr_sst_read(t.data, t.len, "t.index", &s, &err) == FROST_E_PARSE && err && strstr(err, "appears twice"));
    free(err);
    err = NULL;
    fr_pbw_free(&t);
    fr_pbw_init(&t);
    sb_table(&t, unsorted, v3, l3, 3, 3, 1);
    CHECK(fr_sst_read(t.data, t.len, "t.index", &s, &err) == FROST_E_PARSE && err && strstr(err, "out of order"));
    free(err);
    fr_pbw_free(&t);
}

static frost_status open_bundle(const sb_tensor *t, int n, int shards_declared, int shards_given, size_t data_cut,
                                fr_bundle **b, char **err) {
    fr_pbw index, data;
    fr_pbw_init(&index);
    fr_pbw_init(&data);
    sb_bundle(&index, &data, t, n, shards_declared, 1);
    const void *sh[2] = {data.data, data.data};
    size_t len[2] = {data.len - data_cut, data.len};
    frost_status st = fr_bundle_open_memory(index.data, index.len, sh, len, shards_given, b, err);
    if (st == FROST_OK) { /* the data must outlive the bundle: keep a copy */
        uint8_t *copy = malloc(data.len + 1);
        memcpy(copy, data.data, data.len);
        for (int i = 0; i < (*b)->num_shards; i++) (*b)->shard[i] = copy;
        (*b)->map = realloc((*b)->map, sizeof(void *) * 2); /* not mapped: fr_bundle_free leaves it */
    }
    fr_pbw_free(&index);
    fr_pbw_free(&data);
    return st;
}

static void close_bundle(fr_bundle *b) {
    if (!b) return;
    free((void *)b->shard[0]);
    fr_bundle_free(b);
}

static void test_bundle(void) {
    float w[6] = {1, 2, 3, 4, 5, 6};
    int64_t iv[2] = {7, -8};
    sb_tensor t[3] = {
        {"_CHECKPOINTABLE_OBJECT_GRAPH", 7, 0, {0}, NULL, 0, "object graph bytes", 0, 0, 0},
        {"dense/bias", 9, 1, {2}, iv, sizeof iv, NULL, 0, 0, 0},
        {"dense/kernel", 1, 2, {2, 3}, w, sizeof w, NULL, 0, 0, 0},
    };
    fr_bundle *b = NULL;
    char *err = NULL;
    frost_status st = open_bundle(t, 3, 1, 1, 0, &b, &err);
    CHECK_MSG(st == FROST_OK, "%s", err ? err : "");
    if (st == FROST_OK) {
        const fr_bundle_entry *k = fr_bundle_find(b, "dense/kernel"), *s = fr_bundle_find(b, "_CHECKPOINTABLE_OBJECT_GRAPH");
        CHECK(k && k->dtype == 1 && k->shape.rank == 2 && k->count == 6 && !fr_bundle_find(b, "dense"));
        const uint8_t *p;
        size_t n;
        CHECK(k && fr_bundle_read(b, k, &p, &err) == FROST_OK && !memcmp(p, w, sizeof w));
        CHECK(s && fr_bundle_read_string(b, s, &p, &n, &err) == FROST_OK && n == 18 && !memcmp(p, "object graph bytes", n));
        /* a flipped byte of the data: the entry's checksum */
        ((uint8_t *)b->shard[0])[k->offset + 5] ^= 4;
        CHECK(fr_bundle_read(b, k, &p, &err) == FROST_E_PARSE && err && strstr(err, "checksum"));
        free(err);
        err = NULL;
        ((uint8_t *)b->shard[0])[s->offset + 3] ^= 4;
        CHECK(fr_bundle_read_string(b, s, &p, &n, &err) == FROST_E_PARSE && err && strstr(err, "checksum"));
        free(err);
        err = NULL;
    }
    close_bundle(b);
    /* recorded crc wrong */
    sb_tensor bad = t[2];
    bad.crc_xor = 1;
    st = open_bundle(&bad, 1, 1, 1, 0, &b, &err);
    const uint8_t *p;
    CHECK(st == FROST_OK && fr_bundle_read(b, fr_bundle_find(b, "dense/kernel"), &p, &err) == FROST_E_PARSE);
    free(err);
    err = NULL;
    close_bundle(b);
    /* the shard is cut short: the entry lies past its end */
    st = open_bundle(t, 3, 1, 1, 16, &b, &err);
    CHECK_MSG(st == FROST_E_PARSE && err && strstr(err, "dense/kernel") && strstr(err, "shard"), "%s", err ? err : "");
    free(err);
    err = NULL;
    /* an offset past the shard */
    bad = t[2];
    bad.offset_delta = 1 << 20;
    CHECK(open_bundle(&bad, 1, 1, 1, 0, &b, &err) == FROST_E_PARSE && err && strstr(err, "dense/kernel"));
    free(err);
    err = NULL;
    /* a size that disagrees with dtype x shape */
    bad = t[2];
    bad.dims[1] = 4;
    CHECK(open_bundle(&bad, 1, 1, 1, 0, &b, &err) == FROST_E_PARSE && err && strstr(err, "bytes, not"));
    free(err);
    err = NULL;
    /* an absurd shape: the element count overflows */
    bad = t[2];
    bad.rank = 4;
    bad.dims[0] = bad.dims[1] = bad.dims[2] = bad.dims[3] = (int64_t)1 << 40;
    CHECK(open_bundle(&bad, 1, 1, 1, 0, &b, &err) == FROST_E_PARSE && err && strstr(err, "absurd"));
    free(err);
    err = NULL;
    /* rank 9 */
    bad = t[2];
    bad.rank = 9;
    CHECK(open_bundle(&bad, 1, 1, 1, 0, &b, &err) == FROST_E_PARSE && err);
    free(err);
    err = NULL;
    /* a shard id past the shards, and a missing shard */
    bad = t[2];
    bad.shard = 3;
    CHECK(open_bundle(&bad, 1, 2, 2, 0, &b, &err) == FROST_E_PARSE && err && strstr(err, "shard 3 of 2"));
    free(err);
    err = NULL;
    CHECK(open_bundle(t, 3, 2, 1, 0, &b, &err) == FROST_E_IO && err && strstr(err, "2 data shards"));
    free(err);
    err = NULL;
    /* no header: a table of tensors only is no bundle */
    fr_pbw tab;
    fr_pbw_init(&tab);
    const char *k1[1] = {"a"};
    const uint8_t *v1[1] = {(const uint8_t *)"\x08\x01"};
    size_t l1[1] = {2};
    sb_table(&tab, k1, v1, l1, 1, 1, 0);
    CHECK(fr_bundle_open_memory(tab.data, tab.len, NULL, NULL, 0, &b, &err) == FROST_E_PARSE && err &&
          strstr(err, "header"));
    free(err);
    fr_pbw_free(&tab);
}

int main(void) {
    test_crc32c();
    test_snappy();
    test_table();
    test_bundle();
    return tu_done();
}
