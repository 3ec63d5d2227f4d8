/* paysync run / check. */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "config/file_sinks.h"
#include "due.h"
#include "util/log.h"
#include "engine/pipeline.h"
#include "http/http_client.h"
#include "report.h"
#include "util/outfile.h"

static volatile sig_atomic_t stop_requested = 0;

/* Stops the run at its next batch and the host's HTTP requests at once: a source waiting on
 * a page, a retry backoff or a stalled transfer fails its batch as cancelled. */
static void on_stop_signal(int sig)
{
    stop_requested = 1;
    ps_http_stop_all(sig);
}

static void install_stop_handlers(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
}

static const char run_usage[] =
    "usage: paysync run CONFIG [--dataset NAME]... [--report FILE] [--html FILE] [--dry-run]\n"
    "                   [--due] [--allow-vanish]\n"
    "\n"
    "Reads each dataset's source, validates every row and writes accepted rows to the\n"
    "dataset's sinks; rejected rows go to the dataset's rejects file. A dataset whose source\n"
    "or sink fails commits nothing and its state does not advance.\n"
    "\n"
    "  --dataset NAME   run only this dataset (repeatable)\n"
    "  --report FILE    write the run summary as JSON (\"-\" = stdout)\n"
    "  --html FILE      then write the HTML report of the datasets run (paysync report)\n"
    "  --dry-run        read and validate only; write nothing\n"
    "  --due            run only the datasets whose schedule is due\n"
    "  --no-progress    no progress line (shown only when standard output and standard\n"
    "                   error are a terminal and without -q: percentage and time left for\n"
    "                   a CSV file or a sheet read through the API, rows/s otherwise)\n"
    "  --allow-vanish   commit even when more stored payments would vanish than the\n"
    "                   dataset's max_vanished allows (default 10 %), or the source has a\n"
    "                   header but no data row (otherwise: failed, vanish_guard)\n"
    "\n"
    "SIGTERM or SIGINT stops the running dataset after its current batch and rolls it back;\n"
    "a source waiting on HTTP (a page, a retry or pacing wait, a stalled answer) is\n"
    "cancelled at once (within about a second). Datasets already committed stay committed.\n"
    "\n"
    "exit: 0 ran, 1 a dataset failed, 2 usage or configuration error\n";

/* 0 when path (an output option's value; NULL or "-" = none or standard output) may be
 * written; else -1 after printing why. */
static int check_target(const char *opt, const char *path)
{
    ps_error err = {0};
    if (!path || strcmp(path, "-") == 0 || ps_outfile_check_target(path, &err) == PS_OK)
        return 0;
    cli_error("%s: %s", opt, err.message);
    return -1;
}

