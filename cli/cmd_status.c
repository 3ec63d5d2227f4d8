/* paysync status: placeholder until implemented. */
#include "commands.h"

int cmd_status(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    cli_error("'status' is not available in this build yet");
    return PS_EXIT_USAGE;
}
