/* Unit tests: the stub provider plugin (synthetic payments), driven through its descriptor. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fake_host.h"

const ps_plugin_descriptor *paysync_plugin_entry_stub(void);

/* The spec's 21 fields, in its order (electricity-payments.md "Fields"). */
static const char *const spec_fields[21] = {
    "ID",
    "TIMESTAMP",
    "PAYMENT_AMOUNT",
    "PAYMENT_CURRENCY",
    "TRANSACTION_TYPE",
    "TRANSACTION_CHARGES",
    "REFERENCE_ID",
    "CUSTOMER_ID",
    "METER_ID",
    "CUSTOMER_NAME",
    "CUSTOMER_PHONE",
    "CUSTOMER_CATEGORY",
    "FINANCING_ID",
    "AGENT_ID",
    "LATITUDE",
    "LONGITUDE",
    "UTILITY_ID",
    "FAILED_BATTERY_CAPACITY_COUNT",
    "ACCOUNT_TYPE",
    "STATUS",
    "NOTES",
};

static ps_status prov_create(fake_provider *p, const char *const *opts)
{
    return fake_provider_create(p, paysync_plugin_entry_stub(), opts);
}

/* ---- a validity oracle, independent of the core's validator ------------------------------ */

static int is_digits(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return 0;
    return n > 0;
}

static int num(const char *s, size_t n)
{
    int v = 0;
    for (size_t i = 0; i < n; i++)
        v = v * 10 + (s[i] - '0');
    return v;
}

/* Canonical yyyy-MM-ddTHH:mm:ss.SSSZ with a real calendar date. */
static int valid_ts(const char *s)
{
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (strlen(s) != 24 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' ||
        s[16] != ':' || s[19] != '.' || s[23] != 'Z')
        return 0;
    if (!is_digits(s, 4) || !is_digits(s + 5, 2) || !is_digits(s + 8, 2) || !is_digits(s + 11, 2) ||
        !is_digits(s + 14, 2) || !is_digits(s + 17, 2) || !is_digits(s + 20, 3))
        return 0;
    int y = num(s, 4), m = num(s + 5, 2), d = num(s + 8, 2);
    if (m < 1 || m > 12 || d < 1)
        return 0;
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (d > mdays[m - 1] + (m == 2 && leap))
        return 0;
    return num(s + 11, 2) < 24 && num(s + 14, 2) < 60 && num(s + 17, 2) < 60;
}

/* Plain decimal with 0..4 fractional digits. */
static int valid_amount(const char *s)
{
    const char *dot = strchr(s, '.');
    size_t ip = dot ? (size_t)(dot - s) : strlen(s);
    if (*s == '-')
        return 0;
    if (!is_digits(s, ip))
        return 0;
    if (!dot)
        return 1;
    size_t fp = strlen(dot + 1);
    return fp >= 1 && fp <= 4 && is_digits(dot + 1, fp);
}

static int in_list(const char *s, const char *const *list)
{
    for (; *list; list++)
        if (strcmp(s, *list) == 0)
            return 1;
    return 0;
}

static const char *const currencies[] = {"NGN", "KES", "GHS", NULL};
static const char *const types[] = {"FULL_PAYMENT",
                                    "INSTALLMENT_PAYMENT",
                                    "NON_CONTRACT_PAYMENT",
                                    "DISCOUNT",
                                    "REVERSAL",
                                    "ENERGY_CREDIT",
                                    NULL};

/* 1 when a row passes the spec's required-field rules (standard profile) and the optional
 * fields the stub fills are well-formed. */
static int row_valid(const ps_cell *c)
{
    if (!valid_ts(c[PS_F_TIMESTAMP].text) || !valid_amount(c[PS_F_PAYMENT_AMOUNT].text) ||
        !in_list(c[PS_F_PAYMENT_CURRENCY].text, currencies) ||
        !in_list(c[PS_F_TRANSACTION_TYPE].text, types))
        return 0;
    static const int required[] = {PS_F_ID,
                                   PS_F_CUSTOMER_ID,
                                   PS_F_METER_ID,
                                   PS_F_CUSTOMER_NAME,
                                   PS_F_CUSTOMER_PHONE,
                                   PS_F_CUSTOMER_CATEGORY};
    for (size_t i = 0; i < sizeof required / sizeof required[0]; i++)
        if (c[required[i]].len == 0)
            return 0;
    const char *ph = c[PS_F_CUSTOMER_PHONE].text;
    size_t pl = strlen(ph);
    assert_true(ph[0] == '+' && is_digits(ph + 1, pl - 1) && pl - 1 >= 8 && pl - 1 <= 15);
    if (c[PS_F_TRANSACTION_CHARGES].len)
        assert_true(valid_amount(c[PS_F_TRANSACTION_CHARGES].text));
    if (c[PS_F_FAILED_BATTERY_CAPACITY_COUNT].len)
        assert_true(is_digits(c[PS_F_FAILED_BATTERY_CAPACITY_COUNT].text,
                              c[PS_F_FAILED_BATTERY_CAPACITY_COUNT].len));
    assert_int_equal(c[PS_F_LATITUDE].len == 0, c[PS_F_LONGITUDE].len == 0);
    if (c[PS_F_LATITUDE].len) {
        int lat = atoi(c[PS_F_LATITUDE].text), lon = atoi(c[PS_F_LONGITUDE].text);
        assert_true(lat >= -90 && lat <= 90 && lon >= -180 && lon <= 180);
        assert_non_null(strchr(c[PS_F_LATITUDE].text, '.'));
    }
    return 1;
}

