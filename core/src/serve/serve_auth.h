/* paysync serve: API-key hashing and bearer authentication (docs/serve.md "Keys"). */
#ifndef PS_SERVE_AUTH_H
#define PS_SERVE_AUTH_H

#include <stddef.h>

/* Longest bearer token accepted (bytes). */
#define PS_SERVE_KEY_MAX 4096

/* Writes the lower-case hex SHA-256 of data[0..len) into hex (65 bytes with NUL).
 * Returns 0, or -1 when the digest could not be computed. */
int ps_serve_sha256_hex(const void *data, size_t len, char hex[65]);

/* Decodes 64 hex digits (either case) into 32 bytes. Returns 0, or -1 when not 64 hex digits. */
int ps_serve_hex32(const char *hex, unsigned char out[32]);

/* Extracts the token of an "Authorization: Bearer TOKEN" header value (scheme matched
 * case-insensitively, spaces around the token ignored). Sets *tok / *toklen pointing into
 * header. Returns 0, or -1 when header is NULL, not Bearer, empty or over PS_SERVE_KEY_MAX. */
int ps_serve_bearer_token(const char *header, const char **tok, size_t *toklen);

/* Compares the SHA-256 of token with each of the n 32-byte hashes, every one of them, with
 * CRYPTO_memcmp (no early exit, no timing hint of which key or how much matched).
 * Returns the index of the matching hash, or -1. */
int ps_serve_key_match(const char *token, size_t toklen, const unsigned char (*hashes)[32],
                       size_t n);

#endif
