/* paysync core: real or fake clock (see clock.h). */
#include "util/clock.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static atomic_int g_fake;        /* ps_clock_set_fake: fully virtual clocks */
static atomic_llong g_fake_base; /* virtual clocks' start */
static atomic_llong g_offset;    /* virtual sleep added to both clocks */
static atomic_llong g_slept;     /* every sleep, real or virtual */

static int fake_sleep(void)
{
    if (atomic_load(&g_fake))
        return 1;
    const char *e = getenv("PS_TEST_FAKE_SLEEP"); /* read per sleep: sleeps are rare */
    return e && *e && strcmp(e, "0") != 0;
}

static int64_t read_clock(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t ps_clock_now_ms(void)
{
    if (atomic_load(&g_fake))
        return atomic_load(&g_fake_base) + atomic_load(&g_offset);
    const char *fake = getenv("PAYSYNC_FAKE_NOW_MS");
    int64_t base = fake && *fake ? strtoll(fake, NULL, 10) : read_clock(CLOCK_REALTIME);
    return base + atomic_load(&g_offset);
}

int64_t ps_clock_monotonic_ms(void)
{
    if (atomic_load(&g_fake))
        return atomic_load(&g_fake_base) + atomic_load(&g_offset);
    return read_clock(CLOCK_MONOTONIC) + atomic_load(&g_offset);
}

void ps_clock_sleep_ms(int64_t ms)
{
    if (ms <= 0)
        return;
    atomic_fetch_add(&g_slept, ms);
    if (fake_sleep()) {
        atomic_fetch_add(&g_offset, ms);
        return;
    }
    struct timespec ts = {.tv_sec = (time_t)(ms / 1000), .tv_nsec = (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

int64_t ps_clock_slept_ms(void)
{
    return atomic_load(&g_slept);
}

void ps_clock_set_fake(int on, int64_t start_ms)
{
    atomic_store(&g_fake_base, start_ms);
    atomic_store(&g_offset, 0);
    atomic_store(&g_slept, 0);
    atomic_store(&g_fake, on ? 1 : 0);
}
