/* paysync core: the exact phone pre-check (see phonefast.h). Each step below names the
 * libphonenumber 8.12 function (phonenumberutil.cc) whose behaviour it reproduces; anything
 * outside the reproduced cases returns "not decided".
 *
 * PS_PHONE_FASTPATH in the environment (read when the object is made): "off" = never decide
 * (every number goes to libphonenumber); "verify" = every decided number is also parsed by
 * libphonenumber, a disagreement aborts the process with both answers on stderr, and the
 * counts are printed to stderr when the object is freed (the oracle test runs so). */
#include "model/phonefast.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/digitre.h"
#include "model/phonelib.h"

/* libphonenumber's kMinLengthForNsn and kMaxLengthForNsn. */
#define MIN_NSN 2
#define MAX_NSN 17

enum { MODE_ON, MODE_OFF, MODE_VERIFY };

/* A pattern as PCRE2 compiled it and, when it is in model/digitre.h's subset, as a DFA,
 * which answers the same for a fraction of the cost (for a prefix match only when the
 * pattern is prefix-free). */
typedef struct rx {
    pcre2_code *re; /* NULL: empty pattern, nothing matches */
    ps_digitre *dfa;
    int dfa_prefix;
} rx;

typedef struct desc {
    rx re;
    int nlengths;
    unsigned lengths, local;
} desc;

typedef struct plan {
    int code;   /* calling code; 0 = free slot */
    int usable; /* 0: the code is shared, non-geographic or its plan could not be compiled */
    char region[3];
    char code_text[4];
    size_t code_len;
    int idd_empty;
    rx idd, np; /* international prefix, national prefix for parsing (re NULL: none) */
    int transform, same_mobile_and_fixed_line;
    desc d[PS_PHONELIB_DESCS];
} plan;

struct ps_phonefast {
    plan plans[PS_PHONEFAST_PLANS];
    pcre2_match_data *md;
    signed char known[1000]; /* calling code known to libphonenumber: -1 not asked yet */
    char last_region[3];
    int last_region_code;
    int mode;
    int nojit; /* some pattern could not be JIT-compiled: every match through pcre2_match */
    unsigned long long decided, undecided;
};

ps_phonefast *ps_phonefast_new(void)
{
    ps_phonefast *f = calloc(1, sizeof *f);
    const char *m = getenv("PS_PHONE_FASTPATH");
    if (!f)
        return NULL;
    f->md = pcre2_match_data_create(1, NULL);
    if (!f->md) {
        free(f);
        return NULL;
    }
    memset(f->known, -1, sizeof f->known);
    f->mode = !m                         ? MODE_ON
              : strcmp(m, "off") == 0    ? MODE_OFF
              : strcmp(m, "verify") == 0 ? MODE_VERIFY
                                         : MODE_ON;
    return f;
}

static void rx_free(rx *r)
{
    pcre2_code_free(r->re);
    ps_digitre_free(r->dfa);
}

static void plan_clear(plan *p)
{
    rx_free(&p->idd);
    rx_free(&p->np);
    for (int i = 0; i < PS_PHONELIB_DESCS; i++)
        rx_free(&p->d[i].re);
    memset(p, 0, sizeof *p);
}

void ps_phonefast_counts(const ps_phonefast *f, unsigned long long *decided,
                         unsigned long long *undecided)
{
    *decided = f ? f->decided : 0;
    *undecided = f ? f->undecided : 0;
}

void ps_phonefast_free(ps_phonefast *f)
{
    if (!f)
        return;
    if (f->mode == MODE_VERIFY)
        fprintf(stderr,
                "paysync: phone pre-check: %llu number(s) decided, all as libphonenumber "
                "decides them; %llu left to libphonenumber\n",
                f->decided, f->undecided);
    for (int i = 0; i < PS_PHONEFAST_PLANS; i++)
        plan_clear(&f->plans[i]);
    pcre2_match_data_free(f->md);
    free(f);
}

/* pattern compiled anchored at the start (prefix: libphonenumber's Consume) or at both
 * ends (full: FullMatch) into *r; r->re NULL (with *bad set when PCRE2 rejects it) for an
 * empty pattern. */
static void compile(ps_phonefast *f, rx *r, const char *pattern, int full, int *bad)
{
    int err;
    PCRE2_SIZE off;
    pcre2_code *re;
    memset(r, 0, sizeof *r);
    if (!pattern || !*pattern)
        return;
    re = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED,
                       PCRE2_ANCHORED | (full ? PCRE2_ENDANCHORED : 0), &err, &off, NULL);
    if (!re) {
        *bad = 1;
        return;
    }
    r->re = re;
    r->dfa = ps_digitre_compile(pattern);
    r->dfa_prefix = r->dfa && ps_digitre_prefix_free(r->dfa);
    if (full ? r->dfa != NULL : r->dfa_prefix)
        return; /* PCRE2 never matches with it */
    /* PS_PHONE_NOJIT=1 (the valgrind stage: JIT code reads look uninitialised to memcheck)
     * matches through pcre2_match; without JIT it still matches, more slowly */
    if (getenv("PS_PHONE_NOJIT") || pcre2_jit_compile(re, PCRE2_JIT_COMPLETE) != 0)
        f->nojit = 1;
}

