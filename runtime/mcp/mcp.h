/*
 * mcp.h - the Model Context Protocol on the host: a client of MCP servers
 * (the broker's: stdio children and Streamable HTTP endpoints) and a server
 * (tactus mcp serve: procedures as MCP tools, over stdio and HTTP).
 *
 * Spec: modelcontextprotocol.io, versions 2025-11-25, 2025-06-18,
 * 2025-03-26 and 2024-11-05 (negotiated newest first). JSON-RPC 2.0; stdio
 * messages are one JSON object per line; Streamable HTTP is one POST per
 * message, answered with JSON or an event stream, with Mcp-Session-Id and
 * MCP-Protocol-Version headers.
 *
 * Threat model: a server is untrusted. Everything it sends is parsed
 * strictly (tp_json_parse_strict) under a size cap, every wait has a
 * deadline, a server's requests to us are refused except ping, and a stdio
 * server runs with exactly the environment it is given, in its own process
 * group and working folder, under resource limits. This module decides no
 * policy (which tools, whose secrets): that is the broker's.
 *
 * Ownership: every cJSON returned is the caller's (cJSON_Delete). Strings
 * and arrays in the configs are copied at mcp_client_new.
 *
 * Errors: mcp_status, with a message in mcp_error naming the server.
 */
#ifndef TACTUS_MCP_H
#define TACTUS_MCP_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>

#include "hostlib.h"

/* Append-only. */
typedef enum {
    MCP_OK = 0,
    MCP_ENOMEM,    /* out of memory */
    MCP_ESTART,    /* the server could not be started or reached */
    MCP_EGONE,     /* the server exited or hung up */
    MCP_ETIMEOUT,  /* no answer in time (the call was cancelled) */
    MCP_EPROTOCOL, /* the server sent something that is not MCP */
    MCP_EVERSION,  /* no protocol version in common */
    MCP_ELIMIT,    /* a message over the size cap */
    MCP_ERPC,      /* the server answered with a JSON-RPC error */
    MCP_EINTR,     /* the caller interrupted the call (it was cancelled) */
    MCP_EHTTP,     /* an HTTP status that is not an answer */
} mcp_status;

typedef struct {
    mcp_status status;
    char message[1024];
} mcp_error;

/* A stable type name for a run's error ("McpServerExited", "Timeout", ...). */
const char *mcp_status_type(mcp_status s);

/* Protocol versions, newest first, NULL-terminated. */
extern const char *const mcp_versions[];

/* ---- HTTP, supplied by the caller ------------------------------------------------------
 * The module speaks HTTP through these (the broker's libcurl, loaded on
 * first use), so that it carries no HTTP stack of its own. */
typedef struct {
    /* One response header line as received ("Name: value\r\n"). */
    void (*on_header)(void *ud, const char *line, size_t n);
    /* Bytes of the body as they come; false aborts the transfer. */
    bool (*on_body)(void *ud, const char *data, size_t n);
    /* Asked about once a second while waiting; true aborts the transfer. */
    bool (*aborted)(void *ud);
    void *ud;
} mcp_http_sink;

typedef struct {
    /* One request (no redirects): the HTTP status, or -1 with err. A
     * transfer aborted by on_body returns the status it had. `headers` is
     * NULL-terminated "Name: value". Must be re-entrant: it may be called
     * again from a sink callback (to answer a server's ping). */
    long (*request)(void *ud, const char *method, const char *url, const char *const *headers,
                    const char *body, long timeout_ms, const mcp_http_sink *sink, char *err,
                    size_t cap);
    void *ud;
} mcp_http_ops;

/* ---- the client -------------------------------------------------------------------------- */

typedef struct {
    const char *name; /* for messages */
    /* stdio: argv[0] is looked up in the host's PATH unless it has a '/'. */
    char *const *argv;
    char *const *envp;        /* exactly the server's environment; NULL: empty */
    const char *cwd;          /* its working folder; NULL: a fresh private one, removed at the end */
    const hl_limits *limits;  /* NULL: none */
    /* stdio, may be NULL: called right before each start (false: it is not
     * started, the reason in err) and right after each stop, with hook_ud:
     * what must stand around the server while it runs (the broker's egress
     * network of an isolate: docker server). */
    bool (*before_start)(void *ud, char *err, size_t cap);
    void (*after_stop)(void *ud);
    void *hook_ud;
    /* Streamable HTTP (when url is set). */
    const char *url;
    const char *const *headers; /* NULL-terminated "Name: value"; may be NULL */
    const mcp_http_ops *http;
    long timeout_ms;    /* each request, default 60 s */
    size_t max_message; /* the largest message accepted, default 16 MiB */
} mcp_server_config;

