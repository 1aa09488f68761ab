/* The image flags of the commands that feed a model images (image_flags.h). */
#include "common/image_flags.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "common/cli.h"

void image_flags_init(image_flags *f) {
    memset(f, 0, sizeof *f);
    f->mean = 0.0f;
    f->std = 255.0f;
    f->resize = FROST_RESIZE_TF1;
}

/* The preprocessing flags, in the order of the image_flags.given bits. */
static const char *const preprocessing_names[] = {"input_width", "input_height", "input_mean", "input_std", "resize"};

int image_flags_parse(image_flags *f, int argc, char **argv, int *i) {
    const char *v = NULL;
    int r, which = -1;
#define FLAG(name) ((r = cli_flag(argc, argv, i, name, &v)) != 0)
    if (FLAG("input_layer")) f->input_layer = v;
    else if (FLAG("output_layer")) f->output_layer = v;
    else if (FLAG("input_width")) {
        which = 0;
        r = r < 0 ? r : cli_parse_int("input_width", v, 1, 1 << 20, &f->width) ? -1 : 1;
    } else if (FLAG("input_height")) {
        which = 1;
        r = r < 0 ? r : cli_parse_int("input_height", v, 1, 1 << 20, &f->height) ? -1 : 1;
    } else if (FLAG("input_mean")) {
        which = 2;
        r = r < 0 ? r : cli_parse_float("input_mean", v, &f->mean) ? -1 : 1;
    } else if (FLAG("input_std")) {
        which = 3;
        r = r < 0 ? r : cli_parse_float("input_std", v, &f->std) ? -1 : 1;
    } else if (FLAG("resize")) {
        which = 4;
        r = r < 0 ? r : cli_parse_resize(v, &f->resize) ? -1 : 1;
    }
#undef FLAG
    if (r > 0 && which >= 0) f->given |= 1u << which;
    return r;
}

void image_flags_given_names(const image_flags *f, char *buf, size_t size) {
    size_t n = strlen(buf);
    for (int i = 0; i < (int)(sizeof preprocessing_names / sizeof *preprocessing_names) && n < size; i++)
        if (f->given & (1u << i))
            n += (size_t)snprintf(buf + n, size - n, "%s--%s", n ? ", " : "", preprocessing_names[i]);
}

int image_flags_check(const image_flags *f) {
    if (f->std == 0.0f || !isfinite(f->std) || !isfinite(f->mean)) {
        fprintf(stderr, "frost: --input_std must be a non-zero number\n");
        return -1;
    }
    return 0;
}

int image_flags_choose(const image_flags *f, const frost_graph *g, const char *path, const char **input,
                       const char **output, frost_shape *shape, int *needs_shape) {
    frost_image_spec spec;
    char *err = NULL;
    frost_status st = frost_graph_image_spec(g, f->input_layer, f->width, f->height, &spec, &err);
    if (st != FROST_OK) {
        fprintf(stderr, "frost: --input_width/--input_height: %s\n", err ? err : frost_strerror(st));
        frost_free(err);
        return -1;
    }
    *input = spec.input_name;
    *output = f->output_layer ? f->output_layer : spec.output_name;
    if (!*input || !*output) {
        int n = *input ? frost_graph_sink_count(g) : frost_graph_placeholder_count(g);
        fprintf(stderr, "frost: %s has %d %s; choose one with --%s:", path, n,
                *input ? "candidate outputs" : "Placeholders", *input ? "output_layer" : "input_layer");
        for (int i = 0; i < n; i++)
            fprintf(stderr, " %s", *input ? frost_graph_sink_name(g, i) : frost_graph_placeholder_name(g, i));
        if (!*input && n == 0) /* a TF-for-Poets graph: fed at a string Const */
            fprintf(stderr, " (none; a graph fed encoded images at a Const, as TensorFlow for Poets' "
                            "DecodeJpeg/contents, takes --input_layer=DecodeJpeg/contents)");
        fputc('\n', stderr);
        return -1;
    }
    *shape = spec.shape;
    *needs_shape = spec.needs_shape;
    return 0;
}

int image_flags_preprocess(const image_flags *f, const frost_model *m, frost_preprocess *pp) {
    frost_image_spec spec;
    char *err = NULL;
    frost_status st = frost_model_image_spec(m, &spec, &err);
    if (st != FROST_OK) {
        fprintf(stderr, "frost: %s\n", err ? err : frost_strerror(st));
        frost_free(err);
        return -1;
    }
    pp->height = spec.height;
    pp->width = spec.width;
    pp->mean = f->mean;
    pp->std = f->std;
    pp->resize = f->resize;
    return 0;
}