static int load(ps_phonefast *f, plan *p, int code)
{
    ps_phonelib_plan lp;
    int bad = 0;
    memset(p, 0, sizeof *p);
    p->code = code;
    if (ps_phonelib_plan_get(code, &lp) != 0)
        return 0;
    memcpy(p->region, lp.region, 3);
    p->code_len = (size_t)snprintf(p->code_text, sizeof p->code_text, "%d", code);
    p->idd_empty = !lp.international_prefix[0];
    compile(f, &p->idd, lp.international_prefix, 0, &bad);
    compile(f, &p->np, lp.national_prefix_for_parsing, 0, &bad);
    p->transform = lp.has_transform_rule;
    p->same_mobile_and_fixed_line = lp.same_mobile_and_fixed_line;
    for (int i = 0; i < PS_PHONELIB_DESCS; i++) {
        compile(f, &p->d[i].re, lp.desc[i].pattern, 1, &bad);
        p->d[i].nlengths = lp.desc[i].nlengths;
        p->d[i].lengths = lp.desc[i].lengths;
        p->d[i].local = lp.desc[i].local_lengths;
    }
    ps_phonelib_plan_free(&lp);
    /* TestNumberLength reads the general description's first length: it must have some */
    if (bad || p->d[0].nlengths == 0) {
        plan_clear(p);
        p->code = code;
        return 0;
    }
    p->usable = 1;
    return 1;
}

/* The plan of code (loaded on first use), NULL when it cannot decide for that code. */
static const plan *plan_for(ps_phonefast *f, int code)
{
    for (int i = 0; i < PS_PHONEFAST_PLANS; i++) {
        plan *p = &f->plans[i];
        if (p->code == code)
            return p->usable ? p : NULL;
        if (p->code == 0)
            return load(f, p, code) ? p : NULL;
    }
    return NULL; /* more codes than slots in one run: the rest go to libphonenumber */
}

static int known_code(ps_phonefast *f, int code)
{
    if (f->known[code] < 0)
        f->known[code] = (signed char)(ps_phonelib_is_calling_code(code) ? 1 : 0);
    return f->known[code];
}

/* One match of re at the start of s: the JIT's direct entry when every pattern was
 * JIT-compiled (it skips pcre2_match's checks: about a third of the cost), else
 * pcre2_match. A match is a return >= 0 (0: the pattern's groups did not fit the one-pair
 * match data, which holds only the whole match). */
static int match(ps_phonefast *f, const pcre2_code *re, const char *s, size_t n)
{
    if (f->nojit)
        return pcre2_match(re, (PCRE2_SPTR)s, n, 0, 0, f->md, NULL);
    return pcre2_jit_match(re, (PCRE2_SPTR)s, n, 0, 0, f->md, NULL);
}

/* RegExp::FullMatch */
static int full(ps_phonefast *f, const rx *r, const char *s, size_t n)
{
    if (r->dfa)
        return ps_digitre_full(r->dfa, s, n);
    return r->re && match(f, r->re, s, n) >= 0;
}

/* RegExp::Consume: the length of the match at the start of s, -1 for none. */
static long consume(ps_phonefast *f, const rx *r, const char *s, size_t n)
{
    if (r->dfa_prefix)
        return ps_digitre_consume(r->dfa, s, n);
    if (match(f, r->re, s, n) < 0)
        return -1;
    return (long)pcre2_get_ovector_pointer(f->md)[1];
}

enum { POSSIBLE, TOO_SHORT, TOO_LONG, INVALID_LENGTH, LOCAL_ONLY };

static int has_len(unsigned bits, size_t n)
{
    return n >= 1 && n <= 31 && (bits >> n) & 1u;
}

/* TestNumberLength(number, metadata) (type UNKNOWN: the general description) */
static int test_length(const plan *p, size_t n)
{
    const desc *g = &p->d[0];
    unsigned min, max;
    if (g->lengths == 0)
        return INVALID_LENGTH; /* the lengths are only -1 */
    if (has_len(g->local, n))
        return LOCAL_ONLY;
    min = (unsigned)__builtin_ctz(g->lengths);
    max = 31u - (unsigned)__builtin_clz(g->lengths);
    if (n == min)
        return POSSIBLE;
    if (n < min)
        return TOO_SHORT;
    if (n > max)
        return TOO_LONG;
    return has_len(g->lengths, n) ? POSSIBLE : INVALID_LENGTH;
}

/* IsNumberMatchingDesc */
static int matches(ps_phonefast *f, const desc *d, const char *s, size_t n)
{
    if (d->nlengths > 0 && !has_len(d->lengths, n))
        return 0;
    return full(f, &d->re, s, n);
}

