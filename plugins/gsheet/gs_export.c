/* gsheet: the public CSV export (no credentials) downloaded to an unlinked temporary file. */
#include "gs_export.h"

#include <stdlib.h>
#include <string.h>

ps_status ps_gs_export_download(ps_gs_client *c, const char *export_url, const char *id,
                                int64_t gid, FILE **out, ps_error *err)
{
    *out = NULL;
    size_t n = strlen(export_url) + strlen(id) + 96;
    char *url = malloc(n);
    if (!url)
        return ps_error_setf(err, PS_ERR_NOMEM, "out of memory");
    if (gid >= 0)
        snprintf(url, n, "%s/spreadsheets/d/%s/export?format=csv&gid=%lld", export_url, id,
                 (long long)gid);
    else
        snprintf(url, n, "%s/spreadsheets/d/%s/export?format=csv", export_url, id);
    FILE *f = tmpfile();
    if (!f) {
        free(url);
        return ps_error_setf(err, PS_ERR_IO,
                             "cannot create a temporary file for the CSV export (check TMPDIR)");
    }
    char what[200];
    snprintf(what, sizeof what, "downloading the CSV export of spreadsheet %s", id);
    ps_gs_request r = {
        .url = url, .what = what, .expect = PS_GS_EXPECT_CSV, .file = f, .follow = 1};
    ps_status st = ps_gs_client_get(c, &r, NULL, err);
    free(url);
    if (st != PS_OK) {
        fclose(f);
        return st;
    }
    rewind(f);
    *out = f;
    return PS_OK;
}

long ps_gs_file_read(void *ctx, char *buf, size_t cap)
{
    FILE *f = ctx;
    size_t n = fread(buf, 1, cap, f);
    if (n == 0 && ferror(f))
        return -1;
    return (long)n;
}
