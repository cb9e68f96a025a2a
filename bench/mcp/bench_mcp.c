/*
 * bench_mcp.c - what the broker adds to an MCP tool call.
 *
 * Against one stdio MCP server (tests/mcp/echo_server.c by default, or any
 * server and tool given), interleaved (the order rotates every iteration),
 * N times each:
 *   direct  the same server started directly (its own process, the same
 *           empty environment), the tools/call line the client sends written
 *           to its stdin and its answer line read back: nothing parsed,
 *           nothing checked; the floor
 *   client  mcp_call_tool on an mcp_client (runtime/mcp alone: JSON-RPC,
 *           strict parsing, waits with deadlines), for information
 *   broker  br_handle of a tool.call "mcp.SERVER.TOOL" request, what a run
 *           sends: policy (the server, the tool filter, the listed tools),
 *           the MCP client, the result mapped for the runtime, redaction of
 *           every secret the broker knows, and an audit record written
 * Each path has its own server process, started before timing; its start
 * (spawn, initialize, tools/list) is measured once and reported apart.
 * Reports median, p90, p99 of each and of the per-iteration difference
 * (broker - direct), and exits 1 when the difference misses its targets
 * (median <= 0.5 ms, p99 <= 2 ms).
 *
 * Usage: bench_mcp [-n N] [--warmup W] [--markdown] [--raw FILE.tsv]
 *                  [--server PROGRAM ARG...] --tool NAME --args JSON
 */
#define _GNU_SOURCE /* memmem */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "broker.h"
#include "hostlib.h"
#include "mcp.h"

enum { DIRECT, CLIENT, BROKER, NV };
static const char *const vname[NV] = {"direct", "client", "broker"};

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double pct(const double *v, int n, double p)
{
    double *s = malloc(sizeof *s * (size_t)n);
    memcpy(s, v, sizeof *s * (size_t)n);
    qsort(s, (size_t)n, sizeof *s, cmp_double);
    double r = s[(int)(p * (n - 1) + 0.5)];
    free(s);
    return r;
}

/* ---- direct: lines in, lines out ---------------------------------------------------------- */

typedef struct {
    hl_child c;
    char buf[1 << 16];
    size_t have;
} raw_server;

static void raw_send(raw_server *s, const char *line)
{
    size_t n = strlen(line), off = 0;
    while (off < n) {
        ssize_t w = write(s->c.in, line + off, n - off);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) {
            fprintf(stderr, "bench_mcp: the server stopped reading\n");
            exit(2);
        }
        off += (size_t)w;
    }
}

/* Reads lines up to the one answering request `id` (a server may send
 * notifications first: logging, progress); that line's length. The check
 * is a plain substring search: "\"id\":ID," or "\"id\":ID}". */
static size_t raw_read_answer(raw_server *s, int id)
{
    char a[32], b[32];
    snprintf(a, sizeof a, "\"id\":%d,", id);
    snprintf(b, sizeof b, "\"id\":%d}", id);
    for (;;) {
        char *nl = memchr(s->buf, '\n', s->have);
        if (nl) {
            size_t len = (size_t)(nl - s->buf) + 1;
            *nl = '\0';
            bool ours = (memmem(s->buf, len, a, strlen(a)) || memmem(s->buf, len, b, strlen(b))) &&
                        !strstr(s->buf, "\"method\"");
            memmove(s->buf, nl + 1, s->have - len);
            s->have -= len;
            if (ours) return len;
            continue;
        }
        if (s->have == sizeof s->buf) s->have = 0; /* a huge answer: its length does not matter */
        ssize_t k = read(s->c.out, s->buf + s->have, sizeof s->buf - s->have);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) {
            fprintf(stderr, "bench_mcp: the server ended\n");
            exit(2);
        }
        s->have += (size_t)k;
    }
}

