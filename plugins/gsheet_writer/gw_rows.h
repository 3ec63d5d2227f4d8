/* gsheet_writer: tab names from the tab template, and payments as Sheets rows (JSON arrays of
 * the 21 Electricity Payments cells, as values.update sends them with valueInputOption RAW). */
#ifndef PS_GW_ROWS_H
#define PS_GW_ROWS_H

#include <stddef.h>

#include "paysync/plugin.h"

/* Longest tab title Google accepts, in bytes here (Google counts characters: 100). */
#define PS_GW_TITLE_MAX 100

/* Checks a tab template: only {dataset} and {month} placeholders. Returns 0, or -1 with the
 * unknown placeholder in bad (32 bytes). */
int ps_gw_tmpl_check(const char *tmpl, char *bad);

/* Expands tmpl for dataset and a canonical TIMESTAMP text ("2024-01-31T..."): {month} is
 * "01_2024" (month_year, as Odyssey names datasets), {dataset} the name. Returns the length,
 * or 0 when the result is empty or longer than PS_GW_TITLE_MAX (out has PS_GW_TITLE_MAX + 1
 * bytes). */
size_t ps_gw_tab_title(const char *tmpl, const char *dataset, const char *timestamp, char *out);

/* 1 when title could have come from tmpl for dataset (any {month}: two digits 01-12, '_',
 * four digits): the tabs this dataset owns in the spreadsheet. */
int ps_gw_tab_matches(const char *tmpl, const char *dataset, const char *title);

/* Appends s[0..n) as a JSON string (quotes included; '"', '\\' and control bytes escaped) to
 * out, which has room for ps_gw_json_bound(n) bytes. Returns the bytes written. */
size_t ps_gw_json_str(char *out, const char *s, size_t n);
#define ps_gw_json_bound(n) (6 * (size_t)(n) + 2)

/* The row of rec ("[\"ID\",\"2024-...\",...]": 21 strings, "" for an absent field), malloc'd
 * and NUL-terminated; its length in *len. NULL when out of memory. */
char *ps_gw_record_row(const ps_record *rec, size_t *len);

/* The header row (the 21 field names), as above. */
char *ps_gw_header_row(const ps_host *host, size_t *len);

#endif