/* ---- collecting a run --------------------------------------------------------------------- */

typedef struct run_stats {
    size_t rows, invalid, batches;
    uint64_t hash; /* FNV-1a of every cell, in order */
    char first_ts[32], last_ts[32];
    size_t distinct_customers, distinct_meters, distinct_types, currencies_seen;
    size_t empty_optional, filled_optional;
    size_t reversals_checked;
    char **ids; /* all IDs, for uniqueness */
} run_stats;

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static size_t count_distinct(char **v, size_t n)
{
    if (n == 0)
        return 0;
    qsort(v, n, sizeof *v, cmp_str);
    size_t d = 1;
    for (size_t i = 1; i < n; i++)
        d += strcmp(v[i], v[i - 1]) != 0;
    return d;
}

static void collect(fake_provider *p, run_stats *st, size_t expect_rows)
{
    memset(st, 0, sizeof *st);
    st->hash = 1469598103934665603ULL;
    char **ids = calloc(expect_rows + 1, sizeof *ids);
    char **custs = calloc(expect_rows + 1, sizeof *custs);
    char **meters = calloc(expect_rows + 1, sizeof *meters);
    char **tys = calloc(expect_rows + 1, sizeof *tys);
    int cur_seen[3] = {0, 0, 0};
    ps_status s;
    ps_row_batch b;
    while ((s = p->d->provider->next_batch(p->inst, p->batch, &b, &p->err)) == PS_OK) {
        st->batches++;
        assert_true(b.count > 0);
        for (size_t i = 0; i < b.count; i++) {
            const ps_row *r = &b.rows[i];
            assert_true(st->rows < expect_rows);
            assert_int_equal(r->line, st->rows + 2); /* header is row 1 */
            assert_int_equal(r->ncells, 21);
            const ps_cell *c = r->cells;
            for (int f = 0; f < 21; f++) {
                assert_non_null(c[f].text);
                assert_int_equal(strlen(c[f].text), c[f].len);
                assert_int_equal(c[f].kind, PS_CELL_TEXT);
                for (uint32_t k = 0; k <= c[f].len; k++) /* NUL separates cells in the hash */
                    st->hash = (st->hash ^ (unsigned char)c[f].text[k]) * 1099511628211ULL;
            }
            if (!row_valid(c))
                st->invalid++;
            ids[st->rows] = strdup(c[PS_F_ID].text);
            custs[st->rows] = strdup(c[PS_F_CUSTOMER_ID].text);
            meters[st->rows] = strdup(c[PS_F_METER_ID].text);
            tys[st->rows] = strdup(c[PS_F_TRANSACTION_TYPE].text);
            for (int k = 0; k < 3; k++)
                cur_seen[k] |= strcmp(c[PS_F_PAYMENT_CURRENCY].text, currencies[k]) == 0;
            static const int optional[] = {PS_F_TRANSACTION_CHARGES,
                                           PS_F_FINANCING_ID,
                                           PS_F_AGENT_ID,
                                           PS_F_LATITUDE,
                                           PS_F_UTILITY_ID,
                                           PS_F_FAILED_BATTERY_CAPACITY_COUNT,
                                           PS_F_ACCOUNT_TYPE,
                                           PS_F_NOTES};
            for (size_t k = 0; k < sizeof optional / sizeof optional[0]; k++) {
                if (c[optional[k]].len)
                    st->filled_optional++;
                else
                    st->empty_optional++;
            }
            if (strcmp(c[PS_F_TRANSACTION_TYPE].text, "REVERSAL") == 0) {
                /* references an earlier payment of this run */
                const char *ref = c[PS_F_REFERENCE_ID].text;
                int found = 0;
                for (size_t k = 0; k < st->rows && !found; k++)
                    found = strcmp(ids[k], ref) == 0;
                assert_true(found);
                st->reversals_checked++;
            }
            if (valid_ts(c[PS_F_TIMESTAMP].text)) {
                if (!st->first_ts[0])
                    snprintf(st->first_ts, sizeof st->first_ts, "%s", c[PS_F_TIMESTAMP].text);
                snprintf(st->last_ts, sizeof st->last_ts, "%s", c[PS_F_TIMESTAMP].text);
            }
            st->rows++;
        }
        ps_arena_reset(p->batch);
    }
    assert_int_equal(s, PS_END);
    assert_int_equal(st->rows, expect_rows);
    /* END repeats */
    assert_int_equal(p->d->provider->next_batch(p->inst, p->batch, &b, &p->err), PS_END);
    assert_int_equal(b.count, 0);

    assert_int_equal(count_distinct(ids, st->rows), st->rows); /* IDs unique */
    st->distinct_customers = count_distinct(custs, st->rows);
    st->distinct_meters = count_distinct(meters, st->rows);
    st->distinct_types = count_distinct(tys, st->rows);
    st->currencies_seen = (size_t)(cur_seen[0] + cur_seen[1] + cur_seen[2]);
    for (size_t i = 0; i < st->rows; i++) {
        free(ids[i]);
        free(custs[i]);
        free(meters[i]);
        free(tys[i]);
    }
    free(ids);
    free(custs);
    free(meters);
    free(tys);
}

