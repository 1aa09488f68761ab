#include "model_flags.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cli.h"

const char mf_help_compile[] =
    "  --input NAME          input tensor (repeatable; default: the Placeholders\n"
    "                        the outputs depend on)\n"
    "  --output NAME         output tensor, \"node\" or \"node:N\" (repeatable;\n"
    "                        default: the graph's sinks)\n"
    "  --shape D0,D1,...     shape of the input (repeat once per --input, in\n"
    "                        order); needed when a Placeholder has unknown\n"
    "                        non-batch dimensions; D0 is the batch\n"
    "  --batch N             batch size (default: from --shape or the data)\n"
    "  --backend B           reference | onednn | auto (default auto)\n"
    "  --threads N           compute threads (default: the number of cores)\n"
    "  --wait-policy P       idle threads: auto (a brief spin unless OMP_WAIT_POLICY /\n"
    "                        GOMP_SPINCOUNT is set), passive (sleep), active (spin)\n"
    "  --no-optimize         no constant folding, batch-norm folding or fusion\n"
    "  --winograd            larger Winograd tiles: 3x3, 5x5, 1x3, 3x1 layers\n"
    "                        (faster, ~1e-5 relative difference)\n"
    "  --no-winograd         every convolution direct (by default 3x3, 1x7 and 7x1\n"
    "                        layers run Winograd kernels, within 1e-4)\n"
    "  --tune_file F         the tuning record F (frost tune); by default the one\n"
    "                        for this model, CPU and --threads in ~/.cache/frost\n"
    "  --no_tune             no tuning record: the built-in kernel rules\n"
    "  --verbose             say which tuning record was used, or why not\n"
    "  --onednn-only         oneDNN's primitives only, not frost's indirect-GEMM\n"
    "                        convolution and pooling kernels (to compare kernels)\n"
    "  --precision P         fp32 (default) | bf16 (where the CPU has AVX512-BF16) |\n"
    "                        int8 (graphs with FakeQuant ops, docs/int8.md)\n"
    "  --calibrate DIR       with --precision int8: quantize a plain graph at load time\n"
    "                        ('frost quantize' in memory; images: mean 0, std 255)\n"
    "  --micro-batch N       items per pass of the network: larger batches run in\n"
    "                        passes of N (default 0: chosen for the model; -1: none)\n";

void mf_init(model_flags *mf) {
    memset(mf, 0, sizeof *mf);
    engine_flags_init(&mf->engine);
}

int mf_parse_shape(const char *s, frost_shape *shape) {
    memset(shape, 0, sizeof *shape);
    const char *p = s;
    while (*p) {
        char *end;
        errno = 0;
        long long v = strtoll(p, &end, 10);
        if (errno || end == p || v < -1 || v == 0 || shape->rank == FROST_MAX_RANK || (*end && *end != ',')) {
            fprintf(stderr, "frost: --shape: '%s' is not a list of positive dimensions like 1,299,299,3\n", s);
            return -1;
        }
        shape->dims[shape->rank++] = v;
        p = *end ? end + 1 : end;
    }
    if (shape->rank == 0) {
        fprintf(stderr, "frost: --shape: empty shape\n");
        return -1;
    }
    return 0;
}

const char *mf_shape_str(const frost_shape *shape, char *buf, size_t size) {
    if (shape->rank < 0) {
        snprintf(buf, size, "[?]");
        return buf;
    }
    size_t n = 0;
    n += (size_t)snprintf(buf + n, size - n, "[");
    for (int d = 0; d < shape->rank && n < size; d++)
        n += (size_t)snprintf(buf + n, size - n, "%s%lld", d ? "," : "", (long long)shape->dims[d]);
    if (n < size) snprintf(buf + n, size - n, "]");
    return buf;
}

