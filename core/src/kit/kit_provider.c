/* paysync core: the conformance kit's provider checks. */
#include <jansson.h>
#include <malloc.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/protocol.h"
#include "kit/kit_checks.h"
#include "model/validate.h" /* ps_utf8_check */
#include "util/bytescan.h"

#define KIT_MAX_BATCH_ROWS 1000000u
#define KIT_MAX_CELLS 1000000u
#define KIT_MAX_CURSOR 65536u

typedef struct kit_read {
    uint64_t rows, batches;
    unsigned char digest[32];
    int has_cursor;
    char cursor[KIT_MAX_CURSOR + 1];
    /* Heap in use (glibc mallinfo2) after the first batch and at most after a later one; 0
     * when the allocator does not report it (sanitizer builds). */
    size_t heap_first, heap_max;
} kit_read;

/* Bytes of heap in use, 0 when unknown. */
static size_t heap_in_use(void)
{
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 33))
    struct mallinfo2 mi = mallinfo2();
    return mi.uordblks + mi.hblkhd; /* small blocks + blocks served by mmap */
#else
    return 0;
#endif
}

enum { READ_OK = 0, READ_PLUGIN_ERROR = 1, READ_VIOLATION = 2, READ_SKIP = 3 };

/* 0 when the row's PS_ROWF_* flags (ABI 2.5, ASCII 2.6) hold for its cells; the core does not
 * look again (docs/plugin-abi.md, "Row and record flags"), so a wrong bit would let a NUL byte
 * or invalid UTF-8 through or break a JSON line: the kit checks every flagged row. */
static int check_row_flags(const ps_row *row, unsigned flags, char *why, size_t cap)
{
    if (flags & ~(unsigned)(PS_ROWF_NO_NUL | PS_ROWF_PLAIN | PS_ROWF_ASCII)) {
        snprintf(why, cap, "row %llu: row_flags 0x%02x has bits that are not PS_ROWF_*",
                 (unsigned long long)row->line, flags);
        return -1;
    }
    for (uint32_t c = 0; c < row->ncells && flags; c++) {
        const unsigned char *t = (const unsigned char *)row->cells[c].text;
        for (uint32_t i = 0; i < row->cells[c].len; i++) {
            unsigned char b = t[i];
            int nul = b == 0, esc = ps_json_must_escape(b), high = b > 0x7f;
            const char *lie = (esc && (flags & PS_ROWF_PLAIN))    ? "PS_ROWF_PLAIN"
                              : (nul && (flags & PS_ROWF_NO_NUL)) ? "PS_ROWF_NO_NUL"
                              : (high && (flags & PS_ROWF_ASCII)) ? "PS_ROWF_ASCII"
                                                                  : NULL;
            if (lie) {
                snprintf(why, cap,
                         "row %llu cell %u: row_flags says %s but byte %u is 0x%02x (set only "
                         "what the provider has seen)",
                         (unsigned long long)row->line, c + 1, lie, i, b);
                return -1;
            }
        }
    }
    return 0;
}

static int check_cell(const ps_cell *c, const char *what, uint64_t row, uint32_t col, char *why,
                      size_t cap)
{
    if (!c->text) {
        snprintf(why, cap, "%s row %llu cell %u: text is NULL (an empty cell is \"\")", what,
                 (unsigned long long)row, col + 1);
        return -1;
    }
    size_t real = strnlen(c->text, (size_t)c->len + 1);
    if (real != c->len) {
        snprintf(why, cap,
                 "%s row %llu cell %u: len is %u but the text has %zu%s bytes before "
                 "its NUL",
                 what, (unsigned long long)row, col + 1, c->len, real,
                 real > c->len ? " or more" : "");
        return -1;
    }
    size_t bad = ps_utf8_check(c->text, c->len);
    if (bad != c->len) {
        snprintf(why, cap, "%s row %llu cell %u: not valid UTF-8 at byte %zu", what,
                 (unsigned long long)row, col + 1, bad);
        return -1;
    }
    if (c->kind > PS_CELL_BOOL) {
        snprintf(why, cap, "%s row %llu cell %u: kind %u is not a ps_cell_kind", what,
                 (unsigned long long)row, col + 1, (unsigned)c->kind);
        return -1;
    }
    return 0;
}

