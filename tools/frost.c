/* frost: the command-line tool.  Thin: every subcommand lives in its folder,
 * tools/<command>/cmd_<command>.c, and uses only the public API (plus
 * tools/common/: flag parsing, engine flags, labels). */
#include <stdio.h>
#include <string.h>

#include "common/cli.h"
#include "common/wait_policy.h"
#include "frost.h"

/* Subcommands (one per file).  Keep sorted by name. */
#define FROST_COMMANDS(X) \
    /* X(name, summary) */ \
    X(bench, "measure reload / cached / batched inference; CSV and SVG plot") \
    X(classify, "classify images (label_image flags; files, directories, stdin)") \
    X(convert, "convert a TensorFlow.js model (model.json) or a SavedModel to a frozen GraphDef") \
    X(inspect, "summarize a graph: inputs, outputs, ops, parameters, what compiling does") \
    X(quantize, "post-training int8 quantization calibrated on images (FakeQuant graph)") \
    X(run, "run any graph on raw float32 tensors, write its outputs raw") \
    X(serve, "TensorFlow Serving-compatible REST server with dynamic batching") \
    X(tune, "measure each convolution's kernels on this machine; write a tuning record")

#define DECLARE(name, summary) int frost_cmd_##name(int argc, char **argv);
FROST_COMMANDS(DECLARE)

static const struct {
    const char *name;
    cli_cmd_fn fn;
    const char *summary;
} commands[] = {
#define ENTRY(name, summary) {#name, frost_cmd_##name, summary},
    FROST_COMMANDS(ENTRY)
    {NULL, NULL, NULL}};

static void usage(FILE *out) {
    fprintf(out,
            "frost %s: load a frozen TensorFlow graph once, classify many images.\n"
            "\n"
            "usage: frost <command> [options]      frost <command> --help for its options\n"
            "       frost --graph=MODEL.pb --image=FILE ...   (same as 'frost classify', label_image style)\n"
            "\n"
            "commands:\n",
            frost_version());
    for (int i = 0; commands[i].name; i++) fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
}

int main(int argc, char **argv) {
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return argc < 2 ? 2 : 0;
    }
    if (!strcmp(argv[1], "--version")) {
        printf("frost %s\n", frost_version());
        return 0;
    }
    wait_policy_enforce(argc, argv); /* may restart the program with OMP_WAIT_POLICY set */
    for (int i = 0; commands[i].name; i++)
        if (!strcmp(argv[1], commands[i].name)) return commands[i].fn(argc - 1, argv + 1);
    /* label_image compatibility: flags without a command mean "classify". */
    if (argv[1][0] == '-') {
        for (int i = 0; commands[i].name; i++)
            if (!strcmp(commands[i].name, "classify")) {
                argv[0] = (char *)"classify";
                return commands[i].fn(argc, argv);
            }
    }
    fprintf(stderr, "frost: unknown command '%s'\n\n", argv[1]);
    usage(stderr);
    return 2;
}
