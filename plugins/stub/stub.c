/* paysync provider plugin "stub": deterministic synthetic payments for demos, tests and
 * benchmarks (docs/providers/stub.md). Row k depends only on (seed, k): a splitmix64 stream
 * seeded from both. No I/O, no floating point, no global mutable state.
 *
 * Built with -DSTUB_RECORDS (tests/plugins/stub_records) it is "stub_records", a
 * record-shaped provider: the same payments as keyed records with typed values and nested
 * paths (/payment/amount, /customer/phone, ...), like a JSON API. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "paysync/plugin.h"

#define STUB_MAX_ROWS 1000000000LL
#define STUB_MAX_BATCH 1000000LL
#define STUB_DEFAULT_BATCH 1000
#define STUB_ROW_TEXT 640 /* bytes of text one row can need (generous upper bound) */
#define STUB_RATIO_DIGITS 9
#define STUB_SPAN_MS (90LL * 86400 * 1000) /* timestamps spread over 90 days */
#define STUB_BASE_MS (1704067200LL * 1000) /* 2024-01-01T00:00:00.000Z */

typedef struct stub {
    const ps_host *host;
    const ps_env *env;
    uint64_t rows;
    uint64_t seed;
    uint64_t ratio_num, ratio_den; /* invalid_ratio = num / den exactly */
    size_t batch_opt;              /* 0: use the core's batch size */
    size_t batch_rows;
    uint64_t ncust;
    uint64_t step_ms;
    uint64_t next;            /* 1-based index of the next payment to generate */
    int64_t retry_after_rows; /* >= 0: PS_RETRY once this many rows were yielded; -1 = never */
    char desc[96];
} stub;

static const ps_option_spec stub_options[] = {
    {.name = "rows",
     .type = PS_OPT_INT,
     .default_value = "1000",
     .description = "number of payments to generate",
     .flags = PS_OPTF_RANGE,
     .min = 0,
     .max = STUB_MAX_ROWS},
    {.name = "seed",
     .type = PS_OPT_INT,
     .default_value = "1",
     .description = "seed: the same seed gives the same rows"},
    {.name = "invalid_ratio",
     .type = PS_OPT_STRING,
     .default_value = "0",
     .description =
         "exact decimal fraction of rows made invalid (0..1, at most 9 decimals), e.g. \"0.05\""},
    {.name = "batch",
     .type = PS_OPT_INT,
     .description = "rows per batch (default: the core's batch size)",
     .flags = PS_OPTF_RANGE,
     .min = 1,
     .max = STUB_MAX_BATCH},
    {.name = "retry_after_rows",
     .type = PS_OPT_INT,
     .description = "test aid: once this many rows were yielded, fail with PS_RETRY (HTTP 429, "
                    "retry after 30 s), like a rate-limited API",
     .flags = PS_OPTF_MIN,
     .min = 0},
    {0},
};

/* ---- deterministic randomness ----------------------------------------------------------- */

static inline uint64_t mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

/* splitmix64: one draw from the stream *s. */
static inline uint64_t draw(uint64_t *s)
{
    *s += 0x9E3779B97F4A7C15ULL;
    return mix64(*s);
}

/* Uniform-enough value in [0, n) (n small: modulo bias is irrelevant here). */
static inline uint64_t pick(uint64_t *s, uint64_t n)
{
    return draw(s) % n;
}

/* ---- option parsing ---------------------------------------------------------------------- */

/* Parses "0", "0.05", "1", "1.000", ".5" into num/den exactly. 0 on success. */
static int parse_ratio(const char *s, uint64_t *num, uint64_t *den)
{
    uint64_t n = 0, d = 1;
    int digits = 0, frac = 0, seen_dot = 0;
    if (!s)
        s = "0";
    while (*s == ' ')
        s++;
    for (; *s && *s != ' '; s++) {
        if (*s == '.' && !seen_dot) {
            seen_dot = 1;
            continue;
        }
        if (*s < '0' || *s > '9')
            return -1;
        if (seen_dot && ++frac > STUB_RATIO_DIGITS)
            return -2;
        if (!seen_dot && digits > 1)
            return -1; /* > 9 can never be <= 1 */
        n = n * 10 + (uint64_t)(*s - '0');
        if (seen_dot)
            d *= 10;
        digits++;
    }
    while (*s == ' ')
        s++;
    if (*s || digits == 0)
        return -1;
    if (n > d)
        return -3;
    *num = n;
    *den = d;
    return 0;
}

