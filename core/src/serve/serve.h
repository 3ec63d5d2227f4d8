/* paysync serve: the platform's pull API over the SQLite store (docs/serve.md).
 * GET /api/odyssey/payments, GET /healthz, GET /metrics on libmicrohttpd. */
#ifndef PS_SERVE_H
#define PS_SERVE_H

#include "config/config.h"
#include "paysync/status.h"
#include "serve/serve_config.h"
#include "store/store.h"

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
