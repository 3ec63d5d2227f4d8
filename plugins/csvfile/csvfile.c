/* paysync provider plugin "csvfile": rows of a CSV file or standard input
 * (docs/providers/csvfile.md). Uses only the host API: the core's CSV reader does the
 * parsing; this plugin opens the file, finds the header row and numbers the records. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "paysync/header.h"
#include "paysync/plugin.h"

#define CSVFILE_DEFAULT_BATCH 1000
#define CSVFILE_DEFAULT_MAX_FIELD 67108864 /* the core reader's own limit (64 MiB) */
#define CSVFILE_PATH_SHOWN 512             /* longest path quoted in messages */
#define CSVFILE_DEFAULT_SETTLE_MS 2000     /* settle_time default */
#define CSVFILE_MAX_SETTLE_MS 60000        /* settle_time limit */
/* Test-only hook (docs/providers/csvfile.md "Test hook"): POINT:FIFO makes the plugin stop at
 * POINT until the test has changed the file. Never an operator setting. */
#define CSVFILE_PAUSE_ENV "PS_TEST_CSVFILE_PAUSE"

typedef struct csvfile {
    const ps_host *host;
    const ps_env *env;
    char *path; /* as configured (already resolved by the core), "-" = stdin */
    char delim;
    uint64_t header_row; /* 0: not set, found by the header rule (paysync/header.h) */
    uint64_t header_at;  /* the header's row in the open file */
    uint64_t max_field;
    int64_t settle_ms; /* wait when the file ends without a line end and is this recent */

    int fd;     /* -1 when not open */
    int own_fd; /* 0 for stdin */
    int read_errno;
    ps_csv_reader *reader;
    uint64_t recno; /* records read so far (the header row included) */
    /* Records read past the header while looking for it: handed out first (run arena). */
    ps_row *pend;
    size_t npend, pend_pos;
    ps_error scan_err; /* the read error that ended the search, met after those records */
    ps_error pending;  /* error met during a batch: returned by this and every later call */
    size_t batch_rows;

    /* Source stability: the file as it was at open, and what was read of it. */
    int watched;         /* 1: fd is a regular file whose identity and size are checked */
    struct stat opened;  /* fstat at open */
    uint64_t bytes_read; /* bytes the reader got */
    int last_byte;       /* last byte read, -1 before the first */
    int at_end;          /* 1: the end was reached and checked; later calls return PS_END */
} csvfile;

static const ps_option_spec csvfile_options[] = {
    {.name = "path",
     .type = PS_OPT_PATH,
     .required = 1,
     .description =
         "CSV file to read (relative to the config file's folder); \"-\" reads standard input"},
    {.name = "delimiter",
     .type = PS_OPT_STRING,
     .default_value = ",",
     .description =
         "field separator: \",\" (default), \";\", \"tab\" (or a tab character) or \"|\""},
    {.name = "header_row",
     .type = PS_OPT_INT,
     .description = "row (record number, 1-based) holding the column names; rows above it are "
                    "skipped; when not set, the first of the first 20 rows naming at least 3 "
                    "fields (or their mapping.columns aliases), else row 1",
     .flags = PS_OPTF_MIN,
     .min = 1},
    {.name = "max_field_bytes",
     .type = PS_OPT_SIZE,
     .default_value = "64MiB",
     .description = "longest cell accepted (bytes, or e.g. 64KiB); a longer cell fails the dataset "
                    "naming the line",
     .flags = PS_OPTF_RANGE,
     .min = 1,
     .max = CSVFILE_DEFAULT_MAX_FIELD},
    {.name = "settle_time",
     .type = PS_OPT_DURATION,
     .default_value = "2s",
     .description = "when the file does not end with a line end and was modified less than "
                    "this long ago, wait until it is this old and check it again (a writer "
                    "may still be writing); 0 turns the wait off",
     .flags = PS_OPTF_RANGE | PS_OPTF_PLAIN_SECONDS,
     .min = 0,
     .max = CSVFILE_MAX_SETTLE_MS},
    {0},
};

