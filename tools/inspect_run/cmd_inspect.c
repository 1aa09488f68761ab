/* frost inspect: what a GraphDef contains and what the compiler makes of it
 * (in the spirit of TensorFlow's summarize_graph). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cli.h"
#include "frost.h"
#include "model_flags.h"

static void usage(FILE *out) {
    fprintf(out,
            "usage: frost inspect MODEL.pb [options]\n"
            "       frost inspect SAVEDMODEL_DIR [--all | --tag_set TAGS [--signature_def KEY]]\n"
            "       frost inspect SAVEDMODEL_DIR --signature KEY|--json [options]\n"
            "\n"
            "Print the graph's candidate inputs (Placeholders, with shapes) and outputs\n"
            "(sinks), its op histogram and const parameter count; then compile it and\n"
            "print the compiled inputs and outputs with shapes and what the compiler did:\n"
            "nodes pruned, Identity nodes dropped, nodes constant-folded, batch norms\n"
            "folded, ops fused, kernel steps, parameters, FLOPs, weight and arena bytes.\n"
            "\n"
            "For a SavedModel directory, print what `saved_model_cli show --dir DIR --all`\n"
            "prints: every tag set, and each signature's inputs and outputs (dtype, shape,\n"
            "tensor name) and method name.  With --tag_set alone, the signature keys of\n"
            "that meta graph; with --signature_def KEY, that signature (tag set serve\n"
            "unless given).  With --signature KEY or --json, the report above for the\n"
            "graph of that signature (default serving_default), frozen as frost loads it.\n"
            "\n"
            "options:\n"
            "  --json                print one JSON object instead of text\n"
            "  --no-compile          only the graph part\n"
            "  --steps               also list the compiled steps in order with the kernel\n"
            "                        each runs on (\"onednn:int8:...\": int8; from one run of\n"
            "                        batch 1 on zeros)\n"
            "  --all                 (SavedModel) everything, as saved_model_cli show --all\n"
            "  --signature_def KEY   (SavedModel) one signature, as saved_model_cli shows it\n"
            "  --dir DIR             the same as giving DIR as the model\n"
            "%s%s"
            "\n"
            "exit status: 0 ok, 1 the model cannot be loaded or compiled, 2 usage error\n",
            mf_help_compile, model_source_help);
}

/* ---- saved_model_cli show: the text layout of TensorFlow's
 * tensorflow/python/tools/saved_model_cli.py (_show_all, _show_inputs_outputs,
 * _print_tensor_info, _show_signature_def_map_keys), line for line. */

static void sm_tensor(const char *indent, const char *kind, const frost_tensor_info *t) {
    printf("%s  %s['%s'] tensor_info:\n", indent, kind, t->key);
    printf("%s      dtype: %s%s\n", indent, frost_dtype_name(t->dtype), t->is_ref ? "_REF" : "");
    if (!t->has_shape) { /* protobuf's default TensorShapeProto */
        printf("%s      shape: ()\n", indent);
    } else if (t->shape.rank < 0) {
        printf("%s      shape: unknown_rank\n", indent);
    } else {
        printf("%s      shape: (", indent);
        for (int d = 0; d < t->shape.rank; d++) printf("%s%lld", d ? ", " : "", (long long)t->shape.dims[d]);
        printf(")\n");
    }
    printf("%s      name: %s\n", indent, t->name);
}

static void sm_inputs_outputs(const frost_savedmodel *sm, int m, int s, const char *indent) {
    frost_tensor_info t;
    printf("%sThe given SavedModel SignatureDef contains the following input(s):\n", indent);
    for (int k = 0; k < frost_savedmodel_signature_input_count(sm, m, s); k++)
        if (frost_savedmodel_signature_input(sm, m, s, k, &t) == FROST_OK) sm_tensor(indent, "inputs", &t);
    printf("%sThe given SavedModel SignatureDef contains the following output(s):\n", indent);
    for (int k = 0; k < frost_savedmodel_signature_output_count(sm, m, s); k++)
        if (frost_savedmodel_signature_output(sm, m, s, k, &t) == FROST_OK) sm_tensor(indent, "outputs", &t);
    printf("%sMethod name is: %s\n", indent, frost_savedmodel_signature_method(sm, m, s));
}

