/* paysync CLI: one function per subcommand. Each returns the process exit code:
 * 0 ran (rejects are data), 1 a dataset failed, 2 usage or configuration error. */
#ifndef PS_CLI_COMMANDS_H
#define PS_CLI_COMMANDS_H

#include <getopt.h>
#include <stdio.h>

#include "config/config.h"
#include "plugin/loader.h"
#include "store/store.h"

enum { PS_EXIT_OK = 0, PS_EXIT_FAILED = 1, PS_EXIT_USAGE = 2 };

int cmd_run(int argc, char **argv);
int cmd_check(int argc, char **argv);
int cmd_plugins(int argc, char **argv);
int cmd_validate(int argc, char **argv);
int cmd_discover(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_export(int argc, char **argv);
int cmd_export_rejects(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_daemon(int argc, char **argv);
int cmd_serve(int argc, char **argv);
int cmd_hash_key(int argc, char **argv);
int cmd_test_plugin(int argc, char **argv);
int cmd_new_plugin(int argc, char **argv);

/* Shared helpers (cli/common.c). */

/* Loads CONFIG and prepares a registry on its plugin path. Prints the error and returns
 * PS_EXIT_USAGE on failure; 0 on success. Caller frees both. */
int cli_load(const char *path, ps_config **cfg, ps_registry **reg);
/* A registry on the plugin folder next to the executable and $PAYSYNC_PLUGIN_PATH, then dirs
 * (may be NULL; see ps_registry_set_path). */
int cli_registry(char *const *dirs, size_t n, ps_registry **reg);
/* Prints "paysync: message" to stderr. */
void cli_error(const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2)))
#endif
    ;
/* Prints the usage text of a command and returns PS_EXIT_USAGE (or 0 when help asked). */
int cli_usage(const char *text, int asked);
/* Maps a core status to an exit code. */
int cli_exit_for(ps_status st);
/* A command's output: standard output, or a file written the one way paysync writes files
 * (util/outfile.h: exclusive temp file beside it, renamed over it when complete). */
typedef struct cli_out {
    FILE *f;
    char *tmp; /* owned; NULL for standard output */
    const char *path;
    const char *cmd; /* prefix of error messages, e.g. "export" */
} cli_out;
/* Opens path (NULL or "-" = standard output; a file's folder must exist). Returns 0, or -1
 * after printing "paysync: CMD: ..." (nothing to close then). */
int cli_out_open(cli_out *o, const char *path, const char *cmd);
/* Publishes (ok != 0) or discards the output and frees o's memory. Returns 0, or -1 after
 * printing the error (a failed write, rename or flush); -1 too when ok is 0. */
int cli_out_close(cli_out *o, int ok);
/* The arguments of a command on one dataset of a config (export, export-rejects):
 * CONFIG --dataset NAME [--format F] [--output FILE]; borrowed from argv. */
typedef struct cli_ds_args {
    const char *config, *dataset, *format, *output;
} cli_ds_args;
/* A command's own options beyond those: called with getopt's value and optarg; returns 0, or
 * an exit code after printing the error. */
typedef int (*cli_opt_fn)(void *ctx, int opt, const char *arg);
/* Parses argv (cmd names the command in messages, usage is its help): one CONFIG, --dataset
 * required, --format and --output as given (a->format = fmt_default when absent), plus the
 * command's extra long options (terminated by a zero entry, at most 8, values other than
 * 'd', 'f', 'o', 'h') handed to on_extra. Returns 0, -1 when --help was printed, or
 * PS_EXIT_USAGE after printing the error or the usage. */
int cli_parse_ds_args(int argc, char **argv, const char *cmd, const char *usage,
                      const char *fmt_default, const struct option *extra, cli_opt_fn on_extra,
                      void *ctx, cli_ds_args *a);
/* Loads the config at path and finds the dataset named (an unknown name gets a "did you
 * mean" suggestion). Returns 0 with *cfg (caller frees) and *d (inside *cfg) set, or
 * PS_EXIT_USAGE after printing the error (nothing to free). */
int cli_load_dataset(const char *path, const char *name, ps_config **cfg, const ps_dataset_def **d);
/* Fills q's TIMESTAMP window from --from/--to (either may be NULL; neither = unbounded): ISO
 * 8601, a zone-less time is UTC; a --to covers its whole day (a date alone), minute or second
 * (no fraction). Returns 0, or -1 after printing the error ("CMD: ..." for --from after --to):
 * a usage error. */
int cli_parse_window(const char *cmd, const char *from, const char *to, ps_store_query *q);
/* Prints "FIELD values (column 'C'[ via mapping.extract][, NOTE]): a 3, b 1" (vc NULL:
 * "(no rows)"); nothing when column is empty. column may end with PS_STATUS_VIA_EXTRACT. */
struct ps_value_counts;
void cli_print_values(const char *field, const char *column, const char *note,
                      const struct ps_value_counts *vc);
/* Warns when a config holding secrets is readable by other users. */
void cli_warn_config_perms(const ps_config *cfg);

#endif