static void digest_cell(EVP_MD_CTX *md, const ps_cell *c)
{
    uint32_t len = c->len;
    uint8_t kind = c->kind;
    EVP_DigestUpdate(md, &kind, 1);
    EVP_DigestUpdate(md, &len, sizeof len);
    EVP_DigestUpdate(md, c->text, len);
}

/* A record-shaped provider's batch: the host's protocol checks, record numbers that grow,
 * UTF-8 paths and texts; digested in order. cb->row sees each record as a row of its values. */
static int read_records(ps_kit_ctx *k, const ps_row_batch *batch, ps_arena *arena, EVP_MD_CTX *md,
                        uint64_t *prev_line, kit_read *out, const ps_kit_rows_cb *cb, char *why,
                        size_t cap)
{
    ps_error err = {0};
    if (batch->count > KIT_MAX_BATCH_ROWS) {
        snprintf(why, cap, "next_batch returned %zu records (more than 1,000,000 in one batch)",
                 batch->count);
        return -1;
    }
    if (ps_protocol_check_records(k->desc->name, batch, &err) != PS_OK) {
        snprintf(why, cap, "%s", err.message);
        return -1;
    }
    for (size_t i = 0; i < batch->count; i++) {
        const ps_keyed_row *r = &batch->records[i];
        if (r->line <= *prev_line) {
            snprintf(why, cap, "record numbers must grow: record %llu follows record %llu",
                     (unsigned long long)r->line, (unsigned long long)*prev_line);
            return -1;
        }
        *prev_line = r->line;
        if (r->nvalues > KIT_MAX_CELLS) {
            snprintf(why, cap, "record %llu: %u values (too many)", (unsigned long long)r->line,
                     r->nvalues);
            return -1;
        }
        ps_cell *cells = ps_arena_alloc(arena, ((size_t)r->nvalues + 1) * sizeof *cells);
        if (!cells) {
            snprintf(why, cap, "kit: out of memory");
            return -1;
        }
        EVP_DigestUpdate(md, &r->line, sizeof r->line);
        for (uint32_t j = 0; j < r->nvalues; j++) {
            const ps_value *v = &r->values[j];
            size_t bad = ps_utf8_check(v->path, v->path_len);
            if (bad == v->path_len)
                bad = ps_utf8_check(v->text, v->len) == v->len ? (size_t)-1 : 0;
            if (bad != (size_t)-1) {
                snprintf(why, cap, "record %llu value %u ('%.*s'): not valid UTF-8",
                         (unsigned long long)r->line, j + 1,
                         (int)(v->path_len > 80 ? 80 : v->path_len), v->path);
                return -1;
            }
            EVP_DigestUpdate(md, v->path, (size_t)v->path_len + 1);
            EVP_DigestUpdate(md, &v->type, 1);
            EVP_DigestUpdate(md, &v->len, sizeof v->len);
            EVP_DigestUpdate(md, v->text, v->len);
            cells[j] =
                (ps_cell){v->text, v->len, v->type == PS_VAL_BOOL ? PS_CELL_BOOL : PS_CELL_TEXT};
        }
        out->rows++;
        ps_row row = {.line = r->line, .ncells = r->nvalues, .cells = cells};
        int kept = !cb          ? 0
                   : cb->record ? cb->record(cb->ctx, r)
                   : cb->row    ? cb->row(cb->ctx, &row)
                                : 0;
        if (kept != 0) {
            snprintf(why, cap, "kit: out of memory keeping record %llu",
                     (unsigned long long)r->line);
            return -1;
        }
    }
    return 0;
}

/* One full read: create, open (with cursor_in), every batch, cursor, close, destroy. Checks
 * the contract on the way; *why says what went wrong. */
