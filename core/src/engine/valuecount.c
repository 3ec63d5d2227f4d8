/* paysync core: bounded distinct-value counts (see valuecount.h). */
#include "engine/valuecount.h"

#include "model/space.h"
#include "util/loadle.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* 1 when entry e's text is exactly s[0..len) (len <= PS_VALUE_TEXT_MAX, head =
 * ps_load_le_head(s, len)): length and first word first, then the rest a word at a time (the
 * last word overlapping; nothing read outside s[0..len) or e->text). */
static inline int entry_is(const ps_value_count *e, const char *s, size_t len, uint64_t head)
{
    if (e->len != len || e->head != head)
        return 0;
    if (len <= 8)
        return 1;
    size_t i = 8;
    for (; i + 8 < len; i += 8)
        if (ps_load_le(e->text + i, 8) != ps_load_le(s + i, 8))
            return 0;
    return ps_load_le(e->text + len - 8, 8) == ps_load_le(s + len - 8, 8);
}

/* The exact search by key (the value cut at PS_VALUE_TEXT_MAX bytes, ending at a NUL), and a
 * new entry when it is not found: values the search by bytes in ps_value_counts_add did not
 * find. */
static void add_by_key(ps_value_counts *vc, const char *s, size_t len)
{
    const unsigned char *u = (const unsigned char *)s;
    char key[PS_VALUE_TEXT_MAX + 4] = {0};
    size_t kl = len;
    if (kl > PS_VALUE_TEXT_MAX) {
        kl = PS_VALUE_TEXT_MAX;
        while (kl > 0 && (u[kl] & 0xC0) == 0x80)
            kl--;
        memcpy(key, u, kl);
        memcpy(key + kl, "...", 4);
    } else {
        memcpy(key, u, kl);
        key[kl] = '\0';
    }
    vc->active = 1;
    for (size_t i = 0; i < vc->n; i++) {
        if (strcmp(vc->v[i].text, key) == 0) {
            vc->v[i].count++;
            vc->last = i;
            return;
        }
    }
    if (vc->n == PS_VALUES_TRACKED) {
        vc->other_rows++;
        return;
    }
    ps_value_count *e = &vc->v[vc->n];
    memcpy(e->text, key, sizeof key);
    e->len = strlen(key);
    memset(e->text + e->len, 0, sizeof e->text - e->len); /* the bytes after a NUL too */
    e->head = ps_load_le(e->text, 8);
    e->count = 1;
    vc->last = vc->n++;
}

void ps_value_counts_add(ps_value_counts *vc, const char *s, size_t len)
{
    /* nothing to trim when both end bytes are printable ASCII (every whitespace character
     * starts with a byte <= ' ' or >= 0x80) */
    if (!len || (unsigned char)(s[0] - 0x21) > 0x5d || (unsigned char)(s[len - 1] - 0x21) > 0x5d)
        ps_space_trim(&s, &len);
    /* A value of at most PS_VALUE_TEXT_MAX bytes is its own key unless it holds a NUL (the key
     * then ends there). An entry whose text is exactly these bytes (no NUL in them, as texts
     * have none) is therefore the entry the search by key finds: the last entry counted first
     * (consecutive rows repeat), then every entry by length and first word. */
    if (len <= PS_VALUE_TEXT_MAX) {
        uint64_t head = ps_load_le_head(s, len);
        if (vc->last < vc->n && entry_is(&vc->v[vc->last], s, len, head)) {
            vc->v[vc->last].count++;
            return;
        }
        for (size_t i = 0; i < vc->n; i++) {
            if (entry_is(&vc->v[i], s, len, head)) {
                vc->v[i].count++;
                vc->last = i;
                return;
            }
        }
    }
    add_by_key(vc, s, len); /* new, long (cut) or holding a NUL */
}

static int by_count(const void *a, const void *b)
{
    const ps_value_count *x = a, *y = b;
    if (x->count != y->count)
        return x->count > y->count ? -1 : 1;
    return strcmp(x->text, y->text);
}

void ps_value_counts_sort(ps_value_counts *vc)
{
    if (vc->n > 1) /* v is NULL when nothing was counted */
        qsort(vc->v, vc->n, sizeof vc->v[0], by_count);
}

void ps_value_counts_format(const ps_value_counts *vc, size_t show, char *buf, size_t cap)
{
    size_t pos = 0;
    buf[0] = '\0';
    size_t i;
    for (i = 0; i < vc->n && i < show; i++) {
        char t[PS_VALUE_TEXT_MAX + 4];
        snprintf(t, sizeof t, "%s", vc->v[i].text[0] ? vc->v[i].text : "(empty)");
        for (char *p = t; *p; p++)
            if ((unsigned char)*p < 0x20 || *p == 0x7f)
                *p = '?';
        int w = snprintf(buf + pos, cap - pos, "%s%s %llu", i ? ", " : "", t,
                         (unsigned long long)vc->v[i].count);
        if (w < 0 || (size_t)w >= cap - pos)
            return;
        pos += (size_t)w;
    }
    uint64_t more_rows = vc->other_rows;
    size_t more = vc->n - i;
    for (size_t k = i; k < vc->n; k++)
        more_rows += vc->v[k].count;
    if (more || vc->other_rows)
        snprintf(buf + pos, cap - pos, "%s%s%zu more value%s (%llu row%s)", pos ? ", " : "",
                 vc->other_rows ? "and at least " : "and ", more + (vc->other_rows ? 1 : 0),
                 more + (vc->other_rows ? 1 : 0) == 1 ? "" : "s", (unsigned long long)more_rows,
                 more_rows == 1 ? "" : "s");
}
