#include "engine_flags.h"

#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "wait_policy.h"

void engine_flags_init(engine_flags *ef) {
    memset(ef, 0, sizeof *ef);
    ef->backend = FROST_BACKEND_AUTO;
    ef->precision = FROST_PRECISION_FP32;
}

/* `name` ("no-winograd") or its '_' spelling ("no_winograd"): a flag with a
 * value (value != NULL) or a switch (sw != NULL); cli_flag's return values. */
static int either(int argc, char **argv, int *i, const char *name, const char **value, int *sw) {
    char alt[32];
    snprintf(alt, sizeof alt, "%s", name);
    for (char *p = alt; *p; p++)
        if (*p == '-') *p = '_';
    int r = value ? cli_flag(argc, argv, i, name, value) : cli_switch(argc, argv, i, name, sw);
    if (r == 0 && strcmp(alt, name)) r = value ? cli_flag(argc, argv, i, alt, value) : cli_switch(argc, argv, i, alt, sw);
    return r;
}

/* The values of --backend and --precision: the enums' values in order. */
static const char *const backends[] = {"auto", "reference", "onednn"};
static const char *const precisions[] = {"fp32", "bf16", "int8"};

int engine_flags_parse(engine_flags *ef, unsigned accepted, int argc, char **argv, int *i) {
    const char *v = NULL;
    int r, k = 0;
    if ((accepted & EF_THREADS) && (r = either(argc, argv, i, "threads", &v, NULL)) != 0)
        return r < 0 || cli_parse_int("threads", v, 0, 4096, &ef->threads) ? -1 : 1;
    if ((accepted & EF_THREADS) && (r = either(argc, argv, i, "wait-policy", &v, NULL)) != 0)
        return r < 0 || cli_parse_choice("wait-policy", v, wait_policy_names, WAIT_POLICIES, &ef->wait_policy) ? -1 : 1;
    if ((accepted & EF_BACKEND) && (r = either(argc, argv, i, "backend", &v, NULL)) != 0)
        return r < 0 || cli_parse_choice("backend", v, backends, 3, &k) ? -1 : (ef->backend = (frost_backend)k, 1);
    if ((accepted & EF_PRECISION) && (r = either(argc, argv, i, "precision", &v, NULL)) != 0)
        return r < 0 || cli_parse_choice("precision", v, precisions, 3, &k) ? -1
                                                                           : (ef->precision = (frost_precision)k, 1);
    if ((accepted & EF_CALIBRATE) && (r = either(argc, argv, i, "calibrate", &v, NULL)) != 0)
        return r < 0 ? -1 : (ef->calibrate = v, 1);
    if ((accepted & EF_WINOGRAD) && ((r = either(argc, argv, i, "winograd", NULL, &ef->winograd)) != 0 ||
                                     (r = either(argc, argv, i, "no-winograd", NULL, &ef->no_winograd)) != 0))
        return r < 0 ? -1 : 1;
    if ((accepted & EF_MICRO_BATCH) && (r = either(argc, argv, i, "micro-batch", &v, NULL)) != 0)
        return r < 0 || cli_parse_int("micro-batch", v, -1, 1 << 16, &ef->micro_batch) ? -1 : 1;
    if ((accepted & EF_TUNE) && ((r = either(argc, argv, i, "tune-file", &ef->tune_file, NULL)) != 0 ||
                                 (r = either(argc, argv, i, "no-tune", NULL, &ef->no_tune)) != 0 ||
                                 (r = either(argc, argv, i, "verbose", NULL, &ef->verbose)) != 0))
        return r < 0 ? -1 : 1;
    if ((accepted & EF_DEBUG) && ((r = either(argc, argv, i, "no-optimize", NULL, &ef->no_optimize)) != 0 ||
                                  (r = either(argc, argv, i, "onednn-only", NULL, &ef->onednn_only)) != 0))
        return r < 0 ? -1 : 1;
    return 0;
}

void engine_flags_apply(const engine_flags *ef, frost_options *opt) {
    opt->threads = ef->threads;
    opt->backend = ef->backend;
    opt->precision = ef->precision;
    opt->winograd = ef->no_winograd ? FROST_WINOGRAD_OFF : ef->winograd ? FROST_WINOGRAD_ALL : FROST_WINOGRAD_DEFAULT;
    opt->micro_batch = ef->micro_batch;
    opt->tune_file = ef->no_tune ? "" : ef->tune_file;
    opt->calibrate_dir = ef->calibrate;
    opt->debug_flags = (ef->no_optimize ? FROST_DEBUG_NO_OPTIMIZE : 0u) | (ef->onednn_only ? FROST_DEBUG_ONEDNN_ONLY : 0u);
}

void engine_flags_note(const engine_flags *ef, const frost_model *model) {
    const char *note = frost_model_tune_note(model);
    if (ef->verbose && note[0]) fprintf(stderr, "frost: %s\n", note);
}
