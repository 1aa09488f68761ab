#include "savedmodel/bundle.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "graph/graph.h"
#include "pb/mapfile.h"
#include "savedmodel/crc32c.h"

size_t fr_dtype_size(int dtype) {
    switch (dtype) {
    case FR_DT_FLOAT: case FR_DT_INT32: case 22 /* uint32 */: return 4;
    case FR_DT_DOUBLE: case FR_DT_INT64: case 23 /* uint64 */: case 8 /* complex64 */: return 8;
    case FR_DT_UINT8: case FR_DT_INT8: case FR_DT_BOOL: return 1;
    case FR_DT_INT16: case FR_DT_UINT16: case FR_DT_HALF: case 14 /* bfloat16 */: return 2;
    case 18 /* complex128 */: return 16;
    default: return 0;
    }
}

fr_bundle *fr_bundle_ref(fr_bundle *b) {
    if (b) atomic_fetch_add(&b->refs, 1);
    return b;
}

void fr_bundle_free(fr_bundle *b) {
    if (!b || atomic_fetch_sub(&b->refs, 1) != 1) return;
    for (int i = 0; i < b->num_shards; i++)
        if (b->map && b->map[i]) munmap(b->map[i], i || !b->tail ? b->shard_len[i] : fr_map_extent(b->shard_len[i]) + b->tail);
    free(b->map);
    free(b->shard);
    free(b->shard_len);
    free(b->e);
    fr_sst_free(&b->index);
    free(b->source);
    free(b);
}

static frost_status bundle_new(const char *source, fr_bundle **out) {
    fr_bundle *b = calloc(1, sizeof *b);
    if (!b || !(b->source = strdup(source))) {
        free(b);
        return FROST_E_NO_MEMORY;
    }
    atomic_init(&b->refs, 1);
    *out = b;
    return FROST_OK;
}

/* The header (empty key): num_shards = 1, endianness = 2. */
static frost_status parse_header(fr_bundle *b, const fr_sst_entry *h, char **err) {
    if (!h) {
        fr_errorf(err, "%s.index: no header entry (the empty key): not a tensor bundle", b->source);
        return FROST_E_PARSE;
    }
    pb_reader r = pb_make(h->val, h->val_len);
    pb_field f;
    int64_t shards = 0, endian = 0;
    while (pb_more(&r)) {
        if (pb_next(&r, &f)) {
            fr_errorf(err, "%s.index: malformed header entry", b->source);
            return FROST_E_PARSE;
        }
        if (f.number == 1 && f.wire == PB_VARINT) shards = (int64_t)f.u;
        if (f.number == 2 && f.wire == PB_VARINT) endian = (int64_t)f.u;
    }
    if (endian != 0) {
        fr_errorf(err, "%s.index: the bundle is big-endian; frost reads little-endian bundles only", b->source);
        return FROST_E_PARSE;
    }
    if (shards < 1 || shards > FR_BUNDLE_MAX_SHARDS) {
        fr_errorf(err, "%s.index: the header declares %lld data shards (1 to %d expected)", b->source, (long long)shards,
                  FR_BUNDLE_MAX_SHARDS);
        return FROST_E_PARSE;
    }
    b->num_shards = (int)shards;
    b->shard = calloc((size_t)shards, sizeof *b->shard);
    b->shard_len = calloc((size_t)shards, sizeof *b->shard_len);
    b->map = calloc((size_t)shards, sizeof *b->map);
    if (!b->shard || !b->shard_len || !b->map) return FROST_E_NO_MEMORY;
    return FROST_OK;
}

/* BundleEntryProto: dtype = 1, shape = 2, shard_id = 3, offset = 4, size = 5,
 * crc32c = 6 (fixed32), slices = 7. */
