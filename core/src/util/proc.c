/* paysync util: process identity by pid and start time (proc.h). */
#include "util/proc.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

int ps_proc_start_time(long pid, unsigned long long *out)
{
    char path[64], buf[1024];
    if (pid <= 0)
        return -1;
    snprintf(path, sizeof path, "/proc/%ld/stat", pid);
    FILE *f = fopen(path, "re");
    if (!f)
        return -1;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    /* "pid (comm) state ppid ...": comm may hold spaces and ')', so start after the last ')'.
     * Field 3 (state) follows it; starttime is field 22, the 20th after the ')'. */
    char *p = strrchr(buf, ')');
    if (!p)
        return -1;
    p++;
    for (int field = 3; field <= 22; field++) {
        while (*p == ' ')
            p++;
        if (!*p)
            return -1;
        if (field == 22) {
            char *end = NULL;
            errno = 0;
            unsigned long long v = strtoull(p, &end, 10);
            if (end == p || errno != 0)
                return -1;
            *out = v;
            return 0;
        }
        while (*p && *p != ' ')
            p++;
    }
    return -1;
}

int ps_proc_alive(long pid, unsigned long long start)
{
    if (pid <= 0 || (long)(pid_t)pid != pid)
        return 0;
    if (kill((pid_t)pid, 0) != 0 && errno != EPERM)
        return 0;
    if (start == 0)
        return 1;
    unsigned long long now;
    if (ps_proc_start_time(pid, &now) != 0) {
        /* gone in between, or no /proc: the pid alone decides */
        return kill((pid_t)pid, 0) == 0 || errno == EPERM;
    }
    return now == start;
}
