/* Unit tests of the csv sink plugin (static flavour). Output is read back with the core's
 * RFC 4180 reader to prove that quoting round-trips. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>
#include <dirent.h>

#include "util/csv.h"
#include "util/arena.h"
#include "sink_test_host.h"

const ps_plugin_descriptor *paysync_plugin_entry_csv(void);

#define HEADER                                                                                     \
    "ID,TIMESTAMP,PAYMENT_AMOUNT,PAYMENT_CURRENCY,TRANSACTION_TYPE,TRANSACTION_CHARGES,"           \
    "REFERENCE_ID,CUSTOMER_ID,METER_ID,CUSTOMER_NAME,CUSTOMER_PHONE,CUSTOMER_CATEGORY,"            \
    "FINANCING_ID,AGENT_ID,LATITUDE,LONGITUDE,UTILITY_ID,FAILED_BATTERY_CAPACITY_COUNT,"           \
    "ACCOUNT_TYPE,STATUS,NOTES\r\n"

typedef sth_sink fx;

static int setup(void **state)
{
    fx *f = sth_sink_new(paysync_plugin_entry_csv(), "upload", "payments.csv");
    assert_non_null(f);
    sth_set(&f->h, "fsync", "false");
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    assert_int_equal(sth_sink_free(*state), 0);
    return 0;
}

static void create(fx *f)
{
    ps_error err = {0};
    if (sth_sink_create(f, &err) != PS_OK)
        fail_msg("create: %s", err.message);
}

static void write_dataset(fx *f, const char *dataset, const ps_record *recs, size_t n)
{
    ps_error err = {0};
    ps_sink_open_args oa = {sizeof(oa), dataset, PS_TARGET_PROJECT, NULL, "run-1", 0};
    if (sth_sink_write(f, &oa, recs, n, &err) != PS_OK)
        fail_msg("open/write: %s", err.message);
}

static void commit(fx *f)
{
    ps_error err = {0};
    ps_commit_info ci = {0};
    ps_change_counts cc = {0};
    assert_int_equal(f->d->sink->commit(f->inst, &ci, &cc, &err), PS_OK);
    assert_int_equal(cc.valid, 0);
}

static ps_status finish(fx *f, int ok)
{
    ps_error err = {0};
    return f->d->sink->finish(f->inst, ok, &err);
}

typedef struct str_src {
    const char *s;
    size_t pos, len;
} str_src;

static long str_read(void *ctx, char *buf, size_t cap)
{
    str_src *src = ctx;
    size_t n = src->len - src->pos < cap ? src->len - src->pos : cap;
    memcpy(buf, src->s + src->pos, n);
    src->pos += n;
    return (long)n;
}

static void test_descriptor_and_options(void **state)
{
    fx *f = *state;
    assert_string_equal(f->d->name, "csv");
    assert_int_equal(f->d->kind, PS_PLUGIN_SINK);
    assert_int_equal(f->d->flags, 0);
    int seen = 0;
    for (const ps_option_spec *o = f->d->options; o->name; o++)
        seen |= (strcmp(o->name, "path") == 0) | (strcmp(o->name, "header") == 0) << 1 |
                (strcmp(o->name, "delimiter") == 0) << 2;
    assert_int_equal(seen, 7);
}

static void test_config_errors(void **state)
{
    fx *f = *state;
    static const struct {
        const char *path, *delimiter, *message;
    } cases[] = {
        {NULL, NULL, "sink 'upload': option 'path' is required"},
        {"x.csv", "ab", "option 'delimiter' must be one character"},
        {"x.csv", "\"", "got '\"'"},
        {"x.csv", "\n", "option 'delimiter' must be one character"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        sth_init(&f->h, "upload");
        if (cases[i].path)
            sth_set(&f->h, "path", cases[i].path);
        if (cases[i].delimiter)
            sth_set(&f->h, "delimiter", cases[i].delimiter);
        ps_error err = {0};
        void *inst = NULL;
        assert_int_equal(f->d->create(&f->h.ctx, &inst, &err), PS_ERR_CONFIG);
        assert_non_null(strstr(err.message, cases[i].message));
        assert_null(inst);
    }
}

static void test_exact_output(void **state)
{
    fx *f = *state;
    ps_record r;
    sth_record(&r, "P-001", "2024-03-05T14:16:01.350Z", 1709648161350, "1500.50");
    r.field[PS_F_CUSTOMER_NAME] = ps_str_from("Okafor, \"Ada\"");
    r.field[PS_F_NOTES] = ps_str_from("two\nlines");
    r.field[PS_F_LATITUDE] = ps_str_from("6.5244");
    sth_finish_record(&r);
    create(f);
    write_dataset(f, "d", &r, 1);
    commit(f);
    assert_int_equal(finish(f, 1), PS_OK);
    char *got = sth_slurp(f->path);
    assert_string_equal(got, HEADER "P-001,2024-03-05T14:16:01.350Z,1500.50,NGN,FULL_PAYMENT,,,C1,"
                                    "M1,\"Okafor, \"\"Ada\"\"\",,Residential,,,6.5244,,,,,,"
                                    "\"two\nlines\"\r\n");
    free(got);
}

/* Every tricky value survives a round trip through an RFC 4180 reader. */
static void test_round_trip(void **state)
{
    fx *f = *state;
    static const char *const values[] = {
        "plain", "a,b",      "say \"hi\"",         "\"", "cr\rlf\r\n",
        "x;y",   " padded ", "\xc3\x91o\xc3\xb1o", "",
    };
    enum { N = sizeof values / sizeof values[0] };
    static const char *const delims[] = {",", ";", "tab"};
    for (size_t d = 0; d < 3; d++) {
        sth_set(&f->h, "delimiter", delims[d]);
        create(f);
        ps_record recs[N];
        for (size_t i = 0; i < N; i++) {
            sth_record(&recs[i], "R", "2024-01-01T00:00:00.000Z", 1704067200000, "1");
            recs[i].field[PS_F_NOTES] = ps_str_from(values[i]);
            recs[i].field[PS_F_CUSTOMER_NAME] = ps_str_from(values[i]);
        }
        write_dataset(f, "d", recs, N);
        commit(f);
        assert_int_equal(finish(f, 1), PS_OK);
        f->d->destroy(f->inst);
        f->inst = NULL;

        char *got = sth_slurp(f->path);
        str_src src = {got, 0, strlen(got)};
        char dc = d == 2 ? '\t' : delims[d][0];
        ps_csv_reader *rd = ps_csv_new(str_read, &src, dc);
        ps_arena *a = ps_arena_create(0);
        ps_cell *cells;
        size_t n;
        uint64_t line;
        ps_error err = {0};
        assert_int_equal(ps_csv_next(rd, a, &cells, &n, &line, &err), PS_OK);
        assert_int_equal(n, PS_FIELD_COUNT);
        assert_string_equal(cells[PS_F_FAILED_BATTERY_CAPACITY_COUNT].text,
                            "FAILED_BATTERY_CAPACITY_COUNT");
        for (size_t i = 0; i < N; i++) {
            assert_int_equal(ps_csv_next(rd, a, &cells, &n, &line, &err), PS_OK);
            assert_int_equal(n, PS_FIELD_COUNT);
            assert_string_equal(cells[PS_F_NOTES].text, values[i]);
            assert_string_equal(cells[PS_F_CUSTOMER_NAME].text, values[i]);
            assert_string_equal(cells[PS_F_PAYMENT_AMOUNT].text, "1");
            assert_string_equal(cells[PS_F_REFERENCE_ID].text, "");
        }
        assert_int_equal(ps_csv_next(rd, a, &cells, &n, &line, &err), PS_END);
        ps_csv_free(rd);
        ps_arena_destroy(a);
        free(got);
    }
}

