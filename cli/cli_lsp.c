/*
 * cli_lsp.c - `tactus lsp`: the language server on stdin/stdout.
 */
#include <errno.h>
#include <getopt.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "lsp.h"

static const char lsp_usage[] =
    "usage: tactus lsp [--log FILE]\n"
    "\n"
    "Serve the Language Server Protocol (3.17) on stdin/stdout for editors: the\n"
    "diagnostics of 'tactus check' while you type, and hover, completion,\n"
    "definition, references, rename, symbols, folding, semantic tokens and code\n"
    "actions that know the DSL. Editor set-ups: docs/editors.md.\n"
    "\n"
    "options:\n"
    "  --log FILE   append a trace of every message in and out to FILE\n"
    "  --stdio      accepted for editors that pass it (stdio is the only transport)\n"
    "  -h, --help   show this help\n"
    "\n"
    "exit status: 0 after 'shutdown' then 'exit', 1 when the input ends or 'exit'\n"
    "comes without 'shutdown'.\n";

int cli_lsp(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"log", required_argument, NULL, 'l'},
        {"stdio", no_argument, NULL, 's'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    lsp_options opts = {.debounce_ms = -1};
    int opt;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (opt) {
        case 'l':
            opts.log_path = optarg;
            break;
        case 's':
            break;
        case 'h':
            fputs(lsp_usage, stdout);
            return CLI_EXIT_OK;
        default:
            fputs(lsp_usage, stderr);
            return CLI_EXIT_USAGE;
        }
    }
    if (optind < argc) {
        fprintf(stderr,
                "tactus lsp: unexpected argument '%s'; the server talks on stdin/stdout\n\n%s",
                argv[optind], lsp_usage);
        return CLI_EXIT_USAGE;
    }
    if (opts.log_path) {
        FILE *f = fopen(opts.log_path, "a");
        if (!f) {
            cli_error("tactus lsp: cannot open the log file %s: %s; give a writable path\n",
                    opts.log_path, strerror(errno));
            return CLI_EXIT_USAGE;
        }
        fclose(f);
    }
    return lsp_serve(STDIN_FILENO, STDOUT_FILENO, &opts);
}