/* What one call may do while it waits. */
typedef struct {
    long long deadline_ms; /* CLOCK_MONOTONIC ms; 0: only the server's timeout */
    /* notifications/progress of this call: its params {progress, total?, message?}. */
    void (*on_progress)(void *ud, const cJSON *params);
    /* Asked while waiting; true cancels the call (notifications/cancelled). */
    bool (*interrupted)(void *ud);
    void *ud;
} mcp_call_opts;

typedef struct mcp_client mcp_client;

/* Copies the configuration; starts nothing. NULL when out of memory. */
mcp_client *mcp_client_new(const mcp_server_config *cfg);
/* Starts the server (stdio) and runs the initialize handshake; a client
 * already started is left alone. On failure the server is stopped. */
mcp_status mcp_start(mcp_client *c, const mcp_call_opts *o, mcp_error *err);
bool mcp_running(const mcp_client *c);
/* The negotiated version ("" before mcp_start), the server's serverInfo and
 * capabilities (borrowed, NULL when absent). */
const char *mcp_version(const mcp_client *c);
const cJSON *mcp_server_info(const mcp_client *c);
/* Every tool (all pages of tools/list): an array of {name, description?,
 * inputSchema, outputSchema?, ...} as the server gave them. */
mcp_status mcp_list_tools(mcp_client *c, const mcp_call_opts *o, cJSON **tools, mcp_error *err);
/* tools/call: the server's CallToolResult {content, structuredContent?,
 * isError?} as given (isError is a result, not an mcp_status). */
mcp_status mcp_call_tool(mcp_client *c, const char *tool, const cJSON *args, const mcp_call_opts *o,
                         cJSON **result, mcp_error *err);
mcp_status mcp_ping(mcp_client *c, const mcp_call_opts *o, mcp_error *err);
/* Whether the server said notifications/tools/list_changed since the last
 * call of this function. */
bool mcp_take_tools_changed(mcp_client *c);
/* The server's pid (stdio), or 0. */
long mcp_pid(const mcp_client *c);
/* Stops the server (stdin closed, then its whole process group killed and
 * reaped; an HTTP session is ended with DELETE) and frees everything. */
void mcp_client_free(mcp_client *c);

/* ---- the server: tools of our own over MCP ------------------------------------------------ */

/* A tools/call being served: progress goes back to the client with this. */
typedef struct mcp_call mcp_call;
void mcp_call_progress(mcp_call *call, double progress, double total, const char *message);

typedef struct {
    const char *name, *version; /* serverInfo */
    const char *instructions;   /* may be NULL */
    /* tools/list: an array of tool objects (the caller's new tree). */
    cJSON *(*list_tools)(void *ud);
    /* tools/call: a CallToolResult (new), or NULL for an unknown tool. */
    cJSON *(*call_tool)(void *ud, const char *name, const cJSON *args, mcp_call *call);
    void *ud;
} mcp_server_ops;

/* One JSON-RPC message from a client, answered: the response (new; NULL
 * for a notification or a response). `session` holds the negotiated
 * version between messages (a char[16], "" at first). `out` receives
 * notifications sent during a call (progress); may be NULL. */
typedef void (*mcp_send_fn)(void *ud, const cJSON *msg);
cJSON *mcp_serve_message(const mcp_server_ops *ops, char session[16], const cJSON *msg,
                         mcp_send_fn send, void *send_ud);
/* Serves newline-delimited JSON-RPC on `in`/`out` until `in` ends. */
int mcp_serve_stdio(const mcp_server_ops *ops, int in, int out);
/* Serves Streamable HTTP at http://HOST:PORT/mcp (POST; sessions by
 * Mcp-Session-Id; JSON answers) until *stop becomes non-zero (a signal
 * handler may set it). `port` 0 picks one; `listening` (may be NULL) is
 * told the port once requests are taken. Requests whose
 * Origin is not loopback are refused (DNS rebinding), and with `token` set,
 * every request must carry "Authorization: Bearer TOKEN". 0, or -1 with
 * err when it could not listen (libmicrohttpd is loaded here, on first use). */
int mcp_serve_http(const mcp_server_ops *ops, const char *host, int port, const char *token,
                   volatile int *stop, void (*listening)(void *ud, int port), void *ud, char *err,
                   size_t cap);

#endif
