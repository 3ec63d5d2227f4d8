/* paysync CLI: what the store remembers of a dataset (see ds_state.h). */
#include "ds_state.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "model/timestamp.h"
#include "store/run_state.h"
#include "store/store.h"

int cli_state_store(const ps_config *cfg, const ps_dataset_def *d, ps_store_ref *ref)
{
    ps_error err = {0};
    return ps_store_locate(cfg, d, ref, &err) == PS_OK ? 0 : -1;
}

char *cli_state_path(const ps_config *cfg, const ps_dataset_def *d)
{
    ps_store_ref ref;
    return cli_state_store(cfg, d, &ref) == 0 ? ref.location : NULL;
}

static void copy_text(char *dst, size_t cap, const char *src)
{
    snprintf(dst, cap, "%s", src ? src : "");
}

static void copy_run(cli_run_info *o, const ps_store_run *r)
{
    copy_text(o->run_id, sizeof o->run_id, r->run_id);
    copy_text(o->started, sizeof o->started, r->started);
    copy_text(o->finished, sizeof o->finished, r->finished);
    copy_text(o->outcome, sizeof o->outcome,
              ps_store_run_interrupted(r) ? "interrupted" : r->outcome);
    o->error = r->error ? strdup(r->error) : NULL;
    o->started_ms = r->started_ms;
    o->finished_ms = r->finished_ms;
    o->read = r->read;
    o->accepted = r->accepted;
    o->rejected = r->rejected;
    o->blank = r->blank;
    o->duplicates = r->duplicates;
    o->warnings = r->warnings;
    o->filtered = r->filtered;
    o->has_changes = r->has_changes;
    o->inserted = r->inserted;
    o->changed = r->changed;
    o->unchanged = r->unchanged;
    o->vanished = r->vanished;
}

static void fail(cli_ds_state *st, const ps_error *err)
{
    st->store_failed = 1;
    copy_text(st->error, sizeof st->error, err->message);
}

/* A run the store never heard of, from the run state file beside it (store/run_state.h):
 * failed and unrecorded (the store locked or unwritable), or interrupted before its start
 * marker. It becomes the last run; the store's runs stay in the history. */
static void apply_state(const char *location, const ps_dataset_def *d, cli_ds_state *st)
{
    ps_run_attempt a;
    ps_error err = {0};
    if (!st->state_file)
        return;
    if (ps_run_state_read(location, d->name, &a, &err) != PS_OK)
        return;
    ps_attempt_verdict v = ps_run_state_verdict(&a, st->has_last, st->last.started_ms);
    if (v == PS_ATTEMPT_KNOWN)
        return;
    char *path = ps_run_state_path(location);
    size_t cap = strlen(a.error) + (path ? strlen(path) : 0) + 200;
    char *msg = malloc(cap);
    if (!msg) {
        free(path);
        return;
    }
    if (v == PS_ATTEMPT_FAILED)
        snprintf(msg, cap, "%s (not recorded in the store; from the run state file '%s')", a.error,
                 path ? path : "?");
    else
        snprintf(msg, cap,
                 "interrupted: the run ended before it could record anything in the store "
                 "(killed); writer pid %ld (from the run state file '%s')",
                 a.pid, path ? path : "?");
    free(path);
    free(st->last.error);
    ps_store_names_free(st->last.missing, st->last.nmissing);
    memset(&st->last, 0, sizeof st->last);
    st->has_last = 1;
    st->last.unrecorded = 1;
    st->last.error = msg;
    copy_text(st->last.run_id, sizeof st->last.run_id, a.run_id);
    copy_text(st->last.outcome, sizeof st->last.outcome,
              v == PS_ATTEMPT_FAILED ? "failed" : "interrupted");
    st->last.started_ms = a.started_ms;
    char t[PS_TIME_TEXT_MAX];
    ps_time_format(a.started_ms, t);
    copy_text(st->last.started, sizeof st->last.started, t);
    if (v == PS_ATTEMPT_FAILED && a.finished_ms > 0) {
        st->last.finished_ms = a.finished_ms;
        ps_time_format(a.finished_ms, t);
        copy_text(st->last.finished, sizeof st->last.finished, t);
    }
}

void cli_ds_state_load(const ps_config *cfg, const ps_dataset_def *d, cli_ds_state *st)
{
    memset(st, 0, sizeof *st);
    ps_store_ref ref;
    if (cli_state_store(cfg, d, &ref) != 0)
        return;
    st->store_path = ref.location; /* owned by st from here */
    st->store_shown = ps_store_shown(&ref);
    st->state_file = ps_store_state_location(&ref) != NULL;
    if (!ps_store_exists(&ref)) {
        st->store_missing = 1;
        apply_state(st->store_path, d, st);
        return;
    }
    ps_error err = {0};
    ps_store *s = NULL;
    if (ps_store_open(&ref, PS_STORE_WAIT_MS, &s, &err) != PS_OK) {
        fail(st, &err);
        return;
    }
    ps_store_iter *it = NULL;
    ps_status rc = ps_store_runs(s, d->name, 0, &it, &err);
    ps_store_run r;
    while (rc == PS_OK && (rc = ps_store_next_run(it, &r, &err)) == PS_OK) {
        if (!st->has_last) {
            st->has_last = 1;
            copy_run(&st->last, &r);
        }
        if (r.outcome && strcmp(r.outcome, "ok") == 0) {
            st->has_last_ok = 1;
            st->last_ok_started_ms = r.started_ms;
            copy_text(st->last_ok_started, sizeof st->last_ok_started, r.started);
            break;
        }
    }
    ps_store_iter_free(it);
    it = NULL;
    if ((rc == PS_OK || rc == PS_END) && st->has_last)
        rc = ps_store_missing_columns(s, d->name, st->last.run_id, &st->last.missing,
                                      &st->last.nmissing, &err);
    if (rc != PS_OK && rc != PS_END) {
        fail(st, &err);
        ps_store_close(s);
        return;
    }
    rc = ps_store_datasets(s, &it, &err);
    ps_store_dataset ds;
    while (rc == PS_OK && (rc = ps_store_next_dataset(it, &ds, &err)) == PS_OK) {
        if (ds.name && strcmp(ds.name, d->name) == 0) {
            st->payments = ds.payments;
            st->vanished_payments = ds.vanished;
            break;
        }
    }
    ps_store_iter_free(it);
    if (rc != PS_OK && rc != PS_END)
        fail(st, &err);
    if (!st->store_failed) {
        rc = ps_store_lease_holder(s, d->name, &st->lease, &err);
        st->has_lease = rc == PS_OK;
        if (rc != PS_OK && rc != PS_END)
            fail(st, &err);
    }
    ps_store_close(s);
    if (!st->store_failed)
        apply_state(st->store_path, d, st);
}

void cli_ds_state_free(cli_ds_state *st)
{
    free(st->store_path);
    free(st->store_shown);
    free(st->last.error);
    ps_store_names_free(st->last.missing, st->last.nmissing);
    memset(st, 0, sizeof *st);
}

int cli_dataset_schedule(const ps_config *cfg, const ps_dataset_def *d, ps_schedule *out)
{
    (void)cfg;
    if (d->nschedule == 0)
        return -1;
    ps_error err = {0};
    return ps_schedule_parse(d->schedule, d->nschedule, d->name, NULL, NULL, out, &err) == PS_OK
               ? 0
               : -1;
}

int cli_check_schedules(const ps_config *cfg)
{
    ps_error err = {0};
    if (ps_config_check_schedules(cfg, &err) != PS_OK) {
        cli_error("%s", err.message);
        return PS_EXIT_USAGE;
    }
    return 0;
}
