/* Unit tests: serve's JSON writers, Prometheus text and settings (core/src/serve/serve_json.h,
 * serve_metrics.h, serve.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "plugin/options.h"
#include "serve/serve.h"
#include "serve/serve_json.h"
#include "serve/serve_metrics.h"

static char *render_row(const ps_store_payment *r)
{
    ps_sbuf b = {0};
    ps_serve_payment_json(&b, r);
    char *s = ps_sbuf_take(&b, NULL);
    assert_non_null(s);
    return s;
}

static ps_store_payment base_row(void)
{
    ps_store_payment r;
    memset(&r, 0, sizeof r);
    r.dataset = "ds";
    r.field[PS_F_ID] = "T1";
    r.field[PS_F_PAYMENT_AMOUNT] = "1500.50";
    r.field[PS_F_PAYMENT_CURRENCY] = "NGN";
    r.field[PS_F_TRANSACTION_TYPE] = "FULL_PAYMENT";
    r.field[PS_F_CUSTOMER_ID] = "C1";
    r.timestamp_ms = INT64_C(1704096902000); /* 2024-01-01T08:15:02.000Z */
    r.amount.units = 150050;
    r.amount.scale = 2;
    return r;
}

static void test_payment_minimal(void **state)
{
    (void)state;
    ps_store_payment r = base_row();
    char *s = render_row(&r);
    assert_string_equal(s, "{\"transactionId\":\"T1\",\"timestamp\":\"2024-01-01T08:15:02.000Z\","
                           "\"amount\":1500.50,\"currency\":\"NGN\",\"transactionType\":"
                           "\"FULL_PAYMENT\",\"customerId\":\"C1\"}");
    free(s);
}

static void test_payment_full_project(void **state)
{
    (void)state;
    ps_store_payment r = base_row();
    r.field[PS_F_METER_ID] = "M-1";
    r.field[PS_F_CUSTOMER_NAME] = "Ada \"Q\"\n\\";
    r.field[PS_F_CUSTOMER_PHONE] = "+2348030000000";
    r.field[PS_F_CUSTOMER_CATEGORY] = "Residential";
    r.field[PS_F_FINANCING_ID] = "F1";
    r.field[PS_F_AGENT_ID] = "A1";
    r.field[PS_F_UTILITY_ID] = "U1";
    r.field[PS_F_LATITUDE] = "6.5244";
    r.field[PS_F_LONGITUDE] = "-3.3792";
    r.field[PS_F_FAILED_BATTERY_CAPACITY_COUNT] = "3";
    r.field[PS_F_NOTES] = "not exported";
    r.field[PS_F_REFERENCE_ID] = "not exported";
    char *s = render_row(&r);
    assert_string_equal(
        s,
        "{\"transactionId\":\"T1\",\"timestamp\":\"2024-01-01T08:15:02.000Z\",\"amount\":1500.50,"
        "\"currency\":\"NGN\",\"transactionType\":\"FULL_PAYMENT\",\"customerId\":\"C1\","
        "\"meterId\":\"M-1\",\"customerName\":\"Ada \\\"Q\\\"\\n\\\\\",\"customerPhone\":"
        "\"+2348030000000\",\"customerCategory\":\"Residential\",\"financingId\":\"F1\","
        "\"agentId\":\"A1\",\"utilityId\":\"U1\",\"latitude\":\"6.5244\",\"longitude\":"
        "\"-3.3792\",\"failedBatteryCapacityCount\":3}");
    free(s);
}

static void test_payment_program_level(void **state)
{
    (void)state;
    ps_store_payment r = base_row();
    r.target_level = PS_TARGET_PROGRAM;
    r.field[PS_F_METER_ID] = "SHS-9";
    char *s = render_row(&r);
    assert_non_null(strstr(s, "\"serialNumber\":\"SHS-9\""));
    assert_null(strstr(s, "meterId"));
    free(s);
    r.field[PS_F_METER_ID] = NULL;
    s = render_row(&r);
    assert_non_null(strstr(s, "\"serialNumber\":\"N/A\""));
    free(s);
}

