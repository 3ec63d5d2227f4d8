/* Unit tests: row validation and normalisation (core/src/model/validate.h), one or more cases per
 * rule and per error code of ../shared/spec/electricity-payments.md. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "model/model_fields.h"
#include "model/validate.h"

#define NUM PS_CELL_NUMBER
#define TXT PS_CELL_TEXT

/* A valid base row; each case changes one field. */
static const char *const base[PS_FIELD_COUNT] = {
    [PS_F_ID] = "P-0001",
    [PS_F_TIMESTAMP] = "2024-03-05T14:16:01.350Z",
    [PS_F_PAYMENT_AMOUNT] = "1500.50",
    [PS_F_PAYMENT_CURRENCY] = "NGN",
    [PS_F_TRANSACTION_TYPE] = "FULL_PAYMENT",
    [PS_F_CUSTOMER_ID] = "C-001",
    [PS_F_METER_ID] = "M-0042",
    [PS_F_CUSTOMER_NAME] = "Ada",
    [PS_F_CUSTOMER_CATEGORY] = "Residential",
};

typedef struct vcase {
    ps_profile profile;
    int field;
    const char *value; /* NULL = no cell at all */
    int kind;
    int outcome;
    const char *error;   /* expected code of the first error, or NULL */
    const char *warning; /* expected code of the first warning, or NULL */
    const char *out;     /* expected canonical value on ACCEPTED (NULL = cleared/absent) */
    const char *msg;     /* substring of the problem message, or NULL */
} vcase;

#define STD PS_PROFILE_STANDARD
#define STRICT PS_PROFILE_STRICT
#define ACC PS_ROW_ACCEPTED
#define REJ PS_ROW_REJECTED

static const vcase cases[] = {
    /* TIMESTAMP */
    {STD, PS_F_TIMESTAMP, "2024-03-05T14:16:01.350Z", TXT, ACC, NULL, NULL,
     "2024-03-05T14:16:01.350Z", NULL},
    {STD, PS_F_TIMESTAMP, "2021-05-16T14:16:01", TXT, ACC, NULL, NULL, "2021-05-16T14:16:01.000Z",
     NULL},
    {STD, PS_F_TIMESTAMP, "2024-03-05T14:16:01.123456789+01:00", TXT, ACC, NULL, NULL,
     "2024-03-05T13:16:01.123Z", NULL},
    {STD, PS_F_TIMESTAMP, "2024-03-05 14:16:01+0100", TXT, ACC, NULL, NULL,
     "2024-03-05T13:16:01.000Z", NULL},
    {STD, PS_F_TIMESTAMP, "2024-03-05T14:16:01-03", TXT, ACC, NULL, NULL,
     "2024-03-05T17:16:01.000Z", NULL},
    {STD, PS_F_TIMESTAMP, "2024-03-05", TXT, ACC, NULL, NULL, "2024-03-05T00:00:00.000Z", NULL},
    {STD, PS_F_TIMESTAMP, " 2024-03-05 ", TXT, ACC, NULL, NULL, "2024-03-05T00:00:00.000Z", NULL},
    {STD, PS_F_TIMESTAMP, "05/03/2024 14:16", TXT, ACC, NULL, NULL, "2024-03-05T14:16:00.000Z",
     NULL},
    {STD, PS_F_TIMESTAMP, "45356.5", NUM, ACC, NULL, NULL, "2024-03-05T12:00:00.000Z", NULL},
    {STD, PS_F_TIMESTAMP, "2024-03-05T10:00:00Z", NUM, ACC, NULL, NULL, "2024-03-05T10:00:00.000Z",
     NULL},
    {STD, PS_F_TIMESTAMP, "45356.5", TXT, REJ, "bad_timestamp", NULL, NULL,
     "TIMESTAMP '45356.5' is not a date/time"},
    {STD, PS_F_TIMESTAMP, "2024-02-30", TXT, REJ, "bad_timestamp", NULL, NULL,
     "TIMESTAMP '2024-02-30' is an impossible date or time"},
    {STD, PS_F_TIMESTAMP, "2024-03-05T25:00:00", TXT, REJ, "bad_timestamp", NULL, NULL,
     "impossible"},
    {STD, PS_F_TIMESTAMP, "31/02/2024 10:00", TXT, REJ, "bad_timestamp", NULL, NULL, "impossible"},
    {STD, PS_F_TIMESTAMP, "soon", TXT, REJ, "bad_timestamp", NULL, NULL, "or a configured format"},
    {STD, PS_F_TIMESTAMP, "", TXT, REJ, "missing_required", NULL, NULL,
     "required field TIMESTAMP is empty or missing"},
    {STD, PS_F_TIMESTAMP, NULL, TXT, REJ, "missing_required", NULL, NULL, "TIMESTAMP"},
    /* PAYMENT_AMOUNT */
    {STD, PS_F_PAYMENT_AMOUNT, "1,500.50", TXT, ACC, NULL, NULL, "1500.50", NULL},
    {STD, PS_F_PAYMENT_AMOUNT, " -20 ", TXT, ACC, NULL, NULL, "-20", NULL},
    {STD, PS_F_PAYMENT_AMOUNT,
     "\xe2\x82\xa6"
     "2,000",
     TXT, ACC, NULL, NULL, "2000", NULL},
    {STD, PS_F_PAYMENT_AMOUNT, "2000 NGN", TXT, ACC, NULL, NULL, "2000", NULL},
    {STD, PS_F_PAYMENT_AMOUNT, "1500.5", NUM, ACC, NULL, NULL, "1500.5", NULL},
    {STD, PS_F_PAYMENT_AMOUNT, "abc", TXT, REJ, "bad_amount", NULL, NULL,
     "PAYMENT_AMOUNT 'abc' is not a valid amount: not a number"},
    {STD, PS_F_PAYMENT_AMOUNT, "1.12345", TXT, REJ, "bad_amount", NULL, NULL,
     "more than 4 fractional digits"},
    {STD, PS_F_PAYMENT_AMOUNT, "KES 100", TXT, REJ, "currency_mismatch", NULL, NULL,
     "does not agree with PAYMENT_CURRENCY NGN"},
    {STD, PS_F_PAYMENT_AMOUNT, "  ", TXT, REJ, "missing_required", NULL, NULL, "PAYMENT_AMOUNT"},
    /* PAYMENT_CURRENCY */
    {STD, PS_F_PAYMENT_CURRENCY, "ngn", TXT, ACC, NULL, NULL, "NGN", NULL},
    {STD, PS_F_PAYMENT_CURRENCY, "Naira", TXT, ACC, NULL, NULL, "NGN", NULL},
    {STD, PS_F_PAYMENT_CURRENCY, "Kwacha", TXT, REJ, "ambiguous_currency", NULL, NULL,
     "ZMW or MWK"},
    {STD, PS_F_PAYMENT_CURRENCY, "Shilling", TXT, REJ, "ambiguous_currency", NULL, NULL,
     "ambiguous"},
    {STD, PS_F_PAYMENT_CURRENCY, "XYZ", TXT, REJ, "unknown_currency", NULL, NULL,
     "PAYMENT_CURRENCY 'XYZ' is not an ISO 4217 code"},
    /* TRANSACTION_TYPE */
    {STD, PS_F_TRANSACTION_TYPE, "Installment payment", TXT, ACC, NULL, NULL, "INSTALLMENT_PAYMENT",
     NULL},
    {STD, PS_F_TRANSACTION_TYPE, "energy-credit", TXT, ACC, NULL, NULL, "ENERGY_CREDIT", NULL},
    {STD, PS_F_TRANSACTION_TYPE, "pay", TXT, ACC, NULL, NULL, "FULL_PAYMENT", NULL},
    {STD, PS_F_TRANSACTION_TYPE, "Refund", TXT, REJ, "unknown_transaction_type", NULL, NULL,
     "TRANSACTION_TYPE 'Refund' is not one of"},
    /* TRANSACTION_CHARGES (optional) */
    {STD, PS_F_TRANSACTION_CHARGES, "NGN 10.5", TXT, ACC, NULL, NULL, "10.5", NULL},
    {STD, PS_F_TRANSACTION_CHARGES, "ten", TXT, ACC, NULL, "bad_amount", NULL,
     "TRANSACTION_CHARGES 'ten'"},
    {STRICT, PS_F_TRANSACTION_CHARGES, "ten", TXT, REJ, "bad_amount", NULL, NULL, NULL},
    {STD, PS_F_TRANSACTION_CHARGES, "$1", TXT, ACC, NULL, "currency_mismatch", NULL, NULL},
    /* text fields: trimming, IDs keep leading zeros, UTF-8 */
    {STD, PS_F_ID, "  00123 ", TXT, ACC, NULL, NULL, "00123", NULL},
    {STD, PS_F_METER_ID, "000042", NUM, ACC, NULL, NULL, "000042", NULL},
    {STD, PS_F_CUSTOMER_NAME,
     "  Ada \xc3\x93"
     "bi \xc2\xa0",
     TXT, ACC, NULL, NULL,
     "Ada \xc3\x93"
     "bi",
     NULL},
    {STD, PS_F_CUSTOMER_NAME, "Ada \xff", TXT, REJ, "bad_utf8", NULL, NULL,
     "CUSTOMER_NAME is not valid UTF-8 (bad byte at offset 4)"},
    {STD, PS_F_NOTES, "\xc0\x80", TXT, REJ, "bad_utf8", NULL, NULL, "NOTES"},
    {STD, PS_F_REFERENCE_ID, "\xed\xa0\x80", TXT, REJ, "bad_utf8", NULL, NULL, "REFERENCE_ID"},
    {STD, PS_F_CUSTOMER_ID, NULL, TXT, REJ, "missing_required", NULL, NULL, "CUSTOMER_ID"},
    {STD, PS_F_METER_ID, " \t ", TXT, REJ, "missing_required", NULL, NULL, "METER_ID"},
    {STD, PS_F_CUSTOMER_NAME, "", TXT, REJ, "missing_required", NULL, NULL, "CUSTOMER_NAME"},
    {STD, PS_F_CUSTOMER_CATEGORY, NULL, TXT, REJ, "missing_required", NULL, NULL,
     "CUSTOMER_CATEGORY"},
    {STD, PS_F_NOTES, "  paid at kiosk ", TXT, ACC, NULL, NULL, "paid at kiosk", NULL},
    {STD, PS_F_NOTES, "   ", TXT, ACC, NULL, NULL, NULL, NULL},
    /* profiles: ID and CUSTOMER_PHONE */
    {STRICT, PS_F_ID, NULL, TXT, REJ, "missing_required", NULL, NULL, "ID"},
    {STRICT, PS_F_ID, "P-9", TXT, REJ, "missing_required", NULL, NULL, "CUSTOMER_PHONE"},
    /* CUSTOMER_PHONE */
    {STD, PS_F_CUSTOMER_PHONE, "0803 123 4567", TXT, ACC, NULL, NULL, "+2348031234567", NULL},
    {STD, PS_F_CUSTOMER_PHONE, "+254 (712) 345-678", TXT, ACC, NULL, NULL, "+254712345678", NULL},
    {STD, PS_F_CUSTOMER_PHONE, "2348031234567", NUM, ACC, NULL, NULL, "+2348031234567", NULL},
    {STD, PS_F_CUSTOMER_PHONE, "call me", TXT, ACC, NULL, "bad_phone", NULL,
     "CUSTOMER_PHONE 'call me' contains characters"},
    {STD, PS_F_CUSTOMER_PHONE, "+123", TXT, ACC, NULL, "bad_phone", NULL,
     "CUSTOMER_PHONE '+123' is too short for +1 (US and 24 more countries)"},
    {STRICT, PS_F_CUSTOMER_PHONE, "+123", TXT, REJ, "bad_phone", NULL, NULL, "too short"},
    /* issue 12: a Nigerian mobile that lost its leading 0, and one too short (country NG
     * from phone_country_code 234) */
    {STD, PS_F_CUSTOMER_PHONE, "8031239999", NUM, ACC, NULL, NULL, "+2348031239999", NULL},
    {STD, PS_F_CUSTOMER_PHONE, "0805 123 45", TXT, ACC, NULL, "bad_phone", NULL,
     "CUSTOMER_PHONE '0805 123 45' is not a valid number for NG (+234)"},
    {STRICT, PS_F_CUSTOMER_PHONE, "0805 123 45", TXT, REJ, "bad_phone", NULL, NULL,
     "not a valid number for NG"},
    /* LATITUDE / LONGITUDE */
    {STD, PS_F_LATITUDE, "6.5244", TXT, ACC, NULL, NULL, "6.5244", NULL},
    {STD, PS_F_LATITUDE, "+06.50", TXT, ACC, NULL, NULL, "6.50", NULL},
    {STD, PS_F_LATITUDE, "-90.000", TXT, ACC, NULL, NULL, "-90.000", NULL},
    {STD, PS_F_LATITUDE, ".5", TXT, ACC, NULL, NULL, "0.5", NULL},
    {STD, PS_F_LATITUDE, "90.0001", TXT, ACC, NULL, "bad_latitude", NULL, "outside -90..90"},
    {STD, PS_F_LATITUDE, "N6.5", TXT, ACC, NULL, "bad_latitude", NULL, "not decimal degrees"},
    {STRICT, PS_F_LATITUDE, "91", TXT, REJ, "bad_latitude", NULL, NULL, NULL},
    {STD, PS_F_LONGITUDE, "3.379205", TXT, ACC, NULL, NULL, "3.379205", NULL},
    {STD, PS_F_LONGITUDE, "-180", TXT, ACC, NULL, NULL, "-180", NULL},
    {STD, PS_F_LONGITUDE, "180.5", TXT, ACC, NULL, "bad_longitude", NULL, "outside -180..180"},
    {STD, PS_F_LONGITUDE, "1e2", TXT, ACC, NULL, "bad_longitude", NULL, NULL},
    /* FAILED_BATTERY_CAPACITY_COUNT */
    {STD, PS_F_FAILED_BATTERY_CAPACITY_COUNT, "3", TXT, ACC, NULL, NULL, "3", NULL},
    {STD, PS_F_FAILED_BATTERY_CAPACITY_COUNT, "3.0", NUM, ACC, NULL, NULL, "3", NULL},
    {STD, PS_F_FAILED_BATTERY_CAPACITY_COUNT, "007", TXT, ACC, NULL, NULL, "7", NULL},
    {STD, PS_F_FAILED_BATTERY_CAPACITY_COUNT, "3.5", TXT, ACC, NULL, "bad_count", NULL,
     "not a non-negative integer"},
    {STD, PS_F_FAILED_BATTERY_CAPACITY_COUNT, "-1", TXT, ACC, NULL, "bad_count", NULL, NULL},
    {STRICT, PS_F_FAILED_BATTERY_CAPACITY_COUNT, "many", TXT, REJ, "bad_count", NULL, NULL, NULL},
};

