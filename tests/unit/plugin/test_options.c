/* Unit tests: typed plugin options (loader.h ps_options_*). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "plugin/loader.h"

static const ps_option_spec specs[] = {
    {"path", PS_OPT_PATH, NULL, 1, 0, "file to read"},
    {"delimiter", PS_OPT_STRING, ",", 0, 0, "field separator"},
    {"batch_rows", PS_OPT_INT, "500", 0, 0, "rows per batch"},
    {"gzip", PS_OPT_BOOL, "false", 0, 0, "compress"},
    {"api_token", PS_OPT_STRING, NULL, 0, 1, "token"},
    {"cache", PS_OPT_PATH, "cache/x", 0, 0, "cache file"},
    {NULL, 0, NULL, 0, 0, NULL},
};

static const ps_plugin_descriptor desc = {sizeof(ps_plugin_descriptor),
                                          PS_ABI_MAJOR,
                                          PS_ABI_MINOR,
                                          "csvfile",
                                          "1",
                                          "t",
                                          PS_PLUGIN_PROVIDER,
                                          0,
                                          specs,
                                          NULL,
                                          NULL,
                                          NULL,
                                          NULL,
                                          NULL};

#define KV(k, v, l, c)                                                                             \
    {                                                                                              \
        (char *)(k), (char *)(v), l, c                                                             \
    }

static void test_defaults_and_types(void **state)
{
    (void)state;
    ps_kv kvs[] = {KV("path", "data/p.csv", 4, 7), KV("batch_rows", "-42", 5, 7),
                   KV("gzip", "Yes", 6, 7), KV("api_token", "s3cr3t", 7, 7)};
    ps_options *o = NULL;
    ps_error err;
    ps_status st =
        ps_options_build(&desc, kvs, 4, "c.yaml", "/etc/ps", "dataset 'd' source", &o, &err);
    if (st != PS_OK)
        fail_msg("%s", err.message);
    assert_string_equal(ps_options_string(o, "path"), "/etc/ps/data/p.csv");
    assert_string_equal(ps_options_string(o, "delimiter"), ",");
    assert_int_equal(ps_options_int(o, "batch_rows"), -42);
    assert_int_equal(ps_options_bool(o, "gzip"), 1);
    assert_string_equal(ps_options_string(o, "api_token"), "s3cr3t");
    assert_string_equal(ps_options_string(o, "cache"), "/etc/ps/cache/x"); /* default resolved */
    assert_true(ps_options_is_set(o, "path"));
    assert_false(ps_options_is_set(o, "delimiter"));
    assert_false(ps_options_is_set(o, "nope"));
    assert_null(ps_options_string(o, "nope"));
    assert_int_equal(ps_options_int(o, "nope"), 0);

    /* listing: every option of the table, secrets redacted */
    assert_int_equal(ps_options_count(o), 6);
    int saw_secret = 0;
    for (size_t i = 0; i < ps_options_count(o); i++) {
        const char *n, *v;
        ps_options_at(o, i, &n, &v);
        assert_non_null(n);
        if (strcmp(n, "api_token") == 0) {
            assert_string_equal(v, "***");
            saw_secret = 1;
        } else if (strcmp(n, "batch_rows") == 0) {
            assert_string_equal(v, "-42");
        }
    }
    assert_true(saw_secret);
    const char *n = "x", *v = "y";
    ps_options_at(o, 99, &n, &v);
    assert_null(n);
    assert_null(v);
    ps_options_free(o);
}

static void test_absolute_and_dash_paths(void **state)
{
    (void)state;
    ps_kv a[] = {KV("path", "/abs/p.csv", 1, 1)};
    ps_kv b[] = {KV("path", "-", 1, 1)};
    ps_options *o;
    ps_error err;
    assert_int_equal(ps_options_build(&desc, a, 1, "c.yaml", "/etc", "ctx", &o, &err), PS_OK);
    assert_string_equal(ps_options_string(o, "path"), "/abs/p.csv");
    ps_options_free(o);
    assert_int_equal(ps_options_build(&desc, b, 1, "c.yaml", "/etc", "ctx", &o, &err), PS_OK);
    assert_string_equal(ps_options_string(o, "path"), "-");
    ps_options_free(o);
}

