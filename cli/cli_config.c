/*
 * cli_config.c - `tactus config [FILE|DIR]`: the configuration a run of FILE
 * would get, merged as `tactus run` merges it (cf_load_traced), with the
 * file that set each key, the files read in order (trusted or not), and the
 * environment variables that override them. Secrets are shown as
 * [REDACTED]: this output is made to be pasted into a bug report.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "cli.h"

static const char config_usage[] =
    "usage: tactus config [--json] [FILE|DIR]\n"
    "\n"
    "Print the configuration a run of FILE (default: the current folder) would\n"
    "get: every key with its value and the file that set it, the files read\n"
    "(lowest priority first: /etc/tactus, the user's, the current folder's, each\n"
    "folder's .tactus/config.yml from / down to FILE's folder, FILE.tac.yml), and\n"
    "the environment variables that override them. Secrets are shown as\n"
    "[REDACTED]. A project file that sets a privileged key without `tactus trust`\n"
    "is an error here as in `tactus run`. See docs/run.md, \"Configuration\".\n"
    "\n"
    "  --json       one JSON document {target, files, config, origins, environment}\n"
    "  -h, --help   show this help\n"
    "\n"
    "exit status: 0 shown, 2 usage or configuration error.\n";

/* Environment variables the host reads that override or complete the files
 * (the provider keys of configured providers are added from the files). */
static const char *const env_vars[] = {
    "OPENAI_BASE_URL", "OPENAI_API_KEY", "ANTHROPIC_BASE_URL", "ANTHROPIC_API_KEY",
    "TACTUS_STORE",    "TACTUS_AUDIT",   "TACTUS_TENANT",      "TACTUS_RUNTIME",
};

/* Whether a key's name says its value is a credential: one of its words
 * (split at '_', '-' and '.') is key, token, secret, password... A name
 * ending in _env (api_key_env) names a variable, not its value. */
static bool secret_key_name(const char *name, bool under_headers)
{
    if (!name) return false;
    static const char *const words[] = {"key",        "apikey",      "token",         "secret",
                                        "password",   "passwd",      "authorization", "cookie",
                                        "credential", "credentials", "bearer"};
    bool secret = false, last_env = false;
    for (const char *p = name; *p;) {
        size_t n = strcspn(p, "_-.");
        last_env = n == 3 && strncasecmp(p, "env", 3) == 0;
        for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
            if (strlen(words[i]) == n && strncasecmp(p, words[i], n) == 0) secret = true;
        p += n;
        if (*p) p++;
    }
    if (secret) return !last_env;
    /* A header other than the plain ones may carry a credential under any name. */
    return under_headers && strcasecmp(name, "content-type") != 0 &&
           strcasecmp(name, "accept") != 0 && strcasecmp(name, "user-agent") != 0;
}

/* Whether `text` holds the value of a secret-named variable of the environment. */
static bool holds_env_secret(const char *text)
{
    extern char **environ;
    for (char **e = environ; e && *e; e++) {
        const char *eq = strchr(*e, '=');
        if (!eq || strlen(eq + 1) < 6) continue;
        char name[256];
        snprintf(name, sizeof name, "%.*s", (int)(eq - *e), *e);
        if (tx_env_name_is_secret(name) && strstr(text, eq + 1)) return true;
    }
    return false;
}

/* Replaces every secret value of `v` (in place) with "[REDACTED]". */
static void redact(cJSON *v, bool under_headers, int depth)
{
    if (depth > 64) return;
    for (cJSON *c = v->child; c; c = c->next) {
        bool secret = secret_key_name(c->string, under_headers) && !cJSON_IsObject(c) &&
                      !cJSON_IsArray(c) && !cJSON_IsNull(c);
        if (!secret && cJSON_IsString(c) && holds_env_secret(c->valuestring)) secret = true;
        if (secret) {
            cJSON *r = cJSON_CreateString("[REDACTED]");
            if (c->string)
                cJSON_ReplaceItemInObjectCaseSensitive(v, c->string, r);
            else
                cJSON_ReplaceItemViaPointer(v, c, r);
            c = r;
            continue;
        }
        if (cJSON_IsObject(c) || cJSON_IsArray(c))
            redact(c, under_headers || (c->string && strcasecmp(c->string, "headers") == 0),
                   depth + 1);
    }
}

/* One line per leaf: KEY = VALUE  (FILE). */
static void print_leaves(const cJSON *v, const char *prefix, const cJSON *origins)
{
    const cJSON *c;
    cJSON_ArrayForEach(c, v)
    {
        char path[512];
        if (snprintf(path, sizeof path, "%s%s%s", prefix, *prefix ? "." : "", c->string) >=
            (int)sizeof path)
            continue;
        if (cJSON_IsObject(c) && c->child) {
            print_leaves(c, path, origins);
            continue;
        }
        char *value = cJSON_PrintUnformatted(c);
        const char *from = hl_json_str(origins, path);
        char *tp = tx_term_text(path), *tv = tx_term_text(value ? value : "?"),
             *tf = tx_term_text(from ? from : "?");
        printf("  %s = %s  (%s)\n", tp ? tp : "?", tv ? tv : "?", tf ? tf : "?");
        tx_free(tp);
        tx_free(tv);
        tx_free(tf);
        cJSON_free(value);
    }
}

