/*
 * cli_mcp.c - `tactus mcp`: the MCP servers of the host's configuration
 * (list, call, refresh), through the same broker a run uses (policy,
 * redaction, audit), and `tactus mcp serve` (cli_mcp_serve.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "broker.h"
#include "cli.h"
#include "journal.h"
#include "proto.h"

static const char mcp_usage[] =
    "usage: tactus mcp list [--json] [--config DIR]\n"
    "       tactus mcp call SERVER TOOL [--args JSON] [--json] [--config DIR]\n"
    "       tactus mcp refresh [--config DIR] [--output FILE]\n"
    "       tactus mcp serve FILE... [--http HOST:PORT] [--token TOKEN] [run options]\n"
    "\n"
    "MCP servers are declared in the host's configuration (mcp_servers:, docs/mcp.md);\n"
    "the broker starts them, never the sandbox.\n"
    "\n"
    "  list      each server: started or why not, its protocol version and its tools\n"
    "  call      call one tool (for debugging), through the broker's policy and audit log\n"
    "  refresh   cache every server's tools (names, schemas) in .tactus/mcp-tools.json,\n"
    "            which `tactus check` reads to check grants and arguments\n"
    "  serve     serve procedures as MCP tools over stdio (default) or Streamable HTTP\n"
    "\n"
    "options:\n"
    "      --config DIR        read the configuration cascade as if running in DIR (default .)\n"
    "      --args JSON         the tool's arguments, a JSON object (default {})\n"
    "      --json              machine-readable output\n"
    "      --output FILE       where refresh writes (default DIR/.tactus/mcp-tools.json)\n"
    "      --store PATH        the journal beside which the audit log goes\n"
    "  -h, --help              show this help\n"
    "\n"
    "exit status: 0 done, 1 a server or the call failed (each named on stderr), 2 bad\n"
    "arguments or a configuration that was refused (an untrusted project file).\n";


static bool interrupted(void *ud)
{
    (void)ud;
    return sup_interrupted();
}

/* The configuration of DIR and a broker on it, audited like a run. */
typedef struct {
    cJSON *config;
    br_broker *broker;
    struct sigaction old_int, old_term;
} mcp_host;

static bool host_open(mcp_host *h, const char *dir, const char *store_arg, const char *cmd)
{
    memset(h, 0, sizeof *h);
    char err[1024];
    cf_env_files_load(dir, stderr);
    if (cf_load(dir, &h->config, err, sizeof err) != TX_OK) {
        cli_error("tactus mcp %s: %s\n", cmd, err);
        return false;
    }
    h->broker = br_broker_new(h->config, NULL, false);
    if (!h->broker) {
        cli_error("tactus mcp %s: out of memory\n", cmd);
        cJSON_Delete(h->config);
        return false;
    }
    char store[4096], audit[4200];
    if (store_arg)
        snprintf(store, sizeof store, "%s", store_arg);
    else
        tj_default_path(store, sizeof store);
    const cJSON *ap = cf_get(h->config, "audit.path");
    if (cJSON_IsString(ap))
        snprintf(audit, sizeof audit, "%s", ap->valuestring);
    else
        br_audit_default_path(store, audit, sizeof audit);
    /* The audit log's folder, private, as a run makes it for its journal. */
    for (char *p = audit + 1; *p; p++) {
        if (*p != '/') continue;
        *p = '\0';
        mkdir(audit, 0700);
        *p = '/';
    }
    const char *tenant = getenv("TACTUS_TENANT");
    br_set_audit(h->broker, audit, tenant && *tenant ? tenant : "default");
    char run_id[40];
    hl_new_run_id(run_id);
    memcpy(run_id, "mcp", 3); /* "mcp-...": the audit records of one command */
    br_set_effect(h->broker, run_id, -1);
    sup_catch_interrupts(&h->old_int, &h->old_term);
    br_set_interrupt(h->broker, interrupted, NULL);
    return true;
}

static void host_close(mcp_host *h)
{
    br_broker_free(h->broker); /* stops the servers it started */
    sup_release_interrupts(&h->old_int, &h->old_term);
    cJSON_Delete(h->config);
}

static cJSON *ask(mcp_host *h, const char *method, cJSON *params)
{
    cJSON *req = cJSON_CreateObject();
    cJSON_AddNumberToObject(req, "id", 1);
    cJSON_AddStringToObject(req, "method", method);
    cJSON_AddItemToObject(req, "params", params);
    cJSON *reply = br_handle(h->broker, req, NULL, NULL);
    cJSON_Delete(req);
    return reply;
}

static const char *reply_error(const cJSON *reply, const char **type)
{
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(reply, "error");
    *type = hl_json_str(e, "type");
    return e ? hl_json_str(e, "message") : NULL;
}

/* Every server's tools (mcp.tools through the broker), as {name: reply}. */
static cJSON *all_tools(mcp_host *h)
{
    cJSON *out = cJSON_CreateObject();
    const cJSON *s;
    cJSON_ArrayForEach(s, cf_get(h->config, "mcp_servers"))
    {
        cJSON *p = cJSON_CreateObject();
        cJSON_AddStringToObject(p, "server", s->string);
        cJSON_AddItemToObject(out, s->string, ask(h, "mcp.tools", p));
    }
    return out;
}

