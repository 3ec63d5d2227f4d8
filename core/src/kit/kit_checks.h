/* paysync core: the conformance kit's checks (internal to core/src/kit). */
#ifndef PS_KIT_CHECKS_H
#define PS_KIT_CHECKS_H

#include "kit/kit_types.h"
#include "plugin/host.h"
#include "plugin/loader.h"

typedef struct ps_kit_ctx {
    const ps_plugin_descriptor *desc;
    ps_kit_options opts;
} ps_kit_ctx;

typedef void (*ps_kit_check_fn)(ps_kit_ctx *k, ps_kit_result *r);

typedef struct ps_kit_check {
    const char *name;
    ps_kit_check_fn fn;
} ps_kit_check;

/* NULL-name terminated tables, run in order. */
extern const ps_kit_check ps_kit_provider_checks[];
extern const ps_kit_check ps_kit_sink_checks[];

/* One plugin instance as the kit drives it. */
typedef struct ps_kit_inst {
    ps_options *opts;
    void *inst;
    ps_env env;
    ps_plugin_ctx ctx;
} ps_kit_inst;

/* How ps_kit_instance_new rewrites options. */
enum {
    PS_KIT_OPTS_AS_GIVEN = 0,
    PS_KIT_OPTS_MISSING_SOURCE = 1, /* path options -> a missing file, URLs -> a closed port */
    PS_KIT_OPTS_PATHS_IN = 2        /* path options -> files inside `dir` (sink outputs) */
};

/* Builds options (rewritten as `mode` says) and creates an instance. *rewritten counts the
 * options rewritten. Errors as the plugin's create or the option engine report them; the
 * message says which stage failed. */
ps_status ps_kit_instance_new(const ps_kit_ctx *k, int mode, const char *dir, size_t *rewritten,
                              ps_kit_inst *out, ps_error *err);
void ps_kit_instance_free(const ps_kit_ctx *k, ps_kit_inst *in);

/* Options of the table every check uses: "create/destroy" and "options" are shared. */
void ps_kit_check_options(ps_kit_ctx *k, ps_kit_result *r);
void ps_kit_check_create_destroy(ps_kit_ctx *k, ps_kit_result *r);

/* What ps_kit_provider_read hands over: the header once, then every row (valid during the
 * call only). A non-zero return stops the read. */
typedef struct ps_kit_rows_cb {
    void *ctx;
    int (*header)(void *ctx, const ps_table_info *info);
    int (*row)(void *ctx, const ps_row *row);
    /* Record-shaped providers: each record with its paths (NULL: `row` gets the values). */
    int (*record)(void *ctx, const ps_keyed_row *rec);
} ps_kit_rows_cb;

/* One full read with the options as given, checking the contract like "read contract".
 * Returns 0, or -1 with the reason in why. */
int ps_kit_provider_read(ps_kit_ctx *k, const ps_kit_rows_cb *cb, char *why, size_t cap);

/* Writes n synthetic payments (n <= 25) through a sink with the options as given: open,
 * write, commit, finish. Returns 0, or -1 with the reason in why. */
int ps_kit_sink_write_sample(ps_kit_ctx *k, size_t n, char *why, size_t cap);

/* Removes dir and everything under it (no symlinks followed). */
void ps_kit_rmtree(const char *dir);

/* Sets r (printf-style). */
void ps_kit_set(ps_kit_result *r, ps_kit_outcome o, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

#endif
