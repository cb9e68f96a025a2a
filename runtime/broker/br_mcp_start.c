/*
 * br_mcp_start.c - an MCP server's declaration (mcp_servers.NAME of the
 * host's trusted configuration) made into a client of runtime/mcp: checked
 * first (known keys, the filters in the shape they must have: a misspelt
 * or misshapen requires_approval or tools would hold nothing back), then
 * its env:, headers: and command expanded (${secret:NAME} from the host's
 * environment, each value remembered for redaction; none on a command
 * line), its limits, its isolation (a child with only its env:, or a
 * docker run that never pulls, with no network or, for a network:
 * allow-list, its own: br_mcp_net.c) and, for HTTP, the URL against
 * allow_hosts.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "br_internal.h"

/* "4g", "512m", "1024k" or a number of bytes. */
static long long size_of(const cJSON *v)
{
    if (cJSON_IsNumber(v)) return (long long)v->valuedouble;
    if (!cJSON_IsString(v)) return 0;
    char *end;
    double n = strtod(v->valuestring, &end);
    double k = 1;
    switch (tolower((unsigned char)*end)) {
    case 'k': k = 1024.0; break;
    case 'm': k = 1024.0 * 1024; break;
    case 'g': k = 1024.0 * 1024 * 1024; break;
    default: break;
    }
    return n > 0 ? (long long)(n * k) : 0;
}

/* A value with ${secret:NAME} (and the original's ${NAME}) taken from the
 * host's environment; every value so read is redacted from then on. */
static bool expand_value(br_broker *b, const char *tmpl, tx_buf *out, char *err, size_t cap)
{
    for (const char *p = tmpl; *p;) {
        if (strncmp(p, "${", 2) != 0) {
            tx_buf_append(out, p++, 1);
            continue;
        }
        const char *close = strchr(p, '}');
        if (!close) {
            snprintf(err, cap, "unclosed ${...} in \"%.100s\"", tmpl);
            return false;
        }
        const char *var = p + 2;
        if (strncmp(var, "secret:", 7) == 0) var += 7;
        char name[128];
        snprintf(name, sizeof name, "%.*s", (int)(close - var), var);
        const char *v = getenv(name);
        if (!v) {
            snprintf(err, cap, "%s is not set on the host (its environment, or a trusted .env)", name);
            return false;
        }
        br_remember_secret(b, v);
        tx_buf_puts(out, v);
        p = close + 1;
    }
    return true;
}

/* The strings of a list, or of a table as "KEY=VALUE" / "KEY: VALUE",
 * expanded, NULL-terminated (tx_alloc'd; free_strings). */
static char **expanded_strings(br_broker *b, const cJSON *v, const char *sep, char *err, size_t cap)
{
    int n = cJSON_GetArraySize(v);
    char **out = tx_calloc((size_t)n + 1, sizeof *out);
    if (!out) return NULL;
    int k = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, v)
    {
        if (!cJSON_IsString(e)) {
            snprintf(err, cap, "%s%s must be a string", e->string ? e->string : "an item",
                     e->string ? "" : " of the list");
            break;
        }
        tx_buf t;
        tx_buf_init(&t, 64 * 1024);
        if (sep) tx_buf_printf(&t, "%s%s", e->string, sep);
        if (!expand_value(b, e->valuestring, &t, err, cap)) {
            tx_buf_free(&t);
            break;
        }
        out[k++] = tx_buf_steal(&t);
    }
    if (err[0]) {
        for (int i = 0; i < k; i++) tx_free(out[i]);
        tx_free(out);
        return NULL;
    }
    return out;
}

static void free_strings(char **s)
{
    for (size_t i = 0; s && s[i]; i++) {
        memset(s[i], 0, strlen(s[i]));
        tx_free(s[i]);
    }
    tx_free(s);
}

/* The host of an http(s) URL, lower-cased; false for anything else or a
 * URL with credentials in it. */
