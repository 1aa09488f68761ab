/* frost classify: label_image-compatible image classification, for one image
 * or millions (pipeline in classify_pipeline.c, output in classify_output.c). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "classify.h"
#include "classify_pipeline.h"
#include "common/cli.h"
#include "common/engine_flags.h"
#include "common/image_flags.h"
#include "common/labels.h"
#include "common/model_source.h"
#include "frost.h"

/* TensorFlow's C++ label_image defaults. */
#define LI_GRAPH "tensorflow/examples/label_image/data/inception_v3_2016_08_28_frozen.pb"
#define LI_LABELS "tensorflow/examples/label_image/data/imagenet_slim_labels.txt"
#define LI_IMAGE "tensorflow/examples/label_image/data/grace_hopper.jpg"
#define LI_SIZE 299

static const char usage_text[] =
    "usage: frost classify --graph=MODEL.pb|SAVEDMODEL_DIR [options] [IMAGE|DIR|-]...\n"
    "       frost --graph=MODEL.pb --image=IMAGE ...       (label_image style)\n"
    "\n"
    "Classify images with a frozen TensorFlow graph: decode (JPEG, PNG, BMP, GIF,\n"
    "chosen by content), resize bilinearly as TensorFlow does, normalise as\n"
    "(pixel - mean) / std, run the model, print the top classes as label_image\n"
    "does:  military uniform (653): 0.834306\n"
    "\n"
    "Inputs: --image FILE (repeatable), files and directories as arguments\n"
    "(directories are walked recursively in sorted order; there, files that are\n"
    "not images are skipped), and '-': read one path a line from stdin and\n"
    "answer each as it arrives.  Results come out in input order.\n"
    "\n"
    "A model whose input takes encoded images (a string Placeholder decoded in\n"
    "the graph by DecodeJpeg, DecodePng, DecodeBmp or DecodeImage: TF Serving\n"
    "image exports, TF-for-Poets graphs fed DecodeJpeg/contents) gets each\n"
    "file's bytes as they are; the graph decodes and preprocesses them, so\n"
    "--input_width/height, --input_mean/std, --resize, --dct_method,\n"
    "--fast-decode and --max_pixels do not apply (ignored, with a note).  A file\n"
    "the graph cannot decode is an error for that file.\n"
    "\n"
    "label_image flags (TensorFlow C++ defaults):\n"
    "  --graph FILE          frozen GraphDef, or a SavedModel directory (default\n"
    "                        " LI_GRAPH ")\n"
    "  --labels FILE         labels, one a line; optional: without it the index\n"
    "                        alone is printed (default " LI_LABELS "\n"
    "                        when that file exists)\n"
    "  --image FILE          image to classify (repeatable; default\n"
    "                        " LI_IMAGE " when no input is given)\n"
    "  --input_layer NAME    input node; default: the graph's only Placeholder\n"
    "                        (or the one named 'input')\n"
    "  --output_layer NAME   output tensor; default: the graph's only sink\n"
    "  --input_width N       default: the width of the input Placeholder's\n"
    "                        shape, 299 when the shape does not say\n"
    "  --input_height N      likewise from the Placeholder's height, else 299\n"
    "  --input_mean X        subtracted from each pixel (default 0)\n"
    "  --input_std X         then divided by (default 255)\n"
    "  --root_dir DIR        prefix for relative --graph, --labels, --image\n"
    "  --signature NAME      for a SavedModel: the signature (default serving_default)\n"
    "  --tag_set TAGS        for a SavedModel: the meta graph's tags (default serve)\n"
    "  --self_test           check decode, preprocessing and the model on a\n"
    "                        synthetic image (finite outputs, probabilities sum\n"
    "                        to 1, batching consistent); then classify any inputs\n"
    "\n"
    "more:\n"
    "  --top_k N             classes per image (default 5)\n"
    "  --format F            text | jsonl | csv (default text; text prints\n"
    "                        'PATH:' before each image's lines when there are\n"
    "                        several; jsonl also gets a line per failed image)\n"
    "  --batch N             images per inference call (default 8 for many\n"
    "                        files, 1 for one image or '-'); with '-' a batch\n"
    "                        never waits: it holds what is already decoded\n"
    "  --threads N           compute threads (default: all cores)\n"
    "  --wait_policy P       idle threads: auto (default: spin briefly, then\n"
    "                        sleep, unless OMP_WAIT_POLICY / GOMP_SPINCOUNT is\n"
    "                        set), passive (sleep at once), active (spin)\n"
    "  --decode_threads N    image reading/decoding threads (default: 1, or a\n"
    "                        quarter of the cores on 8+ cores)\n"
    "  --count N             run each inference N times, print the average\n"
    "                        time (TFLite label_image style; default 1)\n"
    "  --warmup_runs N       unmeasured runs before those (default 0; not in the\n"
    "                        --profiling table)\n"
    "  --resize MODE         tf1 (default: TF1 ResizeBilinear, as label_image),\n"
    "                        tf2 (half_pixel_centers), align_corners\n"
    "  --dct_method M        JPEG inverse DCT as decode_jpeg's dct_method: INTEGER_FAST\n"
    "                        (default, TensorFlow's) or INTEGER_ACCURATE\n"
    "  --fast-decode         decode JPEGs at 1/2, 1/4 or 1/8 scale when still\n"
    "                        twice the input size: faster, NOT TensorFlow-exact\n"
    "  --max_pixels N        reject larger images before decoding (default 100M)\n"
    "  --precision P         fp32 (default) | bf16 | int8 (graphs with FakeQuant ops)\n"
    "  --calibrate DIR       with --precision int8: quantize a plain FP32 graph at load\n"
    "                        time as 'frost quantize' does, calibrated on the images in\n"
    "                        DIR (preprocessed with the flags above), for quick trials\n"
    "  --winograd            larger Winograd tiles: 3x3, 5x5, 1x3, 3x1 layers\n"
    "                        (faster, ~1e-5 relative difference)\n"
    "  --no_winograd         every convolution direct (by default 3x3, 1x7 and 7x1\n"
    "                        layers run Winograd kernels, within 1e-4)\n"
    "  --tune_file F         the tuning record F (frost tune); by default the one\n"
    "                        for this model, CPU and --threads in ~/.cache/frost\n"
    "  --no_tune             no tuning record: the built-in kernel rules\n"
    "  --verbose             say which tuning record was used, or why not\n"
    "  --backend B           auto (default) | reference | onednn\n"
    "  --micro_batch N       items per pass of the network: batches run in passes\n"
    "                        of N (default 0: chosen for the model; -1: none)\n"
    "  --profiling           print a per-op time table at the end (stderr)\n"
    "  --progress / --no_progress   progress bar on stderr (default: when\n"
    "                        stderr is a terminal and there are many images)\n"
    "\n"
    "Exit status: 0 all images classified; 1 an image or the model failed (the\n"
    "others are still classified); 2 bad usage.\n"
    "\n"
    "examples:\n"
    "  frost classify --graph=mobilenet_v2.pb --labels=labels.txt \\\n"
    "        --input_mean=128 --input_std=128 --image=grace_hopper.jpg\n"
    "  frost classify --graph=m.pb --labels=l.txt --format=jsonl photos/ > out.jsonl\n"
    "  find photos -name '*.jpg' | frost classify --graph=m.pb --labels=l.txt -\n";