static ps_status stub_create(const ps_plugin_ctx *ctx, void **inst, ps_error *err)
{
    const ps_host *h = ctx->host;
    const ps_options *o = ctx->options;
    int64_t rows = h->opt_is_set(o, "rows") ? h->opt_int(o, "rows") : 1000;
    int64_t seed = h->opt_is_set(o, "seed") ? h->opt_int(o, "seed") : 1;
    int64_t batch = h->opt_is_set(o, "batch") ? h->opt_int(o, "batch") : 0;
    const char *ratio = h->opt_string(o, "invalid_ratio");
    uint64_t num = 0, den = 1;

    /* rows, batch and retry_after_rows ranges are declared in stub_options and checked by
     * the core */
    int rc = parse_ratio(ratio, &num, &den);
    if (rc != 0)
        return ps_error_setf(err, PS_ERR_CONFIG, "%s: invalid_ratio '%.40s' %s", ctx->instance_name,
                             ratio ? ratio : "",
                             rc == -2   ? "has more than 9 decimal places"
                             : rc == -3 ? "is above 1"
                                        : "is not a decimal number between 0 and 1");

    stub *s = calloc(1, sizeof *s);
    if (!s)
        return ps_error_setf(err, PS_ERR_NOMEM, "%s: out of memory", ctx->instance_name);
    s->host = h;
    s->env = ctx->env;
    s->rows = (uint64_t)rows;
    s->seed = (uint64_t)seed;
    s->ratio_num = num;
    s->ratio_den = den;
    s->batch_opt = (size_t)batch;
    s->retry_after_rows =
        h->opt_is_set(o, "retry_after_rows") ? h->opt_int(o, "retry_after_rows") : -1;
    /* About 8 payments per customer, at least 50 customers, at most 200000. */
    s->ncust = s->rows / 8;
    if (s->ncust < 50)
        s->ncust = 50;
    if (s->ncust > 200000)
        s->ncust = 200000;
    s->step_ms = s->rows ? (uint64_t)STUB_SPAN_MS / s->rows : 1;
    if (s->step_ms == 0)
        s->step_ms = 1;
    snprintf(s->desc, sizeof s->desc, "synthetic payments (seed %lld, %lld rows)", (long long)seed,
             (long long)rows);
    *inst = s;
    return PS_OK;
}

static void stub_destroy(void *inst)
{
    free(inst);
}

/* ---- text helpers ------------------------------------------------------------------------ */

static inline char *put(char *p, const char *s, size_t n)
{
    memcpy(p, s, n);
    return p + n;
}

#define PUTS(p, lit) put((p), (lit), sizeof(lit) - 1)

static inline char *put_cstr(char *p, const char *s)
{
    return put(p, s, strlen(s));
}

/* Decimal of v, at least `width` digits (zero padded). */
static inline char *put_u(char *p, uint64_t v, int width)
{
    char tmp[24];
    int n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n < width)
        tmp[n++] = '0';
    while (n)
        *p++ = tmp[--n];
    return p;
}

/* units / 10^scale as exact decimal text. */
static inline char *put_fixed(char *p, int64_t units, int scale)
{
    uint64_t u = units < 0 ? (uint64_t)0 - (uint64_t)units : (uint64_t)units;
    uint64_t div = 1;
    for (int i = 0; i < scale; i++)
        div *= 10;
    if (units < 0)
        *p++ = '-';
    p = put_u(p, u / div, 1);
    if (scale) {
        *p++ = '.';
        p = put_u(p, u % div, scale);
    }
    return p;
}

/* Days since 1970-01-01 to a civil date (proleptic Gregorian). */
static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

/* Canonical "yyyy-MM-ddTHH:mm:ss.SSSZ" of ms since the epoch (ms >= 0). */
static char *put_timestamp(char *p, int64_t ms)
{
    int64_t days = ms / 86400000;
    int64_t rem = ms % 86400000;
    int64_t y;
    unsigned m, d;
    civil_from_days(days, &y, &m, &d);
    p = put_u(p, (uint64_t)y, 4);
    *p++ = '-';
    p = put_u(p, m, 2);
    *p++ = '-';
    p = put_u(p, d, 2);
    *p++ = 'T';
    p = put_u(p, (uint64_t)(rem / 3600000), 2);
    *p++ = ':';
    p = put_u(p, (uint64_t)(rem / 60000 % 60), 2);
    *p++ = ':';
    p = put_u(p, (uint64_t)(rem / 1000 % 60), 2);
    *p++ = '.';
    p = put_u(p, (uint64_t)(rem % 1000), 3);
    *p++ = 'Z';
    return p;
}

