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
#include "daemon_proc.h"
#include "ds_state.h"
#include "plugin/host.h"
#include "util/log.h"
#include "model/timestamp.h"
#include "config/schedule.h"

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
#define MAX_SLEEP_MS 60000

typedef struct dsrun {
    char *name;
    char *store; /* state store path, NULL when the dataset has no sqlite sink */
    int scheduled;
    ps_schedule sched;
    int has_anchor;
    int64_t anchor_ms; /* start of the last successful run */
    pid_t pid;         /* running child, 0 when idle */
    int64_t started_ms, started_mono;
    int64_t term_mono; /* when the run timeout sent SIGTERM, 0 if it has not */
    int killed;        /* SIGKILL sent after the grace period */
    int failures;      /* consecutive failed runs */
    int64_t retry_at;
    int removed; /* gone from the config after a reload: dropped once idle */
} dsrun;

typedef struct daemon_t {
    char *config_path;
    ps_config *cfg;
    dsrun *ds;
    size_t nds;
    int64_t retry_base_ms, retry_max_ms;
    int64_t run_timeout_ms, kill_after_ms; /* run_timeout_ms 0: no limit */
    int jobs, running;
} daemon_t;

static void dsrun_free(dsrun *r)
{
    free(r->name);
    free(r->store);
}

static int64_t backoff_ms(const daemon_t *d, int failures)
{
    int64_t delay = d->retry_base_ms;
    for (int i = 1; i < failures && delay < d->retry_max_ms; i++)
        delay *= 2;
    return delay < d->retry_max_ms ? delay : d->retry_max_ms;
}

/* When r should next start (INT64_MAX: never, e.g. unscheduled or running). */
static int64_t next_start(const dsrun *r, int64_t now)
{
    if (r->pid || r->removed || !r->scheduled)
        return INT64_MAX;
    if (r->failures > 0)
        return r->retry_at;
    return ps_schedule_next_due(&r->sched, r->has_anchor ? &r->anchor_ms : NULL, now);
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

/* Builds the table for cfg, carrying over the state of datasets already known. Returns 0 or
 * -1 (out of memory: old table untouched). */
static int build_table(daemon_t *d, const ps_config *cfg)
{
    size_t cap = cfg->ndatasets + d->nds + 1;
    dsrun *t = calloc(cap, sizeof *t);
    if (!t)
        return -1;
    size_t n = 0;
    for (size_t i = 0; i < cfg->ndatasets; i++) {
        const ps_dataset_def *def = &cfg->datasets[i];
        dsrun *r = &t[n];
        dsrun *old = NULL;
        for (size_t j = 0; j < d->nds; j++)
            if (d->ds[j].name && strcmp(d->ds[j].name, def->name) == 0)
                old = &d->ds[j];
        char *store = cli_state_path(cfg, def);
        if (old) {
            *r = *old;
            old->name = NULL; /* moved */
            free(old->store);
            old->store = NULL;
            r->removed = 0;
        } else {
            r->name = strdup(def->name);
            if (!r->name) {
                free(store);
                for (size_t k = 0; k < n; k++)
                    dsrun_free(&t[k]);
                free(t);
                return -1;
            }
        }
        r->store = store;
        r->scheduled = cli_dataset_schedule(cfg, def, &r->sched) == 0;
        if (!old && r->scheduled) {
            cli_ds_state st;
            cli_ds_state_load(cfg, def, &st);
            if (st.store_failed)
                ps_log(PS_LOG_WARN, def->name, "cannot read the last run (%s): treating it as due",
                       st.error);
            r->has_anchor = st.has_last_ok;
            r->anchor_ms = st.last_ok_started_ms;
            cli_ds_state_free(&st);
        }
        if (r->scheduled)
            ps_log(PS_LOG_INFO, def->name, "%s", r->sched.text);
        else
            ps_log(PS_LOG_INFO, def->name, "no schedule: the daemon does not run it");
        n++;
    }
    /* Runs of datasets that left the config finish first. */
    for (size_t j = 0; j < d->nds; j++) {
        if (!d->ds[j].name)
            continue;
        if (d->ds[j].pid) {
            t[n] = d->ds[j];
            t[n].removed = 1;
            d->ds[j].name = NULL;
            d->ds[j].store = NULL;
            ps_log(PS_LOG_INFO, t[n].name, "left the config: its current run may finish");
            n++;
        }
    }
    for (size_t j = 0; j < d->nds; j++)
        dsrun_free(&d->ds[j]);
    free(d->ds);
    d->ds = t;
    d->nds = n;
    return 0;
}

static int store_busy(const daemon_t *d, const dsrun *r)
{
    if (!r->store)
        return 0;
    for (size_t i = 0; i < d->nds; i++)
        if (d->ds[i].pid && d->ds[i].store && strcmp(d->ds[i].store, r->store) == 0)
            return 1;
    return 0;
}

static void start_run(daemon_t *d, dsrun *r, int64_t now)
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
        r->failures++;
        int64_t delay = backoff_ms(d, r->failures);
        r->retry_at = now + delay;
        char db[32];
        ps_duration_format(delay, db, sizeof db);
        ps_log(PS_LOG_ERROR, r->name, "cannot start a run: %s; retry in %s", strerror(errno), db);
        return;
    }
    r->pid = pid;
    r->started_ms = now;
    r->started_mono = ps_monotonic_ms();
    r->term_mono = 0;
    r->killed = 0;
    d->running++;
    ps_log(PS_LOG_INFO, r->name, "run started (pid %ld)%s", (long)pid,
           r->failures ? " - a retry" : "");
}

