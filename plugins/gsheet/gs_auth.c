/* gsheet: credentials and endpoints from a plugin's options (see gs_auth.h). */
#include "gs_auth.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

ps_status ps_gs_check_url(const char *name, char *url, ps_error *err)
{
    if (!url || (strncmp(url, "https://", 8) != 0 && strncmp(url, "http://", 7) != 0))
        return ps_error_setf(err, PS_ERR_CONFIG, "%s must start with https:// or http://", name);
    size_t n = strlen(url);
    while (n > 8 && url[n - 1] == '/')
        url[--n] = '\0';
    return PS_OK;
}

static ps_status read_key_file(const ps_plugin_ctx *ctx, const char *path, char **out, size_t *len,
                               ps_error *err)
{
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f)
        return ps_error_setf(err, PS_ERR_CONFIG, "service_account_file %s cannot be opened: %s",
                             path, strerror(errno));
    struct stat st;
    if (fstat(fileno(f), &st) == 0 && (st.st_mode & 077))
        ctx->host->log(ctx->env, PS_LOG_WARN,
                       "service_account_file %s is readable by other users: chmod 600 it", path);
    char *buf = malloc(PS_GS_MAX_KEY_FILE + 1);
    if (!buf) {
        fclose(f);
        return ps_error_setf(err, PS_ERR_NOMEM, "out of memory");
    }
    size_t n = fread(buf, 1, PS_GS_MAX_KEY_FILE + 1, f);
    int bad = ferror(f);
    fclose(f);
    if (bad || n > PS_GS_MAX_KEY_FILE) {
        free(buf);
        return ps_error_setf(err, PS_ERR_CONFIG, "service_account_file %s %s", path,
                             bad ? "cannot be read" : "is too large to be a key file");
    }
    buf[n] = '\0';
    *out = buf;
    *len = n;
    return PS_OK;
}

ps_status ps_gs_sakey_from_options(const ps_plugin_ctx *ctx, int from_file, ps_gs_sakey *out,
                                   ps_error *err)
{
    char *key_json = NULL;
    size_t key_len = 0;
    char where[600];
    if (from_file) {
        const char *path = ctx->host->opt_string(ctx->options, "service_account_file");
        ps_status st = read_key_file(ctx, path ? path : "", &key_json, &key_len, err);
        if (st != PS_OK)
            return st;
        snprintf(where, sizeof where, "service_account_file %s", path);
    } else {
        const char *j = ctx->host->opt_string(ctx->options, "service_account_json");
        key_json = strdup(j ? j : "");
        key_len = key_json ? strlen(key_json) : 0;
        snprintf(where, sizeof where, "service_account_json");
    }
    if (!key_json)
        return ps_error_setf(err, PS_ERR_NOMEM, "out of memory");
    ps_status st = ps_gs_sakey_parse(key_json, key_len, where, out, err);
    memset(key_json, 0, key_len);
    free(key_json);
    return st;
}
