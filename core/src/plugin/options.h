/* paysync core: the typed option engine. Checks text values against a ps_option_spec table
 * (type, bounds, choices, duration and size syntax) for plugin options and serve settings,
 * with messages naming the config file:line:column, the owner, the key, the value and what is
 * allowed. */
#ifndef PS_OPTIONS_H
#define PS_OPTIONS_H

#include <stddef.h>
#include <stdint.h>

#include "config/config.h"
#include "paysync/plugin.h"

#define PS_MAX_OPTIONS 256 /* entries of a table looked at */
#define PS_MAX_CHOICES 64  /* entries of an enum's choices looked at */

/* An option table and where its values come from (for messages). */
typedef struct ps_option_source {
    const ps_option_spec *table; /* terminated by an entry with name NULL; NULL = empty */
    size_t stride;               /* bytes from one entry to the next; 0 = sizeof(ps_option_spec) */
    const char *plugin;          /* plugin name in unknown/missing messages; NULL = none */
    const char *noun;            /* "option" (when NULL) or e.g. "setting" */
    const char *also_valid;      /* keys read elsewhere, listed among the valid ones; NULL */
    const char *file;            /* config file; NULL = "<config>" */
    const char *dir;             /* folder PATH values are resolved against; NULL = as given */
    const char *context;         /* "sink 'export'", "serve"; NULL = the plugin name */
    int line, col;               /* where the block starts (1-based; 0 = unknown) */
} ps_option_source;

/* Validates kvs against src's table: unknown keys (with a suggestion and the valid ones),
 * keys given twice, missing required ones, empty required values, and every value's type,
 * bounds and choices. Messages: "FILE:LINE:COL: CONTEXT: option 'x' must be ..., got '...'"
 * (secret values shown as ***). Path values are resolved against src->dir. Returns PS_OK and
 * *out (caller frees with ps_options_free), PS_ERR_CONFIG, or PS_ERR_NOMEM. */
ps_status ps_options_parse(const ps_option_source *src, const ps_kv *kvs, size_t n,
                           ps_options **out, ps_error *err);

/* Same for a plugin's table (stride from the descriptor); context e.g. "sink 'export'". */
ps_status ps_options_build(const ps_plugin_descriptor *d, const ps_kv *kvs, size_t n,
                           const char *cfg_file, const char *cfg_dir, const char *context,
                           ps_options **out, ps_error *err);
void ps_options_free(ps_options *o);

/* Same as ps_options_build; line/col (1-based, 0 = unknown) locate the plugin reference so
 * that "missing required option" errors name file:line:col too. */
ps_status ps_options_build_at(const ps_plugin_descriptor *d, const ps_kv *kvs, size_t n,
                              const char *cfg_file, const char *cfg_dir, const char *context,
                              int line, int col, ps_options **out, ps_error *err);

/* Convenience: ps_options_build_at with the reference's options and location and the
 * config's file and folder (cfg may be NULL). */
ps_status ps_options_from_ref(const ps_plugin_descriptor *d, const ps_plugin_ref *ref,
                              const ps_config *cfg, const char *context, ps_options **out,
                              ps_error *err);

/* ---- tables ------------------------------------------------------------------------------ */

/* Stride of d's option table: d->option_spec_size (0 when the descriptor is too short to hold
 * the member or leaves it 0; the loader refuses such descriptors). */
size_t ps_descriptor_option_stride(const ps_plugin_descriptor *d);
/* Entries of a table before the NULL-name terminator (at most PS_MAX_OPTIONS + 1 are looked
 * at). stride 0 = sizeof(ps_option_spec). */
size_t ps_option_table_len(const ps_option_spec *t, size_t stride);
/* Copies entry i of a table into *out; members past the stride read as zero. */
void ps_option_entry(const ps_option_spec *t, size_t stride, size_t i, ps_option_spec *out);
/* Checks one entry as a plugin author wrote it: type, flags, bounds (min <= max), choices
 * (1..64 non-empty, distinct) and the default value. 0, or -1 with the problem in msg
 * ("has type 9, expected ..."). */
int ps_option_spec_check(const ps_option_spec *s, char *msg, size_t cap);

/* ---- values ------------------------------------------------------------------------------ */

/* Checks text against s: type, syntax, bounds and choices. Returns 0 with *value (INT the
 * number, DURATION ms, SIZE bytes, ENUM index into choices, BOOL 0/1, else 0) and *canon
 * (ENUM: the choice as spelled in the table; else text), or -1 with msg "NOUN 'name' must be
 * WHAT IS ALLOWED, got 'text'" (secrets shown as ***; noun NULL = "option"). Any out pointer
 * may be NULL. */
int ps_option_check(const ps_option_spec *s, const char *noun, const char *text, int64_t *value,
                    const char **canon, char *msg, size_t cap);

/* What s accepts, in words: "a whole number from 1 to 50000", "a duration from 1s to 1h
 * (ms, s, m, h, d: 90s, 1h30m; a plain number means seconds)", "one of: a, b". */
void ps_option_describe(const ps_option_spec *s, char *buf, size_t cap);
/* Its bounds or choices, short: "1..50000", "1s..1h", ">= 0", "<= 64MiB", "a|b"; "" when
 * none. For listings. */
void ps_option_bounds(const ps_option_spec *s, char *buf, size_t cap);

/* Strict parsers of option text: 0 on success (out may be NULL), -1 when invalid.
 * Ints: optional sign and decimal digits only, in range. Bools: true/false/yes/no/on/off/1/0,
 * case-insensitive. */
int ps_option_parse_int(const char *s, long long *out);
int ps_option_parse_bool(const char *s, int *out);
/* "string", "int", "bool", "path", "enum", "duration", "size"; NULL for an invalid type. */
const char *ps_option_type_name(ps_option_type t);

/* ---- reading values ----------------------------------------------------------------------- */

/* Text as set (path resolved, enum canonical) or defaulted; NULL when neither or unknown. */
const char *ps_options_string(const ps_options *o, const char *name);
/* INT number, DURATION ms, SIZE bytes, ENUM index, BOOL 0/1; 0 when unset without default. */
long long ps_options_int(const ps_options *o, const char *name);
int ps_options_bool(const ps_options *o, const char *name);
int ps_options_is_set(const ps_options *o, const char *name);
/* Every (name, value) as set or defaulted, secrets shown as "***". For logs and reports.
 * Index i runs over the option table; value is NULL when the option is neither set nor
 * defaulted (and name/value are NULL when i is out of range). */
size_t ps_options_count(const ps_options *o);
void ps_options_at(const ps_options *o, size_t i, const char **name, const char **value_redacted);

#endif