/* Parses the delimiter option; 0 when not supported. */
static char parse_delimiter(const char *s)
{
    if (!s || !*s)
        return ',';
    if (strcmp(s, ",") == 0 || strcmp(s, ";") == 0 || strcmp(s, "|") == 0 || strcmp(s, "\t") == 0)
        return s[0];
    if (strcmp(s, "tab") == 0 || strcmp(s, "TAB") == 0 || strcmp(s, "\\t") == 0)
        return '\t';
    return 0;
}

static const char *shown_path(const csvfile *c)
{
    return strcmp(c->path, "-") == 0 ? "<stdin>" : c->path;
}

static ps_status csvfile_create(const ps_plugin_ctx *ctx, void **inst, ps_error *err)
{
    const ps_host *h = ctx->host;
    const char *path = h->opt_string(ctx->options, "path");
    if (!path || !*path)
        return ps_error_setf(err, PS_ERR_CONFIG, "%s: option 'path' is required",
                             ctx->instance_name);
    const char *ds = h->opt_string(ctx->options, "delimiter");
    char delim = parse_delimiter(ds);
    if (!delim)
        return ps_error_setf(err, PS_ERR_CONFIG,
                             "%s: delimiter '%.16s' is not supported; use \",\", \";\", "
                             "\"tab\" or \"|\"",
                             ctx->instance_name, ds);
    /* bounds declared in csvfile_options, checked by the core */
    int64_t header_row =
        h->opt_is_set(ctx->options, "header_row") ? h->opt_int(ctx->options, "header_row") : 0;
    int64_t max_field = h->opt_is_set(ctx->options, "max_field_bytes")
                            ? h->opt_int(ctx->options, "max_field_bytes")
                            : CSVFILE_DEFAULT_MAX_FIELD;

    int64_t settle = h->opt_is_set(ctx->options, "settle_time")
                         ? h->opt_int(ctx->options, "settle_time")
                         : CSVFILE_DEFAULT_SETTLE_MS;

    csvfile *c = calloc(1, sizeof *c);
    if (!c || !(c->path = strdup(path))) {
        free(c);
        return ps_error_setf(err, PS_ERR_NOMEM, "%s: out of memory", ctx->instance_name);
    }
    c->host = h;
    c->env = ctx->env;
    c->delim = delim;
    c->header_row = (uint64_t)header_row;
    c->max_field = (uint64_t)max_field;
    c->settle_ms = settle;
    c->fd = -1;
    *inst = c;
    return PS_OK;
}

/* Checks that the file exists, is readable and is not a directory. */
static ps_status csvfile_check(void *inst, ps_error *err)
{
    csvfile *c = inst;
    if (strcmp(c->path, "-") == 0)
        return PS_OK;
    struct stat st;
    if (stat(c->path, &st) != 0 || access(c->path, R_OK) != 0)
        return ps_error_setf(err, PS_ERR_SOURCE, "cannot open '%.*s': %s", CSVFILE_PATH_SHOWN,
                             c->path, strerror(errno));
    if (S_ISDIR(st.st_mode))
        return ps_error_setf(err, PS_ERR_SOURCE, "cannot read '%.*s': it is a directory",
                             CSVFILE_PATH_SHOWN, c->path);
    return PS_OK;
}

static long csvfile_read(void *ctx, char *buf, size_t cap)
{
    csvfile *c = ctx;
    for (;;) {
        ssize_t n = read(c->fd, buf, cap);
        if (n > 0) {
            c->bytes_read += (uint64_t)n;
            c->last_byte = (unsigned char)buf[n - 1];
        }
        if (n >= 0)
            return (long)n;
        if (errno != EINTR) {
            c->read_errno = errno;
            return -1;
        }
    }
}

static void csvfile_close(void *inst)
{
    csvfile *c = inst;
    if (c->reader) {
        c->host->csv_free(c->reader);
        c->reader = NULL;
    }
    if (c->fd >= 0 && c->own_fd)
        close(c->fd);
    c->fd = -1;
    c->own_fd = 0;
}

