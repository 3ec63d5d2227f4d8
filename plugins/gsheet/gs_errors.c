/* gsheet: turns Google error responses into messages a user can act on. */
#include "gs_errors.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

int ps_gs_looks_html(const char *content_type, const char *body, size_t len)
{
    if (content_type && strstr(content_type, "html"))
        return 1;
    size_t i = 0;
    while (i < len && (body[i] == ' ' || body[i] == '\n' || body[i] == '\r' || body[i] == '\t'))
        i++;
    return len - i >= 5 &&
           (strncasecmp(body + i, "<!doc", 5) == 0 || strncasecmp(body + i, "<html", 5) == 0);
}

/* Google's {"error": {"code", "message", "status"}} or OAuth {"error", "error_description"}. */
typedef struct gerr {
    char message[400];
    char status[64];
} gerr;

static void copy_trunc(char *dst, size_t cap, const char *src)
{
    size_t n = strlen(src);
    if (n >= cap) {
        n = cap - 4;
        memcpy(dst, src, n);
        memcpy(dst + n, "...", 4);
    } else {
        memcpy(dst, src, n + 1);
    }
    for (char *p = dst; *p; p++)
        if (*p == '\n' || *p == '\r')
            *p = ' ';
}

static int parse_gerr(const char *body, size_t len, gerr *g)
{
    g->message[0] = g->status[0] = '\0';
    if (!body || len == 0)
        return 0;
    json_t *root = json_loadb(body, len, 0, NULL);
    if (!root)
        return 0;
    json_t *e = json_object_get(root, "error");
    int ok = 0;
    if (json_is_object(e)) {
        json_t *m = json_object_get(e, "message"), *s = json_object_get(e, "status");
        if (json_is_string(m))
            copy_trunc(g->message, sizeof g->message, json_string_value(m));
        if (json_is_string(s))
            copy_trunc(g->status, sizeof g->status, json_string_value(s));
        ok = 1;
    } else if (json_is_string(e)) {
        json_t *d = json_object_get(root, "error_description");
        copy_trunc(g->status, sizeof g->status, json_string_value(e));
        if (json_is_string(d))
            copy_trunc(g->message, sizeof g->message, json_string_value(d));
        ok = 1;
    }
    json_decref(root);
    return ok;
}

void ps_gs_error_brief(const char *body, size_t len, char *out, size_t cap)
{
    gerr g;
    out[0] = '\0';
    if (cap > 0 && parse_gerr(body, len, &g))
        snprintf(out, cap, "%s: %s", g.status, g.message);
}

/* Digits of the project number in "... in project 123456 before ...", or "". */
static void project_number(const char *msg, char out[32])
{
    out[0] = '\0';
    const char *p = strstr(msg, "project ");
    if (!p)
        return;
    p += 8;
    size_t n = 0;
    while (p[n] >= '0' && p[n] <= '9' && n < 31) {
        out[n] = p[n];
        n++;
    }
    out[n] = '\0';
}

