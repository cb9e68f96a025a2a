/*
 * cli_serve.c - `tactus serve` (the HTTP API and the approvals inbox,
 * service/) and `tactus tokens create|list|revoke` (its API tokens).
 * Everything here is the user's own configuration: the command line and
 * the environment; nothing a procedure wrote is read.
 */
#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "sandbox.h"
#include "service.h"

static const char serve_usage[] =
    "usage: tactus serve [options]\n"
    "\n"
    "Serve the HTTP API (/v1, docs/api.md) and the approvals inbox page (/) over the\n"
    "store: submit runs, follow them, and answer what they ask people, from a browser\n"
    "or a script. Runs are executed by `tactus worker`s on the same store.\n"
    "\n"
    "options:\n"
    "      --listen HOST:PORT  where to listen (default 127.0.0.1:8420; port 0 picks one);\n"
    "                          an address other than loopback needs TLS\n"
    "      --tls-cert FILE     the server's certificate, then its intermediates (PEM): HTTPS by\n"
    "                          OpenSSL, TLS 1.2 or newer\n"
    "      --tls-key FILE      its private key (PEM, no passphrase)\n"
    "      --store URL|PATH    the store (default $TACTUS_STORE, else journal.url of the trusted\n"
    "                          configuration, else ~/.local/share/tactus/journal.db)\n"
    "      --tokens FILE       the API tokens (default $TACTUS_TOKENS, else\n"
    "                          ~/.config/tactus/tokens.json; made by tactus tokens create)\n"
    "      --procedures DIR    the folder whose .tac files POST /v1/runs may run (default: none,\n"
    "                          no submissions)\n"
    "      --webhook URL       POST a notification there for each new pending request\n"
    "                          (repeatable; retried with backoff; default serve.webhooks of the\n"
    "                          trusted configuration)\n"
    "      --public-url URL    how people reach this server (the link in notifications; default\n"
    "                          serve.public_url)\n"
    "      --max-body BYTES    the largest request body (default 1048576)\n"
    "      --rate N            requests a second per token, bursts of 2N (default 100; 0: no limit)\n"
    "      --max-connections N at once (default 2048)\n"
    "      --per-ip N          connections at once from one address (default 256; 0: no\n"
    "                          limit; behind a proxy, every client has the proxy's address)\n"
    "      --streams-per-token N  event streams one token holds open at once (default 32; 0: no\n"
    "                          limit; each inbox tab is one)\n"
    "      --idle-timeout S    close a connection silent this long, and a TLS handshake not\n"
    "                          done in it (default 15)\n"
    "  -v, --verbose           a line per request on stderr\n"
    "  -h, --help              show this help\n"
    "\n"
    "\n"
    "serve.listen, serve.webhooks and serve.public_url may also come from the trusted\n"
    "configuration (~/.config/tactus/config.yml, /etc/tactus); a project's own file may not\n"
    "set them (tactus serve refuses to start).\n"
    "\n"
    "exit status: 0 stopped (SIGTERM, Ctrl-C), 1 the store, tokens or socket failed, 2 usage.\n";

static const char tokens_usage[] =
    "usage: tactus tokens create --tenant T --role viewer|submitter|approver|admin [--name NAME]\n"
    "       tactus tokens list [--json]\n"
    "       tactus tokens revoke ID\n"
    "\n"
    "API tokens of tactus serve, kept hashed in the tokens file (--tokens FILE, default\n"
    "$TACTUS_TOKENS, else ~/.config/tactus/tokens.json, mode 0600). create prints the\n"
    "token alone on its last line, once: it cannot be shown again. NAME is the person\n"
    "(or system) the token stands for: answers given with it are recorded as theirs.\n"
    "Roles: viewer reads; submitter also submits and cancels runs; approver also\n"
    "answers requests; admin all of it. Every token sees only its tenant.\n";

static volatile sig_atomic_t stop_flag;
static void on_stop(int sig)
{
    (void)sig;
    stop_flag = 1;
}