static int read_all_cb(ps_kit_ctx *k, int mode, const char *cursor_in, kit_read *out,
                       const ps_kit_rows_cb *cb, char *why, size_t cap)
{
    memset(out, 0, sizeof *out);
    const ps_provider_ops *ops = k->desc->provider;
    ps_kit_inst in;
    ps_error err = {0};
    size_t nrw = 0;
    if (ps_kit_instance_new(k, mode, NULL, &nrw, &in, &err) != PS_OK) {
        snprintf(why, cap, "create: %s", err.message);
        return strstr(err.message, "missing required") ? READ_SKIP : READ_PLUGIN_ERROR;
    }
    if (mode == PS_KIT_OPTS_MISSING_SOURCE && nrw == 0) {
        ps_kit_instance_free(k, &in);
        snprintf(why, cap, "no path or URL option to point at a missing source");
        return READ_SKIP;
    }
    ps_arena *run_arena = ps_arena_create(0), *batch_arena = ps_arena_create(0);
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    int rc = READ_OK;
    int opened = 0;
    if (!run_arena || !batch_arena || !md || !EVP_DigestInit_ex(md, EVP_sha256(), NULL)) {
        snprintf(why, cap, "kit: out of memory");
        rc = READ_PLUGIN_ERROR;
        goto done;
    }
    ps_open_args args = {.struct_size = sizeof args,
                         .dataset = k->opts.dataset,
                         .cursor_json = cursor_in,
                         .run_arena = run_arena,
                         .batch_rows = k->opts.batch_rows};
    ps_table_info info;
    memset(&info, 0, sizeof info);
    info.struct_size = sizeof info;
    ps_status st = ops->open(in.inst, &args, &info, &err);
    if (st != PS_OK) {
        snprintf(why, cap, "open: %s", err.message[0] ? err.message : "(empty message)");
        rc = err.message[0] ? READ_PLUGIN_ERROR : READ_VIOLATION;
        goto done;
    }
    opened = 1;
    int records = ops->shape == PS_SHAPE_RECORD;
    if (records && (info.ncolumns != 0 || info.header)) {
        snprintf(why, cap,
                 "open: a record-shaped provider reported %u header columns (set ncolumns 0 "
                 "and header NULL)",
                 info.ncolumns);
        rc = READ_VIOLATION;
        goto done;
    }
    if (!records && (info.ncolumns == 0 || !info.header)) {
        snprintf(why, cap, "open: PS_OK but the table has %u columns and %s header", info.ncolumns,
                 info.header ? "a" : "no");
        rc = READ_VIOLATION;
        goto done;
    }
    if (info.ncolumns > KIT_MAX_CELLS) {
        snprintf(why, cap, "open: %u columns (more than %u)", info.ncolumns, KIT_MAX_CELLS);
        rc = READ_VIOLATION;
        goto done;
    }
    for (uint32_t c = 0; c < info.ncolumns; c++) {
        if (check_cell(&info.header[c], "header", info.header_line, c, why, cap) != 0) {
            rc = READ_VIOLATION;
            goto done;
        }
        digest_cell(md, &info.header[c]);
    }
    if (cb && cb->header && cb->header(cb->ctx, &info) != 0) {
        snprintf(why, cap, "kit: out of memory keeping the header");
        rc = READ_VIOLATION;
        goto done;
    }
    uint64_t prev_line = info.header_line;
    for (;;) {
        ps_row_batch batch;
        memset(&batch, 0, sizeof batch);
        batch.struct_size = sizeof batch;
        ps_arena_reset(batch_arena);
        memset(&err, 0, sizeof err);
        st = ops->next_batch(in.inst, batch_arena, &batch, &err);
        if (st == PS_END)
            break;
        if (st != PS_OK) {
            snprintf(why, cap, "next_batch (after %llu rows): %s", (unsigned long long)out->rows,
                     err.message[0] ? err.message : "(empty message)");
            rc = err.message[0] ? READ_PLUGIN_ERROR : READ_VIOLATION;
            goto done;
        }
        out->batches++;
        if (out->batches == 2)
            out->heap_first = heap_in_use(); /* the first batch's rows are consumed */
        else if (out->batches > 2) {
            size_t h = heap_in_use();
            if (h > out->heap_max)
                out->heap_max = h;
        }
        if (batch.count == 0) {
            snprintf(why, cap,
                     "next_batch returned PS_OK with no rows (batch %llu): a host would call it "
                     "again for ever; return PS_END when done",
                     (unsigned long long)out->batches);
            rc = READ_VIOLATION;
            goto done;
        }
        if (records) {
            if (read_records(k, &batch, batch_arena, md, &prev_line, out, cb, why, cap) != 0) {
                rc = READ_VIOLATION;
                goto done;
            }
            continue;
        }
        if (batch.count > KIT_MAX_BATCH_ROWS || !batch.rows) {
            snprintf(why, cap, "next_batch returned %zu rows %s", batch.count,
                     batch.rows ? "(more than 1,000,000 in one batch)" : "but rows is NULL");
            rc = READ_VIOLATION;
            goto done;
        }
        for (size_t i = 0; i < batch.count; i++) {
            const ps_row *row = &batch.rows[i];
            if (row->line <= prev_line) {
                snprintf(why, cap,
                         "row numbers must grow: row %llu follows row %llu (the header is row "
                         "%llu)",
                         (unsigned long long)row->line, (unsigned long long)prev_line,
                         (unsigned long long)info.header_line);
                rc = READ_VIOLATION;
                goto done;
            }
            prev_line = row->line;
            if (row->ncells > KIT_MAX_CELLS || (row->ncells > 0 && !row->cells)) {
                snprintf(why, cap, "row %llu: %u cells %s", (unsigned long long)row->line,
                         row->ncells, row->cells ? "(too many)" : "but cells is NULL");
                rc = READ_VIOLATION;
                goto done;
            }
            EVP_DigestUpdate(md, &row->line, sizeof row->line);
            for (uint32_t c = 0; c < row->ncells; c++) {
                if (check_cell(&row->cells[c], "", row->line, c, why, cap) != 0) {
                    rc = READ_VIOLATION;
                    goto done;
                }
                digest_cell(md, &row->cells[c]);
            }
            if (batch.row_flags && check_row_flags(row, batch.row_flags[i], why, cap) != 0) {
                rc = READ_VIOLATION;
                goto done;
            }
            out->rows++;
            if (cb && cb->row && cb->row(cb->ctx, row) != 0) {
                snprintf(why, cap, "kit: out of memory keeping row %llu",
                         (unsigned long long)row->line);
                rc = READ_VIOLATION;
                goto done;
            }
        }
    }
    if (ops->cursor) {
        const char *cur = ops->cursor(in.inst);
        if (cur) {
            size_t n = strnlen(cur, KIT_MAX_CURSOR + 1);
            if (n > KIT_MAX_CURSOR) {
                snprintf(why, cap, "cursor is longer than %u bytes", KIT_MAX_CURSOR);
                rc = READ_VIOLATION;
                goto done;
            }
            memcpy(out->cursor, cur, n + 1);
            out->has_cursor = 1;
        }
    }
    unsigned int dl = 0;
    EVP_DigestFinal_ex(md, out->digest, &dl);
done:
    if (opened && ops->close)
        ops->close(in.inst);
    ps_kit_instance_free(k, &in);
    EVP_MD_CTX_free(md);
    ps_arena_destroy(batch_arena);
    ps_arena_destroy(run_arena);
    return rc;
}

