/* paysync daemon: runs each scheduled dataset as it falls due, each run in its own child
 * process (`paysync run CONFIG --dataset NAME`), with capped exponential backoff after a
 * failure. A run that outlives --run-timeout gets SIGTERM, then SIGKILL (its process group)
 * --kill-after seconds later. SIGTERM/SIGINT: start nothing more, forward SIGTERM to the runs,
 * wait, exit 0.
 * SIGHUP: reload the config (the old one stays on error). Signals reach the loop through a
 * self-pipe (daemon_proc.c); the handlers do nothing else.
 * Many workers (docs/scaling.md): a dataset whose store has leases (postgres) starts only
 * under its lease, taken in the store just before the run, renewed every third of
 * lease_timeout while the run goes on and released when it ends; the newest successful run
 * in the store (any worker's) anchors the schedule, so a window another worker ran is not
 * run again. */
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
#include "store/store.h"
#include "util/clock.h"
#include "util/duration.h"
#include "util/log.h"

static const char daemon_usage[] =
    "usage: paysync daemon CONFIG [--retry-base SECONDS] [--retry-max SECONDS] [--jobs N]\n"
    "                      [--run-timeout SECONDS] [--kill-after SECONDS] [--worker-id ID]\n"
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
    "  --worker-id ID   this worker's name in a postgres store's leases and runs (default\n"
    "                   HOSTNAME:PID); several daemons on one postgres store share the work\n"
    "\n"
    "signals: SIGTERM/SIGINT finish the current runs (each commits or rolls back its batch)\n"
    "and exit 0; SIGHUP reloads CONFIG, keeping the previous one if it is invalid.\n"
    "exit: 0 stopped by a signal, 1 internal failure, 2 usage or configuration error\n";

#define COMPONENT "daemon"

/* The decisions (what is due, backoff, timeouts, sleeps) are the scheduler's
 * (core/src/daemon/scheduler.c); this file spawns, signals, reaps and logs. */
/* A store with leases and this worker's connection for them (opened on first use). */
typedef struct coord_t {
    char *location;
    ps_store_coord *c;
} coord_t;

