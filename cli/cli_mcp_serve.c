/*
 * cli_mcp_serve.c - `tactus mcp serve FILE...`: procedures as MCP tools.
 *
 * Each file's main procedure is one tool, named after the file (its
 * input schema from the procedure's `input`, its outputSchema from
 * `output`), served over stdio (the default) or Streamable HTTP (--http).
 * Each call is a run of its own: `tactus run FILE --input-json ARGS --json`
 * of this very binary, so it is sandboxed, journaled and audited exactly as
 * a run from the command line, and a crash of one run cannot take the
 * server down. A run that waits for a person answers with the pending
 * requests and its run id (in the text, and in _meta: tactus/run_id,
 * tactus/status, tactus/pending); once answered (`tactus approve`), the
 * tool tactus_resume {run_id} continues it: only a run of one of the
 * served files (a client of this server is given these procedures, not
 * every waiting run of the store).
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "journal.h"
#include "mcp.h"

extern char **environ;

#define RESUME_TOOL "tactus_resume"
#define MAX_RUN_OUTPUT (16u << 20)

typedef struct {
    const char *path;
    char name[64];
    cJSON *tool;     /* the tools/list entry */
    bool has_output; /* outputSchema declared: structuredContent is the output */
} served;

typedef struct {
    served *items;
    size_t n;
    char exe[PATH_MAX];
    const char *run_args[16]; /* passed to every `tactus run` / `resume` */
    size_t n_run_args;
    long timeout_ms;
    const char *store, *tenant; /* --store, --tenant (NULL: the defaults) */
} serve_ctx;

/* A field's JSON Schema type; NULL for "any" (no type keyword). */
static const char *json_type(fe_type t)
{
    return t == FE_TYPE_ANY || t == FE_TYPE_UNKNOWN ? NULL : fe_type_name(t);
}

/* A procedure's input or output fields as a JSON Schema object. */
static cJSON *schema_of(const fe_schema *s)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "type", "object");
    cJSON *props = cJSON_AddObjectToObject(o, "properties");
    cJSON *req = cJSON_CreateArray();
    for (const fe_field *f = s->fields; f; f = f->next) {
        cJSON *p = cJSON_AddObjectToObject(props, f->name);
        const char *t = json_type(f->type);
        if (t) cJSON_AddStringToObject(p, "type", t);
        const fe_value *d = fe_value_get(f->options, "description");
        if (d && d->kind == FE_STRING) cJSON_AddStringToObject(p, "description", d->str);
        if (f->enum_values) {
            cJSON *e = fe_value_to_json(f->enum_values);
            if (cJSON_IsArray(e)) cJSON_AddItemToObject(p, "enum", e);
            else cJSON_Delete(e);
        }
        if (f->default_value) {
            cJSON *dv = fe_value_to_json(f->default_value);
            if (dv && !cJSON_IsNull(dv)) cJSON_AddItemToObject(p, "default", dv);
            else cJSON_Delete(dv);
        }
        if (f->required && !f->default_value) cJSON_AddItemToArray(req, cJSON_CreateString(f->name));
    }
    if (cJSON_GetArraySize(req) > 0) cJSON_AddItemToObject(o, "required", req);
    else cJSON_Delete(req);
    return o;
}

/* A tool name from the file's name: letters, digits, '_' and '-'. */
static void tool_name(const char *path, char *out, size_t cap)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    size_t n = strcspn(base, ".");
    size_t k = 0;
    for (size_t i = 0; i < n && k + 1 < cap; i++)
        out[k++] = isalnum((unsigned char)base[i]) || base[i] == '-' ? base[i] : '_';
    out[k] = '\0';
    if (!k) snprintf(out, cap, "procedure");
}

