/* paysync util: paths in user-facing messages (pathtext.h). */
#include "util/pathtext.h"

#include <string.h>

const char *ps_path_shown(const char *p, char *buf)
{
    if (!p)
        return "(null)";
    size_t n = strlen(p);
    if (n <= PS_SHOWN_PATH_MAX)
        return p;
    size_t head = PS_SHOWN_PATH_MAX / 2 - 3, tail = PS_SHOWN_PATH_MAX - head - 3;
    memcpy(buf, p, head);
    memcpy(buf + head, "...", 3);
    memcpy(buf + head + 3, p + n - tail, tail + 1);
    return buf;
}