/* ---- the synthetic world ----------------------------------------------------------------- */

typedef struct country {
    const char *currency;
    const char *calling;         /* country calling code */
    const char *const *prefixes; /* mobile prefixes after the calling code */
    int nprefix;
    int subscriber_digits;
    int64_t lat_e6, lon_e6;         /* site centre, micro-degrees */
    int64_t amount_min, amount_max; /* in minor units (cents) */
    const char *const *first;
    const char *const *last;
    const char *utility;
} country;

static const char *const ng_pre[] = {"803", "806", "813", "816", "703", "905", "810"};
static const char *const ke_pre[] = {"712", "722", "733", "710", "795", "110"};
static const char *const gh_pre[] = {"24", "54", "20", "55", "26"};
static const char *const ng_first[] = {"Adaeze", "Chinedu", "Ngozi",     "Oluwaseun",
                                       "Aisha",  "Emeka",   "Funmilayo", "Ibrahim"};
static const char *const ng_last[] = {"Okafor",   "Adeyemi", "Bello", "Eze",
                                      "Ogunleye", "Musa",    "Nwosu", "Abubakar"};
static const char *const ke_first[] = {"Wanjiru", "Otieno", "Achieng", "Kamau",
                                       "Njeri",   "Kiprop", "Auma",    "Mwangi"};
static const char *const ke_last[] = {"Mwangi", "Odhiambo", "Kariuki", "Chebet",
                                      "Wafula", "Njoroge",  "Omondi",  "Kiptoo"};
static const char *const gh_first[] = {"Kwame", "Akosua", "Kofi", "Ama",
                                       "Yaw",   "Efua",   "Kojo", "Abena"};
static const char *const gh_last[] = {"Mensah", "Owusu", "Boateng", "Asante",
                                      "Appiah", "Osei",  "Darko",   "Agyeman"};

static const country countries[3] = {
    {"NGN", "234", ng_pre, 7, 7, 6524379, 3379206, 50000, 5000000, ng_first, ng_last,
     "UTIL-NG-IKEDC"},
    {"KES", "254", ke_pre, 6, 6, -1292066, 36821946, 5000, 500000, ke_first, ke_last,
     "UTIL-KE-KPLC"},
    {"GHS", "233", gh_pre, 5, 7, 5603717, -187046, 500, 50000, gh_first, gh_last, "UTIL-GH-ECG"},
};

static const char *const categories[] = {"Residential", "Residential", "Residential", "Residential",
                                         "Residential", "Residential", "Commercial",  "Commercial",
                                         "Business",    "Public"};
static const char *const statuses[] = {"COMPLETED", "COMPLETED", "COMPLETED", "COMPLETED",
                                       "COMPLETED", "COMPLETED", "COMPLETED", "SETTLED",
                                       "PENDING",   ""};
static const char *const notes[] = {"paid at kiosk", "Customer says: \"meter was off\"",
                                    "top-up, evening", "agent collected cash"};

/* Cumulative weights out of 100. */
static const char *transaction_type(uint64_t r100)
{
    if (r100 < 30)
        return "FULL_PAYMENT";
    if (r100 < 70)
        return "INSTALLMENT_PAYMENT";
    if (r100 < 80)
        return "NON_CONTRACT_PAYMENT";
    if (r100 < 92)
        return "ENERGY_CREDIT";
    if (r100 < 97)
        return "DISCOUNT";
    return "REVERSAL";
}

/* 1 when the k-th payment (1-based) is one of the invalid ones: exactly
 * floor(k * num / den) of the first k payments are. */
static int is_invalid(const stub *s, uint64_t k)
{
    if (s->ratio_num == 0)
        return 0;
    return (k * s->ratio_num) / s->ratio_den != ((k - 1) * s->ratio_num) / s->ratio_den;
}

typedef struct cellw {
    ps_cell *cells;
    char *p;
} cellw;

