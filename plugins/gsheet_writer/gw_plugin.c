/* paysync sink plugin "gsheet_writer": keeps Google Sheet tabs equal to the store's payments of
 * a dataset, in the shape Odyssey's Google Sheet integration reads (docs/sinks.md,
 * "gsheet_writer"). It commits after the store (PS_SINK_AFTER_STORE) and reads the dataset's
 * payments back from it, so a tab is complete whatever the run read (an incremental run reads
 * a window only). Each tab is compared with what the sheet holds; unchanged tabs get no write.
 * Changes that fit one values:batchUpdate request are written in place in that one request;
 * bigger ones go to a hidden temporary tab that one batchUpdate then swaps in for the old tab. */
#define _POSIX_C_SOURCE 200809L

#include <inttypes.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gs_auth.h"
#include "gs_client.h"
#include "gs_encode.h"
#include "gs_meta.h"
#include "gw_rows.h"
#include "paysync/plugin.h"

#define GW_COLS 21
#define GW_TMP_PREFIX "~paysync-tmp-"
#define GW_LAST_COL "U" /* column 21 */

/* ---- a growable byte buffer ------------------------------------------------------------ */

typedef struct gw_buf {
    char *p;
    size_t n, cap;
    int oom;
} gw_buf;

static void buf_add(gw_buf *b, const char *s, size_t n)
{
    if (b->oom)
        return;
    if (b->n + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->n + n + 1)
            cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p) {
            b->oom = 1;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = '\0';
}

static void buf_str(gw_buf *b, const char *s)
{
    buf_add(b, s, strlen(s));
}

