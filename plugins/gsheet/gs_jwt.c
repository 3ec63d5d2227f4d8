/* gsheet: service-account key parsing and RS256 JWT assertions (OpenSSL). */
#include "gs_jwt.h"

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <stdlib.h>
#include <string.h>

static char *dup_field(json_t *root, const char *name)
{
    json_t *v = json_object_get(root, name);
    if (!json_is_string(v) || json_string_length(v) == 0)
        return NULL;
    return strdup(json_string_value(v));
}

ps_status ps_gs_sakey_parse(const char *json, size_t len, const char *where, ps_gs_sakey *out,
                            ps_error *err)
{
    memset(out, 0, sizeof *out);
    json_error_t jerr;
    json_t *root = json_loadb(json, len, 0, &jerr);
    if (!root || !json_is_object(root)) {
        json_decref(root);
        return ps_error_setf(err, PS_ERR_CONFIG,
                             "%s is not a service-account key: not a JSON object (line %d); "
                             "download the key again (IAM > Service accounts > Keys > Add key "
                             "> JSON)",
                             where, root ? 1 : jerr.line);
    }
    json_t *type = json_object_get(root, "type");
    if (json_is_string(type) && strcmp(json_string_value(type), "service_account") != 0) {
        ps_status st = ps_error_setf(
            err, PS_ERR_CONFIG,
            "%s has type '%.60s', expected 'service_account' (an OAuth client or user "
            "credential cannot be used; create a service-account key)",
            where, json_string_value(type));
        json_decref(root);
        return st;
    }
    out->client_email = dup_field(root, "client_email");
    out->private_key = dup_field(root, "private_key");
    out->token_uri = dup_field(root, "token_uri");
    out->project_id = dup_field(root, "project_id");
    json_decref(root);
    const char *missing = !out->client_email  ? "client_email"
                          : !out->private_key ? "private_key"
                                              : NULL;
    if (missing) {
        ps_gs_sakey_free(out);
        return ps_error_setf(err, PS_ERR_CONFIG, "%s has no '%s': not a service-account key", where,
                             missing);
    }
    if (!out->token_uri)
        out->token_uri = strdup("https://oauth2.googleapis.com/token");
    if (!out->token_uri) {
        ps_gs_sakey_free(out);
        return ps_error_setf(err, PS_ERR_NOMEM, "out of memory");
    }
    return PS_OK;
}

void ps_gs_sakey_free(ps_gs_sakey *k)
{
    if (!k)
        return;
    if (k->private_key) {
        OPENSSL_cleanse(k->private_key, strlen(k->private_key));
        free(k->private_key);
    }
    free(k->client_email);
    free(k->token_uri);
    free(k->project_id);
    memset(k, 0, sizeof *k);
}

char *ps_gs_b64url(const unsigned char *data, size_t len)
{
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    char *out = malloc((len + 2) / 3 * 4 + 1);
    if (!out)
        return NULL;
    size_t p = 0, i = 0;
    for (; i + 2 < len; i += 3) {
        unsigned v = (unsigned)data[i] << 16 | (unsigned)data[i + 1] << 8 | data[i + 2];
        out[p++] = tab[v >> 18 & 63];
        out[p++] = tab[v >> 12 & 63];
        out[p++] = tab[v >> 6 & 63];
        out[p++] = tab[v & 63];
    }
    if (len - i == 1) {
        unsigned v = (unsigned)data[i] << 16;
        out[p++] = tab[v >> 18 & 63];
        out[p++] = tab[v >> 12 & 63];
    } else if (len - i == 2) {
        unsigned v = (unsigned)data[i] << 16 | (unsigned)data[i + 1] << 8;
        out[p++] = tab[v >> 18 & 63];
        out[p++] = tab[v >> 12 & 63];
        out[p++] = tab[v >> 6 & 63];
    }
    out[p] = '\0';
    return out;
}

static char *b64_json(json_t *obj)
{
    char *s = json_dumps(obj, JSON_COMPACT | JSON_PRESERVE_ORDER);
    if (!s)
        return NULL;
    char *b = ps_gs_b64url((const unsigned char *)s, strlen(s));
    free(s);
    return b;
}

ps_status ps_gs_jwt_sign(const char *pem, const char *iss, const char *scope, const char *aud,
                         int64_t iat, int64_t exp, char **out, ps_error *err)
{
    *out = NULL;
    ps_status st = PS_OK;
    char *h64 = NULL, *c64 = NULL, *input = NULL, *sig64 = NULL;
    unsigned char *sig = NULL;
    EVP_PKEY *pkey = NULL;
    EVP_MD_CTX *md = NULL;

    json_t *hdr = json_pack("{s:s, s:s}", "alg", "RS256", "typ", "JWT");
    json_t *cl = json_pack("{s:s, s:s, s:s, s:I, s:I}", "iss", iss, "scope", scope, "aud", aud,
                           "iat", (json_int_t)iat, "exp", (json_int_t)exp);
    if (hdr && cl) {
        h64 = b64_json(hdr);
        c64 = b64_json(cl);
    }
    json_decref(hdr);
    json_decref(cl);
    if (!h64 || !c64) {
        st = ps_error_setf(err, PS_ERR_NOMEM, "out of memory building the JWT");
        goto done;
    }
    size_t ilen = strlen(h64) + 1 + strlen(c64);
    input = malloc(ilen + 1);
    if (!input) {
        st = ps_error_setf(err, PS_ERR_NOMEM, "out of memory building the JWT");
        goto done;
    }
    snprintf(input, ilen + 1, "%s.%s", h64, c64);

    BIO *bio = BIO_new_mem_buf(pem, -1);
    if (bio) {
        pkey = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
        BIO_free(bio);
    }
    if (!pkey || EVP_PKEY_base_id(pkey) != EVP_PKEY_RSA) {
        st = ps_error_setf(err, PS_ERR_AUTH,
                           "the service account's private_key is not a readable RSA PEM key "
                           "(expected '-----BEGIN PRIVATE KEY-----' with \\n escaped in JSON)");
        goto done;
    }
    md = EVP_MD_CTX_new();
    size_t slen = 0;
    if (!md || EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, pkey) != 1 ||
        EVP_DigestSignUpdate(md, input, ilen) != 1 || EVP_DigestSignFinal(md, NULL, &slen) != 1 ||
        !(sig = malloc(slen)) || EVP_DigestSignFinal(md, sig, &slen) != 1) {
        st = ps_error_setf(err, PS_ERR_AUTH, "signing the JWT with the service account key failed");
        goto done;
    }
    sig64 = ps_gs_b64url(sig, slen);
    if (!sig64) {
        st = ps_error_setf(err, PS_ERR_NOMEM, "out of memory building the JWT");
        goto done;
    }
    size_t olen = ilen + 1 + strlen(sig64) + 1;
    *out = malloc(olen);
    if (!*out) {
        st = ps_error_setf(err, PS_ERR_NOMEM, "out of memory building the JWT");
        goto done;
    }
    snprintf(*out, olen, "%s.%s", input, sig64);
done:
    EVP_MD_CTX_free(md);
    EVP_PKEY_free(pkey);
    free(h64);
    free(c64);
    free(input);
    free(sig);
    free(sig64);
    return st;
}
