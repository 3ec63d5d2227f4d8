/* paysync util: paths in user-facing messages. A message (ps_error holds 1024 bytes) that
 * names a long path, or two, would be cut before its reason; every message that names a path
 * (output files, the store, the config, plugins) shows it cut in the middle instead
 * ("/head.../tail"), so the reason always ends the message. */
#ifndef PS_UTIL_PATHTEXT_H
#define PS_UTIL_PATHTEXT_H

/* Longest path shown whole; longer ones are cut to exactly this many bytes. */
#define PS_SHOWN_PATH_MAX 200

/* p itself when it has at most PS_SHOWN_PATH_MAX bytes, else its first and last bytes around
 * "..." written into buf (PS_SHOWN_PATH_MAX + 1 bytes) and returned. NULL shows as "(null)". */
const char *ps_path_shown(const char *p, char *buf);

/* ps_path_shown with a buffer that lives until the end of the enclosing full expression's
 * block: use it directly as a printf argument, e.g. ps_error_setf(err, c, "'%s': ...",
 * PS_SHOWN(path)). */
#define PS_SHOWN(p) ps_path_shown((p), (char[PS_SHOWN_PATH_MAX + 1]){0})

#endif
