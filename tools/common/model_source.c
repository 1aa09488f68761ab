#include "model_source.h"

#include <stdio.h>
#include <string.h>

#include "cli.h"

const char model_source_help[] =
    "  --signature NAME      for a SavedModel: the signature to load (default:\n"
    "                        serving_default, or its only signature)\n"
    "  --tag_set TAGS        for a SavedModel: the meta graph's tags, a comma\n"
    "                        list (default: serve)\n";

int model_source_parse(model_source *ms, int argc, char **argv, int *i) {
    int r;
    if ((r = cli_flag(argc, argv, i, "signature", &ms->signature)) != 0) return r;
    if ((r = cli_flag(argc, argv, i, "tag_set", &ms->tag_set)) != 0) return r;
    return cli_flag(argc, argv, i, "tag-set", &ms->tag_set);
}

int model_source_tags(const model_source *ms, char *buf, size_t size, const char *tags[MS_MAX_TAGS], int *n) {
    *n = 0;
    if (!ms->tag_set) return 0;
    if (snprintf(buf, size, "%s", ms->tag_set) >= (int)size) {
        fprintf(stderr, "frost: --tag_set: '%s' is too long\n", ms->tag_set);
        return -1;
    }
    for (char *p = buf, *comma; p; p = comma) {
        if ((comma = strchr(p, ','))) *comma++ = '\0';
        if (!*p) continue;
        if (*n == MS_MAX_TAGS) {
            fprintf(stderr, "frost: --tag_set: at most %d tags\n", MS_MAX_TAGS);
            return -1;
        }
        tags[(*n)++] = p;
    }
    if (*n == 0) {
        fprintf(stderr, "frost: --tag_set: '%s' names no tag\n", ms->tag_set);
        return -1;
    }
    return 0;
}

frost_status model_source_load(const model_source *ms, const char *path, frost_graph **graph_out, char **err) {
    char buf[1024];
    const char *tags[MS_MAX_TAGS];
    int n;
    *err = NULL;
    if (model_source_tags(ms, buf, sizeof buf, tags, &n)) return FROST_E_INVALID_ARGUMENT;
    return frost_graph_load_signature(path, n ? tags : NULL, n, ms->signature, graph_out, err);
}

frost_status model_source_find(const model_source *ms, const frost_savedmodel *sm, int *meta_graph, int *signature,
                               char **err) {
    char buf[1024];
    const char *tags[MS_MAX_TAGS];
    int n;
    *err = NULL;
    if (model_source_tags(ms, buf, sizeof buf, tags, &n)) return FROST_E_INVALID_ARGUMENT;
    return frost_savedmodel_select(sm, n ? tags : NULL, n, ms->signature, meta_graph, signature, err);
}