static const char *const alias_from[] = {"PAY"};
static const char *const alias_to[] = {"FULL_PAYMENT"};
static const char *const formats[] = {"%d/%m/%Y %H:%M"};

static ps_validator *make(ps_profile profile, const char *dataset)
{
    ps_validate_config cfg;
    ps_validator *v = NULL;
    ps_error err;
    memset(&cfg, 0, sizeof cfg);
    cfg.dataset = dataset;
    cfg.profile = profile;
    cfg.ts_formats = formats;
    cfg.n_ts_formats = 1;
    cfg.phone_country_code = "234";
    cfg.txtype_alias_from = alias_from;
    cfg.txtype_alias_to = alias_to;
    cfg.n_txtype_aliases = 1;
    assert_int_equal(ps_validator_new(&cfg, &v, &err), PS_OK);
    return v;
}

typedef struct row {
    ps_cell cells[PS_FIELD_COUNT];
    const ps_cell *by[PS_FIELD_COUNT];
} row;

static void set(row *r, int f, const char *value, int kind)
{
    if (!value) {
        r->by[f] = NULL;
        return;
    }
    r->cells[f].text = value;
    r->cells[f].len = (uint32_t)strlen(value);
    r->cells[f].kind = (uint8_t)kind;
    r->by[f] = &r->cells[f];
}

static void base_row(row *r, ps_profile profile)
{
    int f;
    memset(r, 0, sizeof *r);
    for (f = 0; f < PS_FIELD_COUNT; f++)
        set(r, f, base[f], TXT);
    if (profile == STRICT)
        set(r, PS_F_CUSTOMER_PHONE, "+2348031234567", TXT);
}

