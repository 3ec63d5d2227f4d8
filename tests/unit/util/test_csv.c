/* Unit tests: core/src/util/csv.c (streaming RFC 4180 reader). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "util/arena.h"
#include "util/csv.h"

/* ---- a pull source over a memory buffer, in chunks of a given size -------------------- */

typedef struct mem_src {
    const char *data;
    size_t len, pos;
    size_t chunk; /* max bytes per read; 0 = as much as fits */
    long fail_at; /* return -1 once pos reaches this offset; -1 = never */
    size_t calls;
} mem_src;

static long mem_read(void *ctx, char *buf, size_t cap)
{
    mem_src *s = ctx;
    s->calls++;
    if (s->fail_at >= 0 && s->pos >= (size_t)s->fail_at)
        return -1;
    size_t n = s->len - s->pos;
    if (n > cap)
        n = cap;
    if (s->chunk && n > s->chunk)
        n = s->chunk;
    if (s->fail_at >= 0 && s->pos + n > (size_t)s->fail_at)
        n = (size_t)s->fail_at - s->pos;
    memcpy(buf, s->data + s->pos, n);
    s->pos += n;
    return (long)n;
}

/* ---- rendering records as text for table comparisons ---------------------------------- */

typedef struct sbuf {
    char *p;
    size_t len, cap;
} sbuf;

static void sb_put(sbuf *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        b->cap = (b->len + n + 1) * 2;
        b->p = realloc(b->p, b->cap);
        assert_non_null(b->p);
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void sb_puts(sbuf *b, const char *s)
{
    sb_put(b, s, strlen(s));
}

/* "LINE:[cell][cell]\n" per record; CR and LF inside cells shown as \r and \n. */
static void render(sbuf *b, uint64_t line, const ps_cell *cells, size_t n)
{
    char num[32];
    snprintf(num, sizeof num, "%llu:", (unsigned long long)line);
    sb_puts(b, num);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(cells[i].kind, PS_CELL_TEXT);
        assert_int_equal(strlen(cells[i].text), cells[i].len); /* NUL-terminated, no NUL */
        sb_puts(b, "[");
        for (uint32_t k = 0; k < cells[i].len; k++) {
            char c = cells[i].text[k];
            if (c == '\n')
                sb_puts(b, "\\n");
            else if (c == '\r')
                sb_puts(b, "\\r");
            else
                sb_put(b, &c, 1);
        }
        sb_puts(b, "]");
    }
    sb_puts(b, "\n");
}

typedef struct run_result {
    sbuf out;
    ps_status status; /* PS_END or the error */
    ps_error err;
} run_result;

/* What the cells hold, as PS_ROWF_* bits computed byte by byte (the definition). */
static unsigned true_flags(const ps_cell *cells, size_t n)
{
    unsigned f = PS_ROWF_NO_NUL | PS_ROWF_PLAIN | PS_ROWF_ASCII;
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < cells[i].len; k++) {
            unsigned char c = (unsigned char)cells[i].text[k];
            if (c == 0)
                f &= ~(unsigned)(PS_ROWF_NO_NUL | PS_ROWF_PLAIN);
            else if (c < 0x20 || c == '"' || c == '\\')
                f &= ~(unsigned)PS_ROWF_PLAIN;
            else if (c > 0x7f)
                f &= ~(unsigned)PS_ROWF_ASCII;
        }
    return f;
}

/* ps_csv_record_flags may say less than is true, never more; PLAIN comes with NO_NUL. */
static void check_flags_sound(unsigned got, const ps_cell *cells, size_t n)
{
    unsigned want = true_flags(cells, n);
    if ((got & ~want) != 0 || ((got & PS_ROWF_PLAIN) && !(got & PS_ROWF_NO_NUL)))
        fail_msg("record flags %u, but the cells hold %u (%zu cells, first '%.40s')", got, want, n,
                 n ? cells[0].text : "");
}

static void run_reader(const char *data, size_t len, size_t chunk, char delim, size_t max_field,
                       size_t max_cols, long fail_at, run_result *res)
{
    mem_src src = {data, len, 0, chunk, fail_at, 0};
    ps_csv_reader *r = ps_csv_new(mem_read, &src, delim);
    assert_non_null(r);
    if (max_field || max_cols)
        ps_csv_set_limits(r, max_field, max_cols);
    ps_arena *a = ps_arena_create(0);
    assert_non_null(a);
    memset(res, 0, sizeof *res);
    sb_puts(&res->out, "");
    for (int guard = 0; guard < 100000; guard++) {
        ps_cell *cells = NULL;
        size_t n = 0;
        uint64_t line = 0;
        ps_status st = ps_csv_next(r, a, &cells, &n, &line, &res->err);
        if (st != PS_OK) {
            res->status = st;
            break;
        }
        render(&res->out, line, cells, n);
        check_flags_sound(ps_csv_record_flags(r), cells, n);
        ps_arena_reset(a);
    }
    ps_arena_destroy(a);
    ps_csv_free(r);
}

