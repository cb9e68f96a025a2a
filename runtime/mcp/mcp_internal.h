/*
 * mcp_internal.h - what the files of runtime/mcp/ share (not a public
 * header): the client's state, one call waiting for its answer, and the
 * two transports behind it.
 */
#ifndef TACTUS_MCP_INTERNAL_H
#define TACTUS_MCP_INTERNAL_H

#include "mcp.h"
#include "proto.h"

/* Deepest JSON a server may send (its schemas nest, but not without end). */
#define MCP_MAX_DEPTH 128
/* What is kept of a stdio server's stderr, for messages. */
#define MCP_STDERR_KEEP 4096

struct mcp_client {
    char *name;
    char **argv, **envp; /* NULL-terminated copies */
    char *cwd;
    bool own_cwd; /* cwd was made for it: removed at the end */
    hl_limits limits;
    bool has_limits;
    bool (*before_start)(void *ud, char *err, size_t cap);
    void (*after_stop)(void *ud);
    void *hook_ud;
    bool hooked; /* before_start succeeded: after_stop is owed */
    char *url;
    char **headers;
    mcp_http_ops http;
    long timeout_ms;
    size_t max_message;

    bool started;
    hl_child child;
    tx_buf line;    /* a stdio line being read */
    tx_buf rest;    /* bytes read after an answer, for the next wait */
    tx_buf errtext; /* the first bytes of its stderr */
    char session[256]; /* Mcp-Session-Id */
    bool session_expired; /* a 404 for our session: initialize again */
    char version[16];
    cJSON *server_info, *capabilities;
    long next_id;
    long next_token, active_token; /* progress tokens: of the tools/call in flight */
    bool tools_changed;
};

/* One request in flight: what the incoming messages are matched against. */
typedef struct {
    mcp_client *c;
    long id;
    const mcp_call_opts *o;
    long long deadline_ms;
    bool done;         /* its response came (or the wait failed) */
    cJSON *response;   /* the response message (owned) */
    mcp_status status; /* of a failed wait */
    mcp_error *err;
} mcp_wait;

/* Sets err (when not set yet) and returns s. */
mcp_status mcp_fail(mcp_error *err, mcp_status s, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* One message from the server, parsed: a response (ours, or a stale one
 * ignored), a notification (progress, list_changed) or a request of the
 * server's (ping answered, anything else refused). Takes msg. */
void mcp_incoming(mcp_wait *w, cJSON *msg);
/* One line or event of text from the server: parsed strictly, then
 * mcp_incoming; a batch (array) is taken message by message. */
void mcp_incoming_text(mcp_wait *w, const char *text, size_t n);

/* ---- stdio (mcp_stdio.c) ---- */
mcp_status mcp_stdio_start(mcp_client *c, mcp_error *err);
/* Writes one message (a line) before the deadline. */
mcp_status mcp_stdio_send(mcp_client *c, const char *text, long long deadline_ms, mcp_error *err);
/* Reads until w->done, the deadline or an interrupt. */
void mcp_stdio_wait(mcp_wait *w);
/* Takes in, without waiting, what the server sent since its last answer. */
void mcp_stdio_drain(mcp_client *c);
void mcp_stdio_stop(mcp_client *c);

/* ---- Streamable HTTP (mcp_http.c) ---- */
/* POSTs one message; for a request, reads its answer into w (w may be NULL
 * for a notification or a response). */
mcp_status mcp_http_post(mcp_client *c, const char *text, mcp_wait *w, long long deadline_ms,
                         mcp_error *err);
void mcp_http_stop(mcp_client *c);

#endif
