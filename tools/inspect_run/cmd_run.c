/* frost run: feed raw float32 tensors to any graph and write its outputs raw,
 * so a graph can be checked numerically from the shell. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cli.h"
#include "frost.h"
#include "model_flags.h"

static void usage(FILE *out) {
    fprintf(out,
            "usage: frost run MODEL.pb|SAVEDMODEL_DIR --input NAME=FILE.raw [--input ...]\n"
            "                 [--output NAME ...] [--out FILE.raw ...] [options]\n"
            "\n"
            "Compile the model for the given inputs and outputs, run it once on the raw\n"
            "little-endian float32 NHWC data of each input file, and write each output\n"
            "raw (little-endian float32, batch x the output's shape) to the matching --out\n"
            "file (the first --out gets the first --output, and so on).  The batch is\n"
            "taken from --batch, from --shape's first dimension or from the input file\n"
            "size.  A short summary of every output is printed (unless --quiet).\n"
            "For a SavedModel, NAME may also be a key of the signature (\"x\", \"output_0\").\n"
            "\n"
            "options:\n"
            "  --input NAME=FILE     input tensor and its data (repeatable); FILE alone\n"
            "                        when the model has one input\n"
            "  --out FILE            where to write an output (repeatable, one per output)\n"
            "  --quiet               no summary\n"
            "%s%s"
            "\n"
            "example:\n"
            "  frost run mobilenet.pb --input input=img.f32 --output MobilenetV1/Predictions/Reshape_1 \\\n"
            "            --out probs.f32 --shape 1,128,128,3\n"
            "\n"
            "exit status: 0 ok, 1 load, compile, run or I/O failure, 2 usage error\n",
            mf_help_compile, model_source_help);
}

static int host_is_big_endian(void) {
    const uint16_t one = 1;
    return *(const uint8_t *)&one == 0;
}

static void swap32(float *v, size_t n) {
    for (size_t k = 0; k < n; k++) {
        uint32_t u;
        memcpy(&u, &v[k], 4);
        u = (u >> 24) | ((u >> 8) & 0xff00u) | ((u << 8) & 0xff0000u) | (u << 24);
        memcpy(&v[k], &u, 4);
    }
}

/* Reads a whole raw float32 file; *count_out elements.  NULL on error (printed). */
static float *read_raw(const char *path, size_t *count_out) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "frost run: cannot open %s: %s\n", path, strerror(errno));
        return NULL;
    }
    float *buf = NULL;
    long size = -1;
    if (fseek(f, 0, SEEK_END) == 0) size = ftell(f);
    if (size < 0 || fseek(f, 0, SEEK_SET) != 0) {
        fprintf(stderr, "frost run: cannot read %s: %s\n", path, strerror(errno));
        goto fail;
    }
    if (size == 0 || size % 4 != 0) {
        fprintf(stderr, "frost run: %s: %ld bytes is not a non-empty float32 array (a multiple of 4)\n", path,
                size);
        goto fail;
    }
    buf = malloc((size_t)size);
    if (!buf || fread(buf, 1, (size_t)size, f) != (size_t)size) {
        fprintf(stderr, "frost run: cannot read %s\n", path);
        goto fail;
    }
    fclose(f);
    if (host_is_big_endian()) swap32(buf, (size_t)size / 4);
    *count_out = (size_t)size / 4;
    return buf;
fail:
    free(buf);
    fclose(f);
    return NULL;
}

static int write_raw(const char *path, float *data, size_t count) {
    FILE *f = fopen(path, "wb");
    if (!f) {
        fprintf(stderr, "frost run: cannot create %s: %s\n", path, strerror(errno));
        return -1;
    }
    if (host_is_big_endian()) swap32(data, count);
    size_t w = fwrite(data, 4, count, f);
    if (host_is_big_endian()) swap32(data, count);
    if (fclose(f) != 0 || w != count) {
        fprintf(stderr, "frost run: cannot write %s\n", path);
        return -1;
    }
    return 0;
}

/* Same tensor name, ignoring a trailing ":0". */
static int same_tensor(const char *a, const char *b) {
    size_t la = strlen(a), lb = strlen(b);
    if (la > 2 && !strcmp(a + la - 2, ":0")) la -= 2;
    if (lb > 2 && !strcmp(b + lb - 2, ":0")) lb -= 2;
    return la == lb && !strncmp(a, b, la);
}

static void summarize(const char *name, const frost_shape *shape, int batch, const float *v, size_t n) {
    char sb[256];
    frost_shape s = *shape;
    if (s.rank > 0 && s.dims[0] < 0) s.dims[0] = batch;
    double sum = 0, mn = INFINITY, mx = -INFINITY;
    size_t arg = 0, nonfinite = 0;
    for (size_t k = 0; k < n; k++) {
        if (!isfinite(v[k])) {
            nonfinite++;
            continue;
        }
        sum += v[k];
        if (v[k] < mn) mn = v[k];
        if (v[k] > mx) {
            mx = v[k];
            arg = k;
        }
    }
    printf("%s %s: min %.6g max %.6g mean %.6g argmax %zu", name, mf_shape_str(&s, sb, sizeof sb), mn, mx,
           n ? sum / (double)n : 0.0, arg);
    if (nonfinite) printf(" (%zu non-finite values)", nonfinite);
    printf("\n");
}

