/*
 * cli_broker.c - `tactus broker serve`: a broker for remote runtimes.
 *
 * The broker holds the keys (from this process's environment, .env and
 * host configuration), answers the model calls and host tools of runs
 * registered on its control socket, and speaks to their runtimes over TCP
 * or TLS (runtime/serve/serve.c). `tactus run` registers a run there when
 * its configuration says sandbox.broker_transport: tcp or tls.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "serve.h"

static const char broker_usage[] =
    "usage: tactus broker serve --listen tls://HOST:PORT --cert FILE --key FILE [options]\n"
    "       tactus broker serve --listen tcp://HOST:PORT [options]\n"
    "\n"
    "Serve model calls and host tools to runtimes that connect over the network\n"
    "(sandbox.broker_transport: tcp or tls). Runs are registered by `tactus run` on\n"
    "the control socket; each runtime proves its run with a one-time token.\n"
    "\n"
    "options:\n"
    "      --listen URL        tcp://HOST:PORT or tls://HOST:PORT (PORT 0: any free port)\n"
    "      --cert FILE         the server certificate (PEM, with its chain) for tls://\n"
    "      --key FILE          its private key (PEM)\n"
    "      --control PATH      the control socket (default $XDG_RUNTIME_DIR/tactus/broker.sock,\n"
    "                          else ~/.local/state/tactus/broker.sock); only you can use it\n"
    "      --config DIR        read the configuration cascade as if running in DIR (default .)\n"
    "      --audit FILE        the audit log (one JSON line per brokered call)\n"
    "  -h, --help              show this help\n"
    "\n"
    "tcp:// sends prompts and answers unencrypted: use it on loopback or a trusted\n"
    "network only. Stop with Ctrl-C (SIGINT) or SIGTERM. Docs: docs/broker.md.\n";

static void ready(void *ud, const char *port)
{
    (void)ud;
    /* One line on stdout, for scripts that listen on port 0. */
    printf("listening port %s\n", port);
    fflush(stdout);
}

int cli_broker(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "serve") != 0) {
        if (argc >= 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
            fputs(broker_usage, stdout);
            return CLI_EXIT_OK;
        }
        cli_error("tactus broker: expected 'serve'\n\n%s", broker_usage);
        return CLI_EXIT_USAGE;
    }
    static const struct option longopts[] = {
        {"listen", required_argument, NULL, 'l'}, {"cert", required_argument, NULL, 'c'},
        {"key", required_argument, NULL, 'k'},    {"control", required_argument, NULL, 's'},
        {"config", required_argument, NULL, 'C'}, {"audit", required_argument, NULL, 'a'},
        {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0},
    };
    sv_options o = {.log = stderr, .ready = ready};
    const char *config_dir = ".";
    char control[4096];
    bool private_control = cf_default_broker_control(control, sizeof control);
    o.control = control;
    int opt;
    optind = 1;
    while ((opt = getopt_long(argc - 1, argv + 1, "h", longopts, NULL)) != -1) {
        switch (opt) {
        case 'l':
            o.listen = optarg;
            break;
        case 'c':
            o.cert = optarg;
            break;
        case 'k':
            o.key = optarg;
            break;
        case 's':
            o.control = optarg;
            break;
        case 'C':
            config_dir = optarg;
            break;
        case 'a':
            o.audit_path = optarg;
            break;
        case 'h':
            fputs(broker_usage, stdout);
            return CLI_EXIT_OK;
        default:
            fputs(broker_usage, stderr);
            return CLI_EXIT_USAGE;
        }
    }
    if (!private_control && o.control == control) {
        cli_error("tactus broker serve: the control socket has no private default place (neither "
                  "XDG_RUNTIME_DIR nor HOME is set)\n  fix: give --control PATH, a socket in a folder "
                  "of your own\n");
        return CLI_EXIT_USAGE;
    }
    if (!o.listen || optind != argc - 1) {
        cli_error("tactus broker serve: --listen is required\n\n%s", broker_usage);
        return CLI_EXIT_USAGE;
    }
    cJSON *config = NULL;
    char err[1024];
    if (cf_load(config_dir, &config, err, sizeof err) != TX_OK) {
        cli_error("tactus broker serve: configuration error: %s\n", err);
        return CLI_EXIT_USAGE;
    }
    cli_load_env_files("./.");
    o.config = config;
    if (!o.cert) o.cert = hl_json_str(cf_get(config, "sandbox"), "broker_tls_cert_file");
    if (!o.key) o.key = hl_json_str(cf_get(config, "sandbox"), "broker_tls_key_file");
    if (strncmp(o.listen, "tcp://", 6) == 0)
        cli_error("[BROKER] tcp:// is not encrypted: prompts, answers and tool results cross "
                        "the network in clear; use tls:// beyond loopback.\n");
    tx_status st = sv_serve(&o, err, sizeof err);
    cJSON_Delete(config);
    if (st != TX_OK) {
        cli_error("tactus broker serve: %s\n", st == TX_ENOMEM ? "out of memory" : err);
        return CLI_EXIT_USAGE;
    }
    return CLI_EXIT_OK;
}