static int mcp_list(mcp_host *h, bool json)
{
    cJSON *all = all_tools(h);
    int rc = CLI_EXIT_OK;
    cJSON *doc = cJSON_CreateArray();
    const cJSON *r;
    cJSON_ArrayForEach(r, all)
    {
        const char *type, *msg = reply_error(r, &type);
        const cJSON *data = cJSON_GetObjectItemCaseSensitive(r, "data");
        const cJSON *server = cJSON_GetObjectItemCaseSensitive(data, "server");
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "name", r->string);
        if (msg) {
            rc = CLI_EXIT_FAILED;
            cJSON_AddStringToObject(o, "status", "failed");
            cJSON_AddStringToObject(o, "error_type", type ? type : "McpError");
            cJSON_AddStringToObject(o, "error", msg);
            if (!json) cli_error("%s: failed: %s: %s\n", r->string, type ? type : "McpError", msg);
            cJSON_AddItemToArray(doc, o);
            continue;
        }
        const char *v = hl_json_str(server, "protocol_version");
        const char *sname = hl_json_str(cJSON_GetObjectItemCaseSensitive(server, "info"), "name");
        cJSON_AddStringToObject(o, "status", "started");
        cJSON_AddStringToObject(o, "protocol_version", v ? v : "");
        cJSON_AddItemToObject(o, "tools", cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(data, "tools"), 1));
        cJSON_AddItemToArray(doc, o);
        if (json) continue;
        printf("%s: started (protocol %s%s%s), %d tools\n", r->string, v ? v : "?", sname ? ", " : "",
               sname ? sname : "", cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(data, "tools")));
        const cJSON *t;
        cJSON_ArrayForEach(t, cJSON_GetObjectItemCaseSensitive(data, "tools"))
        {
            tx_buf line;
            tx_buf_init(&line, 600);
            const char *d = hl_json_str(t, "description");
            tx_buf_shorten(&line, d ? d : "", 100, NULL);
            printf("  %s_%s  %s\n", r->string, hl_json_str(t, "name"), line.data ? line.data : "");
            tx_buf_free(&line);
        }
    }
    if (json) cli_print_json(stdout, doc);
    if (!json && cJSON_GetArraySize(all) == 0)
        printf("no MCP servers are configured (mcp_servers: in ~/.config/tactus/config.yml; docs/mcp.md)\n");
    cJSON_Delete(doc);
    cJSON_Delete(all);
    return rc;
}

static int mcp_call(mcp_host *h, const char *server, const char *tool, const char *args_text, bool json)
{
    char why[300];
    cJSON *args = args_text ? tp_json_parse_strict(args_text, strlen(args_text), 200, why, sizeof why)
                            : cJSON_CreateObject();
    if (!args || !cJSON_IsObject(args)) {
        cli_error("tactus mcp call: --args must be a JSON object: %s\n", args ? "it is not an object" : why);
        cJSON_Delete(args);
        return CLI_EXIT_USAGE;
    }
    cJSON *p = cJSON_CreateObject();
    char name[400];
    snprintf(name, sizeof name, "mcp.%s.%s", server, tool);
    cJSON_AddStringToObject(p, "name", name);
    cJSON_AddItemToObject(p, "args", args);
    cJSON *r = ask(h, "tool.call", p);
    const char *type, *msg = reply_error(r, &type);
    int rc = CLI_EXIT_OK;
    if (msg) {
        cli_error("tactus mcp call: %s: %s\n", type ? type : "McpError", msg);
        rc = CLI_EXIT_FAILED;
    } else {
        const cJSON *result = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(r, "data"), "result");
        if (cJSON_IsString(result) && !json) {
            tx_fputs_term(result->valuestring, stdout);
            if (!*result->valuestring || result->valuestring[strlen(result->valuestring) - 1] != '\n')
                putchar('\n');
        } else {
            cli_print_json(stdout, result);
        }
    }
    cJSON_Delete(r);
    return rc;
}

/* .tactus/mcp-tools.json: {"version": 1, "servers": {NAME: {tools:
 * [{name, description, input_schema, output_schema?}], protocol_version,
 * refreshed_ms}}}: what `tactus check` knows of MCP tools. */