/* ---- the table ------------------------------------------------------------------------- */

typedef struct csv_case {
    const char *name;
    const char *input;
    size_t len; /* 0: strlen(input) */
    char delim;
    const char *expect; /* rendered records (before the error, if any) */
    ps_status status;   /* PS_END, or the expected error */
    const char *msg;    /* substring of the error message */
    size_t max_field, max_cols;
} csv_case;

static const csv_case cases[] = {
    {"empty input", "", 0, 0, "", PS_END, NULL, 0, 0},
    {"simple LF", "a,b,c\n1,2,3\n", 0, 0, "1:[a][b][c]\n2:[1][2][3]\n", PS_END, NULL, 0, 0},
    {"no final newline", "a,b\n1,2", 0, 0, "1:[a][b]\n2:[1][2]\n", PS_END, NULL, 0, 0},
    {"CRLF", "a,b\r\n1,2\r\n", 0, 0, "1:[a][b]\n2:[1][2]\n", PS_END, NULL, 0, 0},
    {"lone CR", "a,b\r1,2\r3,4", 0, 0, "1:[a][b]\n2:[1][2]\n3:[3][4]\n", PS_END, NULL, 0, 0},
    {"mixed line ends", "a\r\nb\nc\rd", 0, 0, "1:[a]\n2:[b]\n3:[c]\n4:[d]\n", PS_END, NULL, 0, 0},
    {"CR CR is two lines", "a\r\rb", 0, 0, "1:[a]\n2:[]\n3:[b]\n", PS_END, NULL, 0, 0},
    {"blank lines are one empty cell", "a\n\n\nb\n", 0, 0, "1:[a]\n2:[]\n3:[]\n4:[b]\n", PS_END,
     NULL, 0, 0},
    {"empty fields", ",,\n,\n", 0, 0, "1:[][][]\n2:[][]\n", PS_END, NULL, 0, 0},
    {"trailing delimiter at EOF", "a,", 0, 0, "1:[a][]\n", PS_END, NULL, 0, 0},
    {"quoted delimiter", "\"a,b\",c\n", 0, 0, "1:[a,b][c]\n", PS_END, NULL, 0, 0},
    {"doubled quotes", "\"say \"\"hi\"\"\",x\n", 0, 0, "1:[say \"hi\"][x]\n", PS_END, NULL, 0, 0},
    {"only a doubled quote", "\"\"\"\"\n", 0, 0, "1:[\"]\n", PS_END, NULL, 0, 0},
    {"empty quoted", "\"\",\"\"\n", 0, 0, "1:[][]\n", PS_END, NULL, 0, 0},
    {"quoted at EOF", "a,\"b\"", 0, 0, "1:[a][b]\n", PS_END, NULL, 0, 0},
    {"embedded LF counts lines", "h\n\"x\ny\",z\nnext\n", 0, 0, "1:[h]\n2:[x\\ny][z]\n4:[next]\n",
     PS_END, NULL, 0, 0},
    {"embedded CRLF kept, one line", "\"x\r\ny\"\r\nq\r\n", 0, 0, "1:[x\\r\\ny]\n3:[q]\n", PS_END,
     NULL, 0, 0},
    {"embedded lone CR", "\"x\ry\"\nq", 0, 0, "1:[x\\ry]\n3:[q]\n", PS_END, NULL, 0, 0},
    {"quoted then CRLF", "\"a\"\r\n\"b\"\r\n", 0, 0, "1:[a]\n2:[b]\n", PS_END, NULL, 0, 0},
    {"quoted then lone CR", "\"a\"\r\"b\"", 0, 0, "1:[a]\n2:[b]\n", PS_END, NULL, 0, 0},
    {"quote inside unquoted is literal", "ab\"c,d\n", 0, 0, "1:[ab\"c][d]\n", PS_END, NULL, 0, 0},
    {"text after closing quote kept", "\"ab\"cd,e\n", 0, 0, "1:[abcd][e]\n", PS_END, NULL, 0, 0},
    {"spaces kept", " a , b \n", 0, 0, "1:[ a ][ b ]\n", PS_END, NULL, 0, 0},
    {"BOM dropped",
     "\xEF\xBB\xBF"
     "a,b\n1,2\n",
     0, 0, "1:[a][b]\n2:[1][2]\n", PS_END, NULL, 0, 0},
    {"BOM only", "\xEF\xBB\xBF", 0, 0, "", PS_END, NULL, 0, 0},
    {"BOM before quote", "\xEF\xBB\xBF\"a\"\n", 0, 0, "1:[a]\n", PS_END, NULL, 0, 0},
    {"BOM only at start",
     "a\n\xEF\xBB\xBF"
     "b\n",
     0, 0,
     "1:[a]\n2:[\xEF\xBB\xBF"
     "b]\n",
     PS_END, NULL, 0, 0},
    {"partial BOM is data",
     "\xEF\xBB"
     "a\n",
     0, 0,
     "1:[\xEF\xBB"
     "a]\n",
     PS_END, NULL, 0, 0},
    {"short input", "a", 0, 0, "1:[a]\n", PS_END, NULL, 0, 0},
    {"utf8", "\xCA\xA4,\xE2\x82\xA6\n", 0, 0, "1:[\xCA\xA4][\xE2\x82\xA6]\n", PS_END, NULL, 0, 0},
    {"semicolon", "a;b,c;\"d;e\"\n", 0, ';', "1:[a][b,c][d;e]\n", PS_END, NULL, 0, 0},
    {"tab", "a\tb c\t\"d\te\"\n", 0, '\t', "1:[a][b c][d\te]\n", PS_END, NULL, 0, 0},
    {"pipe", "a|b|\n", 0, '|', "1:[a][b][]\n", PS_END, NULL, 0, 0},
    {"ragged rows", "a,b,c\n1\n1,2,3,4\n", 0, 0, "1:[a][b][c]\n2:[1]\n3:[1][2][3][4]\n", PS_END,
     NULL, 0, 0},
    /* errors */
    {"unterminated quote at EOF", "h\nok\n\"abc\ndef\n", 0, 0, "1:[h]\n2:[ok]\n", PS_ERR_DATA,
     "the quote opened on line 3 is never closed", 0, 0},
    {"unterminated quote later field", "a,b\n1,\"x", 0, 0, "1:[a][b]\n", PS_ERR_DATA,
     "line 2: unterminated quoted field", 0, 0},
    {"unterminated after doubled quote", "\"a\"\"", 0, 0, "", PS_ERR_DATA, "quote opened on line 1",
     0, 0},
    {"field over limit", "abc,de\nabcdef,x\n", 0, 0, "1:[abc][de]\n", PS_ERR_DATA,
     "line 2: field 1 is longer than the limit of 5 bytes", 5, 0},
    {"field at limit ok", "abcde\n", 0, 0, "1:[abcde]\n", PS_END, NULL, 5, 0},
    {"quoted field over limit", "\"ab\"\"cd\"\n", 0, 0, "", PS_ERR_DATA,
     "line 1: field 1 is longer than the limit of 4 bytes", 4, 0},
    {"quoted field limit counts decoded bytes", "\"ab\"\"c\"\n", 0, 0, "1:[ab\"c]\n", PS_END, NULL,
     4, 0},
    {"too many columns", "a,b\nc\n\nd,e,f\n", 0, 0, "1:[a][b]\n2:[c]\n3:[]\n", PS_ERR_DATA,
     "line 4: record has more than 2 columns", 0, 2},
    {"limit error names start line", "\"x\ny\",\"long\nfield\"\n", 0, 0, "", PS_ERR_DATA,
     "line 1: field 2 is longer", 4, 0},
};

