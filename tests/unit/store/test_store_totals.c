/* The store's readers behind the HTML report: ps_store_totals (per UTC day, currency and
 * transaction type, counted and summed by the store) agrees with the payment query it shares
 * its filters with; ps_store_run_codes gives one run's reject and warning codes; the payment
 * query's vanished_in_run / changed_in_run select one run's changes. A store written by the
 * real sqlite writer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "model/decimal.h"
#include "sink_test_host.h"
#include "store/store.h"

#define DAY 86400000LL
#define D0 1704067200000LL /* 2024-01-01T00:00:00Z = day 19723 */

typedef struct fx {
    sth_sink *sink;
    ps_store_ref ref;
    ps_store *s;
} fx;

typedef struct pay {
    const char *id;
    int64_t ts;
    const char *amount, *currency, *type;
} pay;

/* One committed run of dataset writing ps; codes as "code=count" pairs (rejects then
 * warnings). */
static void run(fx *f, const char *dataset, const char *run_id, const pay *ps, size_t n,
                const char *const *rcodes, const uint64_t *rcounts, size_t nr,
                const char *const *wcodes, const uint64_t *wcounts, size_t nw)
{
    ps_record recs[8];
    char text[8][32];
    assert_true(n <= 8);
    for (size_t i = 0; i < n; i++) {
        snprintf(text[i], sizeof text[i], "%lld", (long long)ps[i].ts);
        sth_record(&recs[i], ps[i].id, text[i], ps[i].ts, ps[i].amount);
        recs[i].field[PS_F_PAYMENT_CURRENCY] = ps_str_from(ps[i].currency);
        recs[i].field[PS_F_TRANSACTION_TYPE] = ps_str_from(ps[i].type);
        sth_finish_record(&recs[i]);
        recs[i].content_hash = ps_record_content_hash(&recs[i]);
    }
    ps_error err = {0};
    ps_sink_open_args oa = {sizeof(oa), dataset, PS_TARGET_PROJECT, "site", run_id, 1000};
    if (sth_sink_write(f->sink, &oa, recs, n, &err) != PS_OK)
        fail_msg("write %s: %s", dataset, err.message);
    ps_commit_info ci = {.struct_size = sizeof(ci),
                         .dataset = dataset,
                         .run_id = run_id,
                         .started_ms = 1000,
                         .finished_ms = 2000,
                         .read = n,
                         .accepted = n,
                         .n_reject_codes = nr,
                         .reject_codes = rcodes,
                         .reject_code_counts = rcounts,
                         .n_warning_codes = nw,
                         .warning_codes = wcodes,
                         .warning_code_counts = wcounts};
    ps_change_counts cc = {0};
    if (f->sink->d->sink->commit(f->sink->inst, &ci, &cc, &err) != PS_OK)
        fail_msg("commit %s: %s", dataset, err.message);
}

static const pay first[] = {
    {"P1", D0 + 5, "7", "NGN", "FULL_PAYMENT"},
    {"P2", D0 + 9, "12.50", "NGN", "FULL_PAYMENT"}, /* scales 0 and 2 on one day: 19.50 */
    {"P3", D0 + 10, "3.25", "KES", "DISCOUNT"},
    {"P4", D0 + 2 * DAY + 1, "100", "NGN", "DISCOUNT"}, /* day 2; day 1 has none */
    {"GONE", D0 + 2 * DAY + 2, "5", "NGN", "DISCOUNT"},
    {"OLD", -DAY + 1, "1", "NGN", "FULL_PAYMENT"}, /* 1969-12-31: day -1, not 0 */
};

static int setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    assert_non_null(f);
    const ps_store_backend *b = ps_store_backend_find("sqlite");
    f->sink = sth_sink_new(b->sink(), "store", "var/paysync.db");
    assert_non_null(f->sink);
    ps_error err = {0};
    if (sth_sink_create(f->sink, &err) != PS_OK)
        fail_msg("create: %s", err.message);
    static const char *const rc1[] = {"bad_amount", "unknown_meter"};
    static const uint64_t rn1[] = {3, 1};
    static const char *const wc1[] = {"bad_phone"};
    static const uint64_t wn1[] = {2};
    run(f, "north", "r1", first, 6, rc1, rn1, 2, wc1, wn1, 1);
    /* r2: GONE vanishes, P2 changes, P1 P3 P4 OLD unchanged, NEW is new */
    pay second[6] = {first[0], first[1], first[2],
                     first[3], first[5], {"NEW", D0 + 3 * DAY, "1", "NGN", "FULL_PAYMENT"}};
    second[1].amount = "13";
    static const char *const wc2[] = {"unknown_meter"};
    static const uint64_t wn2[] = {4};
    run(f, "north", "r2", second, 6, NULL, NULL, 0, wc2, wn2, 1);
    pay south[] = {{"S1", D0 + 1, "2", "NGN", "FULL_PAYMENT"}};
    run(f, "south", "r1", south, 1, NULL, NULL, 0, NULL, NULL, 0);
    f->ref.backend = b;
    f->ref.location = strdup(f->sink->path);
    if (ps_store_open(&f->ref, PS_STORE_WAIT_MS, &f->s, &err) != PS_OK)
        fail_msg("open: %s", err.message);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    ps_store_close(f->s);
    ps_store_ref_free(&f->ref);
    assert_int_equal(sth_sink_free(f->sink), 0);
    free(f);
    return 0;
}