static bool number_opt(const char *arg, const char *what, long max, long *out)
{
    char *end;
    long v = strtol(arg, &end, 10);
    if (*arg && !*end && v >= 0 && v <= max) {
        *out = v;
        return true;
    }
    cli_error("tactus serve: %s takes a number from 0 to %ld, not '%s'\n", what, max, arg);
    return false;
}

/* serve.webhooks: a list whose items are a URL (every tenant's requests)
 * or {url: URL, tenants: [NAME, ...]} (only those tenants'). False after
 * saying what is wrong. */
static bool webhooks_of_config(const cJSON *list, ws_webhook **out, const char ***names, size_t *n)
{
    static const char shape[] = "write a URL or {url: URL, tenants: [NAME, ...]}";
    if (!cJSON_IsArray(list)) {
        cli_error("tactus serve: serve.webhooks must be a list: %s for each\n", shape);
        return false;
    }
    size_t total = 0;
    const cJSON *w;
    cJSON_ArrayForEach(w, list) total += (size_t)cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(w, "tenants"));
    *out = tx_calloc((size_t)cJSON_GetArraySize(list) + 1, sizeof **out);
    *names = tx_calloc(total + 1, sizeof **names);
    if (!*out || !*names) return false;
    size_t k = 0, i = 0;
    cJSON_ArrayForEach(w, list)
    {
        ws_webhook *h = &(*out)[i];
        const cJSON *url = cJSON_IsString(w) ? w : cJSON_GetObjectItemCaseSensitive(w, "url");
        const cJSON *tenants = cJSON_GetObjectItemCaseSensitive(w, "tenants");
        if (!cJSON_IsString(url) || (tenants && !cJSON_IsArray(tenants))) {
            cli_error("tactus serve: serve.webhooks[%zu]: %s\n", i, shape);
            return false;
        }
        h->url = url->valuestring;
        h->tenants = &(*names)[k];
        const cJSON *t;
        cJSON_ArrayForEach(t, tenants)
        {
            if (!cJSON_IsString(t) || !*t->valuestring) {
                cli_error("tactus serve: serve.webhooks[%zu].tenants: a list of tenant names\n", i);
                return false;
            }
            (*names)[k++] = t->valuestring;
            h->n_tenants++;
        }
        i++;
    }
    *n = i;
    return true;
}

