/* Unit tests: the csvfile provider plugin, driven through its descriptor with a fake host. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fake_host.h"

const ps_plugin_descriptor *paysync_plugin_entry_csvfile(void);

static char tmpdir[256];

static int setup(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/ps_csvfile_XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

/* Writes data to tmpdir/name; returns the path (static buffer rotated over 4 calls). */
static const char *write_file(const char *name, const char *data, size_t len)
{
    static char paths[4][512];
    static int turn;
    char *p = paths[turn++ % 4];
    snprintf(p, 512, "%s/%s", tmpdir, name);
    FILE *f = fopen(p, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    fclose(f);
    return p;
}

static const char *write_text(const char *name, const char *data)
{
    return write_file(name, data, strlen(data));
}

/* ---- a provider under test ------------------------------------------------------------- */

static ps_status prov_create(fake_provider *p, const char *const *opts)
{
    return fake_provider_create(p, paysync_plugin_entry_csvfile(), opts);
}

static void render_cells(char *out, size_t cap, const ps_cell *c, size_t n)
{
    size_t len = strlen(out);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(c[i].kind, PS_CELL_TEXT);
        len += (size_t)snprintf(out + len, cap - len, "[%s]", c[i].text);
        assert_true(len < cap);
    }
}

/* Reads every batch; renders "LINE:[cell]...\n"; returns the final status. */
static ps_status read_all(fake_provider *p, char *out, size_t cap, size_t *nbatches)
{
    out[0] = '\0';
    size_t nb = 0;
    ps_status st;
    for (;;) {
        ps_row_batch b = {.struct_size = sizeof b}; /* as the core hands it */
        st = p->d->provider->next_batch(p->inst, p->batch, &b, &p->err);
        if (st != PS_OK)
            break;
        assert_true(b.count > 0);
        nb++;
        for (size_t i = 0; i < b.count; i++) {
            size_t len = strlen(out);
            snprintf(out + len, cap - len, "%llu:", (unsigned long long)b.rows[i].line);
            render_cells(out, cap, b.rows[i].cells, b.rows[i].ncells);
            len = strlen(out);
            snprintf(out + len, cap - len, "\n");
        }
        ps_arena_reset(p->batch);
    }
    if (nbatches)
        *nbatches = nb;
    return st;
}

static void assert_msg(const ps_error *e, const char *needle)
{
    if (!strstr(e->message, needle))
        fail_msg("message '%s' lacks '%s'", e->message, needle);
}

/* ---- tests ------------------------------------------------------------------------------ */

static void test_descriptor(void **state)
{
    (void)state;
    const ps_plugin_descriptor *d = paysync_plugin_entry_csvfile();
    assert_string_equal(d->name, "csvfile");
    assert_int_equal(d->kind, PS_PLUGIN_PROVIDER);
    assert_int_equal(d->abi_major, PS_ABI_MAJOR);
    assert_int_equal(d->struct_size, sizeof(ps_plugin_descriptor));
    assert_non_null(d->create);
    assert_non_null(d->destroy);
    assert_non_null(d->provider);
    assert_non_null(d->provider->open);
    assert_non_null(d->provider->next_batch);
    assert_null(d->sink);
    static const struct {
        const char *name;
        ps_option_type type;
        const char *def;
        int required;
    } want[] = {
        {"path", PS_OPT_PATH, NULL, 1},
        {"delimiter", PS_OPT_STRING, ",", 0},
        {"header_row", PS_OPT_INT, NULL, 0}, /* not set: found by paysync/header.h */
        {"max_field_bytes", PS_OPT_SIZE, "64MiB", 0},
        {"settle_time", PS_OPT_DURATION, "2s", 0},
    };
    size_t n = 0;
    for (const ps_option_spec *o = d->options; o->name; o++, n++) {
        assert_true(n < 5);
        assert_string_equal(o->name, want[n].name);
        assert_int_equal(o->type, want[n].type);
        if (want[n].def)
            assert_string_equal(o->default_value, want[n].def);
        else
            assert_null(o->default_value);
        assert_int_equal(o->required, want[n].required);
        assert_int_equal(o->secret, 0);
        assert_non_null(o->description);
    }
    assert_int_equal(n, 5);
}

