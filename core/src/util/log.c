/* paysync core: logging. */
#include "util/log.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "model/timestamp.h"

static pthread_mutex_t log_mu = PTHREAD_MUTEX_INITIALIZER;
static int log_level = PS_LOG_INFO;
static int log_json = 0;
static int progress_shown = 0;

static const char *level_name(int level)
{
    switch (level) {
    case PS_LOG_ERROR:
        return "error";
    case PS_LOG_WARN:
        return "warn";
    case PS_LOG_INFO:
        return "info";
    default:
        return "debug";
    }
}

void ps_log_configure(int level, int json)
{
    pthread_mutex_lock(&log_mu);
    log_level = level;
    log_json = json;
    pthread_mutex_unlock(&log_mu);
}

int ps_log_level(void)
{
    return log_level;
}

int ps_log_json(void)
{
    return log_json;
}

static void json_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        switch (*p) {
        case '"':
            fputs("\\\"", f);
            break;
        case '\\':
            fputs("\\\\", f);
            break;
        case '\n':
            fputs("\\n", f);
            break;
        case '\r':
            fputs("\\r", f);
            break;
        case '\t':
            fputs("\\t", f);
            break;
        default:
            if (*p < 0x20)
                fprintf(f, "\\u%04x", *p);
            else
                fputc(*p, f);
        }
    }
    fputc('"', f);
}

static void clear_progress_locked(void)
{
    if (progress_shown) {
        fputs("\r\033[K", stderr);
        progress_shown = 0;
    }
}

/* Length of the valid UTF-8 sequence at p (1-4), or 0 when p starts an invalid one. */
static size_t utf8_valid(const unsigned char *p)
{
    unsigned char c = p[0];
    if (c < 0x80)
        return 1;
    unsigned char lo = 0x80, hi = 0xBF;
    size_t n;
    if (c >= 0xC2 && c <= 0xDF)
        n = 2;
    else if (c >= 0xE0 && c <= 0xEF) {
        n = 3;
        if (c == 0xE0)
            lo = 0xA0; /* overlong */
        else if (c == 0xED)
            hi = 0x9F; /* surrogates */
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4;
        if (c == 0xF0)
            lo = 0x90;
        else if (c == 0xF4)
            hi = 0x8F;
    } else
        return 0;
    if (p[1] < lo || p[1] > hi)
        return 0;
    for (size_t i = 2; i < n; i++)
        if (p[i] < 0x80 || p[i] > 0xBF)
            return 0;
    return n;
}

void ps_text_sanitize(char *s)
{
    unsigned char *p = (unsigned char *)s;
    while (*p) {
        size_t n = utf8_valid(p);
        if (n == 0 || (n == 1 && ((*p < 0x20 && *p != '\t') || *p == 0x7f))) {
            *p++ = '?'; /* a control character or a byte of invalid UTF-8 */
        } else if (n == 2 && p[0] == 0xC2 && p[1] < 0xA0) {
            p[0] = p[1] = '?'; /* U+0080..U+009F: C1 controls (CSI, ...) */
            p += 2;
        } else {
            p += n;
        }
    }
}

void ps_logv(int level, const char *component, const char *fmt, va_list ap)
{
    if (level > log_level)
        return;
    char msg[4096];
    vsnprintf(msg, sizeof msg, fmt, ap);
    if (!log_json)
        ps_text_sanitize(msg);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    char tbuf[PS_TIME_TEXT_MAX];
    ps_time_format((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000, tbuf);
    pthread_mutex_lock(&log_mu);
    clear_progress_locked();
    if (log_json) {
        fputs("{\"time\":", stderr);
        json_str(stderr, tbuf);
        fputs(",\"level\":", stderr);
        json_str(stderr, level_name(level));
        if (component) {
            fputs(",\"component\":", stderr);
            json_str(stderr, component);
        }
        fputs(",\"message\":", stderr);
        json_str(stderr, msg);
        fputs("}\n", stderr);
    } else {
        fprintf(stderr, "%s %-5s %s%s%s\n", tbuf, level_name(level), component ? component : "",
                component ? ": " : "", msg);
    }
    fflush(stderr);
    pthread_mutex_unlock(&log_mu);
}

void ps_log(int level, const char *component, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    ps_logv(level, component, fmt, ap);
    va_end(ap);
}

void ps_log_progress(const char *line)
{
    if (log_json || !isatty(STDERR_FILENO))
        return;
    pthread_mutex_lock(&log_mu);
    if (line) {
        fprintf(stderr, "\r\033[K%s", line);
        progress_shown = 1;
    } else {
        clear_progress_locked();
    }
    fflush(stderr);
    pthread_mutex_unlock(&log_mu);
}
