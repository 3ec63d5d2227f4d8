/* paysync serve: API-key hashing and constant-time bearer authentication. */
#include "serve/serve_auth.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <string.h>

static int sha256(const void *data, size_t len, unsigned char out[32])
{
    unsigned int n = 0;
    if (EVP_Digest(data, len, out, &n, EVP_sha256(), NULL) != 1 || n != 32)
        return -1;
    return 0;
}

int ps_serve_sha256_hex(const void *data, size_t len, char hex[65])
{
    static const char digits[] = "0123456789abcdef";
    unsigned char d[32];
    if (sha256(data, len, d) != 0)
        return -1;
    for (int i = 0; i < 32; i++) {
        hex[2 * i] = digits[d[i] >> 4];
        hex[2 * i + 1] = digits[d[i] & 15];
    }
    hex[64] = '\0';
    return 0;
}

static int nibble(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int ps_serve_hex32(const char *hex, unsigned char out[32])
{
    if (!hex || strlen(hex) != 64)
        return -1;
    for (int i = 0; i < 32; i++) {
        int h = nibble((unsigned char)hex[2 * i]), l = nibble((unsigned char)hex[2 * i + 1]);
        if (h < 0 || l < 0)
            return -1;
        out[i] = (unsigned char)(h * 16 + l);
    }
    return 0;
}

int ps_serve_bearer_token(const char *header, const char **tok, size_t *toklen)
{
    static const char scheme[] = "bearer";
    if (!header)
        return -1;
    for (size_t i = 0; i < sizeof scheme - 1; i++) {
        char c = header[i];
        if (c >= 'A' && c <= 'Z')
            c = (char)(c + 32);
        if (c != scheme[i])
            return -1;
    }
    const char *p = header + sizeof scheme - 1;
    if (*p != ' ' && *p != '\t')
        return -1;
    while (*p == ' ' || *p == '\t')
        p++;
    size_t n = strlen(p);
    while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
        n--;
    if (n == 0 || n > PS_SERVE_KEY_MAX)
        return -1;
    *tok = p;
    *toklen = n;
    return 0;
}

int ps_serve_key_match(const char *token, size_t toklen, const unsigned char (*hashes)[32],
                       size_t n)
{
    unsigned char d[32];
    if (sha256(token, toklen, d) != 0)
        return -1;
    int found = -1;
    for (size_t i = 0; i < n; i++) {
        /* Every hash is compared; the branch-free select keeps the first match. */
        int eq = CRYPTO_memcmp(d, hashes[i], 32) == 0;
        int take = eq & (found < 0);
        found = take ? (int)i : found;
    }
    OPENSSL_cleanse(d, sizeof d);
    return found;
}