ps_status ps_gs_map_error(long status, const char *content_type, const char *body, size_t len,
                          const ps_gs_err_ctx *ctx, ps_error *err)
{
    const char *what = ctx->what ? ctx->what : "calling the Google Sheets API";
    const char *id = ctx->spreadsheet_id ? ctx->spreadsheet_id : "?";
    gerr g;
    int is_json = parse_gerr(body, len, &g);

    if (!is_json && status != 403 && status != 404 && ps_gs_looks_html(content_type, body, len))
        return ps_error_setf(err, status == 429 || status >= 500 ? PS_ERR_NETWORK : PS_ERR_SOURCE,
                             "%s: got an HTML page (HTTP %ld) where Google's JSON was expected: "
                             "check api_url/token_url and any proxy in between",
                             what, status);
    const char *gm = g.message[0] ? g.message : "(no message)";

    if (ctx->token_request) {
        if (status == 429 || status >= 500)
            return ps_error_setf(err, PS_ERR_NETWORK,
                                 "getting an access token: the token endpoint kept failing "
                                 "(HTTP %ld %s: %s)",
                                 status, g.status, gm);
        return ps_error_setf(
            err, PS_ERR_AUTH,
            "getting an access token for %s: refused (HTTP %ld %s: %s); check that the key "
            "is not deleted or disabled (IAM > Service accounts > Keys) and that this machine's "
            "clock is right",
            ctx->client_email ? ctx->client_email : "the service account", status, g.status, gm);
    }

    if (status == 400) {
        if (strstr(gm, "API key not valid") || strstr(gm, "API key expired"))
            return ps_error_setf(err, PS_ERR_AUTH,
                                 "%s: Google rejected the API key (%s): check api_key, or use "
                                 "a service account",
                                 what, gm);
        if (strstr(gm, "Unable to parse range") && ctx->tab)
            return ps_error_setf(err, PS_ERR_SOURCE,
                                 "%s: Google cannot find tab '%s' in spreadsheet %s (%s); the "
                                 "tabs that exist are: %s",
                                 what, ctx->tab, id, gm, ctx->tabs ? ctx->tabs : "(unknown)");
        if (strstr(gm, "exceeds grid limits"))
            return ps_error_setf(err, PS_ERR_SOURCE,
                                 "%s: the range is outside tab '%s' (%s); the sheet changed "
                                 "size during the run, run again",
                                 what, ctx->tab ? ctx->tab : "?", gm);
        return ps_error_setf(err, PS_ERR_SOURCE, "%s: Google refused the request (HTTP 400 %s: %s)",
                             what, g.status, gm);
    }
    if (status == 401)
        return ps_error_setf(
            err, PS_ERR_AUTH, "%s: Google rejected the credentials (HTTP 401 %s: %s)%s", what,
            g.status, gm,
            ctx->mode == PS_GS_AUTH_SERVICE_ACCOUNT ? " even after getting a new access token"
                                                    : "");
    if (status == 403) {
        if (strstr(gm, "has not been used in project") || strstr(gm, "is disabled") ||
            strstr(g.status, "SERVICE_DISABLED")) {
            char proj[32];
            project_number(gm, proj);
            if (proj[0])
                return ps_error_setf(err, PS_ERR_AUTH,
                                     "%s: enable the Google Sheets API in project %s "
                                     "(https://console.cloud.google.com/apis/library/"
                                     "sheets.googleapis.com?project=%s), wait a few minutes, "
                                     "then run again (Google said: %s)",
                                     what, proj, proj, gm);
            return ps_error_setf(err, PS_ERR_AUTH,
                                 "%s: enable the Google Sheets API in the credentials' Google "
                                 "Cloud project (Google said: %s)",
                                 what, gm);
        }
        if (ctx->mode == PS_GS_AUTH_SERVICE_ACCOUNT && ctx->client_email)
            return ps_error_setf(err, PS_ERR_AUTH,
                                 ctx->write ? "%s: spreadsheet %s is not shared with %s: "
                                              "share it with that address as an Editor "
                                              "(Share > add people) (Google said: %s)"
                                            : "%s: no access to spreadsheet %s: share the sheet "
                                              "with %s (read access) or make it link-readable "
                                              "(Google said: %s)",
                                 what, id, ctx->client_email, gm);
        return ps_error_setf(err, PS_ERR_AUTH,
                             "%s: no access to spreadsheet %s: make it link-readable (Share > "
                             "General access > Anyone with the link > Viewer), or use a service "
                             "account and share the sheet with its client_email (Google said: "
                             "%s)",
                             what, id, gm);
    }
    if (status == 404)
        return ps_error_setf(err, PS_ERR_SOURCE,
                             "%s: no spreadsheet with ID %s (Google said: %s); copy the ID from "
                             "the sheet's URL, docs.google.com/spreadsheets/d/ID/edit",
                             what, id, gm);
    if (status == 429)
        return ps_error_setf(err, PS_ERR_NETWORK,
                             "%s: Google kept refusing with HTTP 429 %s (rate limit: %s) after "
                             "every retry; lower requests_per_minute or run later (no partial "
                             "data is kept)",
                             what, g.status, gm);
    if (status >= 500)
        return ps_error_setf(err, PS_ERR_NETWORK,
                             "%s: Google kept failing with HTTP %ld %s (%s) after every retry; "
                             "lower page_rows or run later (no partial data is kept)",
                             what, status, g.status, gm);
    return ps_error_setf(err, PS_ERR_SOURCE, "%s: unexpected HTTP %ld %s (%s)", what, status,
                         g.status, gm);
}