typedef struct {
    const char *graph, *labels, *root_dir;
    char **inputs;
    int ninputs, cap;
    image_flags image; /* --input_layer, --output_layer, --input_width/height, --input_mean/std, --resize */
    int top_k, batch, decode_threads, count, warmup, timing;
    int self_test, fast_decode, profiling, progress, dct_method, dct_given;
    long long max_pixels;
    engine_flags engine; /* --threads, --backend, --precision, --winograd, --no_winograd, --micro_batch */
    model_source source; /* --signature, --tag_set */
    cls_format format;
    char *owned[8]; /* strings built here (root_dir joins) */
    int nowned;
} cls_flags;

static int add_input(cls_flags *f, const char *s) {
    if (f->ninputs == f->cap) {
        int cap = f->cap ? f->cap * 2 : 16;
        char **g = realloc(f->inputs, sizeof *g * (size_t)cap);
        if (!g) return -1;
        f->inputs = g;
        f->cap = cap;
    }
    f->inputs[f->ninputs++] = (char *)s;
    return 0;
}

static const char *under_root(cls_flags *f, const char *path) {
    if (!f->root_dir || !*f->root_dir || !path || path[0] == '/' || !strcmp(path, "-") ||
        f->nowned == (int)(sizeof f->owned / sizeof f->owned[0]))
        return path;
    char *s = malloc(strlen(f->root_dir) + strlen(path) + 2);
    if (!s) return path;
    sprintf(s, "%s/%s", f->root_dir, path);
    f->owned[f->nowned++] = s;
    return s;
}

