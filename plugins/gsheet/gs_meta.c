/* gsheet: spreadsheet metadata (tabs, sizes, time zone) and tab selection. */
#include "gs_meta.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gs_encode.h"

static char *str_or_null(const json_t *o, const char *k)
{
    const json_t *v = json_object_get(o, k);
    return json_is_string(v) ? strdup(json_string_value(v)) : NULL;
}

static int64_t int_or(const json_t *o, const char *k, int64_t dflt)
{
    const json_t *v = json_object_get(o, k);
    return json_is_integer(v) ? (int64_t)json_integer_value(v) : dflt;
}

ps_status ps_gs_meta_from_json(const json_t *root, ps_gs_meta *out, ps_error *err)
{
    memset(out, 0, sizeof *out);
    const json_t *props = json_object_get(root, "properties");
    const json_t *sheets = json_object_get(root, "sheets");
    if (!json_is_array(sheets))
        return ps_error_setf(err, PS_ERR_SOURCE,
                             "reading metadata: Google's answer lists no tabs ('sheets' missing)");
    out->title = str_or_null(props, "title");
    out->time_zone = str_or_null(props, "timeZone");
    out->locale = str_or_null(props, "locale");
    size_t n = json_array_size(sheets);
    out->tabs = calloc(n ? n : 1, sizeof *out->tabs);
    if (!out->tabs)
        return ps_error_setf(err, PS_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) {
        const json_t *p = json_object_get(json_array_get(sheets, i), "properties");
        const json_t *title = json_object_get(p, "title");
        if (!json_is_object(p) || !json_is_string(title)) {
            ps_gs_meta_free(out);
            return ps_error_setf(err, PS_ERR_SOURCE,
                                 "reading metadata: tab %zu has no title in Google's answer", i);
        }
        ps_gs_tab *t = &out->tabs[out->ntabs++];
        t->title = strdup(json_string_value(title));
        if (!t->title) {
            ps_gs_meta_free(out);
            return ps_error_setf(err, PS_ERR_NOMEM, "out of memory");
        }
        t->sheet_id = int_or(p, "sheetId", 0);
        t->index = int_or(p, "index", (int64_t)i);
        const json_t *type = json_object_get(p, "sheetType");
        t->grid = !json_is_string(type) || strcmp(json_string_value(type), "GRID") == 0;
        t->hidden = json_is_true(json_object_get(p, "hidden"));
        const json_t *gp = json_object_get(p, "gridProperties");
        int64_t rc = int_or(gp, "rowCount", 0), cc = int_or(gp, "columnCount", 0);
        t->row_count = rc > 0 ? (uint64_t)rc : 0;
        t->col_count = cc > 0 ? (cc > 18278 ? 18278u : (uint32_t)cc) : 0;
    }
    return PS_OK;
}

void ps_gs_meta_free(ps_gs_meta *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->ntabs; i++)
        free(m->tabs[i].title);
    free(m->tabs);
    free(m->title);
    free(m->time_zone);
    free(m->locale);
    memset(m, 0, sizeof *m);
}

char *ps_gs_meta_tab_list(const ps_gs_meta *m)
{
    size_t cap = 16;
    for (size_t i = 0; i < m->ntabs; i++)
        cap += strlen(m->tabs[i].title) + 48;
    char *s = malloc(cap);
    if (!s)
        return NULL;
    size_t p = 0;
    s[0] = '\0';
    for (size_t i = 0; i < m->ntabs; i++)
        p +=
            (size_t)snprintf(s + p, cap - p, "%s'%s' (gid %lld%s)", i ? ", " : "", m->tabs[i].title,
                             (long long)m->tabs[i].sheet_id, m->tabs[i].grid ? "" : ", not a grid");
    if (m->ntabs == 0)
        snprintf(s, cap, "(none)");
    return s;
}

static int parse_gid_text(const char *s, int64_t *out)
{
    if (*s == '#')
        s++;
    if (strncmp(s, "gid=", 4) == 0)
        s += 4;
    if (!*s)
        return 0;
    int64_t v = 0;
    for (; *s; s++) {
        if (*s < '0' || *s > '9' || v > (INT64_MAX - 9) / 10)
            return 0;
        v = v * 10 + (*s - '0');
    }
    *out = v;
    return 1;
}

static ps_status not_grid(const ps_gs_tab *t, ps_error *err)
{
    return ps_error_setf(err, PS_ERR_SOURCE,
                         "tab '%s' is not a grid of cells (a chart or object sheet): pick a tab "
                         "that holds the payments table",
                         t->title);
}

ps_status ps_gs_meta_pick(const ps_gs_meta *m, const char *sheet, int64_t url_gid,
                          const ps_gs_tab **out, ps_error *err)
{
    *out = NULL;
    int64_t gid = -1;
    if (sheet && *sheet) {
        for (size_t i = 0; i < m->ntabs; i++)
            if (strcmp(m->tabs[i].title, sheet) == 0) {
                *out = &m->tabs[i];
                break;
            }
        if (!*out && !parse_gid_text(sheet, &gid))
            gid = -2;
    } else {
        gid = url_gid;
    }
    if (!*out && gid >= 0) {
        for (size_t i = 0; i < m->ntabs; i++)
            if (m->tabs[i].sheet_id == gid) {
                *out = &m->tabs[i];
                break;
            }
    }
    if (!*out && (gid >= 0 || gid == -2)) {
        char *list = ps_gs_meta_tab_list(m);
        ps_status st;
        if (gid >= 0 && !(sheet && *sheet))
            st = ps_error_setf(err, PS_ERR_SOURCE,
                               "the sheet URL names gid %lld, but spreadsheet '%s' has no such "
                               "tab; the tabs are: %s",
                               (long long)gid, m->title ? m->title : "?", list ? list : "?");
        else
            st = ps_error_setf(err, PS_ERR_SOURCE,
                               "no tab '%s' in spreadsheet '%s' (sheet: takes a tab title or a "
                               "gid); the tabs are: %s",
                               sheet, m->title ? m->title : "?", list ? list : "?");
        free(list);
        return st;
    }
    if (*out)
        return (*out)->grid ? PS_OK : not_grid(*out, err);
    const ps_gs_tab *best = NULL;
    for (size_t i = 0; i < m->ntabs; i++)
        if (m->tabs[i].grid && (!best || m->tabs[i].index < best->index))
            best = &m->tabs[i];
    if (!best)
        return ps_error_setf(err, PS_ERR_SOURCE, "spreadsheet '%s' has no grid tab to read",
                             m->title ? m->title : "?");
    *out = best;
    return PS_OK;
}

ps_status ps_gs_meta_fetch(ps_gs_client *c, const char *api_url, const char *id, ps_gs_meta *out,
                           ps_error *err)
{
    ps_gs_meta_free(out);
    char *fields = ps_gs_pct_encode(PS_GS_META_FIELDS);
    size_t n = strlen(api_url) + strlen(id) + (fields ? strlen(fields) : 0) + 48;
    char *url = malloc(n);
    if (!fields || !url) {
        free(fields);
        free(url);
        return ps_error_setf(err, PS_ERR_NOMEM, "out of memory");
    }
    snprintf(url, n, "%s/v4/spreadsheets/%s?fields=%s", api_url, id, fields);
    free(fields);
    json_t *root = NULL;
    ps_gs_request r = {.url = url, .what = "reading the spreadsheet's metadata"};
    ps_status st = ps_gs_client_get(c, &r, &root, err);
    free(url);
    if (st != PS_OK)
        return st;
    st = ps_gs_meta_from_json(root, out, err);
    json_decref(root);
    return st;
}