static bool url_host(const char *url, char *host, size_t cap)
{
    const char *p = strstr(url, "://");
    if (!p || !(strncmp(url, "http://", 7) == 0 || strncmp(url, "https://", 8) == 0)) return false;
    p += 3;
    size_t n = *p == '[' ? strcspn(p, "]") + 1 : strcspn(p, "/:?#");
    if (n == 0 || n >= cap || memchr(p, '@', strcspn(p, "/?#"))) return false;
    for (size_t i = 0; i < n; i++) host[i] = (char)tolower((unsigned char)p[i]);
    host[n] = '\0';
    return true;
}

/* argv of a stdio server: command as a list, or command + args (the
 * original's shape); under isolate: docker, the docker CLI around it. */
static char **server_argv(br_broker *b, const char *name, const cJSON *spec, char **env, const br_egress *egress,
                          char *err, size_t cap)
{
    const cJSON *command = cJSON_GetObjectItemCaseSensitive(spec, "command");
    cJSON *argv = cJSON_CreateArray();
    const char *isolate = hl_json_str(spec, "isolate");
    bool docker = isolate && strcmp(isolate, "docker") == 0;
    if (isolate && !docker && strcmp(isolate, "process") != 0) {
        snprintf(err, cap, "mcp_servers.%s.isolate is \"%.40s\": write process (the default) or docker", name, isolate);
        cJSON_Delete(argv);
        return NULL;
    }
    if (docker) {
        const char *image = hl_json_str(spec, "image");
        if (!image) {
            snprintf(err, cap, "mcp_servers.%s: isolate: docker needs image: (a locally built image)", name);
            cJSON_Delete(argv);
            return NULL;
        }
        long long mem = size_of(cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(spec, "limits"), "memory"));
        char membuf[64];
        snprintf(membuf, sizeof membuf, "%lldb", mem > 0 ? mem : 1024LL * 1024 * 1024);
        /* --pull never: the image is one built here; a name that is not
         * local is an error, never a download from a registry. */
        const char *fixed[] = {"docker", "run", "--rm", "-i", "--pull", "never", "--read-only",
                               "--cap-drop", "ALL", "--security-opt", "no-new-privileges",
                               "--pids-limit", "256", "--memory", membuf, "--tmpfs", "/tmp",
                               "--user", "65534:65534", "--label", "tactus.mcp=1"};
        for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
            cJSON_AddItemToArray(argv, cJSON_CreateString(fixed[i]));
        /* No network at all, or its own internal one (br_mcp_net.c). */
        if (egress) {
            br_egress_docker_args(egress, argv);
        } else {
            cJSON_AddItemToArray(argv, cJSON_CreateString("--network"));
            cJSON_AddItemToArray(argv, cJSON_CreateString("none"));
        }
        /* -e NAME copies the value from the docker CLI's own environment:
         * no secret on a command line anyone can read in /proc. */
        for (size_t i = 0; env && env[i]; i++) {
            char var[256];
            snprintf(var, sizeof var, "%.*s", (int)strcspn(env[i], "="), env[i]);
            cJSON_AddItemToArray(argv, cJSON_CreateString("-e"));
            cJSON_AddItemToArray(argv, cJSON_CreateString(var));
        }
        cJSON_AddItemToArray(argv, cJSON_CreateString(image));
    }
    if (cJSON_IsString(command)) {
        cJSON_AddItemToArray(argv, cJSON_CreateString(command->valuestring));
        const cJSON *a;
        cJSON_ArrayForEach(a, cJSON_GetObjectItemCaseSensitive(spec, "args")) cJSON_AddItemToArray(argv, cJSON_Duplicate(a, 1));
    } else if (cJSON_IsArray(command) && cJSON_GetArraySize(command) > 0) {
        const cJSON *a;
        cJSON_ArrayForEach(a, command) cJSON_AddItemToArray(argv, cJSON_Duplicate(a, 1));
    } else if (!docker) {
        snprintf(err, cap, "mcp_servers.%s needs command: [\"program\", \"arg\", ...] (stdio) or url: (HTTP)", name);
        cJSON_Delete(argv);
        return NULL;
    }
    /* A command line is readable by every process of the machine
     * (/proc/PID/cmdline): secrets go to a server through env: only. */
    const cJSON *a;
    cJSON_ArrayForEach(a, argv)
    {
        if (cJSON_IsString(a) && strstr(a->valuestring, "${secret:")) {
            snprintf(err, cap, "mcp_servers.%s: a ${secret:...} in command or args would stand on a "
                               "command line any process can read; pass it in env: and have the "
                               "server read it from there", name);
            cJSON_Delete(argv);
            return NULL;
        }
    }
    char **out = expanded_strings(b, argv, NULL, err, cap);
    cJSON_Delete(argv);
    return out;
}