static void check_case(const csv_case *c, size_t chunk)
{
    run_result res;
    size_t len = c->len ? c->len : strlen(c->input);
    run_reader(c->input, len, chunk, c->delim, c->max_field, c->max_cols, -1, &res);
    if (strcmp(res.out.p, c->expect) != 0 || res.status != c->status)
        print_error("case '%s' chunk %zu:\n got:\n%s(status %d: %s)\n want:\n%s(status %d)\n",
                    c->name, chunk, res.out.p, res.status, res.err.message, c->expect, c->status);
    assert_string_equal(res.out.p, c->expect);
    assert_int_equal(res.status, c->status);
    if (c->msg) {
        assert_int_equal(res.err.code, c->status);
        if (!strstr(res.err.message, c->msg))
            print_error("case '%s': message '%s' lacks '%s'\n", c->name, res.err.message, c->msg);
        assert_non_null(strstr(res.err.message, c->msg));
    }
    free(res.out.p);
}

static void test_table_whole(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        check_case(&cases[i], 0);
}

/* The same table fed 1, 2, 3 and 7 bytes per read: every chunk boundary is crossed. */
static void test_table_chunked(void **state)
{
    (void)state;
    static const size_t chunks[] = {1, 2, 3, 7};
    for (size_t k = 0; k < sizeof chunks / sizeof chunks[0]; k++)
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
            check_case(&cases[i], chunks[k]);
}

static void test_nul_byte_cell(void **state);

/* Whole records in the buffer take the reader's one-copy fast path; 1-byte reads never hold a
 * whole record, so they take the general path. Both must agree on random inputs built from
 * the bytes that matter (quotes, delimiters, CR, LF), including limits and errors. */
