/* Labels files of the frost CLI: one label a line, line N the label of class N. */
#include "labels.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int cli_labels_load(const char *path, char ***labels_out) {
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "frost: cannot open labels file %s: %s\n", path, strerror(errno));
        return -1;
    }
    char **labels = NULL;
    int count = 0, cap = 0;
    char *line = NULL;
    size_t linecap = 0;
    ssize_t len;
    while ((len = getline(&line, &linecap, f)) >= 0) {
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r')) line[--len] = '\0';
        if (count == cap) {
            cap = cap ? cap * 2 : 1024;
            char **grown = realloc(labels, (size_t)cap * sizeof *labels);
            if (!grown) goto oom;
            labels = grown;
        }
        if (!(labels[count] = strdup(line))) goto oom;
        count++;
    }
    free(line);
    fclose(f);
    *labels_out = labels;
    return count;
oom:
    free(line);
    fclose(f);
    cli_labels_free(labels, count);
    fprintf(stderr, "frost: out of memory reading %s\n", path);
    return -1;
}

void cli_labels_free(char **labels, int count) {
    for (int i = 0; i < count; i++) free(labels[i]);
    free(labels);
}
