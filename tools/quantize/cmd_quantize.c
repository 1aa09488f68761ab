/* frost quantize: post-training static quantization of a frozen graph,
 * calibrated on a directory of images (thin over frost_quantizer, frost.h:
 * frost_quantizer_observe_dir decodes and preprocesses them as classify does,
 * with classify's image flags). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cli.h"
#include "common/engine_flags.h"
#include "common/image_flags.h"
#include "frost.h"

#define Q_BATCH 8 /* as frost_quantize_graph (frost_options.calibrate_dir): the same graph, to the bit */

static const char usage_text[] =
    "usage: frost quantize MODEL.pb --calibrate DIR [options] [-o OUT.pb]\n"
    "\n"
    "Post-training static quantization: run the float model over the images in\n"
    "DIR (decoded and preprocessed as 'frost classify' does, with its flags),\n"
    "record the range of every activation, and write a standard TensorFlow\n"
    "graph: convolution and matmul weights stored as int8 with float scales\n"
    "(dequantized by Cast + Mul), activation ranges as FakeQuantWithMinMaxVars\n"
    "nodes around convolutions, matmuls, pooling and concatenation.  TensorFlow\n"
    "and frost run it in float with 8-bit quantization semantics (docs/int8.md).\n"
    "Calibrate on images that are not in your test set.\n"
    "\n"
    "  --calibrate DIR       calibration images (walked recursively, sorted by name;\n"
    "                        files that are not images are skipped)\n"
    "  --images N            use the first N images only (default: all)\n"
    "  --per_tensor          one weight scale per tensor (default: per output channel;\n"
    "                        --per_channel is accepted)\n"
    "  --augment             observe each image's mirror image and three 3/4 crops\n"
    "                        too: five views an image (default: the image alone)\n"
    "  --int8_input_layer    quantize the layer that reads the model's input too\n"
    "                        (default: it stays float, its input without FakeQuant)\n"
    "  --method M            minmax (default) | percentile (the 0.01th and 99.99th\n"
    "                        percentiles of each batch, averaged)\n"
    "  -o, --output FILE     the quantized graph (default: MODEL_int8.pb)\n"
    "  --graph FILE          the model, instead of the first argument\n"
    "\n"
    "image flags (as frost classify): --input_layer, --output_layer,\n"
    "  --input_width, --input_height, --input_mean (default 0), --input_std\n"
    "  (default 255), --resize tf1|tf2|align_corners\n"
    "engine flags: --threads N, --backend auto|reference|onednn\n"
    "\n"
    "example (the README's nsfwjs Inception v3):\n"
    "  frost quantize models/nsfw_inception_v3.pb --calibrate calib/ \\\n"
    "      --resize align_corners --input_mean 0 --input_std 255 -o nsfw_int8.pb\n";

typedef struct {
    const char *graph, *calibrate, *output;
    int images, per_tensor, augment, int8_input, percentile;
    image_flags image;
    engine_flags engine;
} q_flags;

static int parse_flags(q_flags *f, int argc, char **argv) {
    memset(f, 0, sizeof *f);
    image_flags_init(&f->image);
    engine_flags_init(&f->engine);
    for (int i = 1; i < argc;) {
        const char *a = argv[i], *v = NULL;
        int r = 0, sw = 0;
        if (a[0] != '-') {
            if (f->graph) {
                fprintf(stderr, "frost quantize: one model only ('%s' and '%s')\n", f->graph, a);
                return 2;
            }
            f->graph = a;
            i++;
            continue;
        }
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            fputs(usage_text, stdout);
            return -1;
        }
#define FLAG(name) ((r = cli_flag(argc, argv, &i, name, &v)) != 0)
        if (FLAG("graph")) f->graph = v;
        else if (FLAG("calibrate")) f->calibrate = v;
        else if (FLAG("o") || FLAG("output")) f->output = v;
        else if (FLAG("images")) r = r < 0 ? r : cli_parse_int("images", v, 1, 1 << 30, &f->images) ? -1 : 1;
        else if ((r = cli_switch(argc, argv, &i, "per_channel", &sw)) != 0 ||
                 (r = cli_switch(argc, argv, &i, "per-channel", &sw)) != 0)
            f->per_tensor = !(r > 0 && sw);
        else if ((r = cli_switch(argc, argv, &i, "per_tensor", &sw)) != 0 ||
                 (r = cli_switch(argc, argv, &i, "per-tensor", &sw)) != 0)
            f->per_tensor = r > 0 && sw;
        else if ((r = cli_switch(argc, argv, &i, "int8_input_layer", &sw)) != 0)
            f->int8_input = r > 0 && sw;
        else if ((r = cli_switch(argc, argv, &i, "augment", &sw)) != 0)
            f->augment = r > 0 && sw;
        else if (FLAG("method")) {
            static const char *const names[] = {"minmax", "percentile"};
            r = r < 0 ? r : cli_parse_choice("method", v, names, 2, &f->percentile) ? -1 : 1;
        } else if ((r = image_flags_parse(&f->image, argc, argv, &i)) != 0) {
        } else if ((r = engine_flags_parse(&f->engine, EF_THREADS | EF_BACKEND, argc, argv, &i)) != 0) {
        } else {
            fprintf(stderr, "frost quantize: unknown flag '%s' (see frost quantize --help)\n", a);
            return 2;
        }
#undef FLAG
        if (r < 0) return 2;
    }
    if (!f->graph || !f->calibrate) {
        fprintf(stderr, "frost quantize: %s (see frost quantize --help)\n",
                !f->graph ? "which model? (MODEL.pb)" : "--calibrate DIR is required");
        return 2;
    }
    return image_flags_check(&f->image) ? 2 : 0;
}

