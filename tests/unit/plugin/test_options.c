/* Unit tests: typed plugin options (loader.h ps_options_*). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "plugin/options.h"

static const ps_option_spec specs[] = {
    {.name = "path", .type = PS_OPT_PATH, .required = 1, .description = "file to read"},
    {.name = "delimiter",
     .type = PS_OPT_STRING,
     .default_value = ",",
     .description = "field separator"},
    {.name = "batch_rows",
     .type = PS_OPT_INT,
     .default_value = "500",
     .description = "rows per batch"},
    {.name = "gzip", .type = PS_OPT_BOOL, .default_value = "false", .description = "compress"},
    {.name = "api_token", .type = PS_OPT_STRING, .secret = 1, .description = "token"},
    {.name = "cache", .type = PS_OPT_PATH, .default_value = "cache/x", .description = "cache file"},
    {0},
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
                                          NULL,
                                          sizeof(ps_option_spec)};

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
        {.name = "pin", .type = PS_OPT_INT, .secret = 1, .description = "secret number"},
        {0},
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
    assert_int_equal(ps_option_table_len(specs, 0), 6);
    assert_int_equal(ps_option_table_len(NULL, 0), 0);
}

/* ---- typed options: bounds, enums, durations, sizes -------------------------------------- */

static const char *const modes[] = {"fast", "safe", "Paranoid", NULL};

static const ps_option_spec typed[] = {
    {.name = "rows",
     .type = PS_OPT_INT,
     .default_value = "10",
     .flags = PS_OPTF_RANGE,
     .min = 1,
     .max = 100},
    {.name = "floor", .type = PS_OPT_INT, .flags = PS_OPTF_MIN, .min = -5},
    {.name = "ceiling", .type = PS_OPT_INT, .flags = PS_OPTF_MAX, .max = 7},
    {.name = "timeout",
     .type = PS_OPT_DURATION,
     .default_value = "2m",
     .flags = PS_OPTF_RANGE | PS_OPTF_PLAIN_SECONDS,
     .min = 1000,
     .max = 3600000},
    {.name = "wait_ms", .type = PS_OPT_DURATION, .flags = PS_OPTF_PLAIN_MS},
    {.name = "every", .type = PS_OPT_DURATION, .flags = PS_OPTF_MIN, .min = 500},
    {.name = "buffer",
     .type = PS_OPT_SIZE,
     .default_value = "64KiB",
     .flags = PS_OPTF_RANGE,
     .min = 512,
     .max = INT64_C(1) << 30},
    {.name = "cap", .type = PS_OPT_SIZE},
    {.name = "mode", .type = PS_OPT_ENUM, .default_value = "safe", .choices = modes},
    {.name = "pin", .type = PS_OPT_DURATION, .secret = 1, .flags = PS_OPTF_MAX, .max = 1000},
    {0},
};

static ps_status build_typed(const char *key, const char *value, ps_options **o, ps_error *err)
{
    static const ps_plugin_descriptor base = {.abi_major = PS_ABI_MAJOR,
                                              .abi_minor = PS_ABI_MINOR,
                                              .struct_size = sizeof(ps_plugin_descriptor),
                                              .name = "typed",
                                              .version = "1",
                                              .kind = PS_PLUGIN_SINK,
                                              .options = typed,
                                              .option_spec_size = sizeof(ps_option_spec)};
    ps_kv kv = KV(key, value, 4, 9);
    *o = NULL;
    ps_error_clear(err);
    return ps_options_build_at(&base, &kv, key ? 1 : 0, "c.yaml", "/d", "sink 'out'", 2, 3, o, err);
}

