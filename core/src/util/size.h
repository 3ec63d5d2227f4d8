/* paysync core: byte sizes as text ("512", "64KiB", "10MB", "1G") and back. */
#ifndef PS_SIZE_H
#define PS_SIZE_H

#include <stddef.h>
#include <stdint.h>

/* Parses a whole number of bytes with an optional unit (case-insensitive, optional spaces
 * between number and unit):
 *   none or B                     bytes
 *   k, Ki, KiB / M, Mi, MiB / G, Gi, GiB / T, Ti, TiB    powers of 1024
 *   kB / MB / GB / TB             powers of 1000
 * so "64k" = "64KiB" = 65536 and "10MB" = 10000000. No sign, no fractions. Returns 0 and
 * *out, or -1 with a reason in why (static text). */
int ps_size_parse(const char *s, int64_t *out, const char **why);

/* Formats bytes with the largest binary unit dividing it exactly: "64MiB", "1500B", "0B".
 * buf >= 32 bytes. The text parses back to the same value. */
void ps_size_format(int64_t bytes, char *buf, size_t cap);

#endif