/* ---- tests ------------------------------------------------------------------------------- */

static void test_descriptor_and_header(void **state)
{
    (void)state;
    const ps_plugin_descriptor *d = paysync_plugin_entry_stub();
    assert_string_equal(d->name, "stub");
    assert_int_equal(d->kind, PS_PLUGIN_PROVIDER);
    assert_int_equal(d->abi_major, PS_ABI_MAJOR);
    assert_int_equal(d->struct_size, sizeof(ps_plugin_descriptor));
    assert_non_null(d->provider);
    assert_null(d->sink);
    static const struct {
        const char *name;
        ps_option_type type;
        const char *def;
    } want[] = {{"rows", PS_OPT_INT, "1000"},
                {"seed", PS_OPT_INT, "1"},
                {"invalid_ratio", PS_OPT_STRING, "0"},
                {"batch", PS_OPT_INT, NULL},
                {"retry_after_rows", PS_OPT_INT, NULL}};
    size_t n = 0;
    for (const ps_option_spec *o = d->options; o->name; o++, n++) {
        assert_true(n < 5);
        assert_string_equal(o->name, want[n].name);
        assert_int_equal(o->type, want[n].type);
        if (want[n].def)
            assert_string_equal(o->default_value, want[n].def);
        else
            assert_null(o->default_value);
        assert_int_equal(o->required, 0);
    }
    assert_int_equal(n, 5);

    fake_provider p;
    assert_int_equal(prov_create(&p, NULL), PS_OK);
    assert_int_equal(fake_provider_open(&p, 100), PS_OK);
    assert_int_equal(p.info.ncolumns, 21);
    assert_int_equal(p.info.header_line, 1);
    assert_non_null(strstr(p.info.source_desc, "seed 1, 1000 rows"));
    for (int f = 0; f < 21; f++) {
        assert_string_equal(p.info.header[f].text, spec_fields[f]);
        assert_int_equal(p.info.header[f].len, strlen(spec_fields[f]));
    }
    fake_provider_free(&p);
}

static void test_default_rows_valid_and_varied(void **state)
{
    (void)state;
    fake_provider p;
    run_stats st;
    assert_int_equal(prov_create(&p, NULL), PS_OK);
    assert_int_equal(fake_provider_open(&p, 100), PS_OK);
    collect(&p, &st, 1000);
    assert_int_equal(st.batches, 10);
    assert_int_equal(st.invalid, 0);
    assert_true(st.distinct_customers >= 50);
    assert_true(st.distinct_meters >= 50);
    assert_int_equal(st.distinct_types, 6);
    assert_int_equal(st.currencies_seen, 3);
    assert_true(st.empty_optional > 0 && st.filled_optional > 0);
    assert_true(st.reversals_checked > 0);
    /* timestamps spread over days: 2024-01-01 .. about 90 days later */
    assert_memory_equal(st.first_ts, "2024-01-01", 10);
    assert_memory_equal(st.last_ts, "2024-03-", 8);
    fake_provider_free(&p);
}