static void test_table(void **state)
{
    ps_validator *vs = make(STD, "01_2024_Site"), *vx = make(STRICT, "01_2024_Site");
    ps_arena *a = ps_arena_create(0);
    size_t i;
    (void)state;
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const vcase *c = &cases[i];
        row r;
        ps_record rec;
        ps_row_check chk;
        ps_row_outcome o;
        print_message("case %zu: %s = '%s'\n", i, ps_field_name(c->field),
                      c->value ? c->value : "(no cell)");
        base_row(&r, c->profile);
        if (c->profile == STRICT && c->field == PS_F_ID && c->value && strcmp(c->value, "P-9") == 0)
            set(&r, PS_F_CUSTOMER_PHONE, NULL, TXT);
        else
            set(&r, c->field, c->value, c->kind);
        o = ps_validate_row(c->profile == STRICT ? vx : vs, r.by, 17, a, &rec, &chk);
        if (o != (ps_row_outcome)c->outcome && chk.n_errors)
            print_error("unexpected: %s: %s\n", chk.errors[0].code, chk.errors[0].message);
        assert_int_equal(o, c->outcome);
        if (c->error) {
            assert_true(chk.n_errors >= 1);
            assert_string_equal(chk.errors[0].code, c->error);
            assert_int_equal(chk.errors[0].field,
                             c->field == PS_F_ID && c->value ? PS_F_CUSTOMER_PHONE : c->field);
            if (c->msg)
                assert_non_null(strstr(chk.errors[0].message, c->msg));
        } else {
            assert_int_equal(chk.n_errors, 0);
        }
        if (c->warning) {
            assert_int_equal(chk.n_warnings, 1);
            assert_string_equal(chk.warnings[0].code, c->warning);
            assert_int_equal(chk.warnings[0].field, c->field);
            assert_string_equal(chk.warnings[0].raw, c->value);
            if (c->msg)
                assert_non_null(strstr(chk.warnings[0].message, c->msg));
        } else if (o == PS_ROW_ACCEPTED) {
            assert_int_equal(chk.n_warnings, 0);
        }
        if (o == PS_ROW_ACCEPTED) {
            assert_int_equal(rec.source_row, 17);
            assert_non_null(rec.field[PS_F_ID].ptr);
            if (c->out)
                assert_string_equal(rec.field[c->field].ptr, c->out);
            else
                assert_null(rec.field[c->field].ptr);
            /* every value carries its exact length (sinks rely on it instead of strlen) */
            for (int f = 0; f < PS_FIELD_COUNT; f++)
                if (rec.field[f].ptr)
                    assert_int_equal(rec.field[f].len, strlen(rec.field[f].ptr));
                else
                    assert_int_equal(rec.field[f].len, 0);
        }
        ps_arena_reset(a);
    }
    ps_arena_destroy(a);
    ps_validator_free(vs);
    ps_validator_free(vx);
}

static void test_record_fields(void **state)
{
    ps_validator *v = make(STD, "ds");
    ps_arena *a = ps_arena_create(0);
    row r;
    ps_record rec;
    ps_row_check chk;
    (void)state;
    base_row(&r, STD);
    set(&r, PS_F_TRANSACTION_CHARGES, "2.25", TXT);
    assert_int_equal(ps_validate_row(v, r.by, 2, a, &rec, &chk), PS_ROW_ACCEPTED);
    assert_true(rec.amount.units == 150050 && rec.amount.scale == 2);
    assert_int_equal(rec.has_charges, 1);
    assert_true(rec.charges.units == 225 && rec.charges.scale == 2);
    assert_true(rec.timestamp_ms == INT64_C(1709648161350));
    assert_int_equal(rec.id_derived, 0);
    assert_string_equal(rec.field[PS_F_ID].ptr, "P-0001");
    assert_null(rec.field[PS_F_NOTES].ptr);
    /* a bad optional charge clears has_charges */
    set(&r, PS_F_TRANSACTION_CHARGES, "x", TXT);
    assert_int_equal(ps_validate_row(v, r.by, 2, a, &rec, &chk), PS_ROW_ACCEPTED);
    assert_int_equal(rec.has_charges, 0);
    assert_null(rec.field[PS_F_TRANSACTION_CHARGES].ptr);
    ps_arena_destroy(a);
    ps_validator_free(v);
}

static void test_many_errors_collected(void **state)
{
    ps_validator *v = make(STD, "ds");
    ps_arena *a = ps_arena_create(0);
    row r;
    ps_record rec;
    ps_row_check chk;
    (void)state;
    base_row(&r, STD);
    set(&r, PS_F_TIMESTAMP, "2024-02-30", TXT);
    set(&r, PS_F_PAYMENT_AMOUNT, "lots", TXT);
    set(&r, PS_F_CUSTOMER_ID, NULL, TXT);
    set(&r, PS_F_LATITUDE, "100", TXT);
    assert_int_equal(ps_validate_row(v, r.by, 5, a, &rec, &chk), PS_ROW_REJECTED);
    assert_int_equal(chk.n_errors, 3);
    assert_string_equal(chk.errors[0].code, "bad_timestamp");
    assert_string_equal(chk.errors[0].raw, "2024-02-30");
    assert_string_equal(chk.errors[1].code, "bad_amount");
    assert_string_equal(chk.errors[2].code, "missing_required");
    assert_int_equal(chk.errors[2].field, PS_F_CUSTOMER_ID);
    assert_int_equal(chk.n_warnings, 1);
    assert_string_equal(chk.warnings[0].code, "bad_latitude");
    ps_arena_destroy(a);
    ps_validator_free(v);
}

static void test_serial_zone(void **state)
{
    ps_validate_config cfg;
    ps_validator *v = NULL;
    ps_tz *plus1 = NULL, *plus3 = NULL;
    ps_arena *a = ps_arena_create(0);
    row r;
    ps_record rec;
    ps_row_check chk;
    (void)state;
    assert_int_equal(ps_tz_load("+01:00", &plus1, NULL), PS_OK);
    assert_int_equal(ps_tz_load("+03:00", &plus3, NULL), PS_OK);
    memset(&cfg, 0, sizeof cfg);
    cfg.dataset = "ds";
    cfg.naive_zone = plus1;
    assert_int_equal(ps_validator_new(&cfg, &v, NULL), PS_OK);
    base_row(&r, STD);
    /* serial_zone NULL: the naive zone applies to serials too */
    set(&r, PS_F_TIMESTAMP, "45356.5", NUM);
    assert_int_equal(ps_validate_row(v, r.by, 2, a, &rec, &chk), PS_ROW_ACCEPTED);
    assert_string_equal(rec.field[PS_F_TIMESTAMP].ptr, "2024-03-05T11:00:00.000Z");
    set(&r, PS_F_TIMESTAMP, "2024-03-05 12:00", TXT);
    assert_int_equal(ps_validate_row(v, r.by, 2, a, &rec, &chk), PS_ROW_ACCEPTED);
    assert_string_equal(rec.field[PS_F_TIMESTAMP].ptr, "2024-03-05T11:00:00.000Z");
    /* to the second: the naive zone applies (the UTC fast path is not taken) */
    set(&r, PS_F_TIMESTAMP, "2024-03-05 12:00:00", TXT);
    assert_int_equal(ps_validate_row(v, r.by, 2, a, &rec, &chk), PS_ROW_ACCEPTED);
    assert_string_equal(rec.field[PS_F_TIMESTAMP].ptr, "2024-03-05T11:00:00.000Z");
    assert_true(rec.timestamp_ms == INT64_C(1709636400000));
    ps_validator_free(v);
    cfg.naive_zone = NULL; /* UTC */
    assert_int_equal(ps_validator_new(&cfg, &v, NULL), PS_OK);
    set(&r, PS_F_TIMESTAMP, "2024-03-05 12:00:00", TXT);
    assert_int_equal(ps_validate_row(v, r.by, 2, a, &rec, &chk), PS_ROW_ACCEPTED);
    assert_string_equal(rec.field[PS_F_TIMESTAMP].ptr, "2024-03-05T12:00:00.000Z");
    assert_int_equal(rec.field[PS_F_TIMESTAMP].len, 24);
    assert_true(rec.timestamp_ms == INT64_C(1709640000000));
    set(&r, PS_F_TIMESTAMP, "2024-03-05T12:00:00.250Z", TXT);
    assert_int_equal(ps_validate_row(v, r.by, 2, a, &rec, &chk), PS_ROW_ACCEPTED);
    assert_string_equal(rec.field[PS_F_TIMESTAMP].ptr, "2024-03-05T12:00:00.250Z");
    assert_true(rec.timestamp_ms == INT64_C(1709640000250));
    set(&r, PS_F_TIMESTAMP, "2024-02-30 12:00:00", TXT);
    assert_int_equal(ps_validate_row(v, r.by, 2, a, &rec, &chk), PS_ROW_REJECTED);
    ps_validator_free(v);
    cfg.naive_zone = plus1;
    cfg.serial_zone = plus3;
    assert_int_equal(ps_validator_new(&cfg, &v, NULL), PS_OK);
    set(&r, PS_F_TIMESTAMP, "45356.5", NUM);
    assert_int_equal(ps_validate_row(v, r.by, 2, a, &rec, &chk), PS_ROW_ACCEPTED);
    assert_string_equal(rec.field[PS_F_TIMESTAMP].ptr, "2024-03-05T09:00:00.000Z");
    ps_validator_free(v);
    ps_tz_free(plus1);
    ps_tz_free(plus3);
    ps_arena_destroy(a);
}

