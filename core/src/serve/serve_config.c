/* paysync serve: settings under `serve:` (limits) and the store served. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plugin/options.h"
#include "serve/serve_config.h"
#include "store/store.h"

/* serve's settings, checked by the option engine (plugin/options.h) like plugin options. */
static const ps_option_spec settings[] = {
    {.name = "threads",
     .type = PS_OPT_INT,
     .default_value = "4",
     .flags = PS_OPTF_RANGE,
     .min = 1,
     .max = 64,
     .description = "worker threads = store connections kept open"},
    {.name = "max_connections",
     .type = PS_OPT_INT,
     .default_value = "256",
     .flags = PS_OPTF_RANGE,
     .min = 1,
     .max = 65536,
     .description = "open connections at once"},
    {.name = "max_connections_per_ip",
     .type = PS_OPT_INT,
     .default_value = "16",
     .flags = PS_OPTF_RANGE,
     .min = 0,
     .max = 65536,
     .description = "open connections per client address (0 = no limit)"},
    {.name = "connection_timeout",
     .type = PS_OPT_DURATION,
     .default_value = "10s",
     .flags = PS_OPTF_RANGE | PS_OPTF_PLAIN_SECONDS,
     .min = 1000,
     .max = 3600 * 1000,
     .description = "idle time before a connection is closed (whole seconds, rounded up)"},
    {.name = "header_timeout",
     .type = PS_OPT_DURATION,
     .default_value = "10s",
     .flags = PS_OPTF_RANGE | PS_OPTF_PLAIN_SECONDS,
     .min = 1000,
     .max = 3600 * 1000,
     .description = "time a client gets to send a whole request line and header section"},
    {.name = "max_url_bytes",
     .type = PS_OPT_SIZE,
     .default_value = "4096",
     .flags = PS_OPTF_RANGE,
     .min = 256,
     .max = 65536,
     .description = "longest request target; longer gets 414"},
    {.name = "max_header_bytes",
     .type = PS_OPT_SIZE,
     .default_value = "16384",
     .flags = PS_OPTF_RANGE,
     .min = 1024,
     .max = 262144,
     .description = "largest header section; larger gets 431"},
    {.name = "max_query_params",
     .type = PS_OPT_INT,
     .default_value = "64",
     .flags = PS_OPTF_RANGE,
     .min = 1,
     .max = 1024,
     .description = "query parameters per request; more gets 400"},
    {.name = "shutdown_timeout",
     .type = PS_OPT_DURATION,
     .default_value = "10s",
     .flags = PS_OPTF_RANGE | PS_OPTF_PLAIN_SECONDS,
     .min = 0,
     .max = 600 * 1000,
     .description = "time in-flight requests get on SIGTERM (whole seconds, rounded up)"},
    {.name = "protect_metrics",
     .type = PS_OPT_BOOL,
     .default_value = "false",
     .description = "/healthz and /metrics also need a key"},
    {0},
};

const ps_option_spec *ps_serve_settings(void)
{
    return settings;
}

static unsigned seconds(const ps_options *o, const char *name)
{
    return (unsigned)((ps_options_int(o, name) + 999) / 1000);
}

ps_status ps_serve_limits_parse(const ps_config *cfg, ps_serve_limits *out, ps_error *err)
{
    memset(out, 0, sizeof *out);
    const ps_serve_def *d = &cfg->serve;
    ps_option_source src = {.table = settings,
                            .noun = "setting",
                            .also_valid = "listen, store, keys",
                            .file = cfg->path ? cfg->path : "config",
                            .dir = cfg->dir,
                            .context = "serve"};
    ps_options *o;
    ps_status st = ps_options_parse(&src, d->limits, d->nlimits, &o, err);
    if (st != PS_OK)
        return st;
    out->threads = (unsigned)ps_options_int(o, "threads");
    out->max_connections = (unsigned)ps_options_int(o, "max_connections");
    out->max_connections_per_ip = (unsigned)ps_options_int(o, "max_connections_per_ip");
    out->connection_timeout = seconds(o, "connection_timeout");
    out->header_timeout_ms = (unsigned)ps_options_int(o, "header_timeout");
    out->max_query_params = (unsigned)ps_options_int(o, "max_query_params");
    out->max_url_bytes = (unsigned)ps_options_int(o, "max_url_bytes");
    out->max_header_bytes = (unsigned)ps_options_int(o, "max_header_bytes");
    out->shutdown_timeout = seconds(o, "shutdown_timeout");
    out->protect_metrics = ps_options_bool(o, "protect_metrics");
    ps_options_free(o);
    return PS_OK;
}

ps_status ps_serve_store_locate(const ps_config *cfg, ps_store_ref *out, ps_error *err)
{
    memset(out, 0, sizeof *out);
    const char *name = cfg->serve.store;
    const ps_sink_def *sink = ps_config_sink(cfg, name);
    if (!sink)
        return ps_error_setf(err, PS_ERR_CONFIG, "%s: serve.store: unknown sink '%s'",
                             cfg->path ? cfg->path : "config", name ? name : "");
    ps_status st = ps_store_locate_sink(cfg, sink, out, err);
    if (st == PS_ERR_CONFIG)
        return ps_error_setf(err, PS_ERR_CONFIG,
                             "%s:%d:%d: serve.store: sink '%s' uses plugin '%s'; serve reads only "
                             "a %s sink",
                             cfg->path ? cfg->path : "config", sink->ref.line, sink->ref.col, name,
                             sink->ref.plugin ? sink->ref.plugin : "?", ps_store_kinds());
    return st;
}
