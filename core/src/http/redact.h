/* paysync core: secrets an HTTP client must never show (header values, query values such
 * as key=...), and scrubbing them out of messages, log lines and URLs. */
#ifndef PS_HTTP_REDACT_H
#define PS_HTTP_REDACT_H

#include <stddef.h>

#include "paysync/status.h"

typedef struct ps_secrets {
    char **items; /* owned, wiped on free */
    size_t n, cap;
} ps_secrets;

/* Secrets shorter than this are not registered: "k" or "ab" cannot be told from ordinary
 * text, and scrubbing them would mangle every message. */
#define PS_SECRET_MIN_LEN 4

/* Adds a copy of secret and, when it differs, its percent-encoded form (as it appears in a
 * URL query). Secrets shorter than PS_SECRET_MIN_LEN and duplicates are ignored. Errors:
 * PS_ERR_NOMEM. */
ps_status ps_secrets_add(ps_secrets *s, const char *secret);

/* Replaces every occurrence of every secret in text (NUL-terminated, in place) by "***":
 * text never grows. */
void ps_secrets_scrub(const ps_secrets *s, char *text);

/* A malloc'd copy of url safe to show: the secrets scrubbed, and the values of query
 * parameters whose name suggests a credential (key, api_key, apikey, access_token, token,
 * password, secret, signature, sig, auth) replaced by "***". NULL when out of memory. */
char *ps_secrets_url(const ps_secrets *s, const char *url);

/* Wipes and frees every secret; s is empty afterwards. */
void ps_secrets_free(ps_secrets *s);

#endif
