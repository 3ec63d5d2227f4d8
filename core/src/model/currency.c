/* paysync core: currency codes, names and symbols (see currency.h). */
#include "model/currency.h"

#include <pthread.h>
#include <stdint.h>
#include <string.h>

/* ISO 4217 "List one" active alphabetic codes: the iso-codes snapshot minus HRK (withdrawn
 * 2023) plus ZWG (2024) and XCG (2025). Sorted for binary search. */
static const char codes[][4] = {
    "AED", "AFN", "ALL", "AMD", "ANG", "AOA", "ARS", "AUD", "AWG", "AZN", "BAM", "BBD", "BDT",
    "BGN", "BHD", "BIF", "BMD", "BND", "BOB", "BOV", "BRL", "BSD", "BTN", "BWP", "BYN", "BZD",
    "CAD", "CDF", "CHE", "CHF", "CHW", "CLF", "CLP", "CNY", "COP", "COU", "CRC", "CUC", "CUP",
    "CVE", "CZK", "DJF", "DKK", "DOP", "DZD", "EGP", "ERN", "ETB", "EUR", "FJD", "FKP", "GBP",
    "GEL", "GHS", "GIP", "GMD", "GNF", "GTQ", "GYD", "HKD", "HNL", "HTG", "HUF", "IDR", "ILS",
    "INR", "IQD", "IRR", "ISK", "JMD", "JOD", "JPY", "KES", "KGS", "KHR", "KMF", "KPW", "KRW",
    "KWD", "KYD", "KZT", "LAK", "LBP", "LKR", "LRD", "LSL", "LYD", "MAD", "MDL", "MGA", "MKD",
    "MMK", "MNT", "MOP", "MRU", "MUR", "MVR", "MWK", "MXN", "MXV", "MYR", "MZN", "NAD", "NGN",
    "NIO", "NOK", "NPR", "NZD", "OMR", "PAB", "PEN", "PGK", "PHP", "PKR", "PLN", "PYG", "QAR",
    "RON", "RSD", "RUB", "RWF", "SAR", "SBD", "SCR", "SDG", "SEK", "SGD", "SHP", "SLE", "SLL",
    "SOS", "SRD", "SSP", "STN", "SVC", "SYP", "SZL", "THB", "TJS", "TMT", "TND", "TOP", "TRY",
    "TTD", "TWD", "TZS", "UAH", "UGX", "USD", "USN", "UYI", "UYU", "UYW", "UZS", "VED", "VES",
    "VND", "VUV", "WST", "XAF", "XAG", "XAU", "XBA", "XBB", "XBC", "XBD", "XCD", "XCG", "XDR",
    "XOF", "XPD", "XPF", "XPT", "XSU", "XTS", "XUA", "XXX", "YER", "ZAR", "ZMW", "ZWG", "ZWL",
};

#define NCODES (sizeof codes / sizeof codes[0])

size_t ps_currency_count(void)
{
    return NCODES;
}

const char *ps_currency_at(size_t i)
{
    return i < NCODES ? codes[i] : NULL;
}

