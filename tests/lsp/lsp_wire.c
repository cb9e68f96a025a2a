/*
 * lsp_wire.c - the client side of the base protocol, shared by the test
 * client (tests/lsp/lsp_client.c) and the benchmark (bench/lsp/bench_lsp.c):
 * start `tactus lsp` on pipes, write frames without ever blocking on a full
 * pipe while the server writes too, read frames, wait for a response or a
 * notification with a deadline.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lsp_wire.h"

void wire_die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("lsp client: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(1);
}

long long now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

void start(server *s, const char *tactus, const char *extra)
{
    int in[2], out[2];
    if (pipe(in) || pipe(out)) wire_die("pipe: %s", strerror(errno));
    s->pid = fork();
    if (s->pid < 0) wire_die("fork: %s", strerror(errno));
    if (s->pid == 0) {
        dup2(in[0], 0);
        dup2(out[1], 1);
        close(in[1]);
        close(out[0]);
        if (extra)
            execl(tactus, tactus, "lsp", "--log", extra, (char *)NULL);
        else
            execl(tactus, tactus, "lsp", (char *)NULL);
        _exit(127);
    }
    close(in[0]);
    close(out[1]);
    s->in = in[1];
    s->out = out[0];
    fcntl(s->in, F_SETFL, O_NONBLOCK);
    s->pending = cJSON_CreateArray();
}

/* Reads what the server wrote, waiting up to ms. false at end of output. */
bool pump(server *s, int ms)
{
    if (s->out < 0) return false;
    struct pollfd p = {s->out, POLLIN, 0};
    int rc = poll(&p, 1, ms);
    if (rc <= 0) return true;
    if (s->len + 65536 > s->cap) {
        s->cap = (s->len + 65536) * 2;
        s->buf = realloc(s->buf, s->cap);
    }
    ssize_t n = read(s->out, s->buf + s->len, 65536);
    if (n <= 0) {
        close(s->out);
        s->out = -1;
        return false;
    }
    s->len += (size_t)n;
    return true;
}

/* Writes all of data, reading the server's output meanwhile (a server that
 * writes while we write must not deadlock us). */
void send_bytes(server *s, const char *data, size_t n)
{
    while (n) {
        struct pollfd p[2] = {{s->in, POLLOUT, 0}, {s->out, POLLIN, 0}};
        if (poll(p, s->out >= 0 ? 2 : 1, WAIT_MS) <= 0)
            wire_die("the server stopped reading its input");
        if (s->out >= 0 && (p[1].revents & (POLLIN | POLLHUP))) pump(s, 0);
        if (p[0].revents & (POLLERR | POLLHUP)) return; /* it exited: the caller sees that */
        if (!(p[0].revents & POLLOUT)) continue;
        ssize_t w = write(s->in, data, n);
        if (w < 0) {
            if (errno == EAGAIN || errno == EINTR) continue;
            return;
        }
        data += w;
        n -= (size_t)w;
    }
}

void send_frame(server *s, const char *body, size_t n)
{
    char head[64];
    int hn = snprintf(head, sizeof head, "Content-Length: %zu\r\n\r\n", n);
    send_bytes(s, head, (size_t)hn);
    send_bytes(s, body, n);
}

/* The next complete message in the buffer, or NULL. */
cJSON *take(server *s)
{
    char *end = s->len ? memmem(s->buf, s->len, "\r\n\r\n", 4) : NULL;
    if (!end) return NULL;
    size_t hl = (size_t)(end - s->buf) + 4;
    const char *cl = strcasestr(s->buf, "Content-Length:");
    if (!cl || cl > end) wire_die("a frame without Content-Length: %.*s", (int)hl, s->buf);
    size_t n = strtoul(cl + 15, NULL, 10);
    if (s->len < hl + n) return NULL;
    cJSON *m = cJSON_ParseWithLength(s->buf + hl, n);
    if (!m)
        wire_die("the server sent a body that is not JSON: %.*s", (int)(n > 200 ? 200 : n),
                 s->buf + hl);
    memmove(s->buf, s->buf + hl + n, s->len - hl - n);
    s->len -= hl + n;
    return m;
}

bool same_id(const cJSON *a, const cJSON *b)
{
    if (cJSON_IsNumber(a) && cJSON_IsNumber(b)) return a->valuedouble == b->valuedouble;
    if (cJSON_IsString(a) && cJSON_IsString(b)) return !strcmp(a->valuestring, b->valuestring);
    return cJSON_IsNull(a) && cJSON_IsNull(b);
}

/* Waits for the response with `id`, keeping notifications aside. */
/* A request the server sent is handed to on_request (answered) and freed:
 * true when m was one. */
static bool server_request(server *s, cJSON *m)
{
    if (!s->on_request || !cJSON_GetObjectItemCaseSensitive(m, "id") ||
        !cJSON_IsString(cJSON_GetObjectItemCaseSensitive(m, "method")))
        return false;
    s->on_request(s, m);
    cJSON_Delete(m);
    return true;
}

cJSON *wait_response(server *s, const cJSON *id)
{
    long long deadline = now_ms() + WAIT_MS;
    for (;;) {
        cJSON *m;
        while ((m = take(s))) {
            if (server_request(s, m)) continue;
            if (cJSON_GetObjectItemCaseSensitive(m, "method")) {
                cJSON_AddItemToArray(s->pending, m);
                continue;
            }
            if (same_id(cJSON_GetObjectItemCaseSensitive(m, "id"), id)) return m;
            if (s->on_stray) s->on_stray(m);
            cJSON_Delete(m);
        }
        if (now_ms() > deadline) return NULL;
        if (!pump(s, 100) && !s->len) return NULL;
    }
}

/* Whether every key of want is in have with an equal value (recursively). */
bool contains(const cJSON *have, const cJSON *want)
{
    if (!want) return true;
    if (cJSON_IsObject(want)) {
        const cJSON *w;
        cJSON_ArrayForEach(w, want) if (!contains(cJSON_GetObjectItemCaseSensitive(have, w->string),
                                                  w)) return false;
        return true;
    }
    return cJSON_Compare(have, want, true);
}

cJSON *wait_notification(server *s, const char *method, const cJSON *match)
{
    long long deadline = now_ms() + WAIT_MS;
    for (;;) {
        int n = cJSON_GetArraySize(s->pending);
        for (int i = 0; i < n; i++) {
            cJSON *m = cJSON_GetArrayItem(s->pending, i);
            const cJSON *mm = cJSON_GetObjectItemCaseSensitive(m, "method");
            if (cJSON_IsString(mm) && !strcmp(mm->valuestring, method) &&
                contains(cJSON_GetObjectItemCaseSensitive(m, "params"), match))
                return cJSON_DetachItemFromArray(s->pending, i);
        }
        cJSON *m;
        while ((m = take(s)))
            if (!server_request(s, m)) cJSON_AddItemToArray(s->pending, m);
        if (cJSON_GetArraySize(s->pending) > n) continue;
        if (now_ms() > deadline) return NULL;
        if (!pump(s, 100) && !s->len) return NULL;
    }
}

int wait_exit(server *s)
{
    long long deadline = now_ms() + WAIT_MS;
    while (now_ms() < deadline) {
        int st;
        pid_t r = waitpid(s->pid, &st, WNOHANG);
        if (r == s->pid) {
            s->exited = true;
            return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
        }
        pump(s, 50);
        cJSON *m;
        while ((m = take(s)))
            cJSON_Delete(m);
    }
    kill(s->pid, SIGKILL);
    waitpid(s->pid, NULL, 0);
    s->exited = true;
    return -1;
}
