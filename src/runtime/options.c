/* frost_options: initialisation, and the reading of a caller's struct of
 * any struct_size (older, smaller headers; newer, larger ones). */
#include <stddef.h>
#include <string.h>

#include "graph/graph.h"
#include "runtime/runtime.h"

frost_status frost_options_init_sized(frost_options *o, size_t struct_size) {
    if (!o || struct_size < sizeof o->struct_size) return FROST_E_INVALID_ARGUMENT;
    memset(o, 0, struct_size);
    o->struct_size = struct_size;
    return FROST_OK;
}

/* The fields of frost_options, in order: a caller's struct_size must not end
 * inside one of them. */
#define OPT_FIELD(f) {offsetof(frost_options, f), sizeof(((frost_options *)0)->f)}
static const struct {
    size_t offset, size;
} option_fields[] = {
    OPT_FIELD(struct_size), OPT_FIELD(inputs),   OPT_FIELD(num_inputs), OPT_FIELD(input_shapes),
    OPT_FIELD(outputs),     OPT_FIELD(num_outputs), OPT_FIELD(max_batch), OPT_FIELD(threads),
    OPT_FIELD(backend),     OPT_FIELD(precision), OPT_FIELD(winograd),   OPT_FIELD(micro_batch),
    OPT_FIELD(profiling),   OPT_FIELD(debug_flags), OPT_FIELD(tune_file),  OPT_FIELD(calibrate_dir),
    OPT_FIELD(calibrate_preprocess),
};
#undef OPT_FIELD

/* Largest struct_size accepted: a larger one is taken for an uninitialised struct. */
#define OPTIONS_MAX_SIZE 1024

/* *out = the caller's options as this library's frost_options: the fields
 * within opt->struct_size copied, every other field its default (zero). */
frost_status fr_options_read(const frost_graph *g, const frost_options *opt, frost_options *out, char **err) {
    memset(out, 0, sizeof *out);
    out->struct_size = sizeof *out;
    if (!opt) return FROST_OK;
    size_t n = opt->struct_size;
    const size_t nfields = sizeof option_fields / sizeof option_fields[0];
    if (n < FROST_OPTIONS_MIN_SIZE || n > OPTIONS_MAX_SIZE) {
        fr_errorf(err, "%s: frost_options.struct_size is %zu, not the size of a frost_options (%zu to %d bytes): "
                       "initialise the options with frost_options_init()", g->source, n, (size_t)FROST_OPTIONS_MIN_SIZE,
                  OPTIONS_MAX_SIZE);
        return FROST_E_INVALID_ARGUMENT;
    }
    for (size_t k = 0; k < nfields; k++)
        if (n > option_fields[k].offset && n < option_fields[k].offset + option_fields[k].size) {
            fr_errorf(err, "%s: frost_options.struct_size %zu ends inside a field: initialise the options with "
                           "frost_options_init()", g->source, n);
            return FROST_E_INVALID_ARGUMENT;
        }
    /* past the last field known here (its padding included: a newer header
     * may put a field there): a newer header's fields, of which only the
     * defaults (zero) are known here */
    const size_t known = option_fields[nfields - 1].offset + option_fields[nfields - 1].size;
    for (size_t k = known; k < n; k++)
        if (((const unsigned char *)opt)[k]) {
            fr_errorf(err, "%s: frost_options sets a field at byte %zu that this libfrost %s does not know (it knows "
                           "%zu bytes)", g->source, k, FROST_VERSION_STRING, known);
            return FROST_E_INVALID_ARGUMENT;
        }
    memcpy(out, opt, n < sizeof *out ? n : sizeof *out);
    out->struct_size = sizeof *out;
    return FROST_OK;
}
