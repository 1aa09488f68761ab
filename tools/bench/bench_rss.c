#include "bench_rss.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Read a small /proc file into buf (NUL-terminated) with plain syscalls. */
static int read_small(const char *path, char *buf, size_t cap) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    size_t len = 0;
    while (len + 1 < cap) {
        ssize_t got = read(fd, buf + len, cap - 1 - len);
        if (got <= 0) break;
        len += (size_t)got;
    }
    close(fd);
    buf[len] = '\0';
    return len > 0 ? 0 : -1;
}

long bench_rss_kb(void) {
    char buf[128];
    if (read_small("/proc/self/statm", buf, sizeof buf) != 0) return -1;
    /* "size resident shared text lib data dt", in pages */
    char *end;
    strtol(buf, &end, 10);
    long resident = strtol(end, NULL, 10);
    long page = sysconf(_SC_PAGESIZE);
    if (resident < 0 || page <= 0) return -1;
    return resident * (page / 1024);
}

long bench_peak_rss_kb(void) {
    char buf[4096];
    if (read_small("/proc/self/status", buf, sizeof buf) != 0) return -1;
    const char *line = strstr(buf, "VmHWM:");
    return line ? strtol(line + 6, NULL, 10) : -1;
}
