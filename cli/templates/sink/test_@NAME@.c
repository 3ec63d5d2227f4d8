/* Unit test of the @NAME@ sink on paysync's test host (paysync/testhost.h): the conformance
 * checks of `paysync test-plugin`, then a sample of payments written and read back.
 * Usage: test_@NAME@ PLUGIN.so (ctest passes it). */
#define _POSIX_C_SOURCE 200809L /* strdup, mkdtemp, fsync */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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
    if (argc != 2) {
        fprintf(stderr, "usage: %s PLUGIN.so\n", argv[0]);
        return 2;
    }
    char err[512], dir[] = "/tmp/test_@NAME@-XXXXXX", out[128];
    ps_testhost *th = ps_testhost_load(argv[1], err, sizeof err);
    if (!th || !mkdtemp(dir)) {
        fprintf(stderr, "cannot load %s: %s\n", argv[1], th ? "mkdtemp failed" : err);
        return 1;
    }
    snprintf(out, sizeof out, "%s/payments.tsv", dir);
    ps_testhost_set_option(th, "path", out);

    CHECK(ps_testhost_conform(th, stdout) == 0);

    CHECK(ps_testhost_write_sample(th, 3) == 0);
    FILE *f = fopen(out, "r");
    char line[512];
    int n = 0;
    while (f && fgets(line, sizeof line, f))
        if (++n == 1)
            CHECK(strncmp(line, "kit-001\t2024-01-01T00:15:00.000Z\t", 33) == 0);
    if (f)
        fclose(f);
    CHECK(n == 3);
    unlink(out);
    rmdir(dir);

    ps_testhost_free(th);
    if (failures)
        fprintf(stderr, "test_@NAME@: %d check(s) failed\n", failures);
    else
        printf("test_@NAME@: every check passed\n");
    return failures ? 1 : 0;
}