static inline void cell_begin(cellw *w, int f)
{
    w->cells[f].text = w->p;
}

static inline void cell_end(cellw *w, int f)
{
    w->cells[f].len = (uint32_t)(w->p - w->cells[f].text);
    w->cells[f].kind = PS_CELL_TEXT;
    *w->p++ = '\0';
}

static inline void cell_lit(cellw *w, int f, const char *s)
{
    w->cells[f].text = s;
    w->cells[f].len = (uint32_t)strlen(s);
    w->cells[f].kind = PS_CELL_TEXT;
}

static inline char *put_id(char *p, uint64_t seed, uint64_t k)
{
    p = PUTS(p, "PAY-");
    p = put_u(p, seed, 1);
    *p++ = '-';
    return put_u(p, k, 8);
}

/* Fills the 21 cells of payment k (1-based); text goes to *pool. */
static void gen_row(const stub *s, uint64_t k, ps_cell *cells, char **pool)
{
    cellw w = {cells, *pool};
    uint64_t r = mix64(s->seed * 0xD1B54A32D192ED03ULL + k); /* row stream */
    uint64_t cust = pick(&r, s->ncust);
    uint64_t c = mix64(s->seed ^ (0xA0761D6478BD642FULL + cust * 0x9E3779B97F4A7C15ULL));
    const country *co = &countries[c % 3];
    uint64_t cc = c >> 8;                           /* more customer bits */
    uint64_t c2 = mix64(c ^ 0x5851F42D4C957F2DULL); /* and more */

    for (int f = 0; f < PS_FIELD_COUNT; f++)
        cell_lit(&w, f, "");

    /* ID */
    cell_begin(&w, PS_F_ID);
    w.p = put_id(w.p, s->seed, k);
    cell_end(&w, PS_F_ID);

    /* TIMESTAMP */
    cell_begin(&w, PS_F_TIMESTAMP);
    int64_t ms = STUB_BASE_MS + (int64_t)((k - 1) * s->step_ms + pick(&r, s->step_ms));
    w.p = put_timestamp(w.p, ms);
    cell_end(&w, PS_F_TIMESTAMP);

    /* PAYMENT_AMOUNT: whole units most of the time, sometimes with cents */
    int64_t units = co->amount_min + (int64_t)pick(&r, (uint64_t)(co->amount_max - co->amount_min));
    int with_cents = pick(&r, 4) == 0;
    if (!with_cents)
        units -= units % 100;
    cell_begin(&w, PS_F_PAYMENT_AMOUNT);
    w.p = with_cents ? put_fixed(w.p, units, 2) : put_fixed(w.p, units / 100, 0);
    cell_end(&w, PS_F_PAYMENT_AMOUNT);

    cell_lit(&w, PS_F_PAYMENT_CURRENCY, co->currency);

    const char *type = transaction_type(pick(&r, 100));
    if (k == 1 && strcmp(type, "REVERSAL") == 0)
        type = "FULL_PAYMENT";
    cell_lit(&w, PS_F_TRANSACTION_TYPE, type);

    if (pick(&r, 2) == 0) {
        cell_begin(&w, PS_F_TRANSACTION_CHARGES);
        w.p = put_fixed(w.p, units / 100 + 1, 2); /* about 1 % of the amount */
        cell_end(&w, PS_F_TRANSACTION_CHARGES);
    }

    /* REFERENCE_ID: the reversed payment's ID, or a mobile-money reference */
    cell_begin(&w, PS_F_REFERENCE_ID);
    if (type[0] == 'R') {
        uint64_t back = 1 + pick(&r, k - 1 < 100 ? k - 1 : 100);
        w.p = put_id(w.p, s->seed, k - back);
    } else {
        static const char an[] = "ABCDEFGHJKLMNPQRSTUVWXYZ0123456789";
        uint64_t x = draw(&r);
        w.p = PUTS(w.p, "MM");
        for (int i = 0; i < 10; i++, x /= 34)
            *w.p++ = an[x % 34];
    }
    cell_end(&w, PS_F_REFERENCE_ID);

    cell_begin(&w, PS_F_CUSTOMER_ID);
    w.p = PUTS(w.p, "CUST-");
    w.p = put_u(w.p, cust + 1, 6);
    cell_end(&w, PS_F_CUSTOMER_ID);

    cell_begin(&w, PS_F_METER_ID);
    w.p = put(w.p, co->currency, 2);
    w.p = PUTS(w.p, "-SM");
    w.p = put_u(w.p, 10000000 + cust * 37, 8);
    cell_end(&w, PS_F_METER_ID);

    cell_begin(&w, PS_F_CUSTOMER_NAME);
    w.p = put_cstr(w.p, co->first[cc % 8]);
    *w.p++ = ' ';
    w.p = put_cstr(w.p, co->last[(cc >> 3) % 8]);
    cell_end(&w, PS_F_CUSTOMER_NAME);

    cell_begin(&w, PS_F_CUSTOMER_PHONE);
    *w.p++ = '+';
    w.p = put_cstr(w.p, co->calling);
    w.p = put_cstr(w.p, co->prefixes[(cc >> 6) % (uint64_t)co->nprefix]);
    {
        uint64_t mod = 1;
        for (int i = 0; i < co->subscriber_digits; i++)
            mod *= 10;
        w.p = put_u(w.p, (cc >> 9) % mod, co->subscriber_digits);
    }
    cell_end(&w, PS_F_CUSTOMER_PHONE);

    cell_lit(&w, PS_F_CUSTOMER_CATEGORY, categories[c2 % 10]);

    if ((c2 >> 8) % 10 < 3) {
        cell_begin(&w, PS_F_FINANCING_ID);
        w.p = PUTS(w.p, "RBF-");
        w.p = put_u(w.p, (cc >> 20) % 10000, 4);
        cell_end(&w, PS_F_FINANCING_ID);
    }
    if (pick(&r, 10) < 4) {
        cell_begin(&w, PS_F_AGENT_ID);
        w.p = PUTS(w.p, "AGT-");
        w.p = put_u(w.p, 1 + pick(&r, 250), 3);
        cell_end(&w, PS_F_AGENT_ID);
    }
    if ((c2 >> 16) % 10 < 8) { /* 80 % of customers have coordinates */
        cell_begin(&w, PS_F_LATITUDE);
        w.p = put_fixed(w.p, co->lat_e6 + (int64_t)((cc >> 12) % 1000001) - 500000, 6);
        cell_end(&w, PS_F_LATITUDE);
        cell_begin(&w, PS_F_LONGITUDE);
        w.p = put_fixed(w.p, co->lon_e6 + (int64_t)((cc >> 24) % 1000001) - 500000, 6);
        cell_end(&w, PS_F_LONGITUDE);
    }
    if ((c2 >> 24) % 4 != 0)
        cell_lit(&w, PS_F_UTILITY_ID, co->utility);
    if (pick(&r, 4) == 0) {
        cell_begin(&w, PS_F_FAILED_BATTERY_CAPACITY_COUNT);
        w.p = put_u(w.p, pick(&r, 6), 1);
        cell_end(&w, PS_F_FAILED_BATTERY_CAPACITY_COUNT);
    }
    if ((c2 >> 32) % 5 != 0)
        cell_lit(&w, PS_F_ACCOUNT_TYPE, (c2 >> 40) % 4 == 0 ? "Postpaid" : "Prepaid");
    cell_lit(&w, PS_F_STATUS, statuses[pick(&r, 10)]);
    if (pick(&r, 20) == 0)
        cell_lit(&w, PS_F_NOTES, notes[pick(&r, 4)]);

    if (is_invalid(s, k)) {
        static const char *const bad_amount[] = {"12a.50", "", "1.23456", "one thousand"};
        static const char *const bad_ts[] = {"2024-02-30T10:00:00.000Z", "yesterday",
                                             "2024-03-05T25:00:00Z", ""};
        static const char *const bad_cur[] = {"XYZ", "Shilling", "N$X", ""};
        static const char *const bad_type[] = {"PAYMENT_OK", "REFUND", "", "FULL"};
        uint64_t v = pick(&r, 4);
        switch (pick(&r, 5)) {
        case 0:
            cell_lit(&w, PS_F_PAYMENT_AMOUNT, bad_amount[v]);
            break;
        case 1:
            cell_lit(&w, PS_F_TIMESTAMP, bad_ts[v]);
            break;
        case 2:
            cell_lit(&w, PS_F_PAYMENT_CURRENCY, bad_cur[v]);
            break;
        case 3:
            cell_lit(&w, PS_F_TRANSACTION_TYPE, bad_type[v]);
            break;
        default:
            cell_lit(&w, v % 2 ? PS_F_METER_ID : PS_F_CUSTOMER_ID, "");
            break;
        }
    }
    *pool = w.p;
}

