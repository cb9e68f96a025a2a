/*
 * ws_internal.h - what the service's files share: the server, one
 * request, replies, the journal pool, sessions and the change watcher.
 * Not included outside service/.
 */
#ifndef TACTUS_WS_INTERNAL_H
#define TACTUS_WS_INTERNAL_H

#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>

#include <microhttpd.h>

#include "journal.h"
#include "service.h"

#define WS_POOL_MAX 64
#define WS_SESSIONS_MAX 4096
/* Sessions one token keeps at once (browsers, tabs signed in anew). */
#define WS_SESSIONS_PER_TOKEN 16
#define WS_RATE_SLOTS 1024
#define WS_WATCH_MAX 1024
/* Things one tenant may have watched at once: one tenant's streams cannot
 * take the table from the others (503 too_many_streams for it alone). */
#define WS_WATCH_PER_TENANT 64
/* How long a session lasts without being used. */
#define WS_SESSION_IDLE_MS (8LL * 3600 * 1000)
/* How often the watcher looks at the store for what streams show. */
#define WS_WATCH_PERIOD_MS 25

typedef struct {
    char id[65];      /* the cookie's value */
    char csrf[65];    /* the token every form of the session carries */
    char token_id[32];
    long long last_ms;
    bool used;
} ws_session;

typedef struct {
    char token_id[32];
    double tokens;
    long long last_ms;
} ws_bucket;

/* A thing a stream shows: a tenant's pending requests (run_id ""), or a
 * run's progress. The watcher keeps its digest and a generation that
 * changes with it. */
typedef struct {
    char tenant[128];
    char run_id[40];
    int refs;
    unsigned long gen;
    char digest[65];
    struct ws_shared_text *snapshot; /* approvals: the pending list's JSON (shared); runs: NULL */
} ws_watch;

/* A text many streams send at once without copying it (the pending list
 * of a tenant, to each of its inbox streams): counted references. */
typedef struct ws_shared_text {
    atomic_int refs;
    size_t len;
    char data[];
} ws_shared_text;
ws_shared_text *ws_shared_new(const char *text);
ws_shared_text *ws_shared_ref(ws_shared_text *t);
void ws_shared_unref(ws_shared_text *t);

/* Open streams of one token (ws_events.c counts them). */
typedef struct {
    char token_id[40];
    int n;
} ws_stream_count;

/* GET /v1/approvals's reply per tenant, kept WS_LIST_FRESH_MS: at a
 * thousand reads a second the store answers forty times, not a thousand. */
#define WS_LIST_CACHE 64
#define WS_LIST_FRESH_MS 25
typedef struct {
    char tenant[128];
    long long at_ms;
    char *text;
} ws_list_cache;

typedef struct ws_server {
    ws_options opt;
    ws_keyring *keys;
    struct MHD_Daemon *daemon;
    bool tls;
    struct ws_tls *tls_front; /* OpenSSL in front of MHD (ws_tls.h); NULL: plain HTTP */
    char procedures[PATH_MAX]; /* "" when submissions are not taken */
    atomic_int stopping;

    pthread_mutex_t pool_lock;
    tj_journal *pool[WS_POOL_MAX];
    int n_pool;

    pthread_mutex_t sess_lock;
    ws_session sessions[WS_SESSIONS_MAX];

    pthread_mutex_t rate_lock;
    ws_bucket buckets[WS_RATE_SLOTS];

    pthread_mutex_t watch_lock;
    pthread_cond_t watch_cond;
    ws_watch watches[WS_WATCH_MAX];
    ws_stream_count stream_counts[WS_WATCH_MAX]; /* under watch_lock */
    pthread_t watcher;
    bool watcher_started;

    struct ws_notifier *notifier; /* ws_notify.c; NULL without webhooks */

    pthread_mutex_t cache_lock;
    ws_list_cache list_cache[WS_LIST_CACHE];
} ws_server;

/* One request: its body (capped), who sent it. */
typedef struct {
    ws_server *srv;
    struct MHD_Connection *conn;
    const char *method;
    const char *url;
    tx_buf body;
    bool too_large;
    bool authed;
    bool via_session;
    ws_token tok;
    char csrf[65]; /* the session's, when via_session */
    char session_id[65];
} ws_req;

/* ---- replies (ws_http.c): each queues the response and returns MHD's result ------------- */

