/*
 * lsp_wire.h - the client side of the LSP base protocol for tests and benchmarks.
 */
#ifndef TACTUS_LSP_WIRE_H
#define TACTUS_LSP_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include <cjson/cJSON.h>

/* Deadline of every wait, milliseconds. */
#define WAIT_MS 20000

typedef struct server {
    pid_t pid;
    int in, out; /* server's stdin (we write), stdout (we read) */
    char *buf;   /* unread output */
    size_t len, cap;
    cJSON *pending; /* notifications not yet awaited */
    int status;
    bool exited;
    /* a request the server sent (answer it), a response to no request of ours */
    void (*on_request)(struct server *s, const cJSON *m);
    void (*on_stray)(const cJSON *m);
} server;

void wire_die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
long long now_ms(void);
/* Starts `tactus lsp` (with --log LOG when log is not NULL). */
void start(server *s, const char *tactus, const char *log);
/* Reads what the server wrote, waiting up to ms; false at end of output. */
bool pump(server *s, int ms);
void send_bytes(server *s, const char *data, size_t n);
void send_frame(server *s, const char *body, size_t n);
/* The next complete message read, or NULL. */
cJSON *take(server *s);
bool same_id(const cJSON *a, const cJSON *b);
/* Whether every key of want is in have with an equal value (recursively). */
bool contains(const cJSON *have, const cJSON *want);
/* The response to `id` (notifications are kept in s->pending), or NULL. */
cJSON *wait_response(server *s, const cJSON *id);
cJSON *wait_notification(server *s, const char *method, const cJSON *match);
int wait_exit(server *s);

#endif
