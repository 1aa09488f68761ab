/* Large anonymous buffers for data that lives as long as a model or a
 * context (transformed weights, activation arenas, scratchpads), on
 * transparent huge pages where the kernel has them.
 *
 * A fresh 4 KiB page costs a page fault (and on virtual machines an exit):
 * on the 2-core test machine an 8 MiB buffer took 20 ms to touch in 4 KiB
 * pages and 0.2 ms in 2 MiB ones, and was read 3x faster after (fewer TLB
 * misses).  So buffers of 2 MiB and more are mappings aligned to 2 MiB with
 * MADV_HUGEPAGE, and a model's many small weight buffers are carved from a
 * few such mappings (fr_slab) instead of the heap.  Under AddressSanitizer,
 * which checks heap blocks only, everything is a heap block. */
#ifndef FR_PAGES_H
#define FR_PAGES_H

#include <stddef.h>

/* Flags of fr_pages_alloc: fault every page in now (the run path then takes
 * none); zero the bytes (a mapping's always are). */
#define FR_PAGES_POPULATE 1
#define FR_PAGES_ZERO 2

/* A buffer of `bytes`, 64-byte aligned: from 1 MiB on its own mapping (huge
 * pages from 2 MiB on), below that a heap block.  *map_len: what
 * fr_pages_free needs, always fr_pages_map_len(bytes) (0 for a heap block),
 * so a caller that keeps the size need not keep it.  NULL when out of
 * memory. */
void *fr_pages_alloc(size_t bytes, unsigned flags, size_t *map_len);
void fr_pages_free(void *p, size_t map_len);
size_t fr_pages_map_len(size_t bytes);
/* fr_pages_free of a buffer fr_pages_alloc made of `bytes` bytes. */
void fr_pages_free_bytes(void *p, size_t bytes);

/* Many buffers freed together (a model's weights), packed 64-byte aligned
 * one after the other in reservations of FR_SLAB_CHUNK bytes of address
 * space on huge pages (MAP_NORESERVE: memory is taken as pages are first
 * written, so a reservation's unused end costs none, and only its last huge
 * page is partly unused); a buffer larger than a reservation, or where the
 * system refuses one, gets a mapping of its own.  Not thread-safe: the
 * caller locks.  Zero-init the struct; fr_slab_free frees every buffer (and
 * may be called on a zeroed slab). */
#define FR_SLAB_CHUNK ((size_t)256 << 20)
struct fr_slab_chunk;
typedef struct {
    struct fr_slab_chunk *chunks;
    unsigned char *cur; /* free space of the newest chunk */
    size_t left;
} fr_slab;
void *fr_slab_alloc(fr_slab *s, size_t bytes);
void fr_slab_free(fr_slab *s);

#endif
