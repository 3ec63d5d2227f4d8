/* paysync core: how closely a source's column header suggests a model field, for the
 * onboarding help of discover and validate (`Amount` -> PAYMENT_AMOUNT?, `Meter No` ->
 * METER_ID?). Headers that already name a field exactly are the mapper's job (mapping.h). */
#ifndef PS_FIELD_HINT_H
#define PS_FIELD_HINT_H

#include <stddef.h>

/* A score of at least this makes a suggestion. */
#define PS_FIELD_HINT_MIN 3

/* How well the header (len bytes, any text) suggests field f: 0 when not at all, else higher
 * for closer. The header is cut into words (after header normalisation; brackets, dots, '#'
 * and '/' separate words too) and each word is read through a small table of common synonyms
 * (NO, NUMBER -> ID; DATE, TIME -> TIMESTAMP; AMT, VALUE -> AMOUNT; CLIENT -> CUSTOMER; ...);
 * a word within one typo of a field's word (two for words of 8 letters or more) counts as
 * that word. Each of the field's distinctive words found scores 3 (METER, AMOUNT, CURRENCY,
 * ...), each generic one 1 (ID, NAME, TYPE, PAYMENT), all of them found 1 more; a header
 * sharing only generic words with the field scores 0. */
int ps_field_hint_score(int f, const char *header, size_t len);

#endif