/* The variables of env_vars and each configured provider's key variable
 * that are set: URLs and names shown, keys as [REDACTED]. */
static cJSON *environment(const cJSON *config)
{
    cJSON *env = cJSON_CreateObject();
    for (size_t i = 0; i < sizeof env_vars / sizeof env_vars[0]; i++) {
        const char *v = getenv(env_vars[i]);
        if (v)
            cJSON_AddStringToObject(env, env_vars[i],
                                    tx_env_name_is_secret(env_vars[i]) ? "[REDACTED]" : v);
    }
    const cJSON *p;
    cJSON_ArrayForEach(p, cf_get(config, "providers"))
    {
        char name[160];
        const char *key_env = hl_json_str(p, "api_key_env");
        if (key_env) {
            snprintf(name, sizeof name, "%s", key_env);
        } else {
            size_t i = 0;
            for (; p->string[i] && i < 100; i++)
                name[i] = (char)(p->string[i] >= 'a' && p->string[i] <= 'z' ? p->string[i] - 32
                                                                            : p->string[i]);
            snprintf(name + i, sizeof name - i, "_API_KEY");
        }
        if (getenv(name) && !cJSON_GetObjectItemCaseSensitive(env, name))
            cJSON_AddStringToObject(env, name, "[REDACTED]");
    }
    return env;
}

int cli_config(int argc, char **argv)
{
    static const struct option opts[] = {
        {"json", no_argument, NULL, 'j'}, {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
    bool json = false;
    int opt;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (opt) {
        case 'j':
            json = true;
            break;
        case 'h':
            fputs(config_usage, stdout);
            return CLI_EXIT_OK;
        default:
            fputs(config_usage, stderr);
            return CLI_EXIT_USAGE;
        }
    }
    if (argc - optind > 1) {
        fputs(config_usage, stderr);
        return CLI_EXIT_USAGE;
    }
    const char *target = optind < argc ? argv[optind] : ".";
    if (access(target, F_OK) != 0) {
        cli_error("tactus config: %s: no such file or folder\n", target);
        return CLI_EXIT_USAGE;
    }
    /* The same .env files a run of the target would load (trusted ones only). */
    cli_load_env_files(target);
    cJSON *config = NULL;
    cf_trace trace = {0};
    char err[1024];
    if (cf_load_traced(target, &config, &trace, err, sizeof err) != TX_OK) {
        cli_error("tactus config: configuration error: %s\n", err);
        return CLI_EXIT_USAGE;
    }
    redact(config, false, 0);
    cJSON *env = environment(config);
    if (json) {
        cJSON *doc = cJSON_CreateObject();
        cJSON_AddStringToObject(doc, "target", target);
        cJSON_AddItemToObject(doc, "files", trace.files);
        cJSON_AddItemToObject(doc, "config", config);
        cJSON_AddItemToObject(doc, "origins", trace.origins);
        cJSON_AddItemToObject(doc, "environment", env);
        trace.files = trace.origins = NULL;
        config = env = NULL;
        cli_print_json(stdout, doc);
        cJSON_Delete(doc);
    } else {
        char *tt = tx_term_text(target);
        printf("configuration for %s\n", tt ? tt : "?");
        tx_free(tt);
        printf("files (lowest priority first):\n");
        if (!cJSON_GetArraySize(trace.files)) printf("  (none)\n");
        const cJSON *f;
        cJSON_ArrayForEach(f, trace.files)
        {
            bool trusted = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(f, "trusted"));
            bool by_trust =
                cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(f, "trusted_by_tactus_trust"));
            char *tp = tx_term_text(hl_json_str(f, "path"));
            printf("  %-26s %s%s\n", hl_json_str(f, "source"), tp ? tp : "?",
                   by_trust  ? "  (trusted by tactus trust)"
                   : trusted ? ""
                             : "  (untrusted: unprivileged keys only)");
            tx_free(tp);
        }
        printf("keys:\n");
        if (!config->child) printf("  (none: the built-in defaults apply)\n");
        print_leaves(config, "", trace.origins);
        if (env->child) {
            printf("environment (overrides the files):\n");
            const cJSON *e;
            cJSON_ArrayForEach(e, env)
            {
                char *tv = tx_term_text(e->valuestring);
                printf("  %s = %s\n", e->string, tv ? tv : "?");
                tx_free(tv);
            }
        }
    }
    cJSON_Delete(env);
    cJSON_Delete(config);
    cf_trace_free(&trace);
    return CLI_EXIT_OK;
}