static void test_basic_rows_and_batches(void **state)
{
    (void)state;
    const char *path = write_text("basic.csv", "\xEF\xBB\xBFID,AMOUNT\r\n1,10\r\n2,20\r\n3,30\r\n");
    const char *opts[] = {"path", path, NULL};
    fake_provider p;
    assert_int_equal(prov_create(&p, opts), PS_OK);
    assert_int_equal(p.d->check(p.inst, &p.err), PS_OK);
    assert_int_equal(fake_provider_open(&p, 2), PS_OK);
    assert_int_equal(p.info.ncolumns, 2);
    assert_string_equal(p.info.header[0].text, "ID");
    assert_string_equal(p.info.header[1].text, "AMOUNT");
    assert_int_equal(p.info.header_line, 1);
    assert_null(p.info.time_zone);
    assert_string_equal(p.info.source_desc, path);
    char out[1024];
    size_t nb;
    assert_int_equal(read_all(&p, out, sizeof out, &nb), PS_END);
    assert_string_equal(out, "2:[1][10]\n3:[2][20]\n4:[3][30]\n");
    assert_int_equal(nb, 2); /* batches of 2 rows */
    /* END is repeated. */
    ps_row_batch b = {.struct_size = sizeof b};
    assert_int_equal(p.d->provider->next_batch(p.inst, p.batch, &b, &p.err), PS_END);
    assert_int_equal(b.count, 0);
    assert_null(p.d->provider->cursor);
    fake_provider_free(&p);
}

/* Table: file content and options -> rendered rows (or an error). */
typedef struct csvfile_case {
    const char *name;
    const char *content;
    const char *delimiter;  /* NULL: not set */
    const char *header_row; /* NULL: not set */
    const char *max_field;  /* NULL: not set */
    ps_status open_status;
    const char *header; /* rendered header cells */
    uint64_t header_line;
    ps_status end_status;
    const char *rows;
    const char *msg; /* substring of the open or read error */
} csvfile_case;

static const csvfile_case cases[] = {
    {"records numbered, not lines", "a,b\n\"x\ny\",1\nz,2\n", NULL, NULL, NULL, PS_OK, "[a][b]", 1,
     PS_END, "2:[x\ny][1]\n3:[z][2]\n", NULL},
    {"blank lines passed up", "a,b\n1,2\n\n3,4\n", NULL, NULL, NULL, PS_OK, "[a][b]", 1, PS_END,
     "2:[1][2]\n3:[]\n4:[3][4]\n", NULL},
    {"wide and short rows passed up", "a,b\n1,2,3\n4\n", NULL, NULL, NULL, PS_OK, "[a][b]", 1,
     PS_END, "2:[1][2][3]\n3:[4]\n", NULL},
    {"header only", "a,b\n", NULL, NULL, NULL, PS_OK, "[a][b]", 1, PS_END, "", NULL},
    {"title rows above header", "Payments report\n,\nID,AMOUNT\n7,70\n", NULL, "3", NULL, PS_OK,
     "[ID][AMOUNT]", 3, PS_END, "4:[7][70]\n", NULL},
    /* header_row not set: the header rule of paysync/header.h (the fake host matches the
     * canonical field names) */
    {"header found below title rows",
     "Payments report\n,\nID,TIMESTAMP,PAYMENT_AMOUNT\n7,t,70\n8,u,80\n", NULL, NULL, NULL, PS_OK,
     "[ID][TIMESTAMP][PAYMENT_AMOUNT]", 3, PS_END, "4:[7][t][70]\n5:[8][u][80]\n", NULL},
    {"no row names 3 fields: row 1", "Report\nID,AMOUNT\n1,2\n", NULL, NULL, NULL, PS_OK,
     "[Report]", 1, PS_END, "2:[ID][AMOUNT]\n3:[1][2]\n", NULL},
    {"only the first 20 rows searched",
     "x\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nID,TIMESTAMP,PAYMENT_AMOUNT\n",
     NULL, NULL, NULL, PS_OK, "[x]", 1, PS_END,
     "2:[x]\n3:[x]\n4:[x]\n5:[x]\n6:[x]\n7:[x]\n8:[x]\n9:[x]\n10:[x]\n11:[x]\n12:[x]\n13:[x]\n14:["
     "x]\n15:[x]\n16:[x]\n17:[x]\n18:[x]\n19:[x]\n20:[x]\n21:[ID][TIMESTAMP][PAYMENT_AMOUNT]\n",
     NULL},
    {"header_row set wins over the rule", "ID,TIMESTAMP,PAYMENT_AMOUNT\na,b,c\nd,e,f\n", NULL, "2",
     NULL, PS_OK, "[a][b][c]", 2, PS_END, "3:[d][e][f]\n", NULL},
    {"semicolon", "a;b\n1,5;2\n", ";", NULL, NULL, PS_OK, "[a][b]", 1, PS_END, "2:[1,5][2]\n",
     NULL},
    {"tab by name", "a\tb\n1\t2\n", "tab", NULL, NULL, PS_OK, "[a][b]", 1, PS_END, "2:[1][2]\n",
     NULL},
    {"tab character", "a\tb\n1\t2\n", "\t", NULL, NULL, PS_OK, "[a][b]", 1, PS_END, "2:[1][2]\n",
     NULL},
    {"pipe", "a|b\n1|2\n", "|", NULL, NULL, PS_OK, "[a][b]", 1, PS_END, "2:[1][2]\n", NULL},
    {"comma default", "a,b\n1,2\n", ",", NULL, NULL, PS_OK, "[a][b]", 1, PS_END, "2:[1][2]\n",
     NULL},
    {"field at max ok", "a,b\n12345,2\n", NULL, NULL, "5", PS_OK, "[a][b]", 1, PS_END,
     "2:[12345][2]\n", NULL},
    /* errors */
    {"empty file", "", NULL, NULL, NULL, PS_ERR_DATA, NULL, 0, PS_OK, NULL,
     "the file is empty (no header row)"},
    {"header_row beyond the file", "a\nb\n", NULL, "5", NULL, PS_ERR_DATA, NULL, 0, PS_OK, NULL,
     "header_row is 5 but the file has only 2 rows"},
    {"unterminated quote in data", "a,b\n1,2\n3,\"oops\n4,5\n", NULL, NULL, NULL, PS_OK, "[a][b]",
     1, PS_ERR_DATA, "2:[1][2]\n",
     "line 3: unterminated quoted field: the quote opened on line 3 is never closed"},
    {"unterminated quote in header", "\"a,b\n", NULL, NULL, NULL, PS_ERR_DATA, NULL, 0, PS_OK, NULL,
     "the quote opened on line 1"},
    {"field over max_field_bytes", "a,b\n1,2\n123456,x\n", NULL, NULL, "5", PS_OK, "[a][b]", 1,
     PS_ERR_DATA, "2:[1][2]\n",
     "line 3: field 1 is longer than max_field_bytes (6 bytes, limit 5)"},
    {"header over max_field_bytes", "abcdef\n", NULL, NULL, "5", PS_ERR_DATA, NULL, 0, PS_OK, NULL,
     "line 1: field 1 is longer than max_field_bytes"},
    /* a 4,096-byte record (the longest the reader flags) with a limit one byte below it */
    {"flagged record over max_field_bytes", NULL, NULL, NULL, "4095", PS_OK, "[a][b]", 1,
     PS_ERR_DATA, "2:[1][2]\n",
     "line 3: field 1 is longer than max_field_bytes (4096 bytes, limit 4095)"},
};

