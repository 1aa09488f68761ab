#include "pb/mapfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "graph/graph.h"

/* Opens the regular file at path (its size in *st): the descriptor, or -1
 * with the message. */
static int open_regular(const char *path, struct stat *st, char **err) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        fr_errorf(err, "%s: cannot open: %s", path, strerror(errno));
        return -1;
    }
    if (fstat(fd, st) != 0 || !S_ISREG(st->st_mode)) {
        fr_errorf(err, "%s: not a regular file", path);
        close(fd);
        return -1;
    }
    return fd;
}

frost_status fr_read_file(const char *path, uint8_t **data, size_t *len, char **err) {
    *data = NULL;
    *len = 0;
    struct stat st;
    int fd = open_regular(path, &st, err);
    if (fd < 0) return FROST_E_IO;
    frost_status status = FROST_OK;
    uint8_t *buf = NULL;
    size_t n = 0;
    if ((uint64_t)st.st_size >= (uint64_t)SIZE_MAX || !(buf = malloc((size_t)st.st_size + 1))) {
        fr_errorf(err, "%s: out of memory for %lld bytes", path, (long long)st.st_size);
        status = FROST_E_NO_MEMORY;
    } else {
        while (n < (size_t)st.st_size) {
            ssize_t r = read(fd, buf + n, (size_t)st.st_size - n);
            if (r < 0 && errno == EINTR) continue;
            if (r <= 0) {
                fr_errorf(err, "%s: cannot read: %s", path, r < 0 ? strerror(errno) : "the file shrank");
                status = FROST_E_IO;
                break;
            }
            n += (size_t)r;
        }
    }
    close(fd);
    if (status != FROST_OK) {
        free(buf);
        return status;
    }
    *data = buf;
    *len = n;
    return FROST_OK;
}

void fr_map_populate(const void *p, size_t n) {
#ifdef MADV_POPULATE_READ
    long ps = sysconf(_SC_PAGESIZE);
    uintptr_t page = ps > 0 ? (uintptr_t)ps : 4096, lo = (uintptr_t)p & ~(page - 1), hi = (uintptr_t)p + n;
    if (n >= page) (void)madvise((void *)lo, hi - lo, MADV_POPULATE_READ);
#else
    (void)p;
    (void)n;
#endif
}

/* fr_map_file, at `hint` when that range is free (NULL: anywhere). */
static frost_status map_file_at(const char *path, unsigned flags, void *hint, void **map, const uint8_t **data,
                                size_t *len, char **err) {
    *map = NULL;
    *data = (const uint8_t *)"";
    *len = 0;
    struct stat st;
    int fd = open_regular(path, &st, err);
    if (fd < 0) return FROST_E_IO;
    frost_status status = FROST_OK;
    if (st.st_size > 0) {
        int mf = MAP_PRIVATE | (flags & FR_MAP_POPULATE ? MAP_POPULATE : 0);
#ifdef MAP_FIXED_NOREPLACE
        if (hint) mf |= MAP_FIXED_NOREPLACE;
#endif
        void *m = mmap(hint, (size_t)st.st_size, PROT_READ, mf, fd, 0);
#ifdef MAP_FIXED_NOREPLACE
        if (m == MAP_FAILED && hint) m = mmap(NULL, (size_t)st.st_size, PROT_READ, mf & ~MAP_FIXED_NOREPLACE, fd, 0);
#endif
        if (m == MAP_FAILED) {
            fr_errorf(err, "%s: cannot map: %s", path, strerror(errno));
            status = FROST_E_IO;
        } else {
            *map = m;
            *data = m;
            *len = (size_t)st.st_size;
        }
    }
    close(fd);
    return status;
}

frost_status fr_map_file(const char *path, unsigned flags, void **map, const uint8_t **data, size_t *len, char **err) {
    return map_file_at(path, flags, NULL, map, data, len, err);
}

size_t fr_map_extent(size_t len) {
    long ps = sysconf(_SC_PAGESIZE);
    size_t page = ps > 0 ? (size_t)ps : 4096;
    return (len + page - 1) / page * page;
}

frost_status fr_map_file_after(const char *path, unsigned flags, const void *prev, size_t prev_len, void **map,
                               const uint8_t **data, size_t *len, char **err) {
    void *hint = prev ? (void *)((uintptr_t)prev + fr_map_extent(prev_len)) : NULL;
    return map_file_at(path, flags, hint, map, data, len, err);
}
