/* frost convert: a TensorFlow.js model (model.json + weight shards) to a
 * binary frozen GraphDef that frost (and TensorFlow) loads. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cli.h"
#include "common/model_source.h"
#include "convert.h"
#include "frost.h"

static void usage(FILE *out) {
    fprintf(out,
            "usage: frost convert MODEL.json -o OUT.pb [--labels OUT.txt --class-names A,B,...]\n"
            "                     [--flatten keras|reshape] [--no-check] [--quiet]\n"
            "       frost convert SAVEDMODEL_DIR -o OUT.pb [--signature KEY] [--tag_set TAGS]\n"
            "                     [--labels OUT.txt --class-names A,B,...] [--no-check] [--quiet]\n"
            "\n"
            "Convert a TensorFlow.js layers model (Keras topology) or graph model to a\n"
            "frozen TensorFlow GraphDef of standard ops.  Quantized weights (uint8,\n"
            "uint16, float16) are dequantized to float32.\n"
            "\n"
            "A SavedModel's signature is frozen as frost loads it: the signature's inputs\n"
            "become Placeholders, its outputs the sinks, each variable a Const holding the\n"
            "checkpoint's value, functions inlined, everything else left out.\n"
            "\n"
            "%s"
            "  -o, --output FILE     the .pb to write\n"
            "  --labels FILE         also write a labels file (one class name a line)\n"
            "  --class-names LIST    comma-separated class names for --labels (default:\n"
            "                        the model's userDefinedMetadata classNames / labels)\n"
            "  --flatten keras       Flatten as Keras' batch_flatten (Shape, StridedSlice,\n"
            "                        Prod, Pack, Reshape; the default)\n"
            "  --flatten reshape     Flatten as one Reshape to a constant [-1, N]\n"
            "  --no-check            do not check that frost can load the result\n"
            "  -q, --quiet           print nothing on success\n",
            model_source_help);
}

static int write_file(const char *path, const void *data, size_t size) {
    size_t n = strlen(path) + 16;
    char *tmp = malloc(n);
    if (!tmp) return -1;
    snprintf(tmp, n, "%s.tmp", path);
    FILE *f = fopen(tmp, "wb");
    int ok = f && fwrite(data, 1, size, f) == size;
    if (f && fclose(f)) ok = 0;
    if (ok && rename(tmp, path)) ok = 0;
    if (!ok) {
        fprintf(stderr, "frost convert: cannot write %s: %s\n", path, strerror(errno));
        remove(tmp);
    }
    free(tmp);
    return ok ? 0 : -1;
}

/* Class names from --class-names, else userDefinedMetadata.{classNames,labels,class_names}. */
static int write_labels(const char *path, const char *list, json_t *model) {
    fr_pbw out;
    fr_pbw_init(&out);
    int count = 0;
    if (list) {
        for (const char *p = list; *p;) {
            const char *e = strchr(p, ',');
            size_t n = e ? (size_t)(e - p) : strlen(p);
            fr_pbw_raw(&out, p, n);
            fr_pbw_raw(&out, "\n", 1);
            count++;
            p += n + (e ? 1 : 0);
        }
    } else {
        json_t *meta = json_object_get(model, "userDefinedMetadata");
        static const char *const keys[] = {"classNames", "labels", "class_names", NULL};
        json_t *names = NULL;
        for (int i = 0; keys[i] && !json_is_array(names); i++) names = json_object_get(meta, keys[i]);
        for (size_t i = 0; i < json_array_size(names); i++) {
            const char *s = json_string_value(json_array_get(names, i));
            if (!s) continue;
            fr_pbw_raw(&out, s, strlen(s));
            fr_pbw_raw(&out, "\n", 1);
            count++;
        }
    }
    if (!count) {
        fprintf(stderr, "frost convert: --labels: the model names no classes; give them with --class-names A,B,...\n");
        fr_pbw_free(&out);
        return -1;
    }
    int rc = out.failed ? -1 : write_file(path, out.data, out.len);
    fr_pbw_free(&out);
    return rc;
}

/* Checks that frost loads the GraphDef (every op supported): 0, or -1
 * (message printed). */
static int check_loads(const void *pb, size_t len, frost_graph **g_out) {
    frost_graph *g = NULL;
    char *err = NULL;
    frost_status st = frost_graph_load_memory(pb, len, 0, &g, &err);
    if (st != FROST_OK) {
        fprintf(stderr, "frost convert: the converted graph does not load in frost: %s\n",
                err ? err : frost_strerror(st));
        fprintf(stderr, "frost convert: (nothing written; --no-check writes it anyway)\n");
    }
    frost_free(err);
    if (g_out && st == FROST_OK) *g_out = g;
    else frost_graph_free(g);
    return st == FROST_OK ? 0 : -1;
}

