/* Unit tests: core/src/util/crashpoint.c (test-only crash points, PS_TEST_CRASH_AT, and fail
 * points, PS_TEST_FAIL_AT). Each case runs in a forked child, since the variables are read
 * once per process and a firing crash point kills the process. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util/crashpoint.h"

typedef struct outcome {
    int killed;    /* 1: died of SIGKILL */
    int exit_code; /* when not killed */
    int passed;    /* calls of "x" that returned before the end or the kill */
} outcome;

/* Forks a child that sets PS_TEST_CRASH_AT=value (unset when NULL), then calls
 * ps_crash_point("y") and ps_crash_point("x") alternately five times each, reporting each
 * returned "x" call through a pipe. */
static outcome run_child(const char *value)
{
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(fds[0]);
        if (value)
            setenv("PS_TEST_CRASH_AT", value, 1);
        else
            unsetenv("PS_TEST_CRASH_AT");
        for (int i = 0; i < 5; i++) {
            ps_crash_point("y");
            ps_crash_point("x");
            if (write(fds[1], "x", 1) != 1)
                _exit(3);
        }
        _exit(0);
    }
    close(fds[1]);
    outcome o = {0};
    char c;
    while (read(fds[0], &c, 1) == 1)
        o.passed++;
    close(fds[0]);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    if (WIFSIGNALED(status)) {
        assert_int_equal(WTERMSIG(status), SIGKILL);
        o.killed = 1;
    } else {
        assert_true(WIFEXITED(status));
        o.exit_code = WEXITSTATUS(status);
    }
    return o;
}

static void test_fires_at_first_arrival_by_default(void **state)
{
    (void)state;
    outcome o = run_child("x");
    assert_int_equal(o.killed, 1);
    assert_int_equal(o.passed, 0);
}

static void test_fires_at_nth_arrival_of_that_point_only(void **state)
{
    (void)state;
    /* the five calls of "y" in between do not count towards "x" */
    outcome o = run_child("x:3");
    assert_int_equal(o.killed, 1);
    assert_int_equal(o.passed, 2);
    o = run_child("x:5");
    assert_int_equal(o.killed, 1);
    assert_int_equal(o.passed, 4);
}

static void test_never_reached_does_nothing(void **state)
{
    (void)state;
    static const char *const values[] = {"x:6", "z", "xx", "X"};
    for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
        outcome o = run_child(values[i]);
        assert_int_equal(o.killed, 0);
        assert_int_equal(o.exit_code, 0);
        assert_int_equal(o.passed, 5);
    }
}

static void test_unset_or_malformed_is_off(void **state)
{
    (void)state;
    char longname[100];
    memset(longname, 'x', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    const char *const values[] = {NULL, "", ":1", "x:", "x:0", "x:1a", "x:-1", "x:1:2", longname};
    for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
        outcome o = run_child(values[i]);
        assert_int_equal(o.killed, 0);
        assert_int_equal(o.exit_code, 0);
        assert_int_equal(o.passed, 5);
    }
}

/* ps_fail_point (PS_TEST_FAIL_AT): in a child, the results of ps_fail_point("y") and
 * ps_fail_point("x") alternately five times each, as bits of x's calls (bit i: call i fired);
 * a crash point of the same name never fires (the two variables are separate). */
static int fail_bits(const char *fail_at, const char *crash_at)
{
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        if (fail_at)
            setenv("PS_TEST_FAIL_AT", fail_at, 1);
        else
            unsetenv("PS_TEST_FAIL_AT");
        if (crash_at)
            setenv("PS_TEST_CRASH_AT", crash_at, 1);
        else
            unsetenv("PS_TEST_CRASH_AT");
        int bits = 0;
        for (int i = 0; i < 5; i++) {
            bits |= ps_fail_point("y") << 5; /* never x's */
            bits |= ps_fail_point("x") << i;
            ps_crash_point("x");
        }
        _exit(bits);
    }
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    return WEXITSTATUS(status);
}

static void test_fail_point(void **state)
{
    (void)state;
    assert_int_equal(fail_bits("x", NULL), 1); /* the first call only */
    assert_int_equal(fail_bits("x:3", NULL), 1 << 2);
    assert_int_equal(fail_bits("x:6", NULL), 0); /* never reached */
    assert_int_equal(fail_bits(NULL, NULL), 0);
    assert_int_equal(fail_bits("x:0", NULL), 0); /* malformed: off */
    assert_int_equal(fail_bits("y:2", NULL), 1 << 5);
    assert_int_equal(fail_bits(NULL, "y"), 0); /* a crash point elsewhere: no failure */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fires_at_first_arrival_by_default),
        cmocka_unit_test(test_fires_at_nth_arrival_of_that_point_only),
        cmocka_unit_test(test_never_reached_does_nothing),
        cmocka_unit_test(test_unset_or_malformed_is_off),
        cmocka_unit_test(test_fail_point),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
