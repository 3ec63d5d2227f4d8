/* The one mkdir -p (util/mkdirs.c): parents created with the mode asked (less the umask),
 * existing ones accepted, the last component left alone, errors with errno. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/mkdirs.h"

static void test_mkdirs(void **state)
{
    (void)state;
    char dir[] = "/tmp/ps-mkdirs-XXXXXX";
    assert_non_null(mkdtemp(dir));
    mode_t old = umask(022);
    char path[256], sub[256];
    snprintf(path, sizeof path, "%s/a/b/file.db", dir);
    assert_int_equal(ps_make_parents_mode(path, 0750), 0);
    struct stat sb;
    snprintf(sub, sizeof sub, "%s/a/b", dir);
    assert_int_equal(stat(sub, &sb), 0);
    assert_true(S_ISDIR(sb.st_mode));
    assert_int_equal(sb.st_mode & 0777, 0750);
    snprintf(sub, sizeof sub, "%s/a/b/file.db", dir);
    assert_int_not_equal(stat(sub, &sb), 0);               /* the last component is not created */
    assert_int_equal(ps_make_parents_mode(path, 0750), 0); /* existing folders are fine */

    /* default mode: 0777 less the umask */
    snprintf(path, sizeof path, "%s/c/x", dir);
    assert_int_equal(ps_make_parents(path), 0);
    snprintf(sub, sizeof sub, "%s/c", dir);
    assert_int_equal(stat(sub, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0755);

    /* a file where a folder should be: ENOTDIR */
    snprintf(sub, sizeof sub, "%s/f", dir);
    FILE *f = fopen(sub, "w");
    assert_non_null(f);
    fclose(f);
    snprintf(path, sizeof path, "%s/f/g/x", dir);
    errno = 0;
    assert_int_equal(ps_make_parents(path), -1);
    assert_int_equal(errno, ENOTDIR);
    umask(old);

    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_mkdirs)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