static void test_fast_path_matches_general(void **state)
{
    (void)state;
    static const char alphabet[] = {'a', 'b', ',', ',', '"', '"', '\n', '\r', ';', ' '};
    unsigned long long seed = 12345;
    char buf[96];
    for (int iter = 0; iter < 20000; iter++) {
        size_t len = 0, want;
        seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
        want = (size_t)(seed >> 33) % sizeof buf;
        for (len = 0; len < want; len++) {
            seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
            buf[len] = alphabet[(seed >> 33) % sizeof alphabet];
        }
        size_t max_field = iter % 3 == 0 ? 3 : 0, max_cols = iter % 5 == 0 ? 4 : 0;
        char delim = iter % 7 == 0 ? ';' : ',';
        run_result whole, bytes;
        run_reader(buf, len, 0, delim, max_field, max_cols, -1, &whole);
        run_reader(buf, len, 1, delim, max_field, max_cols, -1, &bytes);
        if (whole.status != bytes.status || strcmp(whole.out.p, bytes.out.p) != 0 ||
            strcmp(whole.err.message, bytes.err.message) != 0)
            fail_msg("input %d '%.*s': whole read gives\n%s(%d: %s)\nbyte reads give\n%s(%d: %s)",
                     iter, (int)len, buf, whole.out.p, whole.status, whole.err.message, bytes.out.p,
                     bytes.status, bytes.err.message);
        free(whole.out.p);
        free(bytes.out.p);
    }
}

/* The same agreement on longer records (up to ~5,000 bytes: several 64-byte words of the fast
 * path's delimiter bitmap, and records over its 4,096-byte limit) made mostly of plain text,
 * with quoted cells, doubled quotes, delimiters inside quotes, CRLF and stray CR. */
static void test_fast_path_matches_general_long(void **state)
{
    (void)state;
    static const char alphabet[] = "abcdefghij0123456789,,,,;  \"\"\n\r";
    unsigned long long seed = 777;
    static char buf[5200];
    for (int iter = 0; iter < 3000; iter++) {
        size_t len = 0, want;
        seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
        want = iter % 50 == 0 ? 4000 + (size_t)(seed >> 33) % 1100 : (size_t)(seed >> 33) % 700;
        /* rare specials: most records take the fast path whole */
        unsigned rare = iter % 4 == 0 ? 2 : 40;
        for (len = 0; len < want; len++) {
            seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
            unsigned k = (unsigned)(seed >> 33);
            if (k % rare == 0)
                buf[len] = alphabet[(k >> 8) % (sizeof alphabet - 1)];
            else if (k % 9 == 1)
                buf[len] = ',';
            else if (k % 97 == 2)
                buf[len] = '\n';
            else
                buf[len] = (char)('a' + (k >> 8) % 26);
        }
        size_t max_field = iter % 3 == 0 ? 30 : 0, max_cols = iter % 5 == 0 ? 12 : 0;
        run_result whole, bytes;
        run_reader(buf, len, 0, ',', max_field, max_cols, -1, &whole);
        run_reader(buf, len, 1, ',', max_field, max_cols, -1, &bytes);
        if (whole.status != bytes.status || strcmp(whole.out.p, bytes.out.p) != 0 ||
            strcmp(whole.err.message, bytes.err.message) != 0)
            fail_msg("input %d (%zu bytes): whole read gives\n%.300s(%d: %s)\nbyte reads "
                     "give\n%.300s(%d: %s)",
                     iter, len, whole.out.p, whole.status, whole.err.message, bytes.out.p,
                     bytes.status, bytes.err.message);
        free(whole.out.p);
        free(bytes.out.p);
    }
}

/* The fast path's delimiter bitmap: the SSE2 form and the portable form agree on random
 * records of every length 0..300 and some up to 4,096 bytes, with the delimiter, CR, NUL and
 * high bytes at every position (block and 64-byte-word boundaries included). */
static void test_delim_bitmap_forms_agree(void **state)
{
    (void)state;
    static char buf[4096];
    unsigned long long seed = 99;
    for (int iter = 0; iter < 20000; iter++) {
        seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
        size_t len = iter < 19000 ? (size_t)iter % 301 : (size_t)(seed >> 33) % 4097;
        for (size_t i = 0; i < len; i++) {
            seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
            unsigned k = (unsigned)(seed >> 33);
            static const char pick[] = {',', ';',  '\r', '\0', (char)0xAC, (char)0x2C,
                                        'x', '\t', '"',  '\\', '\x1f',     ' '};
            buf[i] = k % 3 == 0 ? pick[(k >> 4) % sizeof pick] : (char)('a' + (k >> 4) % 26);
        }
        if (iter % 2 == 0) /* half of them without CR: the bitmap itself is compared */
            for (size_t i = 0; i < len; i++)
                if (buf[i] == '\r')
                    buf[i] = 'r';
        char delim = iter % 3 == 0 ? ';' : iter % 3 == 1 ? ',' : '\t';
        if (!ps_csv_bitmap_agrees(buf, len, delim))
            fail_msg("bitmap forms differ: iteration %d, %zu bytes, delimiter %d", iter, len,
                     delim);
    }
    assert_int_equal(ps_csv_bitmap_agrees(buf, 4097, ','), 0); /* over the limit */
}

