/* gsheet: credentials and endpoints from a plugin's options, shared by the gsheet provider and
 * the gsheet_writer sink (one definition of the key-file rules). */
#ifndef PS_GS_AUTH_H
#define PS_GS_AUTH_H

#include <stddef.h>

#include "gs_jwt.h"
#include "paysync/plugin.h"

/* Most bytes of a service-account key file. */
#define PS_GS_MAX_KEY_FILE (64 * 1024)

/* Checks that url (an option value named name, edited in place) starts with https:// or
 * http:// and drops trailing slashes. PS_ERR_CONFIG naming the option otherwise. */
ps_status ps_gs_check_url(const char *name, char *url, ps_error *err);

/* Reads and parses the service-account key of the instance's options: the file named by
 * service_account_file when from_file is 1 (at most PS_GS_MAX_KEY_FILE bytes; a warning when
 * other users may read it), else the text of service_account_json. *out is filled (free with
 * ps_gs_sakey_free); the key text read is wiped. Errors: PS_ERR_CONFIG naming the file or
 * option (cannot be opened or read, too large, not a service-account key), PS_ERR_NOMEM. */
ps_status ps_gs_sakey_from_options(const ps_plugin_ctx *ctx, int from_file, ps_gs_sakey *out,
                                   ps_error *err);

#endif
