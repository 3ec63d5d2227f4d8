/* Unit test of the @NAME@ record provider on paysync's test host (paysync/testhost.h): the
 * conformance checks of `paysync test-plugin`, then the records of the fixture by path.
 * Usage: test_@NAME@ PLUGIN.so (ctest passes it). */
#include <stdio.h>
#include <string.h>

#include "paysync/testhost.h"

static int failures;

#define CHECK(cond)                                                                         \
    do {                                                                                    \
        if (!(cond)) {                                                                      \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);        \
            failures++;                                                                     \
        }                                                                                   \
    } while (0)

static int is(const char *got, const char *want)
{
    return got && strcmp(got, want) == 0;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s PLUGIN.so\n", argv[0]);
        return 2;
    }
    char err[512];
    ps_testhost *th = ps_testhost_load(argv[1], err, sizeof err);
    if (!th) {
        fprintf(stderr, "cannot load %s: %s\n", argv[1], err);
        return 1;
    }

    CHECK(ps_testhost_conform(th, stdout) == 0);

    CHECK(ps_testhost_read(th) == 3);
    CHECK(ps_testhost_ncolumns(th) == 0); /* records have no header */
    CHECK(is(ps_testhost_value(th, 0, "/amount"), "1500.50"));
    CHECK(is(ps_testhost_value(th, 1, "/customer/name"), "Amina Yusuf"));
    CHECK(is(ps_testhost_value(th, 2, "/customer/meter"), "04200003"));
    CHECK(ps_testhost_value(th, 2, "/customer/phone") == NULL); /* absent key */
    CHECK(ps_testhost_line(th, 2) == 3);

    /* Options are checked by paysync's option engine, with the allowed range. */
    ps_testhost_set_option(th, "limit", "7");
    CHECK(ps_testhost_read(th) == -1);
    CHECK(strstr(ps_testhost_error(th), "limit") != NULL);
    ps_testhost_set_option(th, "limit", "1");
    CHECK(ps_testhost_read(th) == 1);

    ps_testhost_free(th);
    if (failures)
        fprintf(stderr, "test_@NAME@: %d check(s) failed\n", failures);
    else
        printf("test_@NAME@: every check passed\n");
    return failures ? 1 : 0;
}
