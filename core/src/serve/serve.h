/* paysync serve: the platform's pull API over the SQLite store (docs/serve.md).
 * GET /api/odyssey/payments, GET /healthz, GET /metrics on libmicrohttpd. */
#ifndef PS_SERVE_H
#define PS_SERVE_H

#include "config/config.h"
#include "paysync/status.h"
#include "store/store.h"

/* Settings under `serve:` besides listen/store/keys (docs/serve.md "Limits"). */
typedef struct ps_serve_limits {
    unsigned threads;                /* worker threads = store connections kept open */
    unsigned max_connections;        /* open connections at once */
    unsigned max_connections_per_ip; /* 0 = no per-address limit */
    unsigned connection_timeout;     /* seconds of inactivity before a connection is closed */
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

typedef struct ps_server ps_server;

/* Starts serving cfg's store on listen (NULL = serve.listen; "HOST:PORT" or "[V6]:PORT",
 * port 0 = any free port). Copies what it needs from cfg. Errors: PS_ERR_CONFIG (no serve
 * section, no keys, bad listen/limits), PS_ERR_IO (cannot bind). Stop with ps_serve_stop. */
ps_status ps_serve_start(const ps_config *cfg, const char *listen, ps_server **out, ps_error *err);

/* "http://HOST:PORT" actually bound (owned by the server). */
const char *ps_serve_url(const ps_server *s);

/* Stops accepting, lets in-flight requests finish (up to shutdown_timeout), closes and
 * frees everything. NULL is a no-op. */
void ps_serve_stop(ps_server *s);

#endif
