/* paysync: exact decimal amounts. Money never passes through binary floating point. */
#ifndef PAYSYNC_DECIMAL_H
#define PAYSYNC_DECIMAL_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define PS_DECIMAL_MAX_SCALE 4

/* value = units / 10^scale; scale 0..4 is kept exactly as written ("1500.50" -> 150050, 2). */
typedef struct ps_decimal {
    int64_t units;
    uint8_t scale;
} ps_decimal;

/* Longest text ps_decimal_format writes, NUL included. */
#define PS_DECIMAL_TEXT_MAX 32

#ifdef __cplusplus
}
#endif
#endif
