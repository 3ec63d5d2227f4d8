/* paysync serve: the `serve:` settings of a config (docs/serve.md "Limits"). */
#ifndef PS_SERVE_CONFIG_H
#define PS_SERVE_CONFIG_H

#include "config/config.h"
#include "paysync/status.h"
#include "store/store.h"

/* Settings under `serve:` besides listen/store/keys (docs/serve.md "Limits"). */
typedef struct ps_serve_limits {
    unsigned threads;                /* worker threads = store connections kept open */
    unsigned max_connections;        /* open connections at once */
    unsigned max_connections_per_ip; /* 0 = no per-address limit */
    unsigned connection_timeout;     /* seconds of inactivity before a connection is closed */
    unsigned header_timeout_ms;      /* ms to send a whole request line and header section */
    unsigned max_query_params;       /* more query parameters get 400 */
    unsigned max_url_bytes;          /* longer request targets get 414 */
    unsigned max_header_bytes;       /* larger header sections get 431 */
    unsigned shutdown_timeout;       /* seconds in-flight requests get on SIGTERM */
    int protect_metrics;             /* 1: /healthz and /metrics also need a key */
} ps_serve_limits;

/* Fills *out from def->limits over the defaults, checked by the option engine against
 * ps_serve_settings(). Errors (PS_ERR_CONFIG) name file:line:column, the setting, the value
 * and its valid range; unknown settings list the valid ones. */
ps_status ps_serve_limits_parse(const ps_config *cfg, ps_serve_limits *out, ps_error *err);

/* The store served: the one kept by the sink named serve.store (ps_store_locate_sink). Free
 * with ps_store_ref_free. Errors: PS_ERR_CONFIG when the sink is missing or not a store
 * (message names the config and the sink), PS_ERR_NOMEM. */
ps_status ps_serve_store_locate(const ps_config *cfg, ps_store_ref *out, ps_error *err);

/* serve's settings table (name, type, default, bounds), terminated by a NULL name. Static. */
const struct ps_option_spec *ps_serve_settings(void);

#endif
