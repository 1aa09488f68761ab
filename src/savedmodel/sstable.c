#include "savedmodel/sstable.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "savedmodel/crc32c.h"
#include "savedmodel/error.h"
#include "savedmodel/snappy.h"

#define SST_MAGIC 0xdb4775248b80fb57ull
#define SST_FOOTER 48
#define SST_TRAILER 5 /* type byte + masked crc32c */
#define SST_MAX_KEY ((size_t)1 << 20)

typedef struct {
    const uint8_t *data;
    size_t size;
    const char *what;
    char **err;
    fr_sst *t;
    int cap;
    char *prev; /* the previous full key (order check, prefix decoding) */
    size_t prev_len, prev_cap;
    int have_prev;
    uint64_t raw_total, unz_total; /* bytes of the blocks read so far, stored / decompressed */
} sst_ctx;

static uint32_t le32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static int varint64(const uint8_t **p, const uint8_t *end, uint64_t *out) {
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        if (*p >= end) return -1;
        uint8_t b = *(*p)++;
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *out = v;
            return 0;
        }
    }
    return -1;
}

static int varint32(const uint8_t **p, const uint8_t *end, uint32_t *out) {
    uint64_t v;
    if (varint64(p, end, &v) || v > 0xffffffffu) return -1;
    *out = (uint32_t)v;
    return 0;
}

