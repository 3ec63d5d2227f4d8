/* paysync discover: how a dataset's source maps to the model. */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "engine/mapping.h"
#include "engine/pipeline.h"
#include "model/model_fields.h"
#include "util/log.h"

static const char discover_usage[] =
    "usage: paysync discover CONFIG --dataset NAME\n"
    "\n"
    "Opens the dataset's source and shows what paysync sees: the source (tabs for a sheet),\n"
    "the header row found (csvfile and gsheet find it when header_row is not set), each\n"
    "column and the field it maps to, unmapped columns, required fields without a column;\n"
    "when some are missing, the columns that look like each and a mapping: block to paste\n"
    "into the config; five normalised sample rows (after mapping.extract and\n"
    "mapping.filters) and the values of the STATUS and TRANSACTION_TYPE columns with their\n"
    "counts over up to 100000 rows. Nothing is written.\n"
    "exit: 0, 1 when the source cannot be read or the mapping is incomplete, 2 usage/config\n";

/* 1 when the source's header row was found by the header rule (paysync/header.h): a csvfile
 * or gsheet source without header_row. */
static int header_found(const ps_dataset_def *def)
{
    const char *pl = def->source.plugin;
    if (!pl || (strcmp(pl, "csvfile") != 0 && strcmp(pl, "gsheet") != 0))
        return 0;
    for (size_t i = 0; i < def->source.nopts; i++)
        if (strcmp(def->source.opts[i].key, "header_row") == 0)
            return 0;
    return 1;
}

/* The values line of a field, when a column gives it. */
static void print_values(const ps_discovery *d, const char *field, const char *column,
                         const ps_value_counts *vc)
{
    if (!column[0])
        return;
    char note[80];
    snprintf(note, sizeof note, "%s%s %" PRIu64 " rows", d->values_raw ? "raw cells of " : "",
             d->status_complete ? "all" : "first", d->status_rows);
    if (field[0] == 'S' || !d->status_column[0])
        putchar('\n');
    cli_print_values(field, column, note, d->status_rows ? vc : NULL);
}

int cmd_discover(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"dataset", required_argument, 0, 'd'}, {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    const char *dataset = NULL;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "d:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'd':
            dataset = optarg;
            break;
        case 'h':
            return cli_usage(discover_usage, 1);
        default:
            return cli_usage(discover_usage, 0);
        }
    }
    if (optind != argc - 1 || !dataset)
        return cli_usage(discover_usage, 0);
    ps_config *cfg;
    ps_registry *reg;
    int rc = cli_load(argv[optind], &cfg, &reg);
    if (rc != 0)
        return rc;
    ps_discovery d;
    ps_error err = {0};
    ps_status st = ps_discover(cfg, reg, dataset, &d, &err);
    if (st != PS_OK) {
        cli_error("dataset '%s': %s", dataset, err.message);
        ps_discovery_free(&d);
        ps_registry_free(reg);
        ps_config_free(cfg);
        return cli_exit_for(st) == PS_EXIT_USAGE ? PS_EXIT_USAGE : PS_EXIT_FAILED;
    }
    const ps_dataset_def *def = ps_config_dataset(cfg, dataset);
    printf("dataset:     %s\n", dataset);
    printf("source:      %s\n", d.info.source_desc ? d.info.source_desc : "(no description)");
    printf("time zone:   %s\n",
           d.info.time_zone ? d.info.time_zone : "(none: UTC unless configured)");
    printf("header row:  %" PRIu64 " (%u columns%s)\n\n", d.info.header_line, d.info.ncolumns,
           header_found(def) ? "; header_row not set: the first of the first 20 rows naming 3 "
                               "fields, else row 1"
                             : "");
    printf("%-6s %-32s %s\n", "COLUMN", "HEADER", "FIELD");
    for (uint32_t i = 0; i < d.info.ncolumns; i++) {
        char letters[8];
        int f = (d.map.col_field && i < d.map.ncols) ? d.map.col_field[i] : -1;
        printf("%-6s %-32s %s\n", ps_column_letters(i, letters), d.info.header[i].text,
               f >= 0 ? ps_field_name(f) : "(unmapped)");
    }
    printf("\nunmapped columns:");
    size_t nun = 0;
    for (uint32_t i = 0; i < d.info.ncolumns; i++) {
        int f = (d.map.col_field && i < d.map.ncols) ? d.map.col_field[i] : -1;
        if (f < 0 && d.info.header[i].len > 0)
            printf("%s '%s'", nun++ ? "," : "", d.info.header[i].text);
    }
    printf("%s\n", nun ? "" : " none");
    printf("required fields without a column:");
    size_t nmiss = 0;
    for (int f = 0; f < PS_FIELD_COUNT; f++) {
        if (!ps_field_required(f, def->profile) || d.map.field_col[f] >= 0)
            continue;
        int has_default = 0;
        for (size_t k = 0; k < def->ndefaults; k++)
            if (ps_field_lookup(def->defaults[k].key, strlen(def->defaults[k].key)) == f)
                has_default = 1;
        printf("%s %s%s", nmiss++ ? "," : "", ps_field_name(f),
               d.extracted[f] ? " (from mapping.extract)"
               : has_default  ? " (default set)"
                              : "");
    }
    printf("%s\n", nmiss ? "" : " none");
    for (size_t i = 0; d.unnamed && i < d.unnamed->ncols; i++) {
        char m[300];
        ps_unnamed_message(d.unnamed, i, m, sizeof m);
        printf("%swarning unnamed_column (in the rows sampled): %s\n", i ? "" : "\n", m);
    }
    if (!d.map_ok)
        printf("\nmapping problem: %s\n", d.map_error);
    if (d.onboard.nmissing > 0) {
        printf("\n");
        ps_onboard_print_missing(stdout, &d.onboard, d.info.header);
        printf("\nmapping for dataset '%s' to paste into %s (it replaces the dataset's "
               "mapping:):\n\n",
               def->name, cfg->path);
        ps_onboard_print_mapping(stdout, def, d.info.header, d.info.ncolumns, &d.onboard,
                                 def->col - 1);
    }
    printf("\nsample rows (normalised):\n");
    for (size_t i = 0; i < d.nsample; i++)
        printf("  %s\n", d.sample_json[i]);
    if (d.nsample == 0)
        printf("  (none)\n");
    print_values(&d, "STATUS", d.status_column, &d.status_values);
    print_values(&d, "TRANSACTION_TYPE", d.txtype_column, &d.txtype_values);
    rc = d.map_ok ? PS_EXIT_OK : PS_EXIT_FAILED;
    ps_discovery_free(&d);
    ps_registry_free(reg);
    ps_config_free(cfg);
    return rc;
}
