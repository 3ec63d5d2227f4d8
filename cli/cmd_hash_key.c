/* paysync hash-key: prints the SHA-256 (lower-case hex) of an API key read from stdin. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "commands.h"
#include "serve/serve_auth.h"

static const char usage[] =
    "usage: paysync hash-key < KEYFILE\n"
    "\n"
    "Reads one API key from stdin (one trailing newline is dropped) and prints its SHA-256\n"
    "in lower-case hex, the value to put under serve.keys[].key_sha256. The key itself is\n"
    "never stored in the config. Example:\n"
    "  openssl rand -hex 32 > platform.key && paysync hash-key < platform.key\n";

int cmd_hash_key(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0)
            return cli_usage(usage, 1);
        cli_error("hash-key: unexpected argument '%s' (the key is read from stdin)", argv[i]);
        return cli_usage(usage, 0);
    }
    if (isatty(STDIN_FILENO))
        fputs("paste the key and press Enter:\n", stderr);
    char buf[PS_SERVE_KEY_MAX + 3];
    size_t n = fread(buf, 1, sizeof buf, stdin);
    int rc = PS_EXIT_USAGE;
    if (ferror(stdin)) {
        cli_error("hash-key: cannot read stdin");
        goto out;
    }
    if (n > 0 && buf[n - 1] == '\n') {
        n--;
        if (n > 0 && buf[n - 1] == '\r')
            n--;
    }
    if (n == 0) {
        cli_error("hash-key: no key on stdin");
        goto out;
    }
    if (n > PS_SERVE_KEY_MAX) {
        cli_error("hash-key: the key is longer than %d bytes", PS_SERVE_KEY_MAX);
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)buf[i];
        if (c < 0x21 || c == 0x7f) {
            cli_error("hash-key: the key holds a space or control character at byte %zu; "
                      "a bearer key must be one word of visible characters",
                      i + 1);
            goto out;
        }
    }
    char hex[65];
    if (ps_serve_sha256_hex(buf, n, hex) != 0) {
        cli_error("hash-key: SHA-256 is unavailable");
        rc = PS_EXIT_FAILED;
        goto out;
    }
    printf("%s\n", hex);
    rc = PS_EXIT_OK;
out:
    OPENSSL_cleanse(buf, sizeof buf);
    return rc;
}