/* The totals of q as "day/currency/type:count:amount" joined by spaces. */
static void totals_text(fx *f, const ps_store_query *q, char *out, size_t cap)
{
    ps_store_iter *it = NULL;
    ps_error err = {0};
    ps_store_total t;
    ps_status st;
    size_t n = 0;
    out[0] = '\0';
    assert_int_equal(ps_store_totals(f->s, q, &it, &err), PS_OK);
    while ((st = ps_store_next_total(it, &t, &err)) == PS_OK) {
        char a[PS_DECIMAL_TEXT_MAX];
        ps_decimal_format(t.amount, a);
        n += (size_t)snprintf(out + n, cap - n, "%s%lld/%s/%s:%llu:%s", n ? " " : "",
                              (long long)(t.day - D0 / DAY), t.currency, t.transaction_type,
                              (unsigned long long)t.count, a);
    }
    assert_int_equal(st, PS_END);
    ps_store_iter_free(it);
}

/* The same figures from the payment query, read one by one. */
static void query_text(fx *f, const ps_store_query *q, char *out, size_t cap)
{
    struct {
        int64_t day;
        char cur[8], type[32];
        uint64_t count;
        int64_t units; /* at scale 2 */
    } g[16];
    size_t ng = 0, n = 0;
    ps_store_iter *it = NULL;
    ps_error err = {0};
    ps_store_payment p;
    ps_status st;
    assert_int_equal(ps_store_payments(f->s, q, &it, &err), PS_OK);
    while ((st = ps_store_next_payment(it, &p, &err)) == PS_OK) {
        int64_t day =
            p.timestamp_ms >= 0 ? p.timestamp_ms / DAY : -((-p.timestamp_ms + DAY - 1) / DAY);
        size_t k = 0;
        while (k < ng &&
               !(g[k].day == day && strcmp(g[k].cur, p.field[PS_F_PAYMENT_CURRENCY]) == 0 &&
                 strcmp(g[k].type, p.field[PS_F_TRANSACTION_TYPE]) == 0))
            k++;
        if (k == ng) {
            assert_true(ng < 16);
            memset(&g[ng], 0, sizeof g[ng]);
            g[ng].day = day;
            snprintf(g[ng].cur, sizeof g[ng].cur, "%s", p.field[PS_F_PAYMENT_CURRENCY]);
            snprintf(g[ng].type, sizeof g[ng].type, "%s", p.field[PS_F_TRANSACTION_TYPE]);
            ng++;
        }
        g[k].count++;
        int64_t u = p.amount.units;
        for (int s = p.amount.scale; s < 2; s++)
            u *= 10;
        g[k].units += u;
    }
    assert_int_equal(st, PS_END);
    ps_store_iter_free(it);
    out[0] = '\0';
    /* sorted like the totals: day, currency, type (insertion sort, few groups) */
    for (size_t i = 1; i < ng; i++)
        for (size_t j = i; j > 0; j--) {
            int c = g[j - 1].day != g[j].day ? (g[j - 1].day > g[j].day ? 1 : -1)
                                             : strcmp(g[j - 1].cur, g[j].cur);
            if (c == 0)
                c = strcmp(g[j - 1].type, g[j].type);
            if (c <= 0)
                break;
            __typeof__(g[0]) tmp = g[j];
            g[j] = g[j - 1];
            g[j - 1] = tmp;
        }
    for (size_t k = 0; k < ng; k++) {
        char a[PS_DECIMAL_TEXT_MAX];
        ps_decimal_format((ps_decimal){.units = g[k].units, .scale = 2}, a);
        n += (size_t)snprintf(out + n, cap - n, "%s%lld/%s/%s:%llu:%s", n ? " " : "",
                              (long long)(g[k].day - D0 / DAY), g[k].cur, g[k].type,
                              (unsigned long long)g[k].count, a);
    }
}

