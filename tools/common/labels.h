/* Labels files of the frost CLI (classify, serve). */
#ifndef FROST_LABELS_H
#define FROST_LABELS_H

/* Labels file: one label per line (trailing CR / LF removed), line N the
 * label of class N.  Returns the count, or -1 (message printed). */
int cli_labels_load(const char *path, char ***labels_out);
void cli_labels_free(char **labels, int count);

#endif
