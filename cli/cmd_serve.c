/* paysync serve: placeholder until implemented. */
#include "commands.h"

int cmd_serve(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    cli_error("'serve' is not available in this build yet");
    return PS_EXIT_USAGE;
}
