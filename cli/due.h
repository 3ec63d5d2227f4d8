/* paysync CLI: `run --due` selection (implemented with the scheduler). */
#ifndef PS_CLI_DUE_H
#define PS_CLI_DUE_H

#include <stddef.h>

#include "config/config.h"

/* Replaces (*names, *n) with the datasets of cfg that are due now (intersected with the given
 * names when *n > 0). *names is realloc'd. Returns 0, or an exit code after printing the error. */
int cli_due_filter(const ps_config *cfg, char ***names, size_t *n);

#endif