static int file_exists(const char *path) {
    struct stat st;
    return stat(path, &st) == 0;
}

/* Returns 0, or the exit status for an error / --help. */
static int parse_flags(cls_flags *f, int argc, char **argv) {
    memset(f, 0, sizeof *f);
    image_flags_init(&f->image);
    f->top_k = 5;
    f->count = 1;
    f->progress = -1;
    engine_flags_init(&f->engine);
    for (int i = 1; i < argc;) {
        const char *a = argv[i], *v = NULL;
        int r = 0, sw = 0;
        if (a[0] != '-' || !strcmp(a, "-")) {
            if (add_input(f, a)) return 1;
            i++;
            continue;
        }
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            fputs(usage_text, stdout);
            return -1;
        }
#define FLAG(name) ((r = cli_flag(argc, argv, &i, name, &v)) != 0)
#define SWITCH(name, dst) ((r = cli_switch(argc, argv, &i, name, &sw)) != 0 && (r < 0 || ((dst) = sw, 1)))
        if (FLAG("graph")) f->graph = v;
        else if (FLAG("labels")) f->labels = v;
        else if (FLAG("image")) {
            if (r > 0 && add_input(f, v)) return 1;
        } else if (FLAG("root_dir")) f->root_dir = v;
        else if ((r = image_flags_parse(&f->image, argc, argv, &i)) != 0) {
        }
        else if (FLAG("top_k")) r = r < 0 ? r : cli_parse_int("top_k", v, 1, 1 << 20, &f->top_k) ? -1 : 1;
        else if (FLAG("batch")) r = r < 0 ? r : cli_parse_int("batch", v, 1, 4096, &f->batch) ? -1 : 1;
        else if ((r = engine_flags_parse(&f->engine, EF_ALL & ~EF_DEBUG, argc, argv, &i)) != 0) {
        } else if ((r = model_source_parse(&f->source, argc, argv, &i)) != 0) {
        } else if (FLAG("decode_threads"))
            r = r < 0 ? r : cli_parse_int("decode_threads", v, 1, 256, &f->decode_threads) ? -1 : 1;
        else if (FLAG("count")) {
            r = r < 0 ? r : cli_parse_int("count", v, 1, 1 << 30, &f->count) ? -1 : 1;
            f->timing = 1;
        } else if (FLAG("warmup_runs")) {
            r = r < 0 ? r : cli_parse_int("warmup_runs", v, 0, 1 << 30, &f->warmup) ? -1 : 1;
            f->timing = 1;
        } else if (FLAG("max_pixels")) {
            char *end;
            f->max_pixels = r < 0 ? 0 : strtoll(v, &end, 10);
            if (r > 0 && (*end || end == v || f->max_pixels < 1)) {
                fprintf(stderr, "frost: --max_pixels: '%s' is not a positive integer\n", v);
                r = -1;
            }
        } else if (FLAG("format")) {
            if (r > 0) {
                if (!strcmp(v, "text")) f->format = CLS_TEXT;
                else if (!strcmp(v, "jsonl") || !strcmp(v, "json")) f->format = CLS_JSONL;
                else if (!strcmp(v, "csv")) f->format = CLS_CSV;
                else {
                    fprintf(stderr, "frost: --format: '%s' is not text, jsonl or csv\n", v);
                    r = -1;
                }
            }
        } else if (FLAG("dct_method") || FLAG("dct-method")) {
            f->dct_given = 1;
            if (r > 0) {
                if (!strcmp(v, "INTEGER_FAST") || !*v) f->dct_method = FROST_DCT_INTEGER_FAST;
                else if (!strcmp(v, "INTEGER_ACCURATE")) f->dct_method = FROST_DCT_INTEGER_ACCURATE;
                else {
                    fprintf(stderr, "frost: --dct_method: '%s' is not INTEGER_FAST or INTEGER_ACCURATE\n", v);
                    r = -1;
                }
            }
        } else if (SWITCH("self_test", f->self_test)) {
        } else if (SWITCH("fast-decode", f->fast_decode) || SWITCH("fast_decode", f->fast_decode)) {
        } else if (SWITCH("profiling", f->profiling)) {
        } else if (SWITCH("progress", f->progress)) {
        } else if ((r = cli_switch(argc, argv, &i, "no_progress", &sw)) != 0) {
            if (r > 0) f->progress = !sw;
        } else {
            fprintf(stderr, "frost classify: unknown flag '%s' (see frost classify --help)\n", a);
            return 2;
        }
#undef FLAG
#undef SWITCH
        if (r < 0) return 2;
    }
    if (image_flags_check(&f->image)) return 2;
    /* label_image's defaults, relative to --root_dir. */
    f->graph = under_root(f, f->graph ? f->graph : LI_GRAPH);
    if (f->labels) f->labels = under_root(f, f->labels);
    else if (file_exists(under_root(f, LI_LABELS))) f->labels = f->owned[f->nowned - 1];
    for (int k = 0; k < f->ninputs; k++) f->inputs[k] = (char *)under_root(f, f->inputs[k]);
    if (f->ninputs == 0 && !f->self_test && add_input(f, under_root(f, LI_IMAGE))) return 1;
    return 0;
}