static void run_case(const csvfile_case *c)
{
    static char long_record[4200];
    const char *content = c->content;
    if (!content) { /* "a,b", "1,2", then one cell of 4,096 x */
        memcpy(long_record, "a,b\n1,2\n", 8);
        memset(long_record + 8, 'x', 4096);
        memcpy(long_record + 8 + 4096, "\n", 2);
        content = long_record;
    }
    const char *path = write_text("case.csv", content);
    const char *opts[9];
    size_t k = 0;
    opts[k++] = "path";
    opts[k++] = path;
    if (c->delimiter) {
        opts[k++] = "delimiter";
        opts[k++] = c->delimiter;
    }
    if (c->header_row) {
        opts[k++] = "header_row";
        opts[k++] = c->header_row;
    }
    if (c->max_field) {
        opts[k++] = "max_field_bytes";
        opts[k++] = c->max_field;
    }
    opts[k] = NULL;
    fake_provider p;
    assert_int_equal(prov_create(&p, opts), PS_OK);
    ps_status st = fake_provider_open(&p, 100);
    if (st != c->open_status)
        fail_msg("case '%s': open returned %d (%s), want %d", c->name, st, p.err.message,
                 c->open_status);
    if (st != PS_OK) {
        assert_int_equal(p.err.code, st);
        assert_msg(&p.err, c->msg);
        assert_msg(&p.err, path); /* every message names the file */
        /* After a failed open next_batch just ends. */
        ps_row_batch b = {.struct_size = sizeof b};
        assert_int_equal(p.d->provider->next_batch(p.inst, p.batch, &b, &p.err), PS_END);
        fake_provider_free(&p);
        return;
    }
    char hdr[256] = "";
    render_cells(hdr, sizeof hdr, p.info.header, p.info.ncolumns);
    assert_string_equal(hdr, c->header);
    assert_int_equal(p.info.header_line, c->header_line);
    static char out[8192]; /* the 4,096-byte cell of a case fits */
    st = read_all(&p, out, sizeof out, NULL);
    if (st != c->end_status || strcmp(out, c->rows) != 0)
        fail_msg("case '%s': got status %d rows\n%s\nwant %d\n%s\n(%s)", c->name, st, out,
                 c->end_status, c->rows, p.err.message);
    if (c->msg) {
        assert_int_equal(p.err.code, st);
        assert_msg(&p.err, c->msg);
        assert_msg(&p.err, path);
    }
    fake_provider_free(&p);
}

static void test_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        run_case(&cases[i]);
}

