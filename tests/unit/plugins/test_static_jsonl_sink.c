/* Unit tests of the jsonl sink plugin (static flavour). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>
#include <dirent.h>
#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include "sink_test_host.h"

const ps_plugin_descriptor *paysync_plugin_entry_jsonl(void);

typedef sth_sink fx;

static int setup(void **state)
{
    fx *f = sth_sink_new(paysync_plugin_entry_jsonl(), "export", "out/payments.jsonl");
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
    ps_sink_open_args oa = {sizeof(oa), dataset, PS_TARGET_PROJECT, "site-1", "run-1", 0};
    if (sth_sink_write(f, &oa, recs, n, &err) != PS_OK)
        fail_msg("open/write: %s", err.message);
}

static void commit(fx *f, const char *dataset)
{
    ps_error err = {0};
    ps_commit_info ci = {0};
    ci.dataset = dataset;
    ci.run_id = "run-1";
    ps_change_counts cc = {0};
    assert_int_equal(f->d->sink->commit(f->inst, &ci, &cc, &err), PS_OK);
    assert_int_equal(cc.valid, 0);
}

static ps_status finish(fx *f, int ok)
{
    ps_error err = {0};
    return f->d->sink->finish(f->inst, ok, &err);
}

/* Number of entries in the output folder (temp files must not linger). */
static int count_entries(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
            n++;
    closedir(d);
    return n;
}

static void test_descriptor(void **state)
{
    fx *f = *state;
    assert_string_equal(f->d->name, "jsonl");
    assert_int_equal(f->d->kind, PS_PLUGIN_SINK);
    assert_int_equal(f->d->abi_major, PS_ABI_MAJOR);
    assert_string_equal(f->d->options[0].name, "path");
    assert_int_equal(f->d->options[0].type, PS_OPT_PATH);
    assert_int_equal(f->d->options[0].required, 1);
}

static void test_missing_path(void **state)
{
    fx *f = *state;
    sth_init(&f->h, "export");
    ps_error err = {0};
    void *inst = NULL;
    assert_int_equal(f->d->create(&f->h.ctx, &inst, &err), PS_ERR_CONFIG);
    assert_non_null(strstr(err.message, "sink 'export': option 'path' is required"));
}

static void test_exact_line(void **state)
{
    fx *f = *state;
    create(f);
    ps_record r;
    sth_record(&r, "P-001", "2024-03-05T14:16:01.350Z", 1709648161350, "1500.50");
    r.field[PS_F_TRANSACTION_CHARGES] = ps_str_from("-0.0001");
    r.field[PS_F_FAILED_BATTERY_CAPACITY_COUNT] = ps_str_from("3");
    sth_finish_record(&r);
    write_dataset(f, "01_2024_Site", &r, 1);
    commit(f, "01_2024_Site");
    assert_int_equal(finish(f, 1), PS_OK);
    char *got = sth_slurp(f->path);
    assert_non_null(got);
    assert_string_equal(
        got, "{\"ID\":\"P-001\",\"TIMESTAMP\":\"2024-03-05T14:16:01.350Z\",\"PAYMENT_AMOUNT\":"
             "1500.50,\"PAYMENT_CURRENCY\":\"NGN\",\"TRANSACTION_TYPE\":\"FULL_PAYMENT\","
             "\"TRANSACTION_CHARGES\":-0.0001,\"CUSTOMER_ID\":\"C1\",\"METER_ID\":\"M1\","
             "\"CUSTOMER_NAME\":\"Ada\",\"CUSTOMER_CATEGORY\":\"Residential\","
             "\"FAILED_BATTERY_CAPACITY_COUNT\":3,\"DATASET\":\"01_2024_Site\"}\n");
    free(got);
    char outdir[300];
    snprintf(outdir, sizeof outdir, "%s/out", f->dir);
    assert_int_equal(count_entries(outdir), 1); /* no temp file left */
}

