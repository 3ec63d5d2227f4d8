/* gsheet: turns Google error responses into messages a user can act on. */
#ifndef PS_GS_ERRORS_H
#define PS_GS_ERRORS_H

#include <stddef.h>

#include "paysync/status.h"

typedef enum ps_gs_auth_mode {
    PS_GS_AUTH_API_KEY = 1,
    PS_GS_AUTH_SERVICE_ACCOUNT = 2,
    PS_GS_AUTH_PUBLIC = 3
} ps_gs_auth_mode;

/* What the request was about, for the message. Strings may be NULL. */
typedef struct ps_gs_err_ctx {
    const char *what; /* "reading metadata", "reading 'Tab'!A1:U5000", ... */
    const char *spreadsheet_id;
    const char *client_email; /* service account, or NULL */
    ps_gs_auth_mode mode;
    const char *tab;   /* tab being read, or NULL */
    const char *tabs;  /* "'Sheet1', 'Payments'" or NULL */
    int token_request; /* 1: the response came from the OAuth token endpoint */
    int write;         /* 1: the sheet is written (403 asks for Editor access) */
} ps_gs_err_ctx;

/* 1 when the body looks like an HTML page rather than JSON/CSV. */
int ps_gs_looks_html(const char *content_type, const char *body, size_t len);

/* Writes "STATUS: message" of a Google JSON error body into out (cap bytes, shortened), or ""
 * when the body is not one. */
void ps_gs_error_brief(const char *body, size_t len, char *out, size_t cap);

/* Fills err from a non-2xx response (status, Content-Type, body of len bytes) and returns the
 * status code: PS_ERR_AUTH (401, 403, bad API key, token refused), PS_ERR_SOURCE (404, bad
 * range, other 4xx), PS_ERR_NETWORK (429/5xx after retries). Never retries; never echoes the
 * request URL. The Google message is quoted, shortened. */
ps_status ps_gs_map_error(long status, const char *content_type, const char *body, size_t len,
                          const ps_gs_err_ctx *ctx, ps_error *err);

#endif
