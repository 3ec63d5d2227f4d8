/* paysync: test-only crash points (see crashpoint.h). */
#include "crashpoint.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int armed = -1; /* -1: environment not read yet, 0: off, 1: on */
static char target[64];
static unsigned long wanted, seen;

static void arm(void)
{
    const char *v = getenv("PS_TEST_CRASH_AT");
    armed = 0;
    if (!v || !*v)
        return;
    size_t n = strcspn(v, ":");
    if (n == 0 || n >= sizeof target)
        return;
    memcpy(target, v, n);
    target[n] = '\0';
    wanted = 1;
    if (v[n] == ':') {
        char *end;
        if (v[n + 1] < '0' || v[n + 1] > '9')
            return;
        wanted = strtoul(v + n + 1, &end, 10);
        if (*end || wanted == 0)
            return;
    }
    armed = 1;
}

void ps_crash_point(const char *point)
{
    if (armed < 0)
        arm();
    if (!armed || strcmp(point, target) != 0 || ++seen != wanted)
        return;
    raise(SIGKILL);
    _exit(137); /* not reached */
}
