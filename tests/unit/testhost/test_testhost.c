/* Unit tests: the SDK's test host (paysync/testhost.h) as a connector author uses it: load
 * a plugin file, set options, run the conformance checks, read rows, write a sample. Uses the
 * in-tree stub provider and jsonl sink and the deliberately broken crasher. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "paysync/testhost.h"

static char so[4096];

static const char *plugin_file(const char *env, const char *name)
{
    const char *dir = getenv(env);
    snprintf(so, sizeof so, "%s/%s.so", dir ? dir : ".", name);
    return so;
}

static void stub_reads_and_conforms(void **state)
{
    (void)state;
    char err[512] = "";
    ps_testhost *th = ps_testhost_load(plugin_file("PS_PLUGIN_DIR", "stub"), err, sizeof err);
    assert_non_null(th);
    assert_int_equal(ps_testhost_set_option(th, "rows", "7"), 0);
    assert_int_equal(ps_testhost_conform(th, NULL), 0);
    assert_int_equal(ps_testhost_read(th), 7);
    assert_true(ps_testhost_ncolumns(th) > 0);
    assert_non_null(ps_testhost_header(th, 0));
    assert_null(ps_testhost_header(th, ps_testhost_ncolumns(th)));
    assert_true(ps_testhost_line(th, 1) > ps_testhost_line(th, 0));
    assert_non_null(ps_testhost_cell(th, 6, 0));
    assert_null(ps_testhost_cell(th, 7, 0));
    assert_null(ps_testhost_value(th, 0, "/id")); /* tabular rows have no key paths */
    assert_string_equal(ps_testhost_error(th), "");
    /* a sink call on a provider says so */
    assert_int_equal(ps_testhost_write_sample(th, 3), -1);
    assert_non_null(strstr(ps_testhost_error(th), "use ps_testhost_read"));
    ps_testhost_free(th);
}

static void bad_option_value_is_reported(void **state)
{
    (void)state;
    char err[512] = "";
    ps_testhost *th = ps_testhost_load(plugin_file("PS_PLUGIN_DIR", "stub"), err, sizeof err);
    assert_non_null(th);
    ps_testhost_set_option(th, "rows", "many");
    assert_int_equal(ps_testhost_read(th), -1);
    assert_non_null(strstr(ps_testhost_error(th), "rows"));
    assert_true(ps_testhost_conform(th, NULL) > 0);
    ps_testhost_free(th);
}

static void jsonl_writes_a_sample(void **state)
{
    (void)state;
    char err[512] = "", dir[] = "/tmp/ps-testhost-XXXXXX", out[128];
    assert_non_null(mkdtemp(dir));
    snprintf(out, sizeof out, "%s/out.jsonl", dir);
    ps_testhost *th = ps_testhost_load(plugin_file("PS_PLUGIN_DIR", "jsonl"), err, sizeof err);
    assert_non_null(th);
    ps_testhost_set_option(th, "path", out);
    assert_int_equal(ps_testhost_conform(th, NULL), 0);
    assert_int_equal(ps_testhost_write_sample(th, 4), 0);
    FILE *f = fopen(out, "r");
    assert_non_null(f);
    char line[4096];
    int n = 0, has_id = 0;
    while (fgets(line, sizeof line, f)) {
        n++;
        has_id |= strstr(line, "\"kit-004\"") != NULL;
    }
    fclose(f);
    assert_int_equal(n, 4);
    assert_true(has_id);
    assert_int_equal(ps_testhost_read(th), -1); /* a sink cannot be read */
    unlink(out);
    rmdir(dir);
    ps_testhost_free(th);
}

static void crasher_fails_conformance(void **state)
{
    (void)state;
    char err[512] = "";
    ps_testhost *th =
        ps_testhost_load(plugin_file("PS_TEST_PLUGIN_DIR", "crasher"), err, sizeof err);
    assert_non_null(th);
    ps_testhost_set_timeout(th, 20);
    assert_true(ps_testhost_conform(th, NULL) >= 1);
    assert_non_null(strstr(ps_testhost_error(th), "crashed with signal"));
    ps_testhost_free(th);
}

static void load_errors_name_the_file(void **state)
{
    (void)state;
    char err[512] = "";
    assert_null(ps_testhost_load("/nonexistent/x.so", err, sizeof err));
    assert_non_null(strstr(err, "/nonexistent"));
    assert_null(
        ps_testhost_load(plugin_file("PS_TEST_PLUGIN_DIR", "bad_abi_major"), err, sizeof err));
    assert_non_null(strstr(err, "bad_abi_major.so"));
    assert_null(ps_testhost_load("not-a-plugin.txt", err, sizeof err));
    assert_non_null(strstr(err, ".so"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(stub_reads_and_conforms),   cmocka_unit_test(bad_option_value_is_reported),
        cmocka_unit_test(jsonl_writes_a_sample),     cmocka_unit_test(crasher_fails_conformance),
        cmocka_unit_test(load_errors_name_the_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