static bool describe(serve_ctx *x, const cli_inputs *in, size_t i)
{
    served *s = &x->items[i];
    const fe_file *f = in->files[i].f;
    const fe_procedure *main = NULL;
    for (const fe_procedure *p = f->procedures; p; p = p->next)
        if (!p->named) main = p;
    if (!main) {
        cli_error("tactus mcp serve: %s has no main procedure to serve (Procedure { function(input) ... end })\n",
                  s->path);
        return false;
    }
    tool_name(s->path, s->name, sizeof s->name);
    for (size_t k = 0; k < i; k++)
        if (strcmp(x->items[k].name, s->name) == 0) {
            cli_error("tactus mcp serve: %s and %s would both be the tool '%s': rename one file\n",
                      x->items[k].path, s->path, s->name);
            return false;
        }
    s->tool = cJSON_CreateObject();
    cJSON_AddStringToObject(s->tool, "name", s->name);
    const fe_value *d = fe_value_get(main->config, "description");
    char text[600];
    if (d && d->kind == FE_STRING)
        snprintf(text, sizeof text, "%s", d->str);
    else
        snprintf(text, sizeof text, "The procedure %s, run in the tactus sandbox (journaled; a run "
                                    "that waits for a person can be resumed with " RESUME_TOOL ")", s->path);
    cJSON_AddStringToObject(s->tool, "description", text);
    cJSON_AddItemToObject(s->tool, "inputSchema", schema_of(&main->input));
    if (main->output.present && main->output.n_fields > 0) {
        cJSON_AddItemToObject(s->tool, "outputSchema", schema_of(&main->output));
        s->has_output = true;
    }
    return true;
}

static cJSON *list_tools(void *ud)
{
    serve_ctx *x = ud;
    cJSON *list = cJSON_CreateArray();
    for (size_t i = 0; i < x->n; i++) cJSON_AddItemToArray(list, cJSON_Duplicate(x->items[i].tool, 1));
    cJSON *r = cJSON_CreateObject();
    cJSON_AddStringToObject(r, "name", RESUME_TOOL);
    cJSON_AddStringToObject(r, "description",
                            "Continue a run that waited for a person, once its requests are answered "
                            "(tactus approve RUN REQUEST): the run's result, or what it waits for now");
    cJSON *in = cJSON_AddObjectToObject(r, "inputSchema");
    cJSON_AddStringToObject(in, "type", "object");
    cJSON *p = cJSON_AddObjectToObject(cJSON_AddObjectToObject(in, "properties"), "run_id");
    cJSON_AddStringToObject(p, "type", "string");
    cJSON *req = cJSON_AddArrayToObject(in, "required");
    cJSON_AddItemToArray(req, cJSON_CreateString("run_id"));
    cJSON_AddItemToArray(list, r);
    return list;
}

static cJSON *text_result(const char *text, bool is_error)
{
    cJSON *r = cJSON_CreateObject();
    cJSON *c = cJSON_AddArrayToObject(r, "content");
    cJSON *t = cJSON_CreateObject();
    cJSON_AddStringToObject(t, "type", "text");
    cJSON_AddStringToObject(t, "text", text);
    cJSON_AddItemToArray(c, t);
    cJSON_AddBoolToObject(r, "isError", is_error);
    return r;
}

