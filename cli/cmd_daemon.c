/* paysync daemon: runs each scheduled dataset as it falls due, each run in its own child
 * process (`paysync run CONFIG --dataset NAME`), with capped exponential backoff after a
 * failure. A run that outlives --run-timeout gets SIGTERM, then SIGKILL (its process group)
 * --kill-after seconds later. SIGTERM/SIGINT: start nothing more, forward SIGTERM to the runs,
 * wait, exit 0.
 * SIGHUP: reload the config (the old one stays on error). Signals reach the loop through a
 * self-pipe (daemon_proc.c); the handlers do nothing else. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "commands.h"
#include "config/file_sinks.h"
#include "config/schedule.h"
#include "daemon/scheduler.h"
#include "daemon_proc.h"
#include "ds_state.h"
#include "model/timestamp.h"
#include "util/clock.h"
#include "util/duration.h"
#include "util/log.h"

static const char daemon_usage[] =
    "usage: paysync daemon CONFIG [--retry-base SECONDS] [--retry-max SECONDS] [--jobs N]\n"
    "                      [--run-timeout SECONDS] [--kill-after SECONDS]\n"
    "\n"
    "Runs every dataset that has a schedule as it falls due, each run in its own process\n"
    "(paysync run CONFIG --dataset NAME), so a crashing plugin cannot stop the daemon. At most\n"
    "one run per dataset, and one at a time per sqlite store. A failed run is retried after\n"
    "--retry-base seconds, doubling up to --retry-max. Logs go to standard error.\n"
    "\n"
    "  --retry-base S   first retry delay in seconds (default 30)\n"
    "  --retry-max S    longest retry delay in seconds (default 3600)\n"
    "  --jobs N         most runs at the same time (default 4)\n"
    "  --run-timeout S  a run still going after S seconds is stopped (SIGTERM: it rolls back)\n"
    "                   and counts as failed; 0 = no limit (default 7200)\n"
    "  --kill-after S   SIGKILL a timed-out run that has not ended S seconds after its\n"
    "                   SIGTERM (default 30)\n"
    "\n"
    "signals: SIGTERM/SIGINT finish the current runs (each commits or rolls back its batch)\n"
    "and exit 0; SIGHUP reloads CONFIG, keeping the previous one if it is invalid.\n"
    "exit: 0 stopped by a signal, 1 internal failure, 2 usage or configuration error\n";

#define COMPONENT "daemon"

/* The decisions (what is due, backoff, timeouts, sleeps) are the scheduler's
 * (core/src/daemon/scheduler.c); this file spawns, signals, reaps and logs. */
typedef struct daemon_t {
    char *config_path;
    ps_config *cfg;
    ps_scheduler sch;
} daemon_t;

static ps_sched_time clock_now(void)
{
    ps_sched_time t = {ps_clock_now_ms(), ps_clock_monotonic_ms()};
    return t;
}

static void log_time(int level, const char *name, const char *what, int64_t t)
{
    char buf[PS_TIME_TEXT_MAX];
    if (t == INT64_MAX) {
        ps_log(level, name, "%s never", what);
        return;
    }
    ps_time_format(t, buf);
    ps_log(level, name, "%s %s", what, buf);
}

/* Hands cfg's datasets to the scheduler, which keeps the state of datasets it already knows;
 * a new one is anchored at its last successful run in the store. Returns 0 or -1 (out of
 * memory: the scheduler is untouched). */
static int build_table(daemon_t *d, const ps_config *cfg)
{
    size_t n = cfg->ndatasets;
    ps_sched_def *defs = calloc(n + 1, sizeof *defs);
    ps_schedule *scheds = calloc(n + 1, sizeof *scheds);
    char **stores = calloc(n + 1, sizeof *stores);
    int64_t *anchors = calloc(n + 1, sizeof *anchors);
    int rc = -1;
    if (!defs || !scheds || !stores || !anchors)
        goto out;
    for (size_t i = 0; i < n; i++) {
        const ps_dataset_def *def = &cfg->datasets[i];
        defs[i].name = def->name;
        defs[i].store = stores[i] = cli_state_path(cfg, def);
        int scheduled = cli_dataset_schedule(cfg, def, &scheds[i]) == 0;
        defs[i].sched = scheduled ? &scheds[i] : NULL;
        if (scheduled && !ps_scheduler_find(&d->sch, def->name)) {
            cli_ds_state st;
            cli_ds_state_load(cfg, def, &st);
            if (st.store_failed)
                ps_log(PS_LOG_WARN, def->name, "cannot read the last run (%s): treating it as due",
                       st.error);
            if (st.has_last_ok) {
                anchors[i] = st.last_ok_started_ms;
                defs[i].last_ok_ms = &anchors[i];
            }
            cli_ds_state_free(&st);
        }
    }
    /* Runs of datasets that leave the config may finish. */
    for (size_t j = 0; j < d->sch.n; j++) {
        const ps_sched_entry *e = &d->sch.entries[j];
        if (e->handle && !e->removed && !ps_config_dataset(cfg, e->name))
            ps_log(PS_LOG_INFO, e->name, "left the config: its current run may finish");
    }
    if (ps_scheduler_set(&d->sch, defs, n) != 0)
        goto out;
    for (size_t i = 0; i < n; i++) {
        if (defs[i].sched)
            ps_log(PS_LOG_INFO, defs[i].name, "%s", scheds[i].text);
        else
            ps_log(PS_LOG_INFO, defs[i].name, "no schedule: the daemon does not run it");
    }
    rc = 0;
out:
    for (size_t i = 0; stores && i < n; i++)
        free(stores[i]);
    free(stores);
    free(anchors);
    free(scheds);
    free(defs);
    return rc;
}