static void test_amount_fallback(void **state)
{
    (void)state;
    /* Text that is not a JSON number falls back to the exact units/scale. */
    static const char *const bad[] = {"1500.", ".5", "+1", "1,5", "", "0x10", "1e", NULL};
    for (int i = 0; bad[i]; i++) {
        ps_store_payment r = base_row();
        r.field[PS_F_PAYMENT_AMOUNT] = bad[i];
        char *s = render_row(&r);
        if (!strstr(s, "\"amount\":1500.50,"))
            fail_msg("amount text '%s' gave %s", bad[i], s);
        free(s);
    }
    ps_store_payment r = base_row();
    r.field[PS_F_PAYMENT_AMOUNT] = "-0.0001";
    char *s = render_row(&r);
    assert_non_null(strstr(s, "\"amount\":-0.0001,"));
    free(s);
    /* a huge exact amount is printed as written, never rounded */
    r.field[PS_F_PAYMENT_AMOUNT] = "92233720368547758.07";
    s = render_row(&r);
    assert_non_null(strstr(s, "\"amount\":92233720368547758.07,"));
    free(s);
}

static void test_battery_count_not_number(void **state)
{
    (void)state;
    ps_store_payment r = base_row();
    r.field[PS_F_FAILED_BATTERY_CAPACITY_COUNT] = "three";
    char *s = render_row(&r);
    assert_non_null(strstr(s, "\"failedBatteryCapacityCount\":\"three\""));
    free(s);
}

static void test_json_string(void **state)
{
    (void)state;
    ps_sbuf b = {0};
    ps_sbuf_json_string(&b, "a\x01\t\"\xC3\xA9\xFF\xE2\x82");
    char *s = ps_sbuf_take(&b, NULL);
    assert_string_equal(s, "\"a\\u0001\\t\\\"\xC3\xA9\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\"");
    free(s);
}

static void test_is_number(void **state)
{
    (void)state;
    static const char *const yes[] = {"0", "-0", "1", "1500.50", "-12.5", "1e5", "1.5E-3", NULL};
    static const char *const no[] = {"", "-", "01", "1.", ".1", "+1", "1e", "NaN", "1 ", NULL};
    for (int i = 0; yes[i]; i++)
        if (!ps_json_is_number(yes[i]))
            fail_msg("'%s' should be a JSON number", yes[i]);
    for (int i = 0; no[i]; i++)
        if (ps_json_is_number(no[i]))
            fail_msg("'%s' should not be a JSON number", no[i]);
    assert_false(ps_json_is_number(NULL));
}

static void test_sbuf_large(void **state)
{
    (void)state;
    ps_sbuf b = {0};
    char big[2000];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    ps_sbuf_printf(&b, "[%s]", big); /* longer than the printf scratch buffer */
    for (int i = 0; i < 100; i++)
        ps_sbuf_puts(&b, big);
    size_t len = 0;
    char *s = ps_sbuf_take(&b, &len);
    assert_int_equal(len, 2001 + 100 * 1999);
    assert_int_equal(s[0], '[');
    assert_int_equal(s[2000], ']');
    assert_int_equal(strlen(s), len);
    free(s);
    ps_sbuf e = {0};
    s = ps_sbuf_take(&e, &len);
    assert_string_equal(s, "");
    assert_int_equal(len, 0);
    free(s);
}

static void test_seconds(void **state)
{
    (void)state;
    ps_sbuf b = {0};
    ps_sbuf_seconds(&b, 1704096902123LL);
    ps_sbuf_puts(&b, " ");
    ps_sbuf_seconds(&b, 5);
    ps_sbuf_puts(&b, " ");
    ps_sbuf_seconds(&b, -1500);
    char *s = ps_sbuf_take(&b, NULL);
    assert_string_equal(s, "1704096902.123 0.005 -1.500");
    free(s);
}

