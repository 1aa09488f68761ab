/* The CRC-32C check of a SavedModel's variables used in place (check.c). */
#ifndef FR_SM_CHECK_H
#define FR_SM_CHECK_H

#include "graph/graph.h"
#include "savedmodel/bundle.h"

/* From this many bytes of variables, the check runs on a thread of its own. */
#define FR_SM_CHECK_ASYNC_BYTES ((size_t)8 << 20)

/* Checks the n entries e of bundle b, whose values graph g uses in place
 * (b must outlive g's check: g keeps it): from FR_SM_CHECK_ASYNC_BYTES on,
 * on a thread whose result fr_graph_check(g) gives (FROST_OK returned
 * here); below (or where no thread can be started), at once: FROST_OK, or
 * FROST_E_PARSE naming the first tensor that fails, after `what` (the
 * SavedModel and signature). */
frost_status fr_sm_check_start(const char *what, const fr_bundle *b, const fr_bundle_entry *const *e, int n,
                               frost_graph *g, char **err);

#endif