static void test_secret_unset_is_null(void **state)
{
    (void)state;
    ps_kv kvs[] = {KV("path", "p", 1, 1)};
    ps_options *o;
    ps_error err;
    assert_int_equal(ps_options_build(&desc, kvs, 1, "c.yaml", ".", "ctx", &o, &err), PS_OK);
    for (size_t i = 0; i < ps_options_count(o); i++) {
        const char *n, *v;
        ps_options_at(o, i, &n, &v);
        if (strcmp(n, "api_token") == 0)
            assert_null(v);
    }
    assert_int_equal(ps_options_bool(o, "gzip"), 0);
    assert_int_equal(ps_options_int(o, "batch_rows"), 500);
    ps_options_free(o);
}

typedef struct ecase {
    const char *what;
    ps_kv kv[2];
    size_t n;
    const char *expect[3];
    const char *absent; /* must not appear (secrets) */
} ecase;

static const ecase ecases[] = {
    {"unknown with suggestion",
     {KV("path", "p", 3, 5), KV("delimitor", ";", 4, 5)},
     2,
     {"c.yaml:4:5: sink 'export': unknown option 'delimitor' for plugin 'csvfile'",
      "(did you mean 'delimiter'?)", "valid options: path, delimiter, batch_rows"},
     NULL},
    {"unknown without suggestion",
     {KV("path", "p", 3, 5), KV("zzzzzzzz", "1", 9, 3)},
     2,
     {"c.yaml:9:3: sink 'export': unknown option 'zzzzzzzz'", "valid options:", NULL},
     "did you mean"},
    {"missing required",
     {KV("gzip", "no", 3, 5), KV(NULL, NULL, 0, 0)},
     1,
     {"c.yaml:2:3: sink 'export': missing required option 'path' for plugin 'csvfile'",
      "(file to read)", NULL},
     NULL},
    {"bad int",
     {KV("path", "p", 3, 5), KV("batch_rows", "12abc", 6, 15)},
     2,
     {"c.yaml:6:15: sink 'export': option 'batch_rows' must be a whole number, got '12abc'", NULL,
      NULL},
     NULL},
    {"int overflow",
     {KV("path", "p", 3, 5), KV("batch_rows", "99999999999999999999", 6, 15)},
     2,
     {"option 'batch_rows' must be a whole number", NULL, NULL},
     NULL},
    {"bad bool",
     {KV("path", "p", 3, 5), KV("gzip", "perhaps", 7, 9)},
     2,
     {"c.yaml:7:9: sink 'export': option 'gzip' must be true or false", "got 'perhaps'", NULL},
     NULL},
    {"empty path",
     {KV("path", "", 3, 5), KV(NULL, NULL, 0, 0)},
     1,
     {"c.yaml:3:5: sink 'export': option 'path' must be a path, got an empty value", NULL, NULL},
     NULL},
    {"twice",
     {KV("path", "a", 3, 5), KV("path", "b", 4, 5)},
     2,
     {"c.yaml:4:5: sink 'export': option 'path' given twice", NULL, NULL},
     NULL},
};

static void test_errors(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof ecases / sizeof ecases[0]; i++) {
        const ecase *c = &ecases[i];
        ps_options *o = (ps_options *)1;
        ps_error err;
        ps_error_clear(&err);
        ps_status st = ps_options_build_at(&desc, c->kv, c->n, "c.yaml", "/d", "sink 'export'", 2,
                                           3, &o, &err);
        if (st != PS_ERR_CONFIG)
            fail_msg("%s: status %d", c->what, st);
        assert_null(o);
        for (int j = 0; j < 3; j++)
            if (c->expect[j] && !strstr(err.message, c->expect[j]))
                fail_msg("%s: message '%s' lacks '%s'", c->what, err.message, c->expect[j]);
        if (c->absent && strstr(err.message, c->absent))
            fail_msg("%s: message '%s' has '%s'", c->what, err.message, c->absent);
    }
}

