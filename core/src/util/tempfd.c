/* paysync: temporary files (see tempfd.h). */
#include "util/tempfd.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

void ps_temp_dir(const char *given, char *out, size_t cap)
{
    if (!given || !*given)
        given = getenv("TMPDIR");
    snprintf(out, cap, "%s", given && *given ? given : "/tmp");
}

int ps_temp_fd(const char *dir, const char *prefix)
{
    char path[4096];
    if ((size_t)snprintf(path, sizeof path, "%s/%sXXXXXX", dir, prefix) >= sizeof path) {
        errno = ENAMETOOLONG;
        return -1;
    }
    int fd = mkstemp(path); /* O_EXCL, mode 0600 */
    if (fd >= 0)
        unlink(path);
    return fd;
}
