/* Unit tests: the daemon's decisions (core/src/daemon/scheduler.h), driven through days of
 * simulated time by a fake clock and fake runs that the loop below starts, ends, fails, hangs
 * and kills the way cli/cmd_daemon.c does with real processes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "config/schedule.h"
#include "daemon/scheduler.h"
#include "model/timestamp.h"

#define MIN INT64_C(60000)
#define HOUR (60 * MIN)
#define DAY (24 * HOUR)

static int64_t T(const char *iso)
{
    int64_t ms = 0;
    if (ps_time_parse_iso(iso, strlen(iso), NULL, &ms) != PS_TIME_OK)
        fail_msg("bad test time '%s'", iso);
    return ms;
}

/* A schedule from "kind=value;key=value" (as config.h flattens it). */
static ps_schedule sched(const char *spec, const char *dataset)
{
    ps_kv kv[4];
    char buf[4][2][64];
    size_t n = 0;
    for (const char *p = spec; *p && n < 4;) {
        const char *semi = strchr(p, ';');
        size_t len = semi ? (size_t)(semi - p) : strlen(p);
        const char *eq = memchr(p, '=', len);
        assert_non_null(eq);
        snprintf(buf[n][0], 64, "%.*s", (int)(eq - p), p);
        snprintf(buf[n][1], 64, "%.*s", (int)(len - (size_t)(eq - p) - 1), eq + 1);
        kv[n].key = buf[n][0];
        kv[n].value = buf[n][1];
        kv[n].line = kv[n].col = 1;
        n++;
        p += len + (semi ? 1 : 0);
    }
    ps_schedule s;
    ps_error err = {0};
    if (ps_schedule_parse(kv, n, dataset, NULL, NULL, &s, &err) != PS_OK)
        fail_msg("'%s': %s", spec, err.message);
    return s;
}

/* ---- the simulation -------------------------------------------------------------------- */

#define MAXDS 6
#define MAXEV 20000

/* How a dataset's runs behave. */
typedef struct behaviour {
    int64_t duration_ms; /* a run ends this long after its start */
    int fail_first;      /* the first N runs fail (-1: every run) */
    int hang;            /* runs never end by themselves */
    int64_t term_ms;     /* a TERM ends the run this long after (-1: TERM is ignored) */
} behaviour;

typedef enum { EV_START, EV_OK, EV_FAIL, EV_TERM, EV_KILL } ev_kind;

typedef struct event {
    ev_kind kind;
    int ds; /* index into the sim's names */
    int64_t wall, mono;
    int64_t delay; /* EV_FAIL: retry delay */
} event;

typedef struct sim {
    ps_scheduler s;
    ps_sched_time now;
    const char *names[MAXDS];
    behaviour beh[MAXDS];
    int runs[MAXDS]; /* runs started per dataset */
    struct {
        long handle;
        int ds;
        int64_t end_mono; /* INT64_MAX: hung */
        int failing, killed;
    } live[MAXDS];
    int nlive;
    long next_handle;
    event ev[MAXEV];
    int nev;
    int wakeups;
    int64_t longest_sleep;
} sim;

static int ds_index(const sim *m, const char *name)
{
    for (int i = 0; i < MAXDS; i++)
        if (m->names[i] && strcmp(m->names[i], name) == 0)
            return i;
    fail_msg("unknown dataset %s", name);
    return -1;
}

static void record(sim *m, ev_kind k, int ds, int64_t delay)
{
    assert_true(m->nev < MAXEV);
    event e = {k, ds, m->now.wall_ms, m->now.mono_ms, delay};
    m->ev[m->nev++] = e;
}

static void sim_init(sim *m, const ps_sched_policy *p, int64_t wall, int64_t mono)
{
    memset(m, 0, sizeof *m);
    ps_scheduler_init(&m->s, p);
    m->now.wall_ms = wall;
    m->now.mono_ms = mono;
    m->next_handle = 100;
}