static void test_defaults(void **state)
{
    ps_validate_config cfg;
    ps_validator *v = NULL;
    ps_arena *a = ps_arena_create(0);
    row r;
    ps_record rec;
    ps_row_check chk;
    (void)state;
    memset(&cfg, 0, sizeof cfg);
    cfg.dataset = "ds";
    cfg.defaults[PS_F_PAYMENT_CURRENCY] = " Naira ";
    cfg.defaults[PS_F_CUSTOMER_CATEGORY] = "Prepaid";
    assert_int_equal(ps_validator_new(&cfg, &v, NULL), PS_OK);
    base_row(&r, STD);
    set(&r, PS_F_PAYMENT_CURRENCY, NULL, TXT); /* no column */
    set(&r, PS_F_CUSTOMER_CATEGORY, "", TXT);  /* empty cell */
    set(&r, PS_F_PAYMENT_AMOUNT,
        "\xe2\x82\xa6"
        "5",
        TXT);
    assert_int_equal(ps_validate_row(v, r.by, 2, a, &rec, &chk), PS_ROW_ACCEPTED);
    assert_string_equal(rec.field[PS_F_PAYMENT_CURRENCY].ptr, "NGN");
    assert_string_equal(rec.field[PS_F_CUSTOMER_CATEGORY].ptr, "Prepaid");
    /* a value in the cell wins over the default */
    set(&r, PS_F_PAYMENT_CURRENCY, "GHS", TXT);
    set(&r, PS_F_PAYMENT_AMOUNT, "5", TXT);
    assert_int_equal(ps_validate_row(v, r.by, 2, a, &rec, &chk), PS_ROW_ACCEPTED);
    assert_string_equal(rec.field[PS_F_PAYMENT_CURRENCY].ptr, "GHS");
    ps_validator_free(v);
    ps_arena_destroy(a);
}

typedef struct cfg_case {
    int field;         /* default to set, or -1 */
    const char *value; /* default value */
    const char *cc;
    const char *alias_to;
    const char *format;
    const char *msg;
} cfg_case;

static void test_config_errors(void **state)
{
    static const cfg_case cases[] = {
        {PS_F_PAYMENT_CURRENCY, "Kwacha", NULL, NULL, NULL,
         "default for PAYMENT_CURRENCY: PAYMENT_CURRENCY 'Kwacha' is ambiguous"},
        {PS_F_PAYMENT_CURRENCY, "XYZ", NULL, NULL, NULL, "default for PAYMENT_CURRENCY"},
        {PS_F_TRANSACTION_TYPE, "GIFT", NULL, NULL, NULL, "default for TRANSACTION_TYPE"},
        {PS_F_PAYMENT_AMOUNT, "free", NULL, NULL, NULL, "default for PAYMENT_AMOUNT"},
        {PS_F_NOTES, "\xff", NULL, NULL, NULL, "default for NOTES is not valid UTF-8"},
        {-1, NULL, "23a", NULL, NULL, "phone_country_code '23a'"},
        {-1, NULL, "2345", NULL, NULL, "phone_country_code '2345'"},
        {-1, NULL, NULL, "GIFT", NULL, "transaction type alias 'PAY': target 'GIFT'"},
        {-1, NULL, NULL, NULL, "%d/%m/%Y %k", "timestamp format '%d/%m/%Y %k' is not valid"},
        {-1, NULL, NULL, NULL, "%d/%m/%", "timestamp format"},
    };
    size_t i;
    (void)state;
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ps_validate_config cfg;
        ps_validator *v = (ps_validator *)1;
        ps_error err;
        const char *from[1] = {"PAY"}, *to[1], *fmts[1];
        memset(&cfg, 0, sizeof cfg);
        cfg.dataset = "ds";
        if (cases[i].field >= 0)
            cfg.defaults[cases[i].field] = cases[i].value;
        cfg.phone_country_code = cases[i].cc;
        if (cases[i].alias_to) {
            to[0] = cases[i].alias_to;
            cfg.txtype_alias_from = from;
            cfg.txtype_alias_to = to;
            cfg.n_txtype_aliases = 1;
        }
        if (cases[i].format) {
            fmts[0] = cases[i].format;
            cfg.ts_formats = fmts;
            cfg.n_ts_formats = 1;
        }
        print_message("config case %zu\n", i);
        assert_int_equal(ps_validator_new(&cfg, &v, &err), PS_ERR_CONFIG);
        assert_null(v);
        assert_non_null(strstr(err.message, cases[i].msg));
    }
}

static void accept(const ps_validator *v, row *r, ps_arena *a, ps_record *rec)
{
    ps_row_check chk;
    assert_int_equal(ps_validate_row(v, r->by, 9, a, rec, &chk), PS_ROW_ACCEPTED);
}

/* mapping.country and mapping.phone_country_code: which country national numbers belong to,
 * and the configuration errors (issue 12 item 3). */
static void test_phone_country(void **state)
{
    static const struct {
        const char *country, *cc, *in, *out; /* out NULL: bad_phone warning */
    } ok[] = {
        {"KE", NULL, "0712 345 678", "+254712345678"},
        {"ke", NULL, "712345678", "+254712345678"},
        {"GB", "44", "07400 123456", "+447400123456"},
        {NULL, "44", "07400 123456", "+447400123456"},
        {"CA", "1", "(201) 555-0123", "+12015550123"},
        {NULL, "+1", "201-555-0123", "+12015550123"}, /* 1 -> US: same plan as CA */
        {"NG", NULL, "8031239999", "+2348031239999"},
        {"NG", NULL, "+44 7400 123456", "+447400123456"}, /* another country's number */
        {"NG", NULL, "0803 123 4567 8", NULL},
        {NULL, NULL, "0803 123 4567", NULL}, /* no country: a national number is a warning */
    };
    static const struct {
        const char *country, *cc, *msg;
    } bad[] = {
        {"XX", NULL, "country 'XX' is not an ISO 3166 alpha-2 country code"},
        {"NGA", NULL, "country 'NGA'"},
        {"GH", "234", "country 'GH' has the calling code +233, not phone_country_code '234'"},
        {NULL, "800", "phone_country_code '800' is not the calling code of a country"},
        {NULL, "999", "phone_country_code '999'"},
        {NULL, "23a", "phone_country_code '23a'"},
        {NULL, "2345", "phone_country_code '2345'"},
    };
    ps_arena *a = ps_arena_create(0);
    size_t i;
    (void)state;
    for (i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        ps_validate_config cfg;
        ps_validator *v = NULL;
        ps_error err;
        row r;
        ps_record rec;
        ps_row_check chk;
        memset(&cfg, 0, sizeof cfg);
        cfg.dataset = "ds";
        cfg.country = ok[i].country;
        cfg.phone_country_code = ok[i].cc;
        print_message("phone country case %zu: '%s'\n", i, ok[i].in);
        assert_int_equal(ps_validator_new(&cfg, &v, &err), PS_OK);
        base_row(&r, STD);
        set(&r, PS_F_CUSTOMER_PHONE, ok[i].in, TXT);
        assert_int_equal(ps_validate_row(v, r.by, 2, a, &rec, &chk), PS_ROW_ACCEPTED);
        if (ok[i].out) {
            assert_int_equal(chk.n_warnings, 0);
            assert_string_equal(rec.field[PS_F_CUSTOMER_PHONE].ptr, ok[i].out);
        } else {
            assert_int_equal(chk.n_warnings, 1);
            assert_string_equal(chk.warnings[0].code, "bad_phone");
            assert_null(rec.field[PS_F_CUSTOMER_PHONE].ptr);
        }
        ps_validator_free(v);
    }
    for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ps_validate_config cfg;
        ps_validator *v = (ps_validator *)1;
        ps_error err;
        memset(&cfg, 0, sizeof cfg);
        cfg.dataset = "ds";
        cfg.country = bad[i].country;
        cfg.phone_country_code = bad[i].cc;
        print_message("phone country error %zu\n", i);
        assert_int_equal(ps_validator_new(&cfg, &v, &err), PS_ERR_CONFIG);
        assert_null(v);
        assert_non_null(strstr(err.message, bad[i].msg));
    }
    ps_arena_destroy(a);
}

