/* Unit tests: the query-string parser of GET /api/odyssey/payments (core/src/serve/serve_query.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "serve/serve_query.h"

#define D0 INT64_C(1704067200000) /* 2024-01-01T00:00:00.000Z */
#define H INT64_C(3600000)

static const char times_msg[] = "FROM and TO are required ISO8601 timestamps";
static const char range_msg[] = "Range must be <= 24 hours";

typedef struct qcase {
    const char *qs;
    ps_query_error rc;
    int64_t from, to;     /* when OK */
    const char *site;     /* when OK */
    const char *fin;      /* when OK */
    const char *msg_part; /* expected in the message when not OK */
} qcase;

static const qcase cases[] = {
    /* the platform's own request */
    {"FROM=2024-01-01T00:00:00Z&TO=2024-01-01T23:59:59Z", PS_QUERY_OK, D0, D0 + 24 * H - 1, "", "",
     NULL},
    {"from=2024-01-01T00:00:00Z&to=2024-01-01T23:59:59Z", PS_QUERY_OK, D0, D0 + 24 * H - 1, "", "",
     NULL},
    {"TO=2024-01-01T23:59:59Z&from=2024-01-01T00:00:00Z", PS_QUERY_OK, D0, D0 + 24 * H - 1, "", "",
     NULL},
    /* percent-encoded colons, lower-case t/z, fractions are exact (no +999) */
    {"FROM=2024-01-01T00%3A00%3A00Z&TO=2024-01-01t01%3a00%3a00.250z", PS_QUERY_OK, D0, D0 + H + 250,
     "", "", NULL},
    /* offsets: encoded '+', '+' decoded as space, '-' */
    {"FROM=2024-01-01T01:00:00%2B01:00&TO=2024-01-01T02:00:00+01:00", PS_QUERY_OK, D0, D0 + H + 999,
     "", "", NULL},
    {"FROM=2023-12-31T23:00:00-01:00&TO=2024-01-01T00:00:00.000Z", PS_QUERY_OK, D0, D0, "", "",
     NULL},
    /* no zone = UTC */
    {"FROM=2024-01-01T00:00:00&TO=2024-01-01T00:00:01", PS_QUERY_OK, D0, D0 + 1999, "", "", NULL},
    /* exactly 24 hours is allowed */
    {"FROM=2024-01-01T00:00:00Z&TO=2024-01-02T00:00:00Z", PS_QUERY_OK, D0, D0 + 24 * H + 999, "",
     "", NULL},
    /* filters, both cases, encoded, unknown parameters ignored, empty pairs skipped */
    {"FROM=2024-01-01T00:00:00Z&TO=2024-01-01T01:00:00Z&SITE_ID=site-1&financing_id=LOAN%2F7",
     PS_QUERY_OK, D0, D0 + H + 999, "site-1", "LOAN/7", NULL},
    {"&&FROM=2024-01-01T00:00:00Z&x=1&TO=2024-01-01T01:00:00Z&site_id=Site+Name&&", PS_QUERY_OK, D0,
     D0 + H + 999, "Site Name", "", NULL},
    {"FROM=2024-01-01T00:00:00Z&TO=2024-01-01T01:00:00Z&SITE_ID=", PS_QUERY_OK, D0, D0 + H + 999,
     "", "", NULL},
    {"FROM=2024-01-01T00:00:00Z&TO=2024-01-01T01:00:00Z&SITE_ID=%C3%89cole", PS_QUERY_OK, D0,
     D0 + H + 999,
     "\xC3\x89"
     "cole",
     "", NULL},
    /* mixed-case names are not the parameters */
    {"From=2024-01-01T00:00:00Z&To=2024-01-01T01:00:00Z", PS_QUERY_TIMES, 0, 0, NULL, NULL,
     times_msg},

    /* missing / bad FROM or TO */
    {"", PS_QUERY_TIMES, 0, 0, NULL, NULL, times_msg},
    {"FROM=2024-01-01T00:00:00Z", PS_QUERY_TIMES, 0, 0, NULL, NULL, times_msg},
    {"TO=2024-01-01T00:00:00Z", PS_QUERY_TIMES, 0, 0, NULL, NULL, times_msg},
    {"FROM=&TO=2024-01-01T00:00:00Z", PS_QUERY_TIMES, 0, 0, NULL, NULL, times_msg},
    {"FROM&TO=2024-01-01T00:00:00Z", PS_QUERY_TIMES, 0, 0, NULL, NULL, times_msg},
    {"FROM=2024-01-01&TO=2024-01-02", PS_QUERY_TIMES, 0, 0, NULL, NULL, times_msg},
    {"FROM=yesterday&TO=today", PS_QUERY_TIMES, 0, 0, NULL, NULL, times_msg},
    {"FROM=1704067200&TO=1704070800", PS_QUERY_TIMES, 0, 0, NULL, NULL, times_msg},
    {"FROM=2024-01-01 00:00:00Z&TO=2024-01-01T01:00:00Z", PS_QUERY_TIMES, 0, 0, NULL, NULL,
     times_msg},
    {"FROM=01/01/2024 00:00&TO=2024-01-01T01:00:00Z", PS_QUERY_TIMES, 0, 0, NULL, NULL, times_msg},
    {"FROM=2024-13-01T00:00:00Z&TO=2024-01-01T01:00:00Z", PS_QUERY_TIMES, 0, 0, NULL, NULL,
     times_msg},
    {"FROM=2023-02-29T00:00:00Z&TO=2023-03-01T00:00:00Z", PS_QUERY_TIMES, 0, 0, NULL, NULL,
     times_msg},
    {"FROM=2024-01-01T24:00:00Z&TO=2024-01-02T01:00:00Z", PS_QUERY_TIMES, 0, 0, NULL, NULL,
     times_msg},
    {"FROM=2024-01-01T00:00:00ZZ&TO=2024-01-01T01:00:00Z", PS_QUERY_TIMES, 0, 0, NULL, NULL,
     times_msg},
    {"FROM=2024-01-01T00:00:00Z%00&TO=2024-01-01T01:00:00Z", PS_QUERY_TIMES, 0, 0, NULL, NULL,
     times_msg},
    {"FROM=2024-01-01T00:00:00Z'--&TO=2024-01-01T01:00:00Z", PS_QUERY_TIMES, 0, 0, NULL, NULL,
     times_msg},
    /* huge: years beyond 4 digits and over-long values */
    {"FROM=99999999999-01-01T00:00:00Z&TO=2024-01-01T01:00:00Z", PS_QUERY_TIMES, 0, 0, NULL, NULL,
     times_msg},
    {"FROM=2024-01-01T00:00:00.0000000000000000000000000000000000000Z&TO=2024-01-01T01:00:00Z",
     PS_QUERY_TIMES, 0, 0, NULL, NULL, times_msg},

    /* window rules */
    {"FROM=2024-01-01T00:00:00Z&TO=2024-01-02T00:00:01Z", PS_QUERY_RANGE, 0, 0, NULL, NULL,
     range_msg},
    {"FROM=2000-01-01T00:00:00Z&TO=2099-01-01T00:00:00Z", PS_QUERY_RANGE, 0, 0, NULL, NULL,
     range_msg},
    {"FROM=2024-01-02T00:00:00Z&TO=2024-01-01T00:00:00Z", PS_QUERY_ORDER, 0, 0, NULL, NULL,
     "FROM must not be after TO"},

    /* encoding */
    {"FROM=2024-01-01T00%3G00:00Z&TO=2024-01-01T01:00:00Z", PS_QUERY_ENCODING, 0, 0, NULL, NULL,
     "malformed percent-encoding"},
    {"FROM=2024-01-01T00:00:00Z&TO=2024-01-01T01:00:00Z%", PS_QUERY_ENCODING, 0, 0, NULL, NULL,
     "malformed percent-encoding"},
    {"FROM=2024-01-01T00:00:00Z&TO=2024-01-01T01:00:00%2", PS_QUERY_ENCODING, 0, 0, NULL, NULL,
     "malformed percent-encoding"},
    {"FROM=2024-01-01T00:00:00Z&TO=2024-01-01T01:00:00Z&junk=%zz", PS_QUERY_ENCODING, 0, 0, NULL,
     NULL, "malformed percent-encoding"},
    {"FR%4=1&TO=2024-01-01T01:00:00Z", PS_QUERY_ENCODING, 0, 0, NULL, NULL,
     "malformed percent-encoding"},

    /* repeated parameters, in either case or encoded */
    {"FROM=2024-01-01T00:00:00Z&FROM=2024-01-01T00:00:00Z&TO=2024-01-01T01:00:00Z",
     PS_QUERY_REPEATED, 0, 0, NULL, NULL, "parameter FROM given more than once"},
    {"FROM=2024-01-01T00:00:00Z&to=2024-01-01T01:00:00Z&TO=2024-01-01T01:00:00Z", PS_QUERY_REPEATED,
     0, 0, NULL, NULL, "parameter TO given more than once"},
    {"FROM=2024-01-01T00:00:00Z&TO=2024-01-01T01:00:00Z&SITE_ID=a&%53ITE_ID=b", PS_QUERY_REPEATED,
     0, 0, NULL, NULL, "parameter SITE_ID given more than once"},

    /* injection attempts and forbidden characters in filters */
    {"FROM=2024-01-01T00:00:00Z&TO=2024-01-01T01:00:00Z&SITE_ID=x%27%20OR%20%271%27%3D%271",
     PS_QUERY_FILTER, 0, 0, NULL, NULL, "SITE_ID may only hold"},
    {"FROM=2024-01-01T00:00:00Z&TO=2024-01-01T01:00:00Z&FINANCING_ID=1;DROP+TABLE+payments",
     PS_QUERY_FILTER, 0, 0, NULL, NULL, "FINANCING_ID may only hold"},
    {"FROM=2024-01-01T00:00:00Z&TO=2024-01-01T01:00:00Z&SITE_ID=a%00b", PS_QUERY_FILTER, 0, 0, NULL,
     NULL, "SITE_ID may only hold"},
    {"FROM=2024-01-01T00:00:00Z&TO=2024-01-01T01:00:00Z&SITE_ID=a%0Ab", PS_QUERY_FILTER, 0, 0, NULL,
     NULL, "SITE_ID may only hold"},
    {"FROM=2024-01-01T00:00:00Z&TO=2024-01-01T01:00:00Z&SITE_ID=%FF%FE", PS_QUERY_FILTER, 0, 0,
     NULL, NULL, "SITE_ID may only hold"},
    {"FROM=2024-01-01T00:00:00Z&TO=2024-01-01T01:00:00Z&SITE_ID=%C0%AF", PS_QUERY_FILTER, 0, 0,
     NULL, NULL, "SITE_ID may only hold"},
    {"FROM=2024-01-01T00:00:00Z&TO=2024-01-01T01:00:00Z&SITE_ID=a%25", PS_QUERY_FILTER, 0, 0, NULL,
     NULL, "SITE_ID may only hold"},
    {"FROM=2024-01-01T00:00:00Z&TO=2024-01-01T01:00:00Z&SITE_ID=%2A", PS_QUERY_FILTER, 0, 0, NULL,
     NULL, "SITE_ID may only hold"},
};