static int read_all(ps_kit_ctx *k, int mode, const char *cursor_in, kit_read *out, char *why,
                    size_t cap)
{
    return read_all_cb(k, mode, cursor_in, out, NULL, why, cap);
}

int ps_kit_provider_read(ps_kit_ctx *k, const ps_kit_rows_cb *cb, char *why, size_t cap)
{
    kit_read *rd = calloc(1, sizeof *rd);
    if (!rd) {
        snprintf(why, cap, "kit: out of memory");
        return -1;
    }
    int rc = read_all_cb(k, PS_KIT_OPTS_AS_GIVEN, NULL, rd, cb, why, cap);
    free(rd);
    return rc == READ_OK ? 0 : -1;
}

static void check_read(ps_kit_ctx *k, ps_kit_result *r)
{
    kit_read *rd = calloc(1, sizeof *rd);
    char why[380] = "kit: out of memory";
    int rc = rd ? read_all(k, PS_KIT_OPTS_AS_GIVEN, NULL, rd, why, sizeof why) : READ_VIOLATION;
    if (rc == READ_OK)
        ps_kit_set(r, PS_KIT_PASS, "%llu rows in %llu batches; cells well-formed, rows numbered",
                   (unsigned long long)rd->rows, (unsigned long long)rd->batches);
    else
        ps_kit_set(r, rc == READ_SKIP ? PS_KIT_SKIP : PS_KIT_FAIL, "%s", why);
    free(rd);
}

