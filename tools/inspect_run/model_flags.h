/* Compile flags shared by `frost inspect` and `frost run`: which inputs and
 * outputs, input shapes, batch size, and every engine flag
 * (common/engine_flags.h: backend, threads, Winograd, precision, passes, the
 * testing switches). */
#ifndef FROST_MODEL_FLAGS_H
#define FROST_MODEL_FLAGS_H

#include <stdio.h>

#include "common/engine_flags.h"
#include "common/model_source.h"
#include "frost.h"

#define MF_MAX_TENSORS 64

typedef struct model_flags {
    const char *inputs[MF_MAX_TENSORS]; /* tensor names (without "=FILE") */
    const char *files[MF_MAX_TENSORS];  /* run: raw float32 file of each input */
    int num_inputs;
    const char *outputs[MF_MAX_TENSORS];
    int num_outputs;
    const char *outs[MF_MAX_TENSORS]; /* run: --out files, parallel to outputs */
    int num_outs;
    frost_shape shapes[MF_MAX_TENSORS]; /* --shape, parallel to inputs */
    int num_shapes;
    int batch; /* 0: not given */
    engine_flags engine;
    model_source source; /* --signature, --tag_set (SavedModels) */
    char store[2 * MF_MAX_TENSORS][256]; /* storage of the names above */
    int n_store;
} model_flags;

void mf_init(model_flags *mf);

/* Parses one flag at argv[*i] if it is one of: --input NAME[=FILE] (repeatable;
 * a comma list of names when `with_files` is 0), --output NAME (repeatable,
 * comma lists allowed), --out FILE (repeatable; only when with_files),
 * --shape D0,D1,... (repeatable), --batch N, --signature NAME, --tag_set
 * TAGS (model_source_parse), and the engine flags (all of them:
 * engine_flags_parse with EF_ALL).
 * Returns 1 when consumed, 0 when argv[*i] is not such a flag, -1 on a bad
 * value (message printed). */
int mf_parse(model_flags *mf, int argc, char **argv, int *i, int with_files);

/* A switch (inspect --json, run --quiet) or, with `text` set instead of
 * `value`, a flag with a value (inspect --signature_def) of the command itself. */
typedef struct mf_switch {
    const char *name;
    int *value;
    const char **text;
} mf_switch;

/* The command line of `frost NAME` (inspect, run): MODEL.pb, the model flags
 * (mf_parse with `with_files`), --help, and the command's own flags.
 * Returns -1 to go on (*path_out set), else the exit status: 0 after --help
 * (usage(stdout)), 2 on a usage error or without MODEL.pb (usage(stderr)). */
int mf_command_line(model_flags *mf, const char *name, int argc, char **argv, int with_files, const mf_switch *sw,
                    int nsw, void (*usage)(FILE *), const char **path_out);

/* Fills `opt` (already initialised with frost_options_init) from the flags.
 * Returns -1 (message printed) when --shape does not match the inputs. */
int mf_options(const model_flags *mf, frost_options *opt);

/* For a SavedModel `path` whose graph `g` was loaded with mf->source:
 * --input and --output names that are keys of its signature become the
 * graph's tensor names (names that are no key stay as given; the options of
 * mf_options point at these names).  Returns -1 (message printed) when the SavedModel cannot be
 * read again. */
int mf_signature_keys(model_flags *mf, const char *path, const frost_graph *g);

/* "D0,D1,..." -> shape; -1 on a bad list (message printed). */
int mf_parse_shape(const char *s, frost_shape *shape);

/* Writes "[d0,d1,...]" (or "[?]" for an unknown rank) into buf. */
const char *mf_shape_str(const frost_shape *shape, char *buf, size_t size);

/* Text of the flags for --help. */
extern const char mf_help_compile[];

#endif