/* Rewrites an error from the reader: path prefix; read errors become PS_ERR_SOURCE. */
static ps_status reader_error(csvfile *c, ps_status st, ps_error *err)
{
    char msg[sizeof err->message];
    memcpy(msg, err->message, sizeof msg);
    msg[sizeof msg - 1] = '\0';
    if (st == PS_ERR_IO)
        return ps_error_setf(err, PS_ERR_SOURCE, "%.*s: %s: %s", CSVFILE_PATH_SHOWN, shown_path(c),
                             msg, c->read_errno ? strerror(c->read_errno) : "unknown error");
    return ps_error_setf(err, st, "%.*s: %s", CSVFILE_PATH_SHOWN, shown_path(c), msg);
}

/* Next record with the field-size limit applied. PS_OK, PS_END or an error. */
/* The longest record the core's CSV reader flags (docs/plugin-abi.md, csv_record_flags). */
#define CSVFILE_FLAGGED_MAX 4096u

static ps_status next_record(csvfile *c, ps_arena *arena, ps_cell **cells, size_t *n,
                             uint64_t *line, ps_error *err)
{
    ps_status st = c->host->csv_next(c->reader, arena, cells, n, line, err);
    if (st == PS_END)
        return st;
    if (st != PS_OK)
        return reader_error(c, st, err);
    c->recno++;
    /* a record with any PS_ROWF_* bit is at most CSVFILE_FLAGGED_MAX bytes long (ABI 2.6,
     * csv_record_flags): no cell of it can be over a limit at least that large */
    if (c->max_field >= CSVFILE_FLAGGED_MAX &&
        PS_HAS_MEMBER(ps_host, csv_record_flags, c->host->struct_size) &&
        c->host->csv_record_flags(c->reader))
        return PS_OK;
    for (size_t i = 0; i < *n; i++)
        if ((*cells)[i].len > c->max_field)
            return ps_error_setf(err, PS_ERR_DATA,
                                 "%.*s: line %llu: field %zu is longer than max_field_bytes "
                                 "(%u bytes, limit %llu)",
                                 CSVFILE_PATH_SHOWN, shown_path(c), (unsigned long long)*line,
                                 i + 1, (unsigned)(*cells)[i].len,
                                 (unsigned long long)c->max_field);
    return PS_OK;
}

static ps_status no_rows(csvfile *c, uint64_t want, ps_error *err)
{
    if (c->recno == 0)
        return ps_error_setf(err, PS_ERR_DATA, "%.*s: the file is empty (no header row)",
                             CSVFILE_PATH_SHOWN, shown_path(c));
    return ps_error_setf(
        err, PS_ERR_DATA, "%.*s: no header row: header_row is %llu but the file has only %llu rows",
        CSVFILE_PATH_SHOWN, shown_path(c), (unsigned long long)want, (unsigned long long)c->recno);
}

/* header_row set: skips the rows above it. */
static ps_status skip_to_header(csvfile *c, ps_arena *arena, ps_cell **cells, size_t *n,
                                ps_error *err)
{
    uint64_t line = 0;
    for (;;) {
        ps_status st = next_record(c, arena, cells, n, &line, err);
        if (st == PS_END)
            return no_rows(c, c->header_row, err);
        if (st != PS_OK)
            return st;
        if (c->recno == c->header_row)
            break;
        c->host->log(c->env, PS_LOG_DEBUG, "skipping row %llu above the header (line %llu)",
                     (unsigned long long)c->recno, (unsigned long long)line);
    }
    c->host->log(c->env, PS_LOG_DEBUG, "reading %s: header on row %llu (line %llu), %zu columns",
                 shown_path(c), (unsigned long long)c->header_row, (unsigned long long)line, *n);
    c->header_at = c->header_row;
    return PS_OK;
}