/* Adds datasets: defs[i].name must stay valid. */
static void sim_set(sim *m, const ps_sched_def *defs, size_t n, const behaviour *beh)
{
    for (size_t i = 0; i < n; i++) {
        int slot = -1;
        for (int j = 0; j < MAXDS && slot < 0; j++)
            if (!m->names[j] || strcmp(m->names[j], defs[i].name) == 0)
                slot = j;
        assert_true(slot >= 0);
        m->names[slot] = defs[i].name;
        m->beh[slot] = beh[i];
    }
    assert_int_equal(ps_scheduler_set(&m->s, defs, n), 0);
}

static void end_run(sim *m, int i, int ok)
{
    ps_sched_entry *e = ps_scheduler_by_handle(&m->s, m->live[i].handle);
    assert_non_null(e);
    int ds = m->live[i].ds;
    int64_t delay = ps_scheduler_finished(&m->s, e, ok, m->now);
    record(m, ok ? EV_OK : EV_FAIL, ds, delay);
    m->live[i] = m->live[--m->nlive];
}

/* One turn of the daemon's loop: start what is due, sleep as told (or until a run ends),
 * reap, enforce timeouts. */
static void sim_turn(sim *m)
{
    ps_sched_entry *e;
    while ((e = ps_scheduler_pick(&m->s, m->now)) != NULL) {
        int ds = ds_index(m, e->name);
        const behaviour *b = &m->beh[ds];
        assert_true(m->nlive < MAXDS);
        long h = m->next_handle++;
        ps_scheduler_started(&m->s, e, h, m->now);
        record(m, EV_START, ds, 0);
        m->live[m->nlive].handle = h;
        m->live[m->nlive].ds = ds;
        m->live[m->nlive].end_mono = b->hang ? INT64_MAX : m->now.mono_ms + b->duration_ms;
        m->live[m->nlive].failing = b->fail_first < 0 || m->runs[ds] < b->fail_first;
        m->live[m->nlive].killed = 0;
        m->nlive++;
        m->runs[ds]++;
    }
    int64_t w = ps_scheduler_wait_ms(&m->s, m->now, 0);
    assert_true(w >= 0 && w <= m->s.policy.max_sleep_ms);
    int64_t until = m->now.mono_ms + w;
    for (int i = 0; i < m->nlive; i++)
        if (m->live[i].end_mono < until)
            until = m->live[i].end_mono; /* a child's exit wakes the daemon */
    if (until < m->now.mono_ms)
        until = m->now.mono_ms;
    if (until - m->now.mono_ms > m->longest_sleep)
        m->longest_sleep = until - m->now.mono_ms;
    m->now.wall_ms += until - m->now.mono_ms;
    m->now.mono_ms = until;
    m->wakeups++;
    for (int i = 0; i < m->nlive;) {
        if (m->live[i].end_mono <= m->now.mono_ms)
            end_run(m, i, !m->live[i].failing && !m->live[i].killed);
        else
            i++;
    }
    ps_sched_action act;
    while ((act = ps_scheduler_timeout(&m->s, m->now, &e)) != PS_SCHED_NONE) {
        int i = 0;
        while (i < m->nlive && m->live[i].handle != e->handle)
            i++;
        assert_true(i < m->nlive);
        int ds = m->live[i].ds;
        record(m, act == PS_SCHED_TERM ? EV_TERM : EV_KILL, ds, 0);
        if (act == PS_SCHED_TERM) {
            m->live[i].failing = 1; /* a stopped run rolls back: failed */
            if (m->beh[ds].term_ms >= 0 &&
                m->now.mono_ms + m->beh[ds].term_ms < m->live[i].end_mono)
                m->live[i].end_mono = m->now.mono_ms + m->beh[ds].term_ms;
        } else {
            m->live[i].killed = 1;
            m->live[i].end_mono = m->now.mono_ms; /* reaped on the next turn */
        }
    }
    ps_scheduler_compact(&m->s);
}

static void sim_run_until(sim *m, int64_t wall_end)
{
    while (m->now.wall_ms < wall_end) {
        sim_turn(m);
        assert_true(m->wakeups < 2000000);
    }
}

/* The wall times of dataset ds's events of kind k, in order. */
static int times_of(const sim *m, const char *name, ev_kind k, int64_t *out, int cap)
{
    int n = 0, ds = ds_index(m, name);
    for (int i = 0; i < m->nev; i++)
        if (m->ev[i].ds == ds && m->ev[i].kind == k) {
            if (n < cap)
                out[n] = m->ev[i].wall;
            n++;
        }
    return n;
}