/* Records the fast path takes (under 4,096 bytes, no CR, no line break inside quotes, nothing
 * after a closing quote), built from random cells of the bytes that matter (NUL, controls, tab,
 * quote, backslash, high bytes) with random delimiters (tab and backslash among them): the
 * flags equal the definition exactly; read a byte at a time (the general path) they are 0. */
static void test_record_flags_exact(void **state)
{
    (void)state;
    static const char pick[] = {'\0', '\x01',     '\x1f',     ' ',        '\t', '"', '\\', ',',
                                ';',  (char)0x7f, (char)0x80, (char)0xff, 'a',  'z', '0'};
    static const char delims[] = {',', ';', '\t', '\\', '|'};
    static char rec[5000];
    unsigned long long seed = 4242;
    for (int iter = 0; iter < 30000; iter++) {
        seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
        char delim = delims[(seed >> 33) % sizeof delims];
        int special_rate = 1 + (int)((seed >> 40) % 4); /* 1: every byte may be special */
        size_t ncells = 1 + (size_t)(seed >> 45) % (iter % 100 == 0 ? 300 : 25), len = 0;
        for (size_t c = 0; c < ncells && len < 3900; c++) {
            seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
            int quoted = (seed >> 33) % 3 == 0;
            size_t clen = (size_t)(seed >> 36) % 20;
            if (c)
                rec[len++] = delim;
            if (quoted)
                rec[len++] = '"';
            for (size_t k = 0; k < clen; k++) {
                seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
                unsigned r = (unsigned)(seed >> 33);
                char b = r % (unsigned)(special_rate * 8) < 8 ? pick[(r >> 8) % sizeof pick]
                                                              : (char)('a' + (r >> 8) % 26);
                if (!quoted && (b == delim || (b == '"' && k == 0)))
                    b = 'q'; /* an unquoted cell: no delimiter, no quote at its start */
                rec[len++] = b;
                if (quoted && b == '"')
                    rec[len++] = '"'; /* doubled */
            }
            if (quoted)
                rec[len++] = '"';
        }
        rec[len++] = '\n';
        for (int chunked = 0; chunked < 2; chunked++) {
            mem_src src = {rec, len, 0, chunked ? 1 : 0, -1, 0};
            ps_csv_reader *r = ps_csv_new(mem_read, &src, delim);
            ps_arena *a = ps_arena_create(0);
            assert_non_null(r);
            assert_non_null(a);
            ps_cell *cells = NULL;
            size_t n = 0;
            ps_error err = {0};
            if (ps_csv_next(r, a, &cells, &n, NULL, &err) != PS_OK)
                fail_msg("iteration %d: %s", iter, err.message);
            /* byte reads: the BOM check reads 3 bytes, so a record of up to 3 bytes (its line
             * end included) may still be whole in the buffer */
            unsigned got = ps_csv_record_flags(r), want = true_flags(cells, n);
            if (chunked && len > 3)
                want = 0;
            check_flags_sound(got, cells, n);
            if (got != want && !(chunked && len <= 3))
                fail_msg("iteration %d (%s, delimiter %d, %zu bytes, %zu cells): flags %u, "
                         "expected %u",
                         iter, chunked ? "byte reads" : "whole", delim, len, n, got, want);
            assert_int_equal(ps_csv_next(r, a, &cells, &n, NULL, &err), PS_END);
            assert_int_equal(ps_csv_record_flags(r), 0);
            ps_arena_destroy(a);
            ps_csv_free(r);
        }
    }
    assert_int_equal(ps_csv_record_flags(NULL), 0);
}

static void test_nul_byte_cell(void **state)
{
    (void)state;
    mem_src src = {"a\0b,c\n", 6, 0, 0, -1, 0};
    ps_csv_reader *r = ps_csv_new(mem_read, &src, 0);
    ps_arena *a = ps_arena_create(0);
    ps_cell *cells;
    size_t n;
    uint64_t line;
    assert_int_equal(ps_csv_next(r, a, &cells, &n, &line, NULL), PS_OK);
    assert_int_equal(n, 2);
    assert_int_equal(cells[0].len, 3);
    assert_memory_equal(cells[0].text, "a\0b", 4);
    assert_string_equal(cells[1].text, "c");
    ps_arena_destroy(a);
    ps_csv_free(r);
}

