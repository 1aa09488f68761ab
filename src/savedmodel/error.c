#include "savedmodel/error.h"

#include <stdio.h>

#include "graph/graph.h"

void fr_sm_verrorf(char **err, const char *prefix, const char *fmt, va_list ap) {
    if (!err) return;
    char msg[1024];
    vsnprintf(msg, sizeof msg, fmt, ap);
    fr_errorf(err, "%s: %s", prefix, msg);
}
