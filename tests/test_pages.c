/* graph/pages.h: large buffers (fr_pages_alloc) and the weights' slab
 * (fr_slab): sizes, alignment, zeroing, no overlap between a slab's buffers,
 * buffers larger than a reservation, freeing; where the kernel gives
 * transparent huge pages, that a large buffer gets them (reported, not
 * asserted: a fragmented machine may have none to give).
 * frost-test-labels: asan */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "graph/pages.h"
#include "testutil.h"

#if defined(__SANITIZE_ADDRESS__)
#define HEAP_ONLY 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define HEAP_ONLY 1
#endif
#endif
#ifndef HEAP_ONLY
#define HEAP_ONLY 0
#endif

#define MIB ((size_t)1 << 20)

static int all_zero(const unsigned char *p, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (p[i]) return 0;
    return 1;
}

/* kB of huge pages backing [p, p + n), from /proc/self/smaps; -1 unknown. */
static long huge_kb(const void *p, size_t n) {
    FILE *f = fopen("/proc/self/smaps", "r");
    if (!f) return -1;
    char line[512];
    long kb = -1;
    int in = 0;
    uintptr_t a = (uintptr_t)p;
    while (fgets(line, sizeof line, f)) {
        unsigned long lo, hi;
        if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2 && strchr(line, '-') < strchr(line, ' ')) {
            in = lo <= a && a + n <= hi;
            continue;
        }
        long v;
        if (in && sscanf(line, "AnonHugePages: %ld kB", &v) == 1) kb = v;
    }
    fclose(f);
    return kb;
}

static void test_pages_alloc(void) {
    static const size_t sizes[] = {1, 64, 1000, MIB - 1, MIB, MIB + 4097, 2 * MIB, 5 * MIB + 3};
    for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++) {
        size_t n = sizes[i], len = 1;
        for (unsigned flags = 0; flags < 4; flags++) {
            unsigned char *p = fr_pages_alloc(n, flags, &len);
            CHECK_MSG(p != NULL, "%zu bytes, flags %u", n, flags);
            if (!p) continue;
            CHECK_MSG((uintptr_t)p % 64 == 0, "%zu bytes: %p", n, (void *)p);
            if (HEAP_ONLY || n < MIB) CHECK_MSG(len == 0, "%zu bytes: a heap block (map_len %zu)", n, len);
            else CHECK_MSG(len >= n && len % 4096 == 0, "%zu bytes: a mapping of %zu", n, len);
            if (!HEAP_ONLY && n >= 2 * MIB) CHECK_MSG((uintptr_t)p % (2 * MIB) == 0, "%zu bytes: 2 MiB aligned", n);
            if (flags & FR_PAGES_ZERO || len) CHECK_MSG(all_zero(p, n), "%zu bytes, flags %u: zero", n, flags);
            CHECK_MSG(len == fr_pages_map_len(n), "%zu bytes: map_len %zu", n, len);
            memset(p, 0xa5, n); /* every byte writable (ASan / valgrind see overruns) */
            CHECK(p[0] == 0xa5 && p[n - 1] == 0xa5);
            if (flags & 1) fr_pages_free(p, len);
            else fr_pages_free_bytes(p, n); /* by its size alone */
        }
    }
    fr_pages_free(NULL, 0);
    size_t len = 1;
    CHECK(fr_pages_alloc(SIZE_MAX - 10, 0, &len) == NULL && len == 0); /* refused, not wrapped around */
}

static void test_huge_pages(void) {
    if (HEAP_ONLY) return;
    char mode[128] = "";
    FILE *f = fopen("/sys/kernel/mm/transparent_hugepage/enabled", "r");
    if (f) {
        if (!fgets(mode, sizeof mode, f)) mode[0] = 0;
        fclose(f);
    }
    size_t len;
    unsigned char *p = fr_pages_alloc(8 * MIB, FR_PAGES_POPULATE, &len);
    CHECK(p && len == 8 * MIB);
    if (!p) return;
    long kb = huge_kb(p, len);
    printf("transparent huge pages: %s  an 8 MiB buffer: %ld kB of huge pages\n", mode[0] ? strtok(mode, "\n") : "(none)",
           kb);
    if (strstr(mode, "[never]") || !mode[0]) CHECK(kb <= 0);
    fr_pages_free(p, len);
}

/* Buffers of many sizes from one slab: aligned, disjoint (each keeps the
 * pattern written into it), a buffer larger than a reservation too. */
static void test_slab(void) {
    fr_slab s;
    memset(&s, 0, sizeof s);
    fr_slab_free(&s); /* a zeroed slab */
    enum { N = 400 };
    unsigned char *p[N];
    size_t n[N];
    uint32_t seed = 12345;
    size_t total = 0;
    for (int i = 0; i < N; i++) {
        seed = seed * 1664525u + 1013904223u;
        n[i] = i % 50 == 49 ? (size_t)(seed % (3 * MIB)) : (size_t)(seed % 70000);
        if (i == 7) n[i] = 0;
        if (i == 200) n[i] = FR_SLAB_CHUNK + 1; /* a mapping of its own */
        p[i] = fr_slab_alloc(&s, n[i]);
        CHECK_MSG(p[i] != NULL, "buffer %d of %zu bytes", i, n[i]);
        if (!p[i]) continue;
        CHECK_MSG((uintptr_t)p[i] % 64 == 0, "buffer %d: %p", i, (void *)p[i]);
        if (i == 200) { /* touch its ends only */
            p[i][0] = p[i][n[i] - 1] = (unsigned char)i;
            continue;
        }
        memset(p[i], i & 0xff, n[i]);
        total += n[i];
    }
    int bad = 0;
    for (int i = 0; i < N; i++) {
        if (!p[i]) continue;
        if (i == 200) {
            bad += p[i][0] != (unsigned char)i || p[i][n[i] - 1] != (unsigned char)i;
            continue;
        }
        for (size_t k = 0; k < n[i]; k++)
            if (p[i][k] != (unsigned char)(i & 0xff)) {
                bad++;
                break;
            }
    }
    CHECK_MSG(bad == 0, "%d of %d buffers overwritten by another (%zu bytes in all)", bad, N, total);
    CHECK(fr_slab_alloc(&s, SIZE_MAX - 10) == NULL); /* refused, not wrapped around */
    fr_slab_free(&s);
    CHECK(s.chunks == NULL && s.left == 0);
    /* usable again after freeing */
    void *q = fr_slab_alloc(&s, 100);
    CHECK(q != NULL);
    fr_slab_free(&s);
}

int main(void) {
    test_pages_alloc();
    test_huge_pages();
    test_slab();
    return tu_done();
}
