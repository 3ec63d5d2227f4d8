/* paysync core: column header -> model field hints (see field_hint.h). */
#include "model/field_hint.h"

#include <string.h>

#include "model/model_fields.h"
#include "util/suggest.h"

#define MAX_WORDS 8
#define WORD_MAX 32

/* Words a header may use for a field's word. */
static const struct {
    const char *word, *as;
} synonyms[] = {
    {"NO", "ID"},
    {"NUM", "ID"},
    {"NUMBER", "ID"},
    {"NR", "ID"},
    {"NBR", "ID"},
    {"#", "ID"},
    {"CODE", "ID"},
    {"IDENTIFIER", "ID"},
    {"DATE", "TIMESTAMP"},
    {"TIME", "TIMESTAMP"},
    {"DATETIME", "TIMESTAMP"},
    {"PAID", "TIMESTAMP"},
    {"WHEN", "TIMESTAMP"},
    {"AMT", "AMOUNT"},
    {"VALUE", "AMOUNT"},
    {"SUM", "AMOUNT"},
    {"TOTAL", "AMOUNT"},
    {"CCY", "CURRENCY"},
    {"CUR", "CURRENCY"},
    {"CLIENT", "CUSTOMER"},
    {"PAYER", "CUSTOMER"},
    {"MOBILE", "PHONE"},
    {"TEL", "PHONE"},
    {"TELEPHONE", "PHONE"},
    {"MSISDN", "PHONE"},
    {"CELL", "PHONE"},
    {"LAT", "LATITUDE"},
    {"LON", "LONGITUDE"},
    {"LNG", "LONGITUDE"},
    {"LONG", "LONGITUDE"},
    {"FEE", "CHARGES"},
    {"FEES", "CHARGES"},
    {"CHARGE", "CHARGES"},
    {"KIND", "TYPE"},
    {"SEGMENT", "CATEGORY"},
    {"CLASS", "CATEGORY"},
    {"TARIFF", "CATEGORY"},
    {"STATE", "STATUS"},
    {"COMMENT", "NOTES"},
    {"COMMENTS", "NOTES"},
    {"NOTE", "NOTES"},
    {"REMARKS", "NOTES"},
    {"TXN", "TRANSACTION"},
    {"TRANS", "TRANSACTION"},
    {"TX", "TRANSACTION"},
    {"PAY", "PAYMENT"},
    {"REF", "REFERENCE"},
    {"FINANCE", "FINANCING"},
    {"LOAN", "FINANCING"},
    {"SITE", "UTILITY"},
};

/* Words common to many fields: alone they suggest nothing. */
static int generic(const char *w)
{
    return strcmp(w, "ID") == 0 || strcmp(w, "NAME") == 0 || strcmp(w, "TYPE") == 0 ||
           strcmp(w, "PAYMENT") == 0 || strcmp(w, "COUNT") == 0;
}

static const char *synonym(const char *w)
{
    for (size_t i = 0; i < sizeof synonyms / sizeof synonyms[0]; i++)
        if (strcmp(synonyms[i].word, w) == 0)
            return synonyms[i].as;
    return w;
}

/* Cuts s at '_' (and at the punctuation header normalisation keeps) into at most MAX_WORDS
 * words; '#' is a word of its own. Returns the count. */
static size_t split(const char *s, char words[][WORD_MAX])
{
    size_t n = 0, k = 0;
    for (const char *p = s; n < MAX_WORDS; p++) {
        int end = *p == '\0', hash = *p == '#';
        if (end || hash || strchr("_()[]{}.,:;/\\'\"", *p)) {
            if (k > 0) {
                words[n++][k] = '\0';
                k = 0;
            }
            if (hash && n < MAX_WORDS)
                strcpy(words[n++], "#");
            if (end)
                break;
            continue;
        }
        if (k + 1 < WORD_MAX)
            words[n][k++] = *p;
    }
    return n;
}

/* 1 when header word w stands for field word fw. */
static int same_word(const char *w, const char *fw)
{
    if (strcmp(synonym(w), fw) == 0)
        return 1;
    size_t len = strlen(w);
    if (len < 4 || strlen(fw) < 4)
        return 0;
    return ps_edit_distance(w, fw) <= (len >= 8 ? 2u : 1u);
}

int ps_field_hint_score(int f, const char *header, size_t len)
{
    const char *name = ps_field_name(f);
    if (!name || !header)
        return 0;
    char norm[128];
    ps_header_normalise(header, len, norm, sizeof norm);
    char hw[MAX_WORDS][WORD_MAX], fw[MAX_WORDS][WORD_MAX];
    size_t nh = split(norm, hw), nf = split(name, fw);
    int score = 0, distinctive = 0;
    size_t found = 0;
    for (size_t i = 0; i < nf; i++) {
        for (size_t j = 0; j < nh; j++) {
            if (!same_word(hw[j], fw[i]))
                continue;
            found++;
            if (generic(fw[i])) {
                score += 1;
            } else {
                score += 3;
                distinctive = 1;
            }
            break;
        }
    }
    if (!distinctive)
        return 0;
    return score + (found == nf);
}
