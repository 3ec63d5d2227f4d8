/* paysync core: the host HTTP client on libcurl offered to plugins through ps_host (http_*
 * members). One client per plugin instance: its own curl handle (connection reuse), its
 * timeouts, retry policy (http/retry.h), pacing and secrets (http/redact.h). Backoff and
 * pacing sleep on the core clock (util/clock.h), so tests can fake them. Proxies come from
 * the environment as libcurl reads them (http_proxy, https_proxy, all_proxy, no_proxy; the
 * upper-case forms too except HTTP_PROXY). */
#ifndef PS_HTTP_CLIENT_H
#define PS_HTTP_CLIENT_H

#include "paysync/plugin.h"

/* Creates a client logging through host->log(env, ...). cfg may be NULL (defaults, see
 * ps_http_config in plugin.h). Errors: PS_ERR_CONFIG (unreadable ca_file, negative or
 * inconsistent settings, with a message), PS_ERR_NOMEM or PS_ERR_INTERNAL (libcurl could not
 * start). Returns NULL on error. */
ps_http_client *ps_http_client_new(const ps_host *host, const ps_env *env,
                                   const ps_http_config *cfg, ps_error *err);

/* The same from a plugin's ctx (the host table's http_new). */
ps_http_client *ps_http_client_new_ctx(const ps_plugin_ctx *ctx, const ps_http_config *cfg,
                                       ps_error *err);

/* Frees c (NULL: no-op) and wipes its secrets. */
void ps_http_client_free(ps_http_client *c);

/* See http_add_secret in plugin.h. */
ps_status ps_http_client_add_secret(ps_http_client *c, const char *secret);

/* See http_request in plugin.h. */
ps_status ps_http_client_request(ps_http_client *c, const ps_http_request *req,
                                 ps_http_response *resp, ps_error *err);

/* Frees resp->body and empties resp (retry_after_ms -1). */
void ps_http_response_free(ps_http_response *resp);

/* Scrubs c's secrets out of text in place. */
void ps_http_client_redact(const ps_http_client *c, char *text);

/* Stops every HTTP request of the process, now and later: a request in flight, in its pacing or
 * backoff wait or about to start fails at once (within about a second during a transfer) with
 * PS_ERR_NETWORK "WHAT: cancelled (stopped by SIGTERM)" (sig names the signal: SIGTERM,
 * SIGINT, other = "a signal"), never retried. For `paysync run`'s SIGTERM/SIGINT handler:
 * async-signal-safe (one lock-free atomic store) and thread-safe. 0 lifts the stop (tests). */
void ps_http_stop_all(int sig);

/* Requests sent (attempts) and retries so far; either pointer may be NULL. */
void ps_http_client_stats(const ps_http_client *c, uint64_t *requests, uint64_t *retries);

#endif