static uint64_t hash_of(const char *const *opts, size_t rows, size_t batch)
{
    fake_provider p;
    run_stats st;
    assert_int_equal(prov_create(&p, opts), PS_OK);
    assert_int_equal(fake_provider_open(&p, batch), PS_OK);
    collect(&p, &st, rows);
    fake_provider_free(&p);
    return st.hash;
}

static void test_deterministic(void **state)
{
    (void)state;
    const char *s1[] = {"rows", "500", "seed", "7", "invalid_ratio", "0.1", NULL};
    const char *s2[] = {"rows", "500", "seed", "8", "invalid_ratio", "0.1", NULL};
    uint64_t a = hash_of(s1, 500, 100);
    assert_int_equal(hash_of(s1, 500, 100), a);
    assert_int_equal(hash_of(s1, 500, 7), a); /* batch size does not change the data */
    assert_true(hash_of(s2, 500, 100) != a);
}

static void test_invalid_ratio_exact(void **state)
{
    (void)state;
    static const struct {
        const char *rows, *ratio;
        size_t nrows, invalid;
    } t[] = {
        {"1000", "0.05", 1000, 50},    {"1000", "0.333", 1000, 333}, {"1000", "1", 1000, 1000},
        {"1000", "1.000", 1000, 1000}, {"999", "0.5", 999, 499},     {"100", ".25", 100, 25},
        {"1000", "0", 1000, 0},        {"7", "0.000000001", 7, 0},   {"40", "0.1", 40, 4},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        const char *opts[] = {"rows", t[i].rows, "invalid_ratio", t[i].ratio, NULL};
        fake_provider p;
        run_stats st;
        assert_int_equal(prov_create(&p, opts), PS_OK);
        assert_int_equal(fake_provider_open(&p, 64), PS_OK);
        collect(&p, &st, t[i].nrows);
        if (st.invalid != t[i].invalid)
            fail_msg("rows %s ratio %s: %zu invalid, want %zu", t[i].rows, t[i].ratio, st.invalid,
                     t[i].invalid);
        fake_provider_free(&p);
    }
}

static void test_batch_option(void **state)
{
    (void)state;
    const char *opts[] = {"rows", "10", "batch", "3", NULL};
    fake_provider p;
    assert_int_equal(prov_create(&p, opts), PS_OK);
    assert_int_equal(fake_provider_open(&p, 100), PS_OK); /* option wins over the core's size */
    size_t sizes[8], n = 0;
    ps_row_batch b;
    while (p.d->provider->next_batch(p.inst, p.batch, &b, &p.err) == PS_OK) {
        assert_true(n < 8);
        sizes[n++] = b.count;
        ps_arena_reset(p.batch);
    }
    assert_int_equal(n, 4);
    assert_int_equal(sizes[0], 3);
    assert_int_equal(sizes[1], 3);
    assert_int_equal(sizes[2], 3);
    assert_int_equal(sizes[3], 1);
    fake_provider_free(&p);
}

static void test_zero_rows_and_reopen(void **state)
{
    (void)state;
    const char *zero[] = {"rows", "0", NULL};
    fake_provider p;
    ps_row_batch b;
    assert_int_equal(prov_create(&p, zero), PS_OK);
    assert_int_equal(fake_provider_open(&p, 10), PS_OK);
    assert_int_equal(p.info.ncolumns, 21);
    assert_int_equal(p.d->provider->next_batch(p.inst, p.batch, &b, &p.err), PS_END);
    fake_provider_free(&p);

    /* Reopening starts over with the same rows. */
    const char *three[] = {"rows", "3", NULL};
    assert_int_equal(prov_create(&p, three), PS_OK);
    char first[2][64];
    for (int round = 0; round < 2; round++) {
        assert_int_equal(fake_provider_open(&p, 10), PS_OK);
        assert_int_equal(p.d->provider->next_batch(p.inst, p.batch, &b, &p.err), PS_OK);
        assert_int_equal(b.count, 3);
        snprintf(first[round], sizeof first[round], "%s", b.rows[0].cells[PS_F_ID].text);
        p.d->provider->close(p.inst);
        /* after close, nothing more */
        assert_int_equal(p.d->provider->next_batch(p.inst, p.batch, &b, &p.err), PS_END);
    }
    assert_string_equal(first[0], first[1]);
    assert_string_equal(first[0], "PAY-1-00000001");
    fake_provider_free(&p);
}

