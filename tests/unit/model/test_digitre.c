/* Unit tests: digit regular expressions as DFAs (core/src/model/digitre.h) against PCRE2, the
 * engine the phone pre-check used before and libphonenumber's own regular expressions mean.
 * Every pattern of every single-country numbering plan libphonenumber knows (number types,
 * international prefix, national prefix for parsing) and hand-written edge cases are
 * compiled both ways; for texts that match (built digit by digit with PCRE2's partial
 * matching, so the DFA plays no part in choosing them), their mutations, random digit
 * strings and texts with other bytes, the whole-text verdict must be PCRE2's (anchored at
 * both ends) and, for a prefix-free pattern, the prefix match length must be PCRE2's
 * (anchored at the start). Constructs outside the subset must not compile. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "model/digitre.h"
#include "model/phonelib.h"
#include "test_rng.h"

typedef struct oracle {
    pcre2_code *full, *prefix;
    pcre2_match_data *md;
} oracle;

static void oracle_open(oracle *o, const char *pattern)
{
    int err;
    PCRE2_SIZE off;
    o->full = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED,
                            PCRE2_ANCHORED | PCRE2_ENDANCHORED, &err, &off, NULL);
    o->prefix =
        pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED, PCRE2_ANCHORED, &err, &off, NULL);
    assert_non_null(o->full);
    assert_non_null(o->prefix);
    o->md = pcre2_match_data_create(1, NULL);
    assert_non_null(o->md);
}

static void oracle_close(oracle *o)
{
    pcre2_code_free(o->full);
    pcre2_code_free(o->prefix);
    pcre2_match_data_free(o->md);
}

/* (a return of 0 is a match whose groups did not fit the one-pair match data) */
static int pcre_full(oracle *o, const char *s, size_t n)
{
    return pcre2_match(o->full, (PCRE2_SPTR)s, n, 0, 0, o->md, NULL) >= 0;
}

static long pcre_consume(oracle *o, const char *s, size_t n)
{
    if (pcre2_match(o->prefix, (PCRE2_SPTR)s, n, 0, 0, o->md, NULL) < 0)
        return -1;
    return (long)pcre2_get_ovector_pointer(o->md)[1];
}

/* 1: s[0..n) is a match or, by PCRE2's hard partial match, could be continued into one
 * (partial matching is not offered with the end anchor: the start-anchored pattern, and a
 * complete match counts only when it covers the whole text). */
static int pcre_viable(oracle *o, const char *s, size_t n)
{
    int r = pcre2_match(o->prefix, (PCRE2_SPTR)s, n, 0, PCRE2_PARTIAL_HARD, o->md, NULL);
    return r == PCRE2_ERROR_PARTIAL || (r >= 0 && pcre2_get_ovector_pointer(o->md)[1] == n);
}

static unsigned long long checked, matched;

static void compare(const ps_digitre *re, oracle *o, const char *pattern, const char *s, size_t n)
{
    int want = pcre_full(o, s, n), got = ps_digitre_full(re, s, n);
    checked++;
    matched += (unsigned long long)want;
    if (want != got)
        print_message("pattern '%s', text '%.*s': PCRE2 %d, DFA %d\n", pattern, (int)n, s, want,
                      got);
    assert_int_equal(got, want);
    if (ps_digitre_prefix_free(re)) {
        long w = pcre_consume(o, s, n), g = ps_digitre_consume(re, s, n);
        if (w != g)
            print_message("pattern '%s', text '%.*s': PCRE2 consumes %ld, DFA %ld\n", pattern,
                          (int)n, s, w, g);
        assert_int_equal(g, w);
    }
}

/* A text PCRE2 matches, built a digit at a time (n = 0 when none was found). */
static size_t sample(oracle *o, char *buf, size_t cap)
{
    size_t n = 0;
    while (n + 1 < cap) {
        if (n > 0 && pcre_full(o, buf, n) && rnd(4) == 0)
            return n;
        unsigned start = rnd(10), d;
        for (d = 0; d < 10; d++) {
            buf[n] = (char)('0' + (start + d) % 10);
            if (pcre_viable(o, buf, n + 1))
                break;
        }
        if (d == 10)
            return pcre_full(o, buf, n) ? n : 0;
        n++;
    }
    return pcre_full(o, buf, n) ? n : 0;
}

/* Compares re with PCRE2 on rounds x (samples, mutations, random strings). */
static void exercise(const char *pattern, int rounds)
{
    ps_digitre *re = ps_digitre_compile(pattern);
    oracle o;
    char s[48], t[56];
    if (!re) {
        print_message("not compiled: '%s'\n", pattern);
        fail();
    }
    oracle_open(&o, pattern);
    compare(re, &o, pattern, "", 0);
    for (int r = 0; r < rounds; r++) {
        size_t n = sample(&o, s, 40), m;
        compare(re, &o, pattern, s, n);
        /* one digit changed, dropped, added; cut short; longer; a non-digit inside */
        for (int k = 0; k < 6 && n > 0; k++) {
            size_t at = rnd((unsigned)n);
            memcpy(t, s, n);
            m = n;
            switch (k) {
            case 0:
                t[at] = (char)('0' + rnd(10));
                break;
            case 1:
                memmove(t + at, t + at + 1, n - at - 1);
                m--;
                break;
            case 2:
                memmove(t + at + 1, t + at, n - at);
                t[at] = (char)('0' + rnd(10));
                m++;
                break;
            case 3:
                m = at;
                break;
            case 4:
                t[m++] = (char)('0' + rnd(10));
                t[m++] = (char)('0' + rnd(10));
                break;
            default:
                t[at] = "a+ -/:\0\xff"[rnd(8)];
                break;
            }
            compare(re, &o, pattern, t, m);
        }
        m = rnd(22);
        for (size_t i = 0; i < m; i++)
            t[i] = (char)('0' + rnd(10));
        compare(re, &o, pattern, t, m);
    }
    oracle_close(&o);
    ps_digitre_free(re);
}