/* A copy of s[0..len) in mf->store; NULL (message printed) when too long or too many. */
static const char *store_name(model_flags *mf, const char *flag, const char *s, size_t len) {
    if (len == 0 || len >= sizeof mf->store[0] || mf->n_store == 2 * MF_MAX_TENSORS) {
        fprintf(stderr, "frost: --%s: '%.*s' is empty, too long, or one name too many\n", flag, (int)len, s);
        return NULL;
    }
    char *copy = mf->store[mf->n_store++];
    memcpy(copy, s, len);
    copy[len] = '\0';
    return copy;
}

/* Appends the comma-separated names of `list` to names[]; -1 on error. */
static int add_names(model_flags *mf, const char *flag, const char *list, const char **names, int *count) {
    const char *p = list;
    do {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        if (*count == MF_MAX_TENSORS) {
            fprintf(stderr, "frost: --%s: at most %d\n", flag, MF_MAX_TENSORS);
            return -1;
        }
        if (!(names[*count] = store_name(mf, flag, p, len))) return -1;
        (*count)++;
        p = comma ? comma + 1 : NULL;
    } while (p);
    return 0;
}

int mf_parse(model_flags *mf, int argc, char **argv, int *i, int with_files) {
    const char *v;
    int r;
    if ((r = cli_flag(argc, argv, i, "input", &v)) != 0) {
        if (r < 0) return -1;
        if (!with_files) return add_names(mf, "input", v, mf->inputs, &mf->num_inputs) ? -1 : 1;
        if (mf->num_inputs == MF_MAX_TENSORS) {
            fprintf(stderr, "frost: --input: at most %d\n", MF_MAX_TENSORS);
            return -1;
        }
        const char *eq = strchr(v, '=');
        int k = mf->num_inputs++;
        if (!eq) { /* FILE alone: the model's only input */
            mf->inputs[k] = NULL;
            mf->files[k] = v;
        } else {
            if (eq == v || !eq[1]) {
                fprintf(stderr, "frost: --input: '%s' is not NAME=FILE\n", v);
                return -1;
            }
            if (!(mf->inputs[k] = store_name(mf, "input", v, (size_t)(eq - v)))) return -1;
            mf->files[k] = eq + 1;
        }
        return 1;
    }
    if ((r = cli_flag(argc, argv, i, "output", &v)) != 0)
        return r < 0 ? -1 : add_names(mf, "output", v, mf->outputs, &mf->num_outputs) ? -1 : 1;
    if (with_files && (r = cli_flag(argc, argv, i, "out", &v)) != 0) {
        if (r < 0) return -1;
        if (mf->num_outs == MF_MAX_TENSORS) {
            fprintf(stderr, "frost: --out: at most %d\n", MF_MAX_TENSORS);
            return -1;
        }
        mf->outs[mf->num_outs++] = v;
        return 1;
    }
    if ((r = cli_flag(argc, argv, i, "shape", &v)) != 0) {
        if (r < 0) return -1;
        if (mf->num_shapes == MF_MAX_TENSORS) {
            fprintf(stderr, "frost: --shape: at most %d\n", MF_MAX_TENSORS);
            return -1;
        }
        return mf_parse_shape(v, &mf->shapes[mf->num_shapes++]) ? -1 : 1;
    }
    if ((r = cli_flag(argc, argv, i, "batch", &v)) != 0)
        return r < 0 || cli_parse_int("batch", v, 1, 1 << 20, &mf->batch) ? -1 : 1;
    if ((r = model_source_parse(&mf->source, argc, argv, i)) != 0) return r;
    return engine_flags_parse(&mf->engine, EF_ALL, argc, argv, i);
}

