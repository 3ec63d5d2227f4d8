/* Unit tests of the s3 sink's Signature V4 signer against AWS's published examples (the S3
 * "Signature Calculations for the Authorization Header" GET and PUT examples and the
 * aws-sig-v4-test-suite "get-vanilla" case), its URI encoding and its bounded XML reader. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "../../../plugins/s3/s3_sigv4.h"
#include "../../../plugins/s3/s3_xml.h"

#define EMPTY_SHA "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define DOC_SECRET "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"

static void test_sha256_empty(void **state)
{
    (void)state;
    char hex[65];
    s3_sha256_hex("", 0, hex);
    assert_string_equal(hex, EMPTY_SHA);
}

/* S3 docs: GET /test.txt with Range: bytes=0-9 from examplebucket, 2013-05-24. */
static void test_s3_doc_get_object(void **state)
{
    (void)state;
    s3_sig_header h[] = {{"host", "examplebucket.s3.amazonaws.com"},
                         {"range", "bytes=0-9"},
                         {"x-amz-content-sha256", EMPTY_SHA},
                         {"x-amz-date", "20130524T000000Z"}};
    s3_sig_request r = {.method = "GET",
                        .uri = "/test.txt",
                        .query = "",
                        .headers = h,
                        .nheaders = 4,
                        .payload_hash = EMPTY_SHA,
                        .amz_date = "20130524T000000Z",
                        .region = "us-east-1",
                        .service = "s3",
                        .access_key = "AKIAIOSFODNN7EXAMPLE",
                        .secret_key = DOC_SECRET};
    char auth[512], sig[65];
    assert_int_equal(s3_sigv4_authorization(&r, auth, sizeof auth, sig), 0);
    assert_string_equal(sig, "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
    assert_string_equal(
        auth, "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/"
              "aws4_request, SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, "
              "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
}

/* S3 docs: PUT /test$file.text ("Welcome to Amazon S3."), reduced redundancy. */
static void test_s3_doc_put_object(void **state)
{
    (void)state;
    const char *body = "Welcome to Amazon S3.";
    char ph[65], uri[64], sig[65], auth[512];
    s3_sha256_hex(body, strlen(body), ph);
    assert_string_equal(ph, "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072");
    assert_int_equal(s3_uri_encode("/test$file.text", 1, uri, sizeof uri), 17);
    assert_string_equal(uri, "/test%24file.text");
    s3_sig_header h[] = {{"date", "Fri, 24 May 2013 00:00:00 GMT"},
                         {"host", "examplebucket.s3.amazonaws.com"},
                         {"x-amz-content-sha256", ph},
                         {"x-amz-date", "20130524T000000Z"},
                         {"x-amz-storage-class", "REDUCED_REDUNDANCY"}};
    s3_sig_request r = {.method = "PUT",
                        .uri = uri,
                        .query = "",
                        .headers = h,
                        .nheaders = 5,
                        .payload_hash = ph,
                        .amz_date = "20130524T000000Z",
                        .region = "us-east-1",
                        .service = "s3",
                        .access_key = "AKIAIOSFODNN7EXAMPLE",
                        .secret_key = DOC_SECRET};
    assert_int_equal(s3_sigv4_authorization(&r, auth, sizeof auth, sig), 0);
    assert_string_equal(sig, "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd");
}

/* aws-sig-v4-test-suite get-vanilla (service "service"). */
static void test_suite_get_vanilla(void **state)
{
    (void)state;
    s3_sig_header h[] = {{"host", "example.amazonaws.com"}, {"x-amz-date", "20150830T123600Z"}};
    s3_sig_request r = {.method = "GET",
                        .uri = "/",
                        .query = "",
                        .headers = h,
                        .nheaders = 2,
                        .payload_hash = EMPTY_SHA,
                        .amz_date = "20150830T123600Z",
                        .region = "us-east-1",
                        .service = "service",
                        .access_key = "AKIDEXAMPLE",
                        .secret_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"};
    char auth[512], sig[65];
    assert_int_equal(s3_sigv4_authorization(&r, auth, sizeof auth, sig), 0);
    assert_string_equal(sig, "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
}

static void test_refuses_bad_input(void **state)
{
    (void)state;
    s3_sig_header unsorted[] = {{"x-amz-date", "20150830T123600Z"}, {"host", "h"}};
    s3_sig_request r = {.method = "GET",
                        .uri = "/",
                        .query = "",
                        .headers = unsorted,
                        .nheaders = 2,
                        .payload_hash = EMPTY_SHA,
                        .amz_date = "20150830T123600Z",
                        .region = "us-east-1",
                        .service = "s3",
                        .access_key = "A",
                        .secret_key = "S"};
    char auth[512];
    assert_int_equal(s3_sigv4_authorization(&r, auth, sizeof auth, NULL), -1);
    s3_sig_header ok[] = {{"host", "h"}};
    r.headers = ok;
    r.nheaders = 1;
    r.amz_date = "2015-08-30";
    assert_int_equal(s3_sigv4_authorization(&r, auth, sizeof auth, NULL), -1);
    r.amz_date = "20150830T123600Z";
    assert_int_equal(s3_sigv4_authorization(&r, auth, 40, NULL), -1); /* too small */
    assert_int_equal(s3_sigv4_authorization(&r, auth, sizeof auth, NULL), 0);
}

static void test_uri_encode(void **state)
{
    (void)state;
    char out[64];
    assert_int_equal(s3_uri_encode("a b/ü~_-.", 0, out, sizeof out), 18);
    assert_string_equal(out, "a%20b%2F%C3%BC~_-.");
    assert_int_equal(s3_uri_encode("k/v=1&x", 1, out, sizeof out), 11);
    assert_string_equal(out, "k/v%3D1%26x");
    assert_int_equal(s3_uri_encode("abcdef", 1, out, 6), (size_t)-1);
}

static void test_xml_text(void **state)
{
    (void)state;
    const char *b = "<?xml version=\"1.0\"?><Error><Code>NoSuchBucket</Code><Message>The "
                    "bucket &amp; &lt;x&gt;\ndoes not exist</Message></Error>";
    char code[32], msg[64], small[5];
    assert_int_equal(s3_xml_text(b, strlen(b), "Code", code, sizeof code), 1);
    assert_string_equal(code, "NoSuchBucket");
    assert_int_equal(s3_xml_text(b, strlen(b), "Message", msg, sizeof msg), 1);
    assert_string_equal(msg, "The bucket & <x> does not exist");
    assert_int_equal(s3_xml_text(b, strlen(b), "Code", small, sizeof small), 1);
    assert_string_equal(small, "NoSu");
    assert_int_equal(s3_xml_text(b, strlen(b), "UploadId", code, sizeof code), 0);
    assert_string_equal(code, "");
    /* unterminated element, NULL body, element beyond the scanned window */
    assert_int_equal(s3_xml_text("<Code>abc", 9, "Code", code, sizeof code), 0);
    assert_int_equal(s3_xml_text(NULL, 0, "Code", code, sizeof code), 0);
    static char big[S3_XML_SCAN + 64];
    memset(big, ' ', sizeof big);
    memcpy(big + S3_XML_SCAN, "<Code>X</Code>", 14);
    assert_int_equal(s3_xml_text(big, sizeof big, "Code", code, sizeof code), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sha256_empty),      cmocka_unit_test(test_s3_doc_get_object),
        cmocka_unit_test(test_s3_doc_put_object), cmocka_unit_test(test_suite_get_vanilla),
        cmocka_unit_test(test_refuses_bad_input), cmocka_unit_test(test_uri_encode),
        cmocka_unit_test(test_xml_text),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
