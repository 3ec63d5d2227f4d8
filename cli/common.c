/* paysync CLI: shared helpers. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "commands.h"
#include "config/file_sinks.h"
#include "util/log.h"

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