typedef struct daemon_t {
    char *config_path;
    ps_config *cfg;
    ps_scheduler sch;
    char worker[200];
    coord_t *coords;
    size_t ncoords;
    int64_t next_beat_mono; /* next heartbeat of the leases held; 0 = none held */
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
        /* runs on one store file never overlap; a database server takes runs of different
         * datasets at once (each dataset has its writer lock there) */
        ps_store_ref ref;
        if (cli_state_store(cfg, def, &ref) == 0) {
            if (ps_store_state_location(&ref))
                stores[i] = ref.location;
            else
                ps_store_ref_free(&ref);
        }
        defs[i].store = stores[i];
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

/* The lease connection of dataset name's store: NULL when its store has no leases (or the
 * dataset no store). *err set (code != PS_OK) when it cannot be opened. */
static ps_store_coord *coord_for(daemon_t *d, const char *name, ps_error *err)
{
    const ps_dataset_def *def = ps_config_dataset(d->cfg, name);
    ps_store_ref ref;
    err->code = PS_OK;
    if (!def || cli_state_store(d->cfg, def, &ref) != 0)
        return NULL;
    if (!ref.backend->coord_open) {
        ps_store_ref_free(&ref);
        return NULL;
    }
    for (size_t i = 0; i < d->ncoords; i++)
        if (strcmp(d->coords[i].location, ref.location) == 0) {
            ps_store_ref_free(&ref);
            return d->coords[i].c;
        }
    const ps_sink_def *sink = NULL;
    for (size_t i = 0; i < def->nsinks && !sink; i++) {
        const ps_sink_def *s = ps_config_sink(d->cfg, def->sinks[i]);
        if (s && ps_store_backend_find(s->ref.plugin) == ref.backend)
            sink = s;
    }
    ps_store_coord *c = NULL;
    coord_t *nc = realloc(d->coords, (d->ncoords + 1) * sizeof *nc);
    if (!nc) {
        ps_error_setf(err, PS_ERR_NOMEM, "out of memory");
    } else {
        d->coords = nc;
        if (sink && ps_store_coord_open(d->cfg, sink, d->worker, &c, err) == PS_OK) {
            nc[d->ncoords].location = ref.location;
            nc[d->ncoords++].c = c;
            char lt[32];
            ps_duration_format(ps_store_lease_timeout_ms(c), lt, sizeof lt);
            ps_log(PS_LOG_INFO, COMPONENT,
                   "worker '%s': runs on store '%s' under leases (lease "
                   "timeout %s)",
                   d->worker, sink->name, lt);
            return c;
        }
    }
    ps_store_ref_free(&ref);
    return NULL;
}

/* Takes r's lease before its run when its store has leases. 1: start the run (leased, or no
 * leases); 0: not now (another worker holds it, or ran this window: the scheduler was told). */
static int take_lease(daemon_t *d, ps_sched_entry *r, ps_sched_time now, int *leased)
{
    *leased = 0;
    ps_error err = {0};
    ps_store_coord *c = coord_for(d, r->name, &err);
    if (!c && err.code == PS_OK)
        return 1;
    ps_store_take_result t;
    if (c && ps_store_lease_take(c, r->name, &t, &err) == PS_OK) {
        if (t.has_last_ok)
            ps_scheduler_anchor(r, t.last_ok_ms); /* another worker's run counts */
        int due = ps_sched_next_start(r, now.wall_ms) <= now.wall_ms;
        if (t.taken && due) {
            *leased = 1;
            return 1;
        }
        if (t.taken)
            ps_store_lease_release(c, r->name);
        if (!t.taken) {
            /* ask again soon: the holder may finish (the anchor moves) or die (its lease
             * expires) */
            int64_t again = ps_store_lease_timeout_ms(c) / 10;
            again = again < 500 ? 500 : again > 10000 ? 10000 : again;
            ps_scheduler_defer(r, now.wall_ms + again);
            ps_log(PS_LOG_DEBUG, r->name, "leased by worker '%s': not run here", t.holder);
        } else {
            log_time(PS_LOG_DEBUG, r->name, "another worker ran this window; next due",
                     ps_sched_next_start(r, now.wall_ms));
        }
        return 0;
    }
    int64_t delay = ps_scheduler_start_failed(&d->sch, r, now);
    char db[32];
    ps_duration_format(delay, db, sizeof db);
    ps_log(PS_LOG_ERROR, r->name, "cannot take the lease: %s; retry in %s", err.message, db);
    return 0;
}

static void release_lease(daemon_t *d, const char *name)
{
    ps_error err = {0};
    ps_store_coord *c = coord_for(d, name, &err);
    if (c)
        ps_store_lease_release(c, name);
}

/* Renews the leases of this worker's runs every third of the shortest lease_timeout. */
static void heartbeat(daemon_t *d, ps_sched_time now)
{
    int64_t every = INT64_MAX;
    for (size_t i = 0; i < d->ncoords; i++) {
        int64_t t = ps_store_lease_timeout_ms(d->coords[i].c) / 3;
        every = t < every ? t : every;
    }
    if (d->ncoords == 0 || d->sch.running == 0) {
        d->next_beat_mono = 0;
        return;
    }
    if (d->next_beat_mono && now.mono_ms < d->next_beat_mono)
        return;
    if (d->next_beat_mono) /* the first run just started: its lease is fresh */
        for (size_t i = 0; i < d->ncoords; i++) {
            ps_error err = {0};
            if (ps_store_lease_beat(d->coords[i].c, &err) != PS_OK)
                ps_log(PS_LOG_WARN, COMPONENT, "cannot renew the leases: %s", err.message);
        }
    d->next_beat_mono = now.mono_ms + every;
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
    int leased = 0;
    if (!take_lease(d, r, now, &leased))
        return;
    fflush(NULL);
    pid_t pid = cli_spawn_self(argv, leased);
    if (pid < 0) {
        int e = errno;
        if (leased)
            release_lease(d, r->name);
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
    release_lease(d, r->name);
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
                                             {"worker-id", required_argument, 0, 'w'},
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
        case 'w':
            if (!*optarg || strlen(optarg) >= sizeof d.worker) {
                cli_error("--worker-id '%s': expected 1 to %zu characters", optarg,
                          sizeof d.worker - 1);
                return PS_EXIT_USAGE;
            }
            snprintf(d.worker, sizeof d.worker, "%s", optarg);
            break;
        case 'h':
            return cli_usage(daemon_usage, 1);
        default:
            return cli_usage(daemon_usage, 0);
        }
    }
    if (optind != argc - 1)
        return cli_usage(daemon_usage, 0);
    if (!d.worker[0]) {
        char host[128] = "";
        if (gethostname(host, sizeof host - 1) != 0 || !host[0])
            snprintf(host, sizeof host, "localhost");
        snprintf(d.worker, sizeof d.worker, "%s:%ld", host, (long)getpid());
    }
    setenv("PAYSYNC_WORKER_ID", d.worker, 1); /* the runs record their worker */
    ps_scheduler_init(&d.sch, &pol);          /* raises retry-max to retry-base */
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
           "started (pid %ld, worker '%s'): %s, %zu of %zu dataset(s) scheduled, jobs %d, retry "
           "%s doubling to %s, run timeout %s",
           (long)getpid(), d.worker, d.config_path, nsched, d.sch.n, d.sch.policy.jobs, b1, b2, b3);
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
        heartbeat(&d, now);
        struct pollfd pfd = {sigfd, POLLIN, 0};
        int timeout = (int)ps_scheduler_wait_ms(&d.sch, now, stopping);
        if (d.next_beat_mono) {
            int64_t beat = d.next_beat_mono - now.mono_ms;
            beat = beat < 0 ? 0 : beat;
            if (timeout < 0 || beat < timeout)
                timeout = (int)beat;
        }
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
    for (size_t i = 0; i < d.ncoords; i++) {
        ps_store_coord_close(d.coords[i].c);
        free(d.coords[i].location);
    }
    free(d.coords);
    ps_scheduler_free(&d.sch);
    ps_config_free(d.cfg);
    free(d.config_path);
    close(sigfd);
    return PS_EXIT_OK;
}
