/* libFuzzer target: the TensorFlow.js converter (`frost convert`, tools/convert/
 * cmd_convert.c + convert_*.c): model.json (layers or graph model), the
 * weights manifest, the weight shard, dequantization, and the load check of
 * the GraphDef it writes.
 * Input: model.json bytes, a NUL byte, then the bytes of the weight shard,
 * which is written as "w.bin" next to model.json (a manifest path of "w.bin"
 * reads it; other paths fail to open).  The last byte picks --flatten.
 * The converter reads files, so each run writes both to a private directory
 * under $TMPDIR (or /tmp), removed at exit. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int frost_cmd_convert(int argc, char **argv);

static char g_dir[512];
static char g_json[600], g_shard[600], g_out[600];

static void cleanup(void) {
    remove(g_json);
    remove(g_shard);
    remove(g_out);
    rmdir(g_dir);
}

static int write_all(const char *path, const uint8_t *p, size_t n) {
    FILE *f = fopen(path, "wb");
    if (!f) return -1;
    int ok = fwrite(p, 1, n, f) == n;
    return fclose(f) == 0 && ok ? 0 : -1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (!g_dir[0]) {
        const char *tmp = getenv("TMPDIR");
        snprintf(g_dir, sizeof g_dir, "%s/fuzz_convert.XXXXXX", tmp && *tmp ? tmp : "/tmp");
        if (!mkdtemp(g_dir)) abort();
        snprintf(g_json, sizeof g_json, "%s/model.json", g_dir);
        snprintf(g_shard, sizeof g_shard, "%s/w.bin", g_dir);
        snprintf(g_out, sizeof g_out, "%s/out.pb", g_dir);
        atexit(cleanup);
    }
    const uint8_t *nul = memchr(data, 0, size);
    size_t jlen = nul ? (size_t)(nul - data) : size;
    if (write_all(g_json, data, jlen)) abort();
    if (nul) {
        if (write_all(g_shard, nul + 1, size - jlen - 1)) abort();
    } else {
        remove(g_shard);
    }
    remove(g_out);
    char *argv[] = {"convert", g_json, "-o", g_out, "--quiet", "--flatten",
                    size && (data[size - 1] & 1) ? "reshape" : "keras", NULL};
    int rc = frost_cmd_convert(7, argv);
    if (rc != 0 && rc != 1) abort(); /* 2 is a usage error: the harness is wrong */
    return 0;
}