/* ---- record shape ------------------------------------------------------------------------ */

#ifdef STUB_RECORDS
/* The key path of each field, as a JSON API might nest it. Top-level keys named like a field
 * map by themselves; the nested ones need mapping.columns (docs/providers/stub.md). */
static const char *const record_path[PS_FIELD_COUNT] = {"/id",
                                                        "/timestamp",
                                                        "/payment/amount",
                                                        "/payment/currency",
                                                        "/payment/type",
                                                        "/payment/charges",
                                                        "/reference_id",
                                                        "/customer/id",
                                                        "/meter/id",
                                                        "/customer/name",
                                                        "/customer/phone",
                                                        "/customer/category",
                                                        "/financing_id",
                                                        "/agent_id",
                                                        "/location/lat",
                                                        "/location/lon",
                                                        "/utility_id",
                                                        "/failed_battery_capacity_count",
                                                        "/account_type",
                                                        "/status",
                                                        "/notes"};

/* -?[0-9]+ (int_only) or -?[0-9]+(.[0-9]+)? */
static int is_number(const char *s, size_t n, int int_only)
{
    size_t i = n && s[0] == '-', d = 0, dot = 0;
    for (; i < n; i++) {
        if (s[i] >= '0' && s[i] <= '9')
            d++;
        else if (s[i] == '.' && !int_only && !dot && d && i + 1 < n)
            dot = 1;
        else
            return 0;
    }
    return d > 0;
}

