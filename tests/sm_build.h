/* Builders for the SavedModel tests and the fuzz seeds: LevelDB tables
 * (optionally Snappy-framed), tensor bundles and small SavedModels written
 * byte by byte, so that every field can also be made wrong. */
#ifndef FROST_SM_BUILD_H
#define FROST_SM_BUILD_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pb/pbwriter.h"
#include "savedmodel/crc32c.h"

static void sb_le32(fr_pbw *w, uint32_t v) {
    uint8_t b[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    fr_pbw_raw(w, b, 4);
}

/* Snappy framing of `n` bytes as literals only (valid Snappy, no compression). */
static void sb_snappy_literal(fr_pbw *w, const uint8_t *p, size_t n) {
    fr_pbw_varint(w, n);
    for (size_t i = 0; i < n; i += 256) {
        size_t len = n - i < 256 ? n - i : 256;
        uint8_t tag[2] = {60 << 2, (uint8_t)(len - 1)};
        fr_pbw_raw(w, tag, 2);
        fr_pbw_raw(w, p + i, len);
    }
}

/* One block: entries with keys prefix-compressed against the previous one,
 * a restart point every `restart` entries. */
static void sb_block(fr_pbw *b, const char *const *keys, const uint8_t *const *vals, const size_t *vlens, int n,
                     int restart) {
    uint32_t res[4096];
    int nres = 0;
    const char *prev = "";
    for (int i = 0; i < n; i++) {
        size_t shared = 0, kl = strlen(keys[i]);
        if (i % restart == 0) {
            res[nres++] = (uint32_t)b->len;
        } else {
            while (prev[shared] && keys[i][shared] == prev[shared]) shared++;
        }
        fr_pbw_varint(b, shared);
        fr_pbw_varint(b, kl - shared);
        fr_pbw_varint(b, vlens[i]);
        fr_pbw_raw(b, keys[i] + shared, kl - shared);
        fr_pbw_raw(b, vals[i], vlens[i]);
        prev = keys[i];
    }
    if (!nres) res[nres++] = 0;
    for (int i = 0; i < nres; i++) sb_le32(b, res[i]);
    sb_le32(b, (uint32_t)nres);
}

/* Appends block contents with their trailer (type + masked crc32c);
 * compress: 0 stored, 1 Snappy-framed, other: that type byte (invalid). */
static void sb_block_out(fr_pbw *out, const fr_pbw *blk, int compress, uint64_t *off, uint64_t *size) {
    fr_pbw body;
    fr_pbw_init(&body);
    if (compress == 1) sb_snappy_literal(&body, blk->data, blk->len);
    else fr_pbw_raw(&body, blk->data, blk->len);
    uint8_t type = (uint8_t)compress;
    *off = out->len;
    *size = body.len;
    fr_pbw_raw(out, body.data, body.len);
    fr_pbw_raw(out, &type, 1);
    sb_le32(out, fr_crc32c_mask(fr_crc32c_extend(fr_crc32c(body.data, body.len), &type, 1)));
    fr_pbw_free(&body);
}

/* A whole table of n sorted entries, `per_block` entries per data block. */
static void sb_table(fr_pbw *out, const char *const *keys, const uint8_t *const *vals, const size_t *vlens, int n,
                     int per_block, int compress) {
    fr_pbw blk, index, handle;
    fr_pbw_init(&blk);
    fr_pbw_init(&index);
    fr_pbw_init(&handle);
    const char *ikeys[1024];
    const uint8_t *ivals[1024];
    size_t ivlens[1024];
    uint8_t hbuf[1024][20];
    int nb = 0;
    for (int i = 0; i < n; i += per_block) {
        int m = n - i < per_block ? n - i : per_block;
        fr_pbw_reset(&blk);
        sb_block(&blk, keys + i, vals + i, vlens + i, m, 2);
        uint64_t off, size;
        sb_block_out(out, &blk, compress, &off, &size);
        fr_pbw_reset(&handle);
        fr_pbw_varint(&handle, off);
        fr_pbw_varint(&handle, size);
        memcpy(hbuf[nb], handle.data, handle.len);
        ikeys[nb] = keys[i + m - 1];
        ivals[nb] = hbuf[nb];
        ivlens[nb] = handle.len;
        nb++;
    }
    uint64_t moff, msize, ioff, isize;
    fr_pbw_reset(&blk);
    sb_block(&blk, NULL, NULL, NULL, 0, 1); /* the (empty) metaindex */
    sb_block_out(out, &blk, 0, &moff, &msize);
    sb_block(&index, ikeys, ivals, ivlens, nb, 1);
    sb_block_out(out, &index, 0, &ioff, &isize);
    fr_pbw foot;
    fr_pbw_init(&foot);
    fr_pbw_varint(&foot, moff);
    fr_pbw_varint(&foot, msize);
    fr_pbw_varint(&foot, ioff);
    fr_pbw_varint(&foot, isize);
    uint8_t zero[40] = {0};
    fr_pbw_raw(&foot, zero, 40 - foot.len);
    sb_le32(&foot, 0x8b80fb57u);
    sb_le32(&foot, 0xdb477524u);
    fr_pbw_raw(out, foot.data, foot.len);
    fr_pbw_free(&foot);
    fr_pbw_free(&blk);
    fr_pbw_free(&index);
    fr_pbw_free(&handle);
}

/* ---- messages ---- */

/* A map<string, message> entry {key = 1, value = 2} as field `field` of parent. */
static inline void sb_map_entry(fr_pbw *parent, int field, const char *key, const fr_pbw *value) {
    fr_pbw entry;
    fr_pbw_init(&entry);
    fr_pbw_str(&entry, 1, key);
    fr_pbw_msg(&entry, 2, value);
    fr_pbw_msg(parent, field, &entry);
    if (entry.failed) parent->failed = 1;
    fr_pbw_free(&entry);
}

/* A SignatureDef's inputs (field 1) / outputs (2) entry: TensorInfo {name = 1,
 * dtype = 2 (DT_FLOAT), tensor_shape = 3} (rank -1: unknown rank). */
static inline void sb_tensor_info(fr_pbw *sig, int field, const char *key, const char *name, int rank,
                                  const int64_t *dims) {
    fr_pbw ti, sh;
    fr_pbw_init(&ti);
    fr_pbw_init(&sh);
    fr_pbw_str(&ti, 1, name);
    fr_pbw_int(&ti, 2, 1);
    fr_pbw_shape(&sh, rank, dims);
    fr_pbw_msg(&ti, 3, &sh);
    sb_map_entry(sig, field, key, &ti);
    fr_pbw_free(&ti);
    fr_pbw_free(&sh);
}

/* The "serving_default" predict signature from tensor `in` to tensor `out`
 * (both float, of rank `rank`, -1: unknown) as a MetaGraphDef.signature_def
 * entry (field 5) of mg. */
static inline void sb_predict_signature(fr_pbw *mg, const char *in, const char *out, int rank, const int64_t *dims) {
    fr_pbw sig, entry;
    fr_pbw_init(&sig);
    fr_pbw_init(&entry);
    sb_tensor_info(&sig, 1, "x", in, rank, dims);
    sb_tensor_info(&sig, 2, "y", out, rank, dims);
    fr_pbw_str(&sig, 3, "tensorflow/serving/predict");
    fr_pbw_str(&entry, 1, "serving_default");
    fr_pbw_msg(&entry, 2, &sig);
    fr_pbw_msg(mg, 5, &entry);
    if (sig.failed || entry.failed) mg->failed = 1;
    fr_pbw_free(&sig);
    fr_pbw_free(&entry);
}

/* ---- tensor bundles ---- */

typedef struct {
    const char *key;
    int dtype;
    int rank;
    int64_t dims[8];
    const void *data; /* NULL with size: a string tensor of `data_str` */
    size_t size;
    const char *str;  /* scalar DT_STRING value (size bytes, or up to its NUL when size is 0) */
    int64_t offset_delta; /* added to the recorded offset (hostile) */
    uint32_t crc_xor;     /* flipped into the recorded crc (hostile) */
    int shard;
} sb_tensor;

/* Writes the bundle: *index (a table) and *data (shard 0), tensors sorted by key. */
static void sb_bundle(fr_pbw *index, fr_pbw *data, const sb_tensor *t, int n, int num_shards, int compress) {
    const char **keys = calloc((size_t)n + 1, sizeof *keys);
    const uint8_t **vals = calloc((size_t)n + 1, sizeof *vals);
    size_t *vlens = calloc((size_t)n + 1, sizeof *vlens);
    fr_pbw *ent = calloc((size_t)n + 1, sizeof *ent), shape;
    if (!keys || !vals || !vlens || !ent) {
        free(keys);
        free(vals);
        free(vlens);
        free(ent);
        index->failed = 1;
        return;
    }
    fr_pbw_init(&shape);
    /* header under the empty key: num_shards = 1, endianness = 2, version = 3 {producer = 1} */
    fr_pbw_init(&ent[0]);
    fr_pbw_int(&ent[0], 1, num_shards);
    fr_pbw ver;
    fr_pbw_init(&ver);
    fr_pbw_int(&ver, 1, 1);
    fr_pbw_msg(&ent[0], 3, &ver);
    fr_pbw_free(&ver);
    keys[0] = "";
    for (int i = 0; i < n; i++) {
        fr_pbw *e = &ent[i + 1];
        fr_pbw_init(e);
        uint64_t off = data->len;
        uint32_t crc;
        size_t size;
        if (t[i].str) {
            size_t l = t[i].size ? t[i].size : strlen(t[i].str);
            fr_pbw_varint(data, l);
            uint8_t lb[4] = {(uint8_t)l, (uint8_t)(l >> 8), (uint8_t)(l >> 16), (uint8_t)(l >> 24)};
            crc = fr_crc32c(lb, 4);
            uint32_t lc = fr_crc32c_mask(crc);
            sb_le32(data, lc);
            uint8_t lcb[4] = {(uint8_t)lc, (uint8_t)(lc >> 8), (uint8_t)(lc >> 16), (uint8_t)(lc >> 24)};
            crc = fr_crc32c_extend(crc, lcb, 4);
            crc = fr_crc32c_extend(crc, t[i].str, l);
            fr_pbw_raw(data, t[i].str, l);
            size = data->len - (size_t)off;
        } else {
            crc = fr_crc32c(t[i].data, t[i].size);
            fr_pbw_raw(data, t[i].data, t[i].size);
            size = t[i].size;
        }
        while (data->len % 8) fr_pbw_raw(data, "", 1); /* TensorFlow pads to its alignment */
        fr_pbw_int(e, 1, t[i].dtype);
        fr_pbw_reset(&shape);
        fr_pbw_shape(&shape, t[i].rank, t[i].dims);
        fr_pbw_msg(e, 2, &shape);
        if (t[i].shard) fr_pbw_int(e, 3, t[i].shard);
        if (off + (uint64_t)t[i].offset_delta) fr_pbw_int(e, 4, (int64_t)(off + (uint64_t)t[i].offset_delta));
        fr_pbw_int(e, 5, (int64_t)size);
        fr_pbw_tag(e, 6, 5);
        sb_le32(e, fr_crc32c_mask(crc) ^ t[i].crc_xor);
        keys[i + 1] = t[i].key;
    }
    for (int i = 0; i <= n; i++) vals[i] = ent[i].data, vlens[i] = ent[i].len;
    sb_table(index, keys, vals, vlens, n + 1, 3, compress);
    for (int i = 0; i <= n; i++) fr_pbw_free(&ent[i]);
    fr_pbw_free(&shape);
    free(keys);
    free(vals);
    free(vlens);
    free(ent);
}

#endif
