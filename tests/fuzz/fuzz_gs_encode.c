/* Fuzz target: sheet URL/ID parsing of plugins/gsheet (gs_encode.c), and the URL redaction
 * and secret scrubbing the host HTTP client applies to gsheet's messages (core/src/http/
 * redact.c). Input: "SECRET\n" then the text. Invariant: scrubbing never leaves the secret in
 * place. */
#include <string.h>

#include "../../plugins/gsheet/gs_encode.h"
#include "http/redact.h"
#include "fuzz.h"

int PS_FUZZ_ENTRY(const uint8_t *data, size_t size);
int PS_FUZZ_ENTRY(const uint8_t *data, size_t size)
{
    const char *nl = memchr(data, '\n', size);
    if (!nl || memchr(data, '\0', size))
        return 0; /* these functions take C strings */
    size_t slen = (size_t)(nl - (const char *)data);
    char *secret = malloc(slen + 1);
    size_t tlen = size - slen - 1;
    char *text = malloc(tlen + 1);
    PS_FUZZ_CHECK(secret && text);
    memcpy(secret, data, slen);
    secret[slen] = '\0';
    memcpy(text, nl + 1, tlen);
    text[tlen] = '\0';

    char id[128];
    int64_t gid = 0;
    int rc = ps_gs_parse_sheet_ref(text, id, sizeof id, &gid);
    PS_FUZZ_CHECK(rc == 0 || rc == -1 || rc == -2);
    if (rc == 0) {
        PS_FUZZ_CHECK(memchr(id, '\0', sizeof id) && id[0]);
        for (const char *p = id; *p; p++)
            PS_FUZZ_CHECK((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
                          (*p >= '0' && *p <= '9') || *p == '_' || *p == '-');
    }
    ps_secrets secrets = {0};
    PS_FUZZ_CHECK(ps_secrets_add(&secrets, secret) == PS_OK);
    char *red = ps_secrets_url(&secrets, text);
    PS_FUZZ_CHECK(red);
    if (slen >= PS_SECRET_MIN_LEN && !strchr(secret, '*'))
        PS_FUZZ_CHECK(strstr(red, secret) == NULL);
    free(red);
    char *enc = ps_gs_pct_encode(text);
    PS_FUZZ_CHECK(enc && strlen(enc) >= tlen);
    free(enc);
    char msg[300];
    snprintf(msg, sizeof msg, "%s", text);
    ps_secrets_scrub(&secrets, msg);
    PS_FUZZ_CHECK(memchr(msg, '\0', sizeof msg));
    if (slen >= PS_SECRET_MIN_LEN && !strchr(secret, '*'))
        PS_FUZZ_CHECK(strstr(msg, secret) == NULL);
    ps_secrets_free(&secrets);
    char letters[8];
    ps_gs_col_letters((uint32_t)tlen * 2654435761u, letters);
    PS_FUZZ_CHECK(memchr(letters, '\0', sizeof letters));
    free(secret);
    free(text);
    return 0;
}
