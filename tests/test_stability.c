/* frost-test-labels: asan */
/* 1000 runs of one context: bit-identical outputs, and no memory growth
 * between run 10 and run 1000: the anonymous resident set (resident minus
 * file-backed pages, from /proc/self/statm) must not grow.  File-backed pages
 * (the memory-mapped weights) are left out: the kernel maps and drops them in
 * fault-around chunks regardless of what the program allocates.
 * Under the sanitizers (FROST_SANITIZE=1) the outputs are still compared, over
 * 200 runs, but the resident set is not: ASan keeps freed blocks in its
 * quarantine (up to 256 MB) and adds shadow pages, so it grows with any
 * allocation a third-party library makes and frees; LeakSanitizer checks for
 * leaks at exit instead. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "frost.h"
#include "testutil.h"

static long resident_pages(void) {
    long size = 0, res = 0, file = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (!f) return -1;
    if (fscanf(f, "%ld %ld %ld", &size, &res, &file) != 3) res = -1, file = 0;
    fclose(f);
    return res - file;
}

static int sanitized;

static void soak(const char *path, const float *input, frost_backend backend, int runs) {
    frost_options o;
    frost_options_init(&o);
    o.backend = backend;
    o.max_batch = 1;
    frost_model *m = NULL;
    char *err = NULL;
    CHECK_MSG(frost_model_load(path, &o, &m, &err) == FROST_OK, "%s", err ? err : "");
    frost_free(err);
    if (!m) return;
    frost_context *c = NULL;
    CHECK(frost_context_create(m, &c, NULL) == FROST_OK);
    size_t n = frost_model_output_size(m, 0);
    float *first = calloc(n, sizeof(float)), *out = calloc(n, sizeof(float));
    long rss10 = 0, rss_end = 0;
    int same = 1;
    for (int r = 1; r <= runs; r++) {
        if (frost_context_run1(c, 1, input, r == 1 ? first : out) != FROST_OK) {
            CHECK_MSG(0, "run %d: %s", r, frost_context_error(c));
            break;
        }
        if (r > 1 && memcmp(first, out, n * sizeof(float))) same = 0;
        if (r == 10) rss10 = resident_pages();
    }
    rss_end = resident_pages();
    CHECK_MSG(same, "backend %d: outputs differ between runs", backend);
    long page_kb = sysconf(_SC_PAGESIZE) / 1024;
    printf("backend %s: anonymous resident %ld kB at run 10, %ld kB at run %d\n", backend == FROST_BACKEND_REFERENCE ? "reference" : "auto",
           rss10 * page_kb, rss_end * page_kb, runs);
    if (!sanitized)
        CHECK_MSG(rss10 > 0 && rss_end <= rss10, "resident set grew from %ld to %ld pages", rss10, rss_end);
    free(first), free(out);
    frost_context_free(c);
    frost_model_free(m);
}

int main(void) {
    const char *shared = tu_shared_dir();
    if (!shared) return 77;
    const char *model = "mobilenet_v1_0.25_128_quant_float";
    size_t len = 0;
    float *input = tu_read_file(tu_path("%s/expected/tensors/%s__grace_hopper.input.f32", shared, model), &len);
    if (!input) return 77;
    const char *san = getenv("FROST_SANITIZE");
    sanitized = san && !strcmp(san, "1");
    int runs = sanitized ? 200 : 1000;
    soak(tu_path("%s/models/%s.pb", shared, model), input, FROST_BACKEND_REFERENCE, runs);
    soak(tu_path("%s/models/%s.pb", shared, model), input, FROST_BACKEND_AUTO, runs);
    free(input);
    return tu_done();
}