/* GetNumberTypeHelper(...) != UNKNOWN. Only whether some type matches counts here, not
 * which, so the descriptions are tried in any order: mobile first (when it is its own
 * description), the type most numbers in payment data have, then premium rate .. fixed line. */
static int valid_type(ps_phonefast *f, const plan *p, const char *s, size_t n)
{
    if (!matches(f, &p->d[0], s, n))
        return 0;
    if (!p->same_mobile_and_fixed_line && matches(f, &p->d[10], s, n))
        return 1;
    for (int i = 1; i <= 9; i++) /* premium rate .. fixed line */
        if (matches(f, &p->d[i], s, n))
            return 1;
    return 0;
}

static int decide(ps_phonefast *f, const char *num, size_t len, const char *region, char *e164,
                  size_t cap)
{
    const plan *p;
    const char *nn;
    size_t n;
    if (len == 0)
        return 0;
    if (num[0] == '+') {
        /* MaybeExtractCountryCode with a '+': TOO_SHORT_AFTER_IDD at <= 2 digits, then
         * ExtractCountryCode: the shortest known code of 1-3 digits, none starts with 0 */
        const char *d = num + 1;
        size_t nd = len - 1, i;
        int code = 0;
        if (nd <= MIN_NSN || d[0] == '0')
            return 0;
        for (i = 1; i <= 3 && i <= nd; i++) {
            code = code * 10 + (d[i - 1] - '0');
            if (known_code(f, code))
                break;
        }
        if (i > 3 || i > nd || (p = plan_for(f, code)) == NULL)
            return 0;
        nn = d + i;
        n = nd - i;
    } else {
        /* no '+': the dataset's country, and neither its international prefix
         * (MaybeStripInternationalPrefixAndNormalize) nor its calling code
         * (MaybeExtractCountryCode's default-country branch) at the start */
        if (!region || !region[0] || !region[1] || region[2])
            return 0;
        if (memcmp(region, f->last_region, 3) != 0) {
            f->last_region_code = ps_phonelib_calling_code(region);
            memcpy(f->last_region, region, 3);
        }
        if (f->last_region_code <= 0 || f->last_region_code > 999 ||
            (p = plan_for(f, f->last_region_code)) == NULL || memcmp(p->region, region, 3) != 0)
            return 0;
        if (len < MIN_NSN || p->idd_empty || (p->idd.re && consume(f, &p->idd, num, len) >= 0) ||
            (len >= p->code_len && memcmp(num, p->code_text, p->code_len) == 0))
            return 0;
        nn = num;
        n = len;
    }
    if (n < MIN_NSN)
        return 0; /* TOO_SHORT_NSN */
    /* MaybeStripNationalPrefixAndCarrierCode, then ParseHelper keeps the stripped number
     * unless TestNumberLength says TOO_SHORT, IS_POSSIBLE_LOCAL_ONLY or INVALID_LENGTH */
    if (p->np.re) {
        long k = consume(f, &p->np, nn, n);
        if (k >= 0) {
            const char *rest = nn + k;
            size_t nr = n - (size_t)k;
            int t;
            if (p->transform)
                return 0;
            if (!(full(f, &p->d[0].re, nn, n) && !full(f, &p->d[0].re, rest, nr))) {
                t = test_length(p, nr);
                if (t != TOO_SHORT && t != LOCAL_ONLY && t != INVALID_LENGTH) {
                    nn = rest;
                    n = nr;
                }
            }
        }
    }
    /* ParseHelper's length checks; a leading zero would be an "Italian leading zero" */
    if (n < MIN_NSN || n > MAX_NSN || nn[0] == '0')
        return 0;
    if (!valid_type(f, p, nn, n))
        return 0;
    if (1 + p->code_len + n + 1 > cap)
        return 0;
    e164[0] = '+';
    memcpy(e164 + 1, p->code_text, p->code_len);
    memcpy(e164 + 1 + p->code_len, nn, n);
    e164[1 + p->code_len + n] = '\0';
    return 1;
}

int ps_phonefast_valid(ps_phonefast *f, const char *num, size_t len, const char *region, char *e164,
                       size_t cap)
{
    int r;
    if (!f || f->mode == MODE_OFF)
        return 0;
    r = decide(f, num, len, region, e164, cap);
    if (!r) {
        f->undecided++;
        return 0;
    }
    f->decided++;
    if (f->mode == MODE_VERIFY) {
        char lib[32];
        ps_phonelib_verdict v = ps_phonelib_parse(num, len, region, lib, sizeof lib, NULL);
        if (v != PS_PHONELIB_VALID || strcmp(lib, e164) != 0) {
            fprintf(stderr,
                    "paysync: phone pre-check disagrees with libphonenumber on '%.*s' "
                    "(country %s): pre-check valid %s, libphonenumber verdict %d '%s'\n",
                    (int)len, num, region ? region : "none", e164, (int)v, lib);
            abort();
        }
    }
    return 1;
}
