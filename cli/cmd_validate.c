/* paysync validate: check a CSV export and print a table of problems. */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "engine/mapping.h"
#include "engine/pipeline.h"
#include "model/model_fields.h"
#include "util/log.h"

static const char validate_usage[] =
    "usage: paysync validate FILE.csv [--profile standard|strict] [--delimiter C]\n"
    "                        [--header-row N] [--config CONFIG --dataset NAME]\n"
    "\n"
    "Validates a CSV export (\"-\" = stdin) against the electricity-payment model and prints\n"
    "one line per problem: row, level, field, cell (column letters and row, e.g. C17), code\n"
    "and message, then the counts and the values of the STATUS and TRANSACTION_TYPE columns.\n"
    "Without --header-row (or the dataset's header_row) the header is the first of the first\n"
    "20 rows naming 3 fields. When required fields have no column, lists them with the\n"
    "columns that look like each and prints a mapping: block to paste into a config.\n"
    "With --config/--dataset the dataset's mapping (column aliases, defaults, timestamp\n"
    "formats, profile) applies.\n"
    "Nothing is written. exit: 0 every row valid, 1 rows rejected or file unreadable,\n"
    "2 usage or configuration error\n";

typedef struct vctx {
    uint64_t problems;
    uint64_t warnings;
    int header_done;
} vctx;

static void on_problem(void *p, const char *dataset, uint64_t row, const ps_problem *pr, int n,
                       int is_warning, const int *field_col)
{
    (void)dataset;
    vctx *c = p;
    if (!c->header_done) {
        printf("%-7s %-8s %-30s %-9s %-26s %s\n", "ROW", "LEVEL", "FIELD", "CELL", "CODE",
               "MESSAGE");
        c->header_done = 1;
    }
    for (int i = 0; i < n; i++) {
        const char *field = pr[i].field >= 0 ? ps_field_name(pr[i].field) : "-";
        char cell[32] = "-", letters[8];
        int col = field_col && pr[i].field >= 0 && pr[i].field < PS_FIELD_COUNT
                      ? field_col[pr[i].field]
                      : -1;
        if (col >= 0)
            snprintf(cell, sizeof cell, "%s%" PRIu64, ps_column_letters((size_t)col, letters), row);
        printf("%-7" PRIu64 " %-8s %-30s %-9s %-26s %s\n", row, is_warning ? "warning" : "error",
               field ? field : "-", cell, pr[i].code ? pr[i].code : "-", pr[i].message);
        if (is_warning)
            c->warnings++;
        else
            c->problems++;
    }
}

/* When the file's header leaves required fields without a column: which, the columns that
 * look like each, and a mapping block (engine/onboard.h), from a discovery of the same file
 * (read again: not for standard input). */
static void onboarding_help(const ps_config *cfg, ps_registry *reg, const ps_dataset_def *ds)
{
    ps_discovery d;
    ps_error err = {0};
    if (ps_discover(cfg, reg, ds->name, &d, &err) == PS_OK && d.onboard.nmissing > 0) {
        printf("\nheader row %" PRIu64 " of %s:\n", d.info.header_line,
               d.info.source_desc ? d.info.source_desc : "the file");
        ps_onboard_print_missing(stdout, &d.onboard, d.info.header);
        printf("\nmapping to paste under the dataset in the config (it replaces its mapping:):"
               "\n\n");
        ps_onboard_print_mapping(stdout, ds, d.info.header, d.info.ncolumns, &d.onboard,
                                 ds->col > 0 ? ds->col - 1 : 4);
    }
    ps_discovery_free(&d);
}

