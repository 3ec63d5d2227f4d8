/* paysync: test-only crash points and fail points. Tests of "nothing is lost" kill a run at
 * an exact moment instead of after a guessed delay: with PS_TEST_CRASH_AT=POINT[:N] in the
 * environment, the Nth time (default 1) the process reaches ps_crash_point("POINT") it kills
 * itself with SIGKILL (no cleanup, no atexit, like `kill -9`). Without the variable a call
 * costs one comparison. The points are listed in docs/reliability.md. Not for production use:
 * the variable is read once per process, at the first call, and is not an operator setting. */
#ifndef PS_CRASHPOINT_H
#define PS_CRASHPOINT_H

/* Kills the process when PS_TEST_CRASH_AT names point and this is its Nth arrival.
 * point: a short lower-case name such as "batch-written". Never fails, never returns when
 * it fires. */
void ps_crash_point(const char *point);

/* Fault injection for error paths no real input reaches deterministically: with
 * PS_TEST_FAIL_AT=POINT[:N] in the environment (read once, same syntax), returns 1 on the Nth
 * arrival (default 1) at ps_fail_point("POINT"), and 0 otherwise; the caller then takes its
 * real failure path. Single-threaded callers only. Points: docs/reliability.md. */
int ps_fail_point(const char *point);

#endif
