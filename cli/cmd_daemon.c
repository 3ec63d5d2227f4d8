/* paysync daemon: placeholder until implemented. */
#include "commands.h"

int cmd_daemon(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    cli_error("'daemon' is not available in this build yet");
    return PS_EXIT_USAGE;
}
