/* paysync CLI: shared helpers. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "config/file_sinks.h"
#include "model/time_window.h"
#include "model/timestamp.h"
#include "engine/pipeline.h"
#include "util/log.h"
#include "util/outfile.h"
#include "util/pathtext.h"
#include "util/suggest.h"

void cli_error(const char *fmt, ...)
{
    char msg[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    ps_text_sanitize(msg);
    fprintf(stderr, "paysync: %s\n", msg);
}

int cli_usage(const char *text, int asked)
{
    fputs(text, asked ? stdout : stderr);
    return asked ? PS_EXIT_OK : PS_EXIT_USAGE;
}

int cli_exit_for(ps_status st)
{
    switch (st) {
    case PS_OK:
        return PS_EXIT_OK;
    case PS_ERR_USAGE:
    case PS_ERR_CONFIG:
    case PS_ERR_PLUGIN:
        return PS_EXIT_USAGE;
    default:
        return PS_EXIT_FAILED;
    }
}

int cli_registry(char *const *dirs, size_t n, ps_registry **reg)
{
    ps_error err = {0};
    *reg = ps_registry_new();
    if (!*reg) {
        cli_error("out of memory");
        return PS_EXIT_FAILED;
    }
    if (ps_registry_set_path(*reg, dirs, n, &err) != PS_OK) {
        cli_error("%s", err.message);
        ps_registry_free(*reg);
        *reg = NULL;
        return PS_EXIT_USAGE;
    }
    return 0;
}

void cli_warn_config_perms(const ps_config *cfg)
{
    if (cfg->has_secrets_world_readable)
        ps_log(PS_LOG_WARN, NULL,
               "%s holds secrets and is readable by other users; run: chmod o-rwx %s", cfg->path,
               cfg->path);
}

int cli_load(const char *path, ps_config **cfg, ps_registry **reg)
{
    ps_error err = {0};
    *cfg = NULL;
    *reg = NULL;
    if (ps_config_load(path, cfg, &err) != PS_OK) {
        cli_error("%s", err.message);
        return PS_EXIT_USAGE;
    }
    if (ps_file_sinks_check(*cfg, &err) != PS_OK) {
        cli_error("%s", err.message);
        ps_config_free(*cfg);
        *cfg = NULL;
        return PS_EXIT_USAGE;
    }
    cli_warn_config_perms(*cfg);
    int rc = cli_registry((*cfg)->plugin_path, (*cfg)->nplugin_path, reg);
    if (rc != 0) {
        ps_config_free(*cfg);
        *cfg = NULL;
    }
    return rc;
}

int cli_out_open(cli_out *o, const char *path, const char *cmd)
{
    memset(o, 0, sizeof *o);
    o->cmd = cmd;
    if (!path || strcmp(path, "-") == 0) {
        o->f = stdout;
        return 0;
    }
    o->path = path;
    ps_error err = {0};
    o->f = ps_outfile_fopen_temp(path, 0, &o->tmp, &err); /* the folder must exist */
    if (!o->f) {
        cli_error("%s: %s", cmd, err.message);
        return -1;
    }
    return 0;
}

int cli_out_close(cli_out *o, int ok)
{
    int rc = 0;
    if (!o->tmp) {
        if (fflush(o->f) != 0 || ferror(o->f)) {
            cli_error("%s: cannot write to standard output: %s", o->cmd,
                      strerror(errno ? errno : EIO));
            rc = -1;
        }
        return ok ? rc : -1;
    }
    if (ok) {
        ps_error err = {0};
        if (ps_outfile_publish_file(o->f, o->tmp, o->path, NULL, &err) != PS_OK) {
            cli_error("%s: %s", o->cmd, err.message);
            rc = -1;
        }
    } else {
        fclose(o->f);
        unlink(o->tmp);
        rc = -1;
    }
    free(o->tmp);
    o->tmp = NULL;
    return rc;
}

