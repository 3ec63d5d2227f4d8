/* paysync core: regular expressions over ASCII digits compiled to a DFA, for the phone
 * pre-check (model/phonefast.h). libphonenumber's number patterns use a small regular subset
 * (digits, classes of digits, \d, groups, '|', '?', '*', '+' and counted repeats), and a
 * table walk of the digits answers what a PCRE2 match answers at a fraction of its cost.
 *
 * Exactness: a pattern is compiled only when every construct in it is in that subset
 * (anything else: NULL, and the caller keeps PCRE2). Such a pattern has no back-references,
 * look-arounds or flags, so "the whole text matches" is plain membership in its regular
 * language, which is what PCRE2's anchored + end-anchored match decides. A prefix match
 * (PCRE2 anchored without end anchor, libphonenumber's Consume) returns the match PCRE2's
 * backtracking finds first, which a DFA cannot reproduce in general; it is the only
 * possible match when no text of the language is a proper prefix of another (the language
 * is prefix-free), so ps_digitre_consume is offered only for such patterns.
 * tests/unit/model/test_digitre.c compares both answers with PCRE2 on every numbering plan.
 *
 * A compiled expression is immutable: any number of threads may match with it at once. */
#ifndef PS_DIGITRE_H
#define PS_DIGITRE_H

#include <stddef.h>

/* Limits: NFA states after expanding counted repeats, DFA states. A larger pattern is not
 * compiled (NULL). */
#define PS_DIGITRE_MAX_NFA 4096
#define PS_DIGITRE_MAX_DFA 4096

typedef struct ps_digitre ps_digitre;

/* Compiles pattern (NUL-terminated). NULL when it uses anything outside the subset above,
 * is malformed, is larger than the limits, or memory runs out. Free with ps_digitre_free
 * (NULL is fine). */
ps_digitre *ps_digitre_compile(const char *pattern);
void ps_digitre_free(ps_digitre *re);

/* 1 when all of s[0..n) matches (PCRE2_ANCHORED | PCRE2_ENDANCHORED), else 0. Any byte
 * other than '0'-'9' makes it 0 (no construct of the subset matches one). */
int ps_digitre_full(const ps_digitre *re, const char *s, size_t n);

/* 1 when no text of re's language is a proper prefix of another one (then
 * ps_digitre_consume is exact), else 0. */
int ps_digitre_prefix_free(const ps_digitre *re);

/* For a prefix-free re: the length of the match at the start of s[0..n) (what PCRE2
 * anchored at the start reports as the match's end), -1 when there is none. */
long ps_digitre_consume(const ps_digitre *re, const char *s, size_t n);

#endif
