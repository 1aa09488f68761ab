#include <stdlib.h>

#include "frost.h"

static const char *const messages[FROST_STATUS_COUNT_] = {
    [FROST_OK] = "success",
    [FROST_E_INVALID_ARGUMENT] = "invalid argument",
    [FROST_E_IO] = "I/O error",
    [FROST_E_PARSE] = "malformed input",
    [FROST_E_UNSUPPORTED_OP] = "unsupported op",
    [FROST_E_NOT_FOUND] = "name not found in graph",
    [FROST_E_GRAPH] = "invalid graph",
    [FROST_E_SHAPE] = "shape mismatch",
    [FROST_E_NO_MEMORY] = "out of memory",
    [FROST_E_IMAGE] = "cannot decode image",
    [FROST_E_LIMIT] = "limit exceeded",
    [FROST_E_BACKEND] = "backend error",
    [FROST_E_INTERNAL] = "internal error",
};

const char *frost_strerror(frost_status status) {
    if ((unsigned)status >= FROST_STATUS_COUNT_) return "unknown status";
    return messages[status];
}

void frost_free(void *ptr) { free(ptr); }

const char *frost_version(void) { return FROST_VERSION_STRING; }
