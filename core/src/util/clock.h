/* paysync core: the one clock every part of the core and every plugin (through the host
 * table) reads and sleeps with, so that tests can replace it.
 *
 * Real by default. Test hooks, never for production use:
 *   - PAYSYNC_FAKE_NOW_MS=N (environment): the wall clock reads N ms since the epoch (plus
 *     any virtual sleep, below);
 *   - PS_TEST_FAKE_SLEEP=1 (environment): sleeping does not wait; it advances a virtual
 *     offset added to both clocks, so backoff, Retry-After and pacing happen in no real time
 *     while every duration the code measures stays consistent;
 *   - ps_clock_set_fake (unit tests): both clocks read a counter that only sleeping moves. */
#ifndef PS_CLOCK_H
#define PS_CLOCK_H

#include <stdint.h>

/* Wall-clock time in ms since the Unix epoch. */
int64_t ps_clock_now_ms(void);

/* Monotonic time in ms (arbitrary origin); never goes back. */
int64_t ps_clock_monotonic_ms(void);

/* Sleeps ms milliseconds (nothing when ms <= 0), resuming after signals; under a fake sleep
 * advances the virtual clock instead. Thread-safe. */
void ps_clock_sleep_ms(int64_t ms);

/* Total ms slept through ps_clock_sleep_ms since the process started or the last
 * ps_clock_set_fake (real and virtual sleeps alike). For tests and statistics. */
int64_t ps_clock_slept_ms(void);

/* Unit tests: on = 1 makes both clocks virtual, starting at start_ms (the monotonic clock
 * reads start_ms too), and sleeping advance them; on = 0 restores the real clock (the
 * environment hooks above still apply). Resets the slept counter. */
void ps_clock_set_fake(int on, int64_t start_ms);

#endif
