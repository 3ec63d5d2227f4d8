/* paysync test host: drive one plugin from a unit test, without the paysync binary.
 *
 * Link with the paysync-testhost library (CMake: paysync::testhost; by hand:
 * -lpaysync-testhost, there is no pkg-config file for it). It hosts the plugin exactly as paysync does (same loader checks, same
 * option engine, same host services) and runs the same conformance checks as
 * `paysync test-plugin`:
 *
 *     char err[512];
 *     ps_testhost *th = ps_testhost_load("build/myprovider.so", err, sizeof err);
 *     ps_testhost_set_option(th, "path", "fixture.csv");
 *     assert(ps_testhost_conform(th, stdout) == 0);     // every check passed
 *     assert(ps_testhost_read(th) == 3);                // rows read
 *     assert(strcmp(ps_testhost_cell(th, 0, 1), "2024-01-05T10:00:00Z") == 0);
 *     ps_testhost_free(th);
 *
 * Not thread-safe; one ps_testhost per thread. Strings returned are owned by th and valid
 * until the next read or ps_testhost_free. */
#ifndef PAYSYNC_TESTHOST_H
#define PAYSYNC_TESTHOST_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "paysync/plugin.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ps_testhost ps_testhost;

/* Loads a plugin file (DIR/NAME.so; its descriptor's name must be NAME) with paysync's
 * loader checks. NULL on failure, with the reason in err (cap bytes, may be NULL). */
ps_testhost *ps_testhost_load(const char *so_path, char *err, size_t cap);

/* Hosts a descriptor linked into the test program (static build of a plugin). NULL on
 * failure (a descriptor paysync would refuse), with the reason in err. */
ps_testhost *ps_testhost_use(const ps_plugin_descriptor *desc, char *err, size_t cap);

void ps_testhost_free(ps_testhost *th);

/* Sets an option as a config would (text value; path values resolve against the current
 * folder). Copies both strings. Returns 0, or -1 when th is NULL or out of memory. Values
 * are checked when the plugin is created, as in a run. */
int ps_testhost_set_option(ps_testhost *th, const char *name, const char *value);

/* Per-check time limit of ps_testhost_conform in seconds (default 60). */
void ps_testhost_set_timeout(ps_testhost *th, unsigned seconds);

/* Runs the conformance checks of `paysync test-plugin` with the options set; prints the
 * table to out when out is not NULL. Returns the number of failed checks (0 = conformant;
 * skipped checks are not failures), or -1 when th is NULL. */
int ps_testhost_conform(ps_testhost *th, FILE *out);

/* Provider: reads the source once with the options set, checking the read contract on the
 * way, and keeps header and rows. Returns the number of rows, or -1 with
 * ps_testhost_error() saying why. */
long ps_testhost_read(ps_testhost *th);

/* After ps_testhost_read: header width, header cell text, a row's number as the user sees
 * it, its cell count and cell text (NULL past the row's cells or rows). */
uint32_t ps_testhost_ncolumns(const ps_testhost *th);
const char *ps_testhost_header(const ps_testhost *th, uint32_t col);
uint64_t ps_testhost_line(const ps_testhost *th, size_t row);
uint32_t ps_testhost_ncells(const ps_testhost *th, size_t row);
const char *ps_testhost_cell(const ps_testhost *th, size_t row, uint32_t col);

/* After ps_testhost_read of a record-shaped provider: the text of the value at `path`
 * ("/customer/name") in a record, NULL when the record has no such key. (ps_testhost_cell
 * gives its values in order; ps_testhost_ncolumns is 0: records have no header.) */
const char *ps_testhost_value(const ps_testhost *th, size_t row, const char *path);

/* Sink: writes n (at most 25) synthetic payments (IDs kit-001..., dataset "kit") through the
 * sink with the options set, then commits and finishes. Returns 0, or -1 with
 * ps_testhost_error() saying why. */
int ps_testhost_write_sample(ps_testhost *th, size_t n);

/* The last error message ("" when none). */
const char *ps_testhost_error(const ps_testhost *th);

#ifdef __cplusplus
}
#endif
#endif