enum MHD_Result ws_reply(ws_req *r, unsigned status, const char *type, const char *body, size_t len,
                         const char *const *headers);
/* The headers every reply carries (CSP, nosniff, no framing, no-store). */
void ws_security_headers(struct MHD_Response *resp, bool tls);
enum MHD_Result ws_reply_json(ws_req *r, unsigned status, const cJSON *doc);
/* application/problem+json: {type, title, status, detail, code}. */
enum MHD_Result ws_problem(ws_req *r, unsigned status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* 503 store_failed / store_unavailable: the cause (libpq's or SQLite's
 * words, with the store's address and folders) goes to the server's log
 * only; the client reads what failed and that the log has why. */
enum MHD_Result ws_store_problem(ws_req *r, const char *code, const char *what, const char *cause);
enum MHD_Result ws_redirect(ws_req *r, const char *location, const char *set_cookie);

/* The header's value or NULL. */
const char *ws_header(ws_req *r, const char *name);
/* The query argument's value or NULL. */
const char *ws_query(ws_req *r, const char *name);

/* Whether the token's role may do `action` (view, submit, cancel,
 * answer); false: the reply (403) is queued in *res. */
bool ws_allow(ws_req *r, const char *action, enum MHD_Result *res);
bool ws_role_can(ws_role role, const char *action);

/* ---- the journal pool (ws_http.c) ---------------------------------------------------------- */

tj_journal *ws_journal_get(ws_server *s, char *err, size_t errlen);
void ws_journal_put(ws_server *s, tj_journal *j);

/* ---- sessions (ws_ui.c) --------------------------------------------------------------------- */

/* A new session for a checked token: its id and csrf filled. */
bool ws_session_new(ws_server *s, const ws_token *t, ws_session *out);
/* The live session `id` (its token still live), or false. */
bool ws_session_find(ws_server *s, const char *id, ws_session *out, ws_token *tok);
void ws_session_end(ws_server *s, const char *id);

/* ---- routes --------------------------------------------------------------------------------- */

enum MHD_Result ws_api_route(ws_req *r);
enum MHD_Result ws_ui_route(ws_req *r);

/* ---- shared views of the journal (ws_api.c) ------------------------------------------------ */

/* A run as the API shows it (NULL when not this tenant's). */
cJSON *ws_run_json(tj_journal *j, const char *tenant, const char *run_id, bool with_requests);
/* A request as the API shows it, with its run's procedure and inputs. */
cJSON *ws_approval_json(tj_journal *j, const tj_human *h, bool whole);
/* Answers request `id` of `tenant` as `who`: `body` is the API's answer
 * object. 0 when recorded, else the HTTP status to reply with and `why`/`code`. */
unsigned ws_answer(ws_server *s, tj_journal *j, const char *tenant, const char *id, const cJSON *body,
                   const char *who, char *code, size_t code_cap, char *why, size_t why_cap);

/* The tenant's cached pending list (a copy; NULL when none is fresh), and
 * its replacement; forgetting it after a change this server made, so the
 * changer's next read shows it. */
char *ws_list_cached(ws_server *s, const char *tenant);
void ws_list_store(ws_server *s, const char *tenant, const char *text);
void ws_list_forget(ws_server *s, const char *tenant);

/* ---- streams and the watcher (ws_events.c) ------------------------------------------------- */

/* Starts the watcher thread. */
bool ws_watch_start(ws_server *s);
void ws_watch_stop(ws_server *s);
/* Replies with a stream of the request tenant's pending requests (run_id
 * NULL) or of a run's progress, from after `last_event_id` (a reconnecting
 * client's Last-Event-ID; NULL: from the start). The stream ends when its
 * token is revoked or its session ends. 429 when the token has
 * opt.streams_per_token open, 503 when the tenant's share of watched
 * things (or the server's table) is used. */
enum MHD_Result ws_reply_stream(ws_req *r, const char *run_id, const char *last_event_id);

/* ---- notifications (ws_notify.c) ----------------------------------------------------------- */

bool ws_notify_start(ws_server *s);
void ws_notify_stop(ws_server *s);

/* ---- embedded assets (generated: ws_assets.c) ---------------------------------------------- */

extern const char ws_asset_app_js[];
extern const size_t ws_asset_app_js_len;
extern const char ws_asset_style_css[];
extern const size_t ws_asset_style_css_len;
extern const char ws_asset_openapi_json[];
extern const size_t ws_asset_openapi_json_len;

#endif
