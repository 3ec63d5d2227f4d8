/* paysync core: host API implementation. */
#include "plugin/host.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "http/http_client.h"
#include "model/model_fields.h"
#include "model/validate.h"
#include "paysync/timestamp.h"
#include "plugin/loader.h"
#include "util/clock.h"
#include "util/csv.h"
#include "util/log.h"
#include "util/outfile.h"

static void host_log(const ps_env *env, int level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    ps_logv(level, env ? env->name : NULL, fmt, ap);
    va_end(ap);
}

static const char *host_opt_string(const ps_options *o, const char *name)
{
    return ps_options_string(o, name);
}

static int64_t host_opt_int(const ps_options *o, const char *name)
{
    return (int64_t)ps_options_int(o, name);
}

static int host_opt_bool(const ps_options *o, const char *name)
{
    return ps_options_bool(o, name);
}

static int host_opt_is_set(const ps_options *o, const char *name)
{
    return ps_options_is_set(o, name);
}

static int host_match_header(const ps_env *env, const char *name, size_t len)
{
    return ps_mapping_match(env ? env->mapping : NULL, name, len);
}

static const char *host_field_name(int field)
{
    return ps_field_name(field);
}

int64_t ps_now_ms(void)
{
    return ps_clock_now_ms();
}

int64_t ps_monotonic_ms(void)
{
    return ps_clock_monotonic_ms();
}

static size_t host_time_format(int64_t ms, char *buf, size_t cap)
{
    char t[PS_TIME_TEXT_MAX];
    size_t n = ps_time_format(ms, t);
    if (!buf || cap <= n)
        return 0;
    memcpy(buf, t, n + 1);
    return n;
}

static const ps_host host_table = {
    .abi_major = PS_ABI_MAJOR,
    .abi_minor = PS_ABI_MINOR,
    .struct_size = sizeof(ps_host),
    .log = host_log,
    .opt_string = host_opt_string,
    .opt_int = host_opt_int,
    .opt_bool = host_opt_bool,
    .opt_is_set = host_opt_is_set,
    .arena_alloc = ps_arena_alloc,
    .arena_strndup = ps_arena_strndup,
    .match_header = host_match_header,
    .field_name = host_field_name,
    .csv_new = ps_csv_new,
    .csv_next = ps_csv_next,
    .csv_free = ps_csv_free,
    .now_ms = ps_now_ms,
    .monotonic_ms = ps_monotonic_ms,
    .sleep_ms = ps_clock_sleep_ms,
    .http_new = ps_http_client_new_ctx,
    .http_free = ps_http_client_free,
    .http_add_secret = ps_http_client_add_secret,
    .http_request = ps_http_client_request,
    .http_response_free = ps_http_response_free,
    .http_redact = ps_http_client_redact,
    .http_stats = ps_http_client_stats,
    .outfile_new = ps_outfile_new,
    .outfile_begin = ps_outfile_begin,
    .outfile_reserve = ps_outfile_reserve,
    .outfile_advance = ps_outfile_advance,
    .outfile_put = ps_outfile_put,
    .outfile_check = ps_outfile_check,
    .outfile_commit = ps_outfile_commit,
    .outfile_abort = ps_outfile_abort,
    .outfile_finish = ps_outfile_finish,
    .outfile_free = ps_outfile_delete,
    .utf8_check = ps_utf8_check,
    .time_format = host_time_format,
    .csv_record_flags = ps_csv_record_flags,
};

const ps_host *ps_host_get(void)
{
    return &host_table;
}
