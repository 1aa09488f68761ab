/* Shared helpers of the frost CLI subcommands (tools/<command>/cmd_*.c). */
#ifndef FROST_CLI_H
#define FROST_CLI_H

#include <stdio.h>

#include "frost.h"

/* Every subcommand: int frost_cmd_NAME(int argc, char **argv), argv[0] = "NAME".
 * Returns the process exit status (0 ok, 1 some work failed, 2 usage error). */
typedef int (*cli_cmd_fn)(int argc, char **argv);

/* Flag parsing with label_image's conventions: "--name=value", "--name value",
 * and a single leading dash ("-name value") are all accepted.
 * cli_flag: if argv[*i] is flag `name`, sets *value (consuming the next
 * argument when the value is separate), advances *i past it, returns 1;
 * returns -1 when the value is missing (message printed), 0 when argv[*i] is
 * another flag. */
int cli_flag(int argc, char **argv, int *i, const char *name, const char **value);
/* Boolean switch: "--name", "--name=true|false|1|0". Same return convention. */
int cli_switch(int argc, char **argv, int *i, const char *name, int *value);

/* Strict number parsing; return 0 on success, -1 (message printed naming `flag`) otherwise. */
int cli_parse_int(const char *flag, const char *s, long min, long max, int *out);
int cli_parse_float(const char *flag, const char *s, float *out);
/* `s` is one of names[0 .. count): *out = its index (the names of an enum's
 * values, in order); else -1, with "frost: --FLAG: 's' is not a, b or c". */
int cli_parse_choice(const char *flag, const char *s, const char *const *names, int count, int *out);
/* --resize (classify, bench; serve's resize= key): tf1, tf2 or align_corners. */
int cli_parse_resize(const char *s, frost_resize *out);
/* mkdir -p of the directory that holds `path` (errors left to opening the file). */
void cli_make_parent_dirs(const char *path);

#endif
