/*
 * cli_mcp_serve.c - `tactus mcp serve FILE...` (being written).
 */
#include "cli.h"

int cli_mcp_serve(int argc, char **argv);
int cli_mcp_serve(int argc, char **argv)
{
    (void)argc, (void)argv;
    return CLI_EXIT_USAGE;
}
