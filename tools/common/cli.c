#include "cli.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static const char *flag_body(const char *arg) {
    if (arg[0] != '-') return NULL;
    arg++;
    if (arg[0] == '-') arg++;
    return arg;
}

int cli_flag(int argc, char **argv, int *i, const char *name, const char **value) {
    const char *body = flag_body(argv[*i]);
    if (!body) return 0;
    size_t n = strlen(name);
    if (strncmp(body, name, n) != 0) return 0;
    if (body[n] == '=') {
        *value = body + n + 1;
        (*i)++;
        return 1;
    }
    if (body[n] != '\0') return 0;
    if (*i + 1 >= argc) {
        fprintf(stderr, "frost: flag --%s needs a value\n", name);
        return -1;
    }
    *value = argv[*i + 1];
    *i += 2;
    return 1;
}

int cli_switch(int argc, char **argv, int *i, const char *name, int *value) {
    (void)argc;
    const char *body = flag_body(argv[*i]);
    if (!body) return 0;
    size_t n = strlen(name);
    if (strncmp(body, name, n) != 0) return 0;
    if (body[n] == '\0') {
        *value = 1;
        (*i)++;
        return 1;
    }
    if (body[n] != '=') return 0;
    const char *v = body + n + 1;
    if (!strcmp(v, "true") || !strcmp(v, "1")) *value = 1;
    else if (!strcmp(v, "false") || !strcmp(v, "0")) *value = 0;
    else {
        fprintf(stderr, "frost: flag --%s takes true or false, not '%s'\n", name, v);
        return -1;
    }
    (*i)++;
    return 1;
}

int cli_parse_int(const char *flag, const char *s, long min, long max, int *out) {
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < min || v > max) {
        fprintf(stderr, "frost: --%s: '%s' is not an integer in [%ld, %ld]\n", flag, s, min, max);
        return -1;
    }
    *out = (int)v;
    return 0;
}

int cli_parse_float(const char *flag, const char *s, float *out) {
    char *end;
    errno = 0;
    float v = strtof(s, &end);
    if (errno || end == s || *end) {
        fprintf(stderr, "frost: --%s: '%s' is not a number\n", flag, s);
        return -1;
    }
    *out = v;
    return 0;
}

int cli_parse_precision(const char *s, frost_precision *out) {
    if (!strcmp(s, "fp32")) *out = FROST_PRECISION_FP32;
    else if (!strcmp(s, "bf16")) *out = FROST_PRECISION_BF16;
    else {
        fprintf(stderr, "frost: --precision: '%s' is not fp32 or bf16\n", s);
        return -1;
    }
    return 0;
}

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
