/* paysync core: bounded distinct-value counts (see valuecount.h). */
#include "engine/valuecount.h"

#include "model/space.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void ps_value_counts_add(ps_value_counts *vc, const char *s, size_t len)
{
    /* nothing to trim when both end bytes are printable ASCII (every whitespace character
     * starts with a byte <= ' ' or >= 0x80) */
    if (!len || (unsigned char)(s[0] - 0x21) > 0x5d || (unsigned char)(s[len - 1] - 0x21) > 0x5d)
        ps_space_trim(&s, &len);
    /* the same value as last time: its text is the whole key (no cut), so equal bytes and the
     * end of the entry's text there mean the same entry as the search below finds */
    if (len <= PS_VALUE_TEXT_MAX && vc->last < vc->n) {
        ps_value_count *e = &vc->v[vc->last];
        if (e->text[len] == '\0' && memcmp(e->text, s, len) == 0) {
            e->count++;
            return;
        }
    }
    const unsigned char *u = (const unsigned char *)s;
    char key[PS_VALUE_TEXT_MAX + 4] = {0}; /* whole: the fast check above reads past the text */
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
    memcpy(vc->v[vc->n].text, key, sizeof key);
    vc->v[vc->n].count = 1;
    vc->last = vc->n++;
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