/* Python's order of tag lists (sorted(tag_sets)): element by element, a
 * prefix first. */
static const frost_savedmodel *sort_sm;
static int cmp_tag_lists(const void *a, const void *b) {
    int x = *(const int *)a, y = *(const int *)b;
    int nx = frost_savedmodel_tag_count(sort_sm, x), ny = frost_savedmodel_tag_count(sort_sm, y);
    for (int k = 0; k < nx && k < ny; k++) {
        int c = strcmp(frost_savedmodel_tag(sort_sm, x, k), frost_savedmodel_tag(sort_sm, y, k));
        if (c) return c;
    }
    return nx != ny ? (nx < ny ? -1 : 1) : x - y;
}

static int sm_show_all(const frost_savedmodel *sm) {
    int n = frost_savedmodel_meta_graph_count(sm);
    int *order = malloc(sizeof *order * (size_t)(n ? n : 1));
    if (!order) {
        fprintf(stderr, "frost inspect: out of memory\n");
        return 1;
    }
    for (int i = 0; i < n; i++) order[i] = i;
    sort_sm = sm;
    qsort(order, (size_t)n, sizeof *order, cmp_tag_lists);
    for (int i = 0; i < n; i++) {
        int nt = frost_savedmodel_tag_count(sm, order[i]);
        const char *tags[MS_MAX_TAGS];
        printf("\nMetaGraphDef with tag-set: '");
        for (int k = 0; k < nt; k++) {
            printf("%s%s", k ? ", " : "", frost_savedmodel_tag(sm, order[i], k));
            if (k < MS_MAX_TAGS) tags[k] = frost_savedmodel_tag(sm, order[i], k);
        }
        printf("' contains the following SignatureDefs:\n");
        /* saved_model_cli looks the tag set up again: the first meta graph
         * with the same set */
        int m = nt <= MS_MAX_TAGS ? frost_savedmodel_find_meta_graph(sm, tags, nt) : order[i];
        if (m < 0) m = order[i];
        for (int s = 0; s < frost_savedmodel_signature_count(sm, m); s++) {
            printf("\nsignature_def['%s']:\n", frost_savedmodel_signature_key(sm, m, s));
            sm_inputs_outputs(sm, m, s, "  ");
        }
    }
    free(order);
    return 0;
}

/* frost inspect DIR [--all | --tag_set T [--signature_def K]]: 0, or 1
 * (message printed). */
static int inspect_savedmodel(const char *path, const model_source *src, const char *signature_def, int all) {
    frost_savedmodel *sm = NULL;
    char *err = NULL;
    frost_status st = frost_savedmodel_open(path, &sm, &err);
    if (st != FROST_OK) {
        fprintf(stderr, "frost inspect: %s: %s\n", frost_strerror(st), err ? err : path);
        frost_free(err);
        return 1;
    }
    int rc = 0;
    if (all || (!src->tag_set && !signature_def)) {
        rc = sm_show_all(sm);
    } else {
        /* the signature keys of a meta graph, or one signature */
        model_source which = {signature_def, src->tag_set};
        int m = -1, s = -1;
        if (!signature_def) {
            char buf[1024];
            const char *tags[MS_MAX_TAGS];
            int n;
            if (model_source_tags(src, buf, sizeof buf, tags, &n) == 0)
                m = frost_savedmodel_find_meta_graph(sm, n ? tags : NULL, n);
        }
        if (m < 0 && (st = model_source_find(&which, sm, &m, &s, &err)) != FROST_OK) {
            if (err) fprintf(stderr, "frost inspect: %s: %s\n", frost_strerror(st), err);
            rc = 1;
        } else if (!signature_def) {
            printf("The given SavedModel MetaGraphDef contains SignatureDefs with the following keys:\n");
            for (int k = 0; k < frost_savedmodel_signature_count(sm, m); k++)
                printf("SignatureDef key: \"%s\"\n", frost_savedmodel_signature_key(sm, m, k));
        } else {
            sm_inputs_outputs(sm, m, s, "");
        }
        frost_free(err);
    }
    frost_savedmodel_free(sm);
    return rc;
}

/* JSON string (quotes included). */
static void json_str(FILE *f, const char *s) {
    fputc('"', f);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') fprintf(f, "\\%c", c);
        else if (c == '\n') fputs("\\n", f);
        else if (c < 0x20) fprintf(f, "\\u%04x", c);
        else fputc(c, f);
    }
    fputc('"', f);
}