static void sim_free(sim *m)
{
    ps_scheduler_free(&m->s);
}

static ps_sched_policy policy(int64_t base, int64_t max, int64_t timeout, int64_t kill_after,
                              int jobs)
{
    ps_sched_policy p = ps_sched_policy_default();
    p.retry_base_ms = base;
    p.retry_max_ms = max;
    p.run_timeout_ms = timeout;
    p.kill_after_ms = kill_after;
    p.jobs = jobs;
    return p;
}

/* ---- tests ----------------------------------------------------------------------------- */

static void test_backoff_growth_and_cap(void **state)
{
    (void)state;
    ps_sched_policy p = policy(30000, 3600000, 0, 30000, 4);
    const int64_t want[] = {30000,  60000,   120000,  240000, 480000,
                            960000, 1920000, 3600000, 3600000};
    for (int f = 1; f <= 9; f++)
        assert_int_equal(ps_sched_backoff_ms(&p, f), want[f - 1]);
    assert_int_equal(ps_sched_backoff_ms(&p, 1000000), 3600000); /* no overflow */
    ps_sched_policy q = policy(5000, 1000, 0, 1, 0);             /* max below base */
    ps_scheduler s;
    ps_scheduler_init(&s, &q);
    assert_int_equal(s.policy.retry_max_ms, 5000);
    assert_int_equal(s.policy.jobs, 1);
    assert_int_equal(ps_sched_backoff_ms(&s.policy, 3), 5000);
    ps_scheduler_free(&s);
}

/* Three calendars over three days: each dataset starts at its own slots and at nothing else,
 * and the loop never sleeps longer than max_sleep_ms. */
static void test_due_order_over_three_days(void **state)
{
    (void)state;
    sim *m = calloc(1, sizeof *m);
    ps_sched_policy p = policy(30000, 3600000, 2 * HOUR, 30000, 4);
    int64_t t0 = T("2024-03-01T00:00:00Z");
    sim_init(m, &p, t0, 5000);
    ps_schedule hourly = sched("kind=hourly;at=:15", "h"),
                daily = sched("kind=daily;at=02:00", "d"),
                every = sched("kind=every;every=6h", "e");
    int64_t anchor_h = T("2024-02-29T23:15:00Z"), anchor_d = T("2024-02-29T02:00:00Z");
    ps_sched_def defs[] = {{"h", "/s/a.db", &hourly, &anchor_h},
                           {"d", "/s/b.db", &daily, &anchor_d},
                           {"e", NULL, &every, NULL}};
    behaviour beh[] = {{2 * MIN, 0, 0, -1}, {20 * MIN, 0, 0, -1}, {10 * MIN, 0, 0, -1}};
    sim_set(m, defs, 3, beh);
    sim_run_until(m, t0 + 3 * DAY);

    int64_t st[200];
    int n = times_of(m, "h", EV_START, st, 200);
    assert_int_equal(n, 72); /* 00:15 .. 23:15 on each of three days */
    for (int i = 0; i < n; i++)
        assert_int_equal(st[i], t0 + 15 * MIN + i * HOUR);
    n = times_of(m, "d", EV_START, st, 200);
    assert_int_equal(n, 3);
    for (int i = 0; i < n; i++)
        assert_int_equal(st[i], t0 + 2 * HOUR + i * DAY);
    n = times_of(m, "e", EV_START, st, 200); /* never ran: at once, then every 6h after */
    assert_int_equal(n, 12);
    for (int i = 0; i < n; i++)
        assert_int_equal(st[i], t0 + i * 6 * HOUR);
    assert_int_equal(times_of(m, "h", EV_OK, st, 200), 72);
    assert_int_equal(times_of(m, "d", EV_FAIL, st, 200), 0);
    assert_true(m->longest_sleep <= 60000);
    assert_true(m->wakeups < 3 * 24 * 60 + 200); /* about one a minute, not a busy loop */
    sim_free(m);
    free(m);
}