static void check_reread_with(ps_kit_ctx *k, ps_kit_result *r, kit_read *pa, kit_read *pb)
{
    char why[380] = "";
    int rc = read_all(k, PS_KIT_OPTS_AS_GIVEN, NULL, pa, why, sizeof why);
    if (rc == READ_OK)
        rc = read_all(k, PS_KIT_OPTS_AS_GIVEN, NULL, pb, why, sizeof why);
    if (rc != READ_OK) {
        ps_kit_set(r, rc == READ_SKIP ? PS_KIT_SKIP : PS_KIT_FAIL, "%s", why);
        return;
    }
    if (pa->rows != pb->rows || memcmp(pa->digest, pb->digest, sizeof pa->digest) != 0)
        ps_kit_set(r, PS_KIT_FAIL,
                   "two reads of the same source differ (%llu rows, then %llu; or the same "
                   "count with other cells)",
                   (unsigned long long)pa->rows, (unsigned long long)pb->rows);
    else
        ps_kit_set(r, PS_KIT_PASS, "two reads: same %llu rows, same cells",
                   (unsigned long long)pa->rows);
}

static void check_reread(ps_kit_ctx *k, ps_kit_result *r)
{
    kit_read *pair = calloc(2, sizeof *pair);
    if (!pair) {
        ps_kit_set(r, PS_KIT_FAIL, "kit: out of memory");
        return;
    }
    check_reread_with(k, r, &pair[0], &pair[1]);
    free(pair);
}

static void check_cursor_with(ps_kit_ctx *k, ps_kit_result *r, kit_read *pa, kit_read *pb)
{
    char why[380] = "";
    if (!k->desc->provider->cursor) {
        ps_kit_set(r, PS_KIT_SKIP, "no cursor callback (full reads only)");
        return;
    }
    int rc = read_all(k, PS_KIT_OPTS_AS_GIVEN, NULL, pa, why, sizeof why);
    if (rc != READ_OK) {
        ps_kit_set(r, rc == READ_SKIP ? PS_KIT_SKIP : PS_KIT_FAIL, "%s", why);
        return;
    }
    if (!pa->has_cursor) {
        ps_kit_set(r, PS_KIT_SKIP, "the cursor callback returned NULL after a full read");
        return;
    }
    json_error_t jerr;
    json_t *j = json_loads(pa->cursor, JSON_REJECT_DUPLICATES, &jerr);
    if (!j) {
        ps_kit_set(r, PS_KIT_FAIL, "the cursor is not valid JSON (%s at byte %d)", jerr.text,
                   jerr.position);
        return;
    }
    json_decref(j);
    rc = read_all(k, PS_KIT_OPTS_AS_GIVEN, pa->cursor, pb, why, sizeof why);
    if (rc != READ_OK) {
        ps_kit_set(r, PS_KIT_FAIL, "reading from the saved cursor failed: %s", why);
        return;
    }
    ps_kit_set(r, PS_KIT_PASS, "cursor of %zu bytes is JSON; a read from it gave %llu rows",
               strlen(pa->cursor), (unsigned long long)pb->rows);
}

