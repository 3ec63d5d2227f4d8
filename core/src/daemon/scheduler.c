/* paysync core: the daemon's decisions (see scheduler.h). */
#include "daemon/scheduler.h"

#include <stdlib.h>
#include <string.h>

ps_sched_policy ps_sched_policy_default(void)
{
    ps_sched_policy p;
    p.retry_base_ms = 30000;
    p.retry_max_ms = 3600000;
    p.run_timeout_ms = 7200000;
    p.kill_after_ms = 30000;
    p.jobs = 4;
    p.max_sleep_ms = 60000;
    return p;
}

void ps_scheduler_init(ps_scheduler *s, const ps_sched_policy *p)
{
    memset(s, 0, sizeof *s);
    s->policy = *p;
    if (s->policy.retry_base_ms < 1)
        s->policy.retry_base_ms = 1;
    if (s->policy.retry_max_ms < s->policy.retry_base_ms)
        s->policy.retry_max_ms = s->policy.retry_base_ms;
    if (s->policy.jobs < 1)
        s->policy.jobs = 1;
    if (s->policy.max_sleep_ms < 1)
        s->policy.max_sleep_ms = 1;
    if (s->policy.run_timeout_ms < 0)
        s->policy.run_timeout_ms = 0;
    if (s->policy.kill_after_ms < 0)
        s->policy.kill_after_ms = 0;
}

static void entry_free(ps_sched_entry *e)
{
    free(e->name);
    free(e->store);
    e->name = e->store = NULL;
}

void ps_scheduler_free(ps_scheduler *s)
{
    for (size_t i = 0; s && i < s->n; i++)
        entry_free(&s->entries[i]);
    if (s) {
        free(s->entries);
        s->entries = NULL;
        s->n = 0;
        s->running = 0;
    }
}

ps_sched_entry *ps_scheduler_find(ps_scheduler *s, const char *name)
{
    for (size_t i = 0; name && i < s->n; i++)
        if (strcmp(s->entries[i].name, name) == 0)
            return &s->entries[i];
    return NULL;
}

ps_sched_entry *ps_scheduler_by_handle(ps_scheduler *s, long handle)
{
    for (size_t i = 0; handle && i < s->n; i++)
        if (s->entries[i].handle == handle)
            return &s->entries[i];
    return NULL;
}

int ps_scheduler_set(ps_scheduler *s, const ps_sched_def *defs, size_t n)
{
    size_t cap = n + s->n + 1;
    ps_sched_entry *t = calloc(cap, sizeof *t);
    char **names = calloc(n + 1, sizeof *names), **stores = calloc(n + 1, sizeof *stores);
    if (!t || !names || !stores)
        goto oom;
    /* Every allocation first, so that failing leaves s as it was. */
    for (size_t i = 0; i < n; i++) {
        names[i] = strdup(defs[i].name);
        stores[i] = defs[i].store ? strdup(defs[i].store) : NULL;
        if (!names[i] || (defs[i].store && !stores[i]))
            goto oom;
    }
    unsigned char *kept = calloc(s->n + 1, 1);
    if (!kept)
        goto oom;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        const ps_sched_def *d = &defs[i];
        ps_sched_entry *e = &t[k++];
        ps_sched_entry *old = NULL;
        for (size_t j = 0; j < s->n && !old; j++)
            if (!kept[j] && strcmp(s->entries[j].name, d->name) == 0) {
                old = &s->entries[j];
                kept[j] = 1;
            }
        if (old) {
            *e = *old;
            free(old->name);
            free(old->store);
            e->removed = 0;
        } else {
            memset(e, 0, sizeof *e);
            e->has_anchor = d->last_ok_ms != NULL;
            e->anchor_ms = d->last_ok_ms ? *d->last_ok_ms : 0;
        }
        e->name = names[i];
        e->store = stores[i];
        e->scheduled = d->sched != NULL;
        if (d->sched)
            e->sched = *d->sched;
        else
            memset(&e->sched, 0, sizeof e->sched);
    }
    /* Runs of datasets that left the config finish first. */
    for (size_t j = 0; j < s->n; j++) {
        if (kept[j])
            continue;
        if (s->entries[j].handle) {
            t[k] = s->entries[j];
            t[k].removed = 1;
            k++;
        } else {
            entry_free(&s->entries[j]);
        }
    }
    free(kept);
    free(names);
    free(stores);
    free(s->entries);
    s->entries = t;
    s->n = k;
    return 0;
oom:
    for (size_t i = 0; names && stores && i < n; i++) {
        free(names[i]);
        free(stores[i]);
    }
    free(names);
    free(stores);
    free(t);
    return -1;
}

int64_t ps_sched_backoff_ms(const ps_sched_policy *p, int failures)
{
    int64_t delay = p->retry_base_ms;
    for (int i = 1; i < failures && delay < p->retry_max_ms; i++)
        delay *= 2;
    return delay < p->retry_max_ms ? delay : p->retry_max_ms;
}

int64_t ps_sched_next_start(const ps_sched_entry *e, int64_t now_wall_ms)
{
    if (e->handle || e->removed || !e->scheduled)
        return INT64_MAX;
    int64_t t =
        e->failures > 0
            ? e->retry_at
            : ps_schedule_next_due(&e->sched, e->has_anchor ? &e->anchor_ms : NULL, now_wall_ms);
    return t < e->not_before ? e->not_before : t;
}

