/* paysync: test-only crash points and fail points (see crashpoint.h). */
#include "crashpoint.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* One hook: PS_TEST_CRASH_AT or PS_TEST_FAIL_AT, read once. */
typedef struct hook {
    int armed; /* -1: environment not read yet, 0: off, 1: on */
    char target[64];
    unsigned long wanted, seen;
} hook;

static hook crash_hook = {-1, "", 0, 0};
static hook fail_hook = {-1, "", 0, 0};

/* Arms h from the variable's value v (NULL: unset). */
static void arm(hook *h, const char *v)
{
    h->armed = 0;
    if (!v || !*v)
        return;
    size_t n = strcspn(v, ":");
    if (n == 0 || n >= sizeof h->target)
        return;
    memcpy(h->target, v, n);
    h->target[n] = '\0';
    h->wanted = 1;
    if (v[n] == ':') {
        char *end;
        if (v[n + 1] < '0' || v[n + 1] > '9')
            return;
        h->wanted = strtoul(v + n + 1, &end, 10);
        if (*end || h->wanted == 0)
            return;
    }
    h->armed = 1;
}

/* 1 on the Nth arrival at the hook's point (the hook armed). */
static int fires(hook *h, const char *point)
{
    return h->armed && strcmp(point, h->target) == 0 && ++h->seen == h->wanted;
}

void ps_crash_point(const char *point)
{
    if (crash_hook.armed < 0)
        arm(&crash_hook, getenv("PS_TEST_CRASH_AT"));
    if (!fires(&crash_hook, point))
        return;
    raise(SIGKILL);
    _exit(137); /* not reached */
}

int ps_fail_point(const char *point)
{
    if (fail_hook.armed < 0)
        arm(&fail_hook, getenv("PS_TEST_FAIL_AT"));
    return fires(&fail_hook, point);
}
