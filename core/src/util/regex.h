/* paysync core: bounded regular expressions for mapping.filters and mapping.extract.
 * PCRE2 (8-bit, UTF-8 patterns and subjects; invalid UTF-8 in a subject never matches and is
 * never read past its length). Every match runs under fixed match, depth and heap limits so a
 * hostile pattern or cell cannot hang a run: hitting one is PS_REGEX_LIMIT, not a slow match.
 * A compiled regex holds its own match data: use one from one thread at a time. */
#ifndef PS_REGEX_H
#define PS_REGEX_H

#include <stddef.h>
#include <stdint.h>

#include "paysync/status.h"

#define PS_REGEX_MAX_PATTERN 1024    /* bytes of a pattern */
#define PS_REGEX_MATCH_LIMIT 200000  /* PCRE2 match limit (backtracking steps) per match */
#define PS_REGEX_DEPTH_LIMIT 2000    /* PCRE2 backtracking depth */
#define PS_REGEX_HEAP_LIMIT_KIB 4096 /* PCRE2 heap for one match */
#define PS_REGEX_MAX_GROUPS 32       /* capture groups a pattern may have */

typedef struct ps_regex ps_regex;

/* Compiles pattern (PCRE2 syntax). case_insensitive: Unicode caseless matching. Errors
 * (PS_ERR_CONFIG): "invalid regular expression at offset N: REASON", a pattern over
 * PS_REGEX_MAX_PATTERN bytes or with more than PS_REGEX_MAX_GROUPS groups;
 * PS_ERR_NOMEM. Free with ps_regex_free. */
ps_status ps_regex_compile(const char *pattern, int case_insensitive, ps_regex **out,
                           ps_error *err);
void ps_regex_free(ps_regex *re);

/* Number of capture groups. */
uint32_t ps_regex_groups(const ps_regex *re);

/* Named groups: count, and the i-th name (borrowed, valid while re lives) and its number. */
size_t ps_regex_names(const ps_regex *re);
const char *ps_regex_name_at(const ps_regex *re, size_t i, uint32_t *group);

typedef enum ps_regex_result {
    PS_REGEX_NOMATCH = 0,
    PS_REGEX_MATCH = 1,
    PS_REGEX_LIMIT = 2, /* a match, depth or heap limit was hit: undecided */
    PS_REGEX_FAILED = 3 /* any other matching error (e.g. out of memory) */
} ps_regex_result;

/* Searches s (len bytes) for the pattern. On a match, when span is not NULL, span[2*g] and
 * span[2*g+1] get the start and end offsets of group g (0 = whole match) for g < nspan; a
 * group that did not take part gets SIZE_MAX for both. */
ps_regex_result ps_regex_match(ps_regex *re, const char *s, size_t len, size_t *span,
                               uint32_t nspan);

#endif
