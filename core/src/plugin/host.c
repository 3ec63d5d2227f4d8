/* paysync core: host API implementation. */
#include "plugin/host.h"

#include <stdarg.h>
#include <stdlib.h>
#include <time.h>

#include "util/csv.h"
#include "plugin/loader.h"
#include "util/log.h"
#include "model/model_fields.h"

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
    const char *fake = getenv("PAYSYNC_FAKE_NOW_MS");
    if (fake && *fake)
        return strtoll(fake, NULL, 10);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t ps_monotonic_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
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
};

const ps_host *ps_host_get(void)
{
    return &host_table;
}
