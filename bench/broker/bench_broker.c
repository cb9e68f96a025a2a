/*
 * bench_broker.c - what the broker adds to a model call.
 *
 * Against fake_openai.py's `echo` model on loopback, in one run and
 * interleaved (the order rotates every iteration), N times each:
 *   direct  a libcurl POST of the very body the provider sends, reading the
 *           server-sent events to the end with minimal parsing (lines, the
 *           first non-empty "content", [DONE]); a fresh easy handle per call
 *           with the provider's options, as br_openai.c does
 *   broker  br_handle with an llm.chat request for openai/echo
 *   reuse   (for information) the direct call on one easy handle kept for
 *           the whole run, so the connection is reused
 * Reports median, p90, p99 of each, of the per-iteration difference
 * (broker - direct), of the time to the first delta, and of the process CPU
 * time per call.
 *
 * Usage: bench_broker [-n N] [-w WORDS] [--warmup W] [--markdown]
 *                     [--server fake_openai.py] [--raw FILE.tsv] [--server-log FILE]
 *                     [--only direct|broker|reuse]
 * (--raw writes every measurement; --server-log makes the server append each
 * request it receives, to check that both paths send the same bytes; --only
 * runs one variant alone, for perf or strace)
 */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fake_server.h"
#include "providers.h"

#ifndef FAKE_OPENAI_PY
#define FAKE_OPENAI_PY "tests/integration/fake_openai.py"
#endif

enum { DIRECT, BROKER, REUSE, NV };
static const char *const vname[NV] = {"direct", "broker", "reuse"};

typedef struct {
    double *total;  /* ms, whole call */
    double *first;  /* ms, call start to first text delta */
    double *cpu;    /* ms of process CPU time during the call */
} series;

static double cpu_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* ---- the direct call ---------------------------------------------------------------------------- */

typedef struct {
    double t0, first;
    char line[65536];
    size_t len;
    int contents; /* data lines with a non-empty content */
    bool done;
    bool overflow;
} direct_state;

static void direct_line(direct_state *d)
{
    if (d->len < 6 || memcmp(d->line, "data: ", 6) != 0) return;
    if (d->len == 12 && memcmp(d->line + 6, "[DONE]", 6) == 0) {
        d->done = true;
        return;
    }
    d->line[d->len] = '\0';
    const char *c = strstr(d->line, "\"content\":\"");
    if (c && c[11] != '"') {
        if (d->contents++ == 0) d->first = fake_now_ms() - d->t0;
    }
}

static size_t direct_write(char *data, size_t size, size_t nmemb, void *ud)
{
    direct_state *d = ud;
    size_t n = size * nmemb;
    for (size_t i = 0; i < n; i++) {
        if (data[i] == '\n') {
            direct_line(d);
            d->len = 0;
        } else if (d->len < sizeof d->line - 1) {
            d->line[d->len++] = data[i];
        } else {
            d->overflow = true;
        }
    }
    return n;
}

/* The same options br_openai.c sets. */
static void direct_setup(CURL *c, const char *url, struct curl_slist *hdrs, const char *body,
                         direct_state *d)
{
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, direct_write);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, d);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 10L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 600L);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, 60L);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
}

static bool direct_call(CURL *reuse, const char *url, struct curl_slist *hdrs, const char *body,
                        int words, double *total, double *first)
{
    static direct_state d;
    memset(&d, 0, sizeof d);
    d.first = -1;
    d.t0 = fake_now_ms();
    CURL *c = reuse ? reuse : curl_easy_init();
    if (!c) return false;
    direct_setup(c, url, hdrs, body, &d);
    CURLcode rc = curl_easy_perform(c);
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    if (!reuse) curl_easy_cleanup(c);
    *total = fake_now_ms() - d.t0;
    *first = d.first;
    if (rc != CURLE_OK || status != 200 || !d.done || d.overflow || d.contents != words) {
        fprintf(stderr, "bench_broker: direct call failed (curl %d, HTTP %ld, %d pieces, done %d)\n",
                (int)rc, status, d.contents, (int)d.done);
        return false;
    }
    return true;
}