/* Escaping: each value must round-trip through a JSON parser unchanged. */
static void test_escaping(void **state)
{
    fx *f = *state;
    static const struct {
        const char *value;
        const char *escaped;
    } cases[] = {
        {"say \"hi\"", "say \\\"hi\\\""},
        {"back\\slash", "back\\\\slash"},
        {"line1\nline2\r\n", "line1\\nline2\\r\\n"},
        {"tab\there", "tab\\there"},
        {"ctl\x01\x1f", "ctl\\u0001\\u001f"},
        {"\xc3\x91o\xc3\xb1o \xf0\x9f\x98\x80", "\xc3\x91o\xc3\xb1o \xf0\x9f\x98\x80"},
        {"</script>", "</script>"},
    };
    size_t n = sizeof cases / sizeof cases[0];
    ps_record recs[8];
    for (size_t i = 0; i < n; i++) {
        sth_record(&recs[i], "X", "2024-01-01T00:00:00.000Z", 1704067200000, "1");
        recs[i].field[PS_F_NOTES] = ps_str_from(cases[i].value);
        sth_finish_record(&recs[i]);
    }
    create(f);
    write_dataset(f, "ds \"quoted\"", recs, n);
    commit(f, "ds \"quoted\"");
    assert_int_equal(finish(f, 1), PS_OK);
    char *got = sth_slurp(f->path);
    assert_non_null(got);
    char *line = got;
    for (size_t i = 0; i < n; i++) {
        char *nl = strchr(line, '\n');
        assert_non_null(nl);
        *nl = '\0';
        char want[128];
        snprintf(want, sizeof want, "\"NOTES\":\"%s\"", cases[i].escaped);
        assert_non_null(strstr(line, want));
        json_error_t je;
        json_t *o = json_loads(line, 0, &je);
        assert_non_null(o);
        assert_string_equal(json_string_value(json_object_get(o, "NOTES")), cases[i].value);
        assert_string_equal(json_string_value(json_object_get(o, "DATASET")), "ds \"quoted\"");
        json_decref(o);
        line = nl + 1;
    }
    assert_string_equal(line, "");
    free(got);
}

/* The writer checks 16 bytes at a time (8 without SSE2), a value of 8-16 bytes as its
 * first and last 8 and a longer one finished with its last 16 (overlapping): every length
 * 1-40 with one character to escape, or a byte next to those that must not be escaped, at
 * every position (or none) must come out exactly as a byte-by-byte escaper writes it. */
static size_t ref_escape(char *q, const char *s, size_t n)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\')
            k += (size_t)sprintf(q + k, "\\%c", c);
        else if (c == '\n')
            k += (size_t)sprintf(q + k, "\\n");
        else if (c < 0x20)
            k += (size_t)sprintf(q + k, "\\u%04x", c);
        else
            q[k++] = (char)c;
    }
    q[k] = '\0';
    return k;
}

static void test_escaping_every_position(void **state)
{
    fx *f = *state;
    static const char special[] = {'"', '\\', '\n', '\x01', '\x1f', ' ', '\x7f', '\x80', '\xff'};
    enum { NSPECIAL = sizeof special, MAXLEN = 40, PER = (MAXLEN + 1) * NSPECIAL };
    size_t n = 0;
    ps_record *recs = calloc((size_t)MAXLEN * PER, sizeof *recs);
    char(*vals)[MAXLEN + 1] = calloc((size_t)MAXLEN * PER, sizeof *vals);
    assert_non_null(recs);
    assert_non_null(vals);
    for (int len = 1; len <= MAXLEN; len++)
        for (int pos = -1; pos < len; pos++)
            for (int k = 0; k < NSPECIAL; k++) {
                if (pos < 0 && k > 0)
                    continue;
                for (int i = 0; i < len; i++)
                    vals[n][i] = (char)('a' + (i + k) % 26);
                if (pos >= 0)
                    vals[n][pos] = special[k];
                vals[n][len] = '\0';
                sth_record(&recs[n], "X", "2024-01-01T00:00:00.000Z", 1704067200000, "1");
                recs[n].field[PS_F_NOTES] = ps_str_from(vals[n]);
                sth_finish_record(&recs[n]);
                n++;
            }
    create(f);
    write_dataset(f, "ds", recs, n);
    commit(f, "ds");
    assert_int_equal(finish(f, 1), PS_OK);
    char *got = sth_slurp(f->path);
    assert_non_null(got);
    char *line = got;
    for (size_t i = 0; i < n; i++) {
        char *nl = strchr(line, '\n');
        assert_non_null(nl);
        *nl = '\0';
        char want[8 * MAXLEN + 16], esc[7 * MAXLEN + 1];
        ref_escape(esc, vals[i], strlen(vals[i]));
        snprintf(want, sizeof want, "\"NOTES\":\"%s\",", esc);
        if (!strstr(line, want))
            print_message("value %zu: want %s in %s\n", i, want, line);
        assert_non_null(strstr(line, want));
        line = nl + 1;
    }
    assert_string_equal(line, "");
    free(got);
    free(vals);
    free(recs);
}

