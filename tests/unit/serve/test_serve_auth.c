/* Unit tests: API-key hashing and bearer authentication (core/src/serve/serve_auth.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "serve/serve_auth.h"

/* sha256("test") */
#define TEST_HEX "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"

static void test_sha256_hex(void **state)
{
    (void)state;
    char hex[65];
    assert_int_equal(ps_serve_sha256_hex("test", 4, hex), 0);
    assert_string_equal(hex, TEST_HEX);
    assert_int_equal(ps_serve_sha256_hex("", 0, hex), 0);
    assert_string_equal(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

static void test_hex32(void **state)
{
    (void)state;
    unsigned char h[32];
    assert_int_equal(ps_serve_hex32(TEST_HEX, h), 0);
    assert_int_equal(h[0], 0x9f);
    assert_int_equal(h[31], 0x08);
    char upper[65];
    for (int i = 0; i < 65; i++)
        upper[i] = (char)(TEST_HEX[i] >= 'a' ? TEST_HEX[i] - 32 : TEST_HEX[i]);
    assert_int_equal(ps_serve_hex32(upper, h), 0);
    assert_int_equal(h[0], 0x9f);
    assert_int_equal(ps_serve_hex32(NULL, h), -1);
    assert_int_equal(ps_serve_hex32("9f86", h), -1);
    assert_int_equal(ps_serve_hex32(TEST_HEX "00", h), -1);
    char bad[65];
    memcpy(bad, TEST_HEX, 65);
    bad[63] = 'g';
    assert_int_equal(ps_serve_hex32(bad, h), -1);
}

typedef struct bcase {
    const char *header;
    int rc;
    const char *token;
} bcase;

static void test_bearer(void **state)
{
    (void)state;
    static const bcase cases[] = {
        {"Bearer test", 0, "test"},
        {"bearer test", 0, "test"},
        {"BEARER   test  ", 0, "test"},
        {"Bearer\ttest", 0, "test"},
        {"Bearer a.b-c_d~e+f/g=", 0, "a.b-c_d~e+f/g="},
        {NULL, -1, NULL},
        {"", -1, NULL},
        {"Bearer", -1, NULL},
        {"Bearer ", -1, NULL},
        {"Bearer    ", -1, NULL},
        {"Basic dGVzdDp0ZXN0", -1, NULL},
        {"Bearertest", -1, NULL},
        {"Token test", -1, NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *tok = NULL;
        size_t n = 0;
        int rc = ps_serve_bearer_token(cases[i].header, &tok, &n);
        if (rc != cases[i].rc)
            fail_msg("header '%s': rc %d, expected %d", cases[i].header ? cases[i].header : "NULL",
                     rc, cases[i].rc);
        if (rc == 0) {
            assert_int_equal(n, strlen(cases[i].token));
            assert_memory_equal(tok, cases[i].token, n);
        }
    }
}

static void test_bearer_too_long(void **state)
{
    (void)state;
    static char h[PS_SERVE_KEY_MAX + 16];
    memcpy(h, "Bearer ", 7);
    memset(h + 7, 'k', PS_SERVE_KEY_MAX);
    h[7 + PS_SERVE_KEY_MAX] = '\0';
    const char *tok;
    size_t n;
    assert_int_equal(ps_serve_bearer_token(h, &tok, &n), 0);
    assert_int_equal(n, PS_SERVE_KEY_MAX);
    h[7 + PS_SERVE_KEY_MAX] = 'k';
    h[8 + PS_SERVE_KEY_MAX] = '\0';
    assert_int_equal(ps_serve_bearer_token(h, &tok, &n), -1);
}

static void test_key_match(void **state)
{
    (void)state;
    unsigned char hashes[3][32];
    char hex[65];
    assert_int_equal(ps_serve_sha256_hex("alpha", 5, hex), 0);
    assert_int_equal(ps_serve_hex32(hex, hashes[0]), 0);
    assert_int_equal(ps_serve_hex32(TEST_HEX, hashes[1]), 0);
    assert_int_equal(ps_serve_hex32(TEST_HEX, hashes[2]), 0); /* duplicate: first wins */
    assert_int_equal(ps_serve_key_match("alpha", 5, (const unsigned char(*)[32])hashes, 3), 0);
    assert_int_equal(ps_serve_key_match("test", 4, (const unsigned char(*)[32])hashes, 3), 1);
    assert_int_equal(ps_serve_key_match("tes", 3, (const unsigned char(*)[32])hashes, 3), -1);
    assert_int_equal(ps_serve_key_match("testx", 5, (const unsigned char(*)[32])hashes, 3), -1);
    assert_int_equal(ps_serve_key_match("Test", 4, (const unsigned char(*)[32])hashes, 3), -1);
    /* the hash itself is not a key */
    assert_int_equal(ps_serve_key_match(TEST_HEX, 64, (const unsigned char(*)[32])hashes, 3), -1);
    assert_int_equal(ps_serve_key_match("test", 4, (const unsigned char(*)[32])hashes, 0), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sha256_hex), cmocka_unit_test(test_hex32),
        cmocka_unit_test(test_bearer),     cmocka_unit_test(test_bearer_too_long),
        cmocka_unit_test(test_key_match),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
