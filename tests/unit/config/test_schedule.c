/* Unit tests: dataset schedules (core/src/config/schedule.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "config/config.h"
#include "model/timestamp.h"
#include "config/schedule.h"

/* ---- helpers ------------------------------------------------------------------------ */

#define MAXKV 8

/* Builds a flattened schedule from "key=value;key=value" (first entry is kind). Entry i sits
 * at line 10 + i, column 3 + i. Returns the count. */
static size_t make_kv(const char *spec, ps_kv *kv, char store[MAXKV][2][128])
{
    size_t n = 0;
    const char *p = spec;
    while (*p && n < MAXKV) {
        const char *semi = strchr(p, ';');
        size_t len = semi ? (size_t)(semi - p) : strlen(p);
        const char *eq = memchr(p, '=', len);
        assert_non_null(eq);
        snprintf(store[n][0], 128, "%.*s", (int)(eq - p), p);
        snprintf(store[n][1], 128, "%.*s", (int)(len - (size_t)(eq - p) - 1), eq + 1);
        kv[n].key = store[n][0];
        kv[n].value = store[n][1];
        kv[n].line = 10 + (int)n;
        kv[n].col = 3 + (int)n;
        n++;
        p += len + (semi ? 1 : 0);
    }
    return n;
}

static int64_t T(const char *iso)
{
    int64_t ms = 0;
    int rc = ps_time_parse_iso(iso, strlen(iso), NULL, &ms);
    if (rc != PS_TIME_OK)
        fail_msg("bad test time '%s'", iso);
    return ms;
}

static void parse_ok(const char *spec, const char *dataset, ps_schedule *s)
{
    ps_kv kv[MAXKV];
    char store[MAXKV][2][128];
    size_t n = make_kv(spec, kv, store);
    ps_error err = {0};
    ps_status st = ps_schedule_parse(kv, n, dataset, "cfg.yaml", "datasets[d].schedule", s, &err);
    if (st != PS_OK)
        fail_msg("'%s': unexpected error: %s", spec, err.message);
}

/* ---- next slot ----------------------------------------------------------------------- */

typedef struct next_case {
    const char *spec;
    const char *after;
    const char *want;
} next_case;