/* The fields the sink writes as JSON numbers (docs/sinks.md). */
#define NUMERIC                                                                                    \
    ((1u << PS_F_PAYMENT_AMOUNT) | (1u << PS_F_TRANSACTION_CHARGES) | (1u << PS_F_LATITUDE) |      \
     (1u << PS_F_LONGITUDE) | (1u << PS_F_FAILED_BATTERY_CAPACITY_COUNT))

/* 1 when s is the text of a JSON number, -?(0|[1-9][0-9]*)(.[0-9]+)?, read by a small state
 * machine (the sink's own check is a different function). */
static int is_json_number(const char *s, size_t n)
{
    int state = 0; /* 0 start, 1 after '-', 2 after a leading 0, 3 in the whole part, 4 after
                    * '.', 5 in the fraction */
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        int digit = c >= '0' && c <= '9';
        if ((state == 0 && c == '-'))
            state = 1;
        else if ((state == 0 || state == 1) && c == '0')
            state = 2;
        else if ((state == 0 || state == 1 || state == 3) && digit)
            state = 3;
        else if ((state == 2 || state == 3) && c == '.')
            state = 4;
        else if ((state == 4 || state == 5) && digit)
            state = 5;
        else
            return 0;
    }
    return state == 2 || state == 3 || state == 5;
}

/* Records flagged PS_RECF_PLAIN (ABI 2.5) are copied without the escape check, and records
 * flagged PS_RECF_NUMBERS (ABI 2.7) have their numeric fields written as numbers without the
 * syntax check: on random records (every field 0-300 bytes of plain bytes, 0x20, 0x7f and high
 * bytes among them; numeric fields numbers or not, a third of the records with JSON numbers
 * in all of them; every length 0-40 in NOTES) the output is the same bytes as without flags,
 * records that need escaping (not flagged) mixed in the same batch. */