static void test_bad_options(void **state)
{
    (void)state;
    static const struct {
        const char *key, *value, *msg;
    } bad[] = {
        {"delimiter", "::", "delimiter '::' is not supported"},
        {"delimiter", "\"", "delimiter '\"' is not supported"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const char *opts[] = {"path", "/nonexistent.csv", bad[i].key, bad[i].value, NULL};
        fake_provider p;
        assert_int_equal(prov_create(&p, opts), PS_ERR_CONFIG);
        assert_int_equal(p.err.code, PS_ERR_CONFIG);
        assert_msg(&p.err, bad[i].msg);
        assert_msg(&p.err, "source of test");
        assert_null(p.inst);
        fake_provider_free(&p);
    }
    /* Ranges are declared in the option table and refused by the core's option engine. */
    static const struct {
        const char *key, *value, *msg;
    } range[] = {
        {"header_row", "0",
         "test.yaml:3:3: source of test: option 'header_row' must be a whole number of at least "
         "1, got '0'"},
        {"header_row", "-2", "must be a whole number of at least 1, got '-2'"},
        {"max_field_bytes", "0", "option 'max_field_bytes' must be a size from 1B to 64MiB"},
        {"max_field_bytes", "67108865", "from 1B to 64MiB (bytes, or with a unit"},
        {"max_field_bytes", "65MiB", "got '65MiB'"},
        {"max_field_bytes", "1.5k", "got '1.5k' (unknown unit"},
    };
    for (size_t i = 0; i < sizeof range / sizeof range[0]; i++) {
        const char *opts[] = {"path", "/nonexistent.csv", range[i].key, range[i].value, NULL};
        ps_error e = {0};
        assert_int_equal(fake_host_check_options(paysync_plugin_entry_csvfile(), opts, &e),
                         PS_ERR_CONFIG);
        assert_msg(&e, range[i].msg);
    }
    /* Sizes with units reach the plugin in bytes. */
    const char *ok[] = {"path", "/nonexistent.csv", "max_field_bytes", "64KiB", NULL};
    ps_error e = {0};
    assert_int_equal(fake_host_check_options(paysync_plugin_entry_csvfile(), ok, &e), PS_OK);

    /* No path at all (the core normally refuses this first). */
    fake_provider p;
    assert_int_equal(prov_create(&p, NULL), PS_ERR_CONFIG);
    assert_msg(&p.err, "option 'path' is required");
    fake_provider_free(&p);
}

static void test_missing_file(void **state)
{
    (void)state;
    char path[512];
    snprintf(path, sizeof path, "%s/nope.csv", tmpdir);
    const char *opts[] = {"path", path, NULL};
    fake_provider p;
    assert_int_equal(prov_create(&p, opts), PS_OK); /* create does not touch the file */
    assert_int_equal(p.d->check(p.inst, &p.err), PS_ERR_SOURCE);
    assert_msg(&p.err, path);
    assert_msg(&p.err, strerror(ENOENT));
    assert_int_equal(fake_provider_open(&p, 10), PS_ERR_SOURCE);
    assert_int_equal(p.err.code, PS_ERR_SOURCE);
    assert_msg(&p.err, "cannot open '");
    assert_msg(&p.err, path);
    assert_msg(&p.err, strerror(ENOENT));
    fake_provider_free(&p);
}

static void test_directory(void **state)
{
    (void)state;
    const char *opts[] = {"path", tmpdir, NULL};
    fake_provider p;
    assert_int_equal(prov_create(&p, opts), PS_OK);
    assert_int_equal(p.d->check(p.inst, &p.err), PS_ERR_SOURCE);
    assert_msg(&p.err, "it is a directory");
    assert_int_equal(fake_provider_open(&p, 10), PS_ERR_SOURCE);
    assert_msg(&p.err, tmpdir);
    assert_msg(&p.err, "it is a directory");
    fake_provider_free(&p);
}

/* Runs fn with stdin replaced by fd. */
static void with_stdin(int fd, void (*fn)(void))
{
    int saved = dup(0);
    assert_true(saved >= 0);
    assert_true(dup2(fd, 0) == 0);
    fn();
    assert_true(dup2(saved, 0) == 0);
    close(saved);
}

static void stdin_reads_rows(void)
{
    const char *opts[] = {"path", "-", NULL};
    fake_provider p;
    assert_int_equal(prov_create(&p, opts), PS_OK);
    assert_int_equal(p.d->check(p.inst, &p.err), PS_OK);
    assert_int_equal(fake_provider_open(&p, 10), PS_OK);
    assert_string_equal(p.info.source_desc, "<stdin>");
    char out[256];
    assert_int_equal(read_all(&p, out, sizeof out, NULL), PS_END);
    assert_string_equal(out, "2:[1][2]\n");
    fake_provider_free(&p);
    /* stdin was not closed by the plugin */
    assert_true(fcntl(0, F_GETFD) != -1);
}

static void test_stdin(void **state)
{
    (void)state;
    const char *path = write_text("stdin.csv", "a,b\n1,2\n");
    int fd = open(path, O_RDONLY);
    assert_true(fd >= 0);
    with_stdin(fd, stdin_reads_rows);
    close(fd);
}

static void stdin_read_error(void)
{
    const char *opts[] = {"path", "-", NULL};
    fake_provider p;
    assert_int_equal(prov_create(&p, opts), PS_OK);
    assert_int_equal(fake_provider_open(&p, 10), PS_ERR_SOURCE);
    assert_int_equal(p.err.code, PS_ERR_SOURCE);
    assert_msg(&p.err, "<stdin>: line 1: read error: ");
    assert_msg(&p.err, strerror(EISDIR));
    fake_provider_free(&p);
}

static void test_read_error(void **state)
{
    (void)state;
    /* A directory as stdin: open works, read() fails with EISDIR. */
    int fd = open(tmpdir, O_RDONLY | O_DIRECTORY);
    assert_true(fd >= 0);
    with_stdin(fd, stdin_read_error);
    close(fd);
}

static void test_two_instances(void **state)
{
    (void)state;
    const char *pa = write_text("a.csv", "x\na1\na2\na3\n");
    const char *pb = write_text("b.csv", "y;z\nb1;1\nb2;2\n");
    const char *oa[] = {"path", pa, NULL};
    const char *ob[] = {"path", pb, "delimiter", ";", NULL};
    fake_provider a, b;
    assert_int_equal(prov_create(&a, oa), PS_OK);
    assert_int_equal(prov_create(&b, ob), PS_OK);
    assert_int_equal(fake_provider_open(&a, 1), PS_OK);
    assert_int_equal(fake_provider_open(&b, 1), PS_OK);
    assert_string_equal(a.info.header[0].text, "x");
    assert_string_equal(b.info.header[1].text, "z");
    char seq[256] = "";
    int done_a = 0, done_b = 0;
    while (!done_a || !done_b) {
        ps_row_batch rb = {.struct_size = sizeof rb};
        if (!done_a) {
            ps_status st = a.d->provider->next_batch(a.inst, a.batch, &rb, &a.err);
            if (st == PS_END)
                done_a = 1;
            else
                snprintf(seq + strlen(seq), sizeof seq - strlen(seq), "%s@%llu ",
                         rb.rows[0].cells[0].text, (unsigned long long)rb.rows[0].line);
        }
        if (!done_b) {
            ps_status st = b.d->provider->next_batch(b.inst, b.batch, &rb, &b.err);
            if (st == PS_END)
                done_b = 1;
            else
                snprintf(seq + strlen(seq), sizeof seq - strlen(seq), "%s@%llu ",
                         rb.rows[0].cells[0].text, (unsigned long long)rb.rows[0].line);
        }
    }
    assert_string_equal(seq, "a1@2 b1@2 a2@3 b2@3 a3@4 ");
    fake_provider_free(&a);
    fake_provider_free(&b);
}

static void test_reopen_restarts(void **state)
{
    (void)state;
    const char *path = write_text("re.csv", "h\n1\n2\n");
    const char *opts[] = {"path", path, NULL};
    fake_provider p;
    assert_int_equal(prov_create(&p, opts), PS_OK);
    char out[128];
    for (int round = 0; round < 2; round++) {
        assert_int_equal(fake_provider_open(&p, 10), PS_OK);
        assert_int_equal(read_all(&p, out, sizeof out, NULL), PS_END);
        assert_string_equal(out, "2:[1]\n3:[2]\n");
        p.d->provider->close(p.inst);
    }
    /* close twice is harmless, destroy after close too */
    p.d->provider->close(p.inst);
    fake_provider_free(&p);
}

static void test_logs_title_rows(void **state)
{
    (void)state;
    const char *path = write_text("title.csv", "Report\nID\n1\n");
    const char *opts[] = {"path", path, "header_row", "2", NULL};
    fake_provider p;
    assert_int_equal(prov_create(&p, opts), PS_OK);
    assert_int_equal(fake_provider_open(&p, 10), PS_OK);
    assert_non_null(strstr(p.fh.log, "DEBUG skipping row 1 above the header"));
    assert_non_null(strstr(p.fh.log, "header on row 2"));
    fake_provider_free(&p);
}

/* ---- source stability ------------------------------------------------------------------- */

static void append_text(const char *path, const char *data)
{
    FILE *f = fopen(path, "ab");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, strlen(data), f), strlen(data));
    fclose(f);
}

