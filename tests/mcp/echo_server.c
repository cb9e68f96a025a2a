/*
 * echo_server.c - the smallest stdio MCP server we could write, for the
 * benchmark (bench/mcp: the cost of the server itself should be next to
 * nothing, so the broker's shows) and for `isolate: docker` (static, so it
 * runs in a FROM-scratch image). Tools: echo {text} (the text back) and
 * env (its environment, one NAME=VALUE per line). It reads one JSON-RPC
 * message per line and finds what it needs in it by hand: it is a test
 * peer, not an example of parsing JSON.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern char **environ;

/* The raw JSON value after "key": in line (a number, or a string with its
 * quotes), copied into out; false when absent. */
static int raw_value(const char *line, const char *key, char *out, size_t cap)
{
    char pat[64];
    snprintf(pat, sizeof pat, "\"%s\":", key);
    const char *p = strstr(line, pat);
    if (!p) return 0;
    p += strlen(pat);
    while (*p == ' ') p++;
    const char *e = p;
    if (*p == '"') {
        for (e = p + 1; *e && *e != '"'; e++)
            if (*e == '\\' && e[1]) e++;
        if (*e) e++;
    } else {
        while (*e && *e != ',' && *e != '}' && *e != ' ') e++;
    }
    size_t n = (size_t)(e - p);
    if (n >= cap) return 0;
    memcpy(out, p, n);
    out[n] = '\0';
    return 1;
}

static void text_result(const char *id, const char *json_string)
{
    printf("{\"jsonrpc\":\"2.0\",\"id\":%s,\"result\":{\"content\":[{\"type\":\"text\",\"text\":%s}]}}\n",
           id, json_string);
}

int main(void)
{
    static char line[1 << 20];
    char id[256], method[128], text[1 << 16], version[64];
    setvbuf(stdout, NULL, _IOFBF, 1 << 16);
    while (fgets(line, sizeof line, stdin)) {
        if (!raw_value(line, "method", method, sizeof method) || !raw_value(line, "id", id, sizeof id)) continue;
        if (strcmp(method, "\"initialize\"") == 0) {
            if (!raw_value(line, "protocolVersion", version, sizeof version)) snprintf(version, sizeof version, "\"2025-11-25\"");
            printf("{\"jsonrpc\":\"2.0\",\"id\":%s,\"result\":{\"protocolVersion\":%s,\"capabilities\":"
                   "{\"tools\":{}},\"serverInfo\":{\"name\":\"echo-server\",\"version\":\"1\"}}}\n",
                   id, version);
        } else if (strcmp(method, "\"tools/list\"") == 0) {
            printf("{\"jsonrpc\":\"2.0\",\"id\":%s,\"result\":{\"tools\":["
                   "{\"name\":\"echo\",\"description\":\"Echoes text\",\"inputSchema\":{\"type\":\"object\","
                   "\"properties\":{\"text\":{\"type\":\"string\"}},\"required\":[\"text\"]}},"
                   "{\"name\":\"env\",\"description\":\"Its environment\",\"inputSchema\":{\"type\":\"object\"}}]}}\n",
                   id);
        } else if (strcmp(method, "\"tools/call\"") == 0) {
            if (strstr(line, "\"name\":\"env\"")) {
                fputs("{\"jsonrpc\":\"2.0\",\"id\":", stdout);
                fputs(id, stdout);
                fputs(",\"result\":{\"content\":[{\"type\":\"text\",\"text\":\"", stdout);
                for (char **e = environ; *e; e++) {
                    for (const char *c = *e; *c; c++)
                        if (*c == '"' || *c == '\\') printf("\\%c", *c);
                        else if ((unsigned char)*c >= 0x20) putchar(*c);
                    fputs("\\n", stdout);
                }
                fputs("\"}]}}\n", stdout);
            } else if (raw_value(line, "text", text, sizeof text)) {
                text_result(id, text);
            } else {
                printf("{\"jsonrpc\":\"2.0\",\"id\":%s,\"error\":{\"code\":-32602,\"message\":\"echo needs text\"}}\n", id);
            }
        } else {
            printf("{\"jsonrpc\":\"2.0\",\"id\":%s,\"result\":{}}\n", id);
        }
        fflush(stdout);
    }
    return 0;
}