static void test_plain_flag_same_output(void **state)
{
    fx *f = *state;
    enum { N = 3000, VMAX = 300 };
    static const char plain[] = {' ', 'a',    'Z',    '0',    '9',    '.',    '-', ',',
                                 '{', '\x7f', '\x80', '\xc3', '\xa9', '\xff', '/', '\''};
    static const char special[] = {'"', '\\', '\n', '\x01', '\x1f', '\t'};
    ps_record *recs = calloc(N, sizeof *recs);
    char *text = calloc((size_t)N * PS_FIELD_COUNT, VMAX + 1);
    uint8_t *flags = calloc(N, 1);
    assert_non_null(recs);
    assert_non_null(text);
    assert_non_null(flags);
    uint64_t seed = 31337;
    size_t nnumbers = 0;
    for (size_t i = 0; i < N; i++) {
        int escaped = i % 5 == 4; /* one value of the record needs escaping */
        int esc_field = -1;
        for (int fl = 0; fl < PS_FIELD_COUNT; fl++) {
            char *v = text + (i * PS_FIELD_COUNT + (size_t)fl) * (VMAX + 1);
            seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
            size_t len = fl == PS_F_NOTES ? i % 41 : (size_t)(seed >> 33) % (i % 7 ? 20 : VMAX);
            int number = (seed >> 50) % 2;
            for (size_t k = 0; k < len; k++) {
                seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
                v[k] =
                    number ? (char)('0' + (seed >> 33) % 10) : plain[(seed >> 33) % sizeof plain];
            }
            if (number && len > 2 && (seed >> 40) % 3 == 0)
                v[len / 2] = '.';
            if (i % 3 == 0 && ((NUMERIC >> fl) & 1)) { /* a JSON number, maybe negative */
                size_t k = 0;
                if ((seed >> 58) % 3 == 0)
                    v[k++] = '-';
                v[k++] = (char)('1' + (seed >> 20) % 9);
                if ((seed >> 24) % 4 == 0)
                    v[k - 1] = '0';
                if ((seed >> 26) % 2)
                    for (size_t d = 0, nd = 1 + (seed >> 28) % 4; d < nd; d++)
                        v[k++] = (char)('0' + (seed >> (30 + d)) % 10);
                if ((seed >> 35) % 2) {
                    v[k++] = '.';
                    for (size_t d = 0, nd = 1 + (seed >> 36) % 4; d < nd; d++)
                        v[k++] = (char)('0' + (seed >> (38 + d)) % 10);
                }
                if (v[k - 1] != '.' && (v[0] != '0' || k == 1 || v[1] == '.'))
                    len = k;
            }
            if (escaped && esc_field < 0 && len && (seed >> 45) % 4 == 0) {
                esc_field = fl;
                v[(seed >> 20) % len] = special[(seed >> 36) % sizeof special];
            }
            v[len] = '\0';
            if (fl == PS_F_ID && len == 0)
                v[0] = 'I', v[1] = '\0';
            if ((seed >> 55) % 9 == 0 && fl != PS_F_ID)
                recs[i].field[fl] = (ps_str){NULL, 0}; /* absent */
            else
                recs[i].field[fl] = ps_str_from(v);
        }
        flags[i] = esc_field < 0 && (i == 0 || (seed >> 30) % 4) ? PS_RECF_PLAIN : 0;
        int numbers = 1;
        for (int fl = 0; fl < PS_FIELD_COUNT; fl++)
            if (((NUMERIC >> fl) & 1) && recs[i].field[fl].ptr &&
                !is_json_number(recs[i].field[fl].ptr, recs[i].field[fl].len))
                numbers = 0;
        if (numbers) {
            flags[i] |= PS_RECF_NUMBERS;
            nnumbers++;
        }
    }
    assert_true(nnumbers > N / 10);
    ps_error err = {0};
    create(f);
    ps_sink_open_args oa = {sizeof(oa), "ds", PS_TARGET_PROJECT, "site-1", "run-1", 0};
    assert_int_equal(f->d->sink->open(f->inst, &oa, &err), PS_OK);
    assert_int_equal(sth_sink_write_flagged(f, recs, N, flags, &err), PS_OK);
    assert_int_equal(sth_sink_write_flagged(f, recs, N, NULL, &err), PS_OK);
    commit(f, "ds");
    assert_int_equal(finish(f, 1), PS_OK);
    char *got = sth_slurp(f->path);
    assert_non_null(got);
    size_t total = strlen(got), lines = 0, half = 0;
    for (size_t k = 0; k < total; k++)
        if (got[k] == '\n' && ++lines == N)
            half = k + 1;
    assert_int_equal(lines, 2 * N);
    assert_int_equal(total, 2 * half);
    if (memcmp(got, got + half, half) != 0) {
        for (size_t k = 0; k < half; k++)
            if (got[k] != got[half + k])
                fail_msg("flagged and unflagged output differ at byte %zu: ...%.80s... vs "
                         "...%.80s...",
                         k, got + (k > 40 ? k - 40 : 0), got + half + (k > 40 ? k - 40 : 0));
    }
    free(got);
    free(flags);
    free(text);
    free(recs);
}

/* Amounts keep every digit: no double on the way. */
static void test_exact_amounts(void **state)
{
    fx *f = *state;
    static const char *const amounts[] = {"12345678901234.5678", "0.10", "-0.0001",
                                          "900719925474099.3", "0"};
    ps_record recs[5];
    for (size_t i = 0; i < 5; i++) {
        sth_record(&recs[i], "A", "2024-01-01T00:00:00.000Z", 1704067200000, amounts[i]);
    }
    create(f);
    write_dataset(f, "d", recs, 5);
    commit(f, "d");
    assert_int_equal(finish(f, 1), PS_OK);
    char *got = sth_slurp(f->path);
    assert_non_null(got);
    for (size_t i = 0; i < 5; i++) {
        char want[80];
        snprintf(want, sizeof want, "\"PAYMENT_AMOUNT\":%s,", amounts[i]);
        assert_non_null(strstr(got, want));
    }
    free(got);
}