/* ------------------------------------------------------------------ model */

/* A model whose input takes encoded image bytes decodes and preprocesses
 * them itself: says which of the flags given do not apply. */
static void note_unused_flags(const cls_flags *f, const frost_model *m) {
    char names[160] = "";
    image_flags_given_names(&f->image, names, sizeof names);
    const char *more[3] = {f->dct_given ? "--dct_method" : NULL, f->fast_decode ? "--fast-decode" : NULL,
                           f->max_pixels ? "--max_pixels" : NULL};
    for (int i = 0; i < 3; i++)
        if (more[i] && strlen(names) + strlen(more[i]) + 3 < sizeof names)
            strcat(strcat(names, *names ? ", " : ""), more[i]);
    if (*names)
        fprintf(stderr,
                "frost: %s: input '%s' takes encoded image bytes, which the graph decodes and preprocesses "
                "itself: %s ignored\n",
                f->graph, frost_model_input_name(m, 0), names);
}

/* Loads, picks input/output and size (frost_graph_image_spec: label_image's
 * rules), compiles.  A model whose input is a string input (encoded image
 * bytes, decoded in the graph) gets *bytes_input = 1 and no preprocessing.
 * Returns NULL (message printed). */
static frost_model *load_model(cls_flags *f, int max_batch, frost_preprocess *pp, int *bytes_input) {
    frost_graph *g = NULL;
    char *err = NULL;
    if (model_source_load(&f->source, f->graph, &g, &err) != FROST_OK) {
        fprintf(stderr, "frost: %s\n", err ? err : "cannot load the graph");
        frost_free(err);
        return NULL;
    }
    const char *input, *output;
    frost_shape shape;
    int needs_shape;
    if (image_flags_choose(&f->image, g, f->graph, &input, &output, &shape, &needs_shape)) {
        frost_graph_free(g);
        return NULL;
    }
    frost_options opt;
    frost_options_init(&opt);
    opt.inputs = &input;
    opt.num_inputs = 1;
    opt.outputs = &output;
    opt.num_outputs = 1;
    if (needs_shape) opt.input_shapes = &shape;
    engine_flags_apply(&f->engine, &opt);
    frost_preprocess calibration = {0, 0, f->image.mean, f->image.std, f->image.resize}; /* --calibrate's images */
    opt.calibrate_preprocess = &calibration;
    opt.max_batch = max_batch;
    opt.profiling = f->profiling;
    frost_model *m = NULL;
    frost_status st = frost_model_compile(g, &opt, &m, &err);
    frost_graph_free(g);
    if (st == FROST_OK) engine_flags_note(&f->engine, m);
    if (st != FROST_OK) {
        fprintf(stderr, "frost: %s: %s\n", f->graph, err ? err : frost_strerror(st));
        frost_free(err);
        return NULL;
    }
    memset(pp, 0, sizeof *pp);
    *bytes_input = frost_model_input_dtype(m, 0) == FROST_DTYPE_STRING;
    if (*bytes_input) note_unused_flags(f, m);
    else if (image_flags_preprocess(&f->image, m, pp)) {
        frost_model_free(m);
        return NULL;
    }
    return m;
}