int cmd_validate(int argc, char **argv)
{
    static const struct option longopts[] = {{"profile", required_argument, 0, 'p'},
                                             {"config", required_argument, 0, 'c'},
                                             {"dataset", required_argument, 0, 'd'},
                                             {"delimiter", required_argument, 0, 'D'},
                                             {"header-row", required_argument, 0, 'H'},
                                             {"help", no_argument, 0, 'h'},
                                             {0, 0, 0, 0}};
    const char *profile = NULL, *config = NULL, *dataset = NULL, *delim = NULL, *hrow = NULL;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "p:c:d:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'p':
            profile = optarg;
            break;
        case 'c':
            config = optarg;
            break;
        case 'd':
            dataset = optarg;
            break;
        case 'D':
            delim = optarg;
            break;
        case 'H':
            hrow = optarg;
            break;
        case 'h':
            return cli_usage(validate_usage, 1);
        default:
            return cli_usage(validate_usage, 0);
        }
    }
    if (optind != argc - 1 || (config && !dataset) || (dataset && !config))
        return cli_usage(validate_usage, 0);
    if (profile && strcmp(profile, "standard") != 0 && strcmp(profile, "strict") != 0) {
        cli_error("--profile takes standard or strict, not '%s'", profile);
        return PS_EXIT_USAGE;
    }
    const char *file = argv[optind];
    /* FILE is relative to the working directory, not to the config's folder. */
    char *abs_file = NULL;
    if (file[0] != '/' && strcmp(file, "-") != 0) {
        char cwd[4096];
        if (getcwd(cwd, sizeof cwd)) {
            size_t n = strlen(cwd) + strlen(file) + 2;
            abs_file = malloc(n);
            if (abs_file)
                snprintf(abs_file, n, "%s/%s", cwd, file);
        }
    }
    const char *source_path = abs_file ? abs_file : file;

    ps_config *loaded = NULL;
    ps_registry *reg = NULL;
    int rc = config ? cli_load(config, &loaded, &reg) : cli_registry(NULL, 0, &reg);
    if (rc != 0)
        return rc;
    ps_dataset_def ds;
    memset(&ds, 0, sizeof ds);
    if (loaded) {
        const ps_dataset_def *src = ps_config_dataset(loaded, dataset);
        if (!src) {
            cli_error("%s: no dataset named '%s'", config, dataset);
            ps_registry_free(reg);
            ps_config_free(loaded);
            return PS_EXIT_USAGE;
        }
        ds = *src;
    } else {
        ds.name = (char *)"validate";
        ds.target_level = PS_TARGET_PROJECT;
        ds.target_id = (char *)"-";
    }
    if (profile)
        ds.profile = strcmp(profile, "strict") == 0 ? PS_PROFILE_STRICT : PS_PROFILE_STANDARD;
    /* The dataset's csvfile options (delimiter, header_row...) apply unless overridden. */
    ps_kv opts[16];
    size_t nopts = 0;
    opts[nopts++] =
        (ps_kv){.key = (char *)"path", .value = (char *)source_path, .line = 1, .col = 1};
    if (loaded && strcmp(ds.source.plugin, "csvfile") == 0) {
        for (size_t i = 0; i < ds.source.nopts && nopts < 13; i++) {
            const char *k = ds.source.opts[i].key;
            if (strcmp(k, "path") == 0 || (delim && strcmp(k, "delimiter") == 0) ||
                (hrow && strcmp(k, "header_row") == 0))
                continue;
            opts[nopts++] = ds.source.opts[i];
        }
    }
    if (delim)
        opts[nopts++] =
            (ps_kv){.key = (char *)"delimiter", .value = (char *)delim, .line = 1, .col = 1};
    if (hrow)
        opts[nopts++] =
            (ps_kv){.key = (char *)"header_row", .value = (char *)hrow, .line = 1, .col = 1};
    ds.source = (ps_plugin_ref){
        .plugin = (char *)"csvfile", .opts = opts, .nopts = nopts, .line = 1, .col = 1};
    ds.sinks = NULL;
    ds.nsinks = 0;
    ds.rejects = ds.warnings = NULL;
    ps_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.path = (char *)"(command line)";
    cfg.dir = loaded ? loaded->dir : (char *)".";
    cfg.datasets = &ds;
    cfg.ndatasets = 1;

    vctx ctx = {0};
    ps_run_options opt = {.dry_run = 1, .on_problem = on_problem, .on_problem_ctx = &ctx};
    ps_run_result res;
    ps_error err = {0};
    ps_status st = ps_run(&cfg, reg, &opt, &res, &err);
    if (res.count == 1) {
        const ps_dataset_result *d = &res.datasets[0];
        if (!d->ok)
            cli_error("%s", d->error);
        if (d->ok && !ctx.header_done)
            printf("no problems found\n");
        printf("%s%s: %" PRIu64 " rows read, %" PRIu64 " valid, %" PRIu64 " rejected, %" PRIu64
               " blank, %" PRIu64 " duplicates, %" PRIu64 " filtered, %" PRIu64 " with warnings\n",
               ctx.header_done ? "\n" : "", file, d->read, d->accepted, d->rejected, d->blank,
               d->duplicates, d->filtered, d->warnings);
        if (d->status_values.active)
            cli_print_values("STATUS", d->status_column, NULL, &d->status_values);
        if (d->txtype_values.active)
            cli_print_values("TRANSACTION_TYPE", d->txtype_column, NULL, &d->txtype_values);
        if (!d->ok && strcmp(file, "-") != 0)
            onboarding_help(&cfg, reg, &ds);
        rc = (!d->ok || d->rejected > 0) ? PS_EXIT_FAILED : PS_EXIT_OK;
    } else {
        cli_error("%s", err.message);
        rc = cli_exit_for(st);
    }
    ps_run_result_free(&res);
    ps_registry_free(reg);
    ps_config_free(loaded);
    free(abs_file);
    return rc;
}
