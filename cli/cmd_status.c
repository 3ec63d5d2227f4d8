/* paysync status: per dataset, the last run, its outcome and counts, and when it is next due. */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "config/schedule.h"
#include "ds_state.h"
#include "model/timestamp.h"
#include "plugin/host.h"
#include "util/log.h"
#include "util/pathtext.h"

static const char status_usage[] =
    "usage: paysync status CONFIG [--dataset NAME]... [--json]\n"
    "\n"
    "Shows, per dataset, its schedule, the last run recorded in its sqlite store (time,\n"
    "outcome, counts, changes, error), the last successful run and the next due time.\n"
    "\n"
    "  --dataset NAME   only this dataset (repeatable)\n"
    "  --json           one JSON object on stdout instead of text\n"
    "\n"
    "Each store is checked for damage (PRAGMA quick_check) first.\n"
    "\n"
    "exit: 0 shown, 1 a store could not be read or is damaged, 2 usage or configuration error\n";

typedef struct ds_view {
    const ps_dataset_def *d;
    cli_ds_state st;
    int scheduled;
    ps_schedule sched;
    int has_next;
    int64_t next;
} ds_view;

/* Stores already checked by verify (several datasets may share one). */
typedef struct checked {
    char *path;
    char *error; /* NULL when the store passed */
} checked;

/* Runs the store's integrity check once per store (ps_store_verify); a damaged store fails
 * the dataset's state like an unreadable one (exit 1). */
static void verify(const ps_config *cfg, const ps_dataset_def *d, cli_ds_state *st, checked *done,
                   size_t *ndone)
{
    if (!st->store_path || st->store_missing || st->store_failed)
        return;
    const checked *c = NULL;
    for (size_t i = 0; i < *ndone && !c; i++)
        if (strcmp(done[i].path, st->store_path) == 0)
            c = &done[i];
    if (!c) {
        ps_store_ref ref;
        ps_error err = {0};
        ps_store *s = NULL;
        if (cli_state_store(cfg, d, &ref) != 0)
            return;
        ps_status rc = ps_store_open(&ref, PS_STORE_WAIT_MS, &s, &err);
        if (rc == PS_OK)
            rc = ps_store_verify(s, &err);
        ps_store_close(s);
        done[*ndone].path = ref.location;
        done[*ndone].error = rc == PS_OK ? NULL : strdup(err.message);
        c = &done[(*ndone)++];
    }
    if (c->error) {
        st->store_failed = 1;
        snprintf(st->error, sizeof st->error, "%s", c->error);
    }
}

static void view_load(const ps_config *cfg, const ps_dataset_def *d, int64_t now, ds_view *v,
                      checked *done, size_t *ndone)
{
    memset(v, 0, sizeof *v);
    v->d = d;
    cli_ds_state_load(cfg, d, &v->st);
    verify(cfg, d, &v->st, done, ndone);
    v->scheduled = cli_dataset_schedule(cfg, d, &v->sched) == 0;
    if (v->scheduled && !v->st.store_failed) {
        v->has_next = 1;
        v->next = ps_schedule_next_due(&v->sched,
                                       v->st.has_last_ok ? &v->st.last_ok_started_ms : NULL, now);
    }
}

/* "in 3h2m", "now", "overdue by 5m" */
static void relative(int64_t next, int64_t now, char *buf, size_t cap)
{
    char d[32];
    int64_t delta = next - now;
    if (delta > -1000 && delta < 1000) {
        snprintf(buf, cap, "now");
        return;
    }
    ps_duration_format((delta < 0 ? -delta : delta) / 1000 * 1000, d, sizeof d);
    snprintf(buf, cap, delta > 0 ? "in %s" : "overdue by %s", d);
}

/* The store as shown: without secrets (a PostgreSQL password). */
#define SHOWN(st) ((st)->store_shown ? (st)->store_shown : (st)->store_path)

