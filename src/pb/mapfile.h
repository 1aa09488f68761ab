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
 * be mapped. */
frost_status fr_map_file(const char *path, void **map, const uint8_t **data, size_t *len, char **err);

#endif