static frost_status parse_entry(fr_bundle *b, const fr_sst_entry *s, fr_bundle_entry *e, char **err) {
    memset(e, 0, sizeof *e);
    e->key = s->key;
    e->shape.rank = 0;
    pb_reader r = pb_make(s->val, s->val_len);
    pb_field f;
    int64_t shard = 0;
    while (pb_more(&r)) {
        if (pb_next(&r, &f)) goto bad;
        if (f.number == 1 && f.wire == PB_VARINT) e->dtype = (int)(f.u & 0x7fffffff);
        else if (f.number == 2 && f.wire == PB_LEN) {
            const char *why = "";
            if (fr_pb_parse_shape(f.ptr, f.len, &e->shape, &why)) {
                fr_errorf(err, "%s.index: tensor '%s': bad shape: %s", b->source, e->key, why);
                return FROST_E_PARSE;
            }
        } else if (f.number == 3 && f.wire == PB_VARINT) shard = (int64_t)f.u;
        else if (f.number == 4 && f.wire == PB_VARINT) e->offset = f.u;
        else if (f.number == 5 && f.wire == PB_VARINT) e->size = f.u;
        else if (f.number == 6 && f.wire == PB_FIXED32) e->crc = (uint32_t)f.u;
        else if (f.number == 7 && f.wire == PB_LEN) e->sliced = 1;
    }
    if (e->shape.rank < 0) {
        fr_errorf(err, "%s.index: tensor '%s' has an unknown rank", b->source, e->key);
        return FROST_E_PARSE;
    }
    e->count = 1;
    for (int i = 0; i < e->shape.rank; i++) {
        int64_t d = e->shape.dims[i];
        if (d < 0) {
            fr_errorf(err, "%s.index: tensor '%s' has an unknown dimension", b->source, e->key);
            return FROST_E_PARSE;
        }
        if (d && e->count > ((int64_t)1 << 62) / d) {
            fr_errorf(err, "%s.index: tensor '%s' has an absurd shape (its element count overflows)", b->source, e->key);
            return FROST_E_PARSE;
        }
        e->count *= d;
    }
    if (e->sliced) return FROST_OK; /* the data lie in other entries */
    if (shard < 0 || shard >= b->num_shards) {
        fr_errorf(err, "%s.index: tensor '%s' is in data shard %lld of %d", b->source, e->key, (long long)shard,
                  b->num_shards);
        return FROST_E_PARSE;
    }
    e->shard = (int)shard;
    size_t es = fr_dtype_size(e->dtype);
    if (es && (uint64_t)e->count * es != e->size) {
        fr_errorf(err, "%s.index: tensor '%s' (%s, %lld elements) is stored in %llu bytes, not %llu", b->source, e->key,
                  fr_dtype_name(e->dtype), (long long)e->count, (unsigned long long)e->size,
                  (unsigned long long)((uint64_t)e->count * es));
        return FROST_E_PARSE;
    }
    if (e->dtype == FR_DT_STRING && (uint64_t)e->count > e->size) {
        fr_errorf(err, "%s.index: string tensor '%s' (%lld elements) is stored in only %llu bytes", b->source, e->key,
                  (long long)e->count, (unsigned long long)e->size);
        return FROST_E_PARSE;
    }
    return FROST_OK;
bad:
    fr_errorf(err, "%s.index: malformed entry for tensor '%s'", b->source, e->key);
    return FROST_E_PARSE;
}

static frost_status check_bounds(const fr_bundle *b, char **err) {
    for (int i = 0; i < b->n; i++) {
        const fr_bundle_entry *e = &b->e[i];
        if (e->sliced) continue;
        size_t n = b->shard_len[e->shard];
        if (e->offset > n || e->size > n - e->offset) {
            fr_errorf(err,
                      "%s: tensor '%s' lies at bytes %llu..%llu of data shard %d, which has %zu bytes: truncated or "
                      "corrupt bundle",
                      b->source, e->key, (unsigned long long)e->offset,
                      (unsigned long long)(e->offset + e->size), e->shard, n);
            return FROST_E_PARSE;
        }
    }
    return FROST_OK;
}

static frost_status parse_index(fr_bundle *b, const void *index, size_t index_len, char **err) {
    char what[4096];
    snprintf(what, sizeof what, "%s.index", b->source);
    frost_status st = fr_sst_read(index, index_len, what, &b->index, err);
    if (st != FROST_OK) return st;
    const fr_sst_entry *h = b->index.n && b->index.e[0].key_len == 0 ? &b->index.e[0] : NULL;
    if ((st = parse_header(b, h, err)) != FROST_OK) return st;
    b->e = calloc((size_t)b->index.n + 1, sizeof *b->e);
    if (!b->e) return FROST_E_NO_MEMORY;
    for (int i = 1; i < b->index.n; i++) {
        if ((st = parse_entry(b, &b->index.e[i], &b->e[b->n], err)) != FROST_OK) return st;
        b->n++;
    }
    return FROST_OK;
}

frost_status fr_bundle_open_memory(const void *index, size_t index_len, const void *const *shards,
                                   const size_t *shard_lens, int n_shards, fr_bundle **out, char **err) {
    *out = NULL;
    fr_bundle *b;
    frost_status st = bundle_new("<memory>", &b);
    if (st != FROST_OK) return st;
    if ((st = parse_index(b, index, index_len, err)) != FROST_OK) goto fail;
    if (n_shards < b->num_shards) {
        fr_errorf(err, "%s: the bundle has %d data shards, %d given", b->source, b->num_shards, n_shards);
        st = FROST_E_IO;
        goto fail;
    }
    for (int i = 0; i < b->num_shards; i++) {
        b->shard[i] = shards[i] ? shards[i] : (const uint8_t *)"";
        b->shard_len[i] = shards[i] ? shard_lens[i] : 0;
    }
    if ((st = check_bounds(b, err)) != FROST_OK) goto fail;
    *out = b;
    return FROST_OK;
fail:
    if (st == FROST_E_NO_MEMORY) fr_errorf(err, "%s: out of memory", b->source);
    fr_bundle_free(b);
    return st;
}

