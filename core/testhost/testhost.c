/* paysync test host library (paysync/testhost.h): the conformance kit and the core's loader,
 * option engine and host table behind a small API for connector authors' unit tests. Only
 * the ps_testhost_* functions are exported. */
#include "paysync/testhost.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "kit/kit.h"
#include "kit/kit_checks.h"
#include "plugin/loader.h"
#include "util/arena.h"

#define PS_TESTHOST_API __attribute__((visibility("default")))
#define TH_MAX_OPTS 64

typedef struct th_row {
    uint64_t line;
    uint32_t ncells;
    const char **cells;
    const char **paths; /* record-shaped providers: the key path of each value; else NULL */
} th_row;

struct ps_testhost {
    ps_registry *reg;
    const ps_plugin_descriptor *desc;
    ps_kv opts[TH_MAX_OPTS];
    size_t nopts;
    unsigned timeout_s;
    char error[1024];
    /* last read */
    ps_arena *arena;
    uint32_t ncolumns;
    const char **header;
    th_row *rows;
    size_t nrows, caprows;
};

static void th_seterr(ps_testhost *th, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(th->error, sizeof th->error, fmt, ap);
    va_end(ap);
}

static void copy_err(char *err, size_t cap, const char *msg)
{
    if (err && cap)
        snprintf(err, cap, "%s", msg);
}

static ps_testhost *th_new(char *err, size_t cap)
{
    ps_testhost *th = calloc(1, sizeof *th);
    if (!th || !(th->reg = ps_registry_new())) {
        free(th);
        copy_err(err, cap, "paysync test host: out of memory");
        return NULL;
    }
    th->timeout_s = 60;
    return th;
}

PS_TESTHOST_API ps_testhost *ps_testhost_load(const char *so_path, char *err, size_t cap)
{
    ps_testhost *th = th_new(err, cap);
    if (!th)
        return NULL;
    ps_error e = {0};
    const ps_plugin *p = NULL;
    if (ps_registry_load_file(th->reg, so_path, &p, &e) != PS_OK) {
        copy_err(err, cap, e.message);
        ps_testhost_free(th);
        return NULL;
    }
    th->desc = p->desc;
    return th;
}

PS_TESTHOST_API ps_testhost *ps_testhost_use(const ps_plugin_descriptor *desc, char *err,
                                             size_t cap)
{
    ps_testhost *th = th_new(err, cap);
    if (!th)
        return NULL;
    ps_error e = {0};
    if (ps_descriptor_check(desc, "plugin", &e) != PS_OK) {
        copy_err(err, cap, e.message);
        ps_testhost_free(th);
        return NULL;
    }
    th->desc = desc;
    return th;
}

static void drop_rows(ps_testhost *th)
{
    ps_arena_destroy(th->arena);
    th->arena = NULL;
    free(th->rows);
    th->rows = NULL;
    th->nrows = th->caprows = 0;
    th->header = NULL;
    th->ncolumns = 0;
}

PS_TESTHOST_API void ps_testhost_free(ps_testhost *th)
{
    if (!th)
        return;
    drop_rows(th);
    for (size_t i = 0; i < th->nopts; i++) {
        free(th->opts[i].key);
        free(th->opts[i].value);
    }
    ps_registry_free(th->reg);
    free(th);
}

PS_TESTHOST_API int ps_testhost_set_option(ps_testhost *th, const char *name, const char *value)
{
    if (!th || !name || !value)
        return -1;
    char *v = strdup(value);
    if (!v)
        return -1;
    for (size_t i = 0; i < th->nopts; i++)
        if (strcmp(th->opts[i].key, name) == 0) {
            free(th->opts[i].value);
            th->opts[i].value = v;
            return 0;
        }
    char *k = strdup(name);
    if (!k || th->nopts == TH_MAX_OPTS) {
        free(k);
        free(v);
        th_seterr(th, "too many options (at most %d)", TH_MAX_OPTS);
        return -1;
    }
    th->opts[th->nopts++] = (ps_kv){.key = k, .value = v};
    return 0;
}

PS_TESTHOST_API void ps_testhost_set_timeout(ps_testhost *th, unsigned seconds)
{
    if (th)
        th->timeout_s = seconds ? seconds : 60;
}

static ps_kit_ctx th_ctx(const ps_testhost *th)
{
    ps_kit_ctx k;
    memset(&k, 0, sizeof k);
    k.desc = th->desc;
    k.opts.opts = th->opts;
    k.opts.nopts = th->nopts;
    k.opts.dataset = "kit";
    k.opts.timeout_s = th->timeout_s;
    k.opts.batch_rows = 100; /* as the kit: small batches, so several per read */
    return k;
}

PS_TESTHOST_API int ps_testhost_conform(ps_testhost *th, FILE *out)
{
    if (!th)
        return -1;
    ps_kit_ctx k = th_ctx(th);
    ps_kit_report *rep = calloc(1, sizeof *rep);
    if (!rep) {
        th_seterr(th, "out of memory");
        return -1;
    }
    ps_kit_run(th->desc, &k.opts, rep);
    if (out)
        ps_kit_print(rep, out);
    int failed = (int)rep->failed;
    th->error[0] = '\0';
    for (size_t i = 0; i < rep->n; i++)
        if (rep->results[i].outcome == PS_KIT_FAIL) {
            th_seterr(th, "%s: %s", rep->results[i].check, rep->results[i].detail);
            break;
        }
    free(rep);
    return failed;
}

static const char *keep(ps_testhost *th, const ps_cell *c)
{
    return ps_arena_strndup(th->arena, c->text, c->len);
}

