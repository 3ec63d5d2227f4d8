/* paysync core: file sinks and the datasets that share them (docs/configuration.md "Shared
 * file sinks").
 *
 * A file sink is a sink that is not a store and has a `path` option other than "-" (the jsonl
 * and csv plugins): at the end of every run its file is replaced with the payments of the
 * datasets of that run. `{dataset}` in its path gives each dataset its own file. A file sink
 * whose path has no `{dataset}` and that several datasets write is shared: every run that
 * writes it must include all of them, or the file loses the others' payments. */
#ifndef PS_FILE_SINKS_H
#define PS_FILE_SINKS_H

#include <stddef.h>

#include "config/config.h"

#define PS_DATASET_PLACEHOLDER "{dataset}"

/* The configured `path` of s when s is a file sink (see above), else NULL. Owned by s. */
const char *ps_file_sink_path(const ps_sink_def *s);

/* 1 when s is a file sink whose path contains {dataset}. */
int ps_file_sink_per_dataset(const ps_sink_def *s);

/* path with every {dataset} replaced by dataset; malloc'd, NULL when out of memory. */
char *ps_file_sink_expand(const char *path, const char *dataset);

/* Checks done whenever a config is loaded to run something (PS_ERR_CONFIG, naming the sink,
 * the datasets and file:line:col): a `{...}` other than {dataset} in a file sink's path;
 * {dataset} in a store's path; a dataset named "." or ".." writing a {dataset} path; two
 * sinks writing the same file; a shared file sink whose datasets have different schedules. */
ps_status ps_file_sinks_check(const ps_config *c, ps_error *err);

/* Run start: a selection of datasets (only/nonly; nonly 0 = all) that includes some but not
 * all datasets of a shared file sink is refused (PS_ERR_CONFIG, naming the sink, the datasets
 * left out, and suggesting {dataset}). */
ps_status ps_file_sinks_check_selection(const ps_config *c, char *const *only, size_t nonly,
                                        ps_error *err);

/* The daemon runs every dataset with a schedule on its own: a shared file sink written by a
 * dataset with a schedule is refused (PS_ERR_CONFIG). scheduled(d) says which datasets the
 * daemon runs. */
ps_status ps_file_sinks_check_separate(const ps_config *c,
                                       int (*scheduled)(const ps_config *c,
                                                        const ps_dataset_def *d),
                                       ps_error *err);

/* Adds to names[0..*n) (room for c->ndatasets names) every dataset that shares a file sink
 * with one already there, transitively; the names added point into c. Returns how many were
 * added. */
size_t ps_file_sinks_close_selection(const ps_config *c, const char **names, size_t *n);

#endif