static void test_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const qcase *c = &cases[i];
        ps_payments_query q;
        char msg[256];
        ps_query_error rc = ps_serve_query_parse(c->qs, strlen(c->qs), &q, msg, sizeof msg);
        if (rc != c->rc)
            fail_msg("case %zu '%s': rc %d, expected %d (%s)", i, c->qs, rc, c->rc, msg);
        if (rc == PS_QUERY_OK) {
            if (q.from_ms != c->from || q.to_ms != c->to)
                fail_msg("case %zu '%s': window %lld..%lld, expected %lld..%lld", i, c->qs,
                         (long long)q.from_ms, (long long)q.to_ms, (long long)c->from,
                         (long long)c->to);
            assert_string_equal(q.site_id, c->site);
            assert_string_equal(q.financing_id, c->fin);
            assert_string_equal(msg, "");
        } else if (!strstr(msg, c->msg_part)) {
            fail_msg("case %zu '%s': message '%s' lacks '%s'", i, c->qs, msg, c->msg_part);
        }
    }
}

/* The spec's two 400 texts are exact. */
static void test_exact_messages(void **state)
{
    (void)state;
    ps_payments_query q;
    char msg[256];
    assert_int_equal(ps_serve_query_parse("", 0, &q, msg, sizeof msg), PS_QUERY_TIMES);
    assert_string_equal(msg, times_msg);
    const char *r = "FROM=2024-01-01T00:00:00Z&TO=2024-01-03T00:00:00Z";
    assert_int_equal(ps_serve_query_parse(r, strlen(r), &q, msg, sizeof msg), PS_QUERY_RANGE);
    assert_string_equal(msg, range_msg);
}

