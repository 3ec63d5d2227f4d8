/* Unit tests: gsheet cells from JSON, ragged/blank rows, metadata and tab choice, header
 * auto-detection, and the plugin's option checks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "../../../plugins/gsheet/gs_meta.h"
#include "../../../plugins/gsheet/gs_values.h"
#include "fake_host.h"

const ps_plugin_descriptor *paysync_plugin_entry_gsheet(void);

static fake_host g_fh;

static json_t *parse(const char *s)
{
    json_t *j = json_loads(s, 0, NULL);
    assert_non_null(j);
    return j;
}

/* Row text -> cells through a one-row page, as the plugin reads them. */
static ps_status row_of(ps_arena *a, const char *row, uint32_t minw, uint64_t line, ps_cell **c,
                        uint32_t *n, ps_error *err)
{
    size_t cap = strlen(row) + 16;
    char *body = malloc(cap);
    assert_non_null(body);
    snprintf(body, cap, "{\"values\":[%s]}", row);
    ps_gs_page p;
    int syntax;
    assert_int_equal(ps_gs_page_parse(&p, body, strlen(body), 1, "t", &syntax, err), PS_OK);
    ps_status st = ps_gs_page_row(&g_fh.host, a, &p, 0, minw, line, c, n, err);
    ps_gs_page_free(&p);
    return st;
}

/* A whole body -> page (body copied to the heap; the page owns it). */
static ps_status page_of(ps_gs_page *p, const char *json, uint64_t first, int *syntax,
                         ps_error *err)
{
    size_t len = strlen(json);
    char *body = malloc(len + 1);
    assert_non_null(body);
    memcpy(body, json, len + 1);
    return ps_gs_page_parse(p, body, len, first, "Sheet1!A1:Z", syntax, err);
}

static void test_cells(void **state)
{
    (void)state;
    fake_host_init(&g_fh, paysync_plugin_entry_gsheet(), NULL);
    ps_arena *a = ps_arena_create(0);
    const char *row = "[\"0803\", 45356.5935300926, 2348012345678, 1500.5, true, false, null, "
                      "\"\", 1e-7, \"05/03/2024\"]";
    ps_cell *c;
    uint32_t n;
    ps_error err = {0};
    assert_int_equal(row_of(a, row, 12, 7, &c, &n, &err), PS_OK);
    assert_int_equal(n, 12); /* padded to the header width */
    static const struct {
        const char *text;
        int kind;
    } want[] = {{"0803", PS_CELL_TEXT},
                {"45356.5935300926", PS_CELL_NUMBER},
                {"2348012345678", PS_CELL_NUMBER},
                {"1500.5", PS_CELL_NUMBER},
                {"TRUE", PS_CELL_BOOL},
                {"FALSE", PS_CELL_BOOL},
                {"", PS_CELL_TEXT},
                {"", PS_CELL_TEXT},
                {"0.0000001", PS_CELL_NUMBER},
                {"05/03/2024", PS_CELL_TEXT},
                {"", PS_CELL_TEXT},
                {"", PS_CELL_TEXT}};
    for (uint32_t i = 0; i < n; i++) {
        assert_string_equal(c[i].text, want[i].text);
        assert_int_equal(c[i].len, strlen(want[i].text));
        assert_int_equal(c[i].kind, want[i].kind);
    }

    /* [] is a blank row, kept (never a stop) and padded */
    const char *empty = ("[]");
    assert_int_equal(row_of(a, empty, 3, 8, &c, &n, &err), PS_OK);
    assert_int_equal(n, 3);
    assert_string_equal(c[2].text, "");

    /* a longer row than the header keeps its cells */
    const char *longer = ("[1, 2, 3, 4]");
    assert_int_equal(row_of(a, longer, 2, 9, &c, &n, &err), PS_OK);
    assert_int_equal(n, 4);

    const char *bad = ("[1, [2]]");
    assert_int_equal(row_of(a, bad, 2, 41, &c, &n, &err), PS_ERR_SOURCE);
    assert_non_null(strstr(err.message, "row 41, column 2"));
    const char *notarr = ("{\"a\": 1}");
    assert_int_equal(row_of(a, notarr, 2, 5, &c, &n, &err), PS_ERR_SOURCE);
    assert_non_null(strstr(err.message, "row 5"));
    ps_arena_destroy(a);
}