/* ---- the declaration, checked before anything starts ---------------------------------------- */

static const char *const server_keys[] = {"command", "args", "env", "cwd", "isolate", "image", "network", "limits",
                                          "tools", "requires_approval", "timeout", "max_message", "url", "headers",
                                          "allow_hosts", "description", "type", "transport", NULL};
static const char *const tools_keys[] = {"include", "exclude", NULL};
static const char *const limits_keys[] = {"memory", "cpu", "files", "file_size", NULL};

/* Every key of OBJ is one of KEYS; else the message names it, the nearest
 * key and the allowed ones. A misspelt requires_approval or tools would
 * otherwise loosen what the user meant to hold back. */
static bool keys_known(const cJSON *obj, const char *const *keys, const char *where, char *err, size_t cap)
{
    const cJSON *k;
    cJSON_ArrayForEach(k, obj)
    {
        const char *best = NULL;
        size_t best_d = 3;
        bool known = false;
        for (size_t i = 0; keys[i] && !known; i++) {
            known = strcmp(k->string, keys[i]) == 0;
            size_t d = tx_edit_distance(k->string, strlen(k->string), keys[i], strlen(keys[i]), 3);
            if (d < best_d) best_d = d, best = keys[i];
        }
        if (known) continue;
        tx_buf all;
        tx_buf_init(&all, 1024);
        for (size_t i = 0; keys[i]; i++) tx_buf_printf(&all, "%s%s", i ? ", " : "", keys[i]);
        snprintf(err, cap, "%s.%.60s is not a key of it%s%s%s (keys: %s); nothing was started", where, k->string,
                 best ? " (did you mean " : "", best ? best : "", best ? "?)" : "", all.data ? all.data : "");
        tx_buf_free(&all);
        return false;
    }
    return true;
}

static bool strings_list(const cJSON *v)
{
    if (!cJSON_IsArray(v)) return false;
    const cJSON *e;
    cJSON_ArrayForEach(e, v) if (!cJSON_IsString(e)) return false;
    return true;
}

/* mcp_servers.NAME as declared: known keys, and the filters that hold
 * tools back in the shape they must have (a lone string where a list is
 * expected would hold nothing back). */
static bool spec_valid(const char *name, const cJSON *spec, char *err, size_t cap)
{
    char where[100];
    snprintf(where, sizeof where, "mcp_servers.%.60s", name);
    if (!keys_known(spec, server_keys, where, err, cap)) return false;
    const cJSON *tools = cJSON_GetObjectItemCaseSensitive(spec, "tools");
    char sub[120];
    snprintf(sub, sizeof sub, "%s.tools", where);
    if (tools && !cJSON_IsObject(tools)) {
        snprintf(err, cap, "%s takes {include: [names]} or {exclude: [names]}; nothing was started", sub);
        return false;
    }
    if (tools && !keys_known(tools, tools_keys, sub, err, cap)) return false;
    const char *lists[] = {"include", "exclude"};
    for (size_t i = 0; i < 2; i++) {
        const cJSON *l = cJSON_GetObjectItemCaseSensitive(tools, lists[i]);
        if (l && !strings_list(l)) {
            snprintf(err, cap, "%s.%s takes a list of tool names, like [read_file]; nothing was started", sub, lists[i]);
            return false;
        }
    }
    const cJSON *ra = cJSON_GetObjectItemCaseSensitive(spec, "requires_approval");
    if (ra && !cJSON_IsBool(ra) && !strings_list(ra)) {
        snprintf(err, cap, "%s.requires_approval takes true (every tool) or a list of tool names, like "
                           "[write_file]; nothing was started", where);
        return false;
    }
    const cJSON *limits = cJSON_GetObjectItemCaseSensitive(spec, "limits");
    snprintf(sub, sizeof sub, "%s.limits", where);
    return !limits || keys_known(limits, limits_keys, sub, err, cap);
}

