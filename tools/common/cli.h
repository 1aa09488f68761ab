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
/* --precision: "fp32" or "bf16". */
int cli_parse_precision(const char *s, frost_precision *out);

/* Labels file: one label per line.  Returns the count, or -1 (message printed). */
int cli_labels_load(const char *path, char ***labels_out);
void cli_labels_free(char **labels, int count);

#endif