static void test_pages(void **state)
{
    (void)state;
    ps_gs_page p;
    ps_error err = {0};
    int syntax;
    assert_int_equal(page_of(&p,
                             "{\"range\": \"Sheet1!A1:C1000\", "
                             "\"majorDimension\": \"ROWS\"}",
                             1, &syntax, &err),
                     PS_OK);
    assert_int_equal(p.nrows, 0); /* missing values = no rows */
    ps_gs_page_free(&p);
    assert_int_equal(page_of(&p, "{\"values\": [[\"a\"], [], [1]]}", 5, &syntax, &err), PS_OK);
    assert_int_equal(p.nrows, 3);
    assert_int_equal(p.first_row, 5);
    ps_gs_page_free(&p);
    assert_int_equal(page_of(&p, "{\"values\": \"x\"}", 1, &syntax, &err), PS_ERR_SOURCE);
    assert_int_equal(syntax, 0);
    assert_non_null(strstr(err.message, "not a list of rows"));
}

static const char meta_json[] =
    "{\"spreadsheetId\": \"X\", \"properties\": {\"title\": \"CRM\", \"locale\": \"en_GB\", "
    "\"timeZone\": \"Africa/Lagos\"}, \"sheets\": ["
    "{\"properties\": {\"sheetId\": 99, \"title\": \"Chart\", \"index\": 0, \"sheetType\": "
    "\"OBJECT\"}},"
    "{\"properties\": {\"sheetId\": 7, \"title\": \"Payments 2024\", \"index\": 2, "
    "\"sheetType\": \"GRID\", \"gridProperties\": {\"rowCount\": 5000, \"columnCount\": 21}}},"
    "{\"properties\": {\"sheetId\": 0, \"title\": \"Notes\", \"index\": 1, \"sheetType\": "
    "\"GRID\", \"hidden\": true, \"gridProperties\": {\"rowCount\": 10, \"columnCount\": 3}}},"
    "{\"properties\": {\"sheetId\": 12, \"title\": \"7\", \"index\": 3, \"sheetType\": "
    "\"GRID\", \"gridProperties\": {\"rowCount\": 1, \"columnCount\": 1}}}]}";

static void test_meta(void **state)
{
    (void)state;
    json_t *root = parse(meta_json);
    ps_gs_meta m;
    ps_error err = {0};
    assert_int_equal(ps_gs_meta_from_json(root, &m, &err), PS_OK);
    json_decref(root);
    assert_string_equal(m.time_zone, "Africa/Lagos");
    assert_string_equal(m.locale, "en_GB");
    assert_int_equal(m.ntabs, 4);
    assert_int_equal(m.tabs[1].row_count, 5000);
    assert_int_equal(m.tabs[1].col_count, 21);
    assert_true(m.tabs[2].hidden);
    assert_false(m.tabs[0].grid);

    static const struct {
        const char *sheet;
        int64_t url_gid;
        ps_status st;
        const char *title_or_msg;
    } picks[] = {
        {NULL, -1, PS_OK, "Notes"}, /* first GRID tab by index */
        {"", 7, PS_OK, "Payments 2024"},
        {"Payments 2024", -1, PS_OK, "Payments 2024"},
        {"7", -1, PS_OK, "7"}, /* a title wins over a gid */
        {"12", -1, PS_OK, "7"},
        {"gid=7", -1, PS_OK, "Payments 2024"},
        {"#gid=0", -1, PS_OK, "Notes"},
        {"Payments", -1, PS_ERR_SOURCE,
         "no tab 'Payments' in spreadsheet 'CRM' (sheet: takes a tab title or a gid); the tabs "
         "are: 'Chart' (gid 99, not a grid), 'Payments 2024' (gid 7), 'Notes' (gid 0), '7' (gid "
         "12)"},
        {"404", -1, PS_ERR_SOURCE, "no tab '404'"},
        {NULL, 55, PS_ERR_SOURCE, "the sheet URL names gid 55"},
        {"Chart", -1, PS_ERR_SOURCE, "tab 'Chart' is not a grid"},
    };
    for (size_t i = 0; i < sizeof picks / sizeof *picks; i++) {
        const ps_gs_tab *t;
        ps_status st = ps_gs_meta_pick(&m, picks[i].sheet, picks[i].url_gid, &t, &err);
        assert_int_equal(st, picks[i].st);
        if (st == PS_OK)
            assert_string_equal(t->title, picks[i].title_or_msg);
        else if (!strstr(err.message, picks[i].title_or_msg)) {
            print_error("pick %zu: %s\n", i, err.message);
            fail();
        }
    }
    ps_gs_meta_free(&m);

    json_t *bad = parse("{\"properties\": {}}");
    assert_int_equal(ps_gs_meta_from_json(bad, &m, &err), PS_ERR_SOURCE);
    assert_non_null(strstr(err.message, "lists no tabs"));
    json_decref(bad);
    json_t *charts = parse("{\"sheets\": [{\"properties\": {\"title\": \"C\", \"sheetType\": "
                           "\"OBJECT\"}}]}");
    assert_int_equal(ps_gs_meta_from_json(charts, &m, &err), PS_OK);
    const ps_gs_tab *t;
    assert_int_equal(ps_gs_meta_pick(&m, NULL, -1, &t, &err), PS_ERR_SOURCE);
    assert_non_null(strstr(err.message, "has no grid tab"));
    ps_gs_meta_free(&m);
    json_decref(charts);
}