/* With one job slot, datasets due together run most-overdue first, then in config order. */
static void test_one_slot_runs_the_longest_waiting_first(void **state)
{
    (void)state;
    sim *m = calloc(1, sizeof *m);
    ps_sched_policy p = policy(30000, 3600000, 0, 30000, 1);
    int64_t t0 = T("2024-03-01T10:00:00Z");
    sim_init(m, &p, t0, 0);
    ps_schedule daily = sched("kind=daily", "x");
    int64_t two_days = T("2024-02-28T00:00:00Z"), one_day = T("2024-02-29T00:00:00Z");
    ps_sched_def defs[] = {{"fresh", NULL, &daily, NULL},
                           {"yesterday", NULL, &daily, &one_day},
                           {"older", NULL, &daily, &two_days},
                           {"also_fresh", NULL, &daily, NULL}};
    behaviour beh[] = {
        {10 * MIN, 0, 0, -1}, {10 * MIN, 0, 0, -1}, {10 * MIN, 0, 0, -1}, {10 * MIN, 0, 0, -1}};
    sim_set(m, defs, 4, beh);
    sim_run_until(m, t0 + HOUR);
    const char *order[] = {"older", "yesterday", "fresh", "also_fresh"};
    int k = 0;
    for (int i = 0; i < m->nev; i++) {
        if (m->ev[i].kind != EV_START)
            continue;
        assert_true(k < 4);
        assert_string_equal(m->names[m->ev[i].ds], order[k]);
        assert_int_equal(m->ev[i].wall, t0 + k * 10 * MIN); /* back to back */
        k++;
    }
    assert_int_equal(k, 4);
    sim_free(m);
    free(m);
}

/* Jitter: every day at the same fixed offset in [0, jitter), derived from the name. */
static void test_jitter_delays_each_slot_by_a_fixed_offset(void **state)
{
    (void)state;
    sim *m = calloc(1, sizeof *m);
    ps_sched_policy p = policy(30000, 3600000, 0, 30000, 4);
    int64_t t0 = T("2024-03-01T00:00:00Z");
    sim_init(m, &p, t0, 0);
    ps_schedule a = sched("kind=daily;at=02:00;jitter=10m", "alpha");
    ps_schedule b = sched("kind=daily;at=02:00;jitter=10m", "beta");
    assert_true(a.offset_ms >= 0 && a.offset_ms < 10 * MIN);
    assert_true(b.offset_ms >= 0 && b.offset_ms < 10 * MIN);
    assert_true(a.offset_ms != b.offset_ms);
    int64_t anchor = T("2024-02-29T02:30:00Z");
    ps_sched_def defs[] = {{"alpha", NULL, &a, &anchor}, {"beta", NULL, &b, &anchor}};
    behaviour beh[] = {{MIN, 0, 0, -1}, {MIN, 0, 0, -1}};
    sim_set(m, defs, 2, beh);
    sim_run_until(m, t0 + 4 * DAY);
    int64_t st[8];
    assert_int_equal(times_of(m, "alpha", EV_START, st, 8), 4);
    for (int i = 0; i < 4; i++)
        assert_int_equal(st[i], t0 + 2 * HOUR + i * DAY + a.offset_ms);
    assert_int_equal(times_of(m, "beta", EV_START, st, 8), 4);
    for (int i = 0; i < 4; i++)
        assert_int_equal(st[i], t0 + 2 * HOUR + i * DAY + b.offset_ms);
    sim_free(m);
    free(m);
}

/* A failing dataset retries after 30s, 60s, 120s ... capped at 5m; once it succeeds the
 * failures reset and it returns to its schedule. */
