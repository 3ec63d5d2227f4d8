/* paysync core: proleptic Gregorian civil-date arithmetic (no validation, no time zones). */
#ifndef PS_MODEL_CIVIL_H
#define PS_MODEL_CIVIL_H

#include <stdint.h>

/* Days since 1970-01-01 for a proleptic Gregorian date; no validation. */
int64_t ps_days_from_civil(int64_t y, unsigned m, unsigned d);
/* Inverse of ps_days_from_civil. */
void ps_civil_from_days(int64_t days, int64_t *y, unsigned *m, unsigned *d);

#endif