static void start_due(daemon_t *d, int64_t now)
{
    for (size_t i = 0; i < d->nds && d->running < d->jobs; i++) {
        dsrun *r = &d->ds[i];
        if (next_start(r, now) > now || store_busy(d, r))
            continue;
        start_run(d, r, now);
    }
}

/* Monotonic time at which the run of r must get its next timeout signal, INT64_MAX if none. */
static int64_t run_deadline(const daemon_t *d, const dsrun *r)
{
    if (!r->pid || d->run_timeout_ms == 0 || r->killed)
        return INT64_MAX;
    if (r->term_mono)
        return r->term_mono + d->kill_after_ms;
    return r->started_mono + d->run_timeout_ms;
}

/* Milliseconds until something may start (not while stopping) or a run times out, capped at
 * MAX_SLEEP_MS; -1 (wait for a signal or a child's exit) when stopping with no timeout ahead. */
static int wait_ms(const daemon_t *d, int64_t now, int stopping)
{
    int64_t best = stopping ? INT64_MAX : MAX_SLEEP_MS;
    for (size_t i = 0; i < d->nds && !stopping; i++) {
        const dsrun *r = &d->ds[i];
        int64_t t = next_start(r, now);
        if (t == INT64_MAX)
            continue;
        if (t <= now) /* due but waiting for a job slot or its store: a child exit wakes us */
            continue;
        if (t - now < best)
            best = t - now;
    }
    int64_t mono = ps_monotonic_ms();
    for (size_t i = 0; i < d->nds; i++) {
        int64_t due = run_deadline(d, &d->ds[i]);
        if (due == INT64_MAX)
            continue;
        int64_t left = due > mono ? due - mono : 0;
        if (left < best)
            best = left;
    }
    if (best == INT64_MAX)
        return -1;
    return (int)(best < MAX_SLEEP_MS ? best : MAX_SLEEP_MS);
}

/* Sends SIGTERM to runs past --run-timeout and SIGKILL to their process group once
 * --kill-after has passed since. */
static void enforce_timeouts(daemon_t *d)
{
    int64_t mono = ps_monotonic_ms();
    for (size_t i = 0; i < d->nds; i++) {
        dsrun *r = &d->ds[i];
        if (run_deadline(d, r) > mono)
            continue;
        char el[32];
        if (!r->term_mono) {
            ps_duration_format(d->run_timeout_ms, el, sizeof el);
            r->term_mono = mono;
            if (kill(r->pid, SIGTERM) == 0)
                ps_log(PS_LOG_WARN, r->name,
                       "run still going after the run timeout of %s: SIGTERM sent (pid %ld)", el,
                       (long)r->pid);
        } else {
            ps_duration_format(d->kill_after_ms, el, sizeof el);
            r->killed = 1;
            if (kill(-r->pid, SIGKILL) == 0 || kill(r->pid, SIGKILL) == 0)
                ps_log(PS_LOG_WARN, r->name,
                       "run did not end within %s of its SIGTERM: SIGKILL sent (pid %ld)", el,
                       (long)r->pid);
        }
    }
}

static void finished(daemon_t *d, dsrun *r, int status, int stopping)
{
    int64_t now = ps_now_ms();
    int64_t took = ps_monotonic_ms() - r->started_mono;
    char how[128], el[32];
    cli_describe_wait(status, how, sizeof how);
    if (r->term_mono) {
        char lim[32];
        size_t used = strlen(how);
        ps_duration_format(d->run_timeout_ms, lim, sizeof lim);
        snprintf(how + used, sizeof how - used, " (timed out: run timeout %s)", lim);
    }
    ps_duration_format(took < 0 ? 0 : took, el, sizeof el);
    long pid = (long)r->pid;
    r->pid = 0;
    d->running--;
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
        r->failures = 0;
        r->has_anchor = 1;
        r->anchor_ms = r->started_ms;
        ps_log(PS_LOG_INFO, r->name, "run finished ok in %s (pid %ld)", el, pid);
        if (!stopping && !r->removed && r->scheduled)
            log_time(PS_LOG_INFO, r->name, "next due",
                     ps_schedule_next_due(&r->sched, &r->anchor_ms, now));
        return;
    }
    r->failures++;
    int64_t delay = backoff_ms(d, r->failures);
    r->retry_at = now + delay;
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
        for (size_t i = 0; i < d->nds; i++) {
            if (d->ds[i].pid == pid) {
                finished(d, &d->ds[i], status, stopping);
                break;
            }
        }
    }
}

