/* gsheet: authenticated Google requests on the host HTTP client (which paces, retries with
 * backoff and honours Retry-After: docs/plugin-abi.md "Host services"), Google's error
 * answers mapped to messages, and service-account token renewal. */
#ifndef PS_GS_CLIENT_H
#define PS_GS_CLIENT_H

#include <jansson.h>
#include <stdint.h>
#include <stdio.h>

#include "gs_errors.h"
#include "gs_jwt.h"
#include "gs_values.h"
#include "paysync/plugin.h"

typedef struct ps_gs_client {
    const ps_host *host;
    const ps_env *env;
    ps_http_client *http; /* the host's client: pacing, retries, secrets */
    ps_gs_auth_mode mode;
    char *api_key;           /* secret; API-key mode */
    ps_gs_sakey sa;          /* service-account mode */
    char *token_url;         /* service-account mode */
    char *token;             /* secret; cached access token */
    int64_t token_expiry_ms; /* monotonic time to renew at (before the real expiry) */
    ps_gs_err_ctx ectx;      /* spreadsheet ID, tab and tab list for messages */
    const char *scope;       /* OAuth scope of the tokens (static string) */
    unsigned long token_fetches;
    /* Optional: polled by every request, token requests included (ps_http_request.cancelled):
     * nonzero stops the request at once ("WHAT: cancelled"). Lets the thread that owns the
     * instance stop a fetch thread's request (the gsheet provider's prefetch). */
    int (*cancelled)(void *ctx);
    void *cancel_ctx;
} ps_gs_client;

/* Settings for ps_gs_client_init; strings are copied. */
typedef struct ps_gs_client_cfg {
    ps_gs_auth_mode mode;
    const char *api_key;
    const ps_gs_sakey *sa; /* moved into the client (the caller's copy is zeroed) */
    const char *token_url; /* NULL = the key's token_uri */
    long timeout_s;
    int max_retries;
    int requests_per_minute;
    int insecure;
    const char *scope; /* static; NULL = PS_GS_SCOPE (read-only) */
} ps_gs_client_cfg;

/* Sets up c on ctx's host HTTP client (timeout_s per exchange, max_retries + 1 attempts,
 * requests_per_minute pacing, the API key registered as a secret). Errors: those of
 * http_new, PS_ERR_NOMEM. Free with ps_gs_client_free (wipes secrets). */
ps_status ps_gs_client_init(ps_gs_client *c, const ps_plugin_ctx *ctx, const ps_gs_client_cfg *cfg,
                            ps_error *err);
void ps_gs_client_free(ps_gs_client *c);

enum { PS_GS_EXPECT_JSON = 0, PS_GS_EXPECT_CSV = 1 };

/* Called before a retry after a 5xx or a transport error: returns a new malloc'd URL (e.g. a
 * smaller page) or NULL to retry the same one. */
typedef char *(*ps_gs_shrink_fn)(void *ctx);

typedef struct ps_gs_request {
    const char *url;  /* without credentials: the client adds key= or the bearer token */
    const char *what; /* for messages: "reading metadata" */
    int expect;       /* PS_GS_EXPECT_JSON or PS_GS_EXPECT_CSV */
    FILE *file;       /* CSV: the body goes here (truncated before each attempt) */
    int follow;       /* follow redirects */
    ps_gs_shrink_fn shrink;
    void *shrink_ctx;
    /* values reads: when set, a JSON body is parsed into *page (gs_values.h, first_row as its
     * first sheet row) instead of into a jansson tree; invalid JSON is retried as above */
    ps_gs_page *page;
    uint64_t first_row;
    /* when set: POSTed as the body with Content-Type: application/json (writes) */
    const char *post_json;
    size_t post_len;
} ps_gs_request;

/* Performs the request through the host client: paced to requests_per_minute; 429/5xx,
 * transport errors and truncated JSON retried with the host's backoff (honouring
 * Retry-After), never 400/403/404; on 401 renews the service-account token once. For JSON, *json
 * receives the parsed body (caller json_decref), unless r->page is set (then json may be NULL).
 * Errors: the mapped Google error (gs_errors.h), PS_ERR_SOURCE for HTML/CSV content-type problems,
 * PS_ERR_NETWORK when retries ran out. Messages never hold secrets. */
ps_status ps_gs_client_get(ps_gs_client *c, const ps_gs_request *r, json_t **json, ps_error *err);

/* Makes sure a valid access token is cached (service-account mode; no-op otherwise), minting a
 * new JWT when none is cached, force is set, or it expires within 5 minutes (a quarter of
 * its lifetime for short-lived tokens). */
ps_status ps_gs_client_token(ps_gs_client *c, int force, ps_error *err);

#endif