static const next_case next_cases[] = {
    /* daily */
    {"kind=daily", "2024-03-05T14:16:00Z", "2024-03-06T00:00:00Z"},
    {"kind=daily", "2024-03-05T00:00:00Z", "2024-03-06T00:00:00Z"}, /* strictly after */
    {"kind=daily", "2024-03-04T23:59:59.999Z", "2024-03-05T00:00:00Z"},
    {"kind=daily;at=02:00", "2024-12-31T03:00:00Z", "2025-01-01T02:00:00Z"}, /* year */
    {"kind=daily;at=02:00", "2024-12-31T01:00:00Z", "2024-12-31T02:00:00Z"},
    {"kind=daily;at=02:00", "2024-02-28T02:00:00Z", "2024-02-29T02:00:00Z"}, /* leap day */
    {"kind=daily;at=23:59", "2023-02-28T23:59:30Z", "2023-03-01T23:59:00Z"}, /* month */
    {"kind=daily;daily=7:30", "2024-06-30T08:00:00Z", "2024-07-01T07:30:00Z"},
    /* hourly */
    {"kind=hourly", "2024-01-31T23:30:00Z", "2024-02-01T00:00:00Z"},
    {"kind=hourly;at=:15", "2024-01-01T10:15:00Z", "2024-01-01T11:15:00Z"},
    {"kind=hourly;at=15", "2024-01-01T10:14:59Z", "2024-01-01T10:15:00Z"},
    {"kind=hourly;hourly=:05", "2024-12-31T23:06:00Z", "2025-01-01T00:05:00Z"},
    /* every */
    {"kind=every;every=6h", "2024-03-05T20:00:00Z", "2024-03-06T02:00:00Z"},
    {"kind=every;every=1h30m", "2024-03-05T23:00:00.250Z", "2024-03-06T00:30:00.250Z"},
    {"kind=every;every=2d", "2024-02-28T12:00:00Z", "2024-03-01T12:00:00Z"},
    {"kind=every;every=45s", "2024-03-05T00:00:00Z", "2024-03-05T00:00:45Z"},
    /* cron */
    {"kind=0 2 * * *", "2024-03-31T02:00:00Z", "2024-04-01T02:00:00Z"},
    {"kind=cron;cron=0 2 * * *", "2024-03-31T01:59:59Z", "2024-03-31T02:00:00Z"},
    {"kind=*/15 9-17 * * 1-5", "2024-03-08T17:45:00Z", "2024-03-11T09:00:00Z"}, /* Fri->Mon */
    {"kind=*/15 9-17 * * 1-5", "2024-03-11T09:07:00Z", "2024-03-11T09:15:00Z"},
    {"kind=0 0 31 * *", "2024-04-01T00:00:00Z", "2024-05-31T00:00:00Z"}, /* April: 30 days */
    {"kind=0 0 29 2 *", "2024-03-01T00:00:00Z", "2028-02-29T00:00:00Z"},
    {"kind=0 12 1 * mon", "2024-04-01T12:00:00Z", "2024-04-08T12:00:00Z"}, /* dom OR dow */
    {"kind=0 12 1 * mon", "2024-04-29T12:00:00Z", "2024-05-01T12:00:00Z"},
    {"kind=0 12 */2 * mon", "2024-04-01T12:00:00Z", "2024-04-15T12:00:00Z"}, /* '*' => AND */
    {"kind=30 4 * jan,jul sun", "2024-01-01T00:00:00Z", "2024-01-07T04:30:00Z"},
    {"kind=30 4 * JAN,Jul SUN", "2024-01-31T00:00:00Z", "2024-07-07T04:30:00Z"},
    {"kind=0 0 * * 7", "2024-01-01T00:00:00Z", "2024-01-07T00:00:00Z"}, /* 7 = Sunday */
    {"kind=0 0 * * 5-7", "2024-01-01T00:00:00Z", "2024-01-05T00:00:00Z"},
    {"kind=10-50/20 * * * *", "2024-01-01T10:00:00Z", "2024-01-01T10:10:00Z"},
    {"kind=10-50/20 * * * *", "2024-01-01T10:10:00Z", "2024-01-01T10:30:00Z"},
    {"kind=10-50/20 * * * *", "2024-01-01T10:50:00Z", "2024-01-01T11:10:00Z"},
    {"kind=5/20 * * * *", "2024-01-01T10:46:00Z", "2024-01-01T11:05:00Z"},
    {"kind=0,30 8,20 * * *", "2024-01-01T20:30:00Z", "2024-01-02T08:00:00Z"},
    {"kind=0 0 1 */3 *", "2024-02-15T00:00:00Z", "2024-04-01T00:00:00Z"},
    {"kind=@monthly", "2024-01-15T00:00:00Z", "2024-02-01T00:00:00Z"},
    {"kind=@weekly", "2024-01-01T00:00:00Z", "2024-01-07T00:00:00Z"},
    {"kind=@yearly", "2024-01-01T00:00:00Z", "2025-01-01T00:00:00Z"},
    {"kind=@hourly", "2024-01-01T00:00:00Z", "2024-01-01T01:00:00Z"},
    {"kind=  0   3  *  *  * ", "2024-01-01T04:00:00Z", "2024-01-02T03:00:00Z"},
    /* before the epoch */
    {"kind=daily", "1969-12-31T12:00:00Z", "1970-01-01T00:00:00Z"},
};

static void test_next_slot(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof next_cases / sizeof next_cases[0]; i++) {
        const next_case *c = &next_cases[i];
        ps_schedule s;
        parse_ok(c->spec, "d", &s);
        int64_t got = ps_schedule_next_slot(&s, T(c->after));
        char gbuf[PS_TIME_TEXT_MAX], wbuf[PS_TIME_TEXT_MAX];
        ps_time_format(got, gbuf);
        ps_time_format(T(c->want), wbuf);
        if (strcmp(gbuf, wbuf) != 0)
            fail_msg("case %zu '%s' after %s: got %s, want %s", i, c->spec, c->after, gbuf, wbuf);
    }
}

