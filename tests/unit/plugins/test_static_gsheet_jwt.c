/* Unit tests: gsheet service-account keys and RS256 JWT assertions, checked with OpenSSL
 * against a key generated at test time (never committed). PS_TEST_RSA_KEY_FILE names a PEM key
 * made just before instead (scripts/test-valgrind.sh: generating one under valgrind takes
 * minutes). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "../../../plugins/gsheet/gs_jwt.h"

static EVP_PKEY *g_key;
static char *g_pem;

static char *pem_of(EVP_PKEY *k)
{
    BIO *b = BIO_new(BIO_s_mem());
    assert_non_null(b);
    assert_int_equal(PEM_write_bio_PKCS8PrivateKey(b, k, NULL, NULL, 0, NULL, NULL), 1);
    char *data;
    long n = BIO_get_mem_data(b, &data);
    char *out = malloc((size_t)n + 1);
    memcpy(out, data, (size_t)n);
    out[n] = '\0';
    BIO_free(b);
    return out;
}

static EVP_PKEY *key_from_file(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    EVP_PKEY *k = PEM_read_PrivateKey(f, NULL, NULL, NULL);
    fclose(f);
    return k;
}

static int setup(void **state)
{
    (void)state;
    const char *file = getenv("PS_TEST_RSA_KEY_FILE");
    g_key = file && *file ? key_from_file(file) : EVP_RSA_gen(2048);
    if (!g_key)
        return -1;
    g_pem = pem_of(g_key);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    EVP_PKEY_free(g_key);
    free(g_pem);
    return 0;
}

static unsigned char *b64url_decode(const char *s, size_t n, size_t *outlen)
{
    char *t = calloc(1, n + 4);
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        t[m++] = s[i] == '-' ? '+' : s[i] == '_' ? '/' : s[i];
    while (m % 4)
        t[m++] = '=';
    unsigned char *out = malloc(m);
    int len = EVP_DecodeBlock(out, (const unsigned char *)t, (int)m);
    assert_true(len >= 0);
    size_t pad = 0;
    for (size_t i = m; i > 0 && t[i - 1] == '='; i--)
        pad++;
    *outlen = (size_t)len - pad;
    free(t);
    return out;
}

static json_t *decode_part(const char *s, size_t n)
{
    size_t len;
    unsigned char *raw = b64url_decode(s, n, &len);
    json_t *j = json_loadb((const char *)raw, len, 0, NULL);
    free(raw);
    assert_non_null(j);
    return j;
}

static void test_b64url(void **state)
{
    (void)state;
    static const char *const c[][2] = {
        {"", ""}, {"f", "Zg"}, {"fo", "Zm8"}, {"foo", "Zm9v"}, {"\xfb\xff", "-_8"}};
    for (size_t i = 0; i < sizeof c / sizeof *c; i++) {
        char *s = ps_gs_b64url((const unsigned char *)c[i][0], strlen(c[i][0]));
        assert_string_equal(s, c[i][1]);
        free(s);
    }
}

static void test_sign_and_verify(void **state)
{
    (void)state;
    char *jwt = NULL;
    ps_error err = {0};
    assert_int_equal(ps_gs_jwt_sign(g_pem, "svc@proj.iam.gserviceaccount.com", PS_GS_SCOPE,
                                    "https://oauth2.googleapis.com/token", 1709648161,
                                    1709648161 + 3600, &jwt, &err),
                     PS_OK);
    char *d1 = strchr(jwt, '.');
    assert_non_null(d1);
    char *d2 = strchr(d1 + 1, '.');
    assert_non_null(d2);
    assert_null(strchr(jwt, '='));
    assert_null(strchr(jwt, '+'));

    json_t *h = decode_part(jwt, (size_t)(d1 - jwt));
    assert_string_equal(json_string_value(json_object_get(h, "alg")), "RS256");
    assert_string_equal(json_string_value(json_object_get(h, "typ")), "JWT");
    json_decref(h);
    json_t *c = decode_part(d1 + 1, (size_t)(d2 - d1 - 1));
    assert_string_equal(json_string_value(json_object_get(c, "iss")),
                        "svc@proj.iam.gserviceaccount.com");
    assert_string_equal(json_string_value(json_object_get(c, "scope")),
                        "https://www.googleapis.com/auth/spreadsheets.readonly");
    assert_string_equal(json_string_value(json_object_get(c, "aud")),
                        "https://oauth2.googleapis.com/token");
    assert_int_equal(json_integer_value(json_object_get(c, "iat")), 1709648161);
    assert_int_equal(json_integer_value(json_object_get(c, "exp")), 1709648161 + 3600);
    json_decref(c);

    size_t slen;
    unsigned char *sig = b64url_decode(d2 + 1, strlen(d2 + 1), &slen);
    assert_int_equal(slen, 256);
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    assert_int_equal(EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, g_key), 1);
    assert_int_equal(
        EVP_DigestVerify(md, sig, slen, (const unsigned char *)jwt, (size_t)(d2 - jwt)), 1);
    /* a tampered signing input must not verify */
    EVP_MD_CTX_reset(md);
    jwt[5] ^= 1;
    assert_int_equal(EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, g_key), 1);
    assert_int_not_equal(
        EVP_DigestVerify(md, sig, slen, (const unsigned char *)jwt, (size_t)(d2 - jwt)), 1);
    EVP_MD_CTX_free(md);
    free(sig);
    free(jwt);
}

