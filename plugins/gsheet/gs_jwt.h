/* gsheet: service-account key parsing and RS256 JWT assertions (OpenSSL). */
#ifndef PS_GS_JWT_H
#define PS_GS_JWT_H

#include <stddef.h>
#include <stdint.h>

#include "paysync/status.h"

#define PS_GS_SCOPE "https://www.googleapis.com/auth/spreadsheets.readonly"
/* The scope that may write (the gsheet_writer sink). */
#define PS_GS_SCOPE_WRITE "https://www.googleapis.com/auth/spreadsheets"

/* The fields of a Google service-account key file that the provider uses. All malloc'd. */
typedef struct ps_gs_sakey {
    char *client_email;
    char *private_key; /* PKCS#8 PEM: secret */
    char *token_uri;
    char *project_id; /* may be NULL */
} ps_gs_sakey;

/* Parses key JSON (len bytes). `where` names the source in messages ("service_account_file
 * /x/key.json" or "service_account_json"); messages never quote the key. Errors: PS_ERR_CONFIG
 * (not JSON, type not "service_account", missing client_email/private_key/token_uri). */
ps_status ps_gs_sakey_parse(const char *json, size_t len, const char *where, ps_gs_sakey *out,
                            ps_error *err);

/* Frees the strings (wiping the private key) and zeroes k. NULL is ignored. */
void ps_gs_sakey_free(ps_gs_sakey *k);

/* base64url without padding of len bytes; malloc'd (caller frees), NULL when out of memory. */
char *ps_gs_b64url(const unsigned char *data, size_t len);

/* Builds and signs the JWT assertion {"alg":"RS256","typ":"JWT"}.{iss,scope,aud,iat,exp} with
 * the PEM private key. *out is malloc'd (caller frees; it is a credential). Errors: PS_ERR_AUTH
 * when the key cannot be read or is not RSA, PS_ERR_NOMEM. */
ps_status ps_gs_jwt_sign(const char *pem, const char *iss, const char *scope, const char *aud,
                         int64_t iat, int64_t exp, char **out, ps_error *err);

#endif
