/* Unit test of the @NAME@ provider on paysync's test host (paysync/testhost.h):
 * the conformance checks of `paysync test-plugin`, then the rows of the fixture.
 * Usage: test_@NAME@ PLUGIN.so FIXTURE.csv (ctest passes both). */
#define _POSIX_C_SOURCE 200809L /* strdup, mkdtemp, fsync */

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

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: %s PLUGIN.so FIXTURE.csv\n", argv[0]);
        return 2;
    }
    char err[512];
    ps_testhost *th = ps_testhost_load(argv[1], err, sizeof err);
    if (!th) {
        fprintf(stderr, "cannot load %s: %s\n", argv[1], err);
        return 1;
    }
    ps_testhost_set_option(th, "path", argv[2]);

    CHECK(ps_testhost_conform(th, stdout) == 0);

    CHECK(ps_testhost_read(th) == 3);
    CHECK(ps_testhost_ncolumns(th) == 9);
    CHECK(strcmp(ps_testhost_header(th, 0), "ID") == 0);
    CHECK(ps_testhost_line(th, 0) == 2); /* the header is line 1 */
    CHECK(strcmp(ps_testhost_cell(th, 0, 2), "1500.50") == 0);
    CHECK(strcmp(ps_testhost_cell(th, 2, 0), "P-0003") == 0);

    /* A missing file is an error a user can act on. */
    ps_testhost_set_option(th, "path", "/nonexistent/payments.csv");
    CHECK(ps_testhost_read(th) == -1);
    CHECK(strstr(ps_testhost_error(th), "/nonexistent/payments.csv") != NULL);

    ps_testhost_free(th);
    if (failures)
        fprintf(stderr, "test_@NAME@: %d check(s) failed\n", failures);
    else
        printf("test_@NAME@: every check passed\n");
    return failures ? 1 : 0;
}