int cmd_run(int argc, char **argv)
{
    static const struct option longopts[] = {{"dataset", required_argument, 0, 'd'},
                                             {"report", required_argument, 0, 'r'},
                                             {"html", required_argument, 0, 'H'},
                                             {"dry-run", no_argument, 0, 'n'},
                                             {"due", no_argument, 0, 'D'},
                                             {"no-progress", no_argument, 0, 'P'},
                                             {"allow-vanish", no_argument, 0, 'V'},
                                             {"help", no_argument, 0, 'h'},
                                             {0, 0, 0, 0}};
    char **only = calloc((size_t)argc + 1, sizeof *only);
    size_t nonly = 0;
    const char *report = NULL, *html = NULL;
    int dry = 0, due = 0, progress = 1, allow_vanish = 0, c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "d:r:nh", longopts, NULL)) != -1) {
        switch (c) {
        case 'd': only[nonly++] = optarg; break;
        case 'r': report = optarg; break;
        case 'H': html = optarg; break;
        case 'n': dry = 1; break;
        case 'D': due = 1; break;
        case 'P': progress = 0; break;
        case 'V': allow_vanish = 1; break;
        case 'h': free(only); return cli_usage(run_usage, 1);
        default: free(only); return cli_usage(run_usage, 0);
        }
    }
    if (optind != argc - 1) {
        free(only);
        return cli_usage(run_usage, 0);
    }
    if (html && dry) {
        cli_error("--html cannot be used with --dry-run: a dry run records nothing to report");
        free(only);
        return PS_EXIT_USAGE;
    }
    /* Refused before anything runs: a device, FIFO, socket or folder is never replaced. */
    if (check_target("--report", report) != 0 || check_target("--html", html) != 0) {
        free(only);
        return PS_EXIT_USAGE;
    }
    ps_config *cfg;
    ps_registry *reg;
    int rc = cli_load(argv[optind], &cfg, &reg);
    if (rc != 0) {
        free(only);
        return rc;
    }
    if (due) {
        rc = cli_due_filter(cfg, &only, &nonly);
        if (rc != 0 || nonly == 0) {
            if (rc == 0)
                ps_log(PS_LOG_INFO, NULL, "no dataset is due");
            free(only);
            ps_registry_free(reg);
            ps_config_free(cfg);
            return rc;
        }
        /* datasets sharing a file sink run together (docs/configuration.md "Shared file
         * sinks"); only has room for every dataset (cli_due_filter) */
        size_t before = nonly;
        if (ps_file_sinks_close_selection(cfg, (const char **)only, &nonly) > 0)
            for (size_t i = before; i < nonly; i++)
                ps_log(PS_LOG_INFO, only[i],
                       "not due, but run with the due datasets it shares a file sink with");
    }
    ps_run_options opt = {.only = only,
                          .nonly = nonly,
                          .dry_run = dry,
                          .progress = progress && isatty(STDERR_FILENO) &&
                                      isatty(STDOUT_FILENO) && ps_log_level() > PS_LOG_ERROR,
                          .stop = &stop_requested,
                          .allow_vanish = allow_vanish};
    install_stop_handlers();
    ps_run_result res;
    ps_error err = {0};
    ps_status st = ps_run(cfg, reg, &opt, &res, &err);
    if (res.count == 0 && st != PS_OK) {
        cli_error("%s", err.message);
    } else {
        ps_run_print_summary(&res, stdout);
        fflush(stdout);
        if (report) {
            ps_error rerr = {0};
            if (ps_run_write_report(&res, report, &rerr) != PS_OK) {
                cli_error("%s", rerr.message);
                if (st == PS_OK)
                    st = PS_ERR_IO;
            }
        }
    }
    if (html && res.count > 0) {
        /* the report of the datasets that ran, whatever their outcome (a failed run shows) */
        const char **names = calloc(res.count + 1, sizeof *names);
        for (size_t i = 0; names && i < res.count; i++)
            names[i] = res.datasets[i].name;
        if (!names || cli_report_write(cfg, names, res.count, NULL, NULL, html, "run --html") != 0)
            if (st == PS_OK)
                st = PS_ERR_IO;
        free(names);
    }
    /* A configuration error found only once the source is open (a filter's column is not in
     * the header) is still a configuration error: exit 2. */
    rc = res.count == 0 || st == PS_ERR_CONFIG ? cli_exit_for(st)
                                               : (st == PS_OK ? PS_EXIT_OK : PS_EXIT_FAILED);
    ps_run_result_free(&res);
    ps_registry_free(reg);
    ps_config_free(cfg);
    free(only);
    return rc;
}

static const char check_usage[] =
    "usage: paysync check CONFIG [--dataset NAME]...\n"
    "\n"
    "Checks the config file, loads every plugin it names, validates their options and runs\n"
    "each plugin's own check (file readable, sheet reachable, credentials accepted).\n"
    "Nothing is read or written. exit: 0 ok, 1 a check failed, 2 config error\n";

int cmd_check(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"dataset", required_argument, 0, 'd'}, {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    char **only = calloc((size_t)argc + 1, sizeof *only);
    size_t nonly = 0;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "d:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'd': only[nonly++] = optarg; break;
        case 'h': free(only); return cli_usage(check_usage, 1);
        default: free(only); return cli_usage(check_usage, 0);
        }
    }
    if (optind != argc - 1) {
        free(only);
        return cli_usage(check_usage, 0);
    }
    ps_config *cfg;
    ps_registry *reg;
    int rc = cli_load(argv[optind], &cfg, &reg);
    if (rc != 0) {
        free(only);
        return rc;
    }
    ps_error err = {0};
    ps_status st = ps_check(cfg, reg, only, nonly, &err);
    if (st != PS_OK)
        cli_error("%s", err.message);
    else
        printf("%s: ok (%zu dataset(s), %zu sink(s))\n", cfg->path,
               nonly ? nonly : cfg->ndatasets, cfg->nsinks);
    ps_registry_free(reg);
    ps_config_free(cfg);
    free(only);
    return cli_exit_for(st);
}