static void test_next_due_and_due(void **state)
{
    (void)state;
    ps_schedule s;
    parse_ok("kind=daily;at=02:00", "d", &s);
    int64_t now = T("2024-03-05T10:00:00Z");
    /* never run: due now */
    assert_int_equal(ps_schedule_next_due(&s, NULL, now), now);
    assert_true(ps_schedule_due(&s, NULL, now));
    /* ran today at 02:00: next tomorrow, not due */
    int64_t last = T("2024-03-05T02:00:03Z");
    assert_int_equal(ps_schedule_next_due(&s, &last, now), T("2024-03-06T02:00:00Z"));
    assert_false(ps_schedule_due(&s, &last, now));
    assert_true(ps_schedule_due(&s, &last, T("2024-03-06T02:00:00Z")));
    /* last ran two days ago: overdue (next due lies in the past) */
    last = T("2024-03-03T02:00:00Z");
    assert_int_equal(ps_schedule_next_due(&s, &last, now), T("2024-03-04T02:00:00Z"));
    assert_true(ps_schedule_due(&s, &last, now));
    /* every: relative to the last start */
    parse_ok("kind=every;every=6h", "d", &s);
    last = T("2024-03-05T05:00:00Z");
    assert_false(ps_schedule_due(&s, &last, now));
    assert_true(ps_schedule_due(&s, &last, T("2024-03-05T11:00:00Z")));
    assert_false(ps_schedule_due(&s, &last, T("2024-03-05T10:59:59.999Z")));
}

/* ---- jitter ------------------------------------------------------------------------- */

static void test_jitter_deterministic(void **state)
{
    (void)state;
    static const char *const names[] = {"site-a", "site-b", "site-c", "site-d", "site-e"};
    int64_t first_offset = -1;
    int differ = 0;
    for (size_t i = 0; i < 5; i++) {
        ps_schedule a, b;
        parse_ok("kind=daily;at=02:00;jitter=10m", names[i], &a);
        parse_ok("kind=daily;at=02:00;jitter=10m", names[i], &b);
        assert_int_equal(a.offset_ms, b.offset_ms); /* same name, same offset */
        assert_int_equal(a.jitter_ms, 600000);
        assert_true(a.offset_ms >= 0 && a.offset_ms < 600000);
        assert_int_equal(a.offset_ms % 1000, 0);
        int64_t after = T("2024-03-05T03:00:00Z");
        int64_t slot = ps_schedule_next_slot(&a, after);
        assert_int_equal(slot, T("2024-03-06T02:00:00Z") + a.offset_ms);
        /* a run started at the jittered slot is not due again the same day */
        assert_int_equal(ps_schedule_next_slot(&a, slot), slot + 86400000);
        /* just before the jittered slot, the slot is still ahead */
        assert_int_equal(ps_schedule_next_slot(&a, slot - 1), slot);
        if (first_offset < 0)
            first_offset = a.offset_ms;
        else if (a.offset_ms != first_offset)
            differ = 1;
    }
    assert_true(differ); /* spread across datasets */
    ps_schedule s;
    parse_ok("kind=daily;jitter=0s", "x", &s);
    assert_int_equal(s.offset_ms, 0);
    parse_ok("kind=hourly;at=:30;jitter=5m", "x", &s);
    assert_true(s.offset_ms < 300000);
    parse_ok("kind=cron;cron=0 2 * * *;jitter=1h", "x", &s);
    assert_true(s.offset_ms < 3600000);
    assert_non_null(strstr(s.text, "jitter 1h"));
}

