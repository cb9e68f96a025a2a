/*
 * bench_lsp.c - the language server's latency and footprint, measured the
 * way an editor sees them: `tactus lsp` on pipes, real frames, real JSON.
 *
 *   bench_lsp edits TACTUS FILE [N]
 *       Opens FILE (a large generated .tac), then N times: one typing edit
 *       (a digit of a literal in a tool body: the file stays valid), and
 *         - edit -> fresh diagnostics: didChange then textDocument/diagnostic,
 *           from the first byte written to the last byte of the reply;
 *         - completion after `input.` right after an edit;
 *         - hover on a call of an agent or tool right after an edit;
 *       and hover with no edit before it (an idle cursor).
 *       Targets: diagnostics p50 <= 3 ms and p99 <= 10 ms; completion and
 *       hover p99 <= 5 ms.
 *   bench_lsp workspace TACTUS DIR
 *       Starts the server on workspace folder DIR and times the indexing
 *       ($/progress begin to end); the server's resident memory before and
 *       after gives the bytes per indexed file. Targets: <= 1 s for 1,000
 *       files; <= 50 KiB per file.
 * Exit status: 0 targets met, 1 a target missed, 2 broken setup.
 */
#define _GNU_SOURCE
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lsp_wire.h"

static double now_us(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e6 + t.tv_nsec / 1e3;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

typedef struct {
    double *v;
    size_t n;
} series;

static void add(series *s, double us)
{
    s->v = realloc(s->v, (s->n + 1) * sizeof *s->v);
    s->v[s->n++] = us;
}

static double pct(series *s, double p)
{
    qsort(s->v, s->n, sizeof *s->v, cmp_double);
    size_t i = (size_t)ceil(p / 100.0 * (double)s->n);
    if (i > 0) i--;
    if (i >= s->n) i = s->n - 1;
    return s->v[i] / 1000.0;
}

static void report(const char *name, series *s, double p50_target, double p99_target, bool *ok)
{
    double p50 = pct(s, 50), p90 = pct(s, 90), p99 = pct(s, 99), max = pct(s, 100);
    bool met = (p50_target <= 0 || p50 <= p50_target) && (p99_target <= 0 || p99 <= p99_target);
    printf("| %-38s | %4zu | %7.3f | %7.3f | %7.3f | %7.3f | %s |\n", name, s->n, p50, p90, p99,
           max,
           p99_target <= 0 && p50_target <= 0 ? "information"
           : met                              ? "met"
                                              : "MISSED");
    if (!met) *ok = false;
}

static void answer_request(server *s, const cJSON *m)
{
    cJSON *r = cJSON_CreateObject();
    cJSON_AddStringToObject(r, "jsonrpc", "2.0");
    cJSON_AddItemToObject(r, "id", cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(m, "id"), 1));
    cJSON_AddNullToObject(r, "result");
    char *b = cJSON_PrintUnformatted(r);
    send_frame(s, b, strlen(b));
    free(b);
    cJSON_Delete(r);
}