/* Only len bytes are read (no NUL needed), and a NULL message buffer is allowed. */
static void test_bounds(void **state)
{
    (void)state;
    ps_payments_query q;
    char buf[] = "FROM=2024-01-01T00:00:00Z&TO=2024-01-01T01:00:00ZXXXX";
    assert_int_equal(ps_serve_query_parse(buf, strlen(buf) - 4, &q, NULL, 0), PS_QUERY_OK);
    assert_int_equal(q.to_ms, D0 + H + 999);
    assert_int_equal(ps_serve_query_parse(NULL, 0, &q, NULL, 0), PS_QUERY_TIMES);
}

/* Filter values of exactly the maximum length pass; one byte more is refused. */
static void test_filter_length(void **state)
{
    (void)state;
    char qs[512], msg[256];
    ps_payments_query q;
    char val[PS_SERVE_FILTER_MAX + 2];
    memset(val, 'a', sizeof val);
    val[PS_SERVE_FILTER_MAX] = '\0';
    snprintf(qs, sizeof qs, "FROM=2024-01-01T00:00:00Z&TO=2024-01-01T01:00:00Z&SITE_ID=%s", val);
    assert_int_equal(ps_serve_query_parse(qs, strlen(qs), &q, msg, sizeof msg), PS_QUERY_OK);
    assert_int_equal(strlen(q.site_id), PS_SERVE_FILTER_MAX);
    val[PS_SERVE_FILTER_MAX] = 'a';
    val[PS_SERVE_FILTER_MAX + 1] = '\0';
    snprintf(qs, sizeof qs, "FROM=2024-01-01T00:00:00Z&TO=2024-01-01T01:00:00Z&SITE_ID=%s", val);
    assert_int_equal(ps_serve_query_parse(qs, strlen(qs), &q, msg, sizeof msg), PS_QUERY_FILTER);
    assert_string_equal(msg, "SITE_ID is longer than 128 bytes");
}