static void test_retry_backoff_then_recovery(void **state)
{
    (void)state;
    sim *m = calloc(1, sizeof *m);
    ps_sched_policy p = policy(30000, 5 * MIN, 0, 30000, 4);
    int64_t t0 = T("2024-03-01T00:00:00Z");
    sim_init(m, &p, t0, 0);
    ps_schedule hourly = sched("kind=hourly", "x");
    ps_sched_def defs[] = {{"flaky", NULL, &hourly, NULL}};
    behaviour beh[] = {{1000, 8, 0, -1}};
    sim_set(m, defs, 1, beh);
    sim_run_until(m, t0 + 3 * HOUR);
    int64_t st[64], delays[16];
    int n = times_of(m, "flaky", EV_START, st, 64);
    int nd = 0;
    for (int i = 0; i < m->nev; i++)
        if (m->ev[i].kind == EV_FAIL && nd < 16)
            delays[nd++] = m->ev[i].delay;
    assert_int_equal(nd, 8);
    const int64_t want[] = {30000, 60000, 120000, 240000, 300000, 300000, 300000, 300000};
    for (int i = 0; i < 8; i++) {
        assert_int_equal(delays[i], want[i]);
        assert_int_equal(st[i + 1] - st[i], 1000 + want[i]); /* run time + delay */
    }
    /* run 9 succeeded (its start anchors the schedule); then 01:00, 02:00 */
    assert_int_equal(times_of(m, "flaky", EV_OK, NULL, 0), 3);
    assert_int_equal(n, 11);
    assert_int_equal(st[9], t0 + HOUR);
    assert_int_equal(st[10], t0 + 2 * HOUR);
    assert_int_equal(ps_scheduler_find(&m->s, "flaky")->failures, 0);
    sim_free(m);
    free(m);
}

/* A hung run gets TERM at --run-timeout and KILL --kill-after later, counts as failed and is
 * retried; a run that honours TERM gets no KILL. The wall clock jumping back a day does not
 * move the monotonic deadlines. */
static void test_hung_run_timeout_then_kill(void **state)
{
    (void)state;
    sim *m = calloc(1, sizeof *m);
    ps_sched_policy p = policy(MIN, HOUR, 2 * HOUR, 30000, 4);
    int64_t t0 = T("2024-03-01T00:00:00Z");
    sim_init(m, &p, t0, 1000000);
    ps_schedule daily = sched("kind=daily", "x");
    int64_t anchor = T("2024-02-29T00:00:00Z");
    ps_sched_def defs[] = {{"stuck", NULL, &daily, &anchor}, {"polite", NULL, &daily, &anchor}};
    behaviour beh[] = {{0, 0, 1, -1}, {0, 0, 1, 5000}};
    sim_set(m, defs, 2, beh);
    sim_turn(m); /* both start at 00:00 */
    assert_int_equal(m->s.running, 2);
    m->now.wall_ms -= DAY; /* the wall clock is set back */
    while (m->now.mono_ms < 1000000 + 2 * HOUR + 2 * MIN)
        sim_turn(m);
    int64_t t[4];
    int64_t start_mono = 1000000;
    int k_term = 0, k_kill = 0;
    for (int i = 0; i < m->nev; i++) {
        const event *e = &m->ev[i];
        if (e->kind == EV_TERM) {
            assert_int_equal(e->mono, start_mono + 2 * HOUR);
            k_term++;
        }
        if (e->kind == EV_KILL) {
            assert_string_equal(m->names[e->ds], "stuck");
            assert_int_equal(e->mono, start_mono + 2 * HOUR + 30000);
            k_kill++;
        }
    }
    assert_int_equal(k_term, 2);
    assert_int_equal(k_kill, 1);
    assert_int_equal(times_of(m, "stuck", EV_FAIL, t, 4), 1);
    assert_int_equal(times_of(m, "polite", EV_FAIL, t, 4), 1);
    ps_sched_entry *e = ps_scheduler_find(&m->s, "stuck");
    assert_int_equal(e->failures, 1);
    assert_int_equal(e->handle != 0, 1); /* retried a minute after the kill, hung again */
    assert_true(e->started_mono == start_mono + 2 * HOUR + 30000 + MIN);
    assert_int_equal(m->s.running, 2);
    /* no timeout at all with run_timeout 0 */
    ps_sched_policy q = policy(MIN, HOUR, 0, 30000, 4);
    sim_free(m);
    sim_init(m, &q, t0, 0);
    sim_set(m, defs, 2, beh);
    sim_run_until(m, t0 + 2 * DAY);
    assert_int_equal(times_of(m, "stuck", EV_TERM, t, 4), 0);
    assert_int_equal(times_of(m, "stuck", EV_START, t, 4), 1);
    sim_free(m);
    free(m);
}

/* One job slot, a dataset that always fails at once and one every hour on the same store: the
 * hourly one still starts on time every hour for a day, and the two never overlap. */