static void request(server *s, int id, const char *method, const char *params_fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void request(server *s, int id, const char *method, const char *params_fmt, ...)
{
    char params[4096];
    va_list ap;
    va_start(ap, params_fmt);
    vsnprintf(params, sizeof params, params_fmt, ap);
    va_end(ap);
    char body[8192];
    int n = snprintf(body, sizeof body,
                     "{\"jsonrpc\":\"2.0\",\"id\":%d,\"method\":\"%s\",\"params\":%s}", id, method,
                     params);
    send_frame(s, body, (size_t)n);
}

static cJSON *response(server *s, int id)
{
    cJSON *want = cJSON_CreateNumber(id);
    cJSON *r = wait_response(s, want);
    cJSON_Delete(want);
    if (!r) wire_die("no response to request %d", id);
    if (cJSON_GetObjectItemCaseSensitive(r, "error")) {
        char *t = cJSON_PrintUnformatted(r);
        wire_die("request %d failed: %s", id, t);
    }
    return r;
}

/* A didChange replacing [col, end_col) of a line with text. */
static void send_change(server *s, const char *uri, int version, int line, int col, int end_col,
                        const char *text)
{
    char change[1024];
    int cn = snprintf(
        change, sizeof change,
        "{\"jsonrpc\":\"2.0\",\"method\":\"textDocument/didChange\",\"params\":{\"textDocument\":"
        "{\"uri\":\"%s\",\"version\":%d},\"contentChanges\":[{\"range\":{\"start\":{\"line\":%d,"
        "\"character\":%d},\"end\":{\"line\":%d,\"character\":%d}},\"text\":\"%s\"}]}}",
        uri, version, line, col, line, end_col, text);
    send_frame(s, change, (size_t)cn);
}

/* 0-based line and column of every occurrence of `needle` (plus offset). */
typedef struct {
    int line, col;
} spot;

static size_t find_spots(const char *text, const char *needle, int offset, spot *out, size_t cap)
{
    size_t n = 0;
    int line = 0;
    const char *ls = text;
    for (const char *p = text; *p && n < cap; p++) {
        if (*p == '\n') {
            line++;
            ls = p + 1;
            continue;
        }
        if (strncmp(p, needle, strlen(needle)) == 0)
            out[n++] = (spot){line, (int)(p - ls) + offset};
    }
    return n;
}

static int run_edits(const char *tactus, const char *file, int iterations)
{
    FILE *f = fopen(file, "rb");
    if (!f) {
        fprintf(stderr, "bench_lsp: cannot read %s\n", file);
        return 2;
    }
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *text = malloc((size_t)len + 1);
    if (fread(text, 1, (size_t)len, f) != (size_t)len) return 2;
    text[len] = '\0';
    fclose(f);
    char *abs = realpath(file, NULL);
    static spot digits[4096], dots[4096], calls[4096];
    /* the digit after "score = k * " in each tool body; "input." in bodies; calls */
    size_t nd = find_spots(text, "score = k * ", 12, digits, 4096);
    size_t ni = find_spots(text, "= input.", 8, dots, 4096);
    size_t nc = find_spots(text, "= agent_", 4, calls, 4096);
    if (nd == 0 || ni == 0 || nc == 0) {
        fprintf(stderr, "bench_lsp: %s is not a file of bench/lsp/gen-big.lua\n", file);
        return 2;
    }
    server s = {0};
    s.on_request = answer_request;
    start(&s, tactus, NULL);
    request(&s, 1, "initialize", "{\"capabilities\":{\"textDocument\":{\"diagnostic\":{}}}}");
    cJSON_Delete(response(&s, 1));
    const char *initialized = "{\"jsonrpc\":\"2.0\",\"method\":\"initialized\",\"params\":{}}";
    send_frame(&s, initialized, strlen(initialized));
    /* didOpen with the text as a JSON string */
    cJSON *open = cJSON_CreateObject();
    cJSON_AddStringToObject(open, "jsonrpc", "2.0");
    cJSON_AddStringToObject(open, "method", "textDocument/didOpen");
    cJSON *td = cJSON_AddObjectToObject(cJSON_AddObjectToObject(open, "params"), "textDocument");
    char uri[4200];
    snprintf(uri, sizeof uri, "file://%s", abs);
    cJSON_AddStringToObject(td, "uri", uri);
    cJSON_AddStringToObject(td, "languageId", "tactus");
    cJSON_AddNumberToObject(td, "version", 1);
    cJSON_AddStringToObject(td, "text", text);
    char *body = cJSON_PrintUnformatted(open);
    double t0 = now_us();
    send_frame(&s, body, strlen(body));
    free(body);
    cJSON_Delete(open);
    request(&s, 2, "textDocument/diagnostic", "{\"textDocument\":{\"uri\":\"%s\"}}", uri);
    cJSON *first = response(&s, 2);
    double open_ms = (now_us() - t0) / 1000.0;
    int n_diags = cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(first, "result"), "items"));
    cJSON_Delete(first);
    /* warm-up: the first semantic pass builds the tree-sitter tree */
    request(&s, 3, "textDocument/hover",
            "{\"textDocument\":{\"uri\":\"%s\"},\"position\":{\"line\":%d,\"character\":%d}}", uri,
            calls[0].line, calls[0].col + 2);
    cJSON_Delete(response(&s, 3));

    series diag = {0}, comp = {0}, hover = {0}, idle = {0};
    int id = 10, version = 1;
    for (int i = 0; i < iterations; i++) {
        spot d = digits[(size_t)i * 7 % nd];
        char digit[2] = {(char)('1' + i % 9), 0};
        /* edit -> fresh diagnostics */
        double a = now_us();
        send_change(&s, uri, ++version, d.line, d.col, d.col + 1, digit);
        request(&s, ++id, "textDocument/diagnostic", "{\"textDocument\":{\"uri\":\"%s\"}}", uri);
        cJSON *r = response(&s, id);
        add(&diag, now_us() - a);
        int nd2 = cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(
            cJSON_GetObjectItemCaseSensitive(r, "result"), "items"));
        cJSON_Delete(r);
        if (nd2 != n_diags)
            wire_die(
                "edit %d changed the diagnostics (%d, was %d): the edits must keep the file valid",
                i, nd2, n_diags);
        /* completion right after an edit */
        digit[0] = (char)('1' + (i + 3) % 9);
        send_change(&s, uri, ++version, d.line, d.col, d.col + 1, digit);
        spot c = dots[(size_t)i * 5 % ni];
        a = now_us();
        request(&s, ++id, "textDocument/completion",
                "{\"textDocument\":{\"uri\":\"%s\"},\"position\":{\"line\":%d,\"character\":%d}}",
                uri, c.line, c.col);
        r = response(&s, id);
        add(&comp, now_us() - a);
        if (cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(
                cJSON_GetObjectItemCaseSensitive(r, "result"), "items")) == 0)
            wire_die("completion after input. offered nothing");
        cJSON_Delete(r);
        /* hover right after an edit */
        digit[0] = (char)('1' + (i + 5) % 9);
        send_change(&s, uri, ++version, d.line, d.col, d.col + 1, digit);
        spot h = calls[(size_t)i * 3 % nc];
        a = now_us();
        request(&s, ++id, "textDocument/hover",
                "{\"textDocument\":{\"uri\":\"%s\"},\"position\":{\"line\":%d,\"character\":%d}}",
                uri, h.line, h.col + 2);
        r = response(&s, id);
        add(&hover, now_us() - a);
        if (!cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(r, "result")))
            wire_die("hover on an agent call found nothing");
        cJSON_Delete(r);
        /* hover with nothing typed since */
        h = calls[((size_t)i * 3 + 1) % nc];
        a = now_us();
        request(&s, ++id, "textDocument/hover",
                "{\"textDocument\":{\"uri\":\"%s\"},\"position\":{\"line\":%d,\"character\":%d}}",
                uri, h.line, h.col + 2);
        r = response(&s, id);
        add(&idle, now_us() - a);
        cJSON_Delete(r);
    }
    /* For the record: an edit that breaks the file (Lua's compiler then
     * judges the whole text again) and the edit that mends it. */
    series broken = {0}, mended = {0};
    for (int i = 0; i < iterations / 6 + 1; i++) {
        spot d = digits[(size_t)i * 11 % nd];
        for (int k = 0; k < 2; k++) {
            double a = now_us();
            send_change(&s, uri, ++version, d.line, d.col, d.col + (k ? 2 : 0), k ? "" : "((");
            request(&s, ++id, "textDocument/diagnostic", "{\"textDocument\":{\"uri\":\"%s\"}}",
                    uri);
            cJSON_Delete(response(&s, id));
            add(k ? &mended : &broken, now_us() - a);
        }
    }
    request(&s, ++id, "shutdown", "null");
    cJSON_Delete(response(&s, id));
    const char *bye = "{\"jsonrpc\":\"2.0\",\"method\":\"exit\"}";
    send_frame(&s, bye, strlen(bye));
    int st = wait_exit(&s);
    int lines = 0;
    for (const char *p = text; *p; p++)
        lines += *p == '\n';
    printf("file: %s, %d lines, %ld bytes, %d diagnostics (it stays so after every edit)\n", file,
           lines, len, n_diags);
    printf("open + first pull: %.1f ms\n\n", open_ms);
    printf("| %-38s | %4s | %7s | %7s | %7s | %7s | %s |\n", "request (ms)", "n", "p50", "p90",
           "p99", "max", "target");
    printf("|---|---:|---:|---:|---:|---:|---|\n");
    bool ok = true;
    report("edit -> fresh diagnostics (pull)", &diag, 3.0, 10.0, &ok);
    report("completion after an edit", &comp, 0, 5.0, &ok);
    report("hover after an edit", &hover, 0, 5.0, &ok);
    report("hover, nothing typed since", &idle, 0, 5.0, &ok);
    report("edit that breaks the syntax -> diagnostics", &broken, 0, 0, &ok);
    report("edit that mends it -> diagnostics", &mended, 0, 0, &ok);
    printf("\nserver exit status %d\n", st);
    free(text);
    free(abs);
    return ok && st == 0 ? 0 : 1;
}

