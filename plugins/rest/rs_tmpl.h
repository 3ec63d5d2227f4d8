/* rest: "{name}" templates of a manifest (paths, query values, headers, bodies). */
#ifndef PS_RS_TMPL_H
#define PS_RS_TMPL_H

#include <stddef.h>

/* Returns the value of variable name: text ("" when unset), or NULL for an unknown name. */
typedef const char *(*rs_var_fn)(void *ctx, const char *name);

/* Appends template t with every "{name}" ([a-z0-9_]+) replaced by its value to *buf (as in
 * rs_buf_put); url_encode percent-encodes the values (not the template text). Any other '{'
 * is literal. *nempty counts the variables that were "" (may be NULL). Returns 0, -1 for an
 * unknown variable (its name in bad), -2 when out of memory. */
int rs_tmpl_expand(const char *t, rs_var_fn fn, void *ctx, int url_encode, char **buf, size_t *len,
                   size_t *cap, int *nempty, char *bad, size_t badcap);

/* 1 when t is exactly one "{name}" and nothing else. */
int rs_tmpl_is_single(const char *t);

/* Appends s percent-encoded (everything but A-Z a-z 0-9 - . _ ~). 0 or -1. */
int rs_url_encode(char **buf, size_t *len, size_t *cap, const char *s);

#endif