int cli_parse_ds_args(int argc, char **argv, const char *cmd, const char *usage,
                      const char *fmt_default, const struct option *extra, cli_opt_fn on_extra,
                      void *ctx, cli_ds_args *a)
{
    struct option longopts[13] = {{"dataset", required_argument, 0, 'd'},
                                  {"format", required_argument, 0, 'f'},
                                  {"output", required_argument, 0, 'o'},
                                  {"help", no_argument, 0, 'h'}};
    size_t n = 4;
    for (size_t i = 0; extra && extra[i].name && n < 12; i++)
        longopts[n++] = extra[i];
    memset(&longopts[n], 0, sizeof longopts[n]);
    memset(a, 0, sizeof *a);
    a->format = fmt_default;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "d:f:o:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'd':
            a->dataset = optarg;
            break;
        case 'f':
            a->format = optarg;
            break;
        case 'o':
            a->output = optarg;
            break;
        case 'h':
            return cli_usage(usage, 1) == 0 ? -1 : PS_EXIT_USAGE;
        case '?':
        case ':':
            return cli_usage(usage, 0);
        default: {
            int rc = on_extra ? on_extra(ctx, c, optarg) : cli_usage(usage, 0);
            if (rc != 0)
                return rc;
        }
        }
    }
    if (optind != argc - 1)
        return cli_usage(usage, 0);
    a->config = argv[optind];
    if (!a->dataset) {
        cli_error("%s: --dataset NAME is required", cmd);
        return PS_EXIT_USAGE;
    }
    return 0;
}

int cli_load_dataset(const char *path, const char *name, ps_config **cfg, const ps_dataset_def **d)
{
    ps_error err = {0};
    *cfg = NULL;
    *d = NULL;
    if (ps_config_load(path, cfg, &err) != PS_OK) {
        cli_error("%s", err.message);
        return PS_EXIT_USAGE;
    }
    *d = ps_config_dataset(*cfg, name);
    if (*d)
        return 0;
    const ps_config *c = *cfg;
    const char **names = calloc(c->ndatasets + 1, sizeof *names);
    for (size_t i = 0; names && i < c->ndatasets; i++)
        names[i] = c->datasets[i].name;
    const char *s = names ? ps_suggest(name, names, c->ndatasets) : NULL;
    if (s)
        cli_error("%s: unknown dataset '%s' (did you mean '%s'?)", PS_SHOWN(c->path),
                  PS_SHOWN(name), s);
    else
        cli_error("%s: unknown dataset '%s'", PS_SHOWN(c->path), PS_SHOWN(name));
    free(names);
    ps_config_free(*cfg);
    *cfg = NULL;
    return PS_EXIT_USAGE;
}

/* Parses an ISO time (model/time_window.h, the rule serve's FROM/TO follow too); *unit_ms is
 * how far the bound reaches as a --to. */
static int parse_bound(const char *opt, const char *text, int64_t *out, int64_t *unit_ms)
{
    int rc = ps_time_window_bound(text, strlen(text), out, unit_ms);
    if (rc != PS_TIME_OK) {
        cli_error("%s '%s': %s; expected ISO 8601 such as 2024-03-05 or 2024-03-05T14:16:01Z", opt,
                  text, rc == PS_TIME_RANGE ? "no such date or time" : "not a time");
        return -1;
    }
    return 0;
}

int cli_parse_window(const char *cmd, const char *from, const char *to, ps_store_query *q)
{
    int64_t unit = 1, to_ms = INT64_MAX;
    q->unbounded = !from && !to;
    q->from_ms = INT64_MIN;
    q->to_ms = INT64_MAX;
    if ((from && parse_bound("--from", from, &q->from_ms, &unit) != 0) ||
        (to && parse_bound("--to", to, &to_ms, &unit) != 0))
        return -1;
    if (!to)
        return 0;
    if (ps_time_window_close(q->from_ms, to_ms, unit, &q->to_ms) != 0) {
        cli_error("%s: %s (--from %s, --to %s)", cmd, ps_time_window_order_message(), from, to);
        return -1;
    }
    return 0;
}

void cli_print_values(const char *field, const char *column, const char *note,
                      const struct ps_value_counts *vc)
{
    if (!column[0])
        return;
    char col[256], vals[2048] = "(no rows)";
    snprintf(col, sizeof col, "%s", column);
    char *via = strstr(col, PS_STATUS_VIA_EXTRACT);
    if (via)
        *via = '\0';
    if (vc)
        ps_value_counts_format(vc, PS_VALUES_SHOWN, vals, sizeof vals);
    ps_text_sanitize(col);
    ps_text_sanitize(vals);
    printf("%s values (column '%s'%s%s%s): %s\n", field, col, via ? PS_STATUS_VIA_EXTRACT : "",
           note ? ", " : "", note ? note : "", vals);
}