static int match_cb(void *ctx, const char *name, size_t len)
{
    const csvfile *c = ctx;
    return c->host->match_header(c->env, name, len);
}

/* header_row not set: reads up to PS_HEADER_SCAN_ROWS records and takes the header by the
 * rule of paysync/header.h (row 1 when no row qualifies, as before the rule); the records
 * after the header are kept for the first batches. */
static ps_status find_header(csvfile *c, ps_arena *arena, ps_cell **cells, size_t *n, ps_error *err)
{
    ps_row *rows = c->host->arena_alloc(arena, PS_HEADER_SCAN_ROWS * sizeof *rows);
    if (!rows)
        return ps_error_setf(err, PS_ERR_NOMEM, "%.*s: out of memory", CSVFILE_PATH_SHOWN,
                             shown_path(c));
    size_t got = 0;
    while (got < PS_HEADER_SCAN_ROWS) {
        uint64_t line;
        size_t nc;
        ps_cell *cl;
        ps_error e = {0};
        ps_status st = next_record(c, arena, &cl, &nc, &line, &e);
        if (st == PS_END)
            break;
        if (st != PS_OK && got > 0 && st != PS_ERR_NOMEM) {
            /* as when reading rows: those before the bad one are handed out, then the error */
            c->scan_err = e;
            break;
        }
        if (st != PS_OK) {
            *err = e;
            return st;
        }
        rows[got].cells = cl;
        rows[got].ncells = (uint32_t)nc;
        rows[got].line = c->recno;
        got++;
    }
    if (got == 0)
        return no_rows(c, 1, err);
    const ps_cell *rc[PS_HEADER_SCAN_ROWS];
    uint32_t ns[PS_HEADER_SCAN_ROWS];
    for (size_t i = 0; i < got; i++) {
        rc[i] = rows[i].cells;
        ns[i] = rows[i].ncells;
    }
    long h = ps_header_detect(rc, ns, got, match_cb, c);
    if (h < 0) {
        c->host->log(c->env, PS_LOG_INFO,
                     "%.*s: no row among the first %d names %d fields: row 1 is the header "
                     "(set header_row to choose another)",
                     CSVFILE_PATH_SHOWN, shown_path(c), PS_HEADER_SCAN_ROWS, PS_HEADER_MIN_FIELDS);
        h = 0;
    } else {
        c->host->log(c->env, PS_LOG_DEBUG, "reading %s: header found on row %ld, %u columns",
                     shown_path(c), h + 1, rows[h].ncells);
    }
    c->header_at = (uint64_t)h + 1;
    *cells = (ps_cell *)rows[h].cells; /* ours, in the run arena */
    *n = rows[h].ncells;
    c->pend = rows + h + 1;
    c->npend = got - (size_t)h - 1;
    c->pend_pos = 0;
    return PS_OK;
}