static void test_derived_id(void **state)
{
    ps_validator *v1 = make(STD, "01_2024_Site"), *v2 = make(STD, "02_2024_Site");
    ps_arena *a = ps_arena_create(0);
    row r;
    ps_record rec;
    char first[64], other[64];
    size_t i;
    (void)state;
    base_row(&r, STD);
    set(&r, PS_F_ID, NULL, TXT);
    accept(v1, &r, a, &rec);
    assert_int_equal(rec.id_derived, 1);
    assert_int_equal(strlen(rec.field[PS_F_ID].ptr), 35);
    assert_memory_equal(rec.field[PS_F_ID].ptr, "ps-", 3);
    for (i = 3; i < 35; i++)
        assert_non_null(strchr("0123456789abcdef", rec.field[PS_F_ID].ptr[i]));
    /* golden value (computed independently with Python hashlib): stable across runs */
    assert_string_equal(rec.field[PS_F_ID].ptr, "ps-76c6f877f3b21be65792afa37610aa79");
    snprintf(first, sizeof first, "%s", rec.field[PS_F_ID].ptr);
    /* same content again: same ID */
    accept(v1, &r, a, &rec);
    assert_string_equal(rec.field[PS_F_ID].ptr, first);
    /* an empty ID cell also derives */
    set(&r, PS_F_ID, "  ", TXT);
    accept(v1, &r, a, &rec);
    assert_string_equal(rec.field[PS_F_ID].ptr, first);
    /* non-identifying fields do not change it */
    set(&r, PS_F_NOTES, "note", TXT);
    accept(v1, &r, a, &rec);
    assert_string_equal(rec.field[PS_F_ID].ptr, first);
    /* the dataset name and each identifying field do */
    accept(v2, &r, a, &rec);
    assert_string_not_equal(rec.field[PS_F_ID].ptr, first);
    set(&r, PS_F_REFERENCE_ID, "MM-77", TXT);
    accept(v1, &r, a, &rec);
    snprintf(other, sizeof other, "%s", rec.field[PS_F_ID].ptr);
    assert_string_not_equal(other, first);
    set(&r, PS_F_REFERENCE_ID, NULL, TXT);
    set(&r, PS_F_PAYMENT_AMOUNT, "1500.5", TXT);
    accept(v1, &r, a, &rec);
    assert_string_not_equal(rec.field[PS_F_ID].ptr, first);
    ps_arena_destroy(a);
    ps_validator_free(v1);
    ps_validator_free(v2);
}

/* The definition (docs/data-model.md) on a hand-built record: values computed by an
 * independent Python implementation of the documented word stream. NOTES is long enough to
 * cross the hash's internal 512-byte buffer; STATUS is present but empty. */
static void test_content_hash_definition(void **state)
{
    static char big[1300];
    ps_record r;
    int i;
    (void)state;
    for (i = 0; i < 1299; i++)
        big[i] = (char)('a' + i % 26);
    big[1299] = '\0';
    memset(&r, 0, sizeof r);
    r.field[PS_F_TIMESTAMP] = ps_str_from("2024-03-05T14:16:01.350Z");
    r.field[PS_F_PAYMENT_AMOUNT] = ps_str_from("1500.50");
    r.field[PS_F_PAYMENT_CURRENCY] = ps_str_from("NGN");
    r.field[PS_F_STATUS] = ps_str_from("");
    r.field[PS_F_NOTES] = ps_str_from(big);
    assert_true(ps_record_content_hash(&r) == UINT64_C(0x35798ae6f6cc71fd));
    r.field[PS_F_NOTES] = ps_str_from(NULL);
    assert_true(ps_record_content_hash(&r) == UINT64_C(0x351ee3c3de86ec37));
    /* the ID is not part of it */
    r.field[PS_F_ID] = ps_str_from("P-1");
    assert_true(ps_record_content_hash(&r) == UINT64_C(0x351ee3c3de86ec37));
}

/* The documented definition written the plain way: the whole byte stream built first, then
 * padded and hashed a word at a time. */
static uint64_t content_hash_reference(const ps_record *r)
{
    static unsigned char stream[PS_FIELD_COUNT * 1400 + 8];
    size_t n = 0;
    for (int f = PS_F_ID + 1; f < PS_FIELD_COUNT; f++) {
        if (!r->field[f].ptr) {
            stream[n++] = 0x00;
            continue;
        }
        stream[n++] = 0x01;
        memcpy(stream + n, r->field[f].ptr, r->field[f].len);
        n += r->field[f].len;
        stream[n++] = 0x00;
    }
    while (n % 8)
        stream[n++] = 0x00;
    uint64_t h = UINT64_C(0xcbf29ce484222325);
    for (size_t i = 0; i < n; i += 8) {
        uint64_t w = 0;
        for (int b = 7; b >= 0; b--)
            w = w << 8 | stream[i + (size_t)b];
        h = (h ^ w) * UINT64_C(0x100000001b3);
        h ^= h >> 32;
    }
    return h;
}

/* The staged hash equals the plain definition for random records: every field absent, empty
 * or 1..1300 bytes (short values, values around 8, 16 and 32 bytes, around the staged path's
 * 255-byte limit, values crossing the other path's 512-byte buffer), each value in its own
 * allocation of exactly its length (no NUL after it: ASan and valgrind see any read past it). */
static void test_content_hash_random(void **state)
{
    static const size_t lens[] = {0,  1,  2,  3,  4,  5,  7,   8,   9,   15,  16,  17,  23,  24,
                                  31, 32, 33, 40, 47, 48, 100, 255, 256, 511, 512, 513, 1300};
    enum { NLENS = sizeof lens / sizeof lens[0] };
    uint32_t seed = 12345;
    (void)state;
    for (int iter = 0; iter < 3000; iter++) {
        ps_record r;
        char *vals[PS_FIELD_COUNT] = {0};
        memset(&r, 0, sizeof r);
        for (int f = 0; f < PS_FIELD_COUNT; f++) {
            seed = seed * 1103515245u + 12345u;
            unsigned pick = (seed >> 16) % (NLENS + 4);
            if (pick >= NLENS + (iter % 4 == 0 ? 4 : 0))
                continue; /* absent */
            size_t len = pick < NLENS ? lens[pick] : (seed >> 8) % 41;
            if (iter % 7 == 0 && f == PS_F_NOTES)
                len = 1300;
            vals[f] = malloc(len ? len : 1);
            assert_non_null(vals[f]);
            for (size_t i = 0; i < len; i++) {
                seed = seed * 1103515245u + 12345u;
                vals[f][i] = (char)(1 + (seed >> 16) % 255);
            }
            r.field[f].ptr = vals[f];
            r.field[f].len = (uint32_t)len;
        }
        assert_true(ps_record_content_hash(&r) == content_hash_reference(&r));
        for (int f = 0; f < PS_FIELD_COUNT; f++)
            free(vals[f]);
    }
}

/* Every field at every length 0..300 (and absent, and empty next to absent), the other fields
 * of a bench-like record around it: the staged hash equals the plain definition, so each
 * length puts the field's bytes at every offset of a word and on both sides of every group and
 * of the 255-byte limit. */
static void test_content_hash_every_length(void **state)
{
    static const char *const base[PS_FIELD_COUNT] = {"PAY-1",
                                                     "2024-01-01T00:00:01.223Z",
                                                     "207",
                                                     "GHS",
                                                     "INSTALLMENT_PAYMENT",
                                                     "2.04",
                                                     "MM7765248678",
                                                     NULL,
                                                     "GH-SM",
                                                     "Ada Mwangi",
                                                     "+233200762644",
                                                     "Public",
                                                     NULL,
                                                     "AG-1",
                                                     NULL,
                                                     "",
                                                     "UT-07",
                                                     NULL,
                                                     "Pre",
                                                     "Completed",
                                                     NULL};
    (void)state;
    char *v = malloc(301);
    assert_non_null(v);
    for (int i = 0; i < 301; i++)
        v[i] = (char)(0x20 + (i * 7) % 95);
    for (int f = PS_F_ID + 1; f < PS_FIELD_COUNT; f++) {
        for (int len = -1; len <= 300; len++) {
            ps_record r;
            memset(&r, 0, sizeof r);
            for (int g = 0; g < PS_FIELD_COUNT; g++)
                r.field[g] = ps_str_from(base[g]);
            char *val = NULL;
            if (len >= 0) {
                val = malloc(len ? (size_t)len : 1);
                assert_non_null(val);
                memcpy(val, v + (300 - len), (size_t)len);
                r.field[f].ptr = val;
                r.field[f].len = (uint32_t)len;
            } else {
                r.field[f] = ps_str_from(NULL);
            }
            if (ps_record_content_hash(&r) != content_hash_reference(&r))
                fail_msg("field %d, length %d", f, len);
            free(val);
        }
    }
    free(v);
}