static void test_typed_values(void **state)
{
    (void)state;
    static const struct {
        const char *key, *value;
        long long num;
        const char *text; /* what opt_string gives back; NULL = value */
    } ok[] = {
        {"rows", "1", 1, NULL},
        {"rows", "100", 100, NULL},
        {"floor", "-5", -5, NULL},
        {"floor", "9000000000", 9000000000LL, NULL},
        {"ceiling", "-100", -100, NULL},
        {"ceiling", "7", 7, NULL},
        {"timeout", "90s", 90000, NULL},
        {"timeout", "1h", 3600000, NULL},
        {"timeout", "1s", 1000, NULL},
        {"timeout", "1m30s", 90000, NULL},
        {"timeout", "30", 30000, NULL}, /* plain number: seconds */
        {"timeout", "1500ms", 1500, NULL},
        {"wait_ms", "5000", 5000, NULL}, /* plain number: milliseconds */
        {"wait_ms", "0", 0, NULL},
        {"wait_ms", "2d", 172800000, NULL},
        {"every", "500ms", 500, NULL},
        {"every", "10m", 600000, NULL},
        {"buffer", "512", 512, NULL},
        {"buffer", "512B", 512, NULL},
        {"buffer", "64k", 65536, NULL},
        {"buffer", "64KiB", 65536, NULL},
        {"buffer", "64 kib", 65536, NULL},
        {"buffer", "2kB", 2000, NULL},
        {"buffer", "10MB", 10000000, NULL},
        {"buffer", "10MiB", 10485760, NULL},
        {"buffer", "10M", 10485760, NULL},
        {"buffer", "1G", 1073741824, NULL},
        {"buffer", "1GiB", 1073741824, NULL},
        {"cap", "0", 0, NULL},
        {"cap", "2TB", 2000000000000LL, NULL},
        {"mode", "fast", 0, NULL},
        {"mode", "SAFE", 1, "safe"},
        {"mode", "paranoid", 2, "Paranoid"},
        {"pin", "1s", 1000, NULL},
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        ps_options *o;
        ps_error err;
        if (build_typed(ok[i].key, ok[i].value, &o, &err) != PS_OK)
            fail_msg("%s=%s refused: %s", ok[i].key, ok[i].value, err.message);
        if (ps_options_int(o, ok[i].key) != ok[i].num)
            fail_msg("%s=%s: %lld, expected %lld", ok[i].key, ok[i].value,
                     ps_options_int(o, ok[i].key), ok[i].num);
        assert_string_equal(ps_options_string(o, ok[i].key), ok[i].text ? ok[i].text : ok[i].value);
        assert_true(ps_options_is_set(o, ok[i].key));
        ps_options_free(o);
    }
    /* defaults go through the same parser */
    ps_options *o;
    ps_error err;
    assert_int_equal(build_typed(NULL, NULL, &o, &err), PS_OK);
    assert_int_equal(ps_options_int(o, "rows"), 10);
    assert_int_equal(ps_options_int(o, "timeout"), 120000);
    assert_int_equal(ps_options_int(o, "buffer"), 65536);
    assert_int_equal(ps_options_int(o, "mode"), 1);
    assert_string_equal(ps_options_string(o, "mode"), "safe");
    assert_int_equal(ps_options_int(o, "cap"), 0); /* unset, no default */
    assert_null(ps_options_string(o, "cap"));
    assert_false(ps_options_is_set(o, "timeout"));
    ps_options_free(o);
}

static void test_typed_errors(void **state)
{
    (void)state;
    static const struct {
        const char *key, *value;
        const char *expect[2];
    } bad[] = {
        {"rows",
         "0",
         {"c.yaml:4:9: sink 'out': option 'rows' must be a whole number from 1 to 100, got '0'",
          NULL}},
        {"rows", "101", {"from 1 to 100, got '101'", NULL}},
        {"rows", "1e2", {"must be a whole number from 1 to 100, got '1e2'", NULL}},
        {"floor", "-6", {"option 'floor' must be a whole number of at least -5, got '-6'", NULL}},
        {"ceiling", "8", {"option 'ceiling' must be a whole number of at most 7, got '8'", NULL}},
        {"timeout",
         "2h",
         {"c.yaml:4:9: sink 'out': option 'timeout' must be a duration from 1s to 1h (units ms, "
          "s, m, h, d, e.g. 500ms, 90s, 1h30m; a plain number means seconds), got '2h'",
          NULL}},
        {"timeout", "999ms", {"from 1s to 1h", "got '999ms'"}},
        {"timeout", "3601", {"got '3601'", NULL}},
        {"timeout", "0", {"got '0'", NULL}},
        {"timeout", "-1s", {"got '-1s' (expected a number followed by a unit", NULL}},
        {"timeout", "1.5h", {"got '1.5h' (unknown unit", NULL}},
        {"timeout", "99999999999999999999", {"(duration is too long (at most ten years))", NULL}},
        {"timeout", "", {"got '' (a duration is required", NULL}},
        {"wait_ms", "5 s", {"a plain number means milliseconds), got '5 s' (unknown unit", NULL}},
        {"every",
         "30",
         {"option 'every' must be a duration of at least 500ms (units",
          "got '30' (a number needs a unit"}},
        {"every", "499ms", {"of at least 500ms", "got '499ms'"}},
        {"buffer",
         "511",
         {"option 'buffer' must be a size from 512B to 1GiB (bytes, or with a unit: 64KiB or "
          "64k = 64x1024, 10MB = 10x1000000), got '511'",
          NULL}},
        {"buffer", "1025MiB", {"got '1025MiB'", NULL}},
        {"buffer", "2GB", {"got '2GB'", NULL}},
        {"buffer", "1.5k", {"got '1.5k' (unknown unit", NULL}},
        {"buffer", "-1k", {"got '-1k' (expected a whole number of bytes", NULL}},
        {"buffer", "10X", {"(unknown unit: use B, KiB, MiB, GiB, TiB", NULL}},
        {"cap", "99999999999999999999", {"(size is too large)", NULL}},
        {"cap", "9000000TiB", {"(size is too large)", NULL}},
        {"cap", "", {"must be a size (bytes", "got '' (a size is required"}},
        {"mode",
         "turbo",
         {"c.yaml:4:9: sink 'out': option 'mode' must be one of: fast, safe, Paranoid, got "
          "'turbo'",
          NULL}},
        {"mode", "", {"must be one of: fast, safe, Paranoid, got ''", NULL}},
        {"pin", "2s", {"option 'pin' must be a duration of at most 1s", "got '***'"}},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ps_options *o = (ps_options *)1;
        ps_error err;
        if (build_typed(bad[i].key, bad[i].value, &o, &err) != PS_ERR_CONFIG)
            fail_msg("%s=%s accepted", bad[i].key, bad[i].value);
        assert_null(o);
        for (int j = 0; j < 2; j++)
            if (bad[i].expect[j] && !strstr(err.message, bad[i].expect[j]))
                fail_msg("%s=%s: message '%s' lacks '%s'", bad[i].key, bad[i].value, err.message,
                         bad[i].expect[j]);
    }
    /* a secret's value never shows, even when it fails to parse */
    ps_options *o;
    ps_error err;
    assert_int_equal(build_typed("pin", "hunter2", &o, &err), PS_ERR_CONFIG);
    assert_null(strstr(err.message, "hunter2"));
}