/* frost convert SAVEDMODEL_DIR: frost_savedmodel_freeze() of the signature. */
static int convert_savedmodel(const char *path, const model_source *src, const char *out_path, const char *labels,
                              const char *class_names, int no_check, int quiet) {
    frost_savedmodel *sm = NULL;
    frost_graph *g = NULL;
    char *err = NULL;
    void *pb = NULL;
    size_t len = 0;
    int m = -1, s = -1, rc = 1;
    frost_status st = frost_savedmodel_open(path, &sm, &err);
    if (st == FROST_OK) st = model_source_find(src, sm, &m, &s, &err);
    if (st == FROST_OK) st = frost_savedmodel_freeze(sm, m, s, &pb, &len, &err);
    if (st != FROST_OK) {
        if (err || st != FROST_E_INVALID_ARGUMENT)
            fprintf(stderr, "frost convert: %s: %s\n", frost_strerror(st), err ? err : path);
        goto done;
    }
    if (!no_check && check_loads(pb, len, &g)) goto done;
    if (write_file(out_path, pb, len) || (labels && write_labels(labels, class_names, NULL))) goto done;
    if (!quiet) {
        printf("%s: signature '%s' of {", path, frost_savedmodel_signature_key(sm, m, s));
        for (int k = 0; k < frost_savedmodel_tag_count(sm, m); k++)
            printf("%s%s", k ? ", " : "", frost_savedmodel_tag(sm, m, k));
        printf("} -> %s: %zu bytes", out_path, len);
        if (g) printf(", %d nodes", frost_graph_node_count(g));
        printf("\n");
        for (int k = 0; g && k < frost_graph_placeholder_count(g); k++) {
            frost_tensor_info t;
            frost_savedmodel_signature_input(sm, m, s, k, &t);
            printf("  input  %s (signature input '%s', %s)\n", frost_graph_placeholder_name(g, k), t.key,
                   frost_dtype_name(t.dtype));
        }
        for (int k = 0; g && k < frost_graph_sink_count(g); k++) {
            frost_tensor_info t;
            frost_savedmodel_signature_output(sm, m, s, k, &t);
            printf("  output %s (signature output '%s', %s)\n", frost_graph_sink_name(g, k), t.key,
                   frost_dtype_name(t.dtype));
        }
        if (labels) printf("  labels: %s\n", labels);
    }
    rc = 0;
done:
    frost_free(err);
    frost_free(pb);
    frost_graph_free(g);
    frost_savedmodel_free(sm);
    return rc;
}

static char *dir_of(const char *path) {
    const char *slash = strrchr(path, '/');
    if (!slash) return strdup(".");
    size_t n = (size_t)(slash - path);
    char *d = malloc(n + 2);
    if (!d) return NULL;
    if (n == 0) n = 1; /* "/model.json" */
    memcpy(d, path, n);
    d[n] = 0;
    return d;
}