static void test_content_hash(void **state)
{
    ps_validator *v = make(STD, "ds");
    ps_arena *a = ps_arena_create(0);
    row r;
    ps_record rec;
    uint64_t h1;
    (void)state;
    base_row(&r, STD);
    accept(v, &r, a, &rec);
    h1 = rec.content_hash;
    assert_true(h1 == ps_record_content_hash(&rec));
    /* golden value: layout documented in docs/data-model.md */
    assert_true(h1 == UINT64_C(0xeea3cd88981bc0e3));
    /* the ID is not part of it */
    set(&r, PS_F_ID, "P-9999", TXT);
    accept(v, &r, a, &rec);
    assert_true(rec.content_hash == h1);
    /* equivalent input spellings give the same canonical content */
    set(&r, PS_F_PAYMENT_AMOUNT, "1,500.50", TXT);
    set(&r, PS_F_PAYMENT_CURRENCY, "Naira", TXT);
    accept(v, &r, a, &rec);
    assert_true(rec.content_hash == h1);
    /* any other field changes it; an empty value differs from an absent one */
    set(&r, PS_F_NOTES, "x", TXT);
    accept(v, &r, a, &rec);
    assert_true(rec.content_hash != h1);
    set(&r, PS_F_NOTES, NULL, TXT);
    set(&r, PS_F_STATUS, "x", TXT);
    accept(v, &r, a, &rec);
    assert_true(rec.content_hash != h1);
    ps_arena_destroy(a);
    ps_validator_free(v);
}

static void test_blank(void **state)
{
    ps_cell blank[3] = {{"", 0, 0}, {"  \t", 3, 0}, {"\xc2\xa0", 2, 0}};
    ps_cell some[2] = {{"", 0, 0}, {" x ", 3, 0}};
    (void)state;
    assert_true(ps_row_is_blank(blank, 3));
    assert_true(ps_row_is_blank(blank, 0));
    assert_false(ps_row_is_blank(some, 2));
}

static void test_utf8(void **state)
{
    static const struct {
        const char *s;
        size_t len;
        size_t want;
    } cases[] = {
        {"plain", 5, 5},
        {"\xc3\xa9t\xc3\xa9", 5, 5},
        {"\xe2\x82\xa6", 3, 3},
        {"\xf0\x9f\x92\xa1", 4, 4},
        {"ab\xff", 3, 2},
        {"\xc0\x80", 2, 0},         /* overlong NUL */
        {"\xe0\x80\xaf", 3, 0},     /* overlong */
        {"\xed\xa0\x80", 3, 0},     /* surrogate */
        {"\xf4\x90\x80\x80", 4, 0}, /* above U+10FFFF */
        {"x\xe2\x82", 3, 1},        /* truncated */
        {"a\0b", 3, 1},             /* NUL */
        {"\x80", 1, 0},
        {"abcdefghijklmnopq", 17, 17}, /* word-at-a-time path */
        {"abcdefgh\0ijklmnop", 17, 8},
        {"abcdefghij\xffklmnop", 17, 10},
        {"abcdefghijklmnop\xc3\xa9"
         "abcdefgh",
         26, 26},
    };
    size_t i;
    (void)state;
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++)
        assert_int_equal(ps_utf8_check(cases[i].s, cases[i].len), cases[i].want);
}

/* Two validations of the same row gave the same outcome, problems (field, code, message, raw
 * pointer) and, accepted, the same record. */
static void assert_same(ps_row_outcome oa, const ps_record *ra, const ps_row_check *ca,
                        ps_row_outcome ob, const ps_record *rb, const ps_row_check *cb)
{
    assert_int_equal(oa, ob);
    assert_int_equal(ca->n_errors, cb->n_errors);
    assert_int_equal(ca->n_warnings, cb->n_warnings);
    for (int i = 0; i < ca->n_errors + ca->n_warnings; i++) {
        const ps_problem *pa = i < ca->n_errors ? &ca->errors[i] : &ca->warnings[i - ca->n_errors];
        const ps_problem *pb = i < ca->n_errors ? &cb->errors[i] : &cb->warnings[i - ca->n_errors];
        assert_int_equal(pa->field, pb->field);
        assert_string_equal(pa->code, pb->code);
        assert_string_equal(pa->message, pb->message);
        assert_ptr_equal(pa->raw, pb->raw);
    }
    if (oa != PS_ROW_ACCEPTED)
        return;
    for (int f = 0; f < PS_FIELD_COUNT; f++) {
        assert_int_equal(ra->field[f].len, rb->field[f].len);
        assert_int_equal(ra->field[f].ptr == NULL, rb->field[f].ptr == NULL);
        if (ra->field[f].ptr)
            assert_memory_equal(ra->field[f].ptr, rb->field[f].ptr, ra->field[f].len + 1);
    }
    assert_true(ra->timestamp_ms == rb->timestamp_ms);
    assert_true(ra->amount.units == rb->amount.units);
    assert_int_equal(ra->amount.scale, rb->amount.scale);
    assert_int_equal(ra->has_charges, rb->has_charges);
    assert_true(ra->charges.units == rb->charges.units);
    assert_int_equal(ra->charges.scale, rb->charges.scale);
    assert_int_equal(ra->id_derived, rb->id_derived);
    assert_true(ra->content_hash == rb->content_hash);
    assert_true(ra->source_row == rb->source_row);
}

/* The row-flags path (ps_validate_row_flags with PS_ROWF_ASCII | PS_ROWF_NO_NUL: one pass,
 * no UTF-8 check) gives what the general path gives for every ASCII row without NUL: the same
 * outcome, problems (field, code, message, raw text) and record (values, lengths, parsed
 * amounts, timestamp, content hash). Random rows of valid, invalid, empty and absent values,
 * padded with every ASCII whitespace byte, some cells not NUL-terminated, under a standard
 * validator with defaults and a strict one.
 * ps_validate_row_cols gives the same from the cells in shuffled columns among unmapped
 * ones (fields without a cell unmapped or past the row's end), flagged and not. */