static void start_run(daemon_t *d, ps_sched_entry *r, ps_sched_time now)
{
    char *argv[14];
    int a = 0;
    argv[a++] = "paysync";
    int level = ps_log_level();
    if (level <= PS_LOG_ERROR)
        argv[a++] = "-q";
    else if (level >= PS_LOG_DEBUG)
        argv[a++] = "-vv";
    if (ps_log_json()) {
        argv[a++] = "--log-format";
        argv[a++] = "json";
    }
    argv[a++] = "run";
    argv[a++] = d->config_path;
    argv[a++] = "--dataset";
    argv[a++] = r->name;
    argv[a++] = "--no-progress";
    argv[a] = NULL;
    fflush(NULL);
    pid_t pid = cli_spawn_self(argv);
    if (pid < 0) {
        int e = errno;
        int64_t delay = ps_scheduler_start_failed(&d->sch, r, now);
        char db[32];
        ps_duration_format(delay, db, sizeof db);
        ps_log(PS_LOG_ERROR, r->name, "cannot start a run: %s; retry in %s", strerror(e), db);
        return;
    }
    ps_scheduler_started(&d->sch, r, (long)pid, now);
    ps_log(PS_LOG_INFO, r->name, "run started (pid %ld)%s", (long)pid,
           r->failures ? " - a retry" : "");
}

static void start_due(daemon_t *d, ps_sched_time now)
{
    ps_sched_entry *r;
    while ((r = ps_scheduler_pick(&d->sch, now)) != NULL)
        start_run(d, r, now);
}

/* Sends SIGTERM to runs past --run-timeout and SIGKILL to their process group once
 * --kill-after has passed since. */
static void enforce_timeouts(daemon_t *d)
{
    ps_sched_time now = clock_now();
    ps_sched_entry *r;
    ps_sched_action act;
    while ((act = ps_scheduler_timeout(&d->sch, now, &r)) != PS_SCHED_NONE) {
        char el[32];
        pid_t pid = (pid_t)r->handle;
        if (act == PS_SCHED_TERM) {
            ps_duration_format(d->sch.policy.run_timeout_ms, el, sizeof el);
            if (kill(pid, SIGTERM) == 0)
                ps_log(PS_LOG_WARN, r->name,
                       "run still going after the run timeout of %s: SIGTERM sent (pid %ld)", el,
                       (long)pid);
        } else {
            ps_duration_format(d->sch.policy.kill_after_ms, el, sizeof el);
            if (kill(-pid, SIGKILL) == 0 || kill(pid, SIGKILL) == 0)
                ps_log(PS_LOG_WARN, r->name,
                       "run did not end within %s of its SIGTERM: SIGKILL sent (pid %ld)", el,
                       (long)pid);
        }
    }
}

static void finished(daemon_t *d, ps_sched_entry *r, int status, int stopping)
{
    ps_sched_time now = clock_now();
    int64_t took = now.mono_ms - r->started_mono;
    char how[128], el[32];
    cli_describe_wait(status, how, sizeof how);
    if (r->termed) {
        char lim[32];
        size_t used = strlen(how);
        ps_duration_format(d->sch.policy.run_timeout_ms, lim, sizeof lim);
        snprintf(how + used, sizeof how - used, " (timed out: run timeout %s)", lim);
    }
    ps_duration_format(took < 0 ? 0 : took, el, sizeof el);
    long pid = r->handle;
    int ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
    int64_t delay = ps_scheduler_finished(&d->sch, r, ok, now);
    if (ok) {
        ps_log(PS_LOG_INFO, r->name, "run finished ok in %s (pid %ld)", el, pid);
        if (!stopping && !r->removed && r->scheduled)
            log_time(PS_LOG_INFO, r->name, "next due",
                     ps_schedule_next_due(&r->sched, &r->anchor_ms, now.wall_ms));
        return;
    }
    char db[32];
    ps_duration_format(delay, db, sizeof db);
    if (stopping || r->removed)
        ps_log(PS_LOG_WARN, r->name, "run failed (pid %ld): %s after %s", pid, how, el);
    else
        ps_log(PS_LOG_WARN, r->name,
               "run failed (pid %ld): %s after %s; failure %d in a row, retry in %s", pid, how, el,
               r->failures, db);
}

