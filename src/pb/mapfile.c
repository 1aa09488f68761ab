#include "pb/mapfile.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "graph/graph.h"

frost_status fr_map_file(const char *path, void **map, const uint8_t **data, size_t *len, char **err) {
    *map = NULL;
    *data = (const uint8_t *)"";
    *len = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        fr_errorf(err, "%s: cannot open: %s", path, strerror(errno));
        return FROST_E_IO;
    }
    struct stat st;
    frost_status status = FROST_OK;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        fr_errorf(err, "%s: not a regular file", path);
        status = FROST_E_IO;
    } else if (st.st_size > 0) {
        void *m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
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
