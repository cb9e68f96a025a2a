/* Fuzz target: any bytes as an HTTP client sends them to `tactus serve`:
 * the request line, headers, cookies, bodies (JSON and forms), through
 * libmicrohttpd into our routes, authentication, limits and handlers. The
 * server runs once, in this process, on a loopback port over a SQLite
 * store holding one pending request; in the input "@T" stands for a live
 * approver token, "@R" for the request's id and "@H" for its hash, so
 * inputs reach the handlers behind authentication. Properties: the server
 * answers with a status line (or closes the connection), never a 5xx other
 * than 503, never a response without the security headers, and it keeps
 * serving (/healthz after every input). Input surface: the HTTP API and
 * the inbox's forms. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "fuzz.h"
#include "hostlib.h"
#include "journal.h"
#include "service.h"

static char token[128], request_id[64], request_hash[65];
static int port;
static volatile sig_atomic_t stop_server;
static ws_options opts;

static void *serve_main(void *arg)
{
    (void)arg;
    ws_serve(&opts, &stop_server);
    return NULL;
}

/* A temporary store with one run waiting on an approval, a tokens file,
 * and the server listening on a free port (read from its ready line). */
static void start(void)
{
    static char dir[] = "/tmp/tactus-fuzz-http.XXXXXX";
    static char store[256], tokens[256], ready_path[256];
    if (!mkdtemp(dir)) abort();
    snprintf(store, sizeof store, "%s/journal.db", dir);
    snprintf(tokens, sizeof tokens, "%s/tokens.json", dir);
    snprintf(ready_path, sizeof ready_path, "%s/ready", dir);
    char key[300];
    snprintf(key, sizeof key, "%s/journal.key", dir);
    setenv("TACTUS_JOURNAL_KEY", key, 1);
    char err[512];
    ws_token rec;
    if (ws_tokens_create(tokens, "fuzz", WS_ROLE_APPROVER, "fuzzer", &rec, token, sizeof token, err, sizeof err) != TX_OK)
        abort();
    tj_journal *j = NULL;
    if (tj_open(store, &j, err, sizeof err) != TX_OK) abort();
    tj_run r = {0};
    hl_new_run_id(r.id);
    snprintf(r.tenant, sizeof r.tenant, "fuzz");
    r.procedure_path = "/fuzz/gate.tac";
    r.source = "Procedure { function() return Human.approve({message = 'ok?'}) end }";
    r.inputs = cJSON_CreateObject();
    snprintf(r.status, sizeof r.status, "waiting");
    if (tj_run_create(j, &r) != TX_OK) abort();
    tj_human h = {0};
    snprintf(h.id, sizeof h.id, "%s.0", r.id);
    snprintf(h.run_id, sizeof h.run_id, "%s", r.id);
    snprintf(h.tenant, sizeof h.tenant, "fuzz");
    snprintf(h.kind, sizeof h.kind, "approve");
    h.message = "<b>Ship</b> it?";
    h.request = cJSON_Parse("{\"kind\":\"approve\",\"message\":\"<b>Ship</b> it?\"}");
    snprintf(h.request_hash, sizeof h.request_hash, "%s", "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
    if (tj_human_put(j, &h) != TX_OK) abort();
    snprintf(request_id, sizeof request_id, "%s", h.id);
    snprintf(request_hash, sizeof request_hash, "%s", h.request_hash);
    cJSON_Delete(h.request);
    cJSON_Delete(r.inputs);
    tj_close(j);
    ws_options_init(&opts);
    opts.listen = "127.0.0.1:0";
    opts.store = store;
    opts.tokens = tokens;
    opts.rate = 0;
    opts.idle_timeout_s = 2;
    opts.max_body = 64 * 1024;
    opts.ready = fopen(ready_path, "w");
    pthread_t t;
    if (!opts.ready || pthread_create(&t, NULL, serve_main, NULL) != 0) abort();
    for (int i = 0; i < 200 && !port; i++) {
        struct timespec ts = {0, 20 * 1000 * 1000};
        nanosleep(&ts, NULL);
        FILE *f = fopen(ready_path, "r");
        char line[512] = "";
        if (f && fgets(line, sizeof line, f)) {
            char *colon = strrchr(line, ':');
            if (colon) port = atoi(colon + 1);
        }
        if (f) fclose(f);
    }
    if (!port) abort();
}

/* The input with @T, @R, @H replaced. */
static char *expand(const uint8_t *data, size_t size, size_t *out_len)
{
    char *out = malloc(size * 64 + 1);
    size_t n = 0;
    for (size_t i = 0; i < size; i++) {
        const char *sub = NULL;
        if (data[i] == '@' && i + 1 < size) {
            if (data[i + 1] == 'T') sub = token;
            else if (data[i + 1] == 'R') sub = request_id;
            else if (data[i + 1] == 'H') sub = request_hash;
        }
        if (sub) {
            size_t l = strlen(sub);
            memcpy(out + n, sub, l);
            n += l;
            i++;
        } else {
            out[n++] = (char)data[i];
        }
    }
    out[n] = '\0';
    *out_len = n;
    return out;
}

/* Sends a request, reads the answer until the server closes or 3 s pass. */
static size_t exchange(const char *req, size_t len, char *resp, size_t cap)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) abort();
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    /* Each exchange from another loopback source address: tens of
     * thousands of short connections would otherwise run one address out
     * of ports (TIME_WAIT), and that is the test's limit, not the server's. */
    static unsigned next_source;
    unsigned n = next_source++ % (250u * 250u);
    struct sockaddr_in src = {.sin_family = AF_INET};
    src.sin_addr.s_addr = htonl((127u << 24) | (1u << 16) | ((n / 250 + 1) << 8) | (n % 250 + 1));
    if (bind(fd, (struct sockaddr *)&src, sizeof src) != 0) abort();
    struct timeval tv = {3, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    int c;
    while ((c = connect(fd, (struct sockaddr *)&a, sizeof a)) != 0 && errno == EINTR) {
    }
    FUZZ_REQUIRE(c == 0 || errno == EISCONN, "the server accepts connections");
    size_t sent = 0;
    while (sent < len) {
        ssize_t w = send(fd, req + sent, len - sent, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR) continue; /* libFuzzer's SIGALRM */
        if (w <= 0) break;
        sent += (size_t)w;
    }
    shutdown(fd, SHUT_WR);
    size_t got = 0;
    while (got + 1 < cap) {
        ssize_t r = recv(fd, resp + got, cap - 1 - got, 0);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) break;
        got += (size_t)r;
    }
    resp[got] = '\0';
    close(fd);
    return got;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static bool started;
    if (!started) {
        cJSON_Hooks h = {tx_malloc, tx_free};
        cJSON_InitHooks(&h);
        signal(SIGPIPE, SIG_IGN);
        start();
        started = true;
    }
    if (size > 256 * 1024) return 0;
    size_t len;
    char *req = expand(data, size, &len);
    static char resp[1 << 20];
    size_t got = exchange(req, len, resp, sizeof resp);
    free(req);
    if (got) {
        FUZZ_REQUIRE(!strncmp(resp, "HTTP/1.", 7), "an answer starts with a status line");
        int status = atoi(resp + 9);
        FUZZ_REQUIRE(status >= 100 && status < 600, "a status code");
        FUZZ_REQUIRE(status < 500 || status == 503 || status == 505 || status == 501,
                     "no internal server error (a 5xx other than 503 and the library's 501/505)");
        /* Every reply of ours carries the policy; the library's own (400,
         * 413, 431, 501, 505 before a route runs) do not come from us. */
        if (status < 400 || status == 401 || status == 403 || status == 404 || status == 409 || status == 422)
            FUZZ_REQUIRE(strstr(resp, "Content-Security-Policy: default-src 'none'"), "our replies carry the CSP");
    }
    const char *health = "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    /* Keeps serving: /healthz answers (three tries 200 ms apart: a
     * connection the kernel refused once is not the server's failure). */
    bool up = false;
    for (int i = 0; i < 3 && !up; i++) {
        if (i) nanosleep(&(struct timespec){0, 200 * 1000 * 1000}, NULL);
        got = exchange(health, strlen(health), resp, sizeof resp);
        up = got && strstr(resp, "200 OK");
        if (!up) fprintf(stderr, "fuzz_http: /healthz try %d: %zu bytes, errno %d: %.200s\n", i + 1, got, errno, resp);
    }
    FUZZ_REQUIRE(up, "the server keeps serving");
    return 0;
}