static int on_header(void *ctx, const ps_table_info *info)
{
    ps_testhost *th = ctx;
    if (info->ncolumns == 0) /* record-shaped: no header */
        return 0;
    th->header = ps_arena_alloc(th->arena, info->ncolumns * sizeof *th->header);
    if (!th->header)
        return -1;
    for (uint32_t c = 0; c < info->ncolumns; c++)
        if (!(th->header[c] = keep(th, &info->header[c])))
            return -1;
    th->ncolumns = info->ncolumns;
    return 0;
}

static th_row *next_row(ps_testhost *th)
{
    if (th->nrows == th->caprows) {
        size_t cap = th->caprows ? th->caprows * 2 : 64;
        th_row *nr = realloc(th->rows, cap * sizeof *nr);
        if (!nr)
            return NULL;
        th->rows = nr;
        th->caprows = cap;
    }
    th_row *r = &th->rows[th->nrows];
    memset(r, 0, sizeof *r);
    return r;
}

static int on_record(void *ctx, const ps_keyed_row *rec)
{
    ps_testhost *th = ctx;
    th_row *r = next_row(th);
    if (!r)
        return -1;
    size_t n = rec->nvalues ? rec->nvalues : 1;
    r->line = rec->line;
    r->ncells = rec->nvalues;
    r->cells = ps_arena_alloc(th->arena, n * sizeof *r->cells);
    r->paths = ps_arena_alloc(th->arena, n * sizeof *r->paths);
    if (!r->cells || !r->paths)
        return -1;
    for (uint32_t i = 0; i < rec->nvalues; i++) {
        const ps_value *v = &rec->values[i];
        r->cells[i] = ps_arena_strndup(th->arena, v->text, v->len);
        r->paths[i] = ps_arena_strndup(th->arena, v->path, v->path_len);
        if (!r->cells[i] || !r->paths[i])
            return -1;
    }
    th->nrows++;
    return 0;
}

static int on_row(void *ctx, const ps_row *row)
{
    ps_testhost *th = ctx;
    th_row *r = next_row(th); /* zeroed: paths stays NULL for tabular rows */
    if (!r)
        return -1;
    r->line = row->line;
    r->ncells = row->ncells;
    r->cells = ps_arena_alloc(th->arena, (row->ncells ? row->ncells : 1) * sizeof *r->cells);
    if (!r->cells)
        return -1;
    for (uint32_t c = 0; c < row->ncells; c++)
        if (!(r->cells[c] = keep(th, &row->cells[c])))
            return -1;
    th->nrows++;
    return 0;
}

PS_TESTHOST_API long ps_testhost_read(ps_testhost *th)
{
    if (!th)
        return -1;
    if (th->desc->kind != PS_PLUGIN_PROVIDER) {
        th_seterr(th, "'%s' is a sink: use ps_testhost_write_sample", th->desc->name);
        return -1;
    }
    drop_rows(th);
    if (!(th->arena = ps_arena_create(0))) {
        th_seterr(th, "out of memory");
        return -1;
    }
    ps_kit_ctx k = th_ctx(th);
    ps_kit_rows_cb cb = {.ctx = th, .header = on_header, .row = on_row, .record = on_record};
    char why[400] = "";
    if (ps_kit_provider_read(&k, &cb, why, sizeof why) != 0) {
        th_seterr(th, "%s", why);
        return -1;
    }
    th->error[0] = '\0';
    return (long)th->nrows;
}

PS_TESTHOST_API uint32_t ps_testhost_ncolumns(const ps_testhost *th)
{
    return th ? th->ncolumns : 0;
}

PS_TESTHOST_API const char *ps_testhost_header(const ps_testhost *th, uint32_t col)
{
    return th && th->header && col < th->ncolumns ? th->header[col] : NULL;
}

PS_TESTHOST_API uint64_t ps_testhost_line(const ps_testhost *th, size_t row)
{
    return th && row < th->nrows ? th->rows[row].line : 0;
}

PS_TESTHOST_API uint32_t ps_testhost_ncells(const ps_testhost *th, size_t row)
{
    return th && row < th->nrows ? th->rows[row].ncells : 0;
}

PS_TESTHOST_API const char *ps_testhost_cell(const ps_testhost *th, size_t row, uint32_t col)
{
    if (!th || row >= th->nrows || col >= th->rows[row].ncells)
        return NULL;
    return th->rows[row].cells[col];
}

PS_TESTHOST_API const char *ps_testhost_value(const ps_testhost *th, size_t row, const char *path)
{
    if (!th || !path || row >= th->nrows || !th->rows[row].paths)
        return NULL;
    const th_row *r = &th->rows[row];
    for (uint32_t i = 0; i < r->ncells; i++)
        if (strcmp(r->paths[i], path) == 0)
            return r->cells[i];
    return NULL;
}

PS_TESTHOST_API int ps_testhost_write_sample(ps_testhost *th, size_t n)
{
    if (!th)
        return -1;
    if (th->desc->kind != PS_PLUGIN_SINK) {
        th_seterr(th, "'%s' is a provider: use ps_testhost_read", th->desc->name);
        return -1;
    }
    ps_kit_ctx k = th_ctx(th);
    char why[400] = "";
    if (ps_kit_sink_write_sample(&k, n, why, sizeof why) != 0) {
        th_seterr(th, "%s", why);
        return -1;
    }
    th->error[0] = '\0';
    return 0;
}

PS_TESTHOST_API const char *ps_testhost_error(const ps_testhost *th)
{
    return th ? th->error : "no test host";
}
