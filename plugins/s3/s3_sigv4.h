/* AWS Signature Version 4 for the s3 sink: canonical request, string to sign, signing key and
 * the Authorization header, with OpenSSL's SHA-256 and HMAC-SHA256. Pure functions (no I/O,
 * no clock): the caller passes the time, so the AWS published test vectors can check them. */
#ifndef PS_S3_SIGV4_H
#define PS_S3_SIGV4_H

#include <stddef.h>

/* One header to sign: name in lower case, value trimmed (the caller's strings). */
typedef struct s3_sig_header {
    const char *name;
    const char *value;
} s3_sig_header;

/* What to sign. uri is the canonical URI (already percent-encoded, "/" kept), query the
 * canonical query string (sorted, encoded; "" for none), headers sorted by name,
 * payload_hash the hex SHA-256 of the body (or "UNSIGNED-PAYLOAD"), amz_date
 * "YYYYMMDDTHHMMSSZ". */
typedef struct s3_sig_request {
    const char *method;
    const char *uri;
    const char *query;
    const s3_sig_header *headers;
    size_t nheaders;
    const char *payload_hash;
    const char *amz_date;
    const char *region;
    const char *service;
    const char *access_key;
    const char *secret_key;
} s3_sig_request;

/* Lower-case hex SHA-256 of data[0..n) into hex (65 bytes with the NUL). */
void s3_sha256_hex(const void *data, size_t n, char hex[65]);

/* The Authorization header value ("AWS4-HMAC-SHA256 Credential=..., SignedHeaders=...,
 * Signature=...") into out (cap bytes). When sig_hex is not NULL it also receives the bare
 * signature (65 bytes). Returns 0, or -1 when out is too small or the input is malformed
 * (headers not sorted, amz_date not 16 characters, OpenSSL failure). */
int s3_sigv4_authorization(const s3_sig_request *r, char *out, size_t cap, char sig_hex[65]);

/* Percent-encodes s as SigV4 wants (unreserved A-Z a-z 0-9 - _ . ~ kept; "/" kept when
 * keep_slash). Returns the length written (NUL added), or (size_t)-1 when cap is too small. */
size_t s3_uri_encode(const char *s, int keep_slash, char *out, size_t cap);

#endif
