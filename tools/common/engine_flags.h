/* The engine flags: how a model is compiled, parsed alike by every command
 * that compiles one (classify, serve, bench, inspect, run).
 *
 *   --threads N                       compute threads (0: all cores)
 *   --wait-policy auto|passive|active how idle threads wait (wait_policy.h:
 *                                     applied by main before any command)
 *   --backend auto|reference|onednn
 *   --precision fp32|bf16|int8
 *   --calibrate DIR                   with --precision int8: quantize a plain graph at
 *                                     load time, calibrated on DIR's images
 *                                     (frost_options.calibrate_dir)
 *   --winograd, --no-winograd         frost_options.winograd: the larger tiles /
 *                                     none; --no-winograd wins over --winograd
 *   --micro-batch N                   items per pass (0: chosen; -1: none)
 *   --no-optimize, --onednn-only      for testing frost (frost_options.debug_flags)
 *   --tune_file FILE, --no_tune       a tuning record (`frost tune`) / none; by
 *                                     default the per-user cache's
 *   --verbose                         say which tuning record was used or why not
 *
 * Each flag takes label_image's conventions (cli_flag: "--f=v", "--f v",
 * "-f v") and both its '-' and '_' spellings ("--no_winograd").  A command
 * accepts the groups it names (EF_*); its --help describes them in its own
 * words. */
#ifndef FROST_ENGINE_FLAGS_H
#define FROST_ENGINE_FLAGS_H

#include "frost.h"

/* Groups of engine flags a command accepts. */
enum {
    EF_THREADS = 1u << 0,     /* --threads, --wait-policy */
    EF_BACKEND = 1u << 1,     /* --backend */
    EF_PRECISION = 1u << 2,   /* --precision */
    EF_WINOGRAD = 1u << 3,    /* --winograd, --no-winograd */
    EF_MICRO_BATCH = 1u << 4, /* --micro-batch */
    EF_DEBUG = 1u << 5,       /* --no-optimize, --onednn-only */
    EF_TUNE = 1u << 6,        /* --tune_file, --no_tune */
    EF_CALIBRATE = 1u << 7,   /* --calibrate */
    EF_ALL = (1u << 8) - 1
};

typedef struct engine_flags {
    int threads;
    int wait_policy; /* WAIT_* (wait_policy.h); checked here, applied by wait_policy_enforce() */
    frost_backend backend;
    frost_precision precision;
    int winograd, no_winograd; /* switches as given; engine_flags_apply() makes the tri-state */
    int micro_batch;
    int no_optimize, onednn_only;
    const char *tune_file; /* NULL: the per-user cache */
    const char *calibrate; /* NULL: none */
    int no_tune, verbose;
} engine_flags;

/* Every flag at its default (the same as frost_options_init's). */
void engine_flags_init(engine_flags *ef);

/* Parses argv[*i] if it is an engine flag of the groups in `accepted` (EF_*):
 * returns 1 when consumed (*i advanced), 0 when argv[*i] is no such flag,
 * -1 on a bad or missing value (message printed). */
int engine_flags_parse(engine_flags *ef, unsigned accepted, int argc, char **argv, int *i);

/* Sets the engine fields of `opt` (initialised with frost_options_init):
 * threads, backend, precision, winograd (FROST_WINOGRAD_OFF with
 * --no-winograd, else FROST_WINOGRAD_ALL with --winograd, else the default),
 * micro_batch, debug_flags, tune_file ("" with --no_tune) and calibrate_dir
 * (the preprocessing of its images is the command's: calibrate_preprocess). */
void engine_flags_apply(const engine_flags *ef, frost_options *opt);

/* With --verbose, prints to stderr what compiling `model` made of tuning
 * records (frost_model_tune_note), when there is something to say. */
void engine_flags_note(const engine_flags *ef, const frost_model *model);

#endif
