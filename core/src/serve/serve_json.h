/* paysync serve: a growable output buffer and the JSON/Prometheus text writers serve uses. */
#ifndef PS_SERVE_JSON_H
#define PS_SERVE_JSON_H

#include <stddef.h>

#include "serve/serve_store.h"

/* A growable byte buffer. `failed` latches on the first allocation failure; later appends
 * are then no-ops, so callers check it once at the end. */
typedef struct ps_sbuf {
    char *data;
    size_t len, cap;
    int failed;
} ps_sbuf;

void ps_sbuf_append(ps_sbuf *b, const char *s, size_t n);
void ps_sbuf_puts(ps_sbuf *b, const char *s);
void ps_sbuf_printf(ps_sbuf *b, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
/* Appends s as a JSON string with quotes; invalid UTF-8 bytes become U+FFFD. */
void ps_sbuf_json_string(ps_sbuf *b, const char *s);
/* Appends s as a Prometheus label value (escapes \ " and newline), without quotes. */
void ps_sbuf_label(ps_sbuf *b, const char *s);
/* Frees the data and resets b. */
void ps_sbuf_free(ps_sbuf *b);
/* Hands the data over to the caller (malloc'd, NUL-terminated) and resets b; NULL if failed. */
char *ps_sbuf_take(ps_sbuf *b, size_t *len);

/* 1 when s is a JSON number (RFC 8259 grammar). */
int ps_json_is_number(const char *s);

/* Appends the camelCase payment object of row (docs/serve.md "Payment objects"). */
void ps_serve_payment_json(ps_sbuf *b, const ps_store_payment *row);

/* Appends ms since the epoch as seconds with three decimals ("1704096902.000"). */
void ps_sbuf_seconds(ps_sbuf *b, long long ms);

#endif