/* `tactus run ... --json`'s document -> a CallToolResult. */
static cJSON *run_result(const served *s, const cJSON *doc, const char *stderr_text)
{
    const char *status = hl_json_str(doc, "status"), *run_id = hl_json_str(doc, "run_id");
    cJSON *r;
    if (!status) {
        char m[1200];
        snprintf(m, sizeof m, "the run could not start: %.1000s", stderr_text && *stderr_text ? stderr_text : "(no reason given)");
        return text_result(m, true);
    }
    if (strcmp(status, "completed") == 0) {
        const cJSON *out = cJSON_GetObjectItemCaseSensitive(doc, "output");
        char *text = cJSON_IsString(out) ? NULL : cJSON_PrintUnformatted(out);
        r = text_result(cJSON_IsString(out) ? out->valuestring : text ? text : "null", false);
        cJSON_free(text);
        if (s && s->has_output && cJSON_IsObject(out))
            cJSON_AddItemToObject(r, "structuredContent", cJSON_Duplicate(out, 1));
    } else if (strcmp(status, "waiting") == 0) {
        tx_buf t;
        tx_buf_init(&t, 64 * 1024);
        tx_buf_printf(&t, "run %s waits for a person; no process stays alive:\n", run_id ? run_id : "?");
        const cJSON *p;
        cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(doc, "pending"))
            tx_buf_printf(&t, "  [%s] %s: %s\n", hl_json_str(p, "request_id") ? hl_json_str(p, "request_id") : "?",
                          hl_json_str(p, "kind") ? hl_json_str(p, "kind") : "?",
                          hl_json_str(p, "message") ? hl_json_str(p, "message") : "");
        tx_buf_printf(&t, "Answer with `tactus approve %s REQUEST` (or --deny, --value JSON), then call "
                          RESUME_TOOL " with {\"run_id\": \"%s\"}.", run_id ? run_id : "RUN", run_id ? run_id : "RUN");
        r = text_result(t.data ? t.data : "waiting", false);
        tx_buf_free(&t);
    } else {
        const cJSON *e = cJSON_GetObjectItemCaseSensitive(doc, "error");
        const char *msg = hl_json_str(e, "message");
        char m[1400];
        snprintf(m, sizeof m, "the run failed: %.1200s", msg ? msg : "(no message)");
        r = text_result(m, true);
    }
    cJSON *meta = cJSON_AddObjectToObject(r, "_meta");
    if (run_id) cJSON_AddStringToObject(meta, "tactus/run_id", run_id);
    cJSON_AddStringToObject(meta, "tactus/status", status);
    const cJSON *pending = cJSON_GetObjectItemCaseSensitive(doc, "pending");
    if (cJSON_GetArraySize(pending) > 0) cJSON_AddItemToObject(meta, "tactus/pending", cJSON_Duplicate(pending, 1));
    return r;
}

/* Whether RUN_ID is a run of one of the served files (in the store and
 * tenant the runs go to); why not in WHY. */
static bool run_is_served(const serve_ctx *x, const char *run_id, char *why, size_t cap)
{
    char store[PATH_MAX], err[300];
    if (x->store)
        snprintf(store, sizeof store, "%s", x->store);
    else
        tj_default_path(store, sizeof store);
    const char *tenant = x->tenant ? x->tenant : getenv("TACTUS_TENANT");
    tj_journal *j = NULL;
    if (tj_open(store, &j, err, sizeof err) != TX_OK) {
        snprintf(why, cap, "cannot open the journal %.300s: %.200s", store, err);
        return false;
    }
    tj_run r = {0};
    bool found = tj_run_get(j, tenant && *tenant ? tenant : "default", run_id, &r) == TX_OK, ours = false;
    char run_real[PATH_MAX], item_real[PATH_MAX];
    if (found && r.procedure_path && realpath(r.procedure_path, run_real))
        for (size_t i = 0; i < x->n && !ours; i++)
            ours = realpath(x->items[i].path, item_real) && strcmp(run_real, item_real) == 0;
    tj_run_free(&r);
    tj_close(j);
    if (!ours)
        snprintf(why, cap, "%.40s is not a run of a procedure this server serves (%s); resume it with "
                           "`tactus resume %.40s`", run_id, found ? "another procedure's" : "no such run", run_id);
    return ours;
}

static cJSON *call_tool(void *ud, const char *name, const cJSON *args, mcp_call *call)
{
    serve_ctx *x = ud;
    const served *s = NULL;
    for (size_t i = 0; i < x->n; i++)
        if (strcmp(x->items[i].name, name) == 0) s = &x->items[i];
    bool resume = strcmp(name, RESUME_TOOL) == 0;
    if (!s && !resume) return NULL;
    const char *argv[40];
    size_t k = 0;
    char *input = NULL;
    argv[k++] = x->exe;
    if (resume) {
        const char *run_id = hl_json_str(args, "run_id");
        if (!run_id || strncmp(run_id, "run-", 4) != 0 || strlen(run_id) > 39)
            return text_result(RESUME_TOOL " needs {\"run_id\": \"run-...\"}: the run id a waiting call answered with", true);
        char why[600];
        if (!run_is_served(x, run_id, why, sizeof why)) return text_result(why, true);
        argv[k++] = "resume";
        argv[k++] = run_id;
    } else {
        input = args ? cJSON_PrintUnformatted(args) : NULL;
        argv[k++] = "run";
        argv[k++] = s->path;
        argv[k++] = "--input-json";
        argv[k++] = input ? input : "{}";
    }
    argv[k++] = "--json";
    for (size_t i = 0; i < x->n_run_args; i++) argv[k++] = x->run_args[i];
    argv[k] = NULL;
    mcp_call_progress(call, 0, 1, resume ? "resuming the run" : "the run started");
    tx_buf out, err;
    tx_buf_init(&out, MAX_RUN_OUTPUT);
    tx_buf_init(&err, 8192);
    int rc = hl_run_capture((char *const *)argv, environ, NULL, &out, &err, (int)x->timeout_ms);
    cJSON_free(input);
    cJSON *doc = out.data ? cJSON_Parse(out.data) : NULL;
    cJSON *r;
    if (rc == -1)
        r = text_result("the run took longer than the server's --call-timeout and was stopped", true);
    else
        r = run_result(s, doc, err.data);
    mcp_call_progress(call, 1, 1, "the run ended");
    cJSON_Delete(doc);
    tx_buf_free(&out);
    tx_buf_free(&err);
    return r;
}

