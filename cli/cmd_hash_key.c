/* paysync hash_key: placeholder until implemented. */
#include "commands.h"

int cmd_hash_key(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    cli_error("'hash_key' is not available in this build yet");
    return PS_EXIT_USAGE;
}
