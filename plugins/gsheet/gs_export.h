/* gsheet: the public CSV export (no credentials) downloaded to an unlinked temporary file. */
#ifndef PS_GS_EXPORT_H
#define PS_GS_EXPORT_H

#include <stdint.h>
#include <stdio.h>

#include "gs_client.h"

/* Downloads {export_url}/spreadsheets/d/{id}/export?format=csv[&gid=N] (gid < 0: none),
 * following redirects and requiring Content-Type text/csv. *out is a temporary file positioned
 * at its start (caller fcloses; it vanishes then). Errors: see ps_gs_client_get; an HTML
 * sign-in page is PS_ERR_AUTH saying the sheet is not link-readable; PS_ERR_IO when no
 * temporary file can be made. */
ps_status ps_gs_export_download(ps_gs_client *c, const char *export_url, const char *id,
                                int64_t gid, FILE **out, ps_error *err);

/* Pull callback for host->csv_new over a FILE* (ctx). Returns bytes read, 0 at EOF, -1 on
 * error. */
long ps_gs_file_read(void *ctx, char *buf, size_t cap);

#endif