static void test_metrics_render(void **state)
{
    (void)state;
    ps_serve_counters c;
    memset(&c, 0, sizeof c);
    ps_serve_count(&c, 200);
    ps_serve_count(&c, 200);
    ps_serve_count(&c, 401);
    ps_serve_count(&c, 418);
    ps_store_stats st;
    memset(&st, 0, sizeof st);
    st.dataset = "a\"b";
    st.runs_ok = 3;
    st.runs_failed = 1;
    st.rows[1] = 42;
    st.has_success = 1;
    st.last_success_ms = 1704096902123LL;
    st.last_success_duration_ms = 2500;
    st.has_run = 1;
    st.last_run_ok = 0;
    ps_sbuf b = {0};
    ps_serve_metrics_render(&b, &c, 1, &st, 1);
    char *s = ps_sbuf_take(&b, NULL);
    static const char *const want[] = {
        "paysync_store_up 1\n",
        "# TYPE paysync_runs_total counter\n",
        "paysync_runs_total{dataset=\"a\\\"b\",outcome=\"ok\"} 3\n",
        "paysync_runs_total{dataset=\"a\\\"b\",outcome=\"failed\"} 1\n",
        "paysync_rows_total{dataset=\"a\\\"b\",outcome=\"accepted\"} 42\n",
        "paysync_rows_total{dataset=\"a\\\"b\",outcome=\"vanished\"} 0\n",
        "paysync_last_success_timestamp_seconds{dataset=\"a\\\"b\"} 1704096902.123\n",
        "paysync_last_success_duration_seconds{dataset=\"a\\\"b\"} 2.500\n",
        "paysync_last_run_ok{dataset=\"a\\\"b\"} 0\n",
        "paysync_http_requests_total{code=\"200\"} 2\n",
        "paysync_http_requests_total{code=\"401\"} 1\n",
        "paysync_http_requests_total{code=\"other\"} 1\n",
        NULL,
    };
    for (int i = 0; want[i]; i++)
        if (!strstr(s, want[i]))
            fail_msg("metrics lack '%s':\n%s", want[i], s);
    assert_null(strstr(s, "paysync_rejects")); /* the store has no reject codes: omitted */
    free(s);
    /* store down: only the up gauge and the HTTP counters */
    ps_sbuf d = {0};
    ps_serve_metrics_render(&d, &c, 0, NULL, 0);
    s = ps_sbuf_take(&d, NULL);
    assert_non_null(strstr(s, "paysync_store_up 0\n"));
    assert_null(strstr(s, "paysync_runs_total"));
    assert_non_null(strstr(s, "paysync_http_requests_total{code=\"200\"} 2\n"));
    free(s);
}

typedef struct lcase {
    const char *key, *value;
    const char *err_part; /* NULL = accepted */
} lcase;