static ps_status csvfile_open(void *inst, const ps_open_args *args, ps_table_info *info,
                              ps_error *err)
{
    csvfile *c = inst;
    csvfile_close(c);
    c->recno = 0;
    c->pend = NULL;
    c->npend = c->pend_pos = 0;
    ps_error_clear(&c->scan_err);
    c->read_errno = 0;
    c->watched = 0;
    c->bytes_read = 0;
    c->last_byte = -1;
    c->at_end = 0;
    ps_error_clear(&c->pending);
    c->batch_rows = args->batch_rows ? args->batch_rows : CSVFILE_DEFAULT_BATCH;

    if (strcmp(c->path, "-") == 0) {
        c->fd = STDIN_FILENO;
        c->own_fd = 0;
    } else {
        c->fd = open(c->path, O_RDONLY | O_CLOEXEC);
        if (c->fd < 0)
            return ps_error_setf(err, PS_ERR_SOURCE, "cannot open '%.*s': %s", CSVFILE_PATH_SHOWN,
                                 c->path, strerror(errno));
        c->own_fd = 1;
    }
    if (fstat(c->fd, &c->opened) != 0) {
        int e = errno;
        csvfile_close(c);
        return ps_error_setf(err, PS_ERR_SOURCE, "cannot read '%.*s': %s", CSVFILE_PATH_SHOWN,
                             shown_path(c), strerror(e));
    }
    if (c->own_fd && S_ISDIR(c->opened.st_mode)) {
        csvfile_close(c);
        return ps_error_setf(err, PS_ERR_SOURCE, "cannot read '%.*s': it is a directory",
                             CSVFILE_PATH_SHOWN, shown_path(c));
    }
    /* Only a regular file has a size and a modification time worth comparing (a pipe, a
     * FIFO or a terminal is read once, as it comes). */
    c->watched = S_ISREG(c->opened.st_mode);
#ifdef POSIX_FADV_SEQUENTIAL
    /* read once, front to back: larger readahead on disks (a hint; errors do not matter) */
    if (c->watched)
        (void)posix_fadvise(c->fd, 0, 0, POSIX_FADV_SEQUENTIAL);
#endif
    c->reader = c->host->csv_new(csvfile_read, c, c->delim);
    if (!c->reader) {
        csvfile_close(c);
        return ps_error_setf(err, PS_ERR_NOMEM, "%.*s: out of memory", CSVFILE_PATH_SHOWN,
                             shown_path(c));
    }

    ps_cell *cells = NULL;
    size_t n = 0;
    ps_status st = c->header_row ? skip_to_header(c, args->run_arena, &cells, &n, err)
                                 : find_header(c, args->run_arena, &cells, &n, err);
    if (st != PS_OK) {
        csvfile_close(c);
        return st;
    }
    info->ncolumns = (uint32_t)n;
    info->header = cells;
    info->header_line = c->header_at;
    info->time_zone = NULL;
    info->source_desc = shown_path(c);
    return PS_OK;
}

/* ---- source stability ------------------------------------------------------------------ */

/* Test hook: when PS_TEST_CSVFILE_PAUSE is "POINT:FIFO" and point is POINT, writes "POINT\n"
 * to the FIFO (blocking until the test opens it for reading), then waits until the test has
 * opened the FIFO for writing and closed it again. Lets a test change the file at an exact
 * moment of the read. Failures are logged and ignored. */