/* A numeric field whose text is not a JSON number is written as a string (stays valid). */
static void test_non_json_number_is_string(void **state)
{
    fx *f = *state;
    ps_record r;
    sth_record(&r, "A", "2024-01-01T00:00:00.000Z", 1704067200000, "1");
    r.field[PS_F_LATITUDE] = ps_str_from(".5");
    r.field[PS_F_LONGITUDE] = ps_str_from("-3.25");
    create(f);
    write_dataset(f, "d", &r, 1);
    commit(f, "d");
    assert_int_equal(finish(f, 1), PS_OK);
    char *got = sth_slurp(f->path);
    assert_non_null(strstr(got, "\"LATITUDE\":\".5\",\"LONGITUDE\":-3.25,"));
    free(got);
}

static void two_records(ps_record r[2])
{
    sth_record(&r[0], "A1", "2024-01-01T00:00:00.000Z", 1704067200000, "10");
    sth_record(&r[1], "A2", "2024-01-02T00:00:00.000Z", 1704153600000, "20");
}

/* Several datasets share the file; an aborted dataset leaves nothing behind. */
static void test_abort_truncates_dataset(void **state)
{
    fx *f = *state;
    ps_record r[2];
    two_records(r);
    create(f);
    write_dataset(f, "first", &r[0], 1);
    commit(f, "first");
    write_dataset(f, "second", r, 2);
    f->d->sink->abort(f->inst, "provider failed");
    write_dataset(f, "third", &r[1], 1);
    commit(f, "third");
    assert_int_equal(finish(f, 1), PS_OK);
    char *got = sth_slurp(f->path);
    assert_non_null(got);
    assert_null(strstr(got, "\"second\""));
    assert_non_null(strstr(got, "\"A1\""));
    assert_non_null(strstr(got, "\"DATASET\":\"third\"}\n"));
    size_t lines = 0;
    for (char *p = got; *p; p++)
        lines += *p == '\n';
    assert_int_equal(lines, 2);
    free(got);
}

/* Abort after the buffer spilled to disk: the file is truncated back. */
static void test_abort_after_large_write(void **state)
{
    fx *f = *state;
    enum { N = 20000 };
    ps_record *recs = calloc(N, sizeof *recs);
    static char ids[N][12];
    for (int i = 0; i < N; i++) {
        snprintf(ids[i], sizeof ids[i], "ID%06d", i);
        sth_record(&recs[i], ids[i], "2024-01-01T00:00:00.000Z", 1704067200000, "1.25");
    }
    create(f);
    write_dataset(f, "small", recs, 1);
    commit(f, "small");
    write_dataset(f, "big", recs, N); /* > 1 MiB: flushed to the temp file */
    f->d->sink->abort(f->inst, "later failure");
    assert_int_equal(finish(f, 1), PS_OK);
    char *got = sth_slurp(f->path);
    assert_non_null(got);
    assert_non_null(strstr(got, "\"DATASET\":\"small\"}\n"));
    assert_null(strstr(got, "\"big\""));
    assert_int_equal(strchr(got, '\n') - got + 1, (long)strlen(got));
    free(got);
    free(recs);
}

/* finish(0) discards the run: the previous output stays byte for byte, no temp file left. */
static void test_finish_failed_keeps_previous(void **state)
{
    fx *f = *state;
    char outdir[300];
    snprintf(outdir, sizeof outdir, "%s/out", f->dir);
    ps_record r[2];
    two_records(r);
    create(f);
    write_dataset(f, "d", r, 2);
    commit(f, "d");
    assert_int_equal(finish(f, 1), PS_OK);
    char *before = sth_slurp(f->path);
    assert_non_null(before);

    /* Second run writes different data but fails. */
    write_dataset(f, "d", &r[1], 1);
    commit(f, "d");
    assert_int_equal(count_entries(outdir), 2); /* target + temp file during the run */
    assert_int_equal(finish(f, 0), PS_OK);
    char *after = sth_slurp(f->path);
    assert_string_equal(before, after);
    assert_int_equal(count_entries(outdir), 1);
    free(before);
    free(after);

    /* A third, successful run replaces it. */
    write_dataset(f, "d", &r[1], 1);
    commit(f, "d");
    assert_int_equal(finish(f, 1), PS_OK);
    after = sth_slurp(f->path);
    assert_null(strstr(after, "\"A1\""));
    assert_non_null(strstr(after, "\"A2\""));
    free(after);
    assert_int_equal(count_entries(outdir), 1);
}

