/* Unit tests: process identity by pid and start time (core/src/util/proc.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util/proc.h"

static void test_own_process(void **state)
{
    (void)state;
    unsigned long long since = 0;
    assert_int_equal(ps_proc_start_time((long)getpid(), &since), 0);
    assert_true(since > 0);
    assert_int_equal(ps_proc_alive((long)getpid(), since), 1);
    assert_int_equal(ps_proc_alive((long)getpid(), 0), 1);         /* old marker: pid only */
    assert_int_equal(ps_proc_alive((long)getpid(), since + 1), 0); /* pid reused */
    assert_int_equal(ps_proc_alive(0, 0), 0);
    assert_int_equal(ps_proc_alive(-5, 0), 0);
    assert_int_equal(ps_proc_start_time(0, &since), -1);
}

/* A process whose name holds ") " still parses (the name is skipped by its last ')'); a
 * reaped child's pid is not alive. */
static void test_odd_name_and_dead_child(void **state)
{
    (void)state;
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    pid_t child = fork();
    assert_true(child >= 0);
    if (child == 0) {
        prctl(PR_SET_NAME, "a) 1 2 3 (b", 0, 0, 0);
        char c = 'x';
        if (write(fds[1], &c, 1) != 1)
            _exit(1);
        pause();
        _exit(0);
    }
    char c;
    assert_int_equal(read(fds[0], &c, 1), 1);
    unsigned long long parent = 0, since = 0;
    assert_int_equal(ps_proc_start_time((long)getpid(), &parent), 0);
    assert_int_equal(ps_proc_start_time((long)child, &since), 0);
    assert_true(since >= parent);
    assert_int_equal(ps_proc_alive((long)child, since), 1);
    kill(child, SIGKILL);
    waitpid(child, NULL, 0);
    assert_int_equal(ps_proc_alive((long)child, since), 0);
    assert_int_equal(ps_proc_alive((long)child, 0), 0);
    assert_int_equal(ps_proc_start_time((long)child, &since), -1);
    close(fds[0]);
    close(fds[1]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_own_process),
        cmocka_unit_test(test_odd_name_and_dead_child),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