static void test_no_header(void **state)
{
    fx *f = *state;
    sth_set(&f->h, "header", "false");
    ps_record r;
    sth_record(&r, "1", "2024-01-01T00:00:00.000Z", 1704067200000, "-0.0001");
    create(f);
    write_dataset(f, "d", &r, 1);
    commit(f);
    assert_int_equal(finish(f, 1), PS_OK);
    char *got = sth_slurp(f->path);
    assert_string_equal(got, "1,2024-01-01T00:00:00.000Z,-0.0001,NGN,FULL_PAYMENT,,,C1,M1,Ada,,"
                             "Residential,,,,,,,,,\r\n");
    free(got);
}

/* One header for several datasets; an aborted first dataset keeps the header. */
static void test_abort_keeps_header(void **state)
{
    fx *f = *state;
    ps_record r[2];
    sth_record(&r[0], "A1", "2024-01-01T00:00:00.000Z", 1704067200000, "10");
    sth_record(&r[1], "A2", "2024-01-02T00:00:00.000Z", 1704153600000, "20");
    create(f);
    write_dataset(f, "first", r, 2);
    f->d->sink->abort(f->inst, "bad");
    write_dataset(f, "second", &r[1], 1);
    commit(f);
    assert_int_equal(finish(f, 1), PS_OK);
    char *got = sth_slurp(f->path);
    assert_non_null(got);
    assert_int_equal(strncmp(got, HEADER, strlen(HEADER)), 0);
    assert_null(strstr(got, "A1,"));
    assert_non_null(strstr(got + strlen(HEADER), "A2,"));
    assert_null(strstr(got + 1, "ID,TIMESTAMP"));
    free(got);
}

static void test_finish_failed_keeps_previous(void **state)
{
    fx *f = *state;
    assert_int_equal(sth_write_file(f->path, "previous\n"), 0);
    ps_record r;
    sth_record(&r, "A1", "2024-01-01T00:00:00.000Z", 1704067200000, "10");
    create(f);
    write_dataset(f, "d", &r, 1);
    commit(f);
    assert_int_equal(finish(f, 0), PS_OK);
    char *got = sth_slurp(f->path);
    assert_string_equal(got, "previous\n");
    free(got);
    DIR *d = opendir(f->dir);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        n += e->d_name[0] != '.' || strstr(e->d_name, ".tmp-") != NULL;
    closedir(d);
    assert_int_equal(n, 1); /* no temp file left */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_descriptor_and_options, setup, teardown),
        cmocka_unit_test_setup_teardown(test_config_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_exact_output, setup, teardown),
        cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_header, setup, teardown),
        cmocka_unit_test_setup_teardown(test_abort_keeps_header, setup, teardown),
        cmocka_unit_test_setup_teardown(test_finish_failed_keeps_previous, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
