/*
 * main.c - entry point of `tactus`: global options and subcommand dispatch.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "proto.h"

static const char usage[] =
    "usage: tactus <command> [options] [args]\n"
    "\n"
    "Tactus: a toolchain for tool-using AI agents written in .tac procedures.\n"
    "\n"
    "commands:\n"
    "  check FILE|DIR...   parse and check procedures without running them\n"
    "  run FILE            run a procedure (model calls and host tools via the broker)\n"
    "  test FILE|DIR...    run the Specifications (Gherkin scenarios) of procedures\n"
    "  eval FILE|DIR...    score procedures over their Evaluation datasets\n"
    "  runs [--status S]   durable runs of this tenant\n"
    "  approvals           pending human requests\n"
    "  approve RUN REQ     answer a request (--deny, --value JSON, --as NAME)\n"
    "  resume RUN          continue a waiting or interrupted run\n"
    "  show RUN            a run's journal as a readable trace\n"
    "  audit RUN           the broker's audit records of a run\n"
    "  submit FILE         queue a run for the workers; prints its id\n"
    "  worker              claim and run queued and resumable runs (--concurrency N, --tenant T)\n"
    "  queue [cancel RUN]  the tenant's queue: who holds which run, and its lease\n"
    "  serve               the HTTP API and the approvals inbox page (docs/api.md)\n"
    "  tokens create|list|revoke   API tokens of tactus serve, per tenant and role\n"
    "  store migrate|status  the journal's schema (a PostgreSQL store is migrated by this)\n"
    "  broker serve        a broker for remote runtimes (tcp:// or tls://)\n"
    "  sandbox status|rebuild|doctor|prune   the Docker sandbox: state, image, self-check\n"
    "  trust [DIR]         trust a project's config and .env (their current content)\n"
    "  config [FILE]       the merged configuration of a run of FILE, and where each key came from\n"
    "  mcp list|call|refresh|serve   MCP servers as brokered tools; procedures served as MCP tools\n"
    "  lsp                 the language server for editors (stdio; docs/editors.md)\n"
    "  version             print the version\n"
    "\n"
    "Run 'tactus <command> --help' for a command's options.\n"
    "Documentation: docs/ (docs/cli.md, docs/diagnostics.md).\n";

int main(int argc, char **argv)
{
    /* A runtime (or a pipe reader) that dies must not kill the host with
     * SIGPIPE: writes then fail with EPIPE and the run is reported failed. */
    signal(SIGPIPE, SIG_IGN);
    /* cJSON allocates through the project's wrappers, like everything else. */
    cJSON_Hooks hooks = {tx_malloc, tx_free};
    cJSON_InitHooks(&hooks);
    if (argc < 2) {
        fputs(usage, stderr);
        return CLI_EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
        fputs(usage, stdout);
        return CLI_EXIT_OK;
    }
    if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "-V") == 0 || strcmp(cmd, "version") == 0) {
        printf("tactus %s\n", TACTUS_VERSION);
        return CLI_EXIT_OK;
    }
    if (strcmp(cmd, "check") == 0) return cli_check(argc - 1, argv + 1);
    if (strcmp(cmd, "run") == 0) return cli_run(argc - 1, argv + 1);
    if (strcmp(cmd, "test") == 0) return cli_test(argc - 1, argv + 1);
    if (strcmp(cmd, "eval") == 0) return cli_eval(argc - 1, argv + 1);
    if (strcmp(cmd, "broker") == 0) return cli_broker(argc - 1, argv + 1);
    if (strcmp(cmd, "sandbox") == 0) return cli_sandbox(argc - 1, argv + 1);
    if (strcmp(cmd, "trust") == 0) return cli_trust(argc - 1, argv + 1);
    if (strcmp(cmd, "config") == 0) return cli_config(argc - 1, argv + 1);
    if (strcmp(cmd, "lsp") == 0) return cli_lsp(argc - 1, argv + 1);
    if (strcmp(cmd, "mcp") == 0) return cli_mcp(argc - 1, argv + 1);
    if (strcmp(cmd, "store") == 0) return cli_store(argc - 1, argv + 1);
    if (strcmp(cmd, "submit") == 0) return cli_submit(argc - 1, argv + 1);
    if (strcmp(cmd, "worker") == 0) return cli_worker(argc - 1, argv + 1);
    if (strcmp(cmd, "queue") == 0) return cli_queue(argc - 1, argv + 1);
    if (strcmp(cmd, "serve") == 0) return cli_serve(argc - 1, argv + 1);
    if (strcmp(cmd, "tokens") == 0) return cli_tokens(argc - 1, argv + 1);
    if (!strcmp(cmd, "runs") || !strcmp(cmd, "approvals") || !strcmp(cmd, "approve") ||
        !strcmp(cmd, "resume") || !strcmp(cmd, "show") || !strcmp(cmd, "audit"))
        return cli_runs(argc - 1, argv + 1);
    cli_error("tactus: unknown command '%s'\n\n%s", cmd, usage);
    return CLI_EXIT_USAGE;
}
