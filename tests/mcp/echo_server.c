/*
 * echo_server.c - the smallest stdio MCP server we could write, for the
 * benchmark (bench/mcp: the cost of the server itself should be next to
 * nothing, so the broker's shows) and for `isolate: docker` (static, so it
 * runs in a FROM-scratch image). Tools: echo {text} (the text back), env
 * (its environment, one NAME=VALUE per line), fetch {host, port} (an
 * HTTP GET of / there: what a server under a network: allow-list tries,
 * answered with the status line, or with why it failed) and resolve
 * {host} (its IPv4 address, or why not) and bulk {host, port} (a MiB up,
 * what comes back counted and hashed). It reads one JSON-RPC
 * message per line and finds what it needs in it by hand: it is a test
 * peer, not an example of parsing JSON.
 */
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

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

/* host's first IPv4 address, or "failed: why". */
static void resolve(const char *host, char *out, size_t cap)
{
    struct addrinfo hints = {.ai_family = AF_INET, .ai_socktype = SOCK_STREAM}, *res;
    int e = getaddrinfo(host, NULL, &hints, &res);
    if (e != 0) {
        snprintf(out, cap, "failed: resolve: %s", gai_strerror(e));
        return;
    }
    unsigned char *a = (unsigned char *)&((struct sockaddr_in *)res->ai_addr)->sin_addr;
    snprintf(out, cap, "%u.%u.%u.%u", a[0], a[1], a[2], a[3]);
    freeaddrinfo(res);
}

/* A TCP connection to host:port (IPv4) with both timeouts set, or -1 with
 * "failed: resolve: ..." or "failed: connect: ..." in out. */
static int connect_to(const char *host, const char *port, int timeout_s, char *out, size_t cap)
{
    struct addrinfo hints = {.ai_family = AF_INET, .ai_socktype = SOCK_STREAM}, *res;
    int e = getaddrinfo(host, port, &hints, &res);
    if (e != 0) {
        snprintf(out, cap, "failed: resolve: %s", gai_strerror(e));
        return -1;
    }
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct timeval tv = {timeout_s, 0};
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    if (connect(fd, res->ai_addr, res->ai_addrlen) != 0) {
        snprintf(out, cap, "failed: connect: %s", strerror(errno));
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    return fd;
}

/* GET / from host:port, into out: "HTTP/1.0 200 OK" (the status line),
 * or "failed: why" (resolving, connecting, reading). */
static void fetch(const char *host, const char *port, char *out, size_t cap)
{
    int fd = connect_to(host, port, 5, out, cap);
    if (fd < 0) return;
    char req[512], got[512];
    int n = snprintf(req, sizeof req, "GET / HTTP/1.0\r\nHost: %s\r\n\r\n", host);
    ssize_t k = write(fd, req, (size_t)n) == n ? read(fd, got, sizeof got - 1) : -1;
    if (k > 0) {
        got[k] = '\0';
        got[strcspn(got, "\r\n\"\\")] = '\0';
        snprintf(out, cap, "%s", got);
    } else {
        snprintf(out, cap, "failed: read: %s", k == 0 ? "closed" : strerror(errno));
    }
    close(fd);
}

/* PUT /bulk to host:port: a MiB of the pattern i % 251, its end told
 * (shutdown), then everything read until the peer closes: "sent N
 * received M fnv HEX" (FNV-1a of the body received), or "failed: why".
 * What a forwarder must carry unchanged both ways, under back-pressure. */
static void bulk(const char *host, const char *port, char *out, size_t cap)
{
    int fd = connect_to(host, port, 20, out, cap);
    if (fd < 0) return;
    static char buf[1 << 20];
    size_t body = sizeof buf, sent = 0, got = 0;
    unsigned int fnv = 2166136261u;
    int n = snprintf(buf, 256, "PUT /bulk HTTP/1.0\r\nContent-Length: %zu\r\n\r\n", body);
    if (write(fd, buf, (size_t)n) != n) {
        snprintf(out, cap, "failed: write: %s", strerror(errno));
        close(fd);
        return;
    }
    for (size_t i = 0; i < body; i++) buf[i] = (char)(i % 251);
    while (sent < body) {
        ssize_t w = write(fd, buf + sent, body - sent);
        if (w <= 0) break;
        sent += (size_t)w;
    }
    shutdown(fd, SHUT_WR);
    int state = 0; /* how much of "\r\n\r\n" (the end of the head) was seen */
    for (ssize_t k; (k = read(fd, buf, sizeof buf)) > 0;)
        for (ssize_t i = 0; i < k; i++) {
            if (state < 4) {
                state = buf[i] == "\r\n\r\n"[state] ? state + 1 : buf[i] == '\r';
                continue;
            }
            fnv = (fnv ^ (unsigned char)buf[i]) * 16777619u;
            got++;
        }
    snprintf(out, cap, "sent %zu received %zu fnv %08x", sent, got, fnv);
    close(fd);
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
                   "{\"name\":\"env\",\"description\":\"Its environment\",\"inputSchema\":{\"type\":\"object\"}},"
                   "{\"name\":\"fetch\",\"description\":\"GET / from host:port\",\"inputSchema\":{\"type\":\"object\","
                   "\"properties\":{\"host\":{\"type\":\"string\"},\"port\":{\"type\":\"integer\"}}}},"
                   "{\"name\":\"resolve\",\"description\":\"The address of host\",\"inputSchema\":{\"type\":\"object\","
                   "\"properties\":{\"host\":{\"type\":\"string\"}}}},"
                   "{\"name\":\"bulk\",\"description\":\"PUT a MiB to host:port, read all back\",\"inputSchema\":"
                   "{\"type\":\"object\",\"properties\":{\"host\":{\"type\":\"string\"},\"port\":{\"type\":\"integer\"}}}}]}}\n",
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
            } else if ((strstr(line, "\"name\":\"fetch\"") || strstr(line, "\"name\":\"resolve\"") ||
                        strstr(line, "\"name\":\"bulk\"")) &&
                       raw_value(line, "host", text, sizeof text) && strlen(text) >= 2) {
                char got[600];
                text[strlen(text) - 1] = '\0'; /* the host without its quotes */
                if (strstr(line, "\"name\":\"resolve\""))
                    resolve(text + 1, got, sizeof got);
                else if (raw_value(line, "port", version, sizeof version) && strstr(line, "\"name\":\"bulk\""))
                    bulk(text + 1, version, got, sizeof got);
                else if (raw_value(line, "port", version, sizeof version))
                    fetch(text + 1, version, got, sizeof got);
                else
                    snprintf(got, sizeof got, "failed: fetch needs host and port");
                printf("{\"jsonrpc\":\"2.0\",\"id\":%s,\"result\":{\"content\":[{\"type\":\"text\",\"text\":\"%s\"}]}}\n",
                       id, got);
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