/* A generated row as a record: empty optional fields become JSON null (or are left out,
 * alternately), numbers of the amount, coordinate and count fields are typed values. */
static uint32_t row_to_values(uint64_t k, const ps_cell *cells, ps_value *v)
{
    uint32_t n = 0;
    for (int f = 0; f < PS_FIELD_COUNT; f++) {
        const ps_cell *c = &cells[f];
        uint8_t type = PS_VAL_TEXT;
        if (c->len == 0) {
            if ((k + (uint64_t)f) % 2)
                continue; /* key absent */
            type = PS_VAL_NULL;
        } else if (f == PS_F_PAYMENT_AMOUNT || f == PS_F_TRANSACTION_CHARGES ||
                   f == PS_F_LATITUDE || f == PS_F_LONGITUDE) {
            type = is_number(c->text, c->len, 0) ? PS_VAL_DECIMAL : PS_VAL_TEXT;
        } else if (f == PS_F_FAILED_BATTERY_CAPACITY_COUNT) {
            type = is_number(c->text, c->len, 1) ? PS_VAL_INT : PS_VAL_TEXT;
        }
        v[n].path = record_path[f];
        v[n].path_len = (uint32_t)strlen(record_path[f]);
        v[n].type = type;
        v[n].text = c->len ? c->text : "";
        v[n].len = c->len;
        n++;
    }
    return n;
}
#endif

/* ---- provider ops ------------------------------------------------------------------------ */

static ps_status stub_open(void *inst, const ps_open_args *args, ps_table_info *info, ps_error *err)
{
    stub *s = inst;
    ps_cell *hdr = s->host->arena_alloc(args->run_arena, PS_FIELD_COUNT * sizeof *hdr);
    if (!hdr)
        return ps_error_setf(err, PS_ERR_NOMEM, "stub: out of memory");
    for (int f = 0; f < PS_FIELD_COUNT; f++) {
        const char *name = s->host->field_name(f);
        if (!name)
            return ps_error_setf(err, PS_ERR_INTERNAL, "stub: the host has no name for field %d",
                                 f);
        hdr[f].text = name;
        hdr[f].len = (uint32_t)strlen(name);
        hdr[f].kind = PS_CELL_TEXT;
    }
    s->next = 1;
    s->batch_rows = s->batch_opt       ? s->batch_opt
                    : args->batch_rows ? args->batch_rows
                                       : STUB_DEFAULT_BATCH;
#ifdef STUB_RECORDS
    info->ncolumns = 0; /* records have no header */
    info->header = NULL;
    info->header_line = 0;
#else
    info->ncolumns = PS_FIELD_COUNT;
    info->header = hdr;
    info->header_line = 1;
#endif
    info->time_zone = NULL;
    info->source_desc = s->desc;
    return PS_OK;
}

