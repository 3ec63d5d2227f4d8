/* Fuzz target: the service-account key file parser of plugins/gsheet (gs_jwt.c), and JWT
 * signing with whatever private_key it yields. Invariant: no message ever quotes the key. */
#include <string.h>

#include "../../plugins/gsheet/gs_jwt.h"
#include "fuzz.h"

int PS_FUZZ_ENTRY(const uint8_t *data, size_t size);
int PS_FUZZ_ENTRY(const uint8_t *data, size_t size)
{
    ps_gs_sakey k;
    ps_error err;
    ps_error_clear(&err);
    ps_status st = ps_gs_sakey_parse((const char *)data, size, "service_account_json", &k, &err);
    if (st != PS_OK) {
        PS_FUZZ_CHECK(st == PS_ERR_CONFIG || st == PS_ERR_NOMEM);
        PS_FUZZ_CHECK(err.message[0]);
        PS_FUZZ_CHECK(k.private_key == NULL);
        return 0;
    }
    PS_FUZZ_CHECK(k.client_email && k.private_key && k.token_uri);
    char *jwt = NULL;
    st = ps_gs_jwt_sign(k.private_key, k.client_email, PS_GS_SCOPE, k.token_uri, 1700000000,
                        1700003600, &jwt, &err);
    if (st == PS_OK) {
        PS_FUZZ_CHECK(jwt && strchr(jwt, '.'));
        free(jwt);
    } else {
        PS_FUZZ_CHECK(st == PS_ERR_AUTH || st == PS_ERR_NOMEM);
        if (strlen(k.private_key) >= 16)
            PS_FUZZ_CHECK(strstr(err.message, k.private_key) == NULL);
    }
    ps_gs_sakey_free(&k);
    return 0;
}