static int alias_match(void *ctx, const char *name, size_t len)
{
    (void)ctx;
    if (len == 12 && memcmp(name, "Amount (NGN)", 12) == 0)
        return PS_F_PAYMENT_AMOUNT;
    return ps_field_lookup(name, len);
}

static void test_header_detect(void **state)
{
    (void)state;
    fake_host_init(&g_fh, paysync_plugin_entry_gsheet(), NULL);
    ps_arena *a = ps_arena_create(0);
    const char *rows_json[] = {
        "[\"Acme CRM export\"]",
        "[]",
        "[\"Payment ID\", \"TIMESTAMP\", \"\", \"Notes\"]", /* 2 fields: not enough */
        "[\"ID\", \"ID\", \"id\", \"Notes\"]",              /* the same field 3 times */
        "[\"Payment ID\", \"TIMESTAMP\", \"Amount (NGN)\", \"payment currency\"]", /* alias + 2 */
        "[\"ID\", \"TIMESTAMP\", \"PAYMENT_AMOUNT\"]",
    };
    enum { N = sizeof rows_json / sizeof *rows_json };
    ps_cell *rows[N];
    uint32_t ns[N];
    ps_error err = {0};
    for (size_t i = 0; i < N; i++) {
        const char *r = (rows_json[i]);
        assert_int_equal(row_of(a, r, 0, i + 1, &rows[i], &ns[i], &err), PS_OK);
    }
    assert_int_equal(ps_header_score(rows[3], ns[3], alias_match, NULL), 2); /* ID, NOTES */
    assert_int_equal(ps_header_detect((const ps_cell *const *)rows, ns, N, alias_match, NULL), 4);
    assert_int_equal(ps_header_detect((const ps_cell *const *)rows, ns, 4, alias_match, NULL), -1);
    /* numbers never count as header names */
    const char *nums = ("[1, 2, 3]");
    ps_cell *nc;
    uint32_t nn;
    assert_int_equal(row_of(a, nums, 0, 1, &nc, &nn, &err), PS_OK);
    assert_int_equal(ps_header_score(nc, nn, alias_match, NULL), 0);
    ps_arena_destroy(a);
}

typedef struct {
    const char *opts[24];
    const char *msg;
} create_case;

static const create_case bad_creates[] = {
    {{"spreadsheet_id", "abc", NULL},
     "set exactly one of api_key, service_account_file, "
     "service_account_json or public: true (none is set)"},
    {{"spreadsheet_id", "abc", "api_key", "SECRETKEY1", "public", "true", NULL},
     "(found: api_key public)"},
    {{"spreadsheet_id", "https://example.com/x.csv", "public", "true", NULL},
     "is neither a spreadsheet ID nor a Google Sheets URL"},
    {{"spreadsheet_id", "https://docs.google.com/spreadsheets/d/e/2PACX-1/pubhtml", "public",
      "true", NULL},
     "published to the web"},
    {{"spreadsheet_id", "abc", "public", "true", "api_url", "ftp://x", NULL},
     "api_url must start with https:// or http://"},
    {{"spreadsheet_id", "abc", "public", "true", "token_url", "file:///etc/passwd", NULL},
     "token_url must start with https:// or http://"},
    {{"spreadsheet_id", "abc", "service_account_file", "/nonexistent/key.json", NULL},
     "service_account_file /nonexistent/key.json cannot be opened"},
    {{"spreadsheet_id", "abc", "service_account_json", "{\"private_key\": \"SECRETKEY1\"}", NULL},
     "service_account_json has no 'client_email'"},
    {{"spreadsheet_id", "abc", "service_account_json", "SECRETKEY1", NULL},
     "service_account_json is not a service-account key"},
};

static void test_create_errors(void **state)
{
    (void)state;
    const ps_plugin_descriptor *d = paysync_plugin_entry_gsheet();
    assert_string_equal(d->name, "gsheet");
    for (size_t i = 0; i < sizeof bad_creates / sizeof *bad_creates; i++) {
        fake_host_init(&g_fh, d, bad_creates[i].opts);
        void *inst = (void *)1;
        ps_error err = {0};
        assert_int_equal(d->create(&g_fh.ctx, &inst, &err), PS_ERR_CONFIG);
        assert_null(inst);
        if (!strstr(err.message, bad_creates[i].msg)) {
            print_error("create %zu: %s\n", i, err.message);
            fail();
        }
        assert_null(strstr(err.message, "SECRETKEY1"));
    }
}