/* Destroy without finish removes the temp file and leaves the target alone. */
static void test_destroy_without_finish(void **state)
{
    fx *f = *state;
    char outdir[300];
    snprintf(outdir, sizeof outdir, "%s/out", f->dir);
    ps_record r[2];
    two_records(r);
    create(f);
    write_dataset(f, "d", r, 2);
    commit(f, "d");
    f->d->destroy(f->inst);
    f->inst = NULL;
    assert_int_equal(count_entries(outdir), 0);
}

/* A run with no dataset publishes nothing. */
static void test_no_dataset_no_output(void **state)
{
    fx *f = *state;
    create(f);
    assert_int_equal(finish(f, 1), PS_OK);
    assert_int_equal(access(f->path, F_OK), -1);
}

static void test_unwritable_folder(void **state)
{
    fx *f = *state;
    char bad[400];
    snprintf(bad, sizeof bad, "%s/file", f->dir);
    assert_int_equal(sth_write_file(bad, "x"), 0);
    snprintf(bad, sizeof bad, "%s/file/sub/out.jsonl", f->dir);
    sth_set(&f->h, "path", bad);
    create(f);
    ps_error err = {0};
    ps_sink_open_args oa = {sizeof(oa), "d", PS_TARGET_PROJECT, NULL, "run-1", 0};
    assert_int_equal(f->d->sink->open(f->inst, &oa, &err), PS_ERR_SINK);
    assert_non_null(strstr(err.message, bad));
    assert_non_null(strstr(err.message, "Not a directory"));
}

static void test_lifecycle_misuse(void **state)
{
    fx *f = *state;
    ps_record r[2];
    two_records(r);
    create(f);
    write_dataset(f, "d", r, 1);
    ps_error err = {0};
    ps_sink_open_args oa = {sizeof(oa), "e", PS_TARGET_PROJECT, NULL, "run-1", 0};
    assert_int_equal(f->d->sink->open(f->inst, &oa, &err), PS_ERR_INTERNAL);
    assert_non_null(strstr(err.message, "before the previous one was committed"));
    /* finish with a dataset still open aborts it first. */
    assert_int_equal(finish(f, 1), PS_OK);
    char *got = sth_slurp(f->path);
    assert_string_equal(got, "");
    free(got);
    ps_commit_info ci = {0};
    assert_int_equal(f->d->sink->commit(f->inst, &ci, NULL, &err), PS_ERR_INTERNAL);
    ps_record_batch b = {.struct_size = sizeof(b), .count = 1, .records = r};
    assert_int_equal(f->d->sink->write_batch(f->inst, &b, &err), PS_ERR_INTERNAL);
    assert_non_null(strstr(err.message, "write_batch without open"));
}

