/* Unit tests: file sinks shared by datasets and {dataset} paths (config/file_sinks.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "config/file_sinks.h"

/* A config with sinks `out` (path out_path), `table` (csv), `db` (sqlite) and datasets a, b, c:
 * a and b write out and db, c writes table; schedules as given (NULL = none). */
static ps_config *load(const char *out_path, const char *sa, const char *sb)
{
    char yaml[2048];
    snprintf(
        yaml, sizeof yaml,
        "sinks:\n"
        "  out: {plugin: jsonl, path: \"%s\"}\n"
        "  table: {plugin: csv, path: out/t.csv}\n"
        "  db: {plugin: sqlite, path: var/p.db}\n"
        "  screen: {plugin: jsonl, path: \"-\"}\n"
        "datasets:\n"
        "  - {name: a, target: {id: t}, source: {plugin: stub}, sinks: [out, db, screen]%s%s}\n"
        "  - {name: b, target: {id: t}, source: {plugin: stub}, sinks: [out, db, screen]%s%s}\n"
        "  - {name: c, target: {id: t}, source: {plugin: stub}, sinks: [table, screen]}\n",
        out_path, sa ? ", schedule: " : "", sa ? sa : "", sb ? ", schedule: " : "", sb ? sb : "");
    ps_config *c = NULL;
    ps_error e = {0};
    if (ps_config_load_string(yaml, strlen(yaml), "t.yaml", "/cfg", &c, &e) != PS_OK)
        fail_msg("%s", e.message);
    return c;
}

static void test_expand_and_kinds(void **state)
{
    (void)state;
    char *s = ps_file_sink_expand("out/{dataset}/{dataset}.jsonl", "Site 01");
    assert_string_equal(s, "out/Site 01/Site 01.jsonl");
    free(s);
    s = ps_file_sink_expand("plain.jsonl", "a");
    assert_string_equal(s, "plain.jsonl");
    free(s);
    s = ps_file_sink_expand("{dataset}", "");
    assert_string_equal(s, "");
    free(s);

    ps_config *c = load("out/{dataset}.jsonl", NULL, NULL);
    assert_string_equal(ps_file_sink_path(ps_config_sink(c, "out")), "out/{dataset}.jsonl");
    assert_int_equal(ps_file_sink_per_dataset(ps_config_sink(c, "out")), 1);
    assert_int_equal(ps_file_sink_per_dataset(ps_config_sink(c, "table")), 0);
    assert_null(ps_file_sink_path(ps_config_sink(c, "db")));     /* a store */
    assert_null(ps_file_sink_path(ps_config_sink(c, "screen"))); /* standard output */
    assert_null(ps_file_sink_path(NULL));
    ps_error e = {0};
    assert_int_equal(ps_file_sinks_check(c, &e), PS_OK);
    char *only[] = {"a"};
    assert_int_equal(ps_file_sinks_check_selection(c, only, 1, &e), PS_OK);
    ps_config_free(c);
}

static int always(const ps_config *c, const ps_dataset_def *d)
{
    (void)c;
    (void)d;
    return 1;
}

static int only_c(const ps_config *c, const ps_dataset_def *d)
{
    (void)c;
    return strcmp(d->name, "c") == 0;
}

static void test_shared(void **state)
{
    (void)state;
    ps_config *c = load("out/p.jsonl", "daily", "daily");
    ps_error e = {0};
    assert_int_equal(ps_file_sinks_check(c, &e), PS_OK);
    char *a[] = {"a"}, *ab[] = {"b", "a"}, *ac[] = {"c"};
    assert_int_equal(ps_file_sinks_check_selection(c, ab, 2, &e), PS_OK);
    assert_int_equal(ps_file_sinks_check_selection(c, ac, 1, &e), PS_OK);
    assert_int_equal(ps_file_sinks_check_selection(c, NULL, 0, &e), PS_OK);
    assert_int_equal(ps_file_sinks_check_selection(c, a, 1, &e), PS_ERR_CONFIG);
    assert_non_null(strstr(e.message, "t.yaml:2:8: sinks.out: sink 'out' (out/p.jsonl) is also "
                                      "written by dataset 'b', which this run leaves out"));
    assert_non_null(strstr(e.message, "(path: out/p-{dataset}.jsonl)"));
    /* the daemon runs each alone: refused when one of the writers is scheduled */
    assert_int_equal(ps_file_sinks_check_separate(c, always, &e), PS_ERR_CONFIG);
    assert_non_null(strstr(e.message, "datasets 'a', 'b', which the daemon runs one at a time"));
    assert_int_equal(ps_file_sinks_check_separate(c, only_c, &e), PS_OK);
    /* --due: a due dataset brings its partners */
    const char *names[3] = {"a"};
    size_t n = 1;
    assert_int_equal(ps_file_sinks_close_selection(c, names, &n), 1);
    assert_int_equal(n, 2);
    assert_string_equal(names[1], "b");
    names[0] = "c";
    n = 1;
    assert_int_equal(ps_file_sinks_close_selection(c, names, &n), 0);
    assert_int_equal(n, 1);
    ps_config_free(c);
}

static void test_errors(void **state)
{
    (void)state;
    static const struct {
        const char *path, *sa, *sb, *msg;
    } bad[] = {
        {"out/p.jsonl", "daily", "hourly",
         "t.yaml:2:8: sinks.out: sink 'out' (out/p.jsonl) is written by datasets 'a' (daily), 'b' "
         "(hourly), which do not always run together"},
        {"out/p.jsonl", "daily", NULL, "'a' (daily), 'b' (no schedule)"},
        {"out/p.jsonl", "{daily: {at: \"02:00\"}}", "{daily: {at: \"03:00\"}}",
         "'a' (daily (at 02:00)), 'b' (daily (at 03:00))"},
        {"out/{Dataset}.jsonl", NULL, NULL, "unknown placeholder '{Dataset}'"},
        {"out/{dataset_name}.jsonl", NULL, NULL, "unknown placeholder '{dataset_name}'"},
        {"out/t.csv", NULL, NULL,
         "sinks 'out' and 'table' both write '/cfg/out/t.csv': one would replace the other's"},
        {"./out//./t.csv", NULL, NULL, "sinks 'out' and 'table' both write '/cfg/out/t.csv'"},
        {"var/p.db", NULL, NULL, "sinks 'out' and 'db' both write '/cfg/var/p.db'"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ps_config *c = load(bad[i].path, bad[i].sa, bad[i].sb);
        ps_error e = {0};
        assert_int_equal(ps_file_sinks_check(c, &e), PS_ERR_CONFIG);
        if (!strstr(e.message, bad[i].msg))
            fail_msg("case %zu: '%s' lacks '%s'", i, e.message, bad[i].msg);
        ps_config_free(c);
    }
    /* braces that are no placeholder are left alone; two datasets without a schedule run
     * together */
    ps_config *c = load("out/{}/{1}/p{.jsonl", NULL, NULL);
    ps_error e = {0};
    assert_int_equal(ps_file_sinks_check(c, &e), PS_OK);
    ps_config_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_expand_and_kinds),
        cmocka_unit_test(test_shared),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