int cli_serve(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"listen", required_argument, NULL, 'l'},   {"tls-cert", required_argument, NULL, 'c'},
        {"tls-key", required_argument, NULL, 'k'},  {"store", required_argument, NULL, 'S'},
        {"tokens", required_argument, NULL, 't'},   {"procedures", required_argument, NULL, 'p'},
        {"webhook", required_argument, NULL, 'w'},  {"public-url", required_argument, NULL, 'u'},
        {"max-body", required_argument, NULL, 'b'}, {"rate", required_argument, NULL, 'r'},
        {"max-connections", required_argument, NULL, 'C'}, {"per-ip", required_argument, NULL, 'P'},
        {"streams-per-token", required_argument, NULL, 'T'},
        {"idle-timeout", required_argument, NULL, 'i'}, {"verbose", no_argument, NULL, 'v'},
        {"help", no_argument, NULL, 'h'},           {NULL, 0, NULL, 0},
    };
    ws_options o;
    ws_options_init(&o);
    const char *store_arg = NULL, *tokens_arg = NULL;
    ws_webhook *hooks = tx_calloc((size_t)argc + 1, sizeof *hooks), *hooks_cfg = NULL;
    const char **hook_tenants = NULL;
    cJSON *config = NULL;
    if (!hooks) return CLI_EXIT_FAILED;
    int opt, rc = CLI_EXIT_USAGE;
    long n;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "vh", longopts, NULL)) != -1) {
        switch (opt) {
        case 'l': o.listen = optarg; break;
        case 'c': o.tls_cert = optarg; break;
        case 'k': o.tls_key = optarg; break;
        case 'S': store_arg = optarg; break;
        case 't': tokens_arg = optarg; break;
        case 'p': o.procedures = optarg; break;
        case 'w': hooks[o.n_webhooks++].url = optarg; break;
        case 'u': o.public_url = optarg; break;
        case 'b': if (!number_opt(optarg, "--max-body", 1L << 30, &n)) goto done; o.max_body = n; break;
        case 'r': if (!number_opt(optarg, "--rate", 1000000, &n)) goto done; o.rate = n; break;
        case 'C': if (!number_opt(optarg, "--max-connections", 100000, &n) || !n) goto done; o.max_connections = (int)n; break;
        case 'P': if (!number_opt(optarg, "--per-ip", 100000, &n)) goto done; o.per_ip_connections = (int)n; break;
        case 'T': if (!number_opt(optarg, "--streams-per-token", 100000, &n)) goto done; o.streams_per_token = (int)n; break;
        case 'i': if (!number_opt(optarg, "--idle-timeout", 3600, &n) || !n) goto done; o.idle_timeout_s = (int)n; break;
        case 'v': o.log = stderr; break;
        case 'h': fputs(serve_usage, stdout); rc = CLI_EXIT_OK; goto done;
        default: fputs(serve_usage, stderr); goto done;
        }
    }
    if (optind != argc) {
        cli_error("tactus serve: unexpected argument '%s'\n\n%s", argv[optind], serve_usage);
        goto done;
    }
    /* The trusted configuration (of the current folder's cascade, as for
     * the store): serve.* keys are privileged, so a project file that sets
     * them without `tactus trust` stops the start. */
    char cfg_err[1024];
    if (cf_load(".", &config, cfg_err, sizeof cfg_err) != TX_OK) {
        cli_error("tactus serve: configuration error: %s (it is read for serve.*)\n", cfg_err);
        goto done;
    }
    const cJSON *v = cf_get(config, "serve.listen");
    bool listen_given = false;
    for (int i = 1; i < argc; i++) listen_given |= !strncmp(argv[i], "--listen", 8);
    if (cJSON_IsString(v) && !listen_given) o.listen = v->valuestring;
    v = cf_get(config, "serve.public_url");
    if (cJSON_IsString(v) && !o.public_url) o.public_url = v->valuestring;
    const cJSON *list = cf_get(config, "serve.webhooks");
    if (!o.n_webhooks && list && !webhooks_of_config(list, &hooks_cfg, &hook_tenants, &o.n_webhooks)) goto done;
    o.webhooks = hooks_cfg ? hooks_cfg : hooks;
    char store[4096], tokens[4096];
    if (!cli_store_resolve("tactus serve", store_arg, NULL, store, sizeof store)) goto done;
    if (tokens_arg) snprintf(tokens, sizeof tokens, "%s", tokens_arg);
    else ws_tokens_default_path(tokens, sizeof tokens);
    o.store = store;
    o.tokens = tokens;
    if (o.procedures) {
        /* Its runs may write in the procedures folder: the tokens file (a
         * procedure could mint itself a token), the store and the host's
         * configuration must not be in it. */
        char store_dir[4096], why[1024];
        cli_store_dir(store, store_dir, sizeof store_dir);
        const sb_host_place also[] = {{"API tokens", tokens}, {"journal", store_dir}};
        if (sb_check_workspace(o.procedures, also, 2, why, sizeof why) != TX_OK) {
            cli_error("tactus serve: --procedures %s: %s\n", o.procedures, why);
            rc = CLI_EXIT_USAGE;
            goto done;
        }
    }
    struct sigaction sa = {0};
    sa.sa_handler = on_stop;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    rc = ws_serve(&o, &stop_flag);
done:
    cJSON_Delete(config);
    tx_free(hooks_cfg);
    tx_free(hook_tenants);
    tx_free(hooks);
    return rc;
}