static void test_describe(void **state)
{
    (void)state;
    static const struct {
        const char *spec, *text;
    } cases[] = {
        {"kind=daily", "daily at 00:00 UTC"},
        {"kind=daily;at=02:00;jitter=10m", "daily at 02:00 UTC, jitter 10m"},
        {"kind=hourly;at=:07", "hourly at :07"},
        {"kind=every;every=90m", "every 1h30m"},
        {"kind=0 2 * * *", "cron \"0 2 * * *\" UTC"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ps_schedule s;
        parse_ok(cases[i].spec, "d", &s);
        assert_string_equal(s.text, cases[i].text);
    }
}

/* ---- invalid schedules ---------------------------------------------------------------- */

typedef struct bad_case {
    const char *spec;
    const char *where; /* expected "cfg.yaml:L:C: PATH" prefix */
    const char *msg;   /* expected substring */
} bad_case;

#define P "cfg.yaml:"
#define S "datasets[d].schedule"
static const bad_case bad_cases[] = {
    {"kind=dayly", P "10:3: " S ": ", "unknown schedule 'dayly' (did you mean 'daily'?)"},
    {"kind=weekly", P "10:3: " S ": ", "expected daily, hourly, {every: 6h} or a 5-field cron"},
    {"kind=", P "10:3: " S ": ", "a value is required"},
    {"kind=daily;at=25:00", P "11:4: " S ".at: ", "'25:00' is not a time of day"},
    {"kind=daily;at=2:5", P "11:4: " S ".at: ", "expected \"HH:MM\""},
    {"kind=daily;at=02:00:00", P "11:4: " S ".at: ", "not a time of day"},
    {"kind=daily;atx=02:00", P "11:4: " S ".atx: ", "unknown key 'atx' (did you mean 'at'?)"},
    {"kind=daily;every=6h", P "11:4: " S ".every: ", "for a daily schedule; expected: at, jitter"},
    {"kind=daily;daily=02:00;at=03:00", P "12:5: " S ".at: ", "the time is given twice"},
    {"kind=daily;jitter=", P "11:4: " S ".jitter: ", "a value is required"},
    {"kind=daily;jitter=24h", P "11:4: " S ".jitter: ", "jitter must be shorter than 24h"},
    {"kind=daily;jitter=ten", P "11:4: " S ".jitter: ", "expected a number followed by a unit"},
    {"kind=hourly;jitter=1h", P "11:4: " S ".jitter: ", "jitter must be shorter than 1h"},
    {"kind=hourly;at=60", P "11:4: " S ".at: ", "'60' is not a minute of the hour"},
    {"kind=every", P "10:3: " S ": ", "'every' needs an interval, e.g. {every: 6h}"},
    {"kind=every;every=6", P "11:4: " S ".every: ", "a number needs a unit ms, s, m, h or d"},
    {"kind=every;every=6x", P "11:4: " S ".every: ", "unknown unit: use ms, s, m, h or d"},
    {"kind=every;every=0s", P "11:4: " S ".every: ", "duration must be longer than zero"},
    {"kind=every;every=500ms", P "11:4: " S ".every: ", "the interval must be at least 1s"},
    {"kind=every;every=99999d", P "11:4: " S ".every: ", "too long"},
    {"kind=every;every=6h;jitter=1m",
     P "12:5: " S ".jitter: ", "an every schedule takes no other keys"},
    {"kind=cron", P "10:3: " S ": ", "'cron' needs an expression"},
    {"kind=cron;cron=0 2 * *", P "11:4: " S ".cron: ", "has 5 fields"},
    {"kind=0 2 * *", P "10:3: " S ": ", "'0 2 * *' has 4"},
    {"kind=0 2 * * * *", P "10:3: " S ": ", "has 6"},
    {"kind=60 * * * *", P "10:3: " S ": ", "minute field '60': values must be 0-59"},
    {"kind=0 24 * * *", P "10:3: " S ": ", "hour field '24': values must be 0-23"},
    {"kind=0 0 0 * *", P "10:3: " S ": ", "day of month field '0': values must be 1-31"},
    {"kind=0 0 * 13 *", P "10:3: " S ": ", "month field '13': values must be 1-12"},
    {"kind=0 0 * * 8", P "10:3: " S ": ", "day of week field '8': values must be 0-7"},
    {"kind=5-1 * * * *", P "10:3: " S ": ", "range 5-1 is backwards"},
    {"kind=*/0 * * * *", P "10:3: " S ": ", "a step must be at least 1"},
    {"kind=*/ * * * *", P "10:3: " S ": ", "minute field '*/' is not valid"},
    {"kind=0 0 * foo *", P "10:3: " S ": ", "month field 'foo' is not valid"},
    {"kind=0 0 * * funday", P "10:3: " S ": ", "or sun-sat"},
    {"kind=1,,2 * * * *", P "10:3: " S ": ", "minute field '1,,2' has an empty list item"},
    {"kind=1, * * * *", P "10:3: " S ": ", "has an empty list item"},
    {"kind=1-2-3 * * * *", P "10:3: " S ": ", "minute field '1-2-3' is not valid"},
    {"kind=0 0 30 2 *", P "10:3: " S ": ", "never fires (no such date)"},
    {"kind=0 0 31 4,6 *", P "10:3: " S ": ", "never fires"},
    {"kind=@weekley", P "10:3: " S ": ", "unknown cron macro '@weekley'"},
    {"kind=cron;cron=0 0 * * *;at=02:00", P "12:5: " S ".at: ", "unknown key 'at'"},
};

static void test_invalid(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof bad_cases / sizeof bad_cases[0]; i++) {
        const bad_case *c = &bad_cases[i];
        ps_kv kv[MAXKV];
        char store[MAXKV][2][128];
        size_t n = make_kv(c->spec, kv, store);
        ps_error err = {0};
        ps_schedule s;
        ps_status st = ps_schedule_parse(kv, n, "d", "cfg.yaml", "datasets[d].schedule", &s, &err);
        if (st != PS_ERR_CONFIG)
            fail_msg("case %zu '%s': expected a config error, got %d", i, c->spec, (int)st);
        if (strncmp(err.message, c->where, strlen(c->where)) != 0 || !strstr(err.message, c->msg))
            fail_msg("case %zu '%s': message '%s' lacks '%s' ... '%s'", i, c->spec, err.message,
                     c->where, c->msg);
    }
}