int mf_command_line(model_flags *mf, const char *name, int argc, char **argv, int with_files, const mf_switch *sw,
                    int nsw, void (*usage)(FILE *), const char **path_out) {
    const char *path = NULL;
    for (int i = 1; i < argc;) {
        int r = 0;
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage(stdout);
            return 0;
        }
        for (int k = 0; k < nsw && !r; k++)
            r = sw[k].text ? cli_flag(argc, argv, &i, sw[k].name, sw[k].text)
                           : cli_switch(argc, argv, &i, sw[k].name, sw[k].value);
        if (r || (r = mf_parse(mf, argc, argv, &i, with_files)) != 0) {
            if (r < 0) return 2;
            continue;
        }
        if (argv[i][0] == '-' || path) {
            fprintf(stderr, "frost %s: unexpected argument '%s'\n\n", name, argv[i]);
            usage(stderr);
            return 2;
        }
        path = argv[i++];
    }
    if (!path) {
        usage(stderr);
        return 2;
    }
    *path_out = path;
    return -1;
}

int mf_options(const model_flags *mf, frost_options *opt) {
    int named = mf->num_inputs > 0 && mf->inputs[0] != NULL;
    if (mf->num_shapes && named && mf->num_shapes != mf->num_inputs) {
        fprintf(stderr, "frost: %d --shape for %d --input: give one shape per input, in order\n", mf->num_shapes,
                mf->num_inputs);
        return -1;
    }
    for (int k = 0; k < mf->num_inputs; k++)
        if ((mf->inputs[k] == NULL) != !named) {
            fprintf(stderr, "frost: --input: name every input (NAME=FILE) when there are several\n");
            return -1;
        }
    if (named) {
        opt->inputs = mf->inputs;
        opt->num_inputs = mf->num_inputs;
    }
    if (mf->num_shapes) opt->input_shapes = mf->shapes;
    if (mf->num_outputs) {
        opt->outputs = mf->outputs;
        opt->num_outputs = mf->num_outputs;
    }
    int batch = mf->batch;
    for (int k = 0; k < mf->num_shapes; k++)
        if (mf->shapes[k].dims[0] > batch) batch = (int)mf->shapes[k].dims[0];
    if (batch > 0) opt->max_batch = batch;
    engine_flags_apply(&mf->engine, opt);
    return 0;
}

/* For a SavedModel: --input / --output names that are keys of the loaded
 * signature ("x", "output_0") become the graph's tensors, as
 * saved_model_cli run takes keys.  The graph's Placeholders and sinks are
 * the signature's inputs and outputs in key order (frost_savedmodel_graph). */
int mf_signature_keys(model_flags *mf, const char *path, const frost_graph *g) {
    if (!frost_path_is_savedmodel(path) || (!mf->num_inputs && !mf->num_outputs)) return 0;
    frost_savedmodel *sm = NULL;
    char *err = NULL;
    int m, s, rc = 0;
    if (frost_savedmodel_open(path, &sm, &err) != FROST_OK || model_source_find(&mf->source, sm, &m, &s, &err)) {
        fprintf(stderr, "frost: %s\n", err ? err : path);
        rc = -1;
    }
    for (int k = 0; !rc && k < mf->num_inputs; k++)
        for (int i = 0; mf->inputs[k] && i < frost_savedmodel_signature_input_count(sm, m, s); i++) {
            frost_tensor_info t;
            if (frost_savedmodel_signature_input(sm, m, s, i, &t) == FROST_OK && !strcmp(t.key, mf->inputs[k]) &&
                i < frost_graph_placeholder_count(g)) {
                mf->inputs[k] = frost_graph_placeholder_name(g, i);
                break;
            }
        }
    for (int k = 0; !rc && k < mf->num_outputs; k++)
        for (int i = 0; i < frost_savedmodel_signature_output_count(sm, m, s); i++) {
            frost_tensor_info t;
            if (frost_savedmodel_signature_output(sm, m, s, i, &t) == FROST_OK && !strcmp(t.key, mf->outputs[k]) &&
                i < frost_graph_sink_count(g)) {
                mf->outputs[k] = frost_graph_sink_name(g, i);
                break;
            }
        }
    frost_free(err);
    frost_savedmodel_free(sm);
    return rc;
}
