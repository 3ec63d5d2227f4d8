/* Unit tests: the bounded value counts (core/src/engine/valuecount.h), in particular the
 * "same value as last time" shortcut and the skipped trim, against a plain model of the
 * definition (trim, cut at 64 bytes on a character with "...", exact text, first 64 distinct). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "engine/valuecount.h"
#include "model/space.h"
#include "test_rng.h"

typedef struct model {
    char text[PS_VALUES_TRACKED][PS_VALUE_TEXT_MAX + 4];
    uint64_t count[PS_VALUES_TRACKED];
    size_t n;
    uint64_t other;
} model;

static void model_add(model *m, const char *s, size_t len)
{
    char key[PS_VALUE_TEXT_MAX + 4];
    ps_space_trim(&s, &len);
    size_t kl = len;
    if (kl > PS_VALUE_TEXT_MAX) {
        kl = PS_VALUE_TEXT_MAX;
        while (kl > 0 && ((unsigned char)s[kl] & 0xC0) == 0x80)
            kl--;
        memcpy(key, s, kl);
        memcpy(key + kl, "...", 4);
    } else {
        memcpy(key, s, kl);
        key[kl] = '\0';
    }
    for (size_t i = 0; i < m->n; i++)
        if (strcmp(m->text[i], key) == 0) {
            m->count[i]++;
            return;
        }
    if (m->n == PS_VALUES_TRACKED) {
        m->other++;
        return;
    }
    strcpy(m->text[m->n], key);
    m->count[m->n++] = 1;
}

/* Random values from a few stems: repeats in runs, whitespace (ASCII, U+00A0, U+3000) at the
 * ends, a NUL inside, printable edges ('!' and '~') and their neighbours, long values cut at
 * 64 bytes (also inside a 2-byte character), more than 64 distinct values. */
static void test_matches_model(void **state)
{
    (void)state;
    static const char *const stems[] = {"Completed",           "failed", "!", "~x~",
                                        "Installment payment", "a\0b",   "a", "",
                                        "\x7f\x64\x65\x6c", /* DEL then "del" */
                                        "caf\xc3\xa9",         "long-"};
    static const char *const edges[] = {"",         " ",    "\t",  "\xc2\xa0", "\xe3\x80\x80",
                                        "\x20\x20", "\x7f", "\x1f"};
    for (int round = 0; round < 200; round++) {
        ps_value_counts *vc = calloc(1, sizeof *vc);
        model *m = calloc(1, sizeof *m);
        assert_non_null(vc);
        assert_non_null(m);
        char v[256];
        size_t vl = 0;
        for (int i = 0; i < 3000; i++) {
            if (i == 0 || rnd(4) == 0) { /* a new value, else the last one again */
                size_t k = rnd(sizeof stems / sizeof stems[0]);
                const char *pre = edges[rnd(sizeof edges / sizeof edges[0])];
                const char *post = edges[rnd(sizeof edges / sizeof edges[0])];
                vl = 0;
                memcpy(v, pre, strlen(pre));
                vl += strlen(pre);
                size_t sl = k == 5 ? 3 : strlen(stems[k]);
                memcpy(v + vl, stems[k], sl);
                vl += sl;
                if (k == 10 || rnd(50) == 0) { /* long, or one of many distinct values */
                    size_t extra = k == 10 ? 55 + rnd(20) : 1 + rnd(3);
                    for (size_t e = 0; e < extra; e++)
                        v[vl++] = rnd(5) == 0 ? (char)0xc3 : (char)('a' + rnd(26));
                    if ((unsigned char)v[vl - 1] == 0xc3)
                        v[vl++] = (char)0xa9;
                }
                memcpy(v + vl, post, strlen(post));
                vl += strlen(post);
            }
            ps_value_counts_add(vc, v, vl);
            model_add(m, v, vl);
        }
        assert_int_equal(vc->n, m->n);
        assert_int_equal(vc->other_rows, m->other);
        for (size_t i = 0; i < m->n; i++) {
            if (strcmp(vc->v[i].text, m->text[i]) != 0 || vc->v[i].count != m->count[i])
                fail_msg("round %d, value %zu: '%s' %llu, expected '%s' %llu", round, i,
                         vc->v[i].text, (unsigned long long)vc->v[i].count, m->text[i],
                         (unsigned long long)m->count[i]);
        }
        /* sorting moves the entries: the shortcut still counts the right one */
        ps_value_counts_sort(vc);
        ps_value_counts_add(vc, "failed", 6);
        ps_value_counts_add(vc, "failed", 6);
        model_add(m, "failed", 6);
        model_add(m, "failed", 6);
        uint64_t got = 0, want = 0;
        for (size_t i = 0; i < vc->n; i++)
            if (strcmp(vc->v[i].text, "failed") == 0)
                got = vc->v[i].count;
        for (size_t i = 0; i < m->n; i++)
            if (strcmp(m->text[i], "failed") == 0)
                want = m->count[i];
        assert_int_equal(got, want);
        free(vc);
        free(m);
    }
}

/* Values the length-and-word search must not take for a cut entry, or the other way round:
 * a value of 65 or 66 bytes ending in "..." against the entry of a long value cut inside a
 * 3-byte character at 62 bytes (text: 62 bytes and "..."), values ending in "..." of every
 * length 60..70, values with a NUL inside, and prefixes of each other. Each is counted as the
 * plain model counts it. */
static void test_dots_nul_prefixes(void **state)
{
    (void)state;
    ps_value_counts *vc = calloc(1, sizeof *vc);
    model *m = calloc(1, sizeof *m);
    assert_non_null(vc);
    assert_non_null(m);
    char v[128];
    memset(v, 'x', sizeof v);
    memcpy(v + 62, "\xe2\x82\xac", 3); /* a 3-byte character over the 64-byte cut */
    for (int rep = 0; rep < 3; rep++) {
        for (size_t len = 60; len <= 70; len++) {
            ps_value_counts_add(vc, v, 70); /* cut: 62 bytes + "..." */
            model_add(m, v, 70);
            char d[128];
            memset(d, 'x', len - 3);
            memcpy(d + len - 3, "...", 3);
            ps_value_counts_add(vc, d, len);
            model_add(m, d, len);
            ps_value_counts_add(vc, d, len - 1); /* a prefix */
            model_add(m, d, len - 1);
        }
        static const char *const nul[] = {"a\0b",        "a",        "ab",        "a\0c",
                                          "abcdefgh\0x", "abcdefgh", "abcdefghi", "abcdefg"};
        static const size_t nul_len[] = {3, 1, 2, 3, 11, 8, 9, 7};
        for (size_t k = 0; k < 8; k++) {
            ps_value_counts_add(vc, nul[k], nul_len[k]);
            model_add(m, nul[k], nul_len[k]);
        }
    }
    assert_int_equal(vc->n, m->n);
    for (size_t i = 0; i < m->n; i++) {
        assert_string_equal(vc->v[i].text, m->text[i]);
        assert_int_equal(vc->v[i].count, m->count[i]);
    }
    free(vc);
    free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_matches_model),
        cmocka_unit_test(test_dots_nul_prefixes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
