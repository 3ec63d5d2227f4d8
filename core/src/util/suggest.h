/* paysync core: "did you mean" suggestions for misspelt keys and names. */
#ifndef PS_SUGGEST_H
#define PS_SUGGEST_H

#include <stddef.h>

/* The candidate closest to word by edit distance (case-insensitive, transpositions count as
 * one edit) when it is a plausible typo, else NULL. Returns one of candidates (borrowed);
 * NULL entries are skipped; word or candidates NULL gives NULL. */
const char *ps_suggest(const char *word, const char *const *candidates, size_t n);

/* Case-insensitive edit distance (Damerau-Levenshtein, optimal string alignment) between two
 * words; (size_t)-1 when either is longer than 64 bytes. */
size_t ps_edit_distance(const char *a, const char *b);

#endif