static void check_cursor(ps_kit_ctx *k, ps_kit_result *r)
{
    kit_read *pair = calloc(2, sizeof *pair);
    if (!pair) {
        ps_kit_set(r, PS_KIT_FAIL, "kit: out of memory");
        return;
    }
    check_cursor_with(k, r, &pair[0], &pair[1]);
    free(pair);
}

/* Rows live in the arena paysync passes: the heap must not grow with the rows read. A
 * provider that mallocs rows (and frees them in close, or never) holds memory in proportion
 * to its source; the core bounds memory by the batch. Allowed: 64 MiB of growth after the
 * first batch (caches, a page of an API answer). */
#define KIT_HEAP_SLACK ((size_t)64 << 20)

static void check_arena_only(ps_kit_ctx *k, ps_kit_result *r)
{
    kit_read *rd = calloc(1, sizeof *rd);
    char why[380] = "kit: out of memory";
    int rc = rd ? read_all(k, PS_KIT_OPTS_AS_GIVEN, NULL, rd, why, sizeof why) : READ_VIOLATION;
    if (rc != READ_OK)
        ps_kit_set(r, rc == READ_SKIP ? PS_KIT_SKIP : PS_KIT_FAIL, "%s", why);
    else if (rd->batches < 3)
        ps_kit_set(r, PS_KIT_SKIP, "%llu batch%s: too few to see the heap grow",
                   (unsigned long long)rd->batches, rd->batches == 1 ? "" : "es");
    else if (rd->heap_first == 0)
        ps_kit_set(r, PS_KIT_SKIP, "the allocator does not report heap use (sanitizer build?)");
    else if (rd->heap_max > rd->heap_first + KIT_HEAP_SLACK)
        ps_kit_set(r, PS_KIT_FAIL,
                   "the heap grew by %zu MiB over %llu batches (%llu rows): rows must be "
                   "allocated in the batch arena paysync passes, not with malloc",
                   (rd->heap_max - rd->heap_first) >> 20, (unsigned long long)rd->batches,
                   (unsigned long long)rd->rows);
    else
        ps_kit_set(r, PS_KIT_PASS, "heap steady over %llu batches (grew %zu KiB at most)",
                   (unsigned long long)rd->batches,
                   (rd->heap_max > rd->heap_first ? rd->heap_max - rd->heap_first : 0) >> 10);
    free(rd);
}

static void check_missing_source(ps_kit_ctx *k, ps_kit_result *r)
{
    kit_read *rd = calloc(1, sizeof *rd);
    char why[380] = "";
    if (!rd) {
        ps_kit_set(r, PS_KIT_FAIL, "kit: out of memory");
        return;
    }
    int rc = read_all(k, PS_KIT_OPTS_MISSING_SOURCE, NULL, rd, why, sizeof why);
    uint64_t rows = rd->rows;
    free(rd);
    if (rc == READ_SKIP)
        ps_kit_set(r, PS_KIT_SKIP, "%s", why);
    else if (rc == READ_PLUGIN_ERROR)
        ps_kit_set(r, PS_KIT_PASS, "clear error: %s", why);
    else if (rc == READ_VIOLATION)
        ps_kit_set(r, PS_KIT_FAIL, "%s", why);
    else
        ps_kit_set(r, PS_KIT_FAIL,
                   "a missing source (paths and URLs pointed at nothing) read as %llu rows "
                   "without an error",
                   (unsigned long long)rows);
}

const ps_kit_check ps_kit_provider_checks[] = {
    {"options", ps_kit_check_options},
    {"create/destroy", ps_kit_check_create_destroy},
    {"read contract", check_read},
    {"arena use only", check_arena_only},
    {"two reads identical", check_reread},
    {"cursor round trip", check_cursor},
    {"missing source", check_missing_source},
    {NULL, NULL},
};