/* --------------------------------------------------------------- progress */

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

typedef struct {
    int on;
    long total, done;
    double start, last;
    int shown;
} cls_progress;

static void progress_clear(cls_progress *p) {
    if (p->on && p->shown) {
        fputs("\r\033[K", stderr);
        p->shown = 0;
    }
}

static void progress_show(cls_progress *p, int force) {
    if (!p->on) return;
    double t = now_s();
    if (!force && t - p->last < 0.1) return;
    p->last = t;
    double rate = t > p->start ? (double)p->done / (t - p->start) : 0;
    const int width = 30;
    int fill = p->total > 0 ? (int)((double)width * (double)p->done / (double)p->total) : 0;
    if (fill > width) fill = width;
    fprintf(stderr, "\r[");
    for (int i = 0; i < width; i++) fputc(i < fill ? '=' : ' ', stderr);
    fprintf(stderr, "] %ld/%ld images  %.1f img/s\033[K", p->done, p->total, rate);
    fflush(stderr);
    p->shown = 1;
}

/* ------------------------------------------------------------------- main */

/* One inference over n items: for a model that takes encoded bytes, strs
 * (bound again before every run: a binding lasts one run), else in. */
static frost_status run_batch(frost_context *ctx, int n, const float *in, const frost_string *strs, float *out) {
    if (strs) {
        frost_status st = frost_context_set_string_input(ctx, 0, strs, n);
        if (st != FROST_OK) return st;
    }
    return frost_context_run1(ctx, n, in, out);
}

/* Whether a failed run of one item that the graph decodes is that item's
 * fault (bytes it cannot decode, an image over a limit), not the model's. */
static int item_fault(frost_status st) { return st == FROST_E_IMAGE || st == FROST_E_LIMIT || st == FROST_E_PARSE; }