/* A client for mcp_servers.NAME (SPEC), not started: the declaration
 * checked, its env:, headers: and command expanded (each value read from
 * the host's environment remembered as a secret); NULL with the reason. */
mcp_client *br_mcp_client_new(br_broker *b, const char *name, const cJSON *spec, br_egress **egress,
                              char *err, size_t cap)
{
    *egress = NULL;
    if (!spec_valid(name, spec, err, cap)) return NULL;
    mcp_server_config cfg = {.name = name};
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(spec, "timeout");
    cfg.timeout_ms = cJSON_IsNumber(t) && t->valuedouble > 0 ? (long)(t->valuedouble * 1000) : 60000;
    cfg.max_message = (size_t)size_of(cJSON_GetObjectItemCaseSensitive(spec, "max_message"));
    const cJSON *lim = cJSON_GetObjectItemCaseSensitive(spec, "limits");
    hl_limits limits = {
        .address_space = size_of(cJSON_GetObjectItemCaseSensitive(lim, "memory")),
        .cpu_seconds = size_of(cJSON_GetObjectItemCaseSensitive(lim, "cpu")),
        .open_files = size_of(cJSON_GetObjectItemCaseSensitive(lim, "files")),
        .file_size = size_of(cJSON_GetObjectItemCaseSensitive(lim, "file_size")),
    };
    if (!limits.address_space) limits.address_space = 4LL << 30;
    if (!limits.open_files) limits.open_files = 1024;
    if (!limits.file_size) limits.file_size = 1LL << 30;
    cfg.limits = &limits;
    const char *url = hl_json_str(spec, "url");
    char **env = NULL, **argv = NULL, **headers = NULL;
    mcp_http_ops http = {br_mcp_http_request, b};
    err[0] = '\0';
    if (url) {
        char host[256];
        const cJSON *allow = cJSON_GetObjectItemCaseSensitive(spec, "allow_hosts");
        if (!url_host(url, host, sizeof host))
            snprintf(err, cap, "mcp_servers.%s.url must be an http(s) URL without credentials", name);
        else if (allow && !br_mcp_in_list(allow, host))
            snprintf(err, cap, "mcp_servers.%s.url's host %s is not in its allow_hosts", name, host);
        else
            headers = expanded_strings(b, cJSON_GetObjectItemCaseSensitive(spec, "headers"), ": ", err, cap);
        cfg.url = url;
        cfg.headers = (const char *const *)headers;
        cfg.http = &http;
    } else {
        const cJSON *envs = cJSON_GetObjectItemCaseSensitive(spec, "env");
        const char *isolate = hl_json_str(spec, "isolate");
        const cJSON *net = cJSON_GetObjectItemCaseSensitive(spec, "network");
        /* A process server has the host's network: a network: there would
         * look like a limit and be none. */
        if (net && !(isolate && strcmp(isolate, "docker") == 0))
            snprintf(err, cap, "mcp_servers.%s.network needs isolate: docker (a server run as a process has "
                               "the host's network, which nothing here limits); add isolate: docker and "
                               "image:, or remove network: (in the host's configuration: `tactus config` "
                               "shows which file sets it); nothing was started", name);
        else if (br_egress_new(name, net, egress, err, cap))
            env = expanded_strings(b, envs, "=", err, cap);
        if (env) argv = server_argv(b, name, spec, env, *egress, err, cap);
        cfg.argv = argv;
        cfg.envp = env;
        cfg.cwd = hl_json_str(spec, "cwd");
        if (*egress) {
            cfg.before_start = br_egress_up;
            cfg.after_stop = br_egress_down;
            cfg.hook_ud = *egress;
        }
        /* The docker CLI itself needs to find dockerd; the container gets
         * only the declared variables (-e NAME). */
        if (argv && isolate && strcmp(isolate, "docker") == 0 && br_docker_env_append(&env)) cfg.envp = env;
    }
    mcp_client *c = NULL;
    if (!err[0]) {
        c = mcp_client_new(&cfg);
        if (!c) snprintf(err, cap, "out of memory");
    }
    if (!c) {
        br_egress_free(*egress);
        *egress = NULL;
    }
    free_strings(env);
    free_strings(argv);
    free_strings(headers);
    return c;
}