static int64_t file_mtime_ms(const char *path)
{
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    return (int64_t)st.st_mtim.tv_sec * 1000 + st.st_mtim.tv_nsec / 1000000;
}

/* Sets the file's modification time to sec (seconds since the epoch) + nsec. */
static void set_mtime(const char *path, time_t sec, long nsec)
{
    struct timespec ts[2] = {{sec, nsec}, {sec, nsec}};
    assert_int_equal(utimensat(AT_FDCWD, path, ts, 0), 0);
}

/* Opens path with batches of one row and reads the first batch (row 2). */
static void open_and_read_one(fake_provider *p, const char *const *opts)
{
    assert_int_equal(prov_create(p, opts), PS_OK);
    assert_int_equal(fake_provider_open(p, 1), PS_OK);
    ps_row_batch b = {.struct_size = sizeof b};
    assert_int_equal(p->d->provider->next_batch(p->inst, p->batch, &b, &p->err), PS_OK);
    assert_int_equal(b.count, 1);
    assert_int_equal(b.rows[0].line, 2);
}

/* Reads to the end; the status must be source_changed naming path and how. The error is
 * sticky. */
static void assert_changed(fake_provider *p, const char *path, const char *how)
{
    char out[1024];
    assert_int_equal(read_all(p, out, sizeof out, NULL), PS_ERR_SOURCE);
    assert_int_equal(p->err.code, PS_ERR_SOURCE);
    assert_msg(&p->err, "source_changed: ");
    assert_msg(&p->err, path);
    assert_msg(&p->err, ": the file changed while it was read; run again (");
    assert_msg(&p->err, how);
    ps_row_batch b = {.struct_size = sizeof b};
    ps_error again = {0};
    assert_int_equal(p->d->provider->next_batch(p->inst, p->batch, &b, &again), PS_ERR_SOURCE);
    assert_string_equal(again.message, p->err.message);
}