static void test_row_flags_same_results(void **state)
{
    static const char *const pool[] = {"P-0001",
                                       "00123",
                                       "2024-03-05T14:16:01.350Z",
                                       "2024-03-05 14:16:01",
                                       "2021-05-16T14:16:01",
                                       "45356.5",
                                       "05/03/2024 14:16",
                                       "2024-02-30",
                                       "soon",
                                       "1500.50",
                                       "-20",
                                       "1,500.50",
                                       "2000 NGN",
                                       "KES 100",
                                       "1.12345",
                                       "abc",
                                       "0",
                                       "12.5.0",
                                       "NGN",
                                       "ngn",
                                       "Naira",
                                       "Kwacha",
                                       "XYZ",
                                       "GHS",
                                       "FULL_PAYMENT",
                                       "Installment payment",
                                       "pay",
                                       "Refund",
                                       "+2348031234567",
                                       "08031234567",
                                       "0803 123 4567",
                                       "+233200762644",
                                       "phone",
                                       "6.5244",
                                       "-1.8852",
                                       "91",
                                       "181",
                                       "3",
                                       "3.0",
                                       "-1",
                                       "x",
                                       "Ada Mwangi",
                                       "Residential",
                                       "NOTE \"quoted\" \\ back",
                                       "a\tb"};
    static const char ws[] = {' ', '\t', '\n', '\v', '\f', '\r'};
    ps_validate_config cfg;
    ps_validator *vd = NULL, *vx = make(STRICT, "01_2024_Site"), *vs = make(STD, "ds");
    ps_arena *a = ps_arena_create(0);
    uint32_t seed = 777;
    unsigned long long accepted = 0, rejected = 0, warned = 0;
    (void)state;
    memset(&cfg, 0, sizeof cfg);
    cfg.dataset = "ds";
    cfg.phone_country_code = "234";
    cfg.defaults[PS_F_PAYMENT_CURRENCY] = "KES";
    cfg.defaults[PS_F_CUSTOMER_CATEGORY] = " Prepaid ";
    cfg.defaults[PS_F_TRANSACTION_TYPE] = "Full payment";
    assert_int_equal(ps_validator_new(&cfg, &vd, NULL), PS_OK);
    for (int iter = 0; iter < 20000; iter++) {
        static char text[PS_FIELD_COUNT][96];
        row r;
        const ps_validator *v = iter % 3 == 0 ? vd : iter % 3 == 1 ? vs : vx;
        memset(&r, 0, sizeof r);
        for (int f = 0; f < PS_FIELD_COUNT; f++) {
            seed = seed * 1103515245u + 12345u;
            unsigned k = seed >> 8;
            if (k % 32 == 0) {
                r.by[f] = NULL; /* no column */
                continue;
            }
            /* mostly the base row's value (rows get accepted), else from the pool */
            const char *val =
                k % 32 < 30 && base[f] ? base[f] : pool[(k >> 5) % (sizeof pool / sizeof pool[0])];
            size_t n = 0, lead = (k >> 12) % 5 == 0 ? 1 + (k >> 16) % 3 : 0,
                   trail = (k >> 18) % 5 == 0 ? 1 + (k >> 20) % 3 : 0;
            if ((k >> 22) % 50 == 0)
                val = ""; /* empty, or only whitespace when padded */
            for (size_t i = 0; i < lead; i++)
                text[f][n++] = ws[(k >> (i + 3)) % sizeof ws];
            memcpy(text[f] + n, val, strlen(val));
            n += strlen(val);
            for (size_t i = 0; i < trail; i++)
                text[f][n++] = ws[(k >> (i + 5)) % sizeof ws];
            /* a cell usually ends in NUL (as the CSV reader's do); sometimes a byte follows */
            text[f][n] = (k >> 25) % 4 == 0 ? 'Z' : '\0';
            text[f][n + 1] = '\0';
            r.cells[f].text = text[f];
            r.cells[f].len = (uint32_t)n;
            r.cells[f].kind = (uint8_t)((k >> 27) % 6 == 0 ? NUM : TXT);
            r.by[f] = &r.cells[f];
        }
        /* the same cells as a row: in shuffled columns among unmapped ones, a field without a
         * cell not mapped (-1) or mapped past the row's end */
        ps_cell cells[2 * PS_FIELD_COUNT];
        int field_col[PS_FIELD_COUNT], perm[2 * PS_FIELD_COUNT];
        uint32_t ncells = PS_FIELD_COUNT + (seed >> 9) % PS_FIELD_COUNT;
        for (uint32_t c = 0; c < ncells; c++)
            perm[c] = (int)c;
        for (uint32_t c = ncells - 1; c > 0; c--) {
            seed = seed * 1103515245u + 12345u;
            uint32_t o = (seed >> 8) % (c + 1);
            int t = perm[c];
            perm[c] = perm[o];
            perm[o] = t;
        }
        for (uint32_t c = 0; c < ncells; c++)
            cells[c] = (ps_cell){"unmapped", 8, PS_CELL_TEXT};
        for (int f = 0; f < PS_FIELD_COUNT; f++) {
            if (r.by[f]) {
                field_col[f] = perm[f];
                cells[perm[f]] = r.cells[f];
            } else {
                field_col[f] = f % 2 ? -1 : (int)ncells + f;
            }
        }
        ps_record ra, rb, rc, rd;
        ps_row_check ca, cb, cc, cd;
        ps_row_outcome oa = ps_validate_row_memo(v, NULL, r.by, 9, a, &ra, &ca);
        ps_row_outcome ob =
            ps_validate_row_flags(v, NULL, r.by, PS_ROWF_ASCII | PS_ROWF_NO_NUL, 9, a, &rb, &cb);
        ps_row_outcome oc = ps_validate_row_cols(v, NULL, cells, ncells, field_col,
                                                 PS_ROWF_ASCII | PS_ROWF_NO_NUL, 9, a, &rc, &cc);
        ps_row_outcome od =
            ps_validate_row_cols(v, NULL, cells, ncells, field_col, PS_ROWF_NO_NUL, 9, a, &rd, &cd);
        assert_same(oa, &ra, &ca, ob, &rb, &cb);
        assert_same(oa, &ra, &ca, oc, &rc, &cc);
        assert_same(oa, &ra, &ca, od, &rd, &cd);
        rejected += oa == PS_ROW_REJECTED;
        warned += ca.n_warnings > 0;
        accepted += oa == PS_ROW_ACCEPTED;
        ps_arena_reset(a);
    }
    /* the rows reach every outcome */
    print_message("%llu accepted (%llu with warnings), %llu rejected\n", accepted, warned,
                  rejected);
    assert_true(accepted >= 1000);
    assert_true(rejected >= 1000);
    assert_true(warned >= 100);
    ps_arena_destroy(a);
    ps_validator_free(vd);
    ps_validator_free(vs);
    ps_validator_free(vx);
}

/* The canonical text of LATITUDE / LONGITUDE (limit 90 / 180) or of a count (limit < 0), by a
 * plain reading of the rules (docs/data-model.md); NULL when the value is refused. */
static const char *ref_canonical(const char *s, int limit, char *out)
{
    size_t i = 0, ib, ie, fb = 0, fe = 0;
    int neg = 0, dot = 0;
    if (s[0] == '+' || (limit >= 0 && s[0] == '-')) {
        neg = s[0] == '-';
        i++;
    }
    for (ib = i; s[i] >= '0' && s[i] <= '9'; i++)
        ;
    ie = i;
    if (s[i] == '.') {
        dot = 1;
        for (fb = ++i; s[i] >= '0' && s[i] <= '9'; i++)
            ;
        fe = i;
    }
    if (s[i] || (ie == ib && fe == fb))
        return NULL;
    while (ib + 1 < ie && s[ib] == '0')
        ib++;
    if (limit < 0) { /* a count: whole digits, any ".000" dropped */
        for (size_t k = fb; dot && k < fe; k++)
            if (s[k] != '0')
                return NULL;
        if (ie == ib || ie - ib > 18)
            return NULL;
        memcpy(out, s + ib, ie - ib);
        out[ie - ib] = '\0';
        return out;
    }
    long ip = 0;
    int frac = 0;
    if (ie - ib > 3)
        return NULL;
    for (size_t k = ib; k < ie; k++)
        ip = ip * 10 + (s[k] - '0');
    for (size_t k = fb; dot && k < fe; k++)
        frac |= s[k] != '0';
    if (ip > limit || (ip == limit && frac))
        return NULL;
    snprintf(out, 64, "%s%s%.*s%s%.*s", neg ? "-" : "", ie == ib ? "0" : "", (int)(ie - ib), s + ib,
             fe > fb ? "." : "", (int)(fe - fb), s + fb);
    return out;
}

/* LATITUDE, LONGITUDE, FAILED_BATTERY_CAPACITY_COUNT and CUSTOMER_PHONE use a cell in place
 * when it is already canonical and NUL-terminated at its end: random values (signs, leading
 * zeros, bare fractions, trailing dots, ".000", spaces around) give the canonical text of the
 * plain rules, in place exactly when that text is the cell as written. */