static void test_totals(void **state)
{
    fx *f = *state;
    const char *north[] = {"north"};
    char got[1024], want[1024];
    ps_store_query q = {.datasets = north, .ndatasets = 1, .unbounded = 1};
    totals_text(f, &q, got, sizeof got);
    /* the sum keeps the largest scale of its amounts: 7 + 13 = 20, 3.25 */
    assert_string_equal(got, "-19724/NGN/FULL_PAYMENT:1:1 0/KES/DISCOUNT:1:3.25 "
                             "0/NGN/FULL_PAYMENT:2:20 2/NGN/DISCOUNT:1:100 "
                             "3/NGN/FULL_PAYMENT:1:1");
    /* the same selection as the payment query, for every filter the report uses */
    query_text(f, &q, want, sizeof want);
    assert_string_equal(want, "-19724/NGN/FULL_PAYMENT:1:1.00 0/KES/DISCOUNT:1:3.25 "
                              "0/NGN/FULL_PAYMENT:2:20.00 2/NGN/DISCOUNT:1:100.00 "
                              "3/NGN/FULL_PAYMENT:1:1.00");
    ps_store_query w = {
        .datasets = north, .ndatasets = 1, .from_ms = D0 + 6, .to_ms = D0 + 3 * DAY - 1};
    totals_text(f, &w, got, sizeof got);
    assert_string_equal(got, "0/KES/DISCOUNT:1:3.25 0/NGN/FULL_PAYMENT:1:13 2/NGN/DISCOUNT:1:100");
    /* vanished payments in */
    ps_store_query v = {.datasets = north, .ndatasets = 1, .unbounded = 1, .include_vanished = 1};
    totals_text(f, &v, got, sizeof got);
    assert_string_equal(got, "-19724/NGN/FULL_PAYMENT:1:1 0/KES/DISCOUNT:1:3.25 "
                             "0/NGN/FULL_PAYMENT:2:20 2/NGN/DISCOUNT:2:105 "
                             "3/NGN/FULL_PAYMENT:1:1");
    /* every dataset */
    ps_store_query all = {.unbounded = 1, .from_ms = D0, .to_ms = D0 + DAY - 1};
    all.unbounded = 0;
    totals_text(f, &all, got, sizeof got);
    assert_string_equal(got, "0/KES/DISCOUNT:1:3.25 0/NGN/FULL_PAYMENT:3:22");
    /* an empty window */
    ps_store_query none = {
        .datasets = north, .ndatasets = 1, .from_ms = D0 + DAY, .to_ms = D0 + 2 * DAY - 1};
    totals_text(f, &none, got, sizeof got);
    assert_string_equal(got, "");
}

static void codes_text(fx *f, const char *ds, const char *run, int warnings, char *out, size_t cap)
{
    struct ps_store_code_count *c = NULL;
    size_t n = 0, len = 0;
    ps_error err = {0};
    assert_int_equal(ps_store_run_codes(f->s, ds, run, warnings, &c, &n, &err), PS_OK);
    out[0] = '\0';
    for (size_t i = 0; i < n; i++)
        len += (size_t)snprintf(out + len, cap - len, "%s%s=%llu", i ? " " : "", c[i].code,
                                (unsigned long long)c[i].count);
    ps_store_codes_free(c, n);
}

static void test_run_codes(void **state)
{
    fx *f = *state;
    char got[256];
    codes_text(f, "north", "r1", 0, got, sizeof got);
    assert_string_equal(got, "bad_amount=3 unknown_meter=1");
    codes_text(f, "north", "r1", 1, got, sizeof got);
    assert_string_equal(got, "bad_phone=2");
    codes_text(f, "north", "r2", 0, got, sizeof got);
    assert_string_equal(got, "");
    codes_text(f, "north", "r2", 1, got, sizeof got);
    assert_string_equal(got, "unknown_meter=4");
    codes_text(f, "south", "r2", 1, got, sizeof got); /* no such run */
    assert_string_equal(got, "");
}

static void ids_text(fx *f, const ps_store_query *q, char *out, size_t cap)
{
    ps_store_iter *it = NULL;
    ps_error err = {0};
    ps_store_payment p;
    ps_status st;
    size_t n = 0;
    out[0] = '\0';
    assert_int_equal(ps_store_payments(f->s, q, &it, &err), PS_OK);
    while ((st = ps_store_next_payment(it, &p, &err)) == PS_OK)
        n += (size_t)snprintf(out + n, cap - n, "%s%s", n ? " " : "", p.field[PS_F_ID]);
    assert_int_equal(st, PS_END);
    ps_store_iter_free(it);
}

static void test_run_changes(void **state)
{
    fx *f = *state;
    const char *north[] = {"north"};
    char got[256];
    ps_store_query q = {.datasets = north, .ndatasets = 1, .unbounded = 1, .vanished_in_run = "r2"};
    ids_text(f, &q, got, sizeof got);
    assert_string_equal(got, "GONE");
    q.vanished_in_run = "r1";
    ids_text(f, &q, got, sizeof got);
    assert_string_equal(got, "");
    q.vanished_in_run = NULL;
    q.changed_in_run = "r2"; /* P2's amount changed; NEW is new, not changed */
    ids_text(f, &q, got, sizeof got);
    assert_string_equal(got, "P2");
    q.changed_in_run = "r1"; /* the first run's payments are all new */
    ids_text(f, &q, got, sizeof got);
    assert_string_equal(got, "");
    /* totals of one run's changes: the same filters */
    q.changed_in_run = "r2";
    totals_text(f, &q, got, sizeof got);
    assert_string_equal(got, "0/NGN/FULL_PAYMENT:1:13");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_totals, setup, teardown),
        cmocka_unit_test_setup_teardown(test_run_codes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_run_changes, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