static int mcp_refresh(mcp_host *h, const char *dir, const char *output)
{
    char path[4200];
    if (output) {
        snprintf(path, sizeof path, "%s", output);
    } else {
        snprintf(path, sizeof path, "%s/.tactus", dir);
        if (mkdir(path, 0755) != 0 && errno != EEXIST) {
            cli_error("tactus mcp refresh: cannot make %s: %s\n", path, strerror(errno));
            return CLI_EXIT_FAILED;
        }
        /* A project's files are not the user's: a .tactus that is a link
         * (as a cloned repository can bring) would take the write elsewhere. */
        struct stat st;
        if (lstat(path, &st) != 0 || !S_ISDIR(st.st_mode)) {
            cli_error("tactus mcp refresh: %s is not a folder (a symbolic link?): the cache is written "
                      "only into a real folder; remove it, or write elsewhere with --output FILE\n",
                      path);
            return CLI_EXIT_FAILED;
        }
        snprintf(path, sizeof path, "%s/.tactus/mcp-tools.json", dir);
    }
    cJSON *all = all_tools(h);
    cJSON *doc = cJSON_CreateObject();
    cJSON_AddNumberToObject(doc, "version", 1);
    cJSON *servers = cJSON_AddObjectToObject(doc, "servers");
    int rc = CLI_EXIT_OK;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    const cJSON *r;
    cJSON_ArrayForEach(r, all)
    {
        const char *type, *msg = reply_error(r, &type);
        if (msg) {
            cli_error("tactus mcp refresh: %s: %s: %s (its tools are not cached)\n", r->string,
                      type ? type : "McpError", msg);
            rc = CLI_EXIT_FAILED;
            continue;
        }
        const cJSON *data = cJSON_GetObjectItemCaseSensitive(r, "data");
        cJSON *s = cJSON_AddObjectToObject(servers, r->string);
        cJSON_AddItemToObject(s, "tools", cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(data, "tools"), 1));
        const char *v = hl_json_str(cJSON_GetObjectItemCaseSensitive(data, "server"), "protocol_version");
        cJSON_AddStringToObject(s, "protocol_version", v ? v : "");
        cJSON_AddNumberToObject(s, "refreshed_ms", (double)ts.tv_sec * 1000.0 + (double)(ts.tv_nsec / 1000000));
        printf("%s: %d tools\n", r->string, cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(data, "tools")));
    }
    char *text = cJSON_Print(doc);
    char tmp[4300];
    /* A new file (O_EXCL, O_NOFOLLOW: never through a link planted under
     * that name), renamed over the cache: a link at PATH is replaced, not
     * written through. */
    snprintf(tmp, sizeof tmp, "%s.%ld.tmp", path, (long)getpid());
    unlink(tmp);
    int fd = text ? open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644) : -1;
    size_t len = text ? strlen(text) : 0;
    bool ok = fd >= 0 && write(fd, text, len) == (ssize_t)len && write(fd, "\n", 1) == 1;
    if (fd >= 0 && close(fd) != 0) ok = false;
    if (ok && rename(tmp, path) != 0) ok = false;
    if (!ok) {
        cli_error("tactus mcp refresh: cannot write %s: %s\n", path, strerror(errno));
        if (fd >= 0) unlink(tmp);
        rc = CLI_EXIT_FAILED;
    } else {
        printf("wrote %s\n", path);
    }
    cJSON_free(text);
    cJSON_Delete(doc);
    cJSON_Delete(all);
    return rc;
}

int cli_mcp(int argc, char **argv)
{
    if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
        fputs(mcp_usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? CLI_EXIT_USAGE : CLI_EXIT_OK;
    }
    const char *sub = argv[1];
    if (strcmp(sub, "serve") == 0) return cli_mcp_serve(argc - 1, argv + 1);
    if (strcmp(sub, "list") && strcmp(sub, "call") && strcmp(sub, "refresh")) {
        cli_error("tactus mcp: unknown subcommand '%s' (expected list, call, refresh or serve)\n\n%s", sub,
                  mcp_usage);
        return CLI_EXIT_USAGE;
    }
    static const struct option longopts[] = {
        {"json", no_argument, NULL, 'j'},         {"config", required_argument, NULL, 'C'},
        {"args", required_argument, NULL, 'a'},   {"output", required_argument, NULL, 'o'},
        {"store", required_argument, NULL, 'S'},  {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    bool json = false;
    const char *dir = ".", *args = NULL, *output = NULL, *store = NULL;
    int opt;
    optind = 1;
    while ((opt = getopt_long(argc - 1, argv + 1, "h", longopts, NULL)) != -1) {
        switch (opt) {
        case 'j': json = true; break;
        case 'C': dir = optarg; break;
        case 'a': args = optarg; break;
        case 'o': output = optarg; break;
        case 'S': store = optarg; break;
        case 'h': fputs(mcp_usage, stdout); return CLI_EXIT_OK;
        default: cli_error("\n%s", mcp_usage); return CLI_EXIT_USAGE;
        }
    }
    int rest = argc - 1 - optind;
    char **pos = argv + 1 + optind;
    bool call = strcmp(sub, "call") == 0;
    if ((call && rest != 2) || (!call && rest != 0)) {
        cli_error(call ? "tactus mcp call: expected SERVER and TOOL, e.g. tactus mcp call files read_file "
                         "--args '{\"path\": \"/data/a.txt\"}'\n"
                       : "tactus mcp %s: takes no file arguments (use --config DIR)\n",
                  sub);
        return CLI_EXIT_USAGE;
    }
    mcp_host h;
    if (!host_open(&h, dir, store, sub)) return CLI_EXIT_USAGE;
    int rc;
    if (call)
        rc = mcp_call(&h, pos[0], pos[1], args, json);
    else if (strcmp(sub, "list") == 0)
        rc = mcp_list(&h, json);
    else
        rc = mcp_refresh(&h, dir, output);
    host_close(&h);
    return rc;
}