static char lower(char c)
{
    return (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c;
}

/* Every three-letter key, (A..Z)^3 in order, as 1 + its index in codes, or 0: 17,576 bytes
 * built once per process (never freed), read without locks after. */
static uint8_t code_slot[26 * 26 * 26];
_Static_assert(NCODES < 256, "code_slot holds an index + 1 in a byte");
static pthread_once_t code_slot_once = PTHREAD_ONCE_INIT;

static void code_slot_build(void)
{
    for (size_t i = 0; i < NCODES; i++)
        code_slot[((codes[i][0] - 'A') * 26 + (codes[i][1] - 'A')) * 26 + (codes[i][2] - 'A')] =
            (uint8_t)(i + 1);
}

/* 0..25 for an ASCII letter of either case, above 25 for any other byte (c & ~0x20 is in
 * 'A'..'Z' exactly for the 52 letters). */
static inline unsigned letter(char c)
{
    return (unsigned)((unsigned char)c & ~0x20u) - 'A';
}

const char *ps_currency_code(const char *s, size_t len)
{
    if (!s || len != 3)
        return NULL;
    unsigned a = letter(s[0]), b = letter(s[1]), c = letter(s[2]);
    if (a > 25 || b > 25 || c > 25)
        return NULL;
    pthread_once(&code_slot_once, code_slot_build);
    unsigned i = code_slot[(a * 26 + b) * 26 + c];
    return i ? codes[i - 1] : NULL;
}

/* Currency names: key is lower case with single spaces. `code` set = unambiguous;
 * otherwise `candidates` lists what it could mean and the name is rejected. */
typedef struct cur_name {
    const char *name;
    const char *code;
    const char *candidates;
} cur_name;

static const cur_name names[] = {
    {"naira", "NGN", NULL},
    {"nigerian naira", "NGN", NULL},
    {"cedi", "GHS", NULL},
    {"cedis", "GHS", NULL},
    {"ghana cedi", "GHS", NULL},
    {"ghanaian cedi", "GHS", NULL},
    {"rand", "ZAR", NULL},
    {"south african rand", "ZAR", NULL},
    {"leone", "SLE", NULL},
    {"sierra leonean leone", "SLE", NULL},
    {"birr", "ETB", NULL},
    {"ethiopian birr", "ETB", NULL},
    {"dalasi", "GMD", NULL},
    {"ariary", "MGA", NULL},
    {"kwanza", "AOA", NULL},
    {"pula", "BWP", NULL},
    {"loti", "LSL", NULL},
    {"lilangeni", "SZL", NULL},
    {"metical", "MZN", NULL},
    {"nakfa", "ERN", NULL},
    {"ouguiya", "MRU", NULL},
    {"dobra", "STN", NULL},
    {"kenyan shilling", "KES", NULL},
    {"kenya shilling", "KES", NULL},
    {"ugandan shilling", "UGX", NULL},
    {"uganda shilling", "UGX", NULL},
    {"tanzanian shilling", "TZS", NULL},
    {"tanzania shilling", "TZS", NULL},
    {"somali shilling", "SOS", NULL},
    {"zambian kwacha", "ZMW", NULL},
    {"malawian kwacha", "MWK", NULL},
    {"malawi kwacha", "MWK", NULL},
    {"rwandan franc", "RWF", NULL},
    {"rwanda franc", "RWF", NULL},
    {"burundian franc", "BIF", NULL},
    {"congolese franc", "CDF", NULL},
    {"guinean franc", "GNF", NULL},
    {"euro", "EUR", NULL},
    {"us dollar", "USD", NULL},
    {"u.s. dollar", "USD", NULL},
    {"united states dollar", "USD", NULL},
    {"liberian dollar", "LRD", NULL},
    {"pound sterling", "GBP", NULL},
    {"sterling", "GBP", NULL},
    {"egyptian pound", "EGP", NULL},
    {"indian rupee", "INR", NULL},
    {"pakistani rupee", "PKR", NULL},
    {"nepalese rupee", "NPR", NULL},
    {"taka", "BDT", NULL},
    {"rupiah", "IDR", NULL},
    {"kyat", "MMK", NULL},
    {"kip", "LAK", NULL},
    {"riel", "KHR", NULL},
    {"yen", "JPY", NULL},
    {"yuan", "CNY", NULL},
    {"renminbi", "CNY", NULL},
    {"quetzal", "GTQ", NULL},
    {"gourde", "HTG", NULL},
    {"kwacha", NULL, "ZMW or MWK"},
    {"shilling", NULL, "KES, UGX, TZS or SOS"},
    {"shillings", NULL, "KES, UGX, TZS or SOS"},
    {"cfa franc", NULL, "XOF or XAF"},
    {"franc cfa", NULL, "XOF or XAF"},
    {"cfa", NULL, "XOF or XAF"},
    {"fcfa", NULL, "XOF or XAF"},
    {"franc", NULL, "XOF, XAF, RWF, BIF, CDF, GNF, CHF, ..."},
    {"dollar", NULL, "USD, LRD, NAD, ..."},
    {"pound", NULL, "GBP, EGP, SSP, SDG, ..."},
    {"rupee", NULL, "INR, PKR, NPR, LKR, MUR, SCR"},
    {"dirham", NULL, "AED or MAD"},
    {"dinar", NULL, "DZD, TND, LYD, ..."},
    {"peso", NULL, "MXN, PHP, ARS, ..."},
    {"won", NULL, "KRW or KPW"},
};

#define NNAMES (sizeof names / sizeof names[0])

/* Folds into out: ASCII lower case, runs of spaces/hyphens/underscores -> one space,
 * trimmed. Returns length, or (size_t)-1 when longer than cap - 1. */
static size_t fold_name(const char *s, size_t len, char *out, size_t cap)
{
    size_t i, n = 0;
    int sep = 0;
    for (i = 0; i < len; i++) {
        char c = s[i];
        if (c == ' ' || c == '-' || c == '_' || c == '\t') {
            sep = n > 0;
            continue;
        }
        if (sep) {
            if (n + 1 >= cap)
                return (size_t)-1;
            out[n++] = ' ';
            sep = 0;
        }
        if (n + 1 >= cap)
            return (size_t)-1;
        out[n++] = lower(c);
    }
    out[n] = '\0';
    return n;
}

static const cur_name *find_name(const char *s, size_t len)
{
    char key[48];
    size_t i;
    if (fold_name(s, len, key, sizeof key) == (size_t)-1)
        return NULL;
    for (i = 0; i < NNAMES; i++)
        if (strcmp(names[i].name, key) == 0)
            return &names[i];
    return NULL;
}

int ps_currency_parse(const char *s, size_t len, const char **code, const char **candidates)
{
    const char *c = ps_currency_code(s, len);
    const cur_name *n;
    if (code)
        *code = NULL;
    if (candidates)
        *candidates = NULL;
    if (c) {
        if (code)
            *code = c;
        return PS_CUR_OK;
    }
    n = find_name(s, len);
    if (!n)
        return PS_CUR_UNKNOWN;
    if (!n->code) {
        if (candidates)
            *candidates = n->candidates;
        return PS_CUR_AMBIGUOUS;
    }
    if (code)
        *code = n->code;
    return PS_CUR_OK;
}

/* Symbols written next to amounts and the codes each may stand for (space-separated). */
typedef struct cur_symbol {
    const char *sym;
    const char *codes;
} cur_symbol;

static const cur_symbol symbols[] = {
    {"\xe2\x82\xa6", "NGN"},   /* ₦ */
    {"GH\xe2\x82\xb5", "GHS"}, /* GH₵ */
    {"\xe2\x82\xb5", "GHS"},   /* ₵ */
    {"GH\xc2\xa2", "GHS"},     /* GH¢ */
    {"KSh", "KES"},
    {"KShs", "KES"},
    {"USh", "UGX"},
    {"UShs", "UGX"},
    {"TSh", "TZS"},
    {"TShs", "TZS"},
    {"R", "ZAR"},
    {"ZK", "ZMW"},
    {"MK", "MWK"},
    {"K", "ZMW MWK MMK PGK"},
    {"CFA", "XOF XAF"},
    {"FCFA", "XOF XAF"},
    {"CFAF", "XOF XAF"},
    {"Le", "SLE SLL"},
    {"Br", "ETB"},
    {"FRw", "RWF"},
    {"RF", "RWF"},
    {"\xe2\x82\xac", "EUR"},                     /* € */
    {"\xc2\xa3", "GBP EGP SSP SDG GIP FKP SHP"}, /* £ */
    {"US$", "USD"},
    {"$", "USD LRD NAD CAD AUD NZD SGD HKD BSD BBD BZD BMD BND FJD GYD JMD KYD SBD SRD TTD "
          "TWD XCD ZWG ZWL MXN ARS CLP COP CUP DOP UYU"},
    {"\xc2\xa5", "JPY CNY"},                 /* ¥ */
    {"\xe2\x82\xb9", "INR"},                 /* ₹ */
    {"\xe2\x82\xa8", "PKR NPR LKR MUR SCR"}, /* ₨ */
    {"Rs", "INR PKR NPR LKR MUR SCR"},
    {"\xe0\xa7\xb3", "BDT"}, /* ৳ */
    {"Rp", "IDR"},
    {"\xe2\x82\xb1", "PHP"},     /* ₱ */
    {"\xe2\x82\xa9", "KRW KPW"}, /* ₩ */
    {"\xe2\x82\xab", "VND"},     /* ₫ */
    {"\xe2\x82\xba", "TRY"},     /* ₺ */
    {"\xe2\x82\xbd", "RUB"},     /* ₽ */
    {"\xe2\x82\xb4", "UAH"},     /* ₴ */
    {"\xe2\x82\xaa", "ILS"},     /* ₪ */
    {"\xe0\xb8\xbf", "THB"},     /* ฿ */
};

#define NSYMBOLS (sizeof symbols / sizeof symbols[0])

static int ieq(const char *a, size_t alen, const char *b)
{
    size_t i;
    if (strlen(b) != alen)
        return 0;
    for (i = 0; i < alen; i++)
        if (lower(a[i]) != lower(b[i]))
            return 0;
    return 1;
}

static int list_has(const char *list, const char *code)
{
    const char *p = list;
    while (*p) {
        if (memcmp(p, code, 3) == 0)
            return 1;
        p += 3;
        while (*p == ' ')
            p++;
    }
    return 0;
}

int ps_currency_affix_agrees(const char *tok, size_t len, const char *code)
{
    const char *c;
    const cur_name *n;
    size_t i;
    if (!tok || len == 0)
        return -1;
    c = ps_currency_code(tok, len);
    if (c)
        return !code || strcmp(c, code) == 0;
    for (i = 0; i < NSYMBOLS; i++)
        if (ieq(tok, len, symbols[i].sym))
            return !code || list_has(symbols[i].codes, code);
    n = find_name(tok, len);
    if (n) {
        if (!code)
            return 1;
        if (n->code)
            return strcmp(n->code, code) == 0;
        return strstr(n->candidates, code) != NULL;
    }
    return -1;
}