/* ---- errors ----------------------------------------------------------------------------- */

static void test_read_error_is_io_and_sticky(void **state)
{
    (void)state;
    const char *data = "a,b\n1,2\n3,4\n";
    run_result res;
    run_reader(data, strlen(data), 0, 0, 0, 0, 6, &res);
    assert_string_equal(res.out.p, "1:[a][b]\n");
    assert_int_equal(res.status, PS_ERR_IO);
    assert_int_equal(res.err.code, PS_ERR_IO);
    assert_non_null(strstr(res.err.message, "line 2: read error"));
    free(res.out.p);

    /* A read error before any byte (BOM check) is reported too. */
    run_reader(data, strlen(data), 0, 0, 0, 0, 0, &res);
    assert_int_equal(res.status, PS_ERR_IO);
    assert_non_null(strstr(res.err.message, "line 1: read error"));
    free(res.out.p);

    /* Sticky: the next call repeats the error without reading. */
    mem_src src = {data, strlen(data), 0, 0, 0, 0};
    ps_csv_reader *r = ps_csv_new(mem_read, &src, 0);
    ps_arena *a = ps_arena_create(0);
    ps_cell *cells;
    size_t n;
    uint64_t line;
    ps_error err;
    assert_int_equal(ps_csv_next(r, a, &cells, &n, &line, &err), PS_ERR_IO);
    size_t calls = src.calls;
    ps_error_clear(&err);
    assert_int_equal(ps_csv_next(r, a, &cells, &n, &line, &err), PS_ERR_IO);
    assert_int_equal(err.code, PS_ERR_IO);
    assert_non_null(strstr(err.message, "read error"));
    assert_int_equal(src.calls, calls);
    ps_arena_destroy(a);
    ps_csv_free(r);
}

static long bad_read(void *ctx, char *buf, size_t cap)
{
    (void)ctx;
    (void)buf;
    return (long)cap + 1; /* a callback claiming more than it was given room for */
}

static void test_overlong_read_is_io_error(void **state)
{
    (void)state;
    ps_csv_reader *r = ps_csv_new(bad_read, NULL, 0);
    ps_arena *a = ps_arena_create(0);
    ps_cell *cells;
    size_t n;
    ps_error err;
    assert_int_equal(ps_csv_next(r, a, &cells, &n, NULL, &err), PS_ERR_IO);
    assert_non_null(strstr(err.message, "read error"));
    ps_arena_destroy(a);
    ps_csv_free(r);
}

static void test_data_error_sticky(void **state)
{
    (void)state;
    mem_src src = {"\"abc", 4, 0, 0, -1, 0};
    ps_csv_reader *r = ps_csv_new(mem_read, &src, 0);
    ps_arena *a = ps_arena_create(0);
    ps_cell *cells;
    size_t n;
    ps_error err;
    assert_int_equal(ps_csv_next(r, a, &cells, &n, NULL, &err), PS_ERR_DATA);
    assert_int_equal(ps_csv_next(r, a, &cells, &n, NULL, &err), PS_ERR_DATA);
    assert_non_null(strstr(err.message, "never closed"));
    /* NULL err is accepted. */
    assert_int_equal(ps_csv_next(r, a, &cells, &n, NULL, NULL), PS_ERR_DATA);
    ps_arena_destroy(a);
    ps_csv_free(r);
}

static void test_bad_delimiters_refused(void **state)
{
    (void)state;
    mem_src src = {"", 0, 0, 0, -1, 0};
    assert_null(ps_csv_new(mem_read, &src, '"'));
    assert_null(ps_csv_new(mem_read, &src, '\n'));
    assert_null(ps_csv_new(mem_read, &src, '\r'));
    assert_null(ps_csv_new(NULL, &src, ','));
    ps_csv_free(NULL); /* ignored */
    assert_int_equal(ps_csv_scratch_capacity(NULL), 0);
}

/* ---- memory ----------------------------------------------------------------------------- */

/* A generated source: `records` rows, row k holding a field of `big` bytes when k == big_at. */
typedef struct gen_src {
    size_t records, emitted, big, big_at;
    char pending[256];
    size_t plen, ppos;
    size_t big_left;
    int in_big;
} gen_src;