static ps_status stub_next_batch(void *inst, ps_arena *arena, ps_row_batch *batch, ps_error *err)
{
    stub *s = inst;
    batch->count = 0;
    batch->rows = NULL;
    if (s->next == 0 || s->next > s->rows)
        return PS_END;
    uint64_t left = s->rows - s->next + 1;
    size_t n = left < s->batch_rows ? (size_t)left : s->batch_rows;
    if (s->retry_after_rows >= 0) {
        uint64_t done = s->next - 1, limit = (uint64_t)s->retry_after_rows;
        if (done >= limit) {
            if (err) {
                err->http_status = 429;
                err->retry_after_ms = 30000;
            }
            return ps_error_setf(err, PS_RETRY, "stub: rate limited after %llu rows (HTTP 429)",
                                 (unsigned long long)done);
        }
        if (limit - done < n)
            n = (size_t)(limit - done);
    }
    ps_row *rows = s->host->arena_alloc(arena, n * sizeof *rows);
    ps_cell *cells = s->host->arena_alloc(arena, n * PS_FIELD_COUNT * sizeof *cells);
    char *pool = s->host->arena_alloc(arena, n * STUB_ROW_TEXT);
    if (!rows || !cells || !pool)
        return ps_error_setf(err, PS_ERR_NOMEM, "stub: out of memory for a batch of %zu rows", n);
#ifdef STUB_RECORDS
    ps_keyed_row *recs = s->host->arena_alloc(arena, n * sizeof *recs);
    ps_value *vals = s->host->arena_alloc(arena, n * PS_FIELD_COUNT * sizeof *vals);
    if (!recs || !vals)
        return ps_error_setf(err, PS_ERR_NOMEM, "stub: out of memory for a batch of %zu rows", n);
    for (size_t i = 0; i < n; i++) {
        uint64_t k = s->next++;
        ps_cell *c = cells + i * PS_FIELD_COUNT;
        gen_row(s, k, c, &pool);
        recs[i].line = k; /* record k, 1-based */
        recs[i].values = vals + i * PS_FIELD_COUNT;
        recs[i].nvalues = row_to_values(k, c, vals + i * PS_FIELD_COUNT);
    }
    batch->count = n;
    batch->records = recs;
    return PS_OK;
#endif
    for (size_t i = 0; i < n; i++) {
        uint64_t k = s->next++;
        gen_row(s, k, cells + i * PS_FIELD_COUNT, &pool);
        rows[i].line = k + 1; /* header is row 1 */
        rows[i].ncells = PS_FIELD_COUNT;
        rows[i].cells = cells + i * PS_FIELD_COUNT;
    }
    batch->count = n;
    batch->rows = rows;
    return PS_OK;
}

static void stub_close(void *inst)
{
    stub *s = inst;
    s->next = 0;
}

static const ps_provider_ops stub_provider = {
    .struct_size = sizeof(ps_provider_ops),
    .open = stub_open,
    .next_batch = stub_next_batch,
    .cursor = NULL,
    .close = stub_close,
#ifdef STUB_RECORDS
    .shape = PS_SHAPE_RECORD,
#else
    .shape = PS_SHAPE_TABULAR,
#endif
};

static const ps_plugin_descriptor stub_descriptor = {
    .struct_size = sizeof(ps_plugin_descriptor),
    .abi_major = PS_ABI_MAJOR,
    .abi_minor = PS_ABI_MINOR,
#ifdef STUB_RECORDS
    .name = "stub_records",
    .description = "stub's payments as keyed records with nested paths (record shape; tests)",
#else
    .name = "stub",
    .description = "deterministic synthetic electricity payments (demos, tests, benchmarks)",
#endif
    .version = "1.0.0",
    .kind = PS_PLUGIN_PROVIDER,
    .flags = 0,
    .options = stub_options,
    .option_spec_size = sizeof(ps_option_spec),
    .create = stub_create,
    .check = NULL,
    .destroy = stub_destroy,
    .provider = &stub_provider,
    .sink = NULL,
};

#ifdef STUB_RECORDS
PS_PLUGIN_DEFINE(stub_records, stub_descriptor)
#else
PS_PLUGIN_DEFINE(stub, stub_descriptor)
#endif