static void test_empty_and_no_file(void **state)
{
    (void)state;
    ps_error err = {0};
    ps_schedule s;
    assert_int_equal(ps_schedule_parse(NULL, 0, "d", "f.yaml", NULL, &s, &err), PS_ERR_CONFIG);
    assert_non_null(strstr(err.message, "f.yaml:1:1: schedule: an empty schedule"));
    ps_kv kv[MAXKV];
    char store[MAXKV][2][128];
    size_t n = make_kv("kind=fortnightly", kv, store);
    assert_int_equal(ps_schedule_parse(kv, n, "d", NULL, NULL, &s, &err), PS_ERR_CONFIG);
    assert_non_null(strstr(err.message, "10:3: schedule: unknown schedule 'fortnightly'"));
}

/* ---- durations ---------------------------------------------------------------------- */

static void test_duration(void **state)
{
    (void)state;
    static const struct {
        const char *in;
        int64_t ms;
        const char *out;
    } ok[] = {
        {"1s", 1000, "1s"},
        {"90s", 90000, "1m30s"},
        {"10m", 600000, "10m"},
        {"6h", 21600000, "6h"},
        {"1d", 86400000, "1d"},
        {"1h30m", 5400000, "1h30m"},
        {"1d2h3m4s", 93784000, "1d2h3m4s"},
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        int64_t ms = -1;
        const char *why = NULL;
        assert_int_equal(ps_duration_parse(ok[i].in, 0, &ms, &why), 0);
        assert_int_equal(ms, ok[i].ms);
        char buf[32];
        ps_duration_format(ms, buf, sizeof buf);
        assert_string_equal(buf, ok[i].out);
    }
    int64_t ms;
    const char *why = NULL;
    assert_int_equal(ps_duration_parse("0s", 1, &ms, &why), 0);
    assert_int_equal(ms, 0);
    assert_int_equal(ps_duration_parse("0s", 0, &ms, &why), -1);
    assert_string_equal(why, "duration must be longer than zero");
    assert_int_equal(ps_duration_parse("", 0, &ms, &why), -1);
    assert_non_null(strstr(why, "a duration is required"));
    assert_int_equal(ps_duration_parse("-5m", 0, &ms, &why), -1);
    assert_non_null(strstr(why, "expected a number"));
    char buf[32];
    ps_duration_format(0, buf, sizeof buf);
    assert_string_equal(buf, "0s");
    ps_duration_format(250, buf, sizeof buf);
    assert_string_equal(buf, "250ms");
}

