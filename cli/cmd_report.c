/* paysync report: the HTML report of datasets from their stores (docs/report.md). */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "report.h"

static const char report_usage[] =
    "usage: paysync report CONFIG [--dataset NAME]... [--from T] [--to T] --output FILE\n"
    "\n"
    "Writes one self-contained HTML file (inline CSS and SVG charts, no script, nothing\n"
    "fetched: readable offline and as an e-mail attachment) from each dataset's store and\n"
    "rejects file: payments and amount per day by currency with the days without payments\n"
    "marked, counts by transaction type, the last runs with their counts, the last successful\n"
    "run's rejected rows by code and by column with the first rejected rows (row, cell such\n"
    "as C17, raw values), warnings by code, unknown_meter counts when verify_meters is set,\n"
    "and the payments it marked vanished or found changed.\n"
    "\n"
    "  --dataset NAME      only this dataset (repeatable; default every dataset)\n"
    "  --from T, --to T    inclusive TIMESTAMP window, ISO 8601 as for export (at most 3660\n"
    "                      days); default: the last 366 days that have payments\n"
    "  --output FILE       the HTML file (replaced atomically; - = standard output)\n"
    "\n"
    "exit: 0 written, 1 a store or rejects file could not be read or the file written,\n"
    "2 usage or configuration error\n";

int cmd_report(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"dataset", required_argument, 0, 'd'}, {"from", required_argument, 0, 'F'},
        {"to", required_argument, 0, 'T'},      {"output", required_argument, 0, 'o'},
        {"help", no_argument, 0, 'h'},          {0, 0, 0, 0}};
    const char **only = calloc((size_t)argc + 1, sizeof *only);
    const char *from = NULL, *to = NULL, *output = NULL;
    size_t nonly = 0;
    int c, rc = -1;
    if (!only) {
        cli_error("out of memory");
        return PS_EXIT_FAILED;
    }
    optind = 1;
    while (rc < 0 && (c = getopt_long(argc, argv, "d:o:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'd':
            only[nonly++] = optarg;
            break;
        case 'F':
            from = optarg;
            break;
        case 'T':
            to = optarg;
            break;
        case 'o':
            output = optarg;
            break;
        case 'h':
            rc = cli_usage(report_usage, 1);
            break;
        default:
            rc = cli_usage(report_usage, 0);
            break;
        }
    }
    if (rc < 0 && optind != argc - 1)
        rc = cli_usage(report_usage, 0);
    if (rc < 0 && !output) {
        cli_error("report: --output FILE is required (- for standard output)");
        rc = PS_EXIT_USAGE;
    }
    if (rc >= 0) {
        free(only);
        return rc;
    }
    ps_config *cfg = NULL;
    ps_error err = {0};
    if (ps_config_load(argv[optind], &cfg, &err) != PS_OK) {
        cli_error("%s", err.message);
        free(only);
        return PS_EXIT_USAGE;
    }
    rc = cli_report_write(cfg, only, nonly, from, to, output, "report");
    ps_config_free(cfg);
    free(only);
    return rc;
}