static void test_two_instances_independent(void **state)
{
    (void)state;
    const char *oa[] = {"rows", "300", "seed", "3", NULL};
    const char *ob[] = {"rows", "200", "seed", "4", "invalid_ratio", "0.5", NULL};
    uint64_t ha = hash_of(oa, 300, 50), hb = hash_of(ob, 200, 50);
    /* Interleaved: each yields exactly what it yields alone. */
    fake_provider a, b;
    assert_int_equal(prov_create(&a, oa), PS_OK);
    assert_int_equal(prov_create(&b, ob), PS_OK);
    assert_int_equal(fake_provider_open(&a, 50), PS_OK);
    assert_int_equal(fake_provider_open(&b, 50), PS_OK);
    uint64_t h[2] = {1469598103934665603ULL, 1469598103934665603ULL};
    int done[2] = {0, 0};
    fake_provider *ps[2] = {&a, &b};
    while (!done[0] || !done[1]) {
        for (int k = 0; k < 2; k++) {
            if (done[k])
                continue;
            ps_row_batch rb;
            ps_status s =
                ps[k]->d->provider->next_batch(ps[k]->inst, ps[k]->batch, &rb, &ps[k]->err);
            if (s == PS_END) {
                done[k] = 1;
                continue;
            }
            assert_int_equal(s, PS_OK);
            for (size_t i = 0; i < rb.count; i++)
                for (int f = 0; f < 21; f++)
                    for (uint32_t c = 0; c <= rb.rows[i].cells[f].len; c++)
                        h[k] =
                            (h[k] ^ (unsigned char)rb.rows[i].cells[f].text[c]) * 1099511628211ULL;
            ps_arena_reset(ps[k]->batch);
        }
    }
    assert_int_equal(h[0], ha);
    assert_int_equal(h[1], hb);
    fake_provider_free(&a);
    fake_provider_free(&b);
}

static void test_bad_options(void **state)
{
    (void)state;
    static const struct {
        const char *key, *value, *msg;
    } bad[] = {
        {"invalid_ratio", "abc", "invalid_ratio 'abc' is not a decimal number between 0 and 1"},
        {"invalid_ratio", "-0.1", "is not a decimal number between 0 and 1"},
        {"invalid_ratio", "", "is not a decimal number"},
        {"invalid_ratio", ".", "is not a decimal number"},
        {"invalid_ratio", "0.5.1", "is not a decimal number"},
        {"invalid_ratio", "1.5", "invalid_ratio '1.5' is above 1"},
        {"invalid_ratio", "100", "is not a decimal number between 0 and 1"},
        {"invalid_ratio", "0.1234567891", "has more than 9 decimal places"},
        {"invalid_ratio", "1e-2", "is not a decimal number"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const char *opts[] = {bad[i].key, bad[i].value, NULL};
        fake_provider p;
        assert_int_equal(prov_create(&p, opts), PS_ERR_CONFIG);
        assert_int_equal(p.err.code, PS_ERR_CONFIG);
        if (!strstr(p.err.message, bad[i].msg))
            fail_msg("%s=%s: message '%s' lacks '%s'", bad[i].key, bad[i].value, p.err.message,
                     bad[i].msg);
        assert_non_null(strstr(p.err.message, "source of test"));
        assert_null(p.inst);
        fake_provider_free(&p);
    }
    /* Ranges are declared in the option table and refused by the core's option engine. */
    static const struct {
        const char *key, *value, *msg;
    } range[] = {
        {"rows", "-1",
         "test.yaml:2:3: source of test: option 'rows' must be a whole number from 0 to "
         "1000000000, got '-1'"},
        {"rows", "1000000001", "from 0 to 1000000000, got '1000000001'"},
        {"batch", "0", "option 'batch' must be a whole number from 1 to 1000000, got '0'"},
        {"batch", "1000001", "from 1 to 1000000, got '1000001'"},
    };
    for (size_t i = 0; i < sizeof range / sizeof range[0]; i++) {
        const char *opts[] = {range[i].key, range[i].value, NULL};
        ps_error e = {0};
        assert_int_equal(fake_host_check_options(paysync_plugin_entry_stub(), opts, &e),
                         PS_ERR_CONFIG);
        if (!strstr(e.message, range[i].msg))
            fail_msg("%s=%s: message '%s' lacks '%s'", range[i].key, range[i].value, e.message,
                     range[i].msg);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_descriptor_and_header),
        cmocka_unit_test(test_default_rows_valid_and_varied),
        cmocka_unit_test(test_deterministic),
        cmocka_unit_test(test_invalid_ratio_exact),
        cmocka_unit_test(test_batch_option),
        cmocka_unit_test(test_zero_rows_and_reopen),
        cmocka_unit_test(test_two_instances_independent),
        cmocka_unit_test(test_bad_options),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