static void test_appended_during_read(void **state)
{
    (void)state;
    const char *path = write_text("grow.csv", "h\n1\n2\n");
    const char *opts[] = {"path", path, NULL};
    fake_provider p;
    open_and_read_one(&p, opts);
    append_text(path, "3\n");
    assert_changed(&p, path, "size 6 -> 8 bytes");
    fake_provider_free(&p);
}

static void test_truncated_during_read(void **state)
{
    (void)state;
    /* the reproduction: the last amount 100.50 cut to 10 while the file is read */
    const char *path = write_text("cut.csv", "ID,AMOUNT\nP1,50\nP2,100.50\n");
    const char *opts[] = {"path", path, NULL};
    fake_provider p;
    open_and_read_one(&p, opts);
    assert_int_equal(truncate(path, 21), 0);
    assert_changed(&p, path, "size 26 -> 21 bytes");
    fake_provider_free(&p);
}

static void test_rewritten_same_size(void **state)
{
    (void)state;
    const char *path = write_text("same.csv", "h\n1\n2\n");
    set_mtime(path, 1700000000, 1);
    const char *opts[] = {"path", path, NULL};
    fake_provider p;
    open_and_read_one(&p, opts);
    set_mtime(path, 1700000000, 2); /* one nanosecond later, same size */
    assert_changed(&p, path, "modified again (same size, 6 bytes)");
    fake_provider_free(&p);
}

static void test_replaced_by_rename(void **state)
{
    (void)state;
    const char *path = write_text("swap.csv", "h\n1\n2\n");
    const char *opts[] = {"path", path, NULL};
    fake_provider p;
    open_and_read_one(&p, opts);
    const char *other = write_text("swap.new", "h\n1\n2\n");
    assert_int_equal(rename(other, path), 0);
    assert_changed(&p, path, "the path now names another file (replaced, e.g. by a rename)");
    fake_provider_free(&p);
}

static void test_removed_during_read(void **state)
{
    (void)state;
    const char *path = write_text("gone.csv", "h\n1\n2\n");
    const char *opts[] = {"path", path, NULL};
    fake_provider p;
    open_and_read_one(&p, opts);
    assert_int_equal(unlink(path), 0);
    assert_changed(&p, path, "the path no longer names a file: No such file or directory");
    fake_provider_free(&p);
}

static void test_unchanged_file_ends(void **state)
{
    (void)state;
    /* an old file, complete or not, with or without a final line end: read as it is */
    static const char *const bodies[] = {"h\n1\n10\n", "h\n1\n10"};
    for (size_t i = 0; i < 2; i++) {
        const char *path = write_text("old.csv", bodies[i]);
        set_mtime(path, 1700000000, 0);
        const char *opts[] = {"path", path, NULL};
        fake_provider p;
        assert_int_equal(prov_create(&p, opts), PS_OK);
        assert_int_equal(fake_provider_open(&p, 1), PS_OK);
        char out[256];
        assert_int_equal(read_all(&p, out, sizeof out, NULL), PS_END);
        assert_string_equal(out, "2:[1]\n3:[10]\n");
        assert_null(strstr(p.fh.log, "waiting"));
        fake_provider_free(&p);
    }
}