static long rss_kib(pid_t pid)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    long kib = -1;
    while (f && fgets(line, sizeof line, f))
        if (!strncmp(line, "VmRSS:", 6)) kib = strtol(line + 6, NULL, 10);
    if (f) fclose(f);
    return kib;
}

static int run_workspace(const char *tactus, const char *dir)
{
    char *abs = realpath(dir, NULL);
    if (!abs) {
        fprintf(stderr, "bench_lsp: no folder %s\n", dir);
        return 2;
    }
    server s = {0};
    s.on_request = answer_request;
    start(&s, tactus, NULL);
    request(&s, 1, "initialize",
            "{\"workspaceFolders\":[{\"uri\":\"file://"
            "%s\",\"name\":\"bench\"}],\"capabilities\":{\"window\":"
            "{\"workDoneProgress\":true}}}",
            abs);
    cJSON_Delete(response(&s, 1));
    usleep(100000);
    long rss0 = rss_kib(s.pid);
    const char *initialized = "{\"jsonrpc\":\"2.0\",\"method\":\"initialized\",\"params\":{}}";
    double t0 = now_us();
    send_frame(&s, initialized, strlen(initialized));
    cJSON *match = cJSON_Parse("{\"value\":{\"kind\":\"end\"}}");
    cJSON *end = wait_notification(&s, "$/progress", match);
    double ms = (now_us() - t0) / 1000.0;
    cJSON_Delete(match);
    if (!end) wire_die("no end of indexing");
    const char *msg = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(end, "params"), "value"),
        "message"));
    long files = msg ? strtol(msg + strcspn(msg, "0123456789"), NULL, 10) : 0;
    cJSON_Delete(end);
    usleep(200000);
    long rss1 = rss_kib(s.pid);
    /* a query over the whole index, for the record */
    double q0 = now_us();
    request(&s, 2, "workspace/symbol", "{\"query\":\"lookup\"}");
    cJSON *r = response(&s, 2);
    double q_ms = (now_us() - q0) / 1000.0;
    int found = cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(r, "result"));
    cJSON_Delete(r);
    request(&s, 3, "shutdown", "null");
    cJSON_Delete(response(&s, 3));
    const char *bye = "{\"jsonrpc\":\"2.0\",\"method\":\"exit\"}";
    send_frame(&s, bye, strlen(bye));
    int st = wait_exit(&s);
    double per_file = files ? (double)(rss1 - rss0) / (double)files : 0;
    bool ok = files > 0 && ms <= 1000.0 * (double)files / 1000.0 + 1e-9 && per_file <= 50.0;
    printf("workspace: %s, %ld .tac files indexed in %.0f ms (target <= %.0f ms); %s\n", dir, files,
           ms, 1000.0 * (double)files / 1000.0, ms <= (double)files ? "met" : "MISSED");
    printf("server RSS: %ld KiB before indexing, %ld KiB after: %.1f KiB per file (target <= 50 "
           "KiB); %s\n",
           rss0, rss1, per_file, per_file <= 50.0 ? "met" : "MISSED");
    printf("workspace/symbol \"lookup\" over the index: %d symbols in %.2f ms\n", found, q_ms);
    printf("server exit status %d\n", st);
    free(abs);
    return ok && st == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
    if (argc >= 4 && !strcmp(argv[1], "edits"))
        return run_edits(argv[2], argv[3], argc > 4 ? atoi(argv[4]) : 300);
    if (argc >= 4 && !strcmp(argv[1], "workspace")) return run_workspace(argv[2], argv[3]);
    fprintf(stderr, "usage: bench_lsp edits TACTUS FILE [N] | bench_lsp workspace TACTUS DIR\n");
    return 2;
}
