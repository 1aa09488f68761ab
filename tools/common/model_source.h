/* Where a command's model comes from: a frozen GraphDef (.pb) or a SavedModel
 * directory, with the SavedModel's --signature NAME (default: its
 * serving_default) and --tag_set TAG[,TAG...] (default: serve), parsed alike
 * by every command that loads a model (classify, inspect, run, convert). */
#ifndef FROST_MODEL_SOURCE_H
#define FROST_MODEL_SOURCE_H

#include "frost.h"

#define MS_MAX_TAGS 16

typedef struct model_source {
    const char *signature; /* NULL: the default one */
    const char *tag_set;   /* NULL: "serve" */
} model_source;

/* Parses argv[*i] if it is --signature NAME or --tag_set TAGS (also
 * --tag-set): 1 when consumed, 0 when it is another flag, -1 on a missing
 * value (message printed). */
int model_source_parse(model_source *ms, int argc, char **argv, int *i);

/* The tags of ms->tag_set split at commas (empty names dropped, as
 * saved_model_cli does) into tags[0 .. MS_MAX_TAGS) and *n; the copy of the
 * list lives in buf.  Returns 0, or -1 (message printed) for more than
 * MS_MAX_TAGS tags or none.  *n = 0 and tags unused when tag_set is NULL. */
int model_source_tags(const model_source *ms, char *buf, size_t size, const char *tags[MS_MAX_TAGS], int *n);

/* frost_graph_load_signature() of `path` with the flags; errors in *err. */
frost_status model_source_load(const model_source *ms, const char *path, frost_graph **graph_out, char **err);

/* The meta graph and signature of `sm` that the flags name
 * (frost_savedmodel_select); FROST_E_NOT_FOUND with a message in *err when
 * either is missing. */
frost_status model_source_find(const model_source *ms, const frost_savedmodel *sm, int *meta_graph, int *signature,
                               char **err);

/* --help text of the two flags. */
extern const char model_source_help[];

#endif