int cli_tokens(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"tenant", required_argument, NULL, 't'}, {"role", required_argument, NULL, 'r'},
        {"name", required_argument, NULL, 'n'},   {"tokens", required_argument, NULL, 'T'},
        {"json", no_argument, NULL, 'j'},         {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *tenant = NULL, *role_name = NULL, *name = NULL, *path_arg = NULL;
    bool json = false;
    int opt;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (opt) {
        case 't': tenant = optarg; break;
        case 'r': role_name = optarg; break;
        case 'n': name = optarg; break;
        case 'T': path_arg = optarg; break;
        case 'j': json = true; break;
        case 'h': fputs(tokens_usage, stdout); return CLI_EXIT_OK;
        default: fputs(tokens_usage, stderr); return CLI_EXIT_USAGE;
        }
    }
    if (optind >= argc) {
        cli_error("tactus tokens: expected create, list or revoke\n\n%s", tokens_usage);
        return CLI_EXIT_USAGE;
    }
    const char *verb = argv[optind];
    char path[4096], err[1024];
    if (path_arg) snprintf(path, sizeof path, "%s", path_arg);
    else ws_tokens_default_path(path, sizeof path);
    if (!strcmp(verb, "create") && optind + 1 == argc) {
        ws_role role;
        if (!tenant || !*tenant || strlen(tenant) >= 128) {
            cli_error("tactus tokens create: --tenant NAME is required (the tenant whose runs the token reaches)\n");
            return CLI_EXIT_USAGE;
        }
        if (!ws_role_parse(role_name, &role)) {
            cli_error("tactus tokens create: --role takes viewer, submitter, approver or admin\n");
            return CLI_EXIT_USAGE;
        }
        char who[128];
        snprintf(who, sizeof who, "%s", name && *name ? name : "");
        ws_token rec;
        char token[128];
        if (ws_tokens_create(path, tenant, role, who[0] ? who : role_name, &rec, token, sizeof token, err,
                             sizeof err) != TX_OK) {
            cli_error("tactus tokens create: %s\n", err);
            return CLI_EXIT_FAILED;
        }
        printf("token %s for tenant %s, role %s, name %s (kept hashed in %s; shown once):\n", rec.id, rec.tenant,
               ws_role_name(rec.role), rec.name, path);
        printf("%s\n", token);
        memset(token, 0, sizeof token);
        return CLI_EXIT_OK;
    }
    if (!strcmp(verb, "list") && optind + 1 == argc) {
        cJSON *list = NULL;
        if (ws_tokens_list(path, &list, err, sizeof err) != TX_OK) {
            cli_error("tactus tokens list: %s\n", err);
            return CLI_EXIT_FAILED;
        }
        if (json) {
            char *t = cJSON_PrintUnformatted(list);
            printf("%s\n", t ? t : "[]");
            cJSON_free(t);
        } else {
            if (!cJSON_GetArraySize(list)) printf("no tokens in %s\n", path);
            const cJSON *t;
            cJSON_ArrayForEach(t, list)
            {
                char *tn = tx_term_text(hl_json_str(t, "tenant")), *nm = tx_term_text(hl_json_str(t, "name"));
                printf("%-16s %-10s %-20s %-20s%s\n", hl_json_str(t, "id"), hl_json_str(t, "role"), tn ? tn : "?",
                       nm ? nm : "?", cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(t, "revoked")) ? " revoked" : "");
                tx_free(tn);
                tx_free(nm);
            }
        }
        cJSON_Delete(list);
        return CLI_EXIT_OK;
    }
    if (!strcmp(verb, "revoke") && optind + 2 == argc) {
        tx_status st = ws_tokens_revoke(path, argv[optind + 1], err, sizeof err);
        if (st != TX_OK) {
            cli_error("tactus tokens revoke: %s\n", err);
            return st == TX_ENOENT ? CLI_EXIT_USAGE : CLI_EXIT_FAILED;
        }
        printf("revoked %s (a running server refuses it from its next request)\n", argv[optind + 1]);
        return CLI_EXIT_OK;
    }
    cli_error("tactus tokens: expected create, list or revoke ID\n\n%s", tokens_usage);
    return CLI_EXIT_USAGE;
}
