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
    "the header row found, each column and the field it maps to, unmapped columns, required\n"
    "fields without a column, five normalised sample rows (after mapping.extract and\n"
    "mapping.filters) and, when a column maps to STATUS, its values with their counts over up\n"
    "to 100000 rows. Nothing is written.\n"
    "exit: 0, 1 when the source cannot be read or the mapping is incomplete, 2 usage/config\n";

int cmd_discover(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"dataset", required_argument, 0, 'd'}, {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    const char *dataset = NULL;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "d:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'd': dataset = optarg; break;
        case 'h': return cli_usage(discover_usage, 1);
        default: return cli_usage(discover_usage, 0);
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
    printf("time zone:   %s\n", d.info.time_zone ? d.info.time_zone : "(none: UTC unless configured)");
    printf("header row:  %" PRIu64 " (%u columns)\n\n", d.info.header_line, d.info.ncolumns);
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
    printf("\nsample rows (normalised):\n");
    for (size_t i = 0; i < d.nsample; i++)
        printf("  %s\n", d.sample_json[i]);
    if (d.nsample == 0)
        printf("  (none)\n");
    if (d.status_column[0]) {
        char col[sizeof d.status_column], vals[2048];
        snprintf(col, sizeof col, "%s", d.status_column);
        char *via = strstr(col, PS_STATUS_VIA_EXTRACT);
        if (via)
            *via = '\0';
        ps_value_counts_format(&d.status_values, PS_VALUES_SHOWN, vals, sizeof vals);
        ps_text_sanitize(col);
        ps_text_sanitize(vals);
        printf("\nSTATUS values (column '%s'%s, %s %" PRIu64 " rows): %s\n", col,
               via ? PS_STATUS_VIA_EXTRACT : "", d.status_complete ? "all" : "first", d.status_rows,
               d.status_rows ? vals : "(no rows)");
    }
    rc = d.map_ok ? PS_EXIT_OK : PS_EXIT_FAILED;
    ps_discovery_free(&d);
    ps_registry_free(reg);
    ps_config_free(cfg);
    return rc;
}