static void test_quote_cut_at_end(void **state)
{
    (void)state;
    /* stable: the reader's error stays */
    const char *path = write_text("quote.csv", "a,b\n1,2\n3,\"Amina");
    set_mtime(path, 1700000000, 0);
    const char *opts[] = {"path", path, NULL};
    fake_provider p;
    assert_int_equal(prov_create(&p, opts), PS_OK);
    assert_int_equal(fake_provider_open(&p, 1), PS_OK);
    char out[256];
    assert_int_equal(read_all(&p, out, sizeof out, NULL), PS_ERR_DATA);
    assert_string_equal(out, "2:[1][2]\n");
    assert_msg(&p.err, "line 3: unterminated quoted field");
    assert_null(strstr(p.err.message, "source_changed"));
    fake_provider_free(&p);
    /* changed under the read: source_changed instead */
    assert_int_equal(prov_create(&p, opts), PS_OK);
    assert_int_equal(fake_provider_open(&p, 1), PS_OK);
    set_mtime(path, 1700000001, 0);
    assert_changed(&p, path, "modified again (same size, 16 bytes)");
    fake_provider_free(&p);
}

/* The settle wait, on a host clock the test sets and a sleep that may play the writer. */
static int64_t settle_now;
static int64_t settle_slept;
static int settle_sleeps;
static const char *settle_append; /* appended to settle_path by the sleep, when set */
static const char *settle_path;

static int64_t settle_now_ms(void)
{
    return settle_now;
}

static void settle_sleep_ms(int64_t ms)
{
    settle_slept += ms;
    settle_sleeps++;
    if (settle_append)
        append_text(settle_path, settle_append);
}

static void settle_case(const char *body, const char *settle, int64_t age_ms, const char *append,
                        ps_status want, int64_t want_slept)
{
    settle_path = write_text("settle.csv", body);
    const char *opts[] = {"path", settle_path, settle ? "settle_time" : NULL, settle, NULL};
    fake_provider p;
    assert_int_equal(prov_create(&p, opts), PS_OK);
    p.fh.host.now_ms = settle_now_ms;
    p.fh.host.sleep_ms = settle_sleep_ms;
    settle_now = file_mtime_ms(settle_path) + age_ms;
    settle_slept = 0;
    settle_sleeps = 0;
    settle_append = append;
    assert_int_equal(fake_provider_open(&p, 10), PS_OK);
    char out[256];
    ps_status st = read_all(&p, out, sizeof out, NULL);
    if (st != want)
        fail_msg("settle case '%s' age %lld: status %d (%s), want %d", body, (long long)age_ms, st,
                 p.err.message, want);
    assert_int_equal(settle_slept, want_slept);
    assert_int_equal(settle_sleeps, want_slept ? 1 : 0);
    if (want_slept) {
        char line[160];
        snprintf(line, sizeof line,
                 "INFO %s ends without a line end and was modified %lld ms ago: waiting %lld ms",
                 settle_path, (long long)age_ms, (long long)want_slept);
        assert_non_null(strstr(p.fh.log, line));
    } else {
        assert_null(strstr(p.fh.log, "waiting"));
    }
    if (st == PS_END)
        assert_string_equal(out, "2:[1]\n3:[10]\n");
    fake_provider_free(&p);
}

static void test_settle_wait(void **state)
{
    (void)state;
    /* no final line end, modified 500 ms ago: waits the 1500 ms left, then reads it as it is */
    settle_case("h\n1\n10", NULL, 500, NULL, PS_END, 1500);
    /* ... and a writer finishing the row during the wait is caught */
    settle_case("h\n1\n10", NULL, 500, "0.50\n", PS_ERR_SOURCE, 1500);
    /* settle_time sets the window */
    settle_case("h\n1\n10", "10s", 4000, NULL, PS_END, 6000);
    settle_case("h\n1\n10", "10s", 10000, NULL, PS_END, 0);
    /* no wait: settle_time 0, a final line end (LF or CR), old enough, modified in the future */
    settle_case("h\n1\n10", "0", 500, "0.50\n", PS_END, 0);
    settle_case("h\n1\n10\n", NULL, 500, NULL, PS_END, 0);
    settle_case("h\r1\r10\r", NULL, 0, NULL, PS_END, 0);
    settle_case("h\n1\n10", NULL, 2000, NULL, PS_END, 0);
    settle_case("h\n1\n10", NULL, -1, NULL, PS_END, 0);
}

