/* paysync serve: settings under `serve:` (limits) and the store served. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "serve/serve.h"
#include "store/store.h"

typedef struct setting {
    const char *name;
    unsigned def, min, max;
    size_t offset;
} setting;

#define OFF(f) offsetof(ps_serve_limits, f)
static const setting settings[] = {
    {"threads", 4, 1, 64, OFF(threads)},
    {"max_connections", 256, 1, 65536, OFF(max_connections)},
    {"max_connections_per_ip", 0, 0, 65536, OFF(max_connections_per_ip)},
    {"connection_timeout", 30, 1, 3600, OFF(connection_timeout)},
    {"max_url_bytes", 4096, 256, 65536, OFF(max_url_bytes)},
    {"max_header_bytes", 16384, 1024, 262144, OFF(max_header_bytes)},
    {"shutdown_timeout", 10, 0, 600, OFF(shutdown_timeout)},
};
#define NSETTINGS (sizeof settings / sizeof settings[0])

static const char valid_list[] =
    "threads, max_connections, max_connections_per_ip, connection_timeout, max_url_bytes, "
    "max_header_bytes, shutdown_timeout, protect_metrics";

static int parse_uint(const char *s, unsigned long *out)
{
    unsigned long v = 0;
    if (!*s)
        return -1;
    for (; *s; s++) {
        if (*s < '0' || *s > '9' || v > 100000000UL)
            return -1;
        v = v * 10 + (unsigned long)(*s - '0');
    }
    *out = v;
    return 0;
}

ps_status ps_serve_limits_parse(const ps_config *cfg, ps_serve_limits *out, ps_error *err)
{
    memset(out, 0, sizeof *out);
    for (size_t i = 0; i < NSETTINGS; i++)
        *(unsigned *)((char *)out + settings[i].offset) = settings[i].def;
    const ps_serve_def *d = &cfg->serve;
    const char *file = cfg->path ? cfg->path : "config";
    for (size_t k = 0; k < d->nlimits; k++) {
        const ps_kv *kv = &d->limits[k];
        if (strcmp(kv->key, "protect_metrics") == 0) {
            const char *v = kv->value ? kv->value : "";
            if (strcmp(v, "true") == 0 || strcmp(v, "yes") == 0)
                out->protect_metrics = 1;
            else if (strcmp(v, "false") == 0 || strcmp(v, "no") == 0)
                out->protect_metrics = 0;
            else
                return ps_error_setf(err, PS_ERR_CONFIG,
                                     "%s:%d:%d: serve.protect_metrics: expected true or false, "
                                     "got '%s'",
                                     file, kv->line, kv->col, v);
            continue;
        }
        const setting *s = NULL;
        for (size_t i = 0; i < NSETTINGS; i++)
            if (strcmp(kv->key, settings[i].name) == 0)
                s = &settings[i];
        if (!s)
            return ps_error_setf(err, PS_ERR_CONFIG,
                                 "%s:%d:%d: serve.%s: unknown setting (valid: listen, store, "
                                 "keys, %s)",
                                 file, kv->line, kv->col, kv->key, valid_list);
        unsigned long v;
        if (!kv->value || parse_uint(kv->value, &v) != 0 || v < s->min || v > s->max)
            return ps_error_setf(err, PS_ERR_CONFIG,
                                 "%s:%d:%d: serve.%s: expected a whole number from %u to %u, "
                                 "got '%s'",
                                 file, kv->line, kv->col, kv->key, s->min, s->max,
                                 kv->value ? kv->value : "");
        *(unsigned *)((char *)out + s->offset) = (unsigned)v;
    }
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