static void test_failing_dataset_does_not_starve_others(void **state)
{
    (void)state;
    sim *m = calloc(1, sizeof *m);
    ps_sched_policy p = policy(1000, 10 * MIN, 0, 30000, 1);
    int64_t t0 = T("2024-03-01T00:30:00Z");
    sim_init(m, &p, t0, 0);
    ps_schedule every = sched("kind=every;every=1m", "bad"), hourly = sched("kind=hourly", "g");
    ps_sched_def defs[] = {{"bad", "/s/x.db", &every, NULL}, {"good", "/s/x.db", &hourly, NULL}};
    behaviour beh[] = {{30000, -1, 0, -1}, {5 * MIN, 0, 0, -1}};
    sim_set(m, defs, 2, beh);
    sim_run_until(m, t0 + DAY);
    int64_t st[64];
    int n = times_of(m, "good", EV_START, st, 64);
    assert_int_equal(n, 25); /* 00:30 (never ran), then 01:00 .. 00:00 */
    for (int i = 1; i < n; i++) {
        int64_t slot = T("2024-03-01T01:00:00Z") + (i - 1) * HOUR;
        assert_true(st[i] >= slot && st[i] < slot + 30000); /* at most one bad run late */
    }
    int bad = times_of(m, "bad", EV_FAIL, NULL, 0);
    assert_true(bad > 100); /* kept retrying, every 10m at most */
    /* never two runs at once (one slot, one store) */
    int live = 0;
    for (int i = 0; i < m->nev; i++) {
        live += m->ev[i].kind == EV_START;
        live -= m->ev[i].kind == EV_OK || m->ev[i].kind == EV_FAIL;
        assert_true(live <= 1);
    }
    sim_free(m);
    free(m);
}

/* Runs on one store never overlap even with free job slots; other stores go ahead. */
static void test_store_busy_waits(void **state)
{
    (void)state;
    sim *m = calloc(1, sizeof *m);
    ps_sched_policy p = policy(1000, 10 * MIN, 0, 30000, 4);
    int64_t t0 = T("2024-03-01T00:00:00Z");
    sim_init(m, &p, t0, 0);
    ps_schedule daily = sched("kind=daily", "x");
    ps_sched_def defs[] = {{"a", "/s/one.db", &daily, NULL},
                           {"b", "/s/one.db", &daily, NULL},
                           {"c", "/s/two.db", &daily, NULL}};
    behaviour beh[] = {{7 * MIN, 0, 0, -1}, {MIN, 0, 0, -1}, {MIN, 0, 0, -1}};
    sim_set(m, defs, 3, beh);
    sim_run_until(m, t0 + HOUR);
    int64_t st[4];
    assert_int_equal(times_of(m, "a", EV_START, st, 4), 1);
    assert_int_equal(st[0], t0);
    assert_int_equal(times_of(m, "c", EV_START, st, 4), 1);
    assert_int_equal(st[0], t0);
    assert_int_equal(times_of(m, "b", EV_START, st, 4), 1);
    assert_int_equal(st[0], t0 + 7 * MIN); /* woken by a's end, not a minute later */
    sim_free(m);
    free(m);
}

/* Overdue at start: a daily dataset whose last run was three days ago runs once at once (no
 * catch-up of the missed days); the next slot follows that run's start. */
static void test_overdue_at_start_runs_once(void **state)
{
    (void)state;
    sim *m = calloc(1, sizeof *m);
    ps_sched_policy p = policy(30000, HOUR, 0, 30000, 4);
    int64_t t0 = T("2024-03-04T10:17:00Z");
    sim_init(m, &p, t0, 0);
    ps_schedule daily = sched("kind=daily;at=02:00", "x");
    int64_t anchor = T("2024-03-01T02:00:00Z");
    ps_sched_def defs[] = {{"late", NULL, &daily, &anchor}};
    assert_int_equal(ps_scheduler_set(&m->s, defs, 1), 0);
    ps_sched_entry *e = ps_scheduler_find(&m->s, "late");
    assert_int_equal(ps_sched_next_start(e, t0), T("2024-03-02T02:00:00Z")); /* overdue */
    assert_int_equal(ps_scheduler_wait_ms(&m->s, m->now, 0), 60000); /* due: no wait for it */
    behaviour beh[] = {{MIN, 0, 0, -1}};
    sim_set(m, defs, 1, beh);
    sim_run_until(m, T("2024-03-05T12:00:00Z"));
    int64_t st[8];
    assert_int_equal(times_of(m, "late", EV_START, st, 8), 2);
    assert_int_equal(st[0], t0);
    assert_int_equal(st[1], T("2024-03-05T02:00:00Z"));
    sim_free(m);
    free(m);
}

