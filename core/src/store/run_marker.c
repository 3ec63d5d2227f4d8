/* paysync store: a run's start marker (run_marker.h). */
#include "store/run_marker.h"

#include <stdlib.h>
#include <string.h>

#include "store/store_schema.h"
#include "util/proc.h"

int ps_store_marker_live(const char *error, long *pid)
{
    size_t n = strlen(PS_STORE_RUN_INTERRUPTED);
    if (!error || strncmp(error, PS_STORE_RUN_INTERRUPTED, n) != 0)
        return 0;
    char *end = NULL;
    long p = strtol(error + n, &end, 10);
    unsigned long long since = 0;
    size_t sn = strlen(PS_STORE_RUN_START);
    if (end && strncmp(end, PS_STORE_RUN_START, sn) == 0)
        since = strtoull(end + sn, NULL, 10);
    if (pid)
        *pid = p;
    return p > 0 && end != error + n && ps_proc_alive(p, since);
}