static long gen_read(void *ctx, char *buf, size_t cap)
{
    gen_src *g = ctx;
    size_t out = 0;
    while (out < cap) {
        if (g->ppos < g->plen) {
            size_t n = g->plen - g->ppos;
            if (n > cap - out)
                n = cap - out;
            memcpy(buf + out, g->pending + g->ppos, n);
            g->ppos += n;
            out += n;
            continue;
        }
        if (g->in_big && g->big_left) {
            size_t n = g->big_left < cap - out ? g->big_left : cap - out;
            memset(buf + out, 'x', n);
            g->big_left -= n;
            out += n;
            continue;
        }
        if (g->in_big) {
            g->in_big = 0;
            g->plen = (size_t)snprintf(g->pending, sizeof g->pending, "\",end\r\n");
            g->ppos = 0;
            continue;
        }
        if (g->emitted == g->records)
            break;
        if (g->emitted == g->big_at) {
            g->plen = (size_t)snprintf(g->pending, sizeof g->pending, "%zu,\"", g->emitted);
            g->in_big = 1;
            g->big_left = g->big;
        } else {
            g->plen = (size_t)snprintf(g->pending, sizeof g->pending,
                                       "%zu,PAY-%zu,2024-03-05T14:16:01.350Z,1500.50,NGN\r\n",
                                       g->emitted, g->emitted);
        }
        g->ppos = 0;
        g->emitted++;
    }
    return (long)out;
}

static void test_memory_bounded_and_shrinks(void **state)
{
    (void)state;
    gen_src g = {0};
    g.records = 200000;
    g.big = 5u * 1024 * 1024;
    g.big_at = 1000;
    ps_csv_reader *r = ps_csv_new(gen_read, &g, 0);
    assert_non_null(r);
    size_t base = ps_csv_scratch_capacity(r);
    ps_arena *a = ps_arena_create(0);
    size_t count = 0, max_cap = 0;
    ps_cell *cells;
    size_t n;
    uint64_t line;
    ps_error err;
    ps_status st;
    while ((st = ps_csv_next(r, a, &cells, &n, &line, &err)) == PS_OK) {
        if (count == g.big_at) {
            assert_int_equal(n, 3);
            assert_int_equal(cells[1].len, g.big);
            assert_int_equal(cells[1].text[g.big - 1], 'x');
            assert_string_equal(cells[2].text, "end");
        } else {
            assert_int_equal(n, 5);
            assert_string_equal(cells[3].text, "1500.50");
        }
        assert_int_equal(line, count + 1);
        size_t cap = ps_csv_scratch_capacity(r);
        if (cap > max_cap)
            max_cap = cap;
        count++;
        ps_arena_reset(a);
    }
    assert_int_equal(st, PS_END);
    assert_int_equal(count, g.records);
    /* The long record's scratch was returned right after it; the rest never grew. */
    assert_int_equal(max_cap, base);
    assert_int_equal(ps_csv_scratch_capacity(r), base);
    ps_arena_destroy(a);
    ps_csv_free(r);
}

static void test_many_columns(void **state)
{
    (void)state;
    /* 5000 columns: the field table grows; default column limit allows it. */
    size_t ncols = 5000;
    char *data = malloc(ncols * 2 + 1);
    for (size_t i = 0; i < ncols; i++) {
        data[2 * i] = 'v';
        data[2 * i + 1] = i + 1 < ncols ? ',' : '\n';
    }
    data[ncols * 2] = '\0';
    mem_src src = {data, ncols * 2, 0, 0, -1, 0};
    ps_csv_reader *r = ps_csv_new(mem_read, &src, 0);
    ps_arena *a = ps_arena_create(0);
    ps_cell *cells;
    size_t n;
    assert_int_equal(ps_csv_next(r, a, &cells, &n, NULL, NULL), PS_OK);
    assert_int_equal(n, ncols);
    assert_string_equal(cells[ncols - 1].text, "v");
    assert_int_equal(ps_csv_next(r, a, &cells, &n, NULL, NULL), PS_END);
    assert_int_equal(ps_csv_next(r, a, &cells, &n, NULL, NULL), PS_END);
    ps_arena_destroy(a);
    ps_csv_free(r);
    free(data);
}

/* ---- csv-spectrum ----------------------------------------------------------------------- */

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    sbuf b = {0};
    char tmp[4096];
    size_t n;
    sb_puts(&b, "");
    while ((n = fread(tmp, 1, sizeof tmp, f)) > 0)
        sb_put(&b, tmp, n);
    fclose(f);
    *len = b.len;
    return b.p;
}

/* Replaces every CRLF in s by LF (in place). */
static void crlf_to_lf(char *s)
{
    char *w = s;
    for (char *p = s; *p; p++)
        if (!(p[0] == '\r' && p[1] == '\n'))
            *w++ = *p;
    *w = '\0';
}

/* Known defects of the published suite, checked against the CSV bytes instead:
 * - location_coordinates.json holds one object (not an array) and a phone number that is not
 *   the one in the CSV (upstream typo): the CSV's own value is expected;
 * - the stored *_crlf.csv copies have lost their CRs: when the CSV holds no CR, the expected
 *   CRLF inside values becomes LF. */