static void json_shape(FILE *f, const frost_shape *s) {
    if (s->rank < 0) {
        fputs("null", f);
        return;
    }
    fputc('[', f);
    for (int d = 0; d < s->rank; d++) fprintf(f, "%s%lld", d ? "," : "", (long long)s->dims[d]);
    fputc(']', f);
}

/* 23853946 -> "23,853,946" */
static const char *grouped(long long v, char *buf) {
    char tmp[32];
    int n = snprintf(tmp, sizeof tmp, "%lld", v < 0 ? -v : v), o = 0;
    if (v < 0) buf[o++] = '-';
    for (int k = 0; k < n; k++) {
        if (k && (n - k) % 3 == 0) buf[o++] = ',';
        buf[o++] = tmp[k];
    }
    buf[o] = '\0';
    return buf;
}

static void print_graph_text(const char *path, const frost_graph *g) {
    char b1[64], sb[256];
    printf("model: %s\n", path);
    printf("graph: %d nodes, %s const parameters\n", frost_graph_node_count(g),
           grouped((long long)frost_graph_param_count(g), b1));
    int np = frost_graph_placeholder_count(g);
    printf("Found %d possible input%s:\n", np, np == 1 ? "" : "s");
    for (int k = 0; k < np; k++) {
        frost_shape s = {.rank = -1};
        frost_graph_placeholder_shape(g, k, &s);
        printf("  %s %s\n", frost_graph_placeholder_name(g, k), mf_shape_str(&s, sb, sizeof sb));
    }
    int ns = frost_graph_sink_count(g);
    printf("Found %d possible output%s:\n", ns, ns == 1 ? "" : "s");
    for (int k = 0; k < ns; k++) printf("  %s\n", frost_graph_sink_name(g, k));
    int nt = frost_graph_op_type_count(g);
    printf("Op types used (%d):", nt);
    for (int k = 0; k < nt; k++)
        printf("%s %d %s", k ? "," : "", frost_graph_op_type_uses(g, k), frost_graph_op_type_name(g, k));
    printf("\n");
}

static void print_model_text(const frost_model *m, const frost_compile_stats *st) {
    char sb[256], b1[64];
    printf("Compiled (backend %s, max batch %d):\n", st->backend ? st->backend : "?", frost_model_max_batch(m));
    for (int k = 0; k < frost_model_input_count(m); k++) {
        frost_shape s;
        frost_model_input_shape(m, k, &s);
        printf("  input  %s %s\n", frost_model_input_name(m, k), mf_shape_str(&s, sb, sizeof sb));
    }
    for (int k = 0; k < frost_model_output_count(m); k++) {
        frost_shape s;
        frost_model_output_shape(m, k, &s);
        printf("  output %s %s\n", frost_model_output_name(m, k), mf_shape_str(&s, sb, sizeof sb));
    }
    printf("  nodes pruned (not needed by the outputs): %d\n", st->pruned_nodes);
    printf("  Identity/NoOp/control edges dropped:      %d\n", st->identity_nodes);
    printf("  nodes constant-folded:                    %d\n", st->folded_nodes);
    printf("  batch norms folded into conv/matmul:      %d\n", st->folded_batchnorms);
    printf("  ops fused (bias, add, activation):        %d\n", st->fused_ops);
    printf("  kernel steps per run:                     %d\n", st->steps);
    printf("  parameters:                               %s\n", grouped((long long)st->params, b1));
    printf("  FLOPs per item:                           %s (%.3f G)\n", grouped((long long)st->flops, b1),
           (double)st->flops / 1e9);
    printf("  weight bytes:                             %s\n", grouped((long long)st->weight_bytes, b1));
    printf("  arena bytes (batch 1):                    %s\n", grouped((long long)st->arena_bytes, b1));
    if (frost_model_micro_batch(m))
        printf("  items per pass (larger batches split):    %d\n", frost_model_micro_batch(m));
    else
        printf("  items per pass (larger batches split):    whole batch\n");
}

