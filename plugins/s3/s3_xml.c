/* Bounded XML element text (see s3_xml.h). */
#include "s3_xml.h"

#include <string.h>

/* First occurrence of needle (nlen bytes) in hay[0..n), or NULL. */
static const char *find(const char *hay, size_t n, const char *needle, size_t nlen)
{
    for (size_t i = 0; nlen <= n && i <= n - nlen; i++)
        if (memcmp(hay + i, needle, nlen) == 0)
            return hay + i;
    return NULL;
}

int s3_xml_text(const char *body, size_t len, const char *tag, char *out, size_t cap)
{
    if (cap == 0)
        return 0;
    out[0] = '\0';
    size_t tl = strlen(tag);
    if (!body || tl == 0 || tl > 60)
        return 0;
    if (len > S3_XML_SCAN)
        len = S3_XML_SCAN;
    char open[64], close[64];
    open[0] = '<';
    memcpy(open + 1, tag, tl);
    open[tl + 1] = '>';
    close[0] = '<';
    close[1] = '/';
    memcpy(close + 2, tag, tl);
    close[tl + 2] = '>';
    const char *a = find(body, len, open, tl + 2);
    if (!a)
        return 0;
    a += tl + 2;
    const char *b = find(a, len - (size_t)(a - body), close, tl + 3);
    if (!b)
        return 0;
    static const struct {
        const char *ent;
        char c;
    } ents[] = {{"&amp;", '&'}, {"&lt;", '<'}, {"&gt;", '>'}, {"&quot;", '"'}, {"&apos;", '\''}};
    size_t k = 0;
    while (a < b && k + 1 < cap) {
        char c = *a;
        size_t adv = 1;
        if (c == '&')
            for (size_t e = 0; e < sizeof ents / sizeof ents[0]; e++) {
                size_t el = strlen(ents[e].ent);
                if ((size_t)(b - a) >= el && memcmp(a, ents[e].ent, el) == 0) {
                    c = ents[e].c;
                    adv = el;
                    break;
                }
            }
        if ((unsigned char)c < 0x20 || c == 0x7f)
            c = ' ';
        out[k++] = c;
        a += adv;
    }
    out[k] = '\0';
    return 1;
}