static void edge_cases(void **state)
{
    static const char *const ok[] = {
        "",
        "0",
        "009",
        "00[057]",
        "005|0",
        "\\d",
        "[0-9]{3}",
        "[1-35-79]\\d{2,4}",
        "(?:1|23)?4",
        "(1)(2)?|3",
        "1*",
        "1+2",
        "(?:12)*3",
        "(?:1?)*2",
        "(?:|1)2",
        "1|",
        "\\d{2,}",
        "(?:[2-9]\\d|1[0-8])\\d{0,3}",
        "[\\d]5",
        "(?:(?:(?:7)))",
        "1{0}2",
        "[0-0]",
        "(?:0(?:0|11)|1)(?:1\\d)?",
        "8(?:0[2-9]|1[0-8])\\d{7}|70[13-689]\\d{7}",
    };
    static const char *const refused[] = {
        "a",    "[^0]", "\\s",   "(?=1)2", "1*?",   "1++",   "\\d{2}{3}", "(1",  "1)",
        "[0-]", "[]",   "1{,2}", ".",      "1{70}", "[5-3]", "1{2,1}",    "^1",  "1$",
        "\\1",  "[a]",  "(?i)1", "{2}",    "*1",    "1{2",   "1{x}",      "[01", "\\",
    };
    (void)state;
    for (size_t i = 0; i < sizeof ok / sizeof *ok; i++)
        exercise(ok[i], 300);
    for (size_t i = 0; i < sizeof refused / sizeof *refused; i++) {
        ps_digitre *re = ps_digitre_compile(refused[i]);
        if (re)
            print_message("compiled, but outside the subset: '%s'\n", refused[i]);
        assert_null(re);
    }
    assert_null(ps_digitre_compile(NULL));
}

static void prefix_freedom(void **state)
{
    static const struct {
        const char *p;
        int pf;
    } cases[] = {{"0", 1}, {"009", 1},      {"00[057]", 1}, {"005|0", 0},  {"0|005", 0}, {"1*", 0},
                 {"", 1},  {"\\d{2,3}", 0}, {"\\d{3}", 1},  {"1|2|34", 1}, {"1|2|13", 0}};
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        ps_digitre *re = ps_digitre_compile(cases[i].p);
        assert_non_null(re);
        if (ps_digitre_prefix_free(re) != cases[i].pf)
            print_message("'%s': prefix-free %d\n", cases[i].p, ps_digitre_prefix_free(re));
        assert_int_equal(ps_digitre_prefix_free(re), cases[i].pf);
        ps_digitre_free(re);
    }
    /* exact lengths where it is offered */
    ps_digitre *re = ps_digitre_compile("00[057]");
    assert_int_equal(ps_digitre_consume(re, "0051234", 7), 3);
    assert_int_equal(ps_digitre_consume(re, "0061234", 7), -1);
    assert_int_equal(ps_digitre_consume(re, "00", 2), -1);
    assert_int_equal(ps_digitre_full(re, "005", 3), 1);
    assert_int_equal(ps_digitre_full(re, "0051", 4), 0);
    ps_digitre_free(re);
}

/* Every pattern of every plan: the ones of NG, KE and GH (the benchmark's) must compile. */
static void every_plan(void **state)
{
    int plans = 0, patterns = 0, compiled = 0;
    (void)state;
    for (int code = 1; code < 1000; code++) {
        ps_phonelib_plan p;
        if (ps_phonelib_plan_get(code, &p) != 0)
            continue;
        plans++;
        const char *pats[PS_PHONELIB_DESCS + 2];
        int np = 0;
        pats[np++] = p.international_prefix;
        pats[np++] = p.national_prefix_for_parsing;
        for (int i = 0; i < PS_PHONELIB_DESCS; i++)
            pats[np++] = p.desc[i].pattern;
        for (int i = 0; i < np; i++) {
            if (!pats[i] || !*pats[i])
                continue;
            patterns++;
            ps_digitre *re = ps_digitre_compile(pats[i]);
            if (!re) {
                if (code == 234 || code == 254 || code == 233)
                    print_message("+%d: '%s' not compiled\n", code, pats[i]);
                assert_false(code == 234 || code == 254 || code == 233);
                continue;
            }
            compiled++;
            ps_digitre_free(re);
            exercise(pats[i], 40);
        }
        ps_phonelib_plan_free(&p);
    }
    print_message("%d plans, %d patterns, %d compiled; %llu texts compared, %llu matched\n", plans,
                  patterns, compiled, checked, matched);
    assert_true(plans > 150);
    assert_true(compiled * 10 > patterns * 9);
    assert_true(matched * 5 > checked); /* the samples do match: the comparison has teeth */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(edge_cases),
        cmocka_unit_test(prefix_freedom),
        cmocka_unit_test(every_plan),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
