#include "testutil.h"

#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#include "kernels/kernels.h"

int tu_passed, tu_failed;

double tu_max_abs_diff(const float *a, const float *b, size_t n) {
    double m = 0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)a[i] - (double)b[i]);
        if (d > m || d != d) m = d != d ? INFINITY : d;
    }
    return m;
}

double tu_max_rel_diff(const float *a, const float *b, size_t n) {
    double m = 0;
    for (size_t i = 0; i < n; i++) {
        double den = fabs((double)b[i]) > 1.0 ? fabs((double)b[i]) : 1.0;
        double d = fabs((double)a[i] - (double)b[i]) / den;
        if (d > m || d != d) m = d != d ? INFINITY : d;
    }
    return m;
}

void *tu_read_file(const char *path, size_t *size_out) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    if (fseek(f, 0, SEEK_END) != 0) { fclose(f); return NULL; }
    long n = ftell(f);
    if (n < 0) { fclose(f); return NULL; }
    rewind(f);
    unsigned char *buf = malloc((size_t)n + 1);
    if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) { free(buf); buf = NULL; }
    fclose(f);
    if (buf) { buf[n] = 0; if (size_out) *size_out = (size_t)n; }
    return buf;
}

int tu_write_file(const char *path, const void *data, size_t size) {
    FILE *f = fopen(path, "wb");
    if (!f) return -1;
    size_t w = fwrite(data, 1, size, f);
    return (fclose(f) == 0 && w == size) ? 0 : -1;
}

const char *tu_shared_dir(void) {
    const char *s = getenv("FROST_SHARED");
    if (!s || !*s) s = "../shared";
    struct stat st;
    return (stat(s, &st) == 0 && S_ISDIR(st.st_mode)) ? s : NULL;
}

const char *tu_tmp_dir(void) {
    const char *s = getenv("FROST_TMP");
    return (s && *s) ? s : "/tmp";
}

int tu_avx2_only(void) {
    /* AVX-512 as frost and oneDNN see it (fr_kernels_cpu_detect follows
     * ONEDNN_MAX_CPU_ISA) */
    fr_kernels_cpu cpu = fr_kernels_cpu_detect();
    return cpu.avx2 && !cpu.avx512f;
}

int tu_avx2_fma(void) {
#if defined(__x86_64__) && defined(__GNUC__)
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
    return 0;
#endif
}

const char *tu_path(const char *fmt, ...) {
    static char bufs[8][4096];
    static int next;
    char *b = bufs[next++ & 7];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(b, sizeof bufs[0], fmt, ap);
    va_end(ap);
    return b;
}

int tu_done(void) {
    printf("%d passed, %d failed\n", tu_passed, tu_failed);
    return tu_failed ? 1 : 0;
}

int tu_child_ok(int pid, int seconds, const char *what) {
    int status = -1, waited = 0;
    for (int i = 0; pid > 0 && i < 10 * seconds && !waited; i++) {
        waited = waitpid(pid, &status, WNOHANG) == pid;
        if (!waited) nanosleep(&(struct timespec){0, 100000000}, NULL);
    }
    if (pid > 0 && !waited) kill(pid, SIGKILL), waitpid(pid, &status, 0);
    if (!waited) printf("%s: the child hung (killed after %d s)\n", what, seconds);
    else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) printf("%s: the child failed\n", what);
    return waited && WIFEXITED(status) && WEXITSTATUS(status) == 0;
}