/* Entry k of a JSON list of tensors: {"name": ..., "shape": ...}. */
static void json_tensor(FILE *f, int k, const char *name, const frost_shape *s) {
    fputs(k ? ",{\"name\":" : "{\"name\":", f);
    json_str(f, name);
    fputs(",\"shape\":", f);
    json_shape(f, s);
    fputc('}', f);
}

static void print_json(const char *path, const frost_graph *g, const frost_model *m, const frost_compile_stats *st,
                       const char *error) {
    FILE *f = stdout;
    fputs("{\"model\":", f);
    json_str(f, path);
    fprintf(f, ",\"nodes\":%d,\"const_parameters\":%lld,\"inputs\":[", frost_graph_node_count(g),
            (long long)frost_graph_param_count(g));
    for (int k = 0; k < frost_graph_placeholder_count(g); k++) {
        frost_shape s = {.rank = -1};
        frost_graph_placeholder_shape(g, k, &s);
        json_tensor(f, k, frost_graph_placeholder_name(g, k), &s);
    }
    fputs("],\"outputs\":[", f);
    for (int k = 0; k < frost_graph_sink_count(g); k++) {
        if (k) fputc(',', f);
        json_str(f, frost_graph_sink_name(g, k));
    }
    fputs("],\"ops\":{", f);
    for (int k = 0; k < frost_graph_op_type_count(g); k++) {
        if (k) fputc(',', f);
        json_str(f, frost_graph_op_type_name(g, k));
        fprintf(f, ":%d", frost_graph_op_type_uses(g, k));
    }
    fputc('}', f);
    if (m) {
        fputs(",\"compiled\":{\"backend\":", f);
        json_str(f, st->backend ? st->backend : "");
        fputs(",\"inputs\":[", f);
        for (int k = 0; k < frost_model_input_count(m); k++) {
            frost_shape s;
            frost_model_input_shape(m, k, &s);
            json_tensor(f, k, frost_model_input_name(m, k), &s);
        }
        fputs("],\"outputs\":[", f);
        for (int k = 0; k < frost_model_output_count(m); k++) {
            frost_shape s;
            frost_model_output_shape(m, k, &s);
            json_tensor(f, k, frost_model_output_name(m, k), &s);
        }
        fprintf(f,
                "],\"graph_nodes\":%d,\"pruned_nodes\":%d,\"identity_nodes\":%d,\"folded_nodes\":%d,"
                "\"folded_batchnorms\":%d,\"fused_ops\":%d,\"steps\":%d,\"params\":%lld,\"flops\":%lld,"
                "\"weight_bytes\":%zu,\"arena_bytes\":%zu,\"micro_batch\":%d}",
                st->graph_nodes, st->pruned_nodes, st->identity_nodes, st->folded_nodes, st->folded_batchnorms,
                st->fused_ops, st->steps, (long long)st->params, (long long)st->flops, st->weight_bytes,
                st->arena_bytes, frost_model_micro_batch(m));
    }
    if (error) {
        fputs(",\"error\":", f);
        json_str(f, error);
    }
    fputs("}\n", f);
}

/* --steps: every step of batch 1 in plan order with its kernel (the
 * profile of one run on zeros; the kernels are chosen when a batch size
 * first runs). */
static int print_steps(const frost_model *m) {
    int n_in = frost_model_input_count(m);
    float **in = calloc((size_t)n_in + 1, sizeof *in);
    float **out = calloc((size_t)frost_model_output_count(m) + 1, sizeof *out);
    frost_context *ctx = NULL;
    char *err = NULL;
    int rc = !in || !out;
    for (int k = 0; k < n_in && !rc; k++) {
        if (frost_model_input_dtype(m, k) == FROST_DTYPE_STRING) {
            fprintf(stderr, "frost inspect: --steps: string input '%s' cannot be fed zeros\n",
                    frost_model_input_name(m, k));
            rc = 1;
        } else if (!(in[k] = calloc(frost_model_input_size(m, k) + 1, sizeof(float)))) {
            rc = 1;
        }
    }
    for (int k = 0; k < frost_model_output_count(m) && !rc; k++)
        if (!(out[k] = malloc((frost_model_output_size(m, k) + 1) * sizeof(float)))) rc = 1;
    const frost_op_profile *prof = NULL;
    int np = 0;
    if (!rc && (frost_context_create(m, &ctx, &err) != FROST_OK ||
                frost_context_run(ctx, 1, (const float *const *)in, out) != FROST_OK ||
                frost_context_profile(ctx, &prof, &np) != FROST_OK)) {
        fprintf(stderr, "frost inspect: --steps: %s\n", err ? err : ctx ? frost_context_error(ctx) : "no context");
        rc = 1;
    }
    if (!rc) {
        int int8 = 0;
        for (int i = 0; i < np; i++) int8 += prof[i].kernel && strstr(prof[i].kernel, ":int8:") != NULL;
        printf("Steps (batch 1, %d, %d in int8):\n", np, int8);
        for (int i = 0; i < np; i++)
            printf("  %3d %-40s %-40s %s\n", i, prof[i].op ? prof[i].op : "?", prof[i].kernel ? prof[i].kernel : "?",
                   prof[i].name ? prof[i].name : "?");
    }
    frost_free(err);
    frost_context_free(ctx);
    for (int k = 0; in && k < n_in; k++) free(in[k]);
    for (int k = 0; out && k < frost_model_output_count(m); k++) free(out[k]);
    free(in);
    free(out);
    return rc;
}