static char *default_output(const char *graph) {
    size_t n = strlen(graph);
    if (n > 3 && !strcmp(graph + n - 3, ".pb")) n -= 3;
    char *s = malloc(n + 10);
    if (s) snprintf(s, n + 10, "%.*s_int8.pb", (int)n, graph);
    return s;
}

int frost_cmd_quantize(int argc, char **argv) {
    q_flags f;
    int rc = parse_flags(&f, argc, argv);
    if (rc) return rc < 0 ? 0 : rc;
    frost_graph *g = NULL;
    frost_quantizer *q = NULL;
    char *err = NULL, *out_path = f.output ? NULL : default_output(f.graph);
    const char *out = f.output ? f.output : out_path;
    void *pb = NULL;
    size_t len = 0;
    int status = 1;
    if (!out) goto done;
    if (frost_graph_load(f.graph, &g, &err) != FROST_OK) {
        fprintf(stderr, "frost: %s\n", err ? err : "cannot load the graph");
        goto done;
    }
    const char *input, *output;
    frost_shape shape;
    int needs_shape;
    if (image_flags_choose(&f.image, g, f.graph, &input, &output, &shape, &needs_shape)) goto done;
    frost_options opt;
    frost_options_init(&opt);
    opt.inputs = &input;
    opt.num_inputs = 1;
    opt.outputs = &output;
    opt.num_outputs = 1;
    if (needs_shape) opt.input_shapes = &shape;
    engine_flags_apply(&f.engine, &opt);
    opt.max_batch = Q_BATCH;
    unsigned flags = FROST_QUANTIZE_DEFAULT | (f.percentile ? FROST_QUANTIZE_PERCENTILE : 0u);
    if (f.per_tensor) flags &= ~FROST_QUANTIZE_PER_CHANNEL;
    if (f.augment) flags |= FROST_QUANTIZE_AUGMENT;
    if (f.int8_input) flags &= ~FROST_QUANTIZE_FLOAT_INPUT_LAYER;
    if (frost_quantizer_create(g, &opt, flags, &q, &err) != FROST_OK) {
        fprintf(stderr, "frost: %s\n", err ? err : "cannot prepare the quantization");
        goto done;
    }
    frost_preprocess pp;
    int used = 0;
    if (image_flags_preprocess(&f.image, frost_quantizer_model(q), &pp)) goto done;
    if (frost_quantizer_observe_dir(q, f.calibrate, &pp, f.images, &used, &err) != FROST_OK) {
        fprintf(stderr, "frost: %s\n", err ? err : "calibration failed");
        goto done;
    }
    if (frost_quantizer_graphdef(q, &pb, &len, &err) != FROST_OK) {
        fprintf(stderr, "frost: %s\n", err ? err : "cannot write the quantized graph");
        goto done;
    }
    FILE *fp = fopen(out, "wb");
    if (!fp || fwrite(pb, 1, len, fp) != len || fclose(fp) != 0) {
        if (fp) fclose(fp);
        fprintf(stderr, "frost: cannot write %s\n", out);
        goto done;
    }
    int nw = 0, na = 0;
    frost_quantizer_summary(q, &nw, &na, NULL);
    fprintf(stderr, "frost: %s: %d weight tensors int8 (%s), %d activations with FakeQuant ranges (%s) from %d images%s -> %s\n",
            f.graph, nw, f.per_tensor ? "per tensor" : "per channel", na, f.percentile ? "percentile" : "min/max", used,
            f.augment ? " (5 views each)" : "", out);
    status = 0;
done:
    frost_free(err);
    frost_free(pb);
    frost_quantizer_free(q);
    frost_graph_free(g);
    free(out_path);
    return status;
}