frost_status fr_bundle_open(const char *prefix, fr_bundle **out, char **err) {
    *out = NULL;
    fr_bundle *b;
    frost_status st = bundle_new(prefix, &b);
    if (st != FROST_OK) return st;
    size_t plen = strlen(prefix) + 64;
    char *path = malloc(plen);
    uint8_t *idata = NULL;
    size_t ilen = 0;
    if (!path) {
        st = FROST_E_NO_MEMORY;
        goto fail;
    }
    snprintf(path, plen, "%s.index", prefix);
    if ((st = fr_read_file(path, &idata, &ilen, err)) != FROST_OK) goto fail;
    st = parse_index(b, idata, ilen, err);
    free(idata); /* the table's entries were copied */
    if (st != FROST_OK) goto fail;
    for (int i = 0; i < b->num_shards; i++) {
        snprintf(path, plen, "%s.data-%05d-of-%05d", prefix, i, b->num_shards);
        if ((st = fr_map_file(path, 0, &b->map[i], &b->shard[i], &b->shard_len[i], err)) != FROST_OK) goto fail;
    }
    if ((st = check_bounds(b, err)) != FROST_OK) goto fail;
    free(path);
    *out = b;
    return FROST_OK;
fail:
    if (st == FROST_E_NO_MEMORY) fr_errorf(err, "%s: out of memory", prefix);
    free(path);
    fr_bundle_free(b);
    return st;
}

const fr_bundle_entry *fr_bundle_find(const fr_bundle *b, const char *key) {
    if (!b || !*key) return NULL;
    const fr_sst_entry *s = fr_sst_find(&b->index, key, strlen(key));
    if (!s) return NULL;
    /* entries are parallel to the table's, less the header in front */
    return &b->e[(s - b->index.e) - 1];
}

static frost_status crc_mismatch(const fr_bundle *b, const fr_bundle_entry *e, uint32_t got, char **err) {
    fr_errorf(err, "%s: tensor '%s' fails its checksum (crc32c %08x, stored %08x): corrupt data shard %d", b->source,
              e->key, fr_crc32c_mask(got), e->crc, e->shard);
    return FROST_E_PARSE;
}

frost_status fr_bundle_locate(const fr_bundle *b, const fr_bundle_entry *e, const uint8_t **data, char **err) {
    if (e->sliced) {
        fr_errorf(err, "%s: tensor '%s' is stored in slices (a partitioned variable): not supported", b->source, e->key);
        return FROST_E_UNSUPPORTED_OP;
    }
    const uint8_t *p = b->shard[e->shard] + e->offset;
    /* a shard is mapped page by page as its tensors are read: optimizer
     * slots and other variables a signature does not use stay unread */
    if (b->map[e->shard]) fr_map_populate(p, (size_t)e->size);
    *data = p;
    return FROST_OK;
}

frost_status fr_bundle_check(const fr_bundle *b, const fr_bundle_entry *e, char **err) {
    uint32_t got = fr_crc32c(b->shard[e->shard] + e->offset, (size_t)e->size);
    return fr_crc32c_mask(got) != e->crc ? crc_mismatch(b, e, got, err) : FROST_OK;
}

frost_status fr_bundle_read(const fr_bundle *b, const fr_bundle_entry *e, const uint8_t **data, char **err) {
    frost_status st = fr_bundle_locate(b, e, data, err);
    if (st == FROST_OK && (st = fr_bundle_check(b, e, err)) != FROST_OK) *data = NULL;
    return st;
}

/* [varint64 length of each element][masked crc32c of the lengths][bytes]; the
 * entry's CRC covers the lengths (as uint32, or uint64 beyond), the length
 * checksum and the bytes. */
frost_status fr_bundle_read_string(const fr_bundle *b, const fr_bundle_entry *e, const uint8_t **data, size_t *len,
                                   char **err) {
    if (e->sliced || e->dtype != FR_DT_STRING || e->count != 1) {
        fr_errorf(err, "%s: tensor '%s' is not a scalar string", b->source, e->key);
        return FROST_E_PARSE;
    }
    const uint8_t *p = b->shard[e->shard] + e->offset, *end = p + e->size;
    pb_reader r = pb_make(p, (size_t)e->size);
    uint64_t n;
    if (pb_read_varint(&r, &n) || end - r.p < 4 || n != (uint64_t)(end - r.p - 4)) {
        fr_errorf(err, "%s: string tensor '%s' is malformed (its length disagrees with its size)", b->source, e->key);
        return FROST_E_PARSE;
    }
    uint8_t lb[8];
    size_t lbn = n <= 0xffffffffu ? 4 : 8;
    for (size_t i = 0; i < lbn; i++) lb[i] = (uint8_t)(n >> (8 * i));
    uint32_t crc = fr_crc32c(lb, lbn);
    uint32_t stored = (uint32_t)r.p[0] | (uint32_t)r.p[1] << 8 | (uint32_t)r.p[2] << 16 | (uint32_t)r.p[3] << 24;
    if (fr_crc32c_mask(crc) != stored) return crc_mismatch(b, e, crc, err);
    crc = fr_crc32c_extend(crc, r.p, 4);
    crc = fr_crc32c_extend(crc, r.p + 4, (size_t)n);
    if (fr_crc32c_mask(crc) != e->crc) return crc_mismatch(b, e, crc, err);
    *data = r.p + 4;
    *len = (size_t)n;
    return FROST_OK;
}