static void print_text(const ds_view *v, int64_t now, FILE *out)
{
    const cli_ds_state *st = &v->st;
    fprintf(out, "%s\n", v->d->name);
    fprintf(out, "  schedule:  %s\n", v->scheduled ? v->sched.text : "none (runs only when asked)");
    if (!st->store_path) {
        fprintf(out, "  store:     none (the dataset has no store sink: runs are not recorded)\n");
    } else if (st->store_missing) {
        fprintf(out, "  store:     %s (not created yet)\n", SHOWN(st));
    } else if (st->store_failed) {
        fprintf(out, "  store:     %s: cannot be read: %s\n", SHOWN(st), st->error);
    } else {
        fprintf(out, "  store:     %s (%llu payments, %llu vanished)\n", SHOWN(st),
                (unsigned long long)st->payments, (unsigned long long)st->vanished_payments);
    }
    if (st->has_lease) {
        char t[PS_TIME_TEXT_MAX], age[32], lim[32];
        ps_time_format(st->lease.acquired_ms, t);
        ps_duration_format(st->lease.beat_age_ms < 0 ? 0 : st->lease.beat_age_ms, age, sizeof age);
        ps_duration_format(st->lease.timeout_ms, lim, sizeof lim);
        if (st->lease.expired)
            fprintf(out,
                    "  lease:     worker '%s' since %s, expired: no heartbeat for %s (lease "
                    "timeout %s); another worker takes it over\n",
                    st->lease.worker, t, age, lim);
        else
            fprintf(out, "  lease:     held by worker '%s' since %s (heartbeat %s ago)\n",
                    st->lease.worker, t, age);
    }
    if (!st->has_last) {
        if (!st->store_failed)
            fprintf(out, "  last run:  never\n");
    } else {
        const cli_run_info *r = &st->last;
        char el[32] = "?";
        if (r->finished[0] && r->finished_ms >= r->started_ms)
            ps_duration_format(r->finished_ms - r->started_ms, el, sizeof el);
        fprintf(out, "  last run:  %s, %s in %s (run %s)\n", r->started, r->outcome, el, r->run_id);
        fprintf(out,
                "  counts:    read %llu, accepted %llu, rejected %llu, blank %llu, "
                "duplicates %llu, filtered %llu, warnings %llu\n",
                (unsigned long long)r->read, (unsigned long long)r->accepted,
                (unsigned long long)r->rejected, (unsigned long long)r->blank,
                (unsigned long long)r->duplicates, (unsigned long long)r->filtered,
                (unsigned long long)r->warnings);
        if (r->has_changes)
            fprintf(out, "  changes:   new %llu, changed %llu, unchanged %llu, vanished %llu\n",
                    (unsigned long long)r->inserted, (unsigned long long)r->changed,
                    (unsigned long long)r->unchanged, (unsigned long long)r->vanished);
        for (size_t k = 0; k < r->nmissing; k++) {
            char name[256];
            snprintf(name, sizeof name, "%s", r->missing[k]);
            ps_text_sanitize(name);
            fprintf(out,
                    "  warning:   column_missing: '%s' was in the previous run's header and is "
                    "gone\n",
                    name);
        }
        if (r->error)
            fprintf(out, "  error:     %s\n", r->error);
        if (strcmp(r->outcome, "ok") != 0)
            fprintf(out, "  last ok:   %s\n", st->has_last_ok ? st->last_ok_started : "never");
    }
    if (v->has_next) {
        char t[PS_TIME_TEXT_MAX], rel[48];
        ps_time_format(v->next, t);
        relative(v->next, now, rel, sizeof rel);
        fprintf(out, "  next due:  %s (%s)%s\n", t, rel,
                st->has_last_ok ? "" : " - never ran successfully");
    } else {
        fprintf(out, "  next due:  %s\n", v->scheduled ? "unknown" : "not scheduled");
    }
}

static json_t *jstr_or_null(const char *s)
{
    return s && s[0] ? json_string(s) : json_null();
}

static json_t *json_view(const ds_view *v, int64_t now)
{
    const cli_ds_state *st = &v->st;
    json_t *o = json_object();
    json_object_set_new(o, "name", json_string(v->d->name));
    json_object_set_new(o, "schedule", v->scheduled ? json_string(v->sched.text) : json_null());
    json_object_set_new(o, "store", st->store_path ? json_string(SHOWN(st)) : json_null());
    json_object_set_new(o, "store_error", st->store_failed ? json_string(st->error) : json_null());
    if (st->store_path && !st->store_failed && !st->store_missing) {
        json_object_set_new(o, "payments", json_integer((json_int_t)st->payments));
        json_object_set_new(o, "vanished_payments",
                            json_integer((json_int_t)st->vanished_payments));
    }
    if (st->has_lease) {
        char t[PS_TIME_TEXT_MAX];
        ps_time_format(st->lease.acquired_ms, t);
        json_t *l = json_object();
        json_object_set_new(l, "worker", json_string(st->lease.worker));
        json_object_set_new(l, "since", json_string(t));
        json_object_set_new(l, "heartbeat_age_ms", json_integer((json_int_t)st->lease.beat_age_ms));
        json_object_set_new(l, "timeout_ms", json_integer((json_int_t)st->lease.timeout_ms));
        json_object_set_new(l, "expired", json_boolean(st->lease.expired));
        json_object_set_new(o, "lease", l);
    }
    if (st->has_last) {
        const cli_run_info *r = &st->last;
        json_t *lr = json_object();
        json_object_set_new(lr, "run_id", json_string(r->run_id));
        json_object_set_new(lr, "started", jstr_or_null(r->started));
        json_object_set_new(lr, "finished", jstr_or_null(r->finished));
        json_object_set_new(lr, "outcome", json_string(r->outcome));
        const char *names[] = {"read",       "accepted", "rejected", "blank",
                               "duplicates", "filtered", "warnings"};
        const uint64_t vals[] = {r->read,       r->accepted, r->rejected, r->blank,
                                 r->duplicates, r->filtered, r->warnings};
        json_t *counts = json_object();
        for (int i = 0; i < 7; i++)
            json_object_set_new(counts, names[i], json_integer((json_int_t)vals[i]));
        json_object_set_new(lr, "counts", counts);
        if (r->has_changes) {
            json_t *ch = json_object();
            json_object_set_new(ch, "new", json_integer((json_int_t)r->inserted));
            json_object_set_new(ch, "changed", json_integer((json_int_t)r->changed));
            json_object_set_new(ch, "unchanged", json_integer((json_int_t)r->unchanged));
            json_object_set_new(ch, "vanished", json_integer((json_int_t)r->vanished));
            json_object_set_new(lr, "changes", ch);
        } else {
            json_object_set_new(lr, "changes", json_null());
        }
        json_object_set_new(lr, "error", jstr_or_null(r->error));
        json_object_set_new(lr, "recorded", json_boolean(!r->unrecorded));
        json_t *m = json_array();
        for (size_t k = 0; k < r->nmissing; k++)
            json_array_append_new(m, json_string(r->missing[k]));
        json_object_set_new(lr, "missing_columns", m);
        json_object_set_new(o, "last_run", lr);
    } else {
        json_object_set_new(o, "last_run", json_null());
    }
    json_object_set_new(o, "last_ok_started",
                        st->has_last_ok ? json_string(st->last_ok_started) : json_null());
    if (v->has_next) {
        char t[PS_TIME_TEXT_MAX];
        ps_time_format(v->next, t);
        json_object_set_new(o, "next_due", json_string(t));
        json_object_set_new(o, "due", json_boolean(v->next <= now));
    } else {
        json_object_set_new(o, "next_due", json_null());
        json_object_set_new(o, "due", json_false());
    }
    return o;
}

