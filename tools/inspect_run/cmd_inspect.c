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
            "\n"
            "Print the graph's candidate inputs (Placeholders, with shapes) and outputs\n"
            "(sinks), its op histogram and const parameter count; then compile it and\n"
            "print the compiled inputs and outputs with shapes and what the compiler did:\n"
            "nodes pruned, Identity nodes dropped, nodes constant-folded, batch norms\n"
            "folded, ops fused, kernel steps, parameters, FLOPs, weight and arena bytes.\n"
            "\n"
            "options:\n"
            "  --json                print one JSON object instead of text\n"
            "  --no-compile          only the graph part\n"
            "%s"
            "\n"
            "exit status: 0 ok, 1 the model cannot be loaded or compiled, 2 usage error\n",
            mf_help_compile);
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

int frost_cmd_inspect(int argc, char **argv) {
    model_flags mf;
    mf_init(&mf);
    const char *path = NULL;
    int json = 0, no_compile = 0;
    const mf_switch own[] = {{"json", &json}, {"no-compile", &no_compile}};
    int rc = mf_command_line(&mf, "inspect", argc, argv, 0, own, 2, usage, &path);
    if (rc >= 0) return rc;
    frost_options opt;
    frost_options_init(&opt);
    if (mf_options(&mf, &opt)) return 2;

    char *err = NULL;
    frost_graph *g = NULL;
    frost_status st = frost_graph_load(path, &g, &err);
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
        if (st == FROST_OK) st = frost_model_stats(m, &stats);
        if (st != FROST_OK) rc = 1;
    }
    if (json) {
        print_json(path, g, rc ? NULL : m, &stats, rc ? (err ? err : frost_strerror(st)) : NULL);
    } else {
        print_graph_text(path, g);
        if (m && !rc) print_model_text(m, &stats);
    }
    if (rc) fprintf(stderr, "frost inspect: cannot compile: %s: %s\n", frost_strerror(st), err ? err : path);
    frost_free(err);
    frost_model_free(m);
    frost_graph_free(g);
    return rc;
}
