/* A main() for the fuzz targets outside libFuzzer: runs LLVMFuzzerTestOneInput
 * once on every file named (directories: every file in them, sorted), so the
 * seed corpora and tests/crashers/ replay in every build (tests
 * fuzz_replay_*; under FROST_SANITIZE with ASan + UBSan).
 *   replay_fuzz_image [-v] FILE|DIR...
 * Exit status 0 when every input ran (a crash ends the process), 1 when an
 * input could not be read or no input was found. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int verbose;

static int run_file(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "replay: cannot open %s\n", path);
        return -1;
    }
    size_t cap = 1 << 16, len = 0;
    uint8_t *buf = malloc(cap);
    for (size_t n; buf && (n = fread(buf + len, 1, cap - len, f)) > 0;) {
        len += n;
        if (len == cap) {
            uint8_t *nb = realloc(buf, cap *= 2);
            if (!nb) free(buf);
            buf = nb;
        }
    }
    int bad = ferror(f) || !buf;
    fclose(f);
    if (bad) {
        fprintf(stderr, "replay: cannot read %s\n", path);
        free(buf);
        return -1;
    }
    if (verbose) fprintf(stderr, "replay: %s (%zu bytes)\n", path, len);
    /* An exact-size copy, so that ASan sees reads past the end of the input. */
    uint8_t *copy = malloc(len ? len : 1);
    if (!copy) return -1;
    if (len) memcpy(copy, buf, len);
    free(buf);
    LLVMFuzzerTestOneInput(copy, len);
    free(copy);
    return 0;
}

static int cmp(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* Returns the number of inputs run, -1 on a read error. */
static int run_path(const char *path) {
    struct stat st;
    if (stat(path, &st)) {
        fprintf(stderr, "replay: no such file or directory: %s\n", path);
        return -1;
    }
    if (!S_ISDIR(st.st_mode)) return run_file(path) ? -1 : 1;
    DIR *d = opendir(path);
    if (!d) return -1;
    char **names = NULL;
    size_t n = 0, cap = 0;
    for (struct dirent *e; (e = readdir(d));) {
        if (e->d_name[0] == '.') continue;
        if (n == cap) {
            char **nn = realloc(names, (cap = cap ? cap * 2 : 64) * sizeof *names);
            if (!nn) break;
            names = nn;
        }
        size_t len = strlen(path) + strlen(e->d_name) + 2;
        if (!(names[n] = malloc(len))) break;
        snprintf(names[n], len, "%s/%s", path, e->d_name);
        n++;
    }
    closedir(d);
    if (n) qsort(names, n, sizeof *names, cmp);
    int count = 0, err = 0;
    for (size_t i = 0; i < n; i++) {
        if (!stat(names[i], &st) && S_ISREG(st.st_mode)) {
            if (run_file(names[i])) err = 1;
            else count++;
        }
        free(names[i]);
    }
    free(names);
    return err ? -1 : count;
}

int main(int argc, char **argv) {
    int total = 0, err = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-v")) {
            verbose = 1;
            continue;
        }
        int n = run_path(argv[i]);
        if (n < 0) err = 1;
        else total += n;
    }
    printf("replayed %d inputs\n", total);
    if (!total) fprintf(stderr, "replay: no inputs\n");
    return err || !total;
}
