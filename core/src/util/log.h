/* paysync core: leveled logging to stderr, text or JSON lines. Thread-safe. */
#ifndef PS_LOG_H
#define PS_LOG_H

#include <stdarg.h>

#include "paysync/plugin.h" /* PS_LOG_* levels */

/* Sets the most verbose level printed (default PS_LOG_INFO) and the format (json 0/1). */
void ps_log_configure(int level, int json);
int ps_log_level(void);
/* 1 when logs are JSON lines. */
int ps_log_json(void);

/* Logs "LEVEL component: message" (or a JSON object) to stderr. component may be NULL. */
void ps_log(int level, const char *component, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
void ps_logv(int level, const char *component, const char *fmt, va_list ap);

/* Replaces control characters (all below 0x20 but tab, DEL, and the C1 controls U+0080..U+009F)
 * and every byte of invalid UTF-8 (stray high bytes of a garbage header) in s with '?', so that
 * text from a source (headers, cells) cannot move the cursor or forge log lines; valid UTF-8
 * (names in any script) is kept. In place. */
void ps_text_sanitize(char *s);

/* Shows a transient progress line on a terminal (no-op when stderr is not a tty or the
 * format is JSON); NULL clears it. Log lines clear it first. */
void ps_log_progress(const char *line);

#endif