/* Ranges and the timeout's duration syntax are declared in gs_options and checked by the core's
 * option engine before create. */
static void test_option_ranges(void **state)
{
    (void)state;
    const ps_plugin_descriptor *d = paysync_plugin_entry_gsheet();
    static const struct {
        const char *key, *value, *msg;
    } bad[] = {
        {"page_rows", "0",
         "test.yaml:4:3: source of test: option 'page_rows' must be a whole number from 1 to "
         "50000, got '0'"},
        {"requests_per_minute", "0",
         "option 'requests_per_minute' must be a whole number from 1 "
         "to 6000, got '0'"},
        {"max_retries", "99", "option 'max_retries' must be a whole number from 0 to 20, got '99'"},
        {"header_row", "-1", "option 'header_row' must be a whole number from 0 to 10000000"},
        {"timeout", "-1",
         "option 'timeout' must be a duration from 1s to 1h (units ms, s, m, h, "
         "d, e.g. 500ms, 90s, 1h30m; a plain number means seconds), got '-1'"},
        {"timeout", "2h", "must be a duration from 1s to 1h"},
        {"timeout", "500ms", "got '500ms'"},
        {"timeout", "3601", "got '3601'"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const char *opts[] = {"spreadsheet_id", "abc",        "public", "true",
                              bad[i].key,       bad[i].value, NULL};
        ps_error err = {0};
        assert_int_equal(fake_host_check_options(d, opts, &err), PS_ERR_CONFIG);
        if (!strstr(err.message, bad[i].msg))
            fail_msg("%s=%s: '%s' lacks '%s'", bad[i].key, bad[i].value, err.message, bad[i].msg);
    }
    /* plain seconds (old configs) and duration text both pass */
    const char *plain[] = {"spreadsheet_id", "abc", "public", "true", "timeout", "5", NULL};
    const char *text[] = {"spreadsheet_id", "abc", "public", "true", "timeout", "1m30s", NULL};
    ps_error err = {0};
    assert_int_equal(fake_host_check_options(d, plain, &err), PS_OK);
    assert_int_equal(fake_host_check_options(d, text, &err), PS_OK);
    fake_host_init(&g_fh, d, text);
    assert_int_equal(g_fh.host.opt_int(g_fh.ctx.options, "timeout"), 90000);
    fake_host_init(&g_fh, d, plain);
    assert_int_equal(g_fh.host.opt_int(g_fh.ctx.options, "timeout"), 5000);
}

static void test_create_ok_and_unreachable(void **state)
{
    (void)state;
    const ps_plugin_descriptor *d = paysync_plugin_entry_gsheet();
    /* port 1 on loopback refuses: a transport error, retried max_retries times, then fails */
    const char *opts[] = {"spreadsheet_id",
                          "https://docs.google.com/spreadsheets/d/abc_DEF-1/edit#gid=3",
                          "api_key",
                          "SECRETKEY1",
                          "api_url",
                          "http://127.0.0.1:1/",
                          "max_retries",
                          "0",
                          "insecure_skip_tls_verify",
                          "true",
                          NULL};
    fake_host_init(&g_fh, d, opts);
    void *inst = NULL;
    ps_error err = {0};
    assert_int_equal(d->create(&g_fh.ctx, &inst, &err), PS_OK);
    assert_non_null(inst);
    assert_non_null(strstr(g_fh.log, "WARN insecure_skip_tls_verify is on"));
    assert_int_equal(d->check(inst, &err), PS_ERR_NETWORK);
    assert_non_null(strstr(err.message, "reading the spreadsheet's metadata: transport error"));
    assert_non_null(strstr(err.message, "gave up after 1 attempts"));
    assert_null(strstr(err.message, "SECRETKEY1"));
    assert_null(strstr(g_fh.log, "SECRETKEY1"));
    assert_non_null(strstr(g_fh.log, "key=***")); /* the logged URL is redacted */
    assert_non_null(strstr(g_fh.log, "/v4/spreadsheets/abc_DEF-1?fields="));
    d->destroy(inst);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cells),
        cmocka_unit_test(test_pages),
        cmocka_unit_test(test_meta),
        cmocka_unit_test(test_header_detect),
        cmocka_unit_test(test_create_errors),
        cmocka_unit_test(test_option_ranges),
        cmocka_unit_test(test_create_ok_and_unreachable),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