static void reap(daemon_t *d, int stopping)
{
    for (;;) {
        int status;
        pid_t pid = waitpid(-1, &status, WNOHANG);
        if (pid < 0 && errno == EINTR)
            continue;
        if (pid <= 0)
            return;
        ps_sched_entry *r = ps_scheduler_by_handle(&d->sch, (long)pid);
        if (r)
            finished(d, r, status, stopping);
    }
}

static int has_schedule(const ps_config *cfg, const ps_dataset_def *d)
{
    ps_schedule s;
    return cli_dataset_schedule(cfg, d, &s) == 0;
}

/* The config's file sinks, and none shared by datasets the daemon runs (each runs alone). */
static ps_status daemon_check_sinks(const ps_config *cfg, ps_error *err)
{
    ps_status st = ps_file_sinks_check(cfg, err);
    return st != PS_OK ? st : ps_file_sinks_check_separate(cfg, has_schedule, err);
}

static void reload(daemon_t *d)
{
    ps_config *cfg = NULL;
    ps_error err = {0};
    ps_log(PS_LOG_INFO, COMPONENT, "SIGHUP: reloading %s", d->config_path);
    if (ps_config_load(d->config_path, &cfg, &err) != PS_OK ||
        ps_config_check_schedules(cfg, &err) != PS_OK || daemon_check_sinks(cfg, &err) != PS_OK) {
        ps_log(PS_LOG_ERROR, COMPONENT, "reload failed, keeping the previous config: %s",
               err.message);
        ps_config_free(cfg);
        return;
    }
    cli_warn_config_perms(cfg);
    if (build_table(d, cfg) != 0) {
        ps_log(PS_LOG_ERROR, COMPONENT,
               "reload failed, keeping the previous config: out of "
               "memory");
        ps_config_free(cfg);
        return;
    }
    ps_config_free(d->cfg);
    d->cfg = cfg;
    ps_log(PS_LOG_INFO, COMPONENT, "reloaded: %zu dataset(s)", cfg->ndatasets);
}

/* A whole number in [lo, hi]; prints the error. */
static int parse_int(const char *opt, const char *v, long long lo, long long hi, const char *what,
                     long long *out)
{
    char *end;
    errno = 0;
    long long s = strtoll(v, &end, 10);
    if (errno || end == v || *end || s < lo || s > hi) {
        cli_error("%s '%s': expected %s between %lld and %lld", opt, v, what, lo, hi);
        return -1;
    }
    *out = s;
    return 0;
}

