#include "cli.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* What follows flag `name` in arg ("-name...", "--name..."): "" or "=VALUE";
 * NULL when arg is not that flag. */
static const char *after_name(const char *arg, const char *name) {
    if (arg[0] != '-') return NULL;
    arg += arg[1] == '-' ? 2 : 1;
    size_t n = strlen(name);
    if (strncmp(arg, name, n) != 0 || (arg[n] != '\0' && arg[n] != '=')) return NULL;
    return arg + n;
}

int cli_flag(int argc, char **argv, int *i, const char *name, const char **value) {
    const char *rest = after_name(argv[*i], name);
    if (!rest) return 0;
    if (*rest == '=') {
        *value = rest + 1;
        (*i)++;
        return 1;
    }
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
    const char *rest = after_name(argv[*i], name);
    if (!rest) return 0;
    if (*rest == '\0') {
        *value = 1;
        (*i)++;
        return 1;
    }
    const char *v = rest + 1;
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

int cli_parse_choice(const char *flag, const char *s, const char *const *names, int count, int *out) {
    for (int k = 0; k < count; k++)
        if (!strcmp(s, names[k])) {
            *out = k;
            return 0;
        }
    fprintf(stderr, "frost: --%s: '%s' is not ", flag, s);
    for (int k = 0; k < count; k++) fprintf(stderr, "%s%s", names[k], k + 2 < count ? ", " : k + 1 < count ? " or " : "\n");
    return -1;
}

int cli_parse_resize(const char *s, frost_resize *out) {
    static const char *const names[] = {"tf1", "tf2", "align_corners"}; /* FROST_RESIZE_* in order */
    int k;
    if (cli_parse_choice("resize", s, names, 3, &k)) return -1;
    *out = (frost_resize)k;
    return 0;
}

void cli_make_parent_dirs(const char *path) {
    char *d = strdup(path);
    for (char *p = d ? d + 1 : NULL; p && *p; p++)
        if (*p == '/') *p = 0, mkdir(d, 0755), *p = '/';
    free(d);
}