int cmd_status(int argc, char **argv)
{
    static const struct option longopts[] = {{"dataset", required_argument, 0, 'd'},
                                             {"json", no_argument, 0, 'j'},
                                             {"help", no_argument, 0, 'h'},
                                             {0, 0, 0, 0}};
    char **only = calloc((size_t)argc + 1, sizeof *only);
    size_t nonly = 0;
    int json = 0, c;
    if (!only) {
        cli_error("out of memory");
        return PS_EXIT_FAILED;
    }
    optind = 1;
    while ((c = getopt_long(argc, argv, "d:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'd':
            only[nonly++] = optarg;
            break;
        case 'j':
            json = 1;
            break;
        case 'h':
            free(only);
            return cli_usage(status_usage, 1);
        default:
            free(only);
            return cli_usage(status_usage, 0);
        }
    }
    if (optind != argc - 1) {
        free(only);
        return cli_usage(status_usage, 0);
    }
    ps_config *cfg = NULL;
    ps_error err = {0};
    if (ps_config_load(argv[optind], &cfg, &err) != PS_OK) {
        cli_error("%s", err.message);
        free(only);
        return PS_EXIT_USAGE;
    }
    int rc = cli_check_schedules(cfg);
    for (size_t i = 0; rc == 0 && i < nonly; i++) {
        if (!ps_config_dataset(cfg, only[i])) {
            cli_error("%s: unknown dataset '%s'", PS_SHOWN(cfg->path), PS_SHOWN(only[i]));
            rc = PS_EXIT_USAGE;
        }
    }
    if (rc != 0) {
        ps_config_free(cfg);
        free(only);
        return rc;
    }
    int64_t now = ps_now_ms();
    json_t *arr = json ? json_array() : NULL;
    int failed = 0, first = 1;
    checked *done = calloc(cfg->ndatasets + 1, sizeof *done);
    size_t ndone = 0;
    if (!done) {
        cli_error("out of memory");
        ps_config_free(cfg);
        free(only);
        return PS_EXIT_FAILED;
    }
    for (size_t i = 0; i < cfg->ndatasets; i++) {
        const ps_dataset_def *d = &cfg->datasets[i];
        int want = nonly == 0;
        for (size_t j = 0; j < nonly; j++)
            want |= strcmp(only[j], d->name) == 0;
        if (!want)
            continue;
        ds_view v;
        view_load(cfg, d, now, &v, done, &ndone);
        failed |= v.st.store_failed;
        if (json) {
            json_array_append_new(arr, json_view(&v, now));
        } else {
            if (!first)
                fputc('\n', stdout);
            print_text(&v, now, stdout);
        }
        first = 0;
        cli_ds_state_free(&v.st);
    }
    if (json) {
        json_t *root = json_object();
        char t[PS_TIME_TEXT_MAX];
        ps_time_format(now, t);
        json_object_set_new(root, "config", json_string(cfg->path));
        json_object_set_new(root, "now", json_string(t));
        json_object_set_new(root, "datasets", arr);
        json_dumpf(root, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        fputc('\n', stdout);
        json_decref(root);
    }
    if (fflush(stdout) != 0) {
        cli_error("cannot write to standard output");
        failed = 1;
    }
    for (size_t i = 0; i < ndone; i++) {
        free(done[i].path);
        free(done[i].error);
    }
    free(done);
    ps_config_free(cfg);
    free(only);
    return failed ? PS_EXIT_FAILED : PS_EXIT_OK;
}