static volatile int stop_serving;
static void on_stop(int sig)
{
    (void)sig;
    stop_serving = 1;
}

static void listening(void *ud, int port)
{
    (void)ud;
    printf("listening port %d\n", port);
    fflush(stdout);
}

int cli_mcp_serve(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"http", required_argument, NULL, 'H'},   {"token", required_argument, NULL, 'k'},
        {"no-sandbox", no_argument, NULL, 'N'},  {"store", required_argument, NULL, 'S'},
        {"tenant", required_argument, NULL, 't'}, {"timeout", required_argument, NULL, 'T'},
        {"call-timeout", required_argument, NULL, 'C'}, {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    serve_ctx x = {.timeout_ms = 3600 * 1000L};
    const char *http = NULL, *token = getenv("TACTUS_MCP_TOKEN");
    int opt;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        if (x.n_run_args + 2 >= sizeof x.run_args / sizeof x.run_args[0]) {
            cli_error("tactus mcp serve: too many run options (each of --no-sandbox, --store, --tenant, "
                      "--timeout once)\n");
            return CLI_EXIT_USAGE;
        }
        switch (opt) {
        case 'H': http = optarg; break;
        case 'k': token = optarg; break;
        case 'N': x.run_args[x.n_run_args++] = "--no-sandbox"; break;
        case 'S': x.run_args[x.n_run_args++] = "--store"; x.run_args[x.n_run_args++] = x.store = optarg; break;
        case 't': x.run_args[x.n_run_args++] = "--tenant"; x.run_args[x.n_run_args++] = x.tenant = optarg; break;
        case 'T': x.run_args[x.n_run_args++] = "--timeout"; x.run_args[x.n_run_args++] = optarg; break;
        case 'C': {
            long s;
            if (!cli_positive("tactus mcp serve", optarg, "--call-timeout (seconds)", 86400, &s)) return CLI_EXIT_USAGE;
            x.timeout_ms = s * 1000;
            break;
        }
        case 'h':
            printf("usage: tactus mcp serve FILE... [--http HOST:PORT] [--token TOKEN] [--no-sandbox]\n"
                   "                        [--store PATH] [--tenant NAME] [--timeout S] [--call-timeout S]\n"
                   "\n"
                   "Serves each file's main procedure as an MCP tool named after the file (its input\n"
                   "schema from the procedure's input, its outputSchema from output), and the tool\n"
                   "tactus_resume {run_id}. Each call is a run of its own: sandboxed, journaled, audited.\n"
                   "A call that waits for a person answers at once with the pending request and its run\n"
                   "id; after `tactus approve`, tactus_resume continues it. Docs: docs/mcp.md.\n"
                   "\n"
                   "options:\n"
                   "      --http HOST:PORT    Streamable HTTP at http://HOST:PORT/mcp (PORT 0: any free\n"
                   "                          port, printed as 'listening port N'); default: stdio\n"
                   "      --token TOKEN       every HTTP request needs 'Authorization: Bearer TOKEN'\n"
                   "                          (default $TACTUS_MCP_TOKEN); required beyond loopback\n"
                   "      --no-sandbox        runs without the Docker sandbox (as tactus run)\n"
                   "      --store PATH        the journal of the runs (as tactus run)\n"
                   "      --tenant NAME       the tenant of the runs (as tactus run)\n"
                   "      --timeout S         each run's own time limit (as tactus run)\n"
                   "      --call-timeout S    how long a call may take before its run is stopped\n"
                   "                          (default 3600)\n"
                   "  -h, --help              show this help\n"
                   "\n"
                   "exit status: 0 when the input ends (stdio) or on SIGINT/SIGTERM (HTTP), 1 when the\n"
                   "HTTP server cannot start, 2 for bad arguments or files that do not check.\n");
            return CLI_EXIT_OK;
        default: return CLI_EXIT_USAGE;
        }
    }
    if (optind >= argc) {
        cli_error("tactus mcp serve: expected one or more .tac files to serve\n");
        return CLI_EXIT_USAGE;
    }
    char host[256] = "127.0.0.1";
    int port = 0;
    if (http) {
        const char *colon = strrchr(http, ':');
        char *end = NULL;
        long p = colon ? strtol(colon + 1, &end, 10) : -1;
        if (!colon || colon == http || !end || *end || p < 0 || p > 65535 || (size_t)(colon - http) >= sizeof host) {
            cli_error("tactus mcp serve: --http takes HOST:PORT, e.g. 127.0.0.1:8765 (PORT 0: any free port)\n");
            return CLI_EXIT_USAGE;
        }
        snprintf(host, sizeof host, "%.*s", (int)(colon - http), http);
        port = (int)p;
        if (!hl_host_is_loopback(host) && !(token && *token)) {
            cli_error("tactus mcp serve: --http %s would serve runs beyond this machine to anyone; give "
                      "--token TOKEN (or TACTUS_MCP_TOKEN), or listen on 127.0.0.1\n", http);
            return CLI_EXIT_USAGE;
        }
    }
    ssize_t n = readlink("/proc/self/exe", x.exe, sizeof x.exe - 1);
    if (n <= 0) {
        cli_error("tactus mcp serve: cannot find the tactus binary (/proc/self/exe)\n");
        return CLI_EXIT_USAGE;
    }
    x.exe[n] = '\0';
    cli_inputs in;
    int rc = cli_inputs_load(&in, argc - optind, argv + optind, "tactus mcp serve");
    if (rc != CLI_EXIT_OK) {
        cli_inputs_free(&in);
        return rc;
    }
    x.n = in.paths.len;
    x.items = tx_calloc(x.n ? x.n : 1, sizeof *x.items);
    bool ok = x.items != NULL;
    for (size_t i = 0; ok && i < x.n; i++) {
        x.items[i].path = in.paths.paths[i];
        ok = describe(&x, &in, i);
    }
    mcp_server_ops ops = {"tactus", TACTUS_VERSION,
                          "Each tool runs a Tactus procedure in its sandbox; a run that waits for a "
                          "person is resumed with " RESUME_TOOL ".",
                          list_tools, call_tool, &x};
    rc = ok ? CLI_EXIT_OK : CLI_EXIT_USAGE;
    if (ok && !http) {
        fprintf(stderr, "tactus mcp serve: %zu tools on stdio\n", x.n);
        mcp_serve_stdio(&ops, STDIN_FILENO, STDOUT_FILENO);
    } else if (ok) {
        struct sigaction sa = {0}, old_int, old_term;
        sa.sa_handler = on_stop;
        sigemptyset(&sa.sa_mask);
        sigaction(SIGINT, &sa, &old_int);
        sigaction(SIGTERM, &sa, &old_term);
        char err[512];
        if (mcp_serve_http(&ops, host, port, token, &stop_serving, listening, NULL, err, sizeof err) != 0) {
            cli_error("tactus mcp serve: %s\n", err);
            rc = CLI_EXIT_FAILED;
        }
        sigaction(SIGINT, &old_int, NULL);
        sigaction(SIGTERM, &old_term, NULL);
    }
    for (size_t i = 0; x.items && i < x.n; i++) cJSON_Delete(x.items[i].tool);
    tx_free(x.items);
    cli_inputs_free(&in);
    return rc;
}
