/* TensorFlow's tensor bundle (the checkpoint format of a SavedModel's
 * variables/): `PREFIX.index`, a LevelDB table (sstable.h) mapping each
 * tensor's key to a BundleEntryProto {dtype, shape, shard_id, offset, size,
 * crc32c} plus, under the empty key, a BundleHeaderProto {num_shards,
 * endianness}; and the data shards `PREFIX.data-SSSSS-of-NNNNN`, memory-mapped
 * read-only.  Field numbers from tensorflow/core/protobuf/tensor_bundle.proto.
 *
 * Opening checks every entry against its shard (offsets and sizes within the
 * file, size = dtype size x shape for fixed-size types, shapes whose element
 * count does not overflow); reading an entry checks its CRC-32C (masked as
 * TensorFlow stores it). */
#ifndef FR_BUNDLE_H
#define FR_BUNDLE_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "frost.h"
#include "pb/pb.h"
#include "savedmodel/sstable.h"

#define FR_BUNDLE_MAX_SHARDS 4096

typedef struct fr_bundle_entry {
    const char *key;
    int dtype; /* TensorFlow DataType */
    fr_pb_shape shape;
    int64_t count; /* elements */
    int shard;
    uint64_t offset, size;
    uint32_t crc; /* masked CRC-32C as stored */
    int sliced;   /* stored as slices of a partitioned variable (not readable here) */
} fr_bundle_entry;

typedef struct fr_bundle {
    atomic_int refs; /* fr_bundle_free drops one */
    char *source; /* the prefix ("DIR/variables/variables") or "<memory>", for messages */
    fr_sst index;
    int n;
    fr_bundle_entry *e; /* in key order; the header is not among them */
    int num_shards;
    const uint8_t **shard;
    size_t *shard_len;
    void **map; /* mmap'ed shards (NULL for memory / empty files) */
    size_t tail; /* bytes of another file mapped right after shard 0 (saved_model.pb), unmapped with it */
} fr_bundle;

/* prefix: ".../variables/variables". */
frost_status fr_bundle_open(const char *prefix, fr_bundle **out, char **err);
/* The same from bytes in memory, which must outlive the bundle. */
frost_status fr_bundle_open_memory(const void *index, size_t index_len, const void *const *shards,
                                   const size_t *shard_lens, int n_shards, fr_bundle **out, char **err);
void fr_bundle_free(fr_bundle *b);
/* Another reference (b may be NULL); the memory of its entries stays valid
 * until the last fr_bundle_free. */
fr_bundle *fr_bundle_ref(fr_bundle *b);

const fr_bundle_entry *fr_bundle_find(const fr_bundle *b, const char *key);
/* Bytes of one element of a fixed-size dtype, 0 for the others (string,
 * resource, variant). */
size_t fr_dtype_size(int dtype);
/* The entry's bytes in its shard, after checking their CRC-32C. */
frost_status fr_bundle_read(const fr_bundle *b, const fr_bundle_entry *e, const uint8_t **data, char **err);
/* The same in two steps: the bytes, their pages populated, not checked yet
 * (fr_bundle_locate), and the check of their CRC-32C (fr_bundle_check); a
 * reader that defers the check must make it before it trusts a value. */
frost_status fr_bundle_locate(const fr_bundle *b, const fr_bundle_entry *e, const uint8_t **data, char **err);
frost_status fr_bundle_check(const fr_bundle *b, const fr_bundle_entry *e, char **err);
/* A scalar DT_STRING entry: the string (lengths, length checksum and CRC checked). */
frost_status fr_bundle_read_string(const fr_bundle *b, const fr_bundle_entry *e, const uint8_t **data, size_t *len,
                                   char **err);

#endif