/* ---- through the config loader -------------------------------------------------------- */

static ps_status load(const char *schedule_yaml, ps_config **cfg, ps_error *err)
{
    char yaml[2048];
    snprintf(yaml, sizeof yaml,
             "sinks:\n"
             "  out: {plugin: jsonl, path: out.jsonl}\n"
             "datasets:\n"
             "  - name: site1\n"
             "    target: {level: project, id: p1}\n"
             "    source: {plugin: csvfile, path: in.csv}\n"
             "    sinks: [out]\n"
             "    schedule:%s\n",
             schedule_yaml);
    return ps_config_load_string(yaml, strlen(yaml), "conf.yaml", "/tmp", cfg, err);
}

static void test_config_forms(void **state)
{
    (void)state;
    static const struct {
        const char *yaml, *text;
    } cases[] = {
        {" daily", "daily at 00:00 UTC"},
        {" hourly", "hourly at :00"},
        {" \"0 2 * * *\"", "cron \"0 2 * * *\" UTC"},
        {" {every: 6h}", "every 6h"},
        {"\n      daily:\n        at: \"02:00\"\n        jitter: 10m",
         "daily at 02:00 UTC, jitter 10m"},
        {" {daily: \"03:15\"}", "daily at 03:15 UTC"},
        {" {hourly: }", "hourly at :00"},
        {" {cron: \"*/5 * * * *\", jitter: 1m}", "cron \"*/5 * * * *\" UTC, jitter 1m"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ps_config *cfg = NULL;
        ps_error err = {0};
        if (load(cases[i].yaml, &cfg, &err) != PS_OK)
            fail_msg("case %zu: %s", i, err.message);
        assert_int_equal(ps_config_check_schedules(cfg, &err), PS_OK);
        const ps_dataset_def *d = &cfg->datasets[0];
        ps_schedule s;
        assert_int_equal(
            ps_schedule_parse(d->schedule, d->nschedule, d->name, NULL, NULL, &s, &err), PS_OK);
        assert_string_equal(s.text, cases[i].text);
        ps_config_free(cfg);
    }
}

static void test_config_invalid_location(void **state)
{
    (void)state;
    ps_config *cfg = NULL;
    ps_error err = {0};
    /* The config loader itself refuses an invalid schedule, with its location. */
    assert_int_equal(load("\n      daily:\n        at: \"26:00\"", &cfg, &err), PS_ERR_CONFIG);
    assert_non_null(strstr(err.message, "conf.yaml:10:9: datasets[site1].schedule.at: '26:00' "
                                        "is not a time of day"));
    assert_null(cfg);
    assert_int_equal(load(" \"0 2 * * mon-\"", &cfg, &err), PS_ERR_CONFIG);
    assert_non_null(strstr(err.message, "conf.yaml:8:15: datasets[site1].schedule: day of week"));
    assert_null(cfg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_next_slot),
        cmocka_unit_test(test_next_due_and_due),
        cmocka_unit_test(test_jitter_deterministic),
        cmocka_unit_test(test_describe),
        cmocka_unit_test(test_invalid),
        cmocka_unit_test(test_empty_and_no_file),
        cmocka_unit_test(test_duration),
        cmocka_unit_test(test_config_forms),
        cmocka_unit_test(test_config_invalid_location),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