typedef struct icase {
    const char *in;
    int rc;
    int64_t ms;
    int frac;
} icase;

static void test_instant(void **state)
{
    (void)state;
    static const icase ic[] = {
        {"2024-01-01T00:00:00Z", 0, D0, 0},
        {"2024-01-01T00:00:00.5Z", 0, D0 + 500, 1},
        {"2024-01-01T00:00:00.123456789Z", 0, D0 + 123, 1},
        {"2024-01-01T03:00:00+0300", 0, D0, 0},
        {"2024-01-01T03:00:00+03", 0, D0, 0},
        {"2024-01-01T03:00:00 03:00", 0, D0, 0},
        {"2024-01-01T00:00Z", -1, 0, 0},
        {"2024-01-01", -1, 0, 0},
        {"2024-1-01T00:00:00Z", -1, 0, 0},
        {"+2024-01-01T00:00:00Z", -1, 0, 0},
        {"2024-01-01T00:00:00+25:00", -1, 0, 0},
        {"2024-01-01T00:00:60Z", -1, 0, 0},
        {"２０２４-01-01T00:00:00Z", -1, 0, 0},
    };
    for (size_t i = 0; i < sizeof ic / sizeof ic[0]; i++) {
        int64_t ms = -1;
        int frac = -1;
        int rc = ps_serve_parse_instant(ic[i].in, strlen(ic[i].in), &ms, &frac);
        if (rc != ic[i].rc)
            fail_msg("instant '%s': rc %d, expected %d", ic[i].in, rc, ic[i].rc);
        if (rc == 0) {
            assert_int_equal(ms, ic[i].ms);
            assert_int_equal(frac, ic[i].frac);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table),   cmocka_unit_test(test_exact_messages),
        cmocka_unit_test(test_bounds),  cmocka_unit_test(test_filter_length),
        cmocka_unit_test(test_instant),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
