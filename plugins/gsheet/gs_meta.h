/* gsheet: spreadsheet metadata (tabs, sizes, time zone) and tab selection. */
#ifndef PS_GS_META_H
#define PS_GS_META_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "gs_client.h"
#include "paysync/status.h"

/* The metadata request's field mask (URL-encode before use). */
#define PS_GS_META_FIELDS                                                                          \
    "spreadsheetId,properties(title,locale,timeZone),sheets(properties(sheetId,title,index,"       \
    "sheetType,hidden,gridProperties(rowCount,columnCount,frozenRowCount)))"

typedef struct ps_gs_tab {
    char *title;
    int64_t sheet_id; /* the URL's gid */
    int64_t index;
    int grid; /* sheetType GRID (or absent) */
    int hidden;
    uint64_t row_count;
    uint32_t col_count;
} ps_gs_tab;

typedef struct ps_gs_meta {
    char *title;
    char *time_zone; /* IANA name or NULL */
    char *locale;
    ps_gs_tab *tabs;
    size_t ntabs;
} ps_gs_meta;

/* Reads a metadata response. Errors: PS_ERR_SOURCE when `sheets` is missing or malformed,
 * PS_ERR_NOMEM. Free with ps_gs_meta_free. */
ps_status ps_gs_meta_from_json(const json_t *root, ps_gs_meta *out, ps_error *err);
void ps_gs_meta_free(ps_gs_meta *m);

/* GETs the metadata of spreadsheet id from api_url (PS_GS_META_FIELDS only) through c, with
 * its retries and messages, into *out (freed first; free with ps_gs_meta_free). Errors: those
 * of ps_gs_client_get and ps_gs_meta_from_json, PS_ERR_NOMEM. */
ps_status ps_gs_meta_fetch(ps_gs_client *c, const char *api_url, const char *id, ps_gs_meta *out,
                           ps_error *err);

/* Picks the tab: `sheet` as an exact title, else as a gid ("123", "gid=123", "#gid=123"); when
 * sheet is NULL/empty, the URL's gid (>= 0) or else the first GRID tab by index. Errors
 * (PS_ERR_SOURCE): no such tab (message lists the tabs), the tab is not a grid, no grid tab. */
ps_status ps_gs_meta_pick(const ps_gs_meta *m, const char *sheet, int64_t url_gid,
                          const ps_gs_tab **out, ps_error *err);

/* "'Sheet1' (gid 0), 'Payments' (gid 123)": malloc'd list for messages, NULL on OOM. */
char *ps_gs_meta_tab_list(const ps_gs_meta *m);

#endif