void ps_scheduler_defer(ps_sched_entry *e, int64_t until_wall_ms)
{
    e->not_before = until_wall_ms;
}

void ps_scheduler_anchor(ps_sched_entry *e, int64_t anchor_ms)
{
    if (!e->has_anchor || anchor_ms > e->anchor_ms) {
        e->has_anchor = 1;
        e->anchor_ms = anchor_ms;
        e->failures = 0;
        e->retry_at = 0;
    }
}

static int store_busy(const ps_scheduler *s, const ps_sched_entry *e)
{
    if (!e->store)
        return 0;
    for (size_t i = 0; i < s->n; i++)
        if (s->entries[i].handle && s->entries[i].store &&
            strcmp(s->entries[i].store, e->store) == 0)
            return 1;
    return 0;
}

ps_sched_entry *ps_scheduler_pick(const ps_scheduler *s, ps_sched_time now)
{
    if (s->running >= s->policy.jobs)
        return NULL;
    ps_sched_entry *best = NULL;
    int64_t best_t = INT64_MAX;
    for (size_t i = 0; i < s->n; i++) {
        ps_sched_entry *e = &s->entries[i];
        int64_t t = ps_sched_next_start(e, now.wall_ms);
        if (t > now.wall_ms || store_busy(s, e))
            continue;
        if (!best || t < best_t) {
            best = e;
            best_t = t;
        }
    }
    return best;
}

void ps_scheduler_started(ps_scheduler *s, ps_sched_entry *e, long handle, ps_sched_time now)
{
    e->handle = handle;
    e->not_before = 0;
    e->started_ms = now.wall_ms;
    e->started_mono = now.mono_ms;
    e->termed = 0;
    e->term_mono = 0;
    e->killed = 0;
    s->running++;
}

static int64_t failed(ps_scheduler *s, ps_sched_entry *e, ps_sched_time now)
{
    if (e->failures < 1000000)
        e->failures++;
    int64_t delay = ps_sched_backoff_ms(&s->policy, e->failures);
    e->retry_at = now.wall_ms > INT64_MAX - delay ? INT64_MAX : now.wall_ms + delay;
    return delay;
}

int64_t ps_scheduler_start_failed(ps_scheduler *s, ps_sched_entry *e, ps_sched_time now)
{
    return failed(s, e, now);
}

int64_t ps_scheduler_finished(ps_scheduler *s, ps_sched_entry *e, int ok, ps_sched_time now)
{
    if (e->handle) {
        e->handle = 0;
        s->running--;
    }
    if (ok) {
        e->failures = 0;
        e->has_anchor = 1;
        e->anchor_ms = e->started_ms;
        return 0;
    }
    return failed(s, e, now);
}

void ps_scheduler_compact(ps_scheduler *s)
{
    size_t o = 0;
    for (size_t i = 0; i < s->n; i++) {
        if (s->entries[i].removed && !s->entries[i].handle) {
            entry_free(&s->entries[i]);
            continue;
        }
        s->entries[o++] = s->entries[i];
    }
    s->n = o;
}

int64_t ps_sched_deadline(const ps_sched_policy *p, const ps_sched_entry *e)
{
    if (!e->handle || p->run_timeout_ms == 0 || e->killed)
        return INT64_MAX;
    if (e->termed)
        return e->term_mono + p->kill_after_ms;
    return e->started_mono + p->run_timeout_ms;
}

ps_sched_action ps_scheduler_timeout(ps_scheduler *s, ps_sched_time now, ps_sched_entry **out)
{
    for (size_t i = 0; i < s->n; i++) {
        ps_sched_entry *e = &s->entries[i];
        if (ps_sched_deadline(&s->policy, e) > now.mono_ms)
            continue;
        *out = e;
        if (!e->termed) {
            e->termed = 1;
            e->term_mono = now.mono_ms;
            return PS_SCHED_TERM;
        }
        e->killed = 1;
        return PS_SCHED_KILL;
    }
    *out = NULL;
    return PS_SCHED_NONE;
}

int64_t ps_scheduler_wait_ms(const ps_scheduler *s, ps_sched_time now, int stopping)
{
    int64_t best = stopping ? INT64_MAX : s->policy.max_sleep_ms;
    for (size_t i = 0; i < s->n && !stopping; i++) {
        int64_t t = ps_sched_next_start(&s->entries[i], now.wall_ms);
        if (t == INT64_MAX || t <= now.wall_ms) /* due but waiting: a run's end wakes us */
            continue;
        if (t - now.wall_ms < best)
            best = t - now.wall_ms;
    }
    for (size_t i = 0; i < s->n; i++) {
        int64_t due = ps_sched_deadline(&s->policy, &s->entries[i]);
        if (due == INT64_MAX)
            continue;
        int64_t left = due > now.mono_ms ? due - now.mono_ms : 0;
        if (left < best)
            best = left;
    }
    if (best == INT64_MAX)
        return -1;
    return best < s->policy.max_sleep_ms ? best : s->policy.max_sleep_ms;
}
