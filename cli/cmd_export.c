/* paysync export: placeholder until implemented. */
#include "commands.h"

int cmd_export(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    cli_error("'export' is not available in this build yet");
    return PS_EXIT_USAGE;
}