int frost_cmd_run(int argc, char **argv) {
    model_flags mf;
    mf_init(&mf);
    const char *path = NULL;
    int quiet = 0;
    const mf_switch own[] = {{"quiet", &quiet, NULL}};
    int rc = mf_command_line(&mf, "run", argc, argv, 1, own, 1, usage, &path);
    if (rc >= 0) return rc;
    if (mf.num_inputs == 0) {
        fprintf(stderr, "frost run: at least one --input NAME=FILE is needed\n\n");
        usage(stderr);
        return 2;
    }
    if (mf.num_outs && mf.num_outputs && mf.num_outs != mf.num_outputs) {
        fprintf(stderr, "frost run: %d --out for %d --output: give one file per output\n", mf.num_outs,
                mf.num_outputs);
        return 2;
    }
    frost_options opt;
    frost_options_init(&opt);
    if (mf_options(&mf, &opt)) return 2;

    rc = 1;
    char *err = NULL;
    frost_graph *g = NULL;
    frost_model *m = NULL;
    frost_context *ctx = NULL;
    float *in_data[MF_MAX_TENSORS] = {0};
    size_t in_count[MF_MAX_TENSORS] = {0};
    const float *ins[MF_MAX_TENSORS] = {0};
    float *outs[MF_MAX_TENSORS] = {0};

    for (int k = 0; k < mf.num_inputs; k++)
        if (!(in_data[k] = read_raw(mf.files[k], &in_count[k]))) goto done;

    frost_status st = model_source_load(&mf.source, path, &g, &err);
    if (st != FROST_OK) goto fail;
    if (mf_signature_keys(&mf, path, g)) goto done;
    st = frost_model_compile(g, &opt, &m, &err);
    if (st != FROST_OK) goto fail;
    engine_flags_note(&mf.engine, m);

    /* Pair every model input with a file; find the batch. */
    int nin = frost_model_input_count(m), nout = frost_model_output_count(m);
    if (nin != mf.num_inputs || (mf.inputs[0] == NULL && nin != 1)) {
        fprintf(stderr, "frost run: the model has %d input%s; %d --input given%s\n", nin, nin == 1 ? "" : "s",
                mf.num_inputs, mf.inputs[0] == NULL && nin != 1 ? " without names" : "");
        for (int k = 0; k < nin; k++) fprintf(stderr, "  input %s\n", frost_model_input_name(m, k));
        goto done;
    }
    if (mf.num_outs && mf.num_outs != nout) {
        fprintf(stderr, "frost run: the model has %d outputs; %d --out given\n", nout, mf.num_outs);
        goto done;
    }
    int batch = mf.batch;
    for (int k = 0; k < mf.num_shapes && !batch; k++)
        if (mf.shapes[k].dims[0] > 0) batch = (int)mf.shapes[k].dims[0];
    for (int k = 0; k < nin; k++) {
        int f = 0;
        if (mf.inputs[0]) {
            for (f = 0; f < mf.num_inputs; f++)
                if (same_tensor(mf.inputs[f], frost_model_input_name(m, k))) break;
            if (f == mf.num_inputs) {
                fprintf(stderr, "frost run: no --input for the model's input %s\n", frost_model_input_name(m, k));
                goto done;
            }
        }
        size_t item = frost_model_input_size(m, k);
        if (item == 0 || in_count[f] % item != 0 || (batch && in_count[f] != item * (size_t)batch)) {
            char sb[256];
            frost_shape s;
            frost_model_input_shape(m, k, &s);
            fprintf(stderr, "frost run: %s has %zu floats; input %s %s needs %s%zu per batch item\n", mf.files[f],
                    in_count[f], frost_model_input_name(m, k), mf_shape_str(&s, sb, sizeof sb),
                    batch ? "exactly batch x " : "a multiple of ", item);
            goto done;
        }
        if (!batch) batch = (int)(in_count[f] / item);
        ins[k] = in_data[f];
    }
    if (batch > frost_model_max_batch(m)) { /* recompile for the larger batch */
        frost_model_free(m);
        m = NULL;
        opt.max_batch = batch;
        st = frost_model_compile(g, &opt, &m, &err);
        if (st != FROST_OK) goto fail;
    }
    for (int k = 0; k < nout; k++) {
        size_t n = frost_model_output_size(m, k) * (size_t)batch;
        if (!(outs[k] = malloc((n ? n : 1) * sizeof(float)))) {
            fprintf(stderr, "frost run: out of memory\n");
            goto done;
        }
    }
    st = frost_context_create(m, &ctx, &err);
    if (st != FROST_OK) goto fail;
    st = frost_context_run(ctx, batch, ins, outs);
    if (st != FROST_OK) {
        fprintf(stderr, "frost run: %s: %s\n", frost_strerror(st), frost_context_error(ctx));
        goto done;
    }
    for (int k = 0; k < nout; k++) {
        size_t n = frost_model_output_size(m, k) * (size_t)batch;
        if (!quiet) {
            frost_shape s;
            frost_model_output_shape(m, k, &s);
            summarize(frost_model_output_name(m, k), &s, batch, outs[k], n);
        }
        if (k < mf.num_outs && write_raw(mf.outs[k], outs[k], n)) goto done;
    }
    rc = 0;
    goto done;
fail:
    fprintf(stderr, "frost run: %s: %s\n", frost_strerror(st), err ? err : path);
done:
    frost_free(err);
    frost_context_free(ctx);
    frost_model_free(m);
    frost_graph_free(g);
    for (int k = 0; k < MF_MAX_TENSORS; k++) {
        free(in_data[k]);
        free(outs[k]);
    }
    return rc;
}