static frost_status bad(sst_ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static frost_status bad(sst_ctx *c, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fr_sm_verrorf(c->err, c->what, fmt, ap);
    va_end(ap);
    return FROST_E_PARSE;
}

/* The block at handle (off, size): checks its trailer, decompresses it when
 * needed (*owned then holds the buffer to free). */
static frost_status read_block(sst_ctx *c, uint64_t off, uint64_t size, const char *which, const uint8_t **blk,
                               size_t *len, uint8_t **owned) {
    *owned = NULL;
    if (off > c->size || size > c->size - off || SST_TRAILER > c->size - off - size) {
        fr_errorf(c->err, "%s: the %s block (offset %llu, %llu bytes) lies past the end of the file (%zu bytes): truncated?",
                  c->what, which, (unsigned long long)off, (unsigned long long)size, c->size);
        return FROST_E_PARSE;
    }
    /* Blocks do not overlap, so a well-formed table reads each byte once: an
     * index pointing many times at the same block would cost time without
     * end. */
    c->raw_total += size + SST_TRAILER;
    if (c->raw_total > c->size) return bad(c, "the index points at overlapping or repeated blocks");
    const uint8_t *b = c->data + off;
    uint8_t type = b[size];
    uint32_t want = fr_crc32c_unmask(le32(b + size + 1));
    uint32_t got = fr_crc32c_extend(fr_crc32c(b, (size_t)size), &type, 1);
    if (want != got) {
        fr_errorf(c->err, "%s: the %s block at offset %llu fails its checksum (crc32c %08x, stored %08x): corrupt file",
                  c->what, which, (unsigned long long)off, got, want);
        return FROST_E_PARSE;
    }
    if (type == 0) {
        *blk = b;
        *len = (size_t)size;
        return FROST_OK;
    }
    if (type != 1) {
        return bad(c, "the %s block at offset %llu has the unknown compression type %u (only none and Snappy are known)",
                   which, (unsigned long long)off, type);
    }
    size_t n;
    if (fr_snappy_length(b, (size_t)size, &n)) return bad(c, "a Snappy-compressed %s block is malformed", which);
    c->unz_total += n;
    if (n > FR_SST_MAX_BLOCK || c->unz_total > 4 * (uint64_t)FR_SST_MAX_BLOCK) {
        fr_errorf(c->err, "%s: a %s block decompresses to %zu bytes (limit %zu per block, %zu in all)", c->what, which, n,
                  FR_SST_MAX_BLOCK, 4 * FR_SST_MAX_BLOCK);
        return FROST_E_LIMIT;
    }
    uint8_t *u = malloc(n ? n : 1);
    if (!u) return FROST_E_NO_MEMORY;
    if (fr_snappy_decompress(b, (size_t)size, u, n)) {
        free(u);
        return bad(c, "a Snappy-compressed %s block is malformed", which);
    }
    *blk = u;
    *len = n;
    *owned = u;
    return FROST_OK;
}

typedef frost_status (*entry_fn)(sst_ctx *c, const char *key, size_t klen, const uint8_t *val, size_t vlen);

/* Walks the entries of one block (prefix-compressed keys, restart array at
 * the end). */
static frost_status block_walk(sst_ctx *c, const uint8_t *b, size_t len, const char *which, entry_fn fn) {
    if (len < 4) return bad(c, "a %s block is shorter than its restart count", which);
    uint32_t nres = le32(b + len - 4);
    if (nres > (len - 4) / 4) return bad(c, "a %s block declares more restart points than it has room for", which);
    const uint8_t *p = b, *end = b + len - 4 - 4 * (size_t)nres;
    char *key = NULL;
    size_t klen = 0, kcap = 0;
    frost_status st = FROST_OK;
    while (p < end) {
        uint32_t shared, nonshared, vlen;
        if (varint32(&p, end, &shared) || varint32(&p, end, &nonshared) || varint32(&p, end, &vlen)) {
            st = bad(c, "a %s block has a truncated entry header", which);
            break;
        }
        if (shared > klen || nonshared > (size_t)(end - p) || vlen > (size_t)(end - p) - nonshared) {
            st = bad(c, "a %s block has an entry past the end of the block", which);
            break;
        }
        size_t nk = (size_t)shared + nonshared;
        if (nk > SST_MAX_KEY) {
            st = bad(c, "a key is longer than 1 MiB");
            break;
        }
        if (nk + 1 > kcap) {
            size_t cap = kcap ? kcap : 64;
            while (cap < nk + 1) cap *= 2;
            char *k2 = realloc(key, cap);
            if (!k2) {
                st = FROST_E_NO_MEMORY;
                break;
            }
            key = k2;
            kcap = cap;
        }
        memcpy(key + shared, p, nonshared);
        klen = nk;
        key[klen] = 0;
        p += nonshared;
        if ((st = fn(c, key, klen, p, vlen)) != FROST_OK) break;
        p += vlen;
    }
    free(key);
    return st;
}

static frost_status add_entry(sst_ctx *c, const char *key, size_t klen, const uint8_t *val, size_t vlen) {
    if (c->have_prev) {
        size_t m = klen < c->prev_len ? klen : c->prev_len;
        int cmp = memcmp(key, c->prev, m);
        if (cmp == 0) cmp = klen < c->prev_len ? -1 : klen > c->prev_len ? 1 : 0;
        if (cmp == 0) return bad(c, "the key '%.200s' appears twice", key);
        if (cmp < 0) return bad(c, "the key '%.200s' is out of order (keys must be sorted)", key);
    }
    if (klen + 1 > c->prev_cap) {
        size_t cap = c->prev_cap ? c->prev_cap : 64;
        while (cap < klen + 1) cap *= 2;
        char *p = realloc(c->prev, cap);
        if (!p) return FROST_E_NO_MEMORY;
        c->prev = p;
        c->prev_cap = cap;
    }
    memcpy(c->prev, key, klen);
    c->prev_len = klen;
    c->have_prev = 1;
    fr_sst *t = c->t;
    if (t->n == FR_SST_MAX_ENTRIES) {
        fr_errorf(c->err, "%s: more than %d entries (the limit)", c->what, FR_SST_MAX_ENTRIES);
        return FROST_E_LIMIT;
    }
    if (t->n == c->cap) {
        int cap = c->cap ? 2 * c->cap : 64;
        fr_sst_entry *e = realloc(t->e, sizeof *e * (size_t)cap);
        if (!e) return FROST_E_NO_MEMORY;
        t->e = e;
        c->cap = cap;
    }
    char *k = fr_pool_strndup(&t->pool, key, klen);
    uint8_t *v = fr_pool_alloc(&t->pool, vlen ? vlen : 1);
    if (!k || !v) return FROST_E_NO_MEMORY;
    memcpy(v, val, vlen);
    t->e[t->n++] = (fr_sst_entry){k, klen, v, vlen};
    return FROST_OK;
}

/* An index entry: its value is the BlockHandle of a data block. */
static frost_status index_entry(sst_ctx *c, const char *key, size_t klen, const uint8_t *val, size_t vlen) {
    const uint8_t *p = val, *end = val + vlen;
    uint64_t off, size;
    if (varint64(&p, end, &off) || varint64(&p, end, &size)) return bad(c, "an index entry holds no block handle");
    const uint8_t *blk;
    size_t len;
    uint8_t *owned;
    frost_status st = read_block(c, off, size, "data", &blk, &len, &owned);
    if (st == FROST_OK) st = block_walk(c, blk, len, "data", add_entry);
    free(owned);
    return st;
}

frost_status fr_sst_read(const uint8_t *data, size_t size, const char *what, fr_sst *out, char **err) {
    memset(out, 0, sizeof *out);
    sst_ctx c = {data, size, what, err, out, 0, NULL, 0, 0, 0, 0, 0};
    if (size < SST_FOOTER) {
        fr_errorf(err, "%s: %zu bytes, shorter than a table footer (%d): truncated or not a table", what, size, SST_FOOTER);
        return FROST_E_PARSE;
    }
    const uint8_t *foot = data + size - SST_FOOTER;
    uint64_t magic = (uint64_t)le32(foot + 40) | (uint64_t)le32(foot + 44) << 32;
    if (magic != SST_MAGIC) {
        fr_errorf(err, "%s: no table magic number at the end of the file: truncated or not a LevelDB table", what);
        return FROST_E_PARSE;
    }
    const uint8_t *p = foot, *end = foot + 40;
    uint64_t moff, msize, ioff, isize;
    if (varint64(&p, end, &moff) || varint64(&p, end, &msize) || varint64(&p, end, &ioff) ||
        varint64(&p, end, &isize)) {
        fr_errorf(err, "%s: malformed table footer", what);
        return FROST_E_PARSE;
    }
    const uint8_t *blk;
    size_t len;
    uint8_t *owned;
    /* the metaindex (filters; unused) is read for its checksum only */
    frost_status st = read_block(&c, moff, msize, "metaindex", &blk, &len, &owned);
    free(owned);
    owned = NULL;
    if (st == FROST_OK) st = read_block(&c, ioff, isize, "index", &blk, &len, &owned);
    if (st == FROST_OK) st = block_walk(&c, blk, len, "index", index_entry);
    free(owned);
    free(c.prev);
    if (st != FROST_OK) {
        if (st == FROST_E_NO_MEMORY) fr_errorf(err, "%s: out of memory", what);
        fr_sst_free(out);
    }
    return st;
}

void fr_sst_free(fr_sst *t) {
    if (!t) return;
    free(t->e);
    fr_pool_free(&t->pool);
    memset(t, 0, sizeof *t);
}

const fr_sst_entry *fr_sst_find(const fr_sst *t, const char *key, size_t klen) {
    int lo = 0, hi = t->n - 1;
    while (lo <= hi) {
        int mid = lo + (hi - lo) / 2;
        const fr_sst_entry *e = &t->e[mid];
        size_t m = klen < e->key_len ? klen : e->key_len;
        int cmp = memcmp(e->key, key, m);
        if (cmp == 0) cmp = e->key_len < klen ? -1 : e->key_len > klen ? 1 : 0;
        if (cmp == 0) return e;
        if (cmp < 0) lo = mid + 1;
        else hi = mid - 1;
    }
    return NULL;
}