/* ---- the broker call ------------------------------------------------------------------------------ */

typedef struct {
    double t0, first;
    int deltas;
} broker_state;

static void broker_delta(void *ud, const cJSON *delta)
{
    broker_state *b = ud;
    (void)delta;
    if (b->deltas++ == 0) b->first = fake_now_ms() - b->t0;
}

static bool broker_call(br_broker *br, cJSON *req, const char *expect, int words, double *total,
                        double *first)
{
    broker_state b = {fake_now_ms(), -1, 0};
    cJSON *ev = br_handle(br, req, broker_delta, &b);
    *total = fake_now_ms() - b.t0;
    *first = b.first;
    const char *event = hl_json_str(ev, "event");
    const cJSON *content = cf_get(ev, "data.message.content");
    bool ok = event && strcmp(event, "done") == 0 && cJSON_IsString(content) &&
              strcmp(content->valuestring, expect) == 0 && b.deltas == words;
    if (!ok) {
        char *t = cJSON_PrintUnformatted(ev);
        fprintf(stderr, "bench_broker: broker call failed (%d deltas): %s\n", b.deltas, t ? t : "");
        cJSON_free(t);
    }
    cJSON_Delete(ev);
    return ok;
}

/* ---- statistics --------------------------------------------------------------------------------------- */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Nearest-rank percentile of a copy of v. */
static double pct(const double *v, int n, double p)
{
    double *s = malloc(sizeof *s * (size_t)n);
    if (!s) return -1;
    memcpy(s, v, sizeof *s * (size_t)n);
    qsort(s, (size_t)n, sizeof *s, cmp_double);
    int k = (int)(p / 100.0 * n + 0.999999) - 1;
    if (k < 0) k = 0;
    if (k >= n) k = n - 1;
    double r = s[k];
    free(s);
    return r;
}

static double mean(const double *v, int n)
{
    double s = 0;
    for (int i = 0; i < n; i++) s += v[i];
    return s / n;
}

static void row(bool md, const char *name, const double *v, int n)
{
    if (md)
        printf("| %-34s | %8.3f | %8.3f | %8.3f | %8.3f | %8.3f |\n", name, pct(v, n, 50),
               pct(v, n, 90), pct(v, n, 99), mean(v, n), pct(v, n, 0));
    else
        printf("  %-34s median %8.3f  p90 %8.3f  p99 %8.3f  mean %8.3f  min %8.3f ms\n", name,
               pct(v, n, 50), pct(v, n, 90), pct(v, n, 99), mean(v, n), pct(v, n, 0));
}

static void usage(void)
{
    fprintf(stderr, "usage: bench_broker [-n N] [-w WORDS] [--warmup W] [--markdown] [--server "
                    "fake_openai.py] [--raw FILE.tsv] [--server-log FILE] [--only direct|broker|reuse]\n");
}