/* A reload keeps the state of known datasets, lets a removed one's run finish, anchors new
 * ones at their last run, and a dataset without a schedule never starts. */
static void test_reload_keeps_state(void **state)
{
    (void)state;
    ps_sched_policy p = policy(30000, HOUR, 0, 30000, 4);
    ps_scheduler s;
    ps_scheduler_init(&s, &p);
    ps_sched_time now = {T("2024-03-01T00:00:00Z"), 0};
    ps_schedule hourly = sched("kind=hourly", "x");
    ps_sched_def one[] = {{"a", "/s/1.db", &hourly, NULL}, {"b", NULL, &hourly, NULL}};
    assert_int_equal(ps_scheduler_set(&s, one, 2), 0);
    ps_sched_entry *a = ps_scheduler_pick(&s, now);
    assert_string_equal(a->name, "a");
    ps_scheduler_started(&s, a, 7, now);
    ps_sched_entry *b = ps_scheduler_pick(&s, now);
    assert_string_equal(b->name, "b");
    ps_scheduler_started(&s, b, 8, now);
    assert_null(ps_scheduler_pick(&s, now));
    now.wall_ms += 1000;
    assert_int_equal(ps_scheduler_finished(&s, ps_scheduler_by_handle(&s, 8), 0, now), 30000);

    int64_t c_last = T("2024-03-01T00:00:00Z");
    ps_sched_def two[] = {
        {"b", "/s/2.db", &hourly, NULL}, {"c", NULL, &hourly, &c_last}, {"d", NULL, NULL, NULL}};
    assert_int_equal(ps_scheduler_set(&s, two, 3), 0);
    assert_int_equal(s.n, 4); /* a is still running: kept, removed */
    a = ps_scheduler_find(&s, "a");
    assert_true(a->removed);
    assert_int_equal(a->handle, 7);
    assert_int_equal(ps_sched_next_start(a, now.wall_ms), INT64_MAX);
    b = ps_scheduler_find(&s, "b");
    assert_int_equal(b->failures, 1); /* state carried over, new store taken */
    assert_string_equal(b->store, "/s/2.db");
    assert_int_equal(ps_sched_next_start(b, now.wall_ms), now.wall_ms + 30000);
    assert_int_equal(ps_sched_next_start(ps_scheduler_find(&s, "c"), now.wall_ms),
                     T("2024-03-01T01:00:00Z"));
    assert_int_equal(ps_sched_next_start(ps_scheduler_find(&s, "d"), now.wall_ms), INT64_MAX);
    assert_int_equal(s.running, 1);
    ps_scheduler_compact(&s);
    assert_int_equal(s.n, 4);
    assert_int_equal(ps_scheduler_finished(&s, ps_scheduler_by_handle(&s, 7), 1, now), 0);
    ps_scheduler_compact(&s);
    assert_int_equal(s.n, 3);
    assert_null(ps_scheduler_find(&s, "a"));
    assert_int_equal(s.running, 0);
    /* a dataset that left the config while idle is dropped at once */
    assert_int_equal(ps_scheduler_set(&s, two, 1), 0);
    assert_int_equal(s.n, 1);
    ps_scheduler_free(&s);
}