int frost_cmd_convert(int argc, char **argv) {
    const char *model_path = NULL, *out_path = NULL, *labels = NULL, *class_names = NULL, *flatten = "keras";
    int no_check = 0, quiet = 0;
    model_source src = {NULL, NULL};
    for (int i = 1; i < argc;) {
        int r, sw = 0;
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            usage(stdout);
            return 0;
        }
        if ((r = cli_flag(argc, argv, &i, "o", &out_path)) || (r = cli_flag(argc, argv, &i, "output", &out_path)) ||
            (r = cli_flag(argc, argv, &i, "labels", &labels)) ||
            (r = cli_flag(argc, argv, &i, "class-names", &class_names)) ||
            (r = cli_flag(argc, argv, &i, "flatten", &flatten)) || (r = model_source_parse(&src, argc, argv, &i))) {
            if (r < 0) return 2;
            continue;
        }
        if ((r = cli_switch(argc, argv, &i, "no-check", &no_check))) {
            if (r < 0) return 2;
            continue;
        }
        if ((r = cli_switch(argc, argv, &i, "quiet", &quiet)) || (r = cli_switch(argc, argv, &i, "q", &sw))) {
            if (r < 0) return 2;
            quiet |= sw;
            continue;
        }
        if (argv[i][0] == '-' && argv[i][1]) {
            fprintf(stderr, "frost convert: unknown option '%s'\n", argv[i]);
            usage(stderr);
            return 2;
        }
        if (model_path) {
            fprintf(stderr, "frost convert: one model at a time ('%s' and '%s')\n", model_path, argv[i]);
            return 2;
        }
        model_path = argv[i++];
    }
    if (!model_path || !out_path) {
        usage(stderr);
        return 2;
    }
    if (strcmp(flatten, "keras") && strcmp(flatten, "reshape")) {
        fprintf(stderr, "frost convert: --flatten takes keras or reshape, not '%s'\n", flatten);
        return 2;
    }

    if (frost_path_is_savedmodel(model_path))
        return convert_savedmodel(model_path, &src, out_path, labels, class_names, no_check, quiet);
    if (src.signature || src.tag_set) {
        fprintf(stderr, "frost convert: --signature and --tag_set are for a SavedModel directory\n");
        return 2;
    }

    json_error_t jerr;
    json_t *model = json_load_file(model_path, JSON_DECODE_ANY, &jerr);
    if (!model) {
        fprintf(stderr, "frost convert: %s:%d: %s\n", model_path, jerr.line, jerr.text);
        return 1;
    }
    cv_ctx *c = calloc(1, sizeof *c);
    char *dir = dir_of(model_path);
    if (c) c->g = fr_gdw_new();
    if (!c || !c->g || !dir) {
        fprintf(stderr, "frost convert: out of memory\n");
        if (c) fr_gdw_free(c->g);
        free(c);
        free(dir);
        json_decref(model);
        return 1;
    }
    c->path = model_path;
    c->flatten_const = !strcmp(flatten, "reshape");
    c->signature = json_object_get(model, "userDefinedMetadata");
    json_t *topology = json_object_get(model, "modelTopology");
    const char *format = json_string_value(json_object_get(model, "format"));
    int graph_model = topology && (json_object_get(topology, "node") || (format && !strcmp(format, "graph-model")));
    int rc = 0;
    const uint8_t *pb = NULL; /* the GraphDef */
    size_t pb_len = 0;
    if (!json_is_object(topology))
        rc = cv_fail(c, "%s: not a TensorFlow.js model.json (no \"modelTopology\" object)", model_path);
    if (!rc) rc = cv_weights_load(c, json_object_get(model, "weightsManifest"), dir);
    if (!rc) rc = graph_model ? cv_convert_graph(c, topology) : cv_convert_layers(c, topology);
    if (!rc) {
        int64_t producer = 27; /* GraphDef version of the TensorFlow 1.x releases that Keras 2.2 ran on */
        json_t *p = json_object_get(json_object_get(topology, "versions"), "producer");
        if (graph_model && json_is_integer(p)) producer = json_integer_value(p);
        fr_gdw_versions(c->g, (int)producer);
        if (!(pb = fr_gdw_finish(c->g, &pb_len))) rc = cv_fail(c, "out of memory");
    }
    if (rc) {
        fprintf(stderr, "frost convert: %s\n", c->err);
    } else {
        int unused = 0;
        for (int i = 0; i < c->weights.n; i++)
            if (!c->weights.w[i].used && c->weights.w[i].dtype != FR_DT_STRING) {
                if (unused++ < 5)
                    fprintf(stderr, "frost convert: warning: weight '%s' is not used by the model\n",
                            c->weights.w[i].name);
            }
        if (unused > 5) fprintf(stderr, "frost convert: warning: %d weights in all are not used\n", unused);
    }
    /* Check that frost loads what was written (every op supported). */
    if (!rc && !no_check) rc = check_loads(pb, pb_len, NULL);
    if (!rc) rc = write_file(out_path, pb, pb_len);
    if (!rc && labels) rc = write_labels(labels, class_names, model);
    if (!rc && !quiet) {
        printf("%s: %s model -> %s: %d nodes, %zu bytes\n", model_path, graph_model ? "graph" : "layers", out_path,
               c->g->nodes, pb_len);
        printf("  input: %s   output: %s\n", c->input_name ? c->input_name : "?",
               c->output_name ? c->output_name : "?");
        printf("  weights: %d tensors (%d uint8, %d uint16, %d float16 dequantized)\n", c->weights.n,
               c->n_quantized[0], c->n_quantized[1], c->n_quantized[2]);
        if (labels) printf("  labels: %s\n", labels);
    }
    fr_gdw_free(c->g);
    cv_weights_free(&c->weights);
    free(c->input_name);
    free(c->output_name);
    free(c);
    free(dir);
    json_decref(model);
    return rc ? 1 : 0;
}
