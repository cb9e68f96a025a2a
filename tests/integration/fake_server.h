/*
 * fake_server.h - starts tests/integration/fake_openai.py as a child process
 * on a loopback port and talks to its admin endpoints. Shared by the
 * integration tests and bench/broker/bench_broker.c.
 */
#ifndef TACTUS_FAKE_SERVER_H
#define TACTUS_FAKE_SERVER_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <sys/types.h>

typedef struct {
    pid_t pid;
    int stdin_fd; /* closing it makes the server exit */
    int port;
    char base_url[64]; /* http://127.0.0.1:PORT/v1 */
} fake_server;

/* Starts `python3 script extra_args...` (extra_args NULL-terminated, may be
 * NULL) and waits for its "PORT n" line. Returns false with a message on
 * stderr when the server does not come up within 15 s. */
bool fake_server_start(fake_server *fs, const char *script, const char *const *extra_args);
/* Closes the server's stdin, waits for it to exit (SIGKILL after 5 s). */
void fake_server_stop(fake_server *fs);
/* POST /_reset: forget recorded requests and counters. */
bool fake_server_reset(const fake_server *fs);
/* GET /_requests: the recorded requests as a JSON array (caller frees), or
 * NULL. */
cJSON *fake_server_requests(const fake_server *fs);
/* The recorded requests to `path` only (caller frees), or NULL. */
cJSON *fake_server_requests_to(const fake_server *fs, const char *path);

/* Monotonic clock in milliseconds. */
double fake_now_ms(void);

#endif