/* While stopping nothing starts and the wait only covers timeouts; -1 with none ahead. */
static void test_wait_while_stopping(void **state)
{
    (void)state;
    ps_sched_policy p = policy(30000, HOUR, 10 * MIN, 30000, 4);
    p.max_sleep_ms = HOUR;
    ps_scheduler s;
    ps_scheduler_init(&s, &p);
    ps_sched_time now = {T("2024-03-01T00:00:00Z"), 500};
    ps_schedule hourly = sched("kind=hourly", "x");
    ps_sched_def defs[] = {{"a", NULL, &hourly, NULL}, {"b", NULL, &hourly, NULL}};
    assert_int_equal(ps_scheduler_set(&s, defs, 2), 0);
    assert_int_equal(ps_scheduler_wait_ms(&s, now, 1), -1);
    ps_scheduler_started(&s, ps_scheduler_pick(&s, now), 1, now);
    now.mono_ms += 1000;
    now.wall_ms += 1000;
    assert_int_equal(ps_scheduler_wait_ms(&s, now, 1), 10 * MIN - 1000);
    assert_int_equal(ps_sched_deadline(&s.policy, ps_scheduler_by_handle(&s, 1)), 500 + 10 * MIN);
    ps_sched_entry *e = NULL;
    assert_int_equal(ps_scheduler_timeout(&s, now, &e), PS_SCHED_NONE);
    assert_null(e);
    assert_int_equal(ps_scheduler_wait_ms(&s, now, 0), 10 * MIN - 1000); /* b is due: no wait */
    s.policy.max_sleep_ms = 60000;
    assert_int_equal(ps_scheduler_wait_ms(&s, now, 1), 60000); /* capped */
    ps_scheduler_free(&s);
}

/* Another worker holds the lease (defer: not before the given time, then asked again) or
 * already ran the dataset (anchor: its run's start moves the next slot; never back). */
static void test_defer_and_foreign_anchor(void **state)
{
    (void)state;
    ps_sched_policy p = policy(30000, HOUR, 0, 30000, 4);
    ps_scheduler s;
    ps_scheduler_init(&s, &p);
    ps_schedule every = sched("kind=every;every=10s", "x");
    int64_t t0 = T("2024-03-04T10:00:00Z");
    int64_t anchor = t0 - 60000;
    ps_sched_def defs[] = {{"x", NULL, &every, &anchor}};
    assert_int_equal(ps_scheduler_set(&s, defs, 1), 0);
    ps_sched_entry *e = ps_scheduler_find(&s, "x");
    ps_sched_time now = {t0, 5000};
    assert_ptr_equal(ps_scheduler_pick(&s, now), e); /* overdue */
    ps_scheduler_defer(e, t0 + 1500);
    assert_int_equal(ps_sched_next_start(e, t0), t0 + 1500);
    assert_null(ps_scheduler_pick(&s, now));
    assert_int_equal(ps_scheduler_wait_ms(&s, now, 0), 1500);
    /* the other worker ran it at t0 - 200: next slot 10 s after that */
    ps_scheduler_anchor(e, t0 - 200);
    assert_int_equal(ps_sched_next_start(e, t0), t0 + 9800);
    ps_scheduler_anchor(e, t0 - 50000); /* an older run changes nothing */
    assert_int_equal(ps_sched_next_start(e, t0), t0 + 9800);
    /* a failure here, then the other worker's success: the retry is forgotten */
    ps_sched_time later = {t0 + 9800, 14800};
    assert_ptr_equal(ps_scheduler_pick(&s, later), e);
    ps_scheduler_started(&s, e, 42, later);
    assert_int_equal(e->not_before, 0);
    ps_scheduler_finished(&s, e, 0, later);
    assert_int_equal(e->failures, 1);
    ps_scheduler_anchor(e, t0 + 9900);
    assert_int_equal(e->failures, 0);
    assert_int_equal(ps_sched_next_start(e, t0 + 10000), t0 + 19900);
    ps_scheduler_free(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_backoff_growth_and_cap),
        cmocka_unit_test(test_due_order_over_three_days),
        cmocka_unit_test(test_one_slot_runs_the_longest_waiting_first),
        cmocka_unit_test(test_jitter_delays_each_slot_by_a_fixed_offset),
        cmocka_unit_test(test_retry_backoff_then_recovery),
        cmocka_unit_test(test_hung_run_timeout_then_kill),
        cmocka_unit_test(test_failing_dataset_does_not_starve_others),
        cmocka_unit_test(test_store_busy_waits),
        cmocka_unit_test(test_overdue_at_start_runs_once),
        cmocka_unit_test(test_reload_keeps_state),
        cmocka_unit_test(test_wait_while_stopping),
        cmocka_unit_test(test_defer_and_foreign_anchor),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