static void test_pause(const csvfile *c, const char *point)
{
    const char *v = getenv(CSVFILE_PAUSE_ENV);
    if (!v)
        return;
    size_t n = strlen(point);
    if (strncmp(v, point, n) != 0 || v[n] != ':' || !v[n + 1])
        return;
    const char *fifo = v + n + 1;
    c->host->log(c->env, PS_LOG_WARN, "test hook %s: pausing at %s", CSVFILE_PAUSE_ENV, point);
    int fd = open(fifo, O_WRONLY | O_CLOEXEC);
    if (fd < 0) {
        c->host->log(c->env, PS_LOG_WARN, "test hook: cannot open '%s': %s", fifo, strerror(errno));
        return;
    }
    char msg[64];
    int len = snprintf(msg, sizeof msg, "%s\n", point);
    if (write(fd, msg, (size_t)len) != len)
        c->host->log(c->env, PS_LOG_WARN, "test hook: cannot write '%s'", fifo);
    close(fd);
    fd = open(fifo, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return;
    char buf[64];
    while (read(fd, buf, sizeof buf) > 0) {
    }
    close(fd);
}

static int64_t mtime_ns(const struct stat *st)
{
    return (int64_t)st->st_mtim.tv_sec * 1000000000 + (int64_t)st->st_mtim.tv_nsec;
}

/* How the file now differs from the file opened, in words; NULL when it does not. Compares
 * the open descriptor (size, modification time, and when complete, i.e. the whole file was
 * read, the bytes read) and, for a named file, what the path names now (same device and
 * inode: not replaced by a rename, not removed). */
static const char *source_difference(csvfile *c, int complete, char *buf, size_t cap)
{
    const struct stat *a = &c->opened;
    struct stat b;
    if (fstat(c->fd, &b) != 0) {
        snprintf(buf, cap, "cannot check it again: %s", strerror(errno));
        return buf;
    }
    if (b.st_size != a->st_size) {
        snprintf(buf, cap, "size %jd -> %jd bytes", (intmax_t)a->st_size, (intmax_t)b.st_size);
        return buf;
    }
    if (complete && c->bytes_read != (uint64_t)b.st_size) {
        snprintf(buf, cap, "%" PRIu64 " bytes read of %jd", c->bytes_read, (intmax_t)b.st_size);
        return buf;
    }
    if (mtime_ns(&b) != mtime_ns(a)) {
        snprintf(buf, cap, "modified again (same size, %jd bytes)", (intmax_t)b.st_size);
        return buf;
    }
    if (strcmp(c->path, "-") == 0)
        return NULL;
    struct stat p;
    if (stat(c->path, &p) != 0) {
        snprintf(buf, cap, "the path no longer names a file: %s", strerror(errno));
        return buf;
    }
    if (p.st_dev != a->st_dev || p.st_ino != a->st_ino) {
        snprintf(buf, cap, "the path now names another file (replaced, e.g. by a rename)");
        return buf;
    }
    return NULL;
}

static ps_status changed_error(const csvfile *c, const char *how, ps_error *err)
{
    return ps_error_setf(err, PS_ERR_SOURCE,
                         "source_changed: %.*s: the file changed while it was read; run again "
                         "(%s)",
                         CSVFILE_PATH_SHOWN, shown_path(c), how);
}

/* At the end of the read: fails with source_changed when the file is not the one opened any
 * more; when it ends without a line end and was modified less than settle_time ago (by the
 * host clock), waits until it is settle_time old and checks once more. */
static ps_status check_stable(csvfile *c, ps_error *err)
{
    if (!c->watched)
        return PS_OK;
    test_pause(c, "eof");
    char why[256];
    if (source_difference(c, 1, why, sizeof why))
        return changed_error(c, why, err);
    if (c->settle_ms <= 0 || c->last_byte < 0 || c->last_byte == '\n' || c->last_byte == '\r')
        return PS_OK;
    int64_t age = c->host->now_ms() - mtime_ns(&c->opened) / 1000000;
    if (age < 0 || age >= c->settle_ms)
        return PS_OK; /* old enough, or modified "in the future": another clock, not judged */
    int64_t wait = c->settle_ms - age;
    c->host->log(c->env, PS_LOG_INFO,
                 "%.*s ends without a line end and was modified %" PRId64
                 " ms ago: waiting %" PRId64 " ms in case a writer is still writing it",
                 CSVFILE_PATH_SHOWN, shown_path(c), age, wait);
    c->host->sleep_ms(wait);
    test_pause(c, "settle");
    if (source_difference(c, 1, why, sizeof why)) {
        char how[320];
        snprintf(how, sizeof how, "it changed in the %" PRId64 " ms after the read: %s", wait, why);
        return changed_error(c, how, err);
    }
    return PS_OK;
}

static ps_status csvfile_next_batch(void *inst, ps_arena *arena, ps_row_batch *batch, ps_error *err)
{
    csvfile *c = inst;
    batch->count = 0;
    batch->rows = NULL;
    if (c->pending.code != PS_OK) {
        ps_status st = c->pending.code;
        if (err)
            *err = c->pending;
        return st;
    }
    if (!c->reader || c->at_end)
        return PS_END;
    ps_row *rows = c->host->arena_alloc(arena, c->batch_rows * sizeof *rows);
    if (!rows)
        return ps_error_setf(err, PS_ERR_NOMEM, "%.*s: out of memory", CSVFILE_PATH_SHOWN,
                             shown_path(c));
    /* PS_ROWF_* of each row when both the core's batch and its CSV reader know them (ABI 2.5);
     * rows kept while finding the header stay 0 (nothing known) */
    uint8_t *flags = NULL;
    unsigned (*rec_flags)(const ps_csv_reader *) =
        PS_HAS_MEMBER(ps_host, csv_record_flags, c->host->struct_size) ? c->host->csv_record_flags
                                                                       : NULL;
    if (rec_flags && PS_HAS_MEMBER(ps_row_batch, row_flags, batch->struct_size) &&
        !(flags = c->host->arena_alloc(arena, c->batch_rows)))
        return ps_error_setf(err, PS_ERR_NOMEM, "%.*s: out of memory", CSVFILE_PATH_SHOWN,
                             shown_path(c));
    size_t count = 0;
    while (count < c->batch_rows && c->pend_pos < c->npend) {
        if (flags)
            flags[count] = 0;
        rows[count++] = c->pend[c->pend_pos++];
    }
    while (count < c->batch_rows) {
        ps_cell *cells = NULL;
        size_t n = 0;
        uint64_t line = 0;
        /* e is filled when st is not PS_OK; the 1 KiB copy of scan_err only when it holds an
         * error (not a row's cost) */
        ps_error e;
        ps_error_clear(&e);
        ps_status st = c->scan_err.code;
        if (st != PS_OK) {
            e = c->scan_err;
            ps_error_clear(&c->scan_err); /* met while finding the header, after the rows kept */
        } else {
            st = next_record(c, arena, &cells, &n, &line, &e);
        }
        if (st != PS_OK && st != PS_END && st != PS_ERR_NOMEM && c->watched && !c->at_end) {
            /* a file cut short by a writer (a quote left open at the end) or changed under
             * the read: say so, rather than how the half-written bytes look */
            char why[256];
            if (source_difference(c, 0, why, sizeof why))
                st = changed_error(c, why, &e);
        }
        if (st == PS_END) {
            st = check_stable(c, &e);
            if (st == PS_OK) {
                c->at_end = 1;
                break;
            }
        }
        if (st != PS_OK) {
            /* The error is kept: the rows read so far (if any) are handed over first and
             * every later call returns it. */
            c->pending = e;
            if (count == 0) {
                if (err)
                    *err = e;
                return st;
            }
            break;
        }
        rows[count].line = c->recno;
        rows[count].ncells = (uint32_t)n;
        rows[count].cells = cells;
        if (flags)
            flags[count] = (uint8_t)rec_flags(c->reader);
        count++;
    }
    if (count == 0)
        return PS_END;
    batch->count = count;
    batch->rows = rows;
    if (flags)
        batch->row_flags = flags;
    if (PS_HAS_MEMBER(ps_row_batch, progress_total, batch->struct_size) && c->watched) {
        /* bytes: the reader reads ahead, so this runs a buffer ahead of the rows */
        batch->progress_done = c->bytes_read;
        batch->progress_total = (uint64_t)c->opened.st_size;
    }
    return PS_OK;
}

static void csvfile_destroy(void *inst)
{
    csvfile *c = inst;
    if (!c)
        return;
    csvfile_close(c);
    free(c->path);
    free(c);
}

static const ps_provider_ops csvfile_provider = {
    .struct_size = sizeof(ps_provider_ops),
    .open = csvfile_open,
    .next_batch = csvfile_next_batch,
    .cursor = NULL,
    .close = csvfile_close,
};

static const ps_plugin_descriptor csvfile_descriptor = {
    .struct_size = sizeof(ps_plugin_descriptor),
    .abi_major = PS_ABI_MAJOR,
    .abi_minor = PS_ABI_MINOR,
    .name = "csvfile",
    .version = "1.0.0",
    .description = "reads payments from a CSV file (RFC 4180) or standard input",
    .kind = PS_PLUGIN_PROVIDER,
    .flags = 0,
    .options = csvfile_options,
    .option_spec_size = sizeof(ps_option_spec),
    .create = csvfile_create,
    .check = csvfile_check,
    .destroy = csvfile_destroy,
    .provider = &csvfile_provider,
    .sink = NULL,
};

PS_PLUGIN_DEFINE(csvfile, csvfile_descriptor)
