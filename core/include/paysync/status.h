/* paysync: status codes and the caller-owned error struct. */
#ifndef PAYSYNC_STATUS_H
#define PAYSYNC_STATUS_H

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Every fallible function returns a ps_status. PS_OK and PS_END are not errors. */
typedef enum ps_status {
    PS_OK = 0,
    PS_END = 1,          /* no more data (provider next_batch) */
    PS_ERR_USAGE = 2,    /* bad call / command line */
    PS_ERR_CONFIG = 3,   /* configuration invalid */
    PS_ERR_PLUGIN = 4,   /* plugin could not be loaded or is incompatible */
    PS_ERR_IO = 5,       /* file or stream error */
    PS_ERR_NOMEM = 6,    /* allocation failed */
    PS_ERR_DATA = 7,     /* dataset-level data error (e.g. missing required column) */
    PS_ERR_SOURCE = 8,   /* provider failed to read its source */
    PS_ERR_SINK = 9,     /* sink failed to write */
    PS_ERR_NETWORK = 10, /* transport failure after retries */
    PS_ERR_AUTH = 11,    /* credentials rejected */
    PS_ERR_INTERNAL = 12, /* bug: should not happen */
    PS_RETRY = 13         /* temporary failure (rate limit, 503, timeout): the same call may
                           * succeed later; see ps_error.retry_after_ms */
} ps_status;

/* Caller-owned error: the callee fills it when it returns an error status. `message` is
 * user-facing, complete and never contains secrets. retry_after_ms and http_status are
 * optional detail a callee may add (mostly with PS_RETRY); callers start from a zeroed or
 * ps_error_clear'ed struct. */
typedef struct ps_error {
    ps_status code;
    uint32_t http_status;    /* HTTP status behind the failure; 0 = none */
    int64_t retry_after_ms;  /* earliest useful retry, from now; 0 = unknown */
    char message[1024];
} ps_error;

/* Sets err (may be NULL) to code and a printf-formatted message; returns code. Leaves
 * retry_after_ms and http_status as they are (set them before or after). */
static inline ps_status ps_error_setf(ps_error *err, ps_status code, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
static inline ps_status ps_error_setf(ps_error *err, ps_status code, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        err->code = code;
        vsnprintf(err->message, sizeof err->message, fmt, ap);
        va_end(ap);
    }
    return code;
}

/* Clears err (may be NULL). */
static inline void ps_error_clear(ps_error *err)
{
    if (err) {
        err->code = PS_OK;
        err->http_status = 0;
        err->retry_after_ms = 0;
        err->message[0] = '\0';
    }
}

#ifdef __cplusplus
}
#endif
#endif
