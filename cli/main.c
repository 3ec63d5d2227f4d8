/* paysync CLI entry: global options, then the subcommand. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "util/log.h"

#ifndef PS_VERSION
#define PS_VERSION "0.1.0"
#endif

static const char usage_text[] =
    "usage: paysync [-v|-q] [--log-format text|json] COMMAND [ARGS]\n"
    "\n"
    "commands:\n"
    "  run CONFIG [--dataset NAME]... [--report FILE] [--html FILE] [--dry-run] [--due]\n"
    "                       read, validate and write every (or the named) dataset\n"
    "  check CONFIG         check the config, the plugins and each plugin's access\n"
    "  plugins [--json] [--config CONFIG]\n"
    "                       list loadable plugins with kind, version and options\n"
    "  validate FILE.csv [--profile strict] [--config CONFIG --dataset NAME]\n"
    "                       validate a sheet export and print a table of problems\n"
    "  discover CONFIG --dataset NAME\n"
    "                       show tabs, header row, column mapping and sample rows\n"
    "  status CONFIG [--dataset NAME]... [--json]\n"
    "                       last run, outcome, counts and next due time per dataset\n"
    "  export CONFIG --dataset NAME [--from T] [--to T] --format csv|jsonl\n"
    "         [--output FILE] [--include-vanished]\n"
    "                       write stored payments in the platform's upload format\n"
    "  export-rejects CONFIG --dataset NAME [--format csv] [--output FILE]\n"
    "                       the last run's rejected rows with cell and code, for the sheet\n"
    "  report CONFIG [--dataset NAME]... [--from T] [--to T] --output FILE\n"
    "                       one self-contained HTML file: charts, runs, rejects, changes\n"
    "  daemon CONFIG [--retry-base S] [--retry-max S] [--jobs N]\n"
    "                       run datasets as they fall due, each in its own process\n"
    "  serve CONFIG [--listen ADDR:PORT]\n"
    "                       serve the store as the platform's pull API\n"
    "  hash-key             print the SHA-256 of an API key read from stdin\n"
    "  new-plugin NAME --kind provider|sink [--dir DIR]\n"
    "                       write a plugin folder that builds against the SDK\n"
    "  test-plugin PLUGIN [--config CONFIG --dataset NAME|--sink NAME]\n"
    "                       run the conformance checks on one plugin (.so file or name)\n"
    "\n"
    "global options (before or after the command):\n"
    "  -v, --verbose        more log output (repeat for debug)\n"
    "  -q, --quiet          errors only\n"
    "  --log-format FORMAT  text (default) or json\n"
    "  --version            print the version\n"
    "  -h, --help           this help; COMMAND --help for a command's\n"
    "\n"
    "exit codes: 0 ran (rejected rows are data, not failure), 1 a dataset failed,\n"
    "2 usage or configuration error. See paysync(1) and docs/.\n";

typedef struct command {
    const char *name;
    int (*fn)(int, char **);
} command;

static const command commands[] = {
    {"run", cmd_run},
    {"check", cmd_check},
    {"plugins", cmd_plugins},
    {"validate", cmd_validate},
    {"discover", cmd_discover},
    {"status", cmd_status},
    {"export", cmd_export},
    {"export-rejects", cmd_export_rejects},
    {"report", cmd_report},
    {"daemon", cmd_daemon},
    {"serve", cmd_serve},
    {"hash-key", cmd_hash_key},
    {"test-plugin", cmd_test_plugin},
    {"new-plugin", cmd_new_plugin},
};

/* Every command's standard output is checked at the end: a write that failed (a full disk,
 * /dev/full, a closed pipe) makes a successful command exit 1, whatever the output's size. */
static int stdout_checked(int rc)
{
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "paysync: cannot write to standard output: %s\n",
                strerror(errno ? errno : EIO));
        return rc == PS_EXIT_OK ? PS_EXIT_FAILED : rc;
    }
    return rc;
}

int main(int argc, char **argv)
{
    int level = PS_LOG_INFO, json = 0;
    /* Strip global options wherever they stand (until "--"). */
    int out = 1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--") == 0) {
            for (; i < argc; i++)
                argv[out++] = argv[i];
            break;
        }
        if (strcmp(a, "-v") == 0 || strcmp(a, "--verbose") == 0) {
            level = level < PS_LOG_DEBUG ? level + 1 : level;
        } else if (strcmp(a, "-vv") == 0) {
            level = PS_LOG_DEBUG;
        } else if (strcmp(a, "-q") == 0 || strcmp(a, "--quiet") == 0) {
            level = PS_LOG_ERROR;
        } else if (strcmp(a, "--log-format") == 0 || strncmp(a, "--log-format=", 13) == 0) {
            const char *v = a[12] == '=' ? a + 13 : (i + 1 < argc ? argv[++i] : NULL);
            if (!v || (strcmp(v, "json") != 0 && strcmp(v, "text") != 0)) {
                fprintf(stderr, "paysync: --log-format takes text or json\n");
                return PS_EXIT_USAGE;
            }
            json = strcmp(v, "json") == 0;
        } else {
            argv[out++] = argv[i];
        }
    }
    argc = out;
    argv[argc] = NULL;
    ps_log_configure(level, json);
    if (argc < 2)
        return cli_usage(usage_text, 0);
    if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "version") == 0) {
        printf("paysync %s (plugin ABI %d.%d)\n", PS_VERSION, PS_ABI_MAJOR, PS_ABI_MINOR);
        return stdout_checked(PS_EXIT_OK);
    }
    if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0 ||
        strcmp(argv[1], "help") == 0)
        return cli_usage(usage_text, 1);
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(argv[1], commands[i].name) == 0)
            return stdout_checked(commands[i].fn(argc - 1, argv + 1));
    fprintf(stderr, "paysync: unknown command '%s'\n\n", argv[1]);
    return cli_usage(usage_text, 0);
}
