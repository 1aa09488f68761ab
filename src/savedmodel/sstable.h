/* A reader of LevelDB-format tables (the "SSTable" of TensorFlow's
 * variables.index): footer with the metaindex / index BlockHandles and the
 * magic 0xdb4775248b80fb57, blocks of prefix-compressed entries with restart
 * points, each block followed by its compression type and masked CRC-32C.
 * Blocks stored Snappy-compressed (type 1) are decompressed.  Everything is
 * bounds-checked against the bytes given; every block's checksum is
 * verified; keys must be strictly increasing (a repeated key is an error). */
#ifndef FR_SSTABLE_H
#define FR_SSTABLE_H

#include <stddef.h>
#include <stdint.h>

#include "frost.h"
#include "graph/graph.h"

/* Limits on what a table may declare. */
#define FR_SST_MAX_ENTRIES (1 << 20)
#define FR_SST_MAX_BLOCK ((size_t)64 << 20) /* uncompressed block size */

typedef struct fr_sst_entry {
    const char *key; /* copy, NUL-terminated (key_len bytes before the NUL) */
    size_t key_len;
    const uint8_t *val; /* copy */
    size_t val_len;
} fr_sst_entry;

typedef struct fr_sst {
    int n;
    fr_sst_entry *e; /* in key order */
    fr_pool pool;
} fr_sst;

/* Reads every entry of the table held in data[0..size).  `what` names it in
 * messages.  FROST_OK; FROST_E_PARSE for anything malformed, truncated or
 * failing its checksum, and for an unknown compression type; FROST_E_LIMIT
 * beyond the limits above; FROST_E_NO_MEMORY.  *out is empty on failure. */
frost_status fr_sst_read(const uint8_t *data, size_t size, const char *what, fr_sst *out, char **err);
void fr_sst_free(fr_sst *t);
/* The entry of that key, or NULL (binary search). */
const fr_sst_entry *fr_sst_find(const fr_sst *t, const char *key, size_t key_len);

#endif
