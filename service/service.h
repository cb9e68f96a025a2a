/*
 * service.h - `tactus serve`: the HTTP API under /v1 and the approvals
 * inbox page, on libmicrohttpd, over the journal's store (SQLite or
 * PostgreSQL) and its run queue. Runs are executed by `tactus worker`s;
 * the service records submissions, answers and cancellations and reads
 * what the workers recorded. docs/api.md.
 *
 * Trust: everything that changes what the service does (the listen
 * address, TLS files, the tokens file, webhooks, limits) comes from the
 * command line, the environment or the user's own files, never from a
 * procedure or a request. Every request is authenticated by an API token
 * (Authorization: Bearer) or, for the inbox page, a session cookie made
 * from one; every query is scoped to the token's tenant, and what another
 * tenant has is answered as not found (404), never as forbidden.
 *
 * Tokens are kept hashed (SHA-256 of the whole token; tokens are 256-bit
 * random, so a slow hash adds nothing) in a file of the user's, 0600, and
 * compared in constant time.
 *
 * Errors: ws_tokens_* return tx_status with a message in `err`;
 * ws_serve returns a process exit status.
 */
#ifndef TACTUS_SERVICE_H
#define TACTUS_SERVICE_H

#include <cjson/cJSON.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>

#include "base.h"

/* ---- tokens (ws_tokens.c) ---------------------------------------------------------------- */

/* What a token may do: viewer reads; submitter also submits and cancels;
 * approver also answers; admin does everything. */
typedef enum { WS_ROLE_VIEWER, WS_ROLE_SUBMITTER, WS_ROLE_APPROVER, WS_ROLE_ADMIN } ws_role;

/* "viewer"... ; NULL for no such role. */
const char *ws_role_name(ws_role r);
bool ws_role_parse(const char *name, ws_role *out);

typedef struct {
    char id[32];        /* public: names the token in lists and logs */
    char tenant[128];
    ws_role role;
    char name[128];     /* the person (or system) it stands for: recorded with answers */
    long long created_ms;
    bool revoked;
} ws_token;

/* The tokens file: $TACTUS_TOKENS, else $XDG_CONFIG_HOME/tactus/tokens.json,
 * else ~/.config/tactus/tokens.json. */
void ws_tokens_default_path(char *out, size_t cap);
/* Makes a token and appends its record (the hash, never the token) to the
 * file (created 0600): the token itself goes to `token` (shown once). */
tx_status ws_tokens_create(const char *path, const char *tenant, ws_role role, const char *name,
                           ws_token *rec, char *token, size_t token_cap, char *err, size_t errlen);
/* The records, as a JSON array of {id, tenant, role, name, created_ms, revoked}. */
tx_status ws_tokens_list(const char *path, cJSON **out, char *err, size_t errlen);
/* Marks a token revoked (a running server sees it at its next request). */
tx_status ws_tokens_revoke(const char *path, const char *id, char *err, size_t errlen);

/* The tokens a server checks against, reloaded when the file changes. */
typedef struct ws_keyring ws_keyring;
/* Loads the file: refused (TX_EINVAL) when others may read or write it. */
tx_status ws_keyring_open(const char *path, ws_keyring **out, char *err, size_t errlen);
void ws_keyring_free(ws_keyring *k);
/* Whether `token` is a live token: fills *out. Constant time in the
 * token's secret part. Thread-safe. */
bool ws_keyring_check(ws_keyring *k, const char *token, ws_token *out);
/* Whether the token `id` is still live (a session made from a token ends
 * when it is revoked). */
bool ws_keyring_live(ws_keyring *k, const char *id, ws_token *out);

/* ---- the server (ws_http.c) --------------------------------------------------------------- */

/* A webhook notified of new pending requests: of every tenant, or only of
 * `tenants` when n_tenants > 0. */
typedef struct {
    const char *url;
    const char *const *tenants;
    size_t n_tenants;
} ws_webhook;

typedef struct {
    const char *listen;       /* HOST:PORT; a port of 0 picks one (printed) */
    const char *tls_cert;     /* PEM files; required unless HOST is loopback */
    const char *tls_key;
    const char *store;        /* the journal's store */
    const char *tokens;       /* the tokens file */
    const char *procedures;   /* the folder POST /v1/runs may name procedures from; NULL: none */
    const char *public_url;   /* how people reach the server (links in notifications) */
    const ws_webhook *webhooks; /* notified of new pending requests (trusted config) */
    size_t n_webhooks;
    long max_body;            /* bytes of a request body (default 1 MiB) */
    long rate;                /* requests per second per token (burst: twice); 0: no limit */
    int max_connections;      /* at once (default 2048) */
    int per_ip_connections;   /* at once from one address (default 256; 0: no limit) */
    int streams_per_token;    /* event streams one token holds open at once (default 32) */
    int idle_timeout_s;       /* a connection that sends nothing this long is closed (default 15) */
    FILE *log;                /* one line per request; NULL: quiet */
    FILE *ready;              /* "listening on URL" once serving; NULL: stdout */
} ws_options;

void ws_options_init(ws_options *o);
/* Serves until *stop is set (SIGTERM, SIGINT): 0 after a clean stop, 1
 * when the store, the tokens or the socket cannot be opened, 2 for a
 * refused configuration (plain HTTP on a public address). Messages on
 * stderr. */
int ws_serve(const ws_options *o, volatile sig_atomic_t *stop);

/* ---- pieces exposed for the fuzz target and unit tests --------------------------------- */

/* `in` for one line of the server's log: control bytes (a decoded %0a in a
 * URL would forge a line) shown as '?', cut to cap. */
void ws_log_safe(const char *in, char *out, size_t cap);
/* Appends `s` to `b` escaped for HTML text and attribute values. */
tx_status ws_html_escape(tx_buf *b, const char *s);

#endif