int cmd_daemon(int argc, char **argv)
{
    static const struct option longopts[] = {{"retry-base", required_argument, 0, 'b'},
                                             {"retry-max", required_argument, 0, 'm'},
                                             {"jobs", required_argument, 0, 'j'},
                                             {"run-timeout", required_argument, 0, 't'},
                                             {"kill-after", required_argument, 0, 'k'},
                                             {"help", no_argument, 0, 'h'},
                                             {0, 0, 0, 0}};
    daemon_t d;
    memset(&d, 0, sizeof d);
    ps_sched_policy pol = ps_sched_policy_default();
    int c;
    long long v;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (c) {
        case 'b':
            if (parse_int("--retry-base", optarg, 1, 604800, "whole seconds", &v) != 0)
                return PS_EXIT_USAGE;
            pol.retry_base_ms = v * 1000;
            break;
        case 'm':
            if (parse_int("--retry-max", optarg, 1, 604800, "whole seconds", &v) != 0)
                return PS_EXIT_USAGE;
            pol.retry_max_ms = v * 1000;
            break;
        case 'j':
            if (parse_int("--jobs", optarg, 1, 64, "a number", &v) != 0)
                return PS_EXIT_USAGE;
            pol.jobs = (int)v;
            break;
        case 't':
            if (parse_int("--run-timeout", optarg, 0, 604800, "whole seconds", &v) != 0)
                return PS_EXIT_USAGE;
            pol.run_timeout_ms = v * 1000;
            break;
        case 'k':
            if (parse_int("--kill-after", optarg, 1, 3600, "whole seconds", &v) != 0)
                return PS_EXIT_USAGE;
            pol.kill_after_ms = v * 1000;
            break;
        case 'h':
            return cli_usage(daemon_usage, 1);
        default:
            return cli_usage(daemon_usage, 0);
        }
    }
    if (optind != argc - 1)
        return cli_usage(daemon_usage, 0);
    ps_scheduler_init(&d.sch, &pol); /* raises retry-max to retry-base */
    d.config_path = realpath(argv[optind], NULL);
    if (!d.config_path) {
        cli_error("%s: cannot open: %s", argv[optind], strerror(errno));
        return PS_EXIT_USAGE;
    }
    ps_error err = {0};
    if (ps_config_load(d.config_path, &d.cfg, &err) != PS_OK) {
        cli_error("%s", err.message);
        free(d.config_path);
        return PS_EXIT_USAGE;
    }
    int rc = cli_check_schedules(d.cfg);
    if (rc == 0 && daemon_check_sinks(d.cfg, &err) != PS_OK) {
        cli_error("%s", err.message);
        rc = PS_EXIT_USAGE;
    }
    if (rc != 0) {
        ps_config_free(d.cfg);
        free(d.config_path);
        return rc;
    }
    cli_warn_config_perms(d.cfg);
    if (access("/proc/self/exe", X_OK) != 0) {
        cli_error("daemon needs /proc/self/exe to start runs: %s", strerror(errno));
        ps_config_free(d.cfg);
        free(d.config_path);
        return PS_EXIT_FAILED;
    }
    (void)ps_daemon_self_exe(); /* resolve before any fork */
    int sigfd = cli_sigpipe_install();
    if (sigfd < 0 || build_table(&d, d.cfg) != 0) {
        cli_error("cannot start the daemon: %s", strerror(errno));
        ps_config_free(d.cfg);
        free(d.config_path);
        return PS_EXIT_FAILED;
    }
    size_t nsched = 0;
    for (size_t i = 0; i < d.sch.n; i++)
        nsched += d.sch.entries[i].scheduled;
    char b1[32], b2[32], b3[32] = "none";
    ps_duration_format(d.sch.policy.retry_base_ms, b1, sizeof b1);
    ps_duration_format(d.sch.policy.retry_max_ms, b2, sizeof b2);
    if (d.sch.policy.run_timeout_ms)
        ps_duration_format(d.sch.policy.run_timeout_ms, b3, sizeof b3);
    ps_log(PS_LOG_INFO, COMPONENT,
           "started (pid %ld): %s, %zu of %zu dataset(s) scheduled, jobs %d, retry %s doubling "
           "to %s, run timeout %s",
           (long)getpid(), d.config_path, nsched, d.sch.n, d.sch.policy.jobs, b1, b2, b3);
    if (nsched == 0)
        ps_log(PS_LOG_WARN, COMPONENT,
               "no dataset has a schedule: nothing will run (add one and send SIGHUP)");

    int stopping = 0;
    for (;;) {
        ps_sched_time now = clock_now();
        if (!stopping)
            start_due(&d, now);
        if (stopping && d.sch.running == 0)
            break;
        struct pollfd pfd = {sigfd, POLLIN, 0};
        int timeout = (int)ps_scheduler_wait_ms(&d.sch, now, stopping);
        int pr = poll(&pfd, 1, timeout);
        if (pr < 0 && errno != EINTR) {
            ps_log(PS_LOG_ERROR, COMPONENT, "poll failed: %s", strerror(errno));
            break;
        }
        cli_sigs s = {0, 0, 0};
        cli_sigpipe_drain(sigfd, &s);
        reap(&d, stopping); /* also catches a SIGCHLD merged with another wake-up */
        enforce_timeouts(&d);
        if (s.term) {
            if (!stopping)
                ps_log(PS_LOG_INFO, COMPONENT, "stopping: %d run(s) to finish", d.sch.running);
            stopping = 1;
            for (size_t i = 0; i < d.sch.n; i++) {
                const ps_sched_entry *r = &d.sch.entries[i];
                if (r->handle && kill((pid_t)r->handle, SIGTERM) == 0)
                    ps_log(PS_LOG_INFO, r->name, "SIGTERM sent to the run (pid %ld)", r->handle);
            }
        }
        if (s.hup && !stopping)
            reload(&d);
        ps_scheduler_compact(&d.sch);
    }
    ps_log(PS_LOG_INFO, COMPONENT, "stopped");
    ps_scheduler_free(&d.sch);
    ps_config_free(d.cfg);
    free(d.config_path);
    close(sigfd);
    return PS_EXIT_OK;
}
