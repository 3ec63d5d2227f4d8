/* paysync: see mkdirs.h. */
#include "util/mkdirs.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int ps_make_parents_mode(const char *path, mode_t mode)
{
    char *p = strdup(path);
    if (!p) {
        errno = ENOMEM;
        return -1;
    }
    for (char *c = p + 1; *c; c++) {
        if (*c != '/')
            continue;
        *c = '\0';
        if (mkdir(p, mode) != 0 && errno != EEXIST) {
            int e = errno;
            free(p);
            errno = e;
            return -1;
        }
        *c = '/';
    }
    free(p);
    return 0;
}

int ps_make_parents(const char *path)
{
    return ps_make_parents_mode(path, 0777);
}
