/* paysync CLI: `run --due` placeholder until the scheduler lands. */
#include "due.h"

#include "commands.h"

int cli_due_filter(const ps_config *cfg, char ***names, size_t *n)
{
    (void)cfg;
    (void)names;
    (void)n;
    cli_error("--due is not available in this build");
    return PS_EXIT_USAGE;
}