static void test_settle_change_message(void **state)
{
    (void)state;
    settle_path = write_text("settle.csv", "ID,AMOUNT\nP1,50\nP2,10");
    const char *opts[] = {"path", settle_path, NULL};
    fake_provider p;
    assert_int_equal(prov_create(&p, opts), PS_OK);
    p.fh.host.now_ms = settle_now_ms;
    p.fh.host.sleep_ms = settle_sleep_ms;
    settle_now = file_mtime_ms(settle_path) + 1200;
    settle_slept = 0;
    settle_sleeps = 0;
    settle_append = "0.50\n";
    assert_int_equal(fake_provider_open(&p, 10), PS_OK);
    assert_changed(&p, settle_path, "it changed in the 800 ms after the read: size 21 -> 26 bytes");
    fake_provider_free(&p);
}

static void test_settle_option_bounds(void **state)
{
    (void)state;
    static const struct {
        const char *value, *msg;
    } bad[] = {
        {"61s", "option 'settle_time' must be a duration from 0"},
        {"-1s", "got '-1s'"},
        {"soon", "got 'soon'"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const char *opts[] = {"path", "/nonexistent.csv", "settle_time", bad[i].value, NULL};
        ps_error e = {0};
        assert_int_equal(fake_host_check_options(paysync_plugin_entry_csvfile(), opts, &e),
                         PS_ERR_CONFIG);
        assert_msg(&e, bad[i].msg);
    }
    const char *ok[] = {"path", "/nonexistent.csv", "settle_time", "5", NULL};
    ps_error e = {0};
    assert_int_equal(fake_host_check_options(paysync_plugin_entry_csvfile(), ok, &e), PS_OK);
}

static void stdin_file_checked(void)
{
    const char *opts[] = {"path", "-", NULL};
    fake_provider p;
    assert_int_equal(prov_create(&p, opts), PS_OK);
    assert_int_equal(fake_provider_open(&p, 1), PS_OK);
    ps_row_batch b = {.struct_size = sizeof b};
    assert_int_equal(p.d->provider->next_batch(p.inst, p.batch, &b, &p.err), PS_OK);
    append_text(settle_path, "3\n");
    assert_changed(&p, "<stdin>", "size 6 -> 8 bytes");
    fake_provider_free(&p);
}

static void test_stdin_file_checked(void **state)
{
    (void)state;
    /* standard input redirected from a file is checked like a named file (no path to stat) */
    settle_path = write_text("stdin2.csv", "h\n1\n2\n");
    int fd = open(settle_path, O_RDONLY);
    assert_true(fd >= 0);
    with_stdin(fd, stdin_file_checked);
    close(fd);
}

static void stdin_pipe_not_checked(void)
{
    const char *opts[] = {"path", "-", NULL};
    fake_provider p;
    assert_int_equal(prov_create(&p, opts), PS_OK);
    p.fh.host.now_ms = settle_now_ms;
    p.fh.host.sleep_ms = settle_sleep_ms;
    settle_sleeps = 0;
    assert_int_equal(fake_provider_open(&p, 10), PS_OK);
    char out[256];
    assert_int_equal(read_all(&p, out, sizeof out, NULL), PS_END);
    assert_string_equal(out, "2:[1]\n3:[10]\n");
    assert_int_equal(settle_sleeps, 0);
    fake_provider_free(&p);
}

static void test_stdin_pipe_not_checked(void **state)
{
    (void)state;
    /* a pipe has no size or time to compare, and no wait: it is read as it comes */
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    assert_int_equal(write(fds[1], "h\n1\n10", 6), 6);
    close(fds[1]);
    settle_now = 0;
    with_stdin(fds[0], stdin_pipe_not_checked);
    close(fds[0]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_descriptor),
        cmocka_unit_test(test_basic_rows_and_batches),
        cmocka_unit_test(test_table),
        cmocka_unit_test(test_bad_options),
        cmocka_unit_test(test_missing_file),
        cmocka_unit_test(test_directory),
        cmocka_unit_test(test_stdin),
        cmocka_unit_test(test_read_error),
        cmocka_unit_test(test_two_instances),
        cmocka_unit_test(test_reopen_restarts),
        cmocka_unit_test(test_logs_title_rows),
        cmocka_unit_test(test_appended_during_read),
        cmocka_unit_test(test_truncated_during_read),
        cmocka_unit_test(test_rewritten_same_size),
        cmocka_unit_test(test_replaced_by_rename),
        cmocka_unit_test(test_removed_during_read),
        cmocka_unit_test(test_unchanged_file_ends),
        cmocka_unit_test(test_quote_cut_at_end),
        cmocka_unit_test(test_settle_wait),
        cmocka_unit_test(test_settle_change_message),
        cmocka_unit_test(test_settle_option_bounds),
        cmocka_unit_test(test_stdin_file_checked),
        cmocka_unit_test(test_stdin_pipe_not_checked),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
