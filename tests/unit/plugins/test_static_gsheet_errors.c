/* Unit tests: gsheet mapping of Google error answers to actionable messages. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "../../../plugins/gsheet/gs_errors.h"

#define JSON_CT "application/json; charset=UTF-8"

static const char disabled[] =
    "{\n  \"error\": {\n    \"code\": 403,\n    \"message\": \"Google Sheets API has not been "
    "used in project 123456789012 before or it is disabled. Enable it by visiting "
    "https://console.developers.google.com/apis/api/sheets.googleapis.com/overview?project="
    "123456789012 then retry.\",\n    \"status\": \"PERMISSION_DENIED\",\n    \"details\": "
    "[{\"@type\": \"type.googleapis.com/google.rpc.ErrorInfo\", \"reason\": "
    "\"SERVICE_DISABLED\"}]\n  }\n}";

typedef struct {
    long status;
    const char *ct;
    const char *body;
    ps_gs_auth_mode mode;
    int token;
    ps_status code;
    const char *want[3];
} err_case;

static const err_case cases[] = {
    {403,
     JSON_CT,
     "{\"error\": {\"code\": 403, \"message\": \"The caller does not have permission\", "
     "\"status\": \"PERMISSION_DENIED\"}}",
     PS_GS_AUTH_SERVICE_ACCOUNT,
     0,
     PS_ERR_AUTH,
     {"share the sheet with svc@p.iam.gserviceaccount.com (read access) or make it "
      "link-readable",
      "The caller does not have permission", "spreadsheet SHEETID"}},
    {403,
     JSON_CT,
     "{\"error\": {\"code\": 403, \"message\": \"The caller does not have permission\", "
     "\"status\": \"PERMISSION_DENIED\"}}",
     PS_GS_AUTH_API_KEY,
     0,
     PS_ERR_AUTH,
     {"make it link-readable", "Anyone with the link", NULL}},
    {403,
     JSON_CT,
     disabled,
     PS_GS_AUTH_SERVICE_ACCOUNT,
     0,
     PS_ERR_AUTH,
     {"enable the Google Sheets API in project 123456789012", "reading metadata", NULL}},
    {404,
     JSON_CT,
     "{\"error\": {\"code\": 404, \"message\": \"Requested entity was not found.\", \"status\": "
     "\"NOT_FOUND\"}}",
     PS_GS_AUTH_API_KEY,
     0,
     PS_ERR_SOURCE,
     {"no spreadsheet with ID SHEETID", "Requested entity was not found.", NULL}},
    {400,
     JSON_CT,
     "{\"error\": {\"code\": 400, \"message\": \"Unable to parse range: 'Pay'!A1:U10\", "
     "\"status\": \"INVALID_ARGUMENT\"}}",
     PS_GS_AUTH_API_KEY,
     0,
     PS_ERR_SOURCE,
     {"cannot find tab 'Pay'", "the tabs that exist are: 'Sheet1' (gid 0), 'Notes' (gid 5)", NULL}},
    {400,
     JSON_CT,
     "{\"error\": {\"code\": 400, \"message\": \"API key not valid. Please pass a valid API "
     "key.\", \"status\": \"INVALID_ARGUMENT\"}}",
     PS_GS_AUTH_API_KEY,
     0,
     PS_ERR_AUTH,
     {"rejected the API key", "check api_key", NULL}},
    {400,
     JSON_CT,
     "{\"error\": {\"code\": 400, \"message\": \"Range ('Pay'!A1:U2000) exceeds grid limits. "
     "Max rows: 1000\", \"status\": \"INVALID_ARGUMENT\"}}",
     PS_GS_AUTH_API_KEY,
     0,
     PS_ERR_SOURCE,
     {"outside tab 'Pay'", "exceeds grid limits", NULL}},
    {401,
     JSON_CT,
     "{\"error\": {\"code\": 401, \"message\": \"Request had invalid authentication "
     "credentials.\", \"status\": \"UNAUTHENTICATED\"}}",
     PS_GS_AUTH_SERVICE_ACCOUNT,
     0,
     PS_ERR_AUTH,
     {"rejected the credentials", "even after getting a new access token", NULL}},
    {429,
     JSON_CT,
     "{\"error\": {\"code\": 429, \"message\": \"Quota exceeded for quota metric 'Read "
     "requests'\", \"status\": \"RESOURCE_EXHAUSTED\"}}",
     PS_GS_AUTH_API_KEY,
     0,
     PS_ERR_NETWORK,
     {"HTTP 429 RESOURCE_EXHAUSTED", "lower requests_per_minute", "no partial data"}},
    {503,
     JSON_CT,
     "{\"error\": {\"code\": 503, \"message\": \"The service is currently unavailable.\", "
     "\"status\": \"UNAVAILABLE\"}}",
     PS_GS_AUTH_API_KEY,
     0,
     PS_ERR_NETWORK,
     {"HTTP 503 UNAVAILABLE", "lower page_rows", NULL}},
    {502,
     "text/html; charset=UTF-8",
     "<!DOCTYPE html><html><b>502.</b> That's an error.</html>",
     PS_GS_AUTH_API_KEY,
     0,
     PS_ERR_NETWORK,
     {"got an HTML page (HTTP 502)", NULL, NULL}},
    {200,
     "text/plain",
     "<html><body>proxy</body></html>",
     PS_GS_AUTH_API_KEY,
     0,
     PS_ERR_SOURCE,
     {"got an HTML page", "JSON was expected", NULL}},
    {400,
     JSON_CT,
     "{\"error\": \"invalid_grant\", \"error_description\": \"Invalid JWT Signature.\"}",
     PS_GS_AUTH_SERVICE_ACCOUNT,
     1,
     PS_ERR_AUTH,
     {"getting an access token for svc@p.iam.gserviceaccount.com", "invalid_grant",
      "Invalid JWT Signature."}},
    {503,
     JSON_CT,
     "{}",
     PS_GS_AUTH_SERVICE_ACCOUNT,
     1,
     PS_ERR_NETWORK,
     {"token endpoint kept failing", NULL, NULL}},
    {418,
     "text/plain",
     "teapot",
     PS_GS_AUTH_API_KEY,
     0,
     PS_ERR_SOURCE,
     {"unexpected HTTP 418", NULL, NULL}},
};

static void test_mapping(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        ps_gs_err_ctx ctx = {.what = "reading metadata",
                             .spreadsheet_id = "SHEETID",
                             .client_email = cases[i].mode == PS_GS_AUTH_SERVICE_ACCOUNT
                                                 ? "svc@p.iam.gserviceaccount.com"
                                                 : NULL,
                             .mode = cases[i].mode,
                             .tab = "Pay",
                             .tabs = "'Sheet1' (gid 0), 'Notes' (gid 5)",
                             .token_request = cases[i].token};
        ps_error err = {0};
        ps_status st = ps_gs_map_error(cases[i].status, cases[i].ct, cases[i].body,
                                       strlen(cases[i].body), &ctx, &err);
        if (st != cases[i].code)
            print_error("case %zu: %s\n", i, err.message);
        assert_int_equal(st, cases[i].code);
        assert_int_equal(err.code, cases[i].code);
        for (int k = 0; k < 3; k++)
            if (cases[i].want[k] && !strstr(err.message, cases[i].want[k])) {
                print_error("case %zu: '%s' not in '%s'\n", i, cases[i].want[k], err.message);
                fail();
            }
    }
}

static void test_looks_html(void **state)
{
    (void)state;
    assert_true(ps_gs_looks_html("text/html; charset=utf-8", "x", 1));
    assert_true(ps_gs_looks_html("", "  \n<!DOCTYPE html>", 18));
    assert_true(ps_gs_looks_html(NULL, "<HTML>", 6));
    assert_false(ps_gs_looks_html("application/json", "{\"a\":1}", 7));
    assert_false(ps_gs_looks_html("text/csv", "a,b", 3));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mapping),
        cmocka_unit_test(test_looks_html),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
