/* paysync core: phone validation (see phone.h). The numbering plans are libphonenumber's
 * (phonelib.cc); what is paysync's own: the characters accepted, "00" as international
 * prefix, and how a number without country is read. */
#include "model/phone.h"

#include <stdio.h>
#include <string.h>

#include "model/phonefast.h"
#include "model/phonelib.h"

/* Longer inputs (digits) are too long for any plan: libphonenumber reads at most 17 national
 * digits after a calling code of up to 3. */
#define MAX_DIGITS 40

/* "NG (+234)", or "+1 (US and 24 more countries)" for a code shared by several countries. */
static void where(const char *region, int code, char *buf, size_t cap)
{
    char main[3];
    int n = code > 0 ? ps_phonelib_main_region(code, main) : 0;
    if (region && *region && code > 0 && code == ps_phonelib_calling_code(region))
        snprintf(buf, cap, "%s (+%d)", region, code);
    else if (n == 1)
        snprintf(buf, cap, "%s (+%d)", main, code);
    else if (n > 1)
        snprintf(buf, cap, "+%d (%s and %d more countries)", code, main, n - 1);
    else if (code > 0)
        snprintf(buf, cap, "+%d", code);
    else
        snprintf(buf, cap, "%s", region && *region ? region : "any country");
}

static void explain(ps_phonelib_verdict v, const char *region, int code, char *why)
{
    char w[64], ex[48];
    if (!why)
        return;
    where(region, code, w, sizeof w);
    switch (v) {
    case PS_PHONELIB_NOT_A_NUMBER:
        snprintf(why, PS_PHONE_WHY_MAX, "is not a phone number");
        break;
    case PS_PHONELIB_BAD_COUNTRY:
        snprintf(why, PS_PHONE_WHY_MAX, "does not start with a known country calling code");
        break;
    case PS_PHONELIB_TOO_SHORT:
        snprintf(why, PS_PHONE_WHY_MAX, "is too short for %s", w);
        break;
    case PS_PHONELIB_TOO_LONG:
        snprintf(why, PS_PHONE_WHY_MAX, "is too long for %s", w);
        break;
    case PS_PHONELIB_BAD_LENGTH:
        snprintf(why, PS_PHONE_WHY_MAX, "has a length no number of %s has", w);
        break;
    case PS_PHONELIB_LOCAL_ONLY:
        snprintf(why, PS_PHONE_WHY_MAX, "is too short for %s (a local number without area code)",
                 w);
        break;
    case PS_PHONELIB_INVALID: {
        char main[3];
        const char *r = region && *region && code == ps_phonelib_calling_code(region) ? region
                        : ps_phonelib_main_region(code, main) == 1                    ? main
                                                                                      : NULL;
        if (r && ps_phonelib_example(r, ex, sizeof ex))
            snprintf(why, PS_PHONE_WHY_MAX,
                     "is not a valid number for %s (a mobile number there looks like %s)", w, ex);
        else
            snprintf(why, PS_PHONE_WHY_MAX, "is not a valid number for %s", w);
        break;
    }
    default:
        snprintf(why, PS_PHONE_WHY_MAX, "could not be checked (out of memory)");
        break;
    }
}

/* ps_phone_check's decision; with lib 0 a number that needs libphonenumber is left
 * undecided (returns 0, res not final), else returns 1 with res filled. */
