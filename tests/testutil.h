/* Minimal test harness: CHECK macros that count, and helpers for test data. */
#ifndef FROST_TESTUTIL_H
#define FROST_TESTUTIL_H

#include <math.h>
#include <stddef.h>
#include <stdio.h>

extern int tu_passed, tu_failed;

#define CHECK(cond)                                                                                                   \
    do {                                                                                                              \
        if (cond) {                                                                                                   \
            tu_passed++;                                                                                              \
        } else {                                                                                                      \
            tu_failed++;                                                                                              \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);                                  \
        }                                                                                                             \
    } while (0)

#define CHECK_MSG(cond, ...)                                                                                          \
    do {                                                                                                              \
        if (cond) {                                                                                                   \
            tu_passed++;                                                                                              \
        } else {                                                                                                      \
            tu_failed++;                                                                                              \
            fprintf(stderr, "%s:%d: CHECK failed: %s: ", __FILE__, __LINE__, #cond);                                  \
            fprintf(stderr, __VA_ARGS__);                                                                             \
            fputc('\n', stderr);                                                                                      \
        }                                                                                                             \
    } while (0)

#define CHECK_NEAR(a, b, tol)                                                                                         \
    do {                                                                                                              \
        double tu_a_ = (double)(a), tu_b_ = (double)(b);                                                              \
        CHECK_MSG(fabs(tu_a_ - tu_b_) <= (tol), "%s = %.9g, %s = %.9g, tol %g", #a, tu_a_, #b, tu_b_, (double)(tol)); \
    } while (0)

/* Largest |a[i] - b[i]|. */
double tu_max_abs_diff(const float *a, const float *b, size_t n);
/* Largest |a[i] - b[i]| / max(1, |b[i]|). */
double tu_max_rel_diff(const float *a, const float *b, size_t n);

/* Read a whole file; NULL on failure.  *size_out gets its size.  free() it. */
void *tu_read_file(const char *path, size_t *size_out);
int tu_write_file(const char *path, const void *data, size_t size);

/* $FROST_SHARED (../shared) or NULL when it does not exist. */
const char *tu_shared_dir(void);
/* $FROST_TMP or /tmp. */
const char *tu_tmp_dir(void);

/* Waits up to `seconds` for child process pid: 1 when it exited with status
 * 0, else 0 (one killed for taking longer is reported as hung). */
int tu_child_ok(int pid, int seconds, const char *what);
/* snprintf into a static rotating buffer: for building paths in tests. */
const char *tu_path(const char *fmt, ...);

/* Whether the CPU has AVX2 but not AVX-512 (or AVX-512 capped away by
 * ONEDNN_MAX_CPU_ISA, as frost and oneDNN then see it): where oneDNN's FP32
 * direct convolution is its AVX2 kernel, the one frost's own kernels
 * replace. */
int tu_avx2_only(void);
/* The CPU has AVX2 and FMA (frost's own x86 kernels can run). */
int tu_avx2_fma(void);

/* Prints "N passed, N failed" and returns the process exit code. */
int tu_done(void);

#endif
