/* AWS Signature Version 4 (see s3_sigv4.h). */
#include "s3_sigv4.h"

#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

static void hex_of(const unsigned char *d, size_t n, char *hex)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        hex[2 * i] = digits[d[i] >> 4];
        hex[2 * i + 1] = digits[d[i] & 15];
    }
    hex[2 * n] = '\0';
}

void s3_sha256_hex(const void *data, size_t n, char hex[65])
{
    unsigned char md[SHA256_DIGEST_LENGTH];
    SHA256(data, n, md);
    hex_of(md, sizeof md, hex);
}

static int hmac(const void *key, size_t klen, const char *msg, unsigned char out[32])
{
    unsigned int len = 0;
    return HMAC(EVP_sha256(), key, (int)klen, (const unsigned char *)msg, strlen(msg), out, &len) &&
                   len == 32
               ? 0
               : -1;
}

size_t s3_uri_encode(const char *s, int keep_slash, char *out, size_t cap)
{
    static const char digits[] = "0123456789ABCDEF";
    size_t k = 0;
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        int plain = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '_' || c == '.' || c == '~' || (keep_slash && c == '/');
        if (k + (plain ? 1 : 3) >= cap)
            return (size_t)-1;
        if (plain) {
            out[k++] = (char)c;
        } else {
            out[k++] = '%';
            out[k++] = digits[c >> 4];
            out[k++] = digits[c & 15];
        }
    }
    if (k >= cap)
        return (size_t)-1;
    out[k] = '\0';
    return k;
}

/* Feeds text into the SHA-256 of the canonical request. */
static int put(EVP_MD_CTX *md, const char *s)
{
    return EVP_DigestUpdate(md, s, strlen(s)) == 1 ? 0 : -1;
}

int s3_sigv4_authorization(const s3_sig_request *r, char *out, size_t cap, char sig_hex[65])
{
    if (!r->amz_date || strlen(r->amz_date) != 16 || r->amz_date[8] != 'T')
        return -1;
    for (size_t i = 1; i < r->nheaders; i++)
        if (strcmp(r->headers[i - 1].name, r->headers[i].name) >= 0)
            return -1;
    /* Hash of the canonical request, streamed (the body's hash is already known). */
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    if (!md)
        return -1;
    int bad = EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1;
    bad |= put(md, r->method) | put(md, "\n") | put(md, r->uri) | put(md, "\n") |
           put(md, r->query ? r->query : "") | put(md, "\n");
    for (size_t i = 0; i < r->nheaders; i++)
        bad |= put(md, r->headers[i].name) | put(md, ":") | put(md, r->headers[i].value) |
               put(md, "\n");
    bad |= put(md, "\n");
    for (size_t i = 0; i < r->nheaders; i++)
        bad |= put(md, i ? ";" : "") | put(md, r->headers[i].name);
    bad |= put(md, "\n") | put(md, r->payload_hash);
    unsigned char creq[32];
    unsigned int clen = 0;
    bad |= EVP_DigestFinal_ex(md, creq, &clen) != 1 || clen != 32;
    EVP_MD_CTX_free(md);
    if (bad)
        return -1;
    char creq_hex[65];
    hex_of(creq, 32, creq_hex);

    char day[9];
    memcpy(day, r->amz_date, 8);
    day[8] = '\0';
    char scope[160];
    int n = snprintf(scope, sizeof scope, "%s/%s/%s/aws4_request", day, r->region, r->service);
    if (n < 0 || (size_t)n >= sizeof scope)
        return -1;
    char sts[320];
    n = snprintf(sts, sizeof sts, "AWS4-HMAC-SHA256\n%s\n%s\n%s", r->amz_date, scope, creq_hex);
    if (n < 0 || (size_t)n >= sizeof sts)
        return -1;

    char kstart[256];
    n = snprintf(kstart, sizeof kstart, "AWS4%s", r->secret_key);
    if (n < 0 || (size_t)n >= sizeof kstart)
        return -1;
    unsigned char k1[32], k2[32], k3[32], k4[32], sig[32];
    bad = hmac(kstart, (size_t)n, day, k1) | hmac(k1, 32, r->region, k2) |
          hmac(k2, 32, r->service, k3) | hmac(k3, 32, "aws4_request", k4) | hmac(k4, 32, sts, sig);
    OPENSSL_cleanse(kstart, sizeof kstart);
    OPENSSL_cleanse(k1, 32);
    OPENSSL_cleanse(k2, 32);
    OPENSSL_cleanse(k3, 32);
    OPENSSL_cleanse(k4, 32);
    if (bad)
        return -1;
    char shex[65];
    hex_of(sig, 32, shex);
    if (sig_hex)
        memcpy(sig_hex, shex, 65);

    size_t k = 0;
    n = snprintf(out, cap, "AWS4-HMAC-SHA256 Credential=%s/%s, SignedHeaders=", r->access_key,
                 scope);
    if (n < 0 || (size_t)n >= cap)
        return -1;
    k = (size_t)n;
    for (size_t i = 0; i < r->nheaders; i++) {
        n = snprintf(out + k, cap - k, "%s%s", i ? ";" : "", r->headers[i].name);
        if (n < 0 || (size_t)n >= cap - k)
            return -1;
        k += (size_t)n;
    }
    n = snprintf(out + k, cap - k, ", Signature=%s", shex);
    if (n < 0 || (size_t)n >= cap - k)
        return -1;
    return 0;
}
