/* Messages of the SavedModel readers: "PREFIX: MESSAGE". */
#ifndef FR_SM_ERROR_H
#define FR_SM_ERROR_H

#include <stdarg.h>

/* *err (when err is non-NULL) = prefix, ": ", the formatted message;
 * malloc'ed, a previous message freed. */
void fr_sm_verrorf(char **err, const char *prefix, const char *fmt, va_list ap);

#endif
