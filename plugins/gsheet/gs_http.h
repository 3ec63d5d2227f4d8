/* gsheet: one HTTP exchange over libcurl (no retries here; see gs_client.h). */
#ifndef PS_GS_HTTP_H
#define PS_GS_HTTP_H

#include <stddef.h>
#include <stdio.h>

#include "paysync/status.h"

typedef struct ps_gs_http ps_gs_http;

/* A response. body is malloc'd and NUL-terminated (empty when the body went to a file). */
typedef struct ps_gs_response {
    long status;
    char content_type[128];
    char *body;
    size_t len;
    long retry_after_s; /* Retry-After in seconds, -1 when absent or not a number */
} ps_gs_response;

/* Creates a client with its own curl handle (keep-alive). timeout_s bounds a whole exchange;
 * insecure disables TLS verification. NULL when out of memory. Thread-safe global init. */
ps_gs_http *ps_gs_http_new(long timeout_s, int insecure);
void ps_gs_http_free(ps_gs_http *h);

/* Performs GET (post_body NULL) or POST (form body) of url. bearer (may be NULL) is sent as
 * "Authorization: Bearer". follow: follow redirects (at most 5). file: when non-NULL, the
 * body of a 200 response is written there instead of memory. Returns PS_OK when any HTTP
 * response arrived (resp filled; free with ps_gs_response_free), PS_ERR_NETWORK on a
 * transport error (timeout, refused, reset, partial body) with err saying what, never the
 * URL's query. */
ps_status ps_gs_http_exchange(ps_gs_http *h, const char *url, const char *bearer,
                              const char *post_body, int follow, FILE *file, ps_gs_response *resp,
                              ps_error *err);

/* Frees resp->body and zeroes resp. */
void ps_gs_response_free(ps_gs_response *resp);

#endif