static void test_secret_not_in_messages(void **state)
{
    (void)state;
    static const ps_option_spec sspecs[] = {
        {"pin", PS_OPT_INT, NULL, 0, 1, "secret number"},
        {NULL, 0, NULL, 0, 0, NULL},
    };
    ps_plugin_descriptor d = desc;
    d.options = sspecs;
    ps_kv kvs[] = {KV("pin", "hunter2", 3, 5)};
    ps_options *o;
    ps_error err;
    assert_int_equal(ps_options_build(&d, kvs, 1, "c.yaml", "/d", "sink 's'", &o, &err),
                     PS_ERR_CONFIG);
    assert_null(strstr(err.message, "hunter2"));
    assert_non_null(strstr(err.message, "got '***'"));
}

static void test_without_location_and_from_ref(void **state)
{
    (void)state;
    ps_options *o;
    ps_error err;
    /* plain ps_options_build has no location for a missing option: file and context only */
    assert_int_equal(ps_options_build(&desc, NULL, 0, "c.yaml", "/d", "sink 'x'", &o, &err),
                     PS_ERR_CONFIG);
    assert_non_null(strstr(err.message, "c.yaml: sink 'x': missing required option 'path'"));

    ps_kv kvs[] = {KV("path", "rel.csv", 8, 11)};
    ps_plugin_ref ref = {(char *)"csvfile", kvs, 1, 7, 13};
    ps_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.path = (char *)"conf/paysync.yaml";
    cfg.dir = (char *)"/srv/conf";
    assert_int_equal(ps_options_from_ref(&desc, &ref, &cfg, "source", &o, &err), PS_OK);
    assert_string_equal(ps_options_string(o, "path"), "/srv/conf/rel.csv");
    ps_options_free(o);
    ref.nopts = 0;
    assert_int_equal(ps_options_from_ref(&desc, &ref, &cfg, "source", &o, &err), PS_ERR_CONFIG);
    assert_non_null(strstr(err.message, "conf/paysync.yaml:7:13: source: missing required"));
}

static void test_parsers(void **state)
{
    (void)state;
    long long v;
    assert_int_equal(ps_option_parse_int("9223372036854775807", &v), 0);
    assert_true(v == 9223372036854775807LL);
    assert_int_equal(ps_option_parse_int("+7", &v), 0);
    assert_int_equal(v, 7);
    const char *bad_ints[] = {"", " 1", "1 ", "0x10", "1.5", "9223372036854775808", "-"};
    for (size_t i = 0; i < sizeof bad_ints / sizeof bad_ints[0]; i++)
        if (ps_option_parse_int(bad_ints[i], &v) == 0)
            fail_msg("accepted int '%s'", bad_ints[i]);
    int b;
    const char *t[] = {"true", "TRUE", "yes", "On", "1"}, *f[] = {"false", "No", "off", "0"};
    for (size_t i = 0; i < 5; i++) {
        assert_int_equal(ps_option_parse_bool(t[i], &b), 0);
        assert_int_equal(b, 1);
    }
    for (size_t i = 0; i < 4; i++) {
        assert_int_equal(ps_option_parse_bool(f[i], &b), 0);
        assert_int_equal(b, 0);
    }
    assert_int_equal(ps_option_parse_bool("y", &b), -1);
    assert_int_equal(ps_option_parse_bool("", &b), -1);
    assert_string_equal(ps_option_type_name(PS_OPT_PATH), "path");
    assert_null(ps_option_type_name((ps_option_type)0));
    assert_int_equal(ps_option_table_len(specs), 6);
    assert_int_equal(ps_option_table_len(NULL), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults_and_types),
        cmocka_unit_test(test_absolute_and_dash_paths),
        cmocka_unit_test(test_secret_unset_is_null),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_secret_not_in_messages),
        cmocka_unit_test(test_without_location_and_from_ref),
        cmocka_unit_test(test_parsers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