int frost_cmd_inspect(int argc, char **argv) {
    model_flags mf;
    mf_init(&mf);
    const char *path = NULL;
    const char *signature_def = NULL;
    int json = 0, no_compile = 0, all = 0, steps = 0;
    const mf_switch own[] = {{"json", &json, NULL},
                             {"no-compile", &no_compile, NULL},
                             {"steps", &steps, NULL},
                             {"all", &all, NULL},
                             {"signature_def", NULL, &signature_def},
                             {"signature-def", NULL, &signature_def}};
    /* saved_model_cli's --dir DIR: the model's path */
    char **args = malloc(sizeof *args * (size_t)(argc + 1));
    if (!args) return 1;
    int nargs = 0;
    for (int i = 0; i < argc; i++) {
        if (i && (!strcmp(argv[i], "--dir") || !strcmp(argv[i], "-dir")) && i + 1 < argc) i++;
        else if (i && !strncmp(argv[i], "--dir=", 6)) argv[i] += 6;
        args[nargs++] = argv[i];
    }
    args[nargs] = NULL;
    int rc = mf_command_line(&mf, "inspect", nargs, args, 0, own, 6, usage, &path);
    free(args);
    if (rc >= 0) return rc;
    if (frost_path_is_savedmodel(path) && !json && !mf.source.signature)
        return inspect_savedmodel(path, &mf.source, signature_def, all);
    if (signature_def || all) {
        fprintf(stderr, "frost inspect: --%s is for a SavedModel directory\n", all ? "all" : "signature_def");
        return 2;
    }
    frost_options opt;
    frost_options_init(&opt);
    if (mf_options(&mf, &opt)) return 2;
    if (steps) opt.profiling = 1;

    char *err = NULL;
    frost_graph *g = NULL;
    frost_status st = model_source_load(&mf.source, path, &g, &err);
    if (st != FROST_OK) {
        if (json) {
            fputs("{\"model\":", stdout);
            json_str(stdout, path);
            fputs(",\"error\":", stdout);
            json_str(stdout, err ? err : frost_strerror(st));
            fputs("}\n", stdout);
        }
        fprintf(stderr, "frost inspect: %s: %s\n", frost_strerror(st), err ? err : path);
        frost_free(err);
        return 1;
    }
    frost_model *m = NULL;
    frost_compile_stats stats;
    memset(&stats, 0, sizeof stats);
    rc = 0;
    if (!no_compile) {
        st = frost_model_compile(g, &opt, &m, &err);
        if (st == FROST_OK) engine_flags_note(&mf.engine, m);
        if (st == FROST_OK) st = frost_model_stats(m, &stats);
        if (st != FROST_OK) rc = 1;
    }
    if (json) {
        print_json(path, g, rc ? NULL : m, &stats, rc ? (err ? err : frost_strerror(st)) : NULL);
    } else {
        print_graph_text(path, g);
        if (m && !rc) print_model_text(m, &stats);
        if (m && !rc && steps) rc = print_steps(m);
    }
    if (rc) fprintf(stderr, "frost inspect: cannot compile: %s: %s\n", frost_strerror(st), err ? err : path);
    frost_free(err);
    frost_model_free(m);
    frost_graph_free(g);
    return rc;
}