static const char *spectrum_override(const char *name, const char *key)
{
    if (strcmp(name, "location_coordinates") == 0 && strcmp(key, "Contact Phone Number") == 0)
        return "2095257564";
    return NULL;
}

static int check_spectrum_file(const char *dir, const char *name)
{
    char path[4096];
    size_t len = 0;
    assert_true((size_t)snprintf(path, sizeof path, "%s/csvs/%s.csv", dir, name) < sizeof path);
    char *csv = slurp(path, &len);
    assert_non_null(csv);
    int has_cr = memchr(csv, '\r', len) != NULL;

    assert_true((size_t)snprintf(path, sizeof path, "%s/json/%s.json", dir, name) < sizeof path);
    json_error_t jerr;
    json_t *expect = json_load_file(path, 0, &jerr);
    if (!expect)
        fail_msg("%s: %s", path, jerr.text);
    if (json_is_object(expect)) {
        json_t *arr = json_array();
        json_array_append_new(arr, expect);
        expect = arr;
    }
    assert_true(json_is_array(expect));

    static const size_t chunks[] = {0, 1, 5};
    for (size_t k = 0; k < 3; k++) {
        mem_src src = {csv, len, 0, chunks[k], -1, 0};
        ps_csv_reader *r = ps_csv_new(mem_read, &src, 0);
        ps_arena *run = ps_arena_create(0), *a = ps_arena_create(0);
        ps_cell *hdr, *cells;
        size_t nh, n;
        ps_error err;
        assert_int_equal(ps_csv_next(r, run, &hdr, &nh, NULL, &err), PS_OK);
        size_t rows = 0;
        ps_status st;
        while ((st = ps_csv_next(r, a, &cells, &n, NULL, &err)) == PS_OK) {
            assert_true(rows < json_array_size(expect));
            json_t *obj = json_array_get(expect, rows);
            assert_int_equal(n, nh);
            assert_int_equal(json_object_size(obj), nh);
            for (size_t i = 0; i < nh; i++) {
                json_t *v = json_object_get(obj, hdr[i].text);
                if (!v)
                    fail_msg("%s: no key '%s' in expected row %zu", name, hdr[i].text, rows);
                char *want = strdup(json_string_value(v));
                const char *ov = spectrum_override(name, hdr[i].text);
                if (ov) {
                    free(want);
                    want = strdup(ov);
                }
                if (!has_cr)
                    crlf_to_lf(want);
                if (strcmp(want, cells[i].text) != 0)
                    fail_msg("%s row %zu col '%s': got '%s' want '%s'", name, rows, hdr[i].text,
                             cells[i].text, want);
                free(want);
            }
            rows++;
            ps_arena_reset(a);
        }
        assert_int_equal(st, PS_END);
        assert_int_equal(rows, json_array_size(expect));
        ps_arena_destroy(a);
        ps_arena_destroy(run);
        ps_csv_free(r);
    }
    json_decref(expect);
    free(csv);
    return 1;
}

static void test_csv_spectrum(void **state)
{
    (void)state;
    const char *src = getenv("PS_SOURCE_DIR");
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/../shared/fixtures/csv-spectrum", src ? src : ".");
    char csvdir[4200];
    snprintf(csvdir, sizeof csvdir, "%s/csvs", dir);
    DIR *d = src ? opendir(csvdir) : NULL;
    if (!d) {
        fprintf(stderr, "SKIP: csv-spectrum fixtures not found at %s (PS_SOURCE_DIR %s)\n", dir,
                src ? "set" : "unset");
        skip();
    }
    struct dirent *e;
    int checked = 0;
    while ((e = readdir(d)) != NULL) {
        size_t l = strlen(e->d_name);
        if (l < 5 || strcmp(e->d_name + l - 4, ".csv") != 0)
            continue;
        char name[256];
        snprintf(name, sizeof name, "%.*s", (int)(l - 4), e->d_name);
        checked += check_spectrum_file(dir, name);
    }
    closedir(d);
    assert_true(checked >= 12);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table_whole),
        cmocka_unit_test(test_table_chunked),
        cmocka_unit_test(test_fast_path_matches_general),
        cmocka_unit_test(test_fast_path_matches_general_long),
        cmocka_unit_test(test_delim_bitmap_forms_agree),
        cmocka_unit_test(test_nul_byte_cell),
        cmocka_unit_test(test_record_flags_exact),
        cmocka_unit_test(test_read_error_is_io_and_sticky),
        cmocka_unit_test(test_overlong_read_is_io_error),
        cmocka_unit_test(test_data_error_sticky),
        cmocka_unit_test(test_bad_delimiters_refused),
        cmocka_unit_test(test_memory_bounded_and_shrinks),
        cmocka_unit_test(test_many_columns),
        cmocka_unit_test(test_csv_spectrum),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