static void buf_fmt(gw_buf *b, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
static void buf_fmt(gw_buf *b, const char *fmt, ...)
{
    char tmp[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n > 0)
        buf_add(b, tmp, (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
}

/* A JSON string of s. */
static void buf_json(gw_buf *b, const char *s)
{
    size_t n = strlen(s);
    char *q = malloc(ps_gw_json_bound(n));
    if (!q) {
        b->oom = 1;
        return;
    }
    buf_add(b, q, ps_gw_json_str(q, s, n));
    free(q);
}

static void buf_free(gw_buf *b)
{
    free(b->p);
    memset(b, 0, sizeof *b);
}

/* ---- the sink -------------------------------------------------------------------------- */

/* One tab the dataset owns: its payments (rows, in the store's order) and its state in the
 * spreadsheet. */
typedef struct gw_tab {
    char *title;
    char **rows;
    size_t *lens;
    size_t n, cap;
    const ps_gs_tab *have; /* the existing tab, NULL when it is to be created */
    unsigned char *chg;    /* changed sheet rows 1..nchg (index 0 unused) */
    uint64_t nchg;
    uint64_t nchanged; /* rows to write in place */
    size_t inplace_bytes;
} gw_tab;

typedef struct gw_sink {
    const ps_host *host;
    const ps_env *env;
    char *name;
    char id[128];
    char *api_url;
    char *tmpl;
    int64_t max_cells, max_request_bytes, page_rows;
    ps_gs_client client;
    char *header;
    size_t header_len;
    /* the open dataset */
    char *dataset;
    uint64_t run_records;
    /* commit */
    gw_tab *tabs;
    size_t ntabs, tabs_cap, last;
    uint64_t payments, cells;
    int over, bad_title, oom;
    ps_gs_meta meta;
    uint64_t writes;
} gw_sink;

static void tabs_free(gw_sink *s)
{
    for (size_t i = 0; i < s->ntabs; i++) {
        gw_tab *t = &s->tabs[i];
        for (size_t k = 0; k < t->n; k++)
            free(t->rows[k]);
        free(t->rows);
        free(t->lens);
        free(t->chg);
        free(t->title);
    }
    free(s->tabs);
    s->tabs = NULL;
    s->ntabs = s->tabs_cap = s->last = 0;
    s->payments = s->cells = 0;
    s->over = s->bad_title = s->oom = 0;
    ps_gs_meta_free(&s->meta);
    memset(&s->meta, 0, sizeof s->meta);
}

static gw_tab *tab_find(gw_sink *s, const char *title, int add)
{
    if (s->last < s->ntabs && strcmp(s->tabs[s->last].title, title) == 0)
        return &s->tabs[s->last];
    for (size_t i = 0; i < s->ntabs; i++)
        if (strcmp(s->tabs[i].title, title) == 0)
            return &s->tabs[s->last = i];
    if (!add)
        return NULL;
    if (s->ntabs == s->tabs_cap) {
        size_t cap = s->tabs_cap ? s->tabs_cap * 2 : 16;
        gw_tab *nt = realloc(s->tabs, cap * sizeof *nt);
        if (!nt)
            return NULL;
        s->tabs = nt;
        s->tabs_cap = cap;
    }
    gw_tab *t = &s->tabs[s->ntabs];
    memset(t, 0, sizeof *t);
    if (!(t->title = strdup(title)))
        return NULL;
    s->cells += GW_COLS; /* its header row */
    s->last = s->ntabs++;
    return t;
}

/* ps_commit_info.stored_payments callback: one stored payment into its tab. */
static int collect(void *ctx, const ps_record *rec)
{
    gw_sink *s = ctx;
    char title[PS_GW_TITLE_MAX + 1];
    if (!ps_gw_tab_title(s->tmpl, s->dataset, rec->field[PS_F_TIMESTAMP].ptr, title)) {
        s->bad_title = 1;
        return 1;
    }
    s->payments++;
    gw_tab *t = tab_find(s, title, !s->over);
    s->cells += GW_COLS;
    if (s->over)
        return 0; /* counted only: the run fails on capacity */
    if (!t) {
        s->oom = 1;
        return 1;
    }
    if ((uint64_t)s->cells > (uint64_t)s->max_cells) {
        s->over = 1;
        return 0;
    }
    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 256;
        char **r = realloc(t->rows, cap * sizeof *r);
        if (r)
            t->rows = r;
        size_t *l = realloc(t->lens, cap * sizeof *l);
        if (l)
            t->lens = l;
        if (!r || !l) {
            s->oom = 1;
            return 1;
        }
        t->cap = cap;
    }
    size_t len = 0;
    char *row = ps_gw_record_row(rec, &len);
    if (!row) {
        s->oom = 1;
        return 1;
    }
    t->rows[t->n] = row;
    t->lens[t->n++] = len;
    return 0;
}

/* ---- requests --------------------------------------------------------------------------- */

static ps_status fetch_meta(gw_sink *s, ps_error *err)
{
    return ps_gs_meta_fetch(&s->client, s->api_url, s->id, &s->meta, err);
}

/* POSTs body to the spreadsheet's endpoint suffix (":batchUpdate",
 * "/values:batchUpdate"); *reply receives the answer when reply is not NULL. */
static ps_status post(gw_sink *s, const char *suffix, const gw_buf *body, const char *what,
                      json_t **reply, ps_error *err)
{
    if (body->oom)
        return ps_error_setf(err, PS_ERR_NOMEM, "out of memory");
    size_t n = strlen(s->api_url) + strlen(s->id) + strlen(suffix) + 32;
    char *url = malloc(n);
    if (!url)
        return ps_error_setf(err, PS_ERR_NOMEM, "out of memory");
    snprintf(url, n, "%s/v4/spreadsheets/%s%s", s->api_url, s->id, suffix);
    json_t *root = NULL;
    ps_gs_request r = {.url = url, .what = what, .post_json = body->p, .post_len = body->n};
    ps_status st = ps_gs_client_get(&s->client, &r, &root, err);
    free(url);
    s->writes++;
    if (st == PS_OK && reply)
        *reply = root;
    else
        json_decref(root);
    return st;
}

/* A1 range 'Title'!A<r1>:U<r2>. */
static void buf_range(gw_buf *b, const char *title, uint64_t r1, uint64_t r2)
{
    char *a1 = ps_gs_a1_range(title, r1, GW_COLS, r2);
    if (!a1) {
        b->oom = 1;
        return;
    }
    buf_json(b, a1);
    free(a1);
}

static const char empty_row[] = "[\"\",\"\",\"\",\"\",\"\",\"\",\"\",\"\",\"\",\"\",\"\",\"\","
                                "\"\",\"\",\"\",\"\",\"\",\"\",\"\",\"\",\"\"]";

/* The row to write at sheet row r of t: the header, a payment, or an empty row. */
static const char *row_at(const gw_sink *s, const gw_tab *t, uint64_t r, size_t *len)
{
    if (r == 1) {
        *len = s->header_len;
        return s->header;
    }
    if (r - 2 < t->n) {
        *len = t->lens[r - 2];
        return t->rows[r - 2];
    }
    *len = sizeof empty_row - 1;
    return empty_row;
}

/* ---- comparing a tab with the sheet ---------------------------------------------------- */

/* Reads tab t's existing cells A1:U<rowCount> page by page and marks each sheet row that
 * differs from what it should hold (t->chg). */
static ps_status diff_tab(gw_sink *s, gw_tab *t, ps_error *err)
{
    uint64_t want = (uint64_t)t->n + 1;
    uint64_t grid = t->have ? t->have->row_count : 0;
    t->nchg = want > grid ? want : grid;
    t->chg = calloc(t->nchg + 1, 1);
    if (!t->chg)
        return ps_error_setf(err, PS_ERR_NOMEM, "out of memory");
    for (uint64_t r = 1; r <= want; r++)
        t->chg[r] = 1; /* until the sheet shows it */
    uint32_t cols = t->have ? t->have->col_count : 0;
    if (cols > GW_COLS)
        cols = GW_COLS;
    gw_buf enc = {0};
    for (uint64_t r1 = 1; t->have && cols > 0 && r1 <= grid; r1 += (uint64_t)s->page_rows) {
        uint64_t r2 = r1 + (uint64_t)s->page_rows - 1;
        if (r2 > grid)
            r2 = grid;
        char *range = ps_gs_a1_range(t->title, r1, cols, r2);
        char *encr = range ? ps_gs_pct_encode(range) : NULL;
        size_t n = strlen(s->api_url) + strlen(s->id) + (encr ? strlen(encr) : 0) + 128;
        char *url = malloc(n);
        if (!range || !encr || !url) {
            free(range);
            free(encr);
            free(url);
            buf_free(&enc);
            return ps_error_setf(err, PS_ERR_NOMEM, "out of memory");
        }
        snprintf(url, n,
                 "%s/v4/spreadsheets/%s/values/%s?majorDimension=ROWS&"
                 "valueRenderOption=UNFORMATTED_VALUE",
                 s->api_url, s->id, encr);
        char what[PS_GW_TITLE_MAX * 2 + 64];
        snprintf(what, sizeof what, "reading %s", range);
        free(range);
        free(encr);
        json_t *root = NULL;
        ps_gs_request rq = {.url = url, .what = what};
        ps_status st = ps_gs_client_get(&s->client, &rq, &root, err);
        free(url);
        if (st != PS_OK) {
            buf_free(&enc);
            return st;
        }
        json_t *vals = json_object_get(root, "values");
        size_t nv = json_is_array(vals) ? json_array_size(vals) : 0;
        for (size_t i = 0; i < nv && r1 + i <= r2; i++) {
            uint64_t r = r1 + i;
            json_t *row = json_array_get(vals, i);
            size_t nc = json_is_array(row) ? json_array_size(row) : 0;
            int mismatch = !json_is_array(row) || nc > GW_COLS;
            enc.n = 0;
            buf_add(&enc, "[", 1);
            for (size_t c = 0; c < GW_COLS && !mismatch; c++) {
                json_t *cell = c < nc ? json_array_get(row, c) : NULL;
                if (c)
                    buf_add(&enc, ",", 1);
                if (cell && !json_is_string(cell)) {
                    mismatch = 1; /* a number, date or boolean: we write text only */
                    break;
                }
                const char *v = cell ? json_string_value(cell) : "";
                char *q = malloc(ps_gw_json_bound(strlen(v)));
                if (!q) {
                    enc.oom = 1;
                    break;
                }
                buf_add(&enc, q, ps_gw_json_str(q, v, strlen(v)));
                free(q);
            }
            buf_add(&enc, "]", 1);
            if (enc.oom) {
                json_decref(root);
                buf_free(&enc);
                return ps_error_setf(err, PS_ERR_NOMEM, "out of memory");
            }
            size_t wl = 0;
            const char *w = row_at(s, t, r, &wl);
            int empty_now = nc == 0;
            if (r > want)
                t->chg[r] = !empty_now && (mismatch || strcmp(enc.p, empty_row) != 0);
            else
                t->chg[r] = mismatch || enc.n != wl || memcmp(enc.p, w, wl) != 0;
        }
        json_decref(root);
    }
    buf_free(&enc);
    t->nchanged = 0;
    t->inplace_bytes = 0;
    for (uint64_t r = 1; r <= t->nchg; r++)
        if (t->chg[r]) {
            size_t wl = 0;
            row_at(s, t, r, &wl);
            t->nchanged++;
            t->inplace_bytes += wl + 1;
            if (r == 1 || !t->chg[r - 1])
                t->inplace_bytes += strlen(t->title) * 2 + 96; /* a new range */
        }
    return PS_OK;
}

/* ---- writing ---------------------------------------------------------------------------- */

static const ps_gs_tab *meta_tab(const gw_sink *s, const char *title)
{
    for (size_t i = 0; i < s->meta.ntabs; i++)
        if (strcmp(s->meta.tabs[i].title, title) == 0)
            return &s->meta.tabs[i];
    return NULL;
}

static uint64_t grid_cells(const ps_gs_tab *t)
{
    return (uint64_t)t->row_count * t->col_count;
}

/* Google applied a batchUpdate adding tabs but its answer was lost (the connection dropped),
 * so the retry was refused: 400 "A sheet with the name ... already exists". */
static int add_answer_lost(const ps_error *err)
{
    return err->http_status == 400 && strstr(err->message, "already exists") != NULL;
}

/* Reads the metadata again and points each tab's `have` at its new entry. */
static ps_status refresh_meta(gw_sink *s, ps_error *err)
{
    ps_status st = fetch_meta(s, err);
    for (size_t i = 0; i < s->ntabs; i++)
        s->tabs[i].have = st == PS_OK ? meta_tab(s, s->tabs[i].title) : NULL;
    return st;
}

/* A grid tab title of at least rows x GW_COLS in the metadata just read, or NULL. */
static const ps_gs_tab *grid_at_least(const gw_sink *s, const char *title, uint64_t rows)
{
    const ps_gs_tab *m = meta_tab(s, title);
    return m && m->grid && m->row_count >= rows && m->col_count >= GW_COLS ? m : NULL;
}

/* Deletes temporary tabs a failed run left behind (one batchUpdate; none when there are
 * none). */
static ps_status drop_leftovers(gw_sink *s, ps_error *err)
{
    gw_buf b = {0};
    size_t n = 0;
    buf_str(&b, "{\"requests\":[");
    for (size_t i = 0; i < s->meta.ntabs; i++)
        if (strncmp(s->meta.tabs[i].title, GW_TMP_PREFIX, strlen(GW_TMP_PREFIX)) == 0) {
            buf_fmt(&b, "%s{\"deleteSheet\":{\"sheetId\":%" PRId64 "}}", n++ ? "," : "",
                    s->meta.tabs[i].sheet_id);
            s->host->log(s->env, PS_LOG_WARN,
                         "deleting tab '%s', left behind by a run that failed while writing",
                         s->meta.tabs[i].title);
        }
    buf_str(&b, "]}");
    ps_status st = PS_OK;
    if (n)
        st = post(s, ":batchUpdate", &b, "deleting temporary tabs of a failed run", NULL, err);
    buf_free(&b);
    if (st == PS_OK && n)
        st = fetch_meta(s, err);
    return st;
}

/* In place: one batchUpdate for new tabs and grids too small (when any), then every changed
 * row of every tab in one values:batchUpdate. */
static ps_status write_in_place(gw_sink *s, ps_error *err)
{
    gw_buf b = {0};
    size_t n = 0;
    buf_str(&b, "{\"requests\":[");
    for (size_t i = 0; i < s->ntabs; i++) {
        gw_tab *t = &s->tabs[i];
        if (!t->nchanged)
            continue;
        uint64_t rows = (uint64_t)t->n + 1;
        if (!t->have) {
            buf_str(&b, n++ ? "," : "");
            buf_str(&b, "{\"addSheet\":{\"properties\":{\"title\":");
            buf_json(&b, t->title);
            buf_fmt(&b, ",\"gridProperties\":{\"rowCount\":%" PRIu64 ",\"columnCount\":%d}}}}",
                    rows, GW_COLS);
        } else if (t->have->row_count < rows || t->have->col_count < GW_COLS) {
            buf_fmt(&b,
                    "%s{\"updateSheetProperties\":{\"properties\":{\"sheetId\":%" PRId64
                    ",\"gridProperties\":{\"rowCount\":%" PRIu64 ",\"columnCount\":%u}},"
                    "\"fields\":\"gridProperties.rowCount,gridProperties.columnCount\"}}",
                    n++ ? "," : "", t->have->sheet_id,
                    t->have->row_count > rows ? t->have->row_count : rows,
                    t->have->col_count > GW_COLS ? t->have->col_count : GW_COLS);
        }
    }
    buf_str(&b, "]}");
    ps_status st = PS_OK;
    if (n)
        st = post(s, ":batchUpdate", &b, "adding or growing tabs", NULL, err);
    buf_free(&b);
    if (st != PS_OK && add_answer_lost(err)) {
        /* the batch is applied whole or not at all: carry on when all of it is there */
        ps_error refused = *err;
        st = refresh_meta(s, err);
        for (size_t i = 0; i < s->ntabs && st == PS_OK; i++)
            if (s->tabs[i].nchanged &&
                !grid_at_least(s, s->tabs[i].title, (uint64_t)s->tabs[i].n + 1))
                st = PS_ERR_SINK;
        if (st != PS_OK) { /* not seen applied (or not seen at all): the refusal stands */
            *err = refused;
            return refused.code;
        }
        s->host->log(s->env, PS_LOG_INFO,
                     "adding or growing tabs: the answer was lost and the retry found the "
                     "tabs already added; carrying on");
    }
    if (st != PS_OK)
        return st;
    buf_str(&b, "{\"valueInputOption\":\"RAW\",\"data\":[");
    size_t nr = 0;
    for (size_t i = 0; i < s->ntabs; i++) {
        gw_tab *t = &s->tabs[i];
        for (uint64_t r = 1; r <= t->nchg; r++) {
            if (!t->chg[r])
                continue;
            uint64_t e = r;
            while (e + 1 <= t->nchg && t->chg[e + 1])
                e++;
            buf_str(&b, nr++ ? ",{\"range\":" : "{\"range\":");
            buf_range(&b, t->title, r, e);
            buf_str(&b, ",\"majorDimension\":\"ROWS\",\"values\":[");
            for (uint64_t k = r; k <= e; k++) {
                size_t wl = 0;
                const char *w = row_at(s, t, k, &wl);
                if (k > r)
                    buf_add(&b, ",", 1);
                buf_add(&b, w, wl);
            }
            buf_str(&b, "]}");
            r = e;
        }
    }
    buf_str(&b, "]}");
    st = post(s, "/values:batchUpdate", &b, "writing the changed rows", NULL, err);
    buf_free(&b);
    return st;
}

/* Rewrites tab t through a hidden temporary tab: addSheet, the rows in values:batchUpdate
 * requests under max_request_bytes, then one batchUpdate deleting the old tab and renaming
 * the temporary one in its place (Google applies a batchUpdate whole or not at all). */
static ps_status write_swap(gw_sink *s, gw_tab *t, size_t seq, ps_error *err)
{
    char tmp[64];
    snprintf(tmp, sizeof tmp, GW_TMP_PREFIX "%zu", seq);
    uint64_t rows = (uint64_t)t->n + 1;
    gw_buf b = {0};
    buf_str(&b, "{\"requests\":[{\"addSheet\":{\"properties\":{\"title\":");
    buf_json(&b, tmp);
    buf_fmt(&b,
            ",\"hidden\":true,\"gridProperties\":{\"rowCount\":%" PRIu64
            ",\"columnCount\":%d}}}}]}",
            rows, GW_COLS);
    char what[PS_GW_TITLE_MAX + 96];
    snprintf(what, sizeof what, "adding the temporary tab for '%s'", t->title);
    json_t *reply = NULL;
    ps_status st = post(s, ":batchUpdate", &b, what, &reply, err);
    buf_free(&b);
    int64_t tmp_id;
    if (st != PS_OK && add_answer_lost(err)) {
        /* leftovers were deleted before: a temporary tab of this name is the one just added */
        ps_error refused = *err;
        st = refresh_meta(s, err);
        const ps_gs_tab *m = st == PS_OK ? grid_at_least(s, tmp, rows) : NULL;
        if (!m || !m->hidden) {
            *err = refused;
            return refused.code;
        }
        s->host->log(s->env, PS_LOG_INFO,
                     "%s: the answer was lost and the retry found the tab already added; "
                     "carrying on",
                     what);
        tmp_id = m->sheet_id;
    } else {
        if (st != PS_OK)
            return st;
        json_t *id = json_object_get(
            json_object_get(
                json_object_get(json_array_get(json_object_get(reply, "replies"), 0), "addSheet"),
                "properties"),
            "sheetId");
        if (!json_is_integer(id)) {
            json_decref(reply);
            return ps_error_setf(err, PS_ERR_SINK, "%s: Google's answer has no sheetId", what);
        }
        tmp_id = (int64_t)json_integer_value(id);
        json_decref(reply);
    }
    snprintf(what, sizeof what, "writing the rows of '%s'", t->title);
    for (uint64_t r = 1; r <= rows && st == PS_OK;) {
        gw_buf vals = {0};
        uint64_t e = r;
        for (; e <= rows; e++) {
            size_t wl = 0;
            const char *w = row_at(s, t, e, &wl);
            if (e > r && vals.n + wl + 512 > (size_t)s->max_request_bytes)
                break;
            if (e > r)
                buf_add(&vals, ",", 1);
            buf_add(&vals, w, wl);
        }
        buf_str(&b, "{\"valueInputOption\":\"RAW\",\"data\":[{\"range\":");
        buf_range(&b, tmp, r, e - 1);
        buf_str(&b, ",\"majorDimension\":\"ROWS\",\"values\":[");
        buf_add(&b, vals.p ? vals.p : "", vals.n);
        buf_str(&b, "]}]}");
        b.oom |= vals.oom;
        buf_free(&vals);
        st = post(s, "/values:batchUpdate", &b, what, NULL, err);
        buf_free(&b);
        r = e;
    }
    if (st != PS_OK)
        return st;
    /* shown first (Google refuses to delete the last visible tab), then the old tab goes
     * and the temporary one takes its name and place */
    buf_fmt(&b,
            "{\"requests\":[{\"updateSheetProperties\":{\"properties\":{\"sheetId\":%" PRId64
            ",\"hidden\":false},\"fields\":\"hidden\"}},",
            tmp_id);
    if (t->have)
        buf_fmt(&b, "{\"deleteSheet\":{\"sheetId\":%" PRId64 "}},", t->have->sheet_id);
    buf_fmt(&b, "{\"updateSheetProperties\":{\"properties\":{\"sheetId\":%" PRId64 ",\"title\":",
            tmp_id);
    buf_json(&b, t->title);
    if (t->have)
        buf_fmt(&b, ",\"index\":%" PRId64, t->have->index);
    buf_fmt(&b, "},\"fields\":\"title%s\"}}]}", t->have ? ",index" : "");
    snprintf(what, sizeof what, "putting the new '%s' in place", t->title);
    st = post(s, ":batchUpdate", &b, what, NULL, err);
    buf_free(&b);
    return st;
}

/* ---- lifecycle --------------------------------------------------------------------------- */

static void gw_destroy(void *inst)
{
    gw_sink *s = inst;
    if (!s)
        return;
    tabs_free(s);
    ps_gs_client_free(&s->client);
    free(s->name);
    free(s->api_url);
    free(s->tmpl);
    free(s->header);
    free(s->dataset);
    free(s);
}

static ps_status gw_create(const ps_plugin_ctx *ctx, void **inst, ps_error *err)
{
    const ps_host *h = ctx->host;
    const ps_options *o = ctx->options;
    const char *nm = ctx->instance_name;
    gw_sink *s = calloc(1, sizeof *s);
    if (!s)
        return ps_error_setf(err, PS_ERR_NOMEM, "out of memory");
    s->host = h;
    s->env = ctx->env;
    ps_gs_sakey sa = {0};
    char *token_url = NULL;
    ps_status st = PS_OK;
    /* the sink's name in the config ("sink sheet" -> "sheet"), for hints */
    s->name = strdup(strncmp(nm, "sink ", 5) == 0 ? nm + 5 : nm);
    const char *ref = h->opt_string(o, "spreadsheet_id");
    int64_t gid = -1;
    int rc = ps_gs_parse_sheet_ref(ref ? ref : "", s->id, sizeof s->id, &gid);
    if (rc != 0) {
        st = ps_error_setf(err, PS_ERR_CONFIG,
                           "sink '%s': spreadsheet_id '%.120s' is neither a spreadsheet ID nor a "
                           "Google Sheets URL (docs.google.com/spreadsheets/d/ID/edit)",
                           nm, ref ? ref : "");
        goto fail;
    }
    const char *tmpl = h->opt_string(o, "tab");
    char bad[32], sample[PS_GW_TITLE_MAX + 1];
    if (!tmpl || !*tmpl || ps_gw_tmpl_check(tmpl, bad) != 0) {
        st = ps_error_setf(err, PS_ERR_CONFIG,
                           "sink '%s': option 'tab' has an unknown placeholder '%s' (known: "
                           "{dataset}, {month})",
                           nm, tmpl && *tmpl ? bad : "(empty template)");
        goto fail;
    }
    if (!ps_gw_tab_title(tmpl, "dataset", "2024-01-31T00:00:00.000Z", sample) ||
        strncmp(sample, GW_TMP_PREFIX, strlen(GW_TMP_PREFIX)) == 0) {
        st = ps_error_setf(err, PS_ERR_CONFIG,
                           "sink '%s': option 'tab' gives tab names longer than %d characters "
                           "or starting with '" GW_TMP_PREFIX "'",
                           nm, PS_GW_TITLE_MAX);
        goto fail;
    }
    s->tmpl = strdup(tmpl);
    s->max_cells = h->opt_int(o, "max_cells");
    s->max_request_bytes = h->opt_int(o, "max_request_bytes");
    s->page_rows = h->opt_int(o, "page_rows");
    s->api_url = strdup(h->opt_string(o, "api_url"));
    const char *tu = h->opt_string(o, "token_url");
    token_url = tu && *tu ? strdup(tu) : NULL;
    s->header = ps_gw_header_row(h, &s->header_len);
    if (!s->name || !s->tmpl || !s->api_url || !s->header || (tu && *tu && !token_url)) {
        st = ps_error_setf(err, PS_ERR_NOMEM, "out of memory");
        goto fail;
    }
    if ((st = ps_gs_check_url("api_url", s->api_url, err)) != PS_OK ||
        (token_url && (st = ps_gs_check_url("token_url", token_url, err)) != PS_OK))
        goto fail;
    const char *kf = h->opt_string(o, "service_account_file");
    const char *kj = h->opt_string(o, "service_account_json");
    int has_file = kf && *kf, has_json = kj && *kj;
    if (has_file + has_json != 1) {
        st = ps_error_setf(err, PS_ERR_CONFIG,
                           "sink '%s': set exactly one of service_account_file and "
                           "service_account_json (%s)",
                           nm, has_file ? "both are set" : "none is set");
        goto fail;
    }
    if ((st = ps_gs_sakey_from_options(ctx, has_file, &sa, err)) != PS_OK)
        goto fail;
    int64_t timeout_ms = h->opt_int(o, "timeout");
    ps_gs_client_cfg cfg = {.mode = PS_GS_AUTH_SERVICE_ACCOUNT,
                            .sa = &sa,
                            .token_url = token_url,
                            .timeout_s = (long)((timeout_ms + 999) / 1000),
                            .max_retries = (int)h->opt_int(o, "max_retries"),
                            .requests_per_minute = (int)h->opt_int(o, "requests_per_minute"),
                            .scope = PS_GS_SCOPE_WRITE};
    st = ps_gs_client_init(&s->client, ctx, &cfg, err);
    if (st != PS_OK)
        goto fail;
    s->client.ectx.spreadsheet_id = s->id;
    s->client.ectx.write = 1;
    free(token_url);
    ps_gs_sakey_free(&sa);
    *inst = s;
    return PS_OK;
fail:
    free(token_url);
    ps_gs_sakey_free(&sa);
    gw_destroy(s);
    return st != PS_OK ? st : PS_ERR_NOMEM;
}

static ps_status gw_check(void *inst, ps_error *err)
{
    gw_sink *s = inst;
    ps_status st = fetch_meta(s, err);
    ps_gs_meta_free(&s->meta);
    memset(&s->meta, 0, sizeof s->meta);
    return st;
}

static ps_status gw_open(void *inst, const ps_sink_open_args *args, ps_error *err)
{
    gw_sink *s = inst;
    free(s->dataset);
    s->dataset = strdup(args->dataset);
    s->run_records = 0;
    if (!s->dataset)
        return ps_error_setf(err, PS_ERR_NOMEM, "out of memory");
    return PS_OK;
}

static ps_status gw_write_batch(void *inst, const ps_record_batch *batch, ps_error *err)
{
    gw_sink *s = inst;
    (void)err;
    s->run_records += batch->count; /* the tabs are built from the store at commit */
    return PS_OK;
}

static void fmt_count(uint64_t v, char *out, size_t cap)
{
    char d[32];
    int n = snprintf(d, sizeof d, "%" PRIu64, v);
    size_t k = 0;
    for (int i = 0; i < n && k + 2 < cap; i++) {
        if (i && (n - i) % 3 == 0)
            out[k++] = ',';
        out[k++] = d[i];
    }
    out[k] = '\0';
}

static ps_status capacity_error(gw_sink *s, uint64_t need, int more, ps_error *err)
{
    char n1[32], n2[32], n3[32];
    fmt_count(need, n1, sizeof n1);
    fmt_count((uint64_t)s->max_cells, n2, sizeof n2);
    fmt_count((uint64_t)s->max_cells / GW_COLS, n3, sizeof n3);
    return ps_error_setf(err, PS_ERR_DATA,
                         "dataset '%s': spreadsheet %s would need %s%s cells, over the limit of "
                         "%s cells per spreadsheet (about %s rows of %d columns); nothing was "
                         "written: use monthly tabs (tab: \"{month}_{dataset}\") or a second "
                         "spreadsheet",
                         s->dataset, s->id, more ? "more than " : "", n1, n2, n3, GW_COLS);
}

static ps_status sync(gw_sink *s, const ps_commit_info *info, ps_error *err)
{
    ps_status st = info->stored_payments(info, collect, s, err);
    if (s->oom)
        return ps_error_setf(err, PS_ERR_NOMEM, "out of memory");
    if (s->bad_title)
        return ps_error_setf(err, PS_ERR_CONFIG,
                             "dataset '%s': the tab template gives a name longer than %d "
                             "characters",
                             s->dataset, PS_GW_TITLE_MAX);
    if (st != PS_OK)
        return st;
    if (s->over)
        return capacity_error(s, s->cells, 0, err);
    if ((st = fetch_meta(s, err)) != PS_OK || (st = drop_leftovers(s, err)) != PS_OK)
        return st;
    if (!strstr(s->tmpl, "{month}")) { /* one tab, even for a dataset without payments */
        char title[PS_GW_TITLE_MAX + 1];
        if (ps_gw_tab_title(s->tmpl, s->dataset, NULL, title) && !tab_find(s, title, 1))
            return ps_error_setf(err, PS_ERR_NOMEM, "out of memory");
    }
    /* the dataset's tabs that hold no payment now keep only their header */
    for (size_t i = 0; i < s->meta.ntabs; i++) {
        const char *title = s->meta.tabs[i].title;
        if (s->meta.tabs[i].grid && ps_gw_tab_matches(s->tmpl, s->dataset, title) &&
            !tab_find(s, title, 0) && !tab_find(s, title, 1))
            return ps_error_setf(err, PS_ERR_NOMEM, "out of memory");
    }
    for (size_t i = 0; i < s->ntabs; i++) {
        gw_tab *t = &s->tabs[i];
        t->have = meta_tab(s, t->title);
        if (t->have && !t->have->grid)
            return ps_error_setf(err, PS_ERR_SINK,
                                 "dataset '%s': tab '%s' of spreadsheet %s is not a grid (a "
                                 "chart or object sheet); rename it or change the tab template",
                                 s->dataset, t->title, s->id);
        if ((st = diff_tab(s, t, err)) != PS_OK)
            return st;
    }
    uint64_t total = 0, peak = 0, inplace_total = 0, changed_tabs = 0, rows_written = 0;
    for (size_t i = 0; i < s->meta.ntabs; i++)
        total += grid_cells(&s->meta.tabs[i]);
    size_t inplace_bytes = 64;
    for (size_t i = 0; i < s->ntabs; i++)
        if (s->tabs[i].nchanged) {
            inplace_bytes += s->tabs[i].inplace_bytes;
            changed_tabs++;
        }
    int in_place = inplace_bytes <= (size_t)s->max_request_bytes;
    /* cells after the writes (in place), or at the fullest moment (a temporary tab beside the
     * old one) */
    inplace_total = total;
    peak = total;
    uint64_t swap_total = total;
    for (size_t i = 0; i < s->ntabs; i++) {
        gw_tab *t = &s->tabs[i];
        if (!t->nchanged)
            continue;
        uint64_t rows = (uint64_t)t->n + 1;
        uint64_t old = t->have ? grid_cells(t->have) : 0;
        uint64_t grown = t->have ? (t->have->row_count > rows ? t->have->row_count : rows) *
                                       (t->have->col_count > GW_COLS ? t->have->col_count : GW_COLS)
                                 : rows * GW_COLS;
        inplace_total = inplace_total - old + grown;
        if (swap_total + rows * GW_COLS > peak)
            peak = swap_total + rows * GW_COLS;
        swap_total = swap_total - old + rows * GW_COLS;
    }
    uint64_t need = in_place ? inplace_total : peak;
    if (need > (uint64_t)s->max_cells)
        return capacity_error(s, need, 0, err);
    if (!changed_tabs) {
        s->host->log(s->env, PS_LOG_INFO,
                     "dataset '%s': %zu tab(s) of spreadsheet %s already hold its %" PRIu64
                     " payments; nothing written",
                     s->dataset, s->ntabs, s->id, s->payments);
        return PS_OK;
    }
    if (in_place) {
        st = write_in_place(s, err);
        for (size_t i = 0; i < s->ntabs; i++)
            rows_written += s->tabs[i].nchanged;
    } else {
        size_t seq = 0;
        for (size_t i = 0; i < s->ntabs && st == PS_OK; i++)
            if (s->tabs[i].nchanged) {
                st = write_swap(s, &s->tabs[i], ++seq, err);
                rows_written += (uint64_t)s->tabs[i].n + 1;
            }
    }
    if (st != PS_OK)
        return st;
    s->host->log(s->env, PS_LOG_INFO,
                 "dataset '%s': %" PRIu64 " payments in %zu tab(s) of spreadsheet %s; %" PRIu64
                 " tab(s) updated %s (%" PRIu64 " rows written) in %" PRIu64 " write requests",
                 s->dataset, s->payments, s->ntabs, s->id, changed_tabs,
                 in_place ? "in place" : "through a temporary tab", rows_written, s->writes);
    return PS_OK;
}

static ps_status gw_commit(void *inst, const ps_commit_info *info, ps_change_counts *changes,
                           ps_error *err)
{
    gw_sink *s = inst;
    if (changes)
        changes->valid = 0;
    if (!s->dataset)
        return ps_error_setf(err, PS_ERR_INTERNAL, "gsheet_writer: commit without open");
    if (!PS_HAS_MEMBER(ps_commit_info, stored_payments, info->struct_size) ||
        !info->stored_payments)
        return ps_error_setf(err, PS_ERR_CONFIG,
                             "dataset '%s' writes to no store: gsheet_writer keeps the sheet "
                             "equal to the store's payments, so list a store sink before it "
                             "(sinks: [store, %s])",
                             s->dataset, s->name);
    s->writes = 0;
    s->client.ectx.tab = NULL;
    s->client.ectx.tabs = NULL;
    ps_status st = sync(s, info, err);
    tabs_free(s);
    return st;
}

static void gw_abort(void *inst, const char *reason)
{
    (void)reason;
    tabs_free(inst);
}

static const ps_option_spec gw_options[] = {
    {.name = "spreadsheet_id",
     .type = PS_OPT_STRING,
     .required = 1,
     .description = "spreadsheet ID, or the sheet's URL"},
    {.name = "tab",
     .type = PS_OPT_STRING,
     .default_value = "{dataset}",
     .description = "tab name template: {dataset}, {month} (01_2024)"},
    {.name = "service_account_file",
     .type = PS_OPT_PATH,
     .description = "service-account key JSON file (the sheet is shared with its client_email)"},
    {.name = "service_account_json",
     .type = PS_OPT_STRING,
     .secret = 1,
     .description = "service-account key JSON itself"},
    {.name = "max_cells",
     .type = PS_OPT_INT,
     .default_value = "10000000",
     .flags = PS_OPTF_RANGE,
     .min = 1000,
     .max = 10000000,
     .description = "cells a spreadsheet may hold (Google: 10,000,000)"},
    {.name = "max_request_bytes",
     .type = PS_OPT_SIZE,
     .default_value = "8MB",
     .flags = PS_OPTF_RANGE,
     .min = 4096,
     .max = 10000000,
     .description = "largest write request body (Google: 10 MB)"},
    {.name = "page_rows",
     .type = PS_OPT_INT,
     .default_value = "10000",
     .flags = PS_OPTF_RANGE,
     .min = 10,
     .max = 50000,
     .description = "rows per read of a tab's current values"},
    {.name = "requests_per_minute",
     .type = PS_OPT_INT,
     .default_value = "60",
     .flags = PS_OPTF_RANGE,
     .min = 1,
     .max = 6000,
     .description = "request pacing (Google allows 60 writes per minute per user)"},
    {.name = "timeout",
     .type = PS_OPT_DURATION,
     .default_value = "180s",
     .flags = PS_OPTF_RANGE | PS_OPTF_PLAIN_SECONDS,
     .min = 1000,
     .max = 3600000,
     .description = "how long one request may take"},
    {.name = "max_retries",
     .type = PS_OPT_INT,
     .default_value = "5",
     .flags = PS_OPTF_RANGE,
     .min = 0,
     .max = 20,
     .description = "retries of 429/5xx/transport errors"},
    {.name = "api_url",
     .type = PS_OPT_STRING,
     .default_value = "https://sheets.googleapis.com",
     .description = "Sheets API base URL"},
    {.name = "token_url",
     .type = PS_OPT_STRING,
     .description = "OAuth token URL; default: the key's token_uri"},
    {0},
};

static const ps_sink_ops gw_ops = {
    .struct_size = sizeof(ps_sink_ops),
    .open = gw_open,
    .write_batch = gw_write_batch,
    .commit = gw_commit,
    .abort = gw_abort,
};

static const ps_plugin_descriptor gw_descriptor = {
    .struct_size = sizeof(ps_plugin_descriptor),
    .abi_major = PS_ABI_MAJOR,
    .abi_minor = PS_ABI_MINOR,
    .name = "gsheet_writer",
    .version = "1.0.0",
    .description = "keeps Google Sheet tabs equal to the store's payments (Odyssey's sheet shape)",
    .kind = PS_PLUGIN_SINK,
    .flags = PS_SINK_AFTER_STORE,
    .options = gw_options,
    .option_spec_size = sizeof(ps_option_spec),
    .create = gw_create,
    .check = gw_check,
    .destroy = gw_destroy,
    .sink = &gw_ops,
};

PS_PLUGIN_DEFINE(gsheet_writer, gw_descriptor)