int main(int argc, char **argv)
{
    int n = 2000, warmup = 200;
    bool markdown = false;
    const char *raw = NULL, *tool = "echo", *args_text = "{\"text\":\"hello from the benchmark\"}";
    char *server_argv[32] = {TACTUS_ECHO_SERVER, NULL};
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-n") && i + 1 < argc) n = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--warmup") && i + 1 < argc) warmup = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--markdown")) markdown = true;
        else if (!strcmp(argv[i], "--raw") && i + 1 < argc) raw = argv[++i];
        else if (!strcmp(argv[i], "--tool") && i + 1 < argc) tool = argv[++i];
        else if (!strcmp(argv[i], "--args") && i + 1 < argc) args_text = argv[++i];
        else if (!strcmp(argv[i], "--server")) {
            int k = 0;
            while (i + 1 < argc && strncmp(argv[i + 1], "--", 2) != 0 && k < 31) server_argv[k++] = argv[++i];
            server_argv[k] = NULL;
        } else {
            fprintf(stderr, "usage: bench_mcp [-n N] [--warmup W] [--markdown] [--raw FILE] "
                            "[--server PROGRAM ARG...] [--tool NAME] [--args JSON]\n");
            return 2;
        }
    }
    cJSON *args = cJSON_Parse(args_text);
    if (!cJSON_IsObject(args) || n < 10) {
        fprintf(stderr, "bench_mcp: --args must be a JSON object, -n at least 10\n");
        return 2;
    }

    /* broker: mcp_servers.bench = the server; audited like a run. */
    cJSON *config = cJSON_CreateObject();
    cJSON *srv = cJSON_AddObjectToObject(cJSON_AddObjectToObject(config, "mcp_servers"), "bench");
    cJSON *cmd = cJSON_AddArrayToObject(srv, "command");
    for (int i = 0; server_argv[i]; i++) cJSON_AddItemToArray(cmd, cJSON_CreateString(server_argv[i]));
    char audit[] = "/tmp/bench-mcp-audit-XXXXXX";
    int afd = mkstemp(audit);
    if (afd >= 0) close(afd);
    br_broker *b = br_broker_new(config, NULL, false);
    br_set_audit(b, audit, "bench");
    br_set_effect(b, "run-bench", 0);
    char name[300];
    snprintf(name, sizeof name, "mcp.bench.%s", tool);
    cJSON *req = cJSON_CreateObject();
    cJSON_AddNumberToObject(req, "id", 1);
    cJSON_AddStringToObject(req, "method", "tool.call");
    cJSON *p = cJSON_AddObjectToObject(req, "params");
    cJSON_AddStringToObject(p, "name", name);
    cJSON_AddItemToObject(p, "args", cJSON_Duplicate(args, 1));
    double t0 = now_ms();
    cJSON *first = br_handle(b, req, NULL, NULL);
    double start_broker = now_ms() - t0;
    if (!first || strcmp(cJSON_GetObjectItemCaseSensitive(first, "event")->valuestring, "done") != 0) {
        char *t = first ? cJSON_PrintUnformatted(first) : NULL;
        fprintf(stderr, "bench_mcp: the broker's first call failed: %s\n", t ? t : "?");
        return 2;
    }
    cJSON_Delete(first);

    /* client: the MCP module alone. */
    mcp_server_config mc = {.name = "bench", .argv = server_argv};
    mcp_client *client = mcp_client_new(&mc);
    mcp_error err = {0};
    t0 = now_ms();
    cJSON *result = NULL;
    if (mcp_call_tool(client, tool, args, NULL, &result, &err) != MCP_OK) {
        fprintf(stderr, "bench_mcp: the client's first call failed: %s\n", err.message);
        return 2;
    }
    double start_client = now_ms() - t0;
    cJSON_Delete(result);

    /* direct: the same server, the same environment (none), by hand. */
    raw_server rs = {0};
    t0 = now_ms();
    if (hl_spawn(server_argv, NULL, "/tmp", HL_SPAWN_GROUP, &rs.c) != TX_OK) return 2;
    raw_send(&rs, "{\"jsonrpc\":\"2.0\",\"id\":0,\"method\":\"initialize\",\"params\":{\"protocolVersion\":"
                  "\"2025-11-25\",\"capabilities\":{},\"clientInfo\":{\"name\":\"bench\",\"version\":\"1\"}}}\n");
    raw_read_answer(&rs, 0);
    raw_send(&rs, "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}\n");
    double start_direct = now_ms() - t0;
    char *args_json = cJSON_PrintUnformatted(args);
    size_t cap = strlen(args_json) + strlen(tool) + 200;
    char *line = malloc(cap);

    double *v[NV];
    for (int k = 0; k < NV; k++) v[k] = calloc((size_t)n, sizeof(double));
    double *diff = calloc((size_t)n, sizeof(double));
    for (int i = -warmup; i < n; i++) {
        for (int r = 0; r < NV; r++) {
            int k = (i + warmup + r) % NV; /* the order rotates */
            double s = now_ms();
            if (k == DIRECT) {
                snprintf(line, cap, "{\"jsonrpc\":\"2.0\",\"id\":%d,\"method\":\"tools/call\",\"params\":{\"name\":\"%s\","
                                    "\"arguments\":%s}}\n", i + warmup + 1, tool, args_json);
                raw_send(&rs, line);
                raw_read_answer(&rs, i + warmup + 1);
            } else if (k == CLIENT) {
                if (mcp_call_tool(client, tool, args, NULL, &result, &err) != MCP_OK) {
                    fprintf(stderr, "bench_mcp: client: %s\n", err.message);
                    return 2;
                }
                cJSON_Delete(result);
            } else {
                cJSON *reply = br_handle(b, req, NULL, NULL);
                if (!reply || strcmp(cJSON_GetObjectItemCaseSensitive(reply, "event")->valuestring, "done") != 0) {
                    fprintf(stderr, "bench_mcp: broker call %d failed\n", i);
                    return 2;
                }
                cJSON_Delete(reply);
            }
            if (i >= 0) v[k][i] = now_ms() - s;
        }
        if (i >= 0) diff[i] = v[BROKER][i] - v[DIRECT][i];
    }
    if (raw) {
        FILE *f = fopen(raw, "w");
        if (f) {
            fprintf(f, "i\tdirect_ms\tclient_ms\tbroker_ms\n");
            for (int i = 0; i < n; i++) fprintf(f, "%d\t%.4f\t%.4f\t%.4f\n", i, v[DIRECT][i], v[CLIENT][i], v[BROKER][i]);
            fclose(f);
        }
    }
    double med = pct(diff, n, 0.5), p99 = pct(diff, n, 0.99);
    bool ok = med <= 0.5 && p99 <= 2.0;
    printf("server: %s (tool %s), %d calls each, interleaved, after %d warm-up rounds\n", server_argv[0], tool, n, warmup);
    printf("server start (once per run, not in the figures below): direct %.2f ms, client %.2f ms, "
           "broker %.2f ms (spawn, initialize, tools/list, first call)\n\n",
           start_direct, start_client, start_broker);
    if (markdown) {
        printf("| path | median ms | p90 ms | p99 ms |\n|---|---|---|---|\n");
        for (int k = 0; k < NV; k++)
            printf("| %s | %.3f | %.3f | %.3f |\n", vname[k], pct(v[k], n, 0.5), pct(v[k], n, 0.9), pct(v[k], n, 0.99));
        printf("| **broker − direct** (per call) | **%.3f** | %.3f | **%.3f** |\n", med, pct(diff, n, 0.9), p99);
        printf("| broker's p99 − direct's p99 | | | %.3f |\n", pct(v[BROKER], n, 0.99) - pct(v[DIRECT], n, 0.99));
    } else {
        for (int k = 0; k < NV; k++)
            printf("%-8s median %.3f ms  p90 %.3f ms  p99 %.3f ms\n", vname[k], pct(v[k], n, 0.5),
                   pct(v[k], n, 0.9), pct(v[k], n, 0.99));
        printf("broker - direct: median %.3f ms  p90 %.3f ms  p99 %.3f ms\n", med, pct(diff, n, 0.9), p99);
    }
    printf("\ntarget: broker overhead median <= 0.5 ms, p99 <= 2 ms: %s\n", ok ? "met" : "MISSED");
    close(rs.c.in);
    hl_kill_group(&rs.c);
    mcp_client_free(client);
    br_broker_free(b);
    unlink(audit);
    cJSON_Delete(req);
    cJSON_Delete(config);
    cJSON_Delete(args);
    cJSON_free(args_json);
    free(line);
    for (int k = 0; k < NV; k++) free(v[k]);
    free(diff);
    return ok ? 0 : 1;
}