static void test_describe_and_bounds(void **state)
{
    (void)state;
    static const struct {
        size_t i;
        const char *bounds, *describe;
    } want[] = {
        {0, "1..100", "a whole number from 1 to 100"},
        {1, ">= -5", "a whole number of at least -5"},
        {2, "<= 7", "a whole number of at most 7"},
        {3, "1s..1h", "a duration from 1s to 1h (units ms"},
        {4, "",
         "a duration (units ms, s, m, h, d, e.g. 500ms, 90s, 1h30m; a plain number means "
         "milliseconds)"},
        {5, ">= 500ms", "a duration of at least 500ms"},
        {6, "512B..1GiB", "a size from 512B to 1GiB"},
        {7, "", "a size (bytes"},
        {8, "fast|safe|Paranoid", "one of: fast, safe, Paranoid"},
    };
    for (size_t k = 0; k < sizeof want / sizeof want[0]; k++) {
        char b[200], d[400];
        ps_option_bounds(&typed[want[k].i], b, sizeof b);
        ps_option_describe(&typed[want[k].i], d, sizeof d);
        assert_string_equal(b, want[k].bounds);
        if (strncmp(d, want[k].describe, strlen(want[k].describe)) != 0)
            fail_msg("%s: '%s' does not start with '%s'", typed[want[k].i].name, d,
                     want[k].describe);
    }
    char b[64];
    ps_option_spec odd = {
        .name = "x", .type = PS_OPT_DURATION, .flags = PS_OPTF_RANGE, .min = 1500, .max = 90061001};
    ps_option_bounds(&odd, b, sizeof b);
    assert_string_equal(b, "1s500ms..1d1h1m1s1ms"); /* exact: parses back */
    ps_option_spec sz = {
        .name = "x", .type = PS_OPT_SIZE, .flags = PS_OPTF_RANGE, .min = 1000, .max = 1536};
    ps_option_bounds(&sz, b, sizeof b);
    assert_string_equal(b, "1000B..1536B");
    assert_string_equal(ps_option_type_name(PS_OPT_ENUM), "enum");
    assert_string_equal(ps_option_type_name(PS_OPT_DURATION), "duration");
    assert_string_equal(ps_option_type_name(PS_OPT_SIZE), "size");
}