static int check(ps_phonefast *fast, int lib, const char *s, size_t len, const char *region,
                 ps_phone_verdict *res)
{
    char d[MAX_DIGITS + 2];
    size_t nd = 0, i;
    int plus = 0, code = 0, too_long = 0;
    ps_phonelib_verdict v;
    memset(res, 0, sizeof *res);
    if (region && !*region)
        region = NULL;
    if (!s)
        s = "";
    for (i = 0; i < len; i++) {
        char c = s[i];
        if (c >= '0' && c <= '9') {
            if (nd < MAX_DIGITS)
                d[1 + nd] = c;
            else
                too_long = 1;
            nd++;
        } else if (c == '+') {
            if (plus || nd > 0)
                return res->rc = PS_PHONE_SYNTAX, 1;
            plus = 1;
        } else if (!(c == ' ' || c == '\t' || c == '-' || c == '.' || c == '(' || c == ')')) {
            return res->rc = PS_PHONE_SYNTAX, 1;
        }
    }
    if (nd == 0 && !plus)
        return res->rc = PS_PHONE_EMPTY, 1;
    /* d[0] is room for the '+'; the digits are d[1..nd]. */
    char *num = d + 1;
    size_t n = nd < MAX_DIGITS ? nd : MAX_DIGITS;
    if (!plus && n >= 2 && num[0] == '0' && num[1] == '0') {
        num += 1; /* "00" international prefix: "0044..." -> "+44..." */
        n -= 1;
        num[0] = '+';
    } else if (plus || !region) {
        if (!plus && num[0] == '0')
            return res->rc = PS_PHONE_LOCAL, 1;
        num -= 1; /* "+..." or, without a country, digits that lost their '+' */
        n += 1;
        num[0] = '+';
    }
    res->international = num[0] == '+';
    if (too_long) {
        v = PS_PHONELIB_TOO_LONG;
    } else {
        if (ps_phonefast_valid(fast, num, n, region, res->e164, PS_PHONE_MAX))
            return res->rc = (int)strlen(res->e164), 1;
        if (!lib)
            return 0;
        v = ps_phonelib_parse(num, n, region, res->e164, PS_PHONE_MAX, &code);
        if (v == PS_PHONELIB_VALID)
            return res->rc = (int)strlen(res->e164), 1;
    }
    res->e164[0] = '\0';
    res->lib = (int)v;
    res->code = code;
    res->rc = v == PS_PHONELIB_FAILED ? PS_PHONE_FAILED : PS_PHONE_INVALID;
    return 1;
}

int ps_phone_check(const char *s, size_t len, const char *region, ps_phone_verdict *res)
{
    check(NULL, 1, s, len, region, res);
    return res->rc;
}

int ps_phone_precheck(ps_phonefast *fast, const char *s, size_t len, const char *region,
                      ps_phone_verdict *res)
{
    return check(fast, 0, s, len, region, res);
}

int ps_phone_report(const ps_phone_verdict *res, const char *region, char *out, char *why)
{
    if (why)
        why[0] = '\0';
    out[0] = '\0';
    if (region && !*region)
        region = NULL;
    switch (res->rc) {
    case PS_PHONE_SYNTAX:
        if (why)
            snprintf(why, PS_PHONE_WHY_MAX,
                     "contains characters other than digits, '+', spaces, dashes, dots or "
                     "brackets");
        break;
    case PS_PHONE_EMPTY:
        if (why)
            snprintf(why, PS_PHONE_WHY_MAX, "is empty");
        break;
    case PS_PHONE_LOCAL:
        if (why)
            snprintf(why, PS_PHONE_WHY_MAX,
                     "is a national number and the dataset sets no country "
                     "(mapping.country or mapping.phone_country_code)");
        break;
    case PS_PHONE_INVALID:
    case PS_PHONE_FAILED:
        explain((ps_phonelib_verdict)res->lib, res->international ? NULL : region, res->code, why);
        break;
    default:
        memcpy(out, res->e164, (size_t)res->rc + 1);
        break;
    }
    return res->rc;
}

int ps_phone_normalise(const char *s, size_t len, const char *region, char *out, char *why)
{
    ps_phone_verdict res;
    ps_phone_check(s, len, region, &res);
    return ps_phone_report(&res, region, out, why);
}

int ps_phone_region_for_code(const char *code, char region[3])
{
    int c = 0;
    size_t i, n;
    region[0] = '\0';
    if (!code)
        return -1;
    if (code[0] == '+')
        code++;
    n = strlen(code);
    if (n < 1 || n > 3 || code[0] == '0')
        return -1;
    for (i = 0; i < n; i++) {
        if (code[i] < '0' || code[i] > '9')
            return -1;
        c = c * 10 + (code[i] - '0');
    }
    return ps_phonelib_main_region(c, region) > 0 ? 0 : -1;
}

int ps_phone_calling_code(const char *region)
{
    char r[3];
    if (!region || strlen(region) != 2)
        return 0;
    for (int i = 0; i < 2; i++) {
        char c = region[i];
        if (c >= 'a' && c <= 'z')
            c = (char)(c - 32);
        if (c < 'A' || c > 'Z')
            return 0;
        r[i] = c;
    }
    r[2] = '\0';
    return ps_phonelib_calling_code(r);
}