static void test_limits(void **state)
{
    (void)state;
    static const lcase cases[] = {
        {"threads", "8", NULL},
        {"max_connections", "1", NULL},
        {"protect_metrics", "true", NULL},
        {"connection_timeout", "10s", NULL},
        {"connection_timeout", "45", NULL},
        {"shutdown_timeout", "0", NULL},
        {"max_header_bytes", "64KiB", NULL},
        {"threads", "0",
         "p.yaml:7:3: serve: setting 'threads' must be a whole number from 1 to 64, got '0'"},
        {"threads", "65", "from 1 to 64"},
        {"max_url_bytes", "-1", "setting 'max_url_bytes' must be a size from 256B to 64KiB"},
        {"connection_timeout", "2h",
         "setting 'connection_timeout' must be a duration from 1s to 1h (units ms, s, m, h, d, "
         "e.g. 500ms, 90s, 1h30m; a plain number means seconds), got '2h'"},
        {"connection_timeout", "0", "from 1s to 1h"},
        {"shutdown_timeout", "601", "setting 'shutdown_timeout' must be a duration from 0s to 10m"},
        {"max_header_bytes", "", "got ''"},
        {"max_header_bytes", "99999999999999999999", "from 1KiB to 256KiB"},
        {"max_header_bytes", "1MB", "got '1MB'"},
        {"protect_metrics", "maybe", "serve: setting 'protect_metrics' must be true or false"},
        {"header_timeout", "0", "setting 'header_timeout' must be a duration from 1s to 1h"},
        {"max_query_params", "0",
         "setting 'max_query_params' must be a whole number from 1 to "
         "1024, got '0'"},
        {"max_query_params", "1025", "from 1 to 1024"},
        {"max_conections", "5",
         "serve: unknown setting 'max_conections' (did you mean 'max_connections'?); valid "
         "settings: listen, store, keys, threads, max_connections"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ps_config cfg;
        memset(&cfg, 0, sizeof cfg);
        ps_kv kv = {(char *)cases[i].key, (char *)cases[i].value, 7, 3};
        cfg.path = "p.yaml";
        cfg.serve.limits = &kv;
        cfg.serve.nlimits = 1;
        ps_serve_limits lim;
        ps_error err = {0};
        ps_status st = ps_serve_limits_parse(&cfg, &lim, &err);
        if (!cases[i].err_part) {
            assert_int_equal(st, PS_OK);
            continue;
        }
        assert_int_equal(st, PS_ERR_CONFIG);
        if (!strstr(err.message, cases[i].err_part) || !strstr(err.message, "p.yaml:7:3: "))
            fail_msg("case %zu: message '%s' lacks '%s'", i, err.message, cases[i].err_part);
    }
    ps_config cfg;
    memset(&cfg, 0, sizeof cfg);
    ps_serve_limits lim;
    assert_int_equal(ps_serve_limits_parse(&cfg, &lim, NULL), PS_OK);
    assert_int_equal(lim.threads, 4);
    assert_int_equal(lim.max_connections, 256);
    assert_int_equal(lim.max_connections_per_ip, 16);
    assert_int_equal(lim.connection_timeout, 10);
    assert_int_equal(lim.header_timeout_ms, 10000);
    assert_int_equal(lim.max_query_params, 64);
    assert_int_equal(lim.max_url_bytes, 4096);
    assert_int_equal(lim.max_header_bytes, 16384);
    assert_int_equal(lim.shutdown_timeout, 10);
    assert_int_equal(lim.protect_metrics, 0);

    /* durations are kept in whole seconds (rounded up), sizes in bytes */
    ps_kv kvs[] = {{(char *)"connection_timeout", (char *)"1m30s", 7, 3},
                   {(char *)"shutdown_timeout", (char *)"1500ms", 8, 3},
                   {(char *)"max_url_bytes", (char *)"8k", 9, 3},
                   {(char *)"protect_metrics", (char *)"yes", 10, 3},
                   {(char *)"header_timeout", (char *)"2500ms", 11, 3},
                   {(char *)"max_query_params", (char *)"8", 12, 3},
                   {(char *)"max_connections_per_ip", (char *)"0", 13, 3}};
    cfg.serve.limits = kvs;
    cfg.serve.nlimits = 7;
    assert_int_equal(ps_serve_limits_parse(&cfg, &lim, NULL), PS_OK);
    assert_int_equal(lim.connection_timeout, 90);
    assert_int_equal(lim.shutdown_timeout, 2);
    assert_int_equal(lim.max_url_bytes, 8192);
    assert_int_equal(lim.protect_metrics, 1);
    assert_int_equal(lim.header_timeout_ms, 2500); /* kept in ms: the watchdog ticks 100 ms */
    assert_int_equal(lim.max_query_params, 8);
    assert_int_equal(lim.max_connections_per_ip, 0);
    assert_int_equal(lim.threads, 4);

    /* every default passes the checks it declares */
    const ps_option_spec *t = ps_serve_settings();
    for (size_t i = 0; t[i].name; i++) {
        char msg[600];
        if (ps_option_spec_check(&t[i], msg, sizeof msg) != 0)
            fail_msg("%s: %s", t[i].name, msg);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_payment_minimal),
        cmocka_unit_test(test_payment_full_project),
        cmocka_unit_test(test_payment_program_level),
        cmocka_unit_test(test_amount_fallback),
        cmocka_unit_test(test_battery_count_not_number),
        cmocka_unit_test(test_json_string),
        cmocka_unit_test(test_is_number),
        cmocka_unit_test(test_sbuf_large),
        cmocka_unit_test(test_seconds),
        cmocka_unit_test(test_metrics_render),
        cmocka_unit_test(test_limits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