static void test_spec_checks(void **state)
{
    (void)state;
    static const char *const none[] = {NULL};
    static const char *const dup[] = {"a", "B", "b", NULL};
    static const char *const empty[] = {"a", "", NULL};
    static const struct {
        ps_option_spec s;
        const char *msg; /* NULL = valid */
    } cases[] = {
        {{.name = "a", .type = PS_OPT_INT, .flags = PS_OPTF_RANGE, .min = 1, .max = 1}, NULL},
        {{.name = "a", .type = PS_OPT_ENUM, .choices = modes, .default_value = "FAST"}, NULL},
        {{.name = "a", .type = PS_OPT_INT, .flags = PS_OPTF_RANGE, .min = 2, .max = 1},
         "min 2 is above max 1"},
        {{.name = "a", .type = PS_OPT_STRING, .flags = PS_OPTF_MIN},
         "min/max flags are only for int, duration and size options"},
        {{.name = "a", .type = PS_OPT_INT, .flags = PS_OPTF_PLAIN_SECONDS},
         "is only for duration options"},
        {{.name = "a", .type = PS_OPT_DURATION, .flags = PS_OPTF_PLAIN_SECONDS | PS_OPTF_PLAIN_MS},
         "(not both)"},
        {{.name = "a", .type = PS_OPT_INT, .flags = 64}, "flags 0x40 has unknown bits"},
        {{.name = "a", .type = PS_OPT_ENUM}, "an enum needs 1 to 64 choices"},
        {{.name = "a", .type = PS_OPT_ENUM, .choices = none}, "an enum needs 1 to 64 choices"},
        {{.name = "a", .type = PS_OPT_ENUM, .choices = dup}, "choices[2] 'b' repeats choices[1]"},
        {{.name = "a", .type = PS_OPT_ENUM, .choices = empty}, "choices[1] is empty"},
        {{.name = "a", .type = PS_OPT_BOOL, .choices = modes}, "choices are only for enum options"},
        {{.name = "a", .type = PS_OPT_INT, .default_value = "0", .flags = PS_OPTF_MIN, .min = 1},
         "default_value '0' is not a valid int (must be a whole number of at least 1)"},
        {{.name = "a", .type = PS_OPT_ENUM, .default_value = "turbo", .choices = modes},
         "default_value 'turbo' is not a valid enum (must be one of: fast, safe, Paranoid)"},
        {{.name = "a", .type = PS_OPT_DURATION, .default_value = "30"},
         "default_value '30' is not a valid duration"},
        {{.name = "a", .type = PS_OPT_SIZE, .default_value = "1x", .secret = 1},
         "default_value '***' is not a valid size"},
        {{.name = "a", .type = (ps_option_type)8}, "type 8 is unknown, expected 1 (string)"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char msg[600] = "";
        int rc = ps_option_spec_check(&cases[i].s, msg, sizeof msg);
        if (!cases[i].msg) {
            if (rc != 0)
                fail_msg("case %zu refused: %s", i, msg);
            continue;
        }
        if (rc == 0 || !strstr(msg, cases[i].msg))
            fail_msg("case %zu: rc %d, message '%s' lacks '%s'", i, rc, msg, cases[i].msg);
    }
    for (size_t i = 0; typed[i].name; i++) {
        char msg[600];
        if (ps_option_spec_check(&typed[i], msg, sizeof msg) != 0)
            fail_msg("%s: %s", typed[i].name, msg);
    }
}

/* The table is walked with the descriptor's option_spec_size: a plugin built with a longer
 * spec (a later 2.x) or a shorter one is read correctly. */
typedef struct longer_spec {
    ps_option_spec base;
    int64_t appended_later;
} longer_spec;

static void test_stride(void **state)
{
    (void)state;
    static const longer_spec longer[] = {
        {{.name = "rows", .type = PS_OPT_INT, .default_value = "3", .flags = PS_OPTF_MAX, .max = 5},
         77},
        {{.name = "mode", .type = PS_OPT_ENUM, .default_value = "fast", .choices = modes}, 78},
        {{0}, 0},
    };
    ps_plugin_descriptor d = desc;
    d.options = &longer[0].base;
    d.option_spec_size = sizeof(longer_spec);
    assert_int_equal(ps_option_table_len(d.options, d.option_spec_size), 2);
    ps_kv kvs[] = {KV("mode", "safe", 3, 3)};
    ps_options *o;
    ps_error err;
    assert_int_equal(ps_options_build(&d, kvs, 1, "c.yaml", "/d", "x", &o, &err), PS_OK);
    assert_int_equal(ps_options_int(o, "rows"), 3);
    assert_int_equal(ps_options_int(o, "mode"), 1);
    ps_options_free(o);
    ps_kv big[] = {KV("rows", "6", 3, 3)};
    assert_int_equal(ps_options_build(&d, big, 1, "c.yaml", "/d", "x", &o, &err), PS_ERR_CONFIG);
    assert_non_null(strstr(err.message, "option 'rows' must be a whole number of at most 5"));

    /* a shorter stride: members past it read as zero (no bounds, no choices) */
    ps_option_spec e;
    ps_option_entry(&longer[0].base, offsetof(ps_option_spec, flags), 0, &e);
    assert_string_equal(e.name, "rows");
    assert_int_equal(e.flags, 0);
    assert_int_equal(e.max, 0);
    assert_null(e.choices);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults_and_types),
        cmocka_unit_test(test_absolute_and_dash_paths),
        cmocka_unit_test(test_secret_unset_is_null),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_typed_values),
        cmocka_unit_test(test_typed_errors),
        cmocka_unit_test(test_describe_and_bounds),
        cmocka_unit_test(test_spec_checks),
        cmocka_unit_test(test_stride),
        cmocka_unit_test(test_secret_not_in_messages),
        cmocka_unit_test(test_without_location_and_from_ref),
        cmocka_unit_test(test_parsers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