static void test_bad_keys(void **state)
{
    (void)state;
    char *jwt = (char *)"x";
    ps_error err = {0};
    assert_int_equal(ps_gs_jwt_sign("not a pem", "a", PS_GS_SCOPE, "b", 1, 2, &jwt, &err),
                     PS_ERR_AUTH);
    assert_null(jwt);
    assert_non_null(strstr(err.message, "not a readable RSA PEM key"));

    EVP_PKEY *ec = EVP_EC_gen("P-256");
    assert_non_null(ec);
    char *ecpem = pem_of(ec);
    assert_int_equal(ps_gs_jwt_sign(ecpem, "a", PS_GS_SCOPE, "b", 1, 2, &jwt, &err), PS_ERR_AUTH);
    assert_non_null(strstr(err.message, "RSA"));
    assert_null(strstr(err.message, "BEGIN PRIVATE KEY-----\nMI")); /* never the key itself */
    free(ecpem);
    EVP_PKEY_free(ec);
}

static void test_sakey_parse(void **state)
{
    (void)state;
    ps_gs_sakey k;
    ps_error err = {0};
    const char *good = "{\"type\":\"service_account\",\"project_id\":\"p1\",\"private_key_id\":"
                       "\"abc\",\"private_key\":\"-----BEGIN PRIVATE KEY-----\\nMIIE\\n-----END "
                       "PRIVATE KEY-----\\n\",\"client_email\":\"svc@p1.iam.gserviceaccount.com\","
                       "\"token_uri\":\"https://oauth2.googleapis.com/token\"}";
    assert_int_equal(ps_gs_sakey_parse(good, strlen(good), "key.json", &k, &err), PS_OK);
    assert_string_equal(k.client_email, "svc@p1.iam.gserviceaccount.com");
    assert_string_equal(k.token_uri, "https://oauth2.googleapis.com/token");
    assert_string_equal(k.project_id, "p1");
    assert_non_null(strstr(k.private_key, "\nMIIE\n")); /* \n unescaped by the JSON parser */
    ps_gs_sakey_free(&k);
    assert_null(k.private_key);

    const char *no_uri = "{\"private_key\":\"x\",\"client_email\":\"a@b\"}";
    assert_int_equal(ps_gs_sakey_parse(no_uri, strlen(no_uri), "k", &k, &err), PS_OK);
    assert_string_equal(k.token_uri, "https://oauth2.googleapis.com/token");
    ps_gs_sakey_free(&k);

    static const struct {
        const char *json;
        const char *msg;
    } bad[] = {
        {"not json", "k.json is not a service-account key: not a JSON object"},
        {"[1]", "not a JSON object"},
        {"{\"type\":\"authorized_user\",\"client_id\":\"x\"}", "type 'authorized_user'"},
        {"{\"type\":\"service_account\",\"private_key\":\"SECRETKEY\"}", "has no 'client_email'"},
        {"{\"type\":\"service_account\",\"client_email\":\"a@b\"}", "has no 'private_key'"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        assert_int_equal(ps_gs_sakey_parse(bad[i].json, strlen(bad[i].json), "k.json", &k, &err),
                         PS_ERR_CONFIG);
        assert_non_null(strstr(err.message, bad[i].msg));
        assert_null(strstr(err.message, "SECRETKEY"));
        assert_null(k.private_key);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_b64url),
        cmocka_unit_test(test_sign_and_verify),
        cmocka_unit_test(test_bad_keys),
        cmocka_unit_test(test_sakey_parse),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