int main(int argc, char **argv)
{
    int n = 300, words = 20, warmup = 20;
    bool md = false;
    int only = -1; /* run one variant alone (for perf and strace) */
    const char *script = FAKE_OPENAI_PY, *raw = NULL, *server_log = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-n") == 0 && i + 1 < argc) n = atoi(argv[++i]);
        else if (strcmp(argv[i], "-w") == 0 && i + 1 < argc) words = atoi(argv[++i]);
        else if (strcmp(argv[i], "--warmup") == 0 && i + 1 < argc) warmup = atoi(argv[++i]);
        else if (strcmp(argv[i], "--server") == 0 && i + 1 < argc) script = argv[++i];
        else if (strcmp(argv[i], "--raw") == 0 && i + 1 < argc) raw = argv[++i];
        else if (strcmp(argv[i], "--server-log") == 0 && i + 1 < argc) server_log = argv[++i];
        else if (strcmp(argv[i], "--markdown") == 0) md = true;
        else if (strcmp(argv[i], "--only") == 0 && i + 1 < argc) {
            const char *w = argv[++i];
            for (int v = 0; v < NV; v++)
                if (strcmp(w, vname[v]) == 0) only = v;
            if (only < 0) {
                usage();
                return 2;
            }
        }
        else {
            usage();
            return 2;
        }
    }
    if (n < 10 || words < 1 || words > 2000 || warmup < 0) {
        usage();
        return 2;
    }

    curl_global_init(CURL_GLOBAL_DEFAULT);
    fake_server fs;
    const char *args[] = {"--timeout", "3600", server_log ? "--log" : NULL, server_log, NULL};
    if (!fake_server_start(&fs, script, args)) return 1;
    unsetenv("OPENAI_BASE_URL");
    setenv("OPENAI_API_KEY", "bench-key", 1);
    setenv("no_proxy", "127.0.0.1,localhost", 1);

    /* the prompt: WORDS words, echoed back one per event */
    tx_buf text;
    tx_buf_init(&text, 1u << 20);
    for (int i = 0; i < words; i++) tx_buf_printf(&text, "%sword%d", i ? " " : "", i);

    cJSON *config = cJSON_CreateObject();
    cJSON *po = cJSON_AddObjectToObject(cJSON_AddObjectToObject(config, "providers"), "openai");
    cJSON_AddStringToObject(po, "base_url", fs.base_url);
    br_broker *br = br_broker_new(config, NULL, false);

    cJSON *req = cJSON_CreateObject();
    cJSON_AddNumberToObject(req, "id", 1);
    cJSON_AddStringToObject(req, "method", "llm.chat");
    cJSON *params = cJSON_AddObjectToObject(req, "params");
    cJSON_AddStringToObject(params, "agent", "bench");
    cJSON_AddStringToObject(params, "model", "openai/echo");
    cJSON *m = cJSON_CreateObject();
    cJSON_AddStringToObject(m, "role", "user");
    cJSON_AddStringToObject(m, "content", text.data);
    cJSON_AddItemToArray(cJSON_AddArrayToObject(params, "messages"), m);

    /* the body the provider sends for these params */
    cJSON *body = cJSON_CreateObject();
    cJSON_AddStringToObject(body, "model", "echo");
    cJSON *bm = cJSON_CreateObject();
    cJSON_AddStringToObject(bm, "role", "user");
    cJSON_AddStringToObject(bm, "content", text.data);
    cJSON_AddItemToArray(cJSON_AddArrayToObject(body, "messages"), bm);
    cJSON_AddBoolToObject(body, "stream", 1);
    cJSON_AddBoolToObject(cJSON_AddObjectToObject(body, "stream_options"), "include_usage", 1);
    char *body_text = cJSON_PrintUnformatted(body);
    cJSON_Delete(body);

    char url[128];
    snprintf(url, sizeof url, "%s/chat/completions", fs.base_url);
    struct curl_slist *hdrs = curl_slist_append(NULL, "Content-Type: application/json");
    hdrs = curl_slist_append(hdrs, "Accept: text/event-stream");
    hdrs = curl_slist_append(hdrs, "Authorization: Bearer bench-key");
    CURL *reuse = curl_easy_init();

    series s[NV];
    for (int v = 0; v < NV; v++) {
        s[v].total = calloc((size_t)n, sizeof(double));
        s[v].first = calloc((size_t)n, sizeof(double));
        s[v].cpu = calloc((size_t)n, sizeof(double));
    }
    static const int orders[6][NV] = {{0, 1, 2}, {1, 0, 2}, {2, 0, 1}, {0, 2, 1}, {1, 2, 0}, {2, 1, 0}};
    bool ok = br && reuse && body_text;
    for (int it = -warmup; ok && it < n; it++) {
        const int *order = orders[(it + warmup) % 6];
        for (int k = 0; ok && k < NV; k++) {
            int v = order[k];
            if (only >= 0 && v != only) continue;
            double total = 0, first = 0, c0 = cpu_ms();
            if (v == BROKER) {
                cJSON_SetNumberHelper(cJSON_GetObjectItemCaseSensitive(req, "id"), it + warmup + 1);
                ok = broker_call(br, req, text.data, words, &total, &first);
            } else {
                ok = direct_call(v == REUSE ? reuse : NULL, url, hdrs, body_text, words, &total, &first);
            }
            double c = cpu_ms() - c0;
            if (it >= 0) {
                s[v].total[it] = total;
                s[v].first[it] = first;
                s[v].cpu[it] = c;
            }
        }
    }
    int rc = ok ? 0 : 1;
    if (ok && only >= 0) {
        printf("bench_broker: %d iterations of %s alone\n", n, vname[only]);
        row(md, "whole call", s[only].total, n);
        row(md, "first delta", s[only].first, n);
        row(md, "CPU per call", s[only].cpu, n);
    } else if (ok) {
        double *dt = calloc((size_t)n, sizeof(double)), *df = calloc((size_t)n, sizeof(double));
        double *dc = calloc((size_t)n, sizeof(double));
        for (int i = 0; i < n; i++) {
            dt[i] = s[BROKER].total[i] - s[DIRECT].total[i];
            df[i] = s[BROKER].first[i] - s[DIRECT].first[i];
            dc[i] = s[BROKER].cpu[i] - s[DIRECT].cpu[i];
        }
        printf("%s%d iterations (+%d warm-up), %d words echoed as %d events + finish, usage, [DONE]; "
               "request body %zu bytes%s\n",
               md ? "" : "bench_broker: ", n, warmup, words, words, strlen(body_text), md ? "\n" : "");
        if (md) {
            printf("| ms                                 |   median |      p90 |      p99 |     mean |      min |\n");
            printf("|------------------------------------|---------:|---------:|---------:|---------:|---------:|\n");
        }
        row(md, "direct: whole call", s[DIRECT].total, n);
        row(md, "broker: whole call", s[BROKER].total, n);
        row(md, "broker - direct (paired)", dt, n);
        row(md, "direct: first delta", s[DIRECT].first, n);
        row(md, "broker: first delta", s[BROKER].first, n);
        row(md, "broker - direct: first delta", df, n);
        row(md, "direct: CPU per call", s[DIRECT].cpu, n);
        row(md, "broker: CPU per call", s[BROKER].cpu, n);
        row(md, "broker - direct: CPU (paired)", dc, n);
        row(md, "reuse (keep-alive): whole call", s[REUSE].total, n);
        row(md, "reuse (keep-alive): first delta", s[REUSE].first, n);
        double med = pct(dt, n, 50), p99 = pct(dt, n, 99), fmed = pct(df, n, 50);
        printf("%starget: overhead median %.3f ms (<= 1 ms: %s), p99 %.3f ms (<= 3 ms: %s), "
               "first-token median %.3f ms (<= 1 ms: %s)\n",
               md ? "\n" : "", med, med <= 1 ? "met" : "MISSED", p99, p99 <= 3 ? "met" : "MISSED",
               fmed, fmed <= 1 ? "met" : "MISSED");
        /* bench/README.md: exit 1 on a missed target, so the benchmark can gate CI.
         * Written as "not met" so that a NaN (no measurement) misses too, as printed. */
        if (rc == 0 && !(med <= 1 && p99 <= 3 && fmed <= 1)) rc = 1;
        if (raw) {
            FILE *f = fopen(raw, "w");
            if (f) {
                fprintf(f, "iteration");
                for (int v = 0; v < NV; v++)
                    fprintf(f, "\t%s_total\t%s_first\t%s_cpu", vname[v], vname[v], vname[v]);
                fprintf(f, "\n");
                for (int i = 0; i < n; i++) {
                    fprintf(f, "%d", i);
                    for (int v = 0; v < NV; v++)
                        fprintf(f, "\t%.4f\t%.4f\t%.4f", s[v].total[i], s[v].first[i], s[v].cpu[i]);
                    fprintf(f, "\n");
                }
                fclose(f);
            }
        }
        free(dt), free(df), free(dc);
    }
    for (int v = 0; v < NV; v++) free(s[v].total), free(s[v].first), free(s[v].cpu);
    curl_easy_cleanup(reuse);
    curl_slist_free_all(hdrs);
    cJSON_free(body_text);
    cJSON_Delete(req);
    br_broker_free(br);
    cJSON_Delete(config);
    tx_buf_free(&text);
    fake_server_stop(&fs);
    curl_global_cleanup();
    return rc;
}