static void test_canonical_in_place(void **state)
{
    static const int fields[] = {PS_F_LATITUDE, PS_F_LONGITUDE, PS_F_FAILED_BATTERY_CAPACITY_COUNT};
    ps_validator *v = make(STD, "ds");
    ps_arena *a = ps_arena_create(0);
    unsigned seed = 7;
    int in_place = 0, copied = 0, refused = 0;
    (void)state;
    for (int it = 0; it < 60000; it++) {
        int f = fields[it % 3], limit = f == PS_F_LATITUDE ? 90 : f == PS_F_LONGITUDE ? 180 : -1;
        char text[64], want[64];
        size_t n = 0;
        seed = seed * 1103515245u + 12345u;
        unsigned r = seed >> 8;
        int pad = (r & 7) == 0;
        if (pad)
            text[n++] = ' ';
        if ((r >> 3) % 5 == 0)
            text[n++] = (r >> 6) & 1 ? '+' : '-';
        int nint = (int)((r >> 7) % 5), nfrac = (int)((r >> 10) % 5);
        for (int k = 0; k < nint; k++) {
            seed = seed * 1103515245u + 12345u;
            text[n++] = (char)('0' + ((seed >> 16) % 10 < 3 ? 0 : (seed >> 16) % 10));
        }
        if ((r >> 13) % 3 != 0 || nfrac)
            text[n++] = '.';
        for (int k = 0; k < nfrac && text[n - 1] != ' '; k++) {
            seed = seed * 1103515245u + 12345u;
            text[n++] = (char)('0' + ((seed >> 16) % 10 < 4 ? 0 : (seed >> 16) % 10));
        }
        if ((r >> 15) % 40 == 0)
            text[n++] = 'x';
        if (pad)
            text[n++] = ' ';
        text[n] = '\0';
        /* the value without the padding */
        char bare[64];
        size_t b0 = pad ? 1 : 0, bl = n - 2 * b0;
        memcpy(bare, text + b0, bl);
        bare[bl] = '\0';
        if (bl == 0)
            continue;
        const char *ref = ref_canonical(bare, limit, want);
        row rw;
        ps_record rec;
        ps_row_check chk;
        base_row(&rw, STD);
        set(&rw, f, text, TXT);
        assert_int_equal(ps_validate_row(v, rw.by, 2, a, &rec, &chk), PS_ROW_ACCEPTED);
        if (!ref) {
            if (rec.field[f].ptr)
                fail_msg("'%s' accepted as '%s'", text, rec.field[f].ptr);
            assert_int_equal(chk.n_warnings, 1);
            refused++;
            continue;
        }
        assert_int_equal(chk.n_warnings, 0);
        if (!rec.field[f].ptr || strcmp(rec.field[f].ptr, ref) != 0 ||
            rec.field[f].len != strlen(ref))
            fail_msg("'%s' gave '%s', want '%s'", text,
                     rec.field[f].ptr ? rec.field[f].ptr : "(null)", ref);
        int same = !pad && strcmp(ref, text) == 0;
        assert_int_equal(rec.field[f].ptr == text, same);
        in_place += same;
        copied += !same;
    }
    assert_true(in_place > 5000 && copied > 5000 && refused > 1000);

    /* a canonical value whose cell is not NUL-terminated at its length is copied */
    static const struct {
        int f;
        const char *cell; /* the first len bytes are the value */
        uint32_t len;
    } cut[] = {
        {PS_F_LATITUDE, "6.5212x", 6},
        {PS_F_LONGITUDE, "-0.25,", 5},
        {PS_F_FAILED_BATTERY_CAPACITY_COUNT, "12;", 2},
        {PS_F_CUSTOMER_PHONE, "+2348031234567;", 14},
    };
    for (size_t i = 0; i < sizeof cut / sizeof cut[0]; i++) {
        row rw;
        ps_record rec;
        ps_row_check chk;
        base_row(&rw, STD);
        set(&rw, cut[i].f, cut[i].cell, TXT);
        rw.cells[cut[i].f].len = cut[i].len;
        assert_int_equal(ps_validate_row(v, rw.by, 2, a, &rec, &chk), PS_ROW_ACCEPTED);
        assert_int_equal(chk.n_warnings, 0);
        assert_true(rec.field[cut[i].f].ptr != cut[i].cell);
        assert_int_equal(rec.field[cut[i].f].len, cut[i].len);
        assert_memory_equal(rec.field[cut[i].f].ptr, cut[i].cell, cut[i].len);
        assert_int_equal(rec.field[cut[i].f].ptr[cut[i].len], '\0');
    }

    /* CUSTOMER_PHONE: in place only when the cell is its E.164 text */
    static const struct {
        const char *in, *out;
    } ph[] = {
        {"+2348031234567", "+2348031234567"},    {"08031234567", "+2348031234567"},
        {"+234 803 123 4567", "+2348031234567"}, {"2348031234567", "+2348031234567"},
        {"+447400123456", "+447400123456"},      {"+2348031234567 ", "+2348031234567"},
    };
    for (size_t i = 0; i < sizeof ph / sizeof ph[0]; i++) {
        row rw;
        ps_record rec;
        ps_row_check chk;
        base_row(&rw, STD);
        set(&rw, PS_F_CUSTOMER_PHONE, ph[i].in, TXT);
        assert_int_equal(ps_validate_row(v, rw.by, 2, a, &rec, &chk), PS_ROW_ACCEPTED);
        assert_int_equal(chk.n_warnings, 0);
        assert_string_equal(rec.field[PS_F_CUSTOMER_PHONE].ptr, ph[i].out);
        assert_int_equal(rec.field[PS_F_CUSTOMER_PHONE].ptr == ph[i].in,
                         strcmp(ph[i].in, ph[i].out) == 0);
    }
    ps_arena_destroy(a);
    ps_validator_free(v);
}

/* 1 when s[0..n) is -?(0|[1-9][0-9]*)(.[0-9]+)?, read left to right by hand. */
static int json_number_text(const char *s, size_t n)
{
    size_t i = s[0] == '-';
    if (i >= n || s[i] < '0' || s[i] > '9' || (s[i] == '0' && i + 1 < n && s[i + 1] != '.'))
        return 0;
    const char *dot = memchr(s, '.', n);
    for (size_t k = i; k < n; k++)
        if ((s + k != dot && (s[k] < '0' || s[k] > '9')))
            return 0;
    return !dot || (dot > s + i && dot < s + n - 1);
}

/* PS_RECF_NUMBERS (ABI 2.7): the core flags every record it validated as holding JSON numbers
 * in its five numeric fields. Random amounts (signs, separators, symbols, codes, leading zeros,
 * bare fractions, trailing dots), coordinates and counts: whatever the validator accepts is
 * such a number. */
static void test_numbers_are_json(void **state)
{
    static const char *const pre[] = {"", "", "", "-", "+", " ", "NGN ", "\xe2\x82\xa6", "(", "0"};
    static const char *const post[] = {"", "", "", ".", ".0", "00", " NGN", ")", ",000", "e3"};
    static const int fields[] = {PS_F_PAYMENT_AMOUNT, PS_F_TRANSACTION_CHARGES, PS_F_LATITUDE,
                                 PS_F_LONGITUDE, PS_F_FAILED_BATTERY_CAPACITY_COUNT};
    ps_validator *v = make(STD, "ds");
    ps_arena *a = ps_arena_create(0);
    unsigned seed = 99;
    int accepted = 0;
    (void)state;
    for (int it = 0; it < 40000; it++) {
        char text[96];
        seed = seed * 1103515245u + 12345u;
        unsigned r = seed >> 4;
        int f = fields[r % 5];
        char digits[24];
        size_t nd = 0, want = (r >> 3) % 8;
        for (size_t k = 0; k < want; k++) {
            seed = seed * 1103515245u + 12345u;
            digits[nd++] = (char)('0' + (seed >> 16) % 10);
            if ((seed >> 24) % 9 == 0)
                digits[nd++] = '.';
        }
        digits[nd] = '\0';
        snprintf(text, sizeof text, "%s%s%s", pre[(r >> 6) % 10], digits, post[(r >> 10) % 10]);
        if (!text[0])
            continue;
        row rw;
        ps_record rec;
        ps_row_check chk;
        base_row(&rw, STD);
        set(&rw, f, text, (r >> 14) % 4 ? TXT : NUM);
        if (ps_validate_row(v, rw.by, 2, a, &rec, &chk) != PS_ROW_ACCEPTED)
            continue;
        for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
            const ps_str *x = &rec.field[fields[i]];
            if (x->ptr && !json_number_text(x->ptr, x->len))
                fail_msg("'%s' gave %s '%.*s', not a JSON number", text, ps_field_name(fields[i]),
                         (int)x->len, x->ptr);
        }
        accepted += rec.field[f].ptr != NULL;
    }
    assert_true(accepted > 5000);
    ps_arena_destroy(a);
    ps_validator_free(v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table),
        cmocka_unit_test(test_record_fields),
        cmocka_unit_test(test_many_errors_collected),
        cmocka_unit_test(test_serial_zone),
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_config_errors),
        cmocka_unit_test(test_phone_country),
        cmocka_unit_test(test_derived_id),
        cmocka_unit_test(test_content_hash),
        cmocka_unit_test(test_content_hash_definition),
        cmocka_unit_test(test_content_hash_random),
        cmocka_unit_test(test_content_hash_every_length),
        cmocka_unit_test(test_blank),
        cmocka_unit_test(test_utf8),
        cmocka_unit_test(test_row_flags_same_results),
        cmocka_unit_test(test_canonical_in_place),
        cmocka_unit_test(test_numbers_are_json),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