/* Drops removed datasets whose run has ended. */
static void compact(daemon_t *d)
{
    size_t o = 0;
    for (size_t i = 0; i < d->nds; i++) {
        if (d->ds[i].removed && !d->ds[i].pid) {
            dsrun_free(&d->ds[i]);
            continue;
        }
        d->ds[o++] = d->ds[i];
    }
    d->nds = o;
}

static void reload(daemon_t *d)
{
    ps_config *cfg = NULL;
    ps_error err = {0};
    ps_log(PS_LOG_INFO, COMPONENT, "SIGHUP: reloading %s", d->config_path);
    if (ps_config_load(d->config_path, &cfg, &err) != PS_OK ||
        ps_config_check_schedules(cfg, &err) != PS_OK) {
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
    d.retry_base_ms = 30000;
    d.retry_max_ms = 3600000;
    d.jobs = 4;
    d.run_timeout_ms = 7200000;
    d.kill_after_ms = 30000;
    int c;
    long long v;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (c) {
        case 'b':
            if (parse_int("--retry-base", optarg, 1, 604800, "whole seconds", &v) != 0)
                return PS_EXIT_USAGE;
            d.retry_base_ms = v * 1000;
            break;
        case 'm':
            if (parse_int("--retry-max", optarg, 1, 604800, "whole seconds", &v) != 0)
                return PS_EXIT_USAGE;
            d.retry_max_ms = v * 1000;
            break;
        case 'j':
            if (parse_int("--jobs", optarg, 1, 64, "a number", &v) != 0)
                return PS_EXIT_USAGE;
            d.jobs = (int)v;
            break;
        case 't':
            if (parse_int("--run-timeout", optarg, 0, 604800, "whole seconds", &v) != 0)
                return PS_EXIT_USAGE;
            d.run_timeout_ms = v * 1000;
            break;
        case 'k':
            if (parse_int("--kill-after", optarg, 1, 3600, "whole seconds", &v) != 0)
                return PS_EXIT_USAGE;
            d.kill_after_ms = v * 1000;
            break;
        case 'h':
            return cli_usage(daemon_usage, 1);
        default:
            return cli_usage(daemon_usage, 0);
        }
    }
    if (optind != argc - 1)
        return cli_usage(daemon_usage, 0);
    if (d.retry_max_ms < d.retry_base_ms)
        d.retry_max_ms = d.retry_base_ms;
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
    for (size_t i = 0; i < d.nds; i++)
        nsched += d.ds[i].scheduled;
    char b1[32], b2[32], b3[32] = "none";
    ps_duration_format(d.retry_base_ms, b1, sizeof b1);
    ps_duration_format(d.retry_max_ms, b2, sizeof b2);
    if (d.run_timeout_ms)
        ps_duration_format(d.run_timeout_ms, b3, sizeof b3);
    ps_log(PS_LOG_INFO, COMPONENT,
           "started (pid %ld): %s, %zu of %zu dataset(s) scheduled, jobs %d, retry %s doubling "
           "to %s, run timeout %s",
           (long)getpid(), d.config_path, nsched, d.nds, d.jobs, b1, b2, b3);
    if (nsched == 0)
        ps_log(PS_LOG_WARN, COMPONENT,
               "no dataset has a schedule: nothing will run (add one and send SIGHUP)");

    int stopping = 0;
    for (;;) {
        int64_t now = ps_now_ms();
        if (!stopping)
            start_due(&d, now);
        if (stopping && d.running == 0)
            break;
        struct pollfd pfd = {sigfd, POLLIN, 0};
        int timeout = wait_ms(&d, now, stopping);
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
                ps_log(PS_LOG_INFO, COMPONENT, "stopping: %d run(s) to finish", d.running);
            stopping = 1;
            for (size_t i = 0; i < d.nds; i++)
                if (d.ds[i].pid && kill(d.ds[i].pid, SIGTERM) == 0)
                    ps_log(PS_LOG_INFO, d.ds[i].name, "SIGTERM sent to the run (pid %ld)",
                           (long)d.ds[i].pid);
        }
        if (s.hup && !stopping)
            reload(&d);
        compact(&d);
    }
    ps_log(PS_LOG_INFO, COMPONENT, "stopped");
    for (size_t i = 0; i < d.nds; i++)
        dsrun_free(&d.ds[i]);
    free(d.ds);
    ps_config_free(d.cfg);
    free(d.config_path);
    close(sigfd);
    return PS_EXIT_OK;
}