int frost_cmd_classify(int argc, char **argv) {
    cls_flags f;
    int rc = parse_flags(&f, argc, argv);
    if (rc) {
        free(f.inputs);
        for (int i = 0; i < f.nowned; i++) free(f.owned[i]);
        return rc < 0 ? 0 : rc;
    }
    int streaming = 0, dirs = 0;
    for (int i = 0; i < f.ninputs; i++) {
        if (!strcmp(f.inputs[i], "-")) streaming = 1;
        else {
            struct stat st;
            if (stat(f.inputs[i], &st) == 0 && S_ISDIR(st.st_mode)) dirs = 1;
        }
    }
    int many = f.ninputs > 1 || dirs;
    int batch = f.batch ? f.batch : (many && !streaming) ? 8 : 1;
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    int workers = f.decode_threads ? f.decode_threads : (ncpu >= 8 ? (int)(ncpu / 4) : 1);

    frost_preprocess pp;
    int bytes_input = 0; /* the model decodes the files' bytes itself (a string input) */
    /* --self_test checks batching too: it needs room for 2 items. */
    frost_model *model = load_model(&f, f.self_test && batch < 2 ? 2 : batch, &pp, &bytes_input);
    int status = 0;
    char **labels = NULL;
    int nlabels = 0;
    frost_context *ctx = NULL;
    cls_pipeline *pipe = NULL;
    float *in = NULL, *out = NULL;
    int *top = NULL;
    float *top_score = NULL;
    cls_item **held = NULL;
    frost_string *strs = NULL; /* bytes_input: the batch's files */
    frost_status *row_st = NULL;
    char **row_err = NULL;
    if (!model) {
        status = 1;
        goto done;
    }
    if (f.labels && (nlabels = cli_labels_load(f.labels, &labels)) < 0) {
        status = 1;
        nlabels = 0;
        goto done;
    }
    if (f.self_test && bytes_input) {
        fprintf(stderr, "frost: --self_test checks frost's own decoding and preprocessing, which %s does in the "
                        "graph: skipped\n", f.graph);
        if (f.ninputs == 0) goto done;
    } else if (f.self_test) {
        if (cls_self_test(model, &pp, stderr) != 0) status = 1;
        if (f.ninputs == 0) goto done;
    }

    const size_t in_n = (size_t)pp.width * pp.height * 3, out_n = frost_model_output_size(model, 0);
    int k = f.top_k < (int)out_n ? f.top_k : (int)out_n;
    if (bytes_input) strs = malloc(sizeof *strs * (size_t)batch);
    else in = malloc(sizeof(float) * in_n * (size_t)batch);
    row_st = malloc(sizeof *row_st * (size_t)batch);
    row_err = calloc((size_t)batch, sizeof *row_err);
    out = malloc(sizeof(float) * (out_n ? out_n : 1) * (size_t)batch);
    top = malloc(sizeof *top * (size_t)(k > 0 ? k : 1));
    top_score = malloc(sizeof *top_score * (size_t)(k > 0 ? k : 1));
    held = malloc(sizeof *held * (size_t)batch);
    char *err = NULL;
    if ((!in && !strs) || !row_st || !row_err || !out || !top || !top_score || !held) {
        fprintf(stderr, "frost: out of memory\n");
        status = 1;
        goto done;
    }
    if (frost_context_create(model, &ctx, &err) != FROST_OK) {
        fprintf(stderr, "frost: %s\n", err ? err : "cannot create a context");
        frost_free(err);
        status = 1;
        goto done;
    }

    /* Build the plans of the batch sizes this run will use before anything is
     * timed: the full batch and, when the number of images is known, the
     * remainder (both one-time costs, like loading the model). */
    long nimages = streaming ? 0 : cls_count_inputs(f.inputs, f.ninputs);
    int sizes[2] = {nimages > 0 && nimages < batch ? (int)nimages : batch, nimages > batch ? (int)(nimages % batch) : 0};
    for (int s = 0; s < 2; s++)
        if (sizes[s] > 0 && frost_context_reserve(ctx, sizes[s]) != FROST_OK) {
            fprintf(stderr, "frost: %s\n", frost_context_error(ctx));
            status = 1;
            goto done;
        }

    cls_pipeline_config pc = {0};
    pc.inputs = f.inputs;
    pc.num_inputs = f.ninputs;
    pc.workers = workers;
    pc.slots = 2 * batch + 2 * workers;
    frost_decode_options_init(&pc.decode);
    if (f.max_pixels) pc.decode.max_pixels = f.max_pixels;
    pc.decode.fast_decode = f.fast_decode;
    pc.decode.dct_method = f.dct_method;
    pc.decode.target_width = pp.width;
    pc.decode.target_height = pp.height;
    pc.pp = pp;
    pc.keep_bytes = bytes_input;

    cls_progress prog = {0};
    if (f.progress != 0 && !streaming && many) {
        prog.on = f.progress == 1 || isatty(STDERR_FILENO);
        if (prog.on) prog.total = nimages;
        if (f.progress < 0 && prog.total < 2) prog.on = 0;
    }
    prog.start = now_s();
    int stdout_tty = isatty(STDOUT_FILENO);

    if (!(pipe = cls_pipeline_start(&pc))) {
        status = 1;
        goto done;
    }
    cls_output o = {stdout, f.format, many || streaming, labels, nlabels, 0};
    double run_ms = 0;
    int warmed = 0;
    long runs = 0, images_run = 0;
    for (;;) {
        /* A batch: the next item (waiting for it), then more up to --batch;
         * with stdin, only those already decoded. */
        int nheld = 0, nok = 0;
        cls_item *it = cls_pipeline_next(pipe);
        while (it) {
            held[nheld++] = it;
            if (it->status == FROST_OK && !it->skipped) {
                if (strs) strs[nok] = (frost_string){it->bytes, it->size};
                else memcpy(in + (size_t)nok * in_n, it->input, in_n * sizeof(float));
                nok++;
            }
            if (nheld == batch) break; /* failed items count too: the ring stays live */
            it = streaming ? cls_pipeline_try_next(pipe) : cls_pipeline_next(pipe);
        }
        if (nheld == 0) break;
        frost_status st = FROST_OK;
        if (nok > 0) {
            for (int w = 0; w < f.warmup && st == FROST_OK; w++) st = run_batch(ctx, nok, in, strs, out);
            /* --profiling: the first warm-up runs take the one-time costs
             * (first touch of the arena, oneDNN's lazy set-up); not counted */
            if (f.warmup > 0 && !warmed) frost_context_profile_reset(ctx), warmed = 1;
            for (int c = 0; c < f.count && st == FROST_OK; c++) {
                double t0 = now_s();
                st = run_batch(ctx, nok, in, strs, out);
                run_ms += (now_s() - t0) * 1e3;
                runs++;
            }
            images_run += nok;
        }
        /* Each item's status.  A file the graph cannot decode fails the whole
         * batch: its items run again one at a time, so that only it fails. */
        int any_ok = 0;
        for (int j = 0; j < nok; j++) {
            row_st[j] = st;
            if (st != FROST_OK && strs && nok > 1 && item_fault(st))
                row_st[j] = run_batch(ctx, 1, NULL, strs + j, out + (size_t)j * out_n);
            if (row_st[j] != FROST_OK && !(row_err[j] = strdup(frost_context_error(ctx))))
                row_st[j] = FROST_E_NO_MEMORY;
            any_ok |= row_st[j] == FROST_OK;
        }
        if (prog.on && stdout_tty) progress_clear(&prog);
        for (int i = 0, j = 0; i < nheld; i++) {
            cls_item *h = held[i];
            if (h->skipped) continue;
            prog.done++;
            if (h->status != FROST_OK) {
                cls_print_error(&o, h->path, h->error ? h->error : frost_strerror(h->status));
                status = 1;
                continue;
            }
            if (row_st[j] != FROST_OK) {
                char msg[1024];
                snprintf(msg, sizeof msg, "%s: %s: %s", h->path,
                         strs && item_fault(row_st[j]) ? "cannot decode" : "inference failed",
                         row_err[j] ? row_err[j] : frost_strerror(row_st[j]));
                cls_print_error(&o, h->path, msg);
                free(row_err[j]);
                row_err[j] = NULL;
                status = 1;
                j++;
                continue;
            }
            int got = 0;
            frost_top_k(out + (size_t)j++ * out_n, out_n, k, top, top_score, &got);
            cls_print_result(&o, h->path, top, top_score, got);
        }
        fflush(stdout);
        for (int i = 0; i < nheld; i++) cls_pipeline_release(pipe, held[i]);
        progress_show(&prog, 0);
        /* the model fails (not just some files the graph cannot decode): no point going on */
        if (nok > 0 && !any_ok && !(strs && item_fault(st))) break;
    }
    if (prog.on) {
        progress_show(&prog, 1);
        fputc('\n', stderr);
    }
    if (f.timing && runs > 0) {
        /* Throughput of the whole loop vs of the inference calls alone: their
         * ratio shows how well reading and decoding overlap inference. */
        double wall = now_s() - prog.start, per_image_ms = run_ms / (double)f.count / (double)images_run;
        fprintf(stderr, "average time: %.3f ms (%ld runs, batch up to %d): %.3f ms per image\n", run_ms / (double)runs,
                runs, batch, per_image_ms);
        fprintf(stderr, "%ld images in %.3f s: %.2f images/s end to end, %.2f images/s inference alone\n", images_run,
                wall, (double)images_run / wall, 1e3 / per_image_ms);
    }
    if (f.profiling) cls_print_profile(ctx, stderr);

done:
    cls_pipeline_free(pipe);
    frost_context_free(ctx);
    frost_model_free(model);
    cli_labels_free(labels, nlabels);
    free(in);
    free(strs);
    free(row_st);
    free(row_err);
    free(out);
    free(top);
    free(top_score);
    free(held);
    free(f.inputs);
    for (int i = 0; i < f.nowned; i++) free(f.owned[i]);
    return status;
}
