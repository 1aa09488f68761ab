#include "graph/pages.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#if defined(__SANITIZE_ADDRESS__)
#define PAGES_HEAP_ONLY 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define PAGES_HEAP_ONLY 1
#endif
#endif
#ifndef PAGES_HEAP_ONLY
#define PAGES_HEAP_ONLY 0
#endif

#define MAP_MIN ((size_t)1 << 20)
#define HUGE_PAGE ((size_t)2 << 20)

static size_t page_size(void) {
    long ps = sysconf(_SC_PAGESIZE);
    return ps > 0 ? (size_t)ps : 4096;
}

/* An anonymous mapping of len bytes (whole pages), aligned to 2 MiB with
 * huge pages asked for when len is at least that; NULL on failure.
 * reserve: address space only, charged as pages are touched (MAP_NORESERVE). */
static unsigned char *map_anon(size_t len, int reserve) {
    if (len > SIZE_MAX / 2) return NULL;
    size_t slack = len >= HUGE_PAGE ? HUGE_PAGE - page_size() : 0;
    int flags = MAP_PRIVATE | MAP_ANONYMOUS | (reserve ? MAP_NORESERVE : 0);
    unsigned char *m = mmap(NULL, len + slack, PROT_READ | PROT_WRITE, flags, -1, 0);
    if (m == MAP_FAILED) return NULL;
    if (!slack) return m;
    unsigned char *p = (unsigned char *)(((uintptr_t)m + HUGE_PAGE - 1) & ~(uintptr_t)(HUGE_PAGE - 1));
    if (p > m) munmap(m, (size_t)(p - m));
    if (m + slack > p) munmap(p + len, (size_t)(m + slack - p));
#ifdef MADV_HUGEPAGE
    (void)madvise(p, len, MADV_HUGEPAGE);
#endif
    return p;
}

size_t fr_pages_map_len(size_t bytes) {
    if (PAGES_HEAP_ONLY || bytes < MAP_MIN) return 0;
    size_t page = page_size();
    return bytes > SIZE_MAX - page ? 0 : (bytes + page - 1) / page * page;
}

void *fr_pages_alloc(size_t bytes, unsigned flags, size_t *map_len) {
    size_t len = fr_pages_map_len(bytes);
    *map_len = 0;
    if (!len) {
        void *p = bytes < SIZE_MAX - 64 ? aligned_alloc(64, (bytes + 63) / 64 * 64) : NULL;
        if (p && (flags & FR_PAGES_ZERO)) memset(p, 0, bytes);
        return p;
    }
    unsigned char *p = map_anon(len, 0);
    if (!p) return NULL;
    if (flags & FR_PAGES_POPULATE) {
#ifdef MADV_POPULATE_WRITE
        if (madvise(p, len, MADV_POPULATE_WRITE) != 0)
#endif
            for (size_t o = 0; o < len; o += page_size()) p[o] = 0;
    }
    *map_len = len;
    return p;
}

void fr_pages_free(void *p, size_t map_len) {
    if (map_len) munmap(p, map_len);
    else free(p);
}

void fr_pages_free_bytes(void *p, size_t bytes) { fr_pages_free(p, fr_pages_map_len(bytes)); }

struct fr_slab_chunk {
    struct fr_slab_chunk *next;
    void *p;
    size_t map_len;
};

void *fr_slab_alloc(fr_slab *s, size_t bytes) {
    if (bytes > SIZE_MAX / 2) return NULL;
    size_t need = bytes ? (bytes + 63) / 64 * 64 : 64;
    if (!PAGES_HEAP_ONLY && need <= s->left) {
        void *p = s->cur;
        s->cur += need;
        s->left -= need;
        return p;
    }
    struct fr_slab_chunk *c = malloc(sizeof *c);
    if (!c) return NULL;
    /* buffers are packed one after the other (a huge page half used only at
     * the end) in a large reservation; where the system refuses one, in a
     * mapping of this buffer's size */
    size_t page = page_size(), len = (need + page - 1) / page * page;
    c->p = NULL;
    c->map_len = 0;
    if (!PAGES_HEAP_ONLY) {
        if (len < FR_SLAB_CHUNK && (c->p = map_anon(FR_SLAB_CHUNK, 1))) c->map_len = FR_SLAB_CHUNK;
        else if ((c->p = map_anon(len, 0))) c->map_len = len;
    }
    if (!c->p && !(c->p = aligned_alloc(64, need))) {
        free(c);
        return NULL;
    }
    c->next = s->chunks;
    s->chunks = c;
    if (c->map_len > len) {
        s->cur = (unsigned char *)c->p + need;
        s->left = c->map_len - need;
    }
    return c->p;
}

void fr_slab_free(fr_slab *s) {
    for (struct fr_slab_chunk *c = s->chunks, *n; c; c = n) {
        n = c->next;
        fr_pages_free(c->p, c->map_len);
        free(c);
    }
    memset(s, 0, sizeof *s);
}