/* path "-": nothing reaches stdout before finish(1). */
static void test_stdout(void **state)
{
    fx *f = *state;
    char cap[400];
    snprintf(cap, sizeof cap, "%s/stdout.txt", f->dir);
    sth_set(&f->h, "path", "-");
    ps_record r[2];
    two_records(r);
    create(f);
    fflush(stdout);
    int saved = dup(STDOUT_FILENO);
    int fd = open(cap, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    assert_true(fd >= 0);
    dup2(fd, STDOUT_FILENO);
    close(fd);
    write_dataset(f, "d", r, 2);
    commit(f, "d");
    char *mid = sth_slurp(cap);
    ps_status st = finish(f, 1);
    fflush(stdout);
    dup2(saved, STDOUT_FILENO);
    close(saved);
    assert_int_equal(st, PS_OK);
    assert_string_equal(mid, "");
    free(mid);
    char *got = sth_slurp(cap);
    assert_non_null(strstr(got, "\"ID\":\"A1\""));
    assert_non_null(strstr(got, "\"ID\":\"A2\""));
    free(got);
}

/* Two instances writing different files do not interfere. */
static void test_two_instances(void **state)
{
    fx *f = *state;
    char p2[400];
    snprintf(p2, sizeof p2, "%s/other.jsonl", f->dir);
    sth_host h2;
    sth_init(&h2, "second");
    sth_set(&h2, "path", p2);
    void *i2 = NULL;
    ps_error err = {0};
    create(f);
    assert_int_equal(f->d->create(&h2.ctx, &i2, &err), PS_OK);
    ps_record r[2];
    two_records(r);
    ps_sink_open_args oa = {sizeof(oa), "d2", PS_TARGET_PROGRAM, NULL, "run-1", 0};
    write_dataset(f, "d1", &r[0], 1);
    assert_int_equal(f->d->sink->open(i2, &oa, &err), PS_OK);
    ps_record_batch b = {.struct_size = sizeof(b), .count = 1, .records = &r[1]};
    assert_int_equal(f->d->sink->write_batch(i2, &b, &err), PS_OK);
    ps_commit_info ci = {0};
    assert_int_equal(f->d->sink->commit(i2, &ci, NULL, &err), PS_OK);
    commit(f, "d1");
    assert_int_equal(f->d->sink->finish(i2, 1, &err), PS_OK);
    assert_int_equal(finish(f, 1), PS_OK);
    f->d->destroy(i2);
    char *a = sth_slurp(f->path), *b2 = sth_slurp(p2);
    assert_non_null(strstr(a, "\"A1\""));
    assert_null(strstr(a, "\"A2\""));
    assert_non_null(strstr(b2, "\"A2\""));
    assert_null(strstr(b2, "\"A1\""));
    free(a);
    free(b2);
}

/* A write failure (file size limit standing in for a full disk) fails the commit with a
 * message naming the file and the cause; the previous output stays. */
static void test_write_error(void **state)
{
    fx *f = *state;
    enum { N = 5000 };
    ps_record *recs = calloc(N, sizeof *recs);
    for (int i = 0; i < N; i++)
        sth_record(&recs[i], "SAME-ID", "2024-01-01T00:00:00.000Z", 1704067200000, "1.25");
    create(f);
    write_dataset(f, "d", recs, 1);
    commit(f, "d");
    assert_int_equal(finish(f, 1), PS_OK);
    char *before = sth_slurp(f->path);

    struct rlimit old, lim;
    getrlimit(RLIMIT_FSIZE, &old);
    lim = old;
    lim.rlim_cur = 64 * 1024;
    signal(SIGXFSZ, SIG_IGN);
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
    ps_error err = {0};
    ps_sink_open_args oa = {sizeof(oa), "d", PS_TARGET_PROJECT, NULL, "run-2", 0};
    assert_int_equal(f->d->sink->open(f->inst, &oa, &err), PS_OK);
    ps_status st = PS_OK;
    for (int k = 0; k < 100 && st == PS_OK; k++) { /* ~100 MB worth: past the buffer */
        ps_record_batch b = {.struct_size = sizeof(b), .count = N, .records = recs};
        st = f->d->sink->write_batch(f->inst, &b, &err);
    }
    if (st == PS_OK) {
        ps_commit_info ci = {0};
        st = f->d->sink->commit(f->inst, &ci, NULL, &err);
    }
    setrlimit(RLIMIT_FSIZE, &old);
    signal(SIGXFSZ, SIG_DFL);
    assert_int_equal(st, PS_ERR_SINK);
    assert_non_null(strstr(err.message, f->path));
    assert_non_null(strstr(err.message, "File too large"));
    f->d->sink->abort(f->inst, "write failed");
    assert_int_equal(finish(f, 0), PS_OK);
    char *after = sth_slurp(f->path);
    assert_string_equal(before, after);
    free(before);
    free(after);
    free(recs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_descriptor, setup, teardown),
        cmocka_unit_test_setup_teardown(test_missing_path, setup, teardown),
        cmocka_unit_test_setup_teardown(test_exact_line, setup, teardown),
        cmocka_unit_test_setup_teardown(test_escaping_every_position, setup, teardown),
        cmocka_unit_test_setup_teardown(test_escaping, setup, teardown),
        cmocka_unit_test_setup_teardown(test_plain_flag_same_output, setup, teardown),
        cmocka_unit_test_setup_teardown(test_exact_amounts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_non_json_number_is_string, setup, teardown),
        cmocka_unit_test_setup_teardown(test_abort_truncates_dataset, setup, teardown),
        cmocka_unit_test_setup_teardown(test_abort_after_large_write, setup, teardown),
        cmocka_unit_test_setup_teardown(test_finish_failed_keeps_previous, setup, teardown),
        cmocka_unit_test_setup_teardown(test_destroy_without_finish, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_dataset_no_output, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unwritable_folder, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lifecycle_misuse, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stdout, setup, teardown),
        cmocka_unit_test_setup_teardown(test_two_instances, setup, teardown),
        cmocka_unit_test_setup_teardown(test_write_error, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
