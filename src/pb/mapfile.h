/* Read-only memory maps of whole files (GraphDefs, saved_model.pb, tensor
 * bundles): the bytes are used in place. */
#ifndef FR_MAPFILE_H
#define FR_MAPFILE_H

#include <stddef.h>
#include <stdint.h>

#include "frost.h"

/* Maps the regular file at `path`.  *map / *len: what to munmap() (*map is
 * NULL for an empty file, whose *data is ""); FROST_E_IO with a message
 * naming the file when it cannot be opened, is not a regular file or cannot
 * be mapped.  FR_MAP_POPULATE maps every page at once (for a file that is
 * read whole: one call instead of a page fault per page). */
#define FR_MAP_POPULATE 1
frost_status fr_map_file(const char *path, unsigned flags, void **map, const uint8_t **data, size_t *len, char **err);

/* fr_map_file, right after the mapping prev of prev_len bytes where that
 * range is free (*map == prev + fr_map_extent(prev_len) then: one munmap()
 * of both, which frees their page tables once), else anywhere. */
frost_status fr_map_file_after(const char *path, unsigned flags, const void *prev, size_t prev_len, void **map,
                               const uint8_t **data, size_t *len, char **err);
/* The bytes a mapping of len bytes spans (whole pages). */
size_t fr_map_extent(size_t len);

/* Reads the regular file at `path` into *data (malloc'ed; never NULL on
 * success, also for an empty file), for files that are parsed and let go
 * (a bundle's index, a tuning record): for a few pages a mapping's set-up
 * and tear-down cost more than the copy; beyond that (saved_model.pb),
 * FR_MAP_POPULATE is cheaper, the heap's fresh pages being dear on virtual
 * machines.  Errors as fr_map_file. */
frost_status fr_read_file(const char *path, uint8_t **data, size_t *len, char **err);

/* Maps the pages of [p, p + n) of a file mapping at once, before they are
 * read (where the kernel can: Linux 5.14 and later). */
void fr_map_populate(const void *p, size_t n);

#endif
