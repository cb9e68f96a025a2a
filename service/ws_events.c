/*
 * ws_events.c - Server-Sent Events: a tenant's pending requests, and a
 * run's progress (each effect it recorded: model calls, tool calls, human
 * requests; its state; its final result).
 *
 * One watcher thread looks at the store every WS_WATCH_PERIOD_MS for the
 * things streams are open on (a tenant's pending list, a run), each once
 * however many streams show it, and bumps a generation when it changed;
 * the streams' threads sleep on one condition variable until then. So a
 * thousand idle streams cost a thousand sleeping threads and one query per
 * period, not a thousand queries; on PostgreSQL a new delta (NOTIFY)
 * wakes it at once. Workers record effects in their own processes: what a
 * stream shows is what the store holds, the journal's effects and the
 * run's live deltas (the model's text as it streams, recorded redacted by
 * whoever runs the run, runtime/supervisor/sup_deltas.c).
 *
 * A run's events carry ids ("POSITION-SEQ-STATUS": the next effect, the
 * last delta, and the state sent or "end" after the result), so a client
 * that reconnects with Last-Event-ID gets what it missed and nothing twice.
 */
#include <poll.h>
#include <sys/socket.h>
#include <string.h>
#include <time.h>

#include "hostlib.h"
#include "ws_internal.h"

/* A comment line every so often keeps proxies from closing a quiet stream
 * and finds clients that left; more often than the server's own idle
 * timeout, which counts the time a stream waits for news as silence. */
#define KEEPALIVE_MS 15000

static long long keepalive_ms(const ws_server *s)
{
    long long half = (long long)s->opt.idle_timeout_s * 1000 / 2;
    return half < 500 ? 500 : half < KEEPALIVE_MS ? half : KEEPALIVE_MS;
}

typedef struct ws_stream {
    ws_server *srv;
    int watch;
    unsigned long seen;
    char tenant[128];
    char run_id[40];
    tx_buf out;
    size_t out_pos;
    long next_position;
    long long last_delta; /* the seq of the last delta sent */
    char status[16];
    bool finished;
    int fd; /* the client's socket: a stream whose client left ends within a second */
    char token_id[40];  /* it ends when its token is revoked... */
    char session_id[65]; /* ...or, opened from the inbox, its session ends */
    long long checked_ms;
    ws_shared_text *sending; /* the pending list being sent, shared with the other streams */
    size_t sending_pos;
} ws_stream;

/* ---- shared texts --------------------------------------------------------------------------- */

ws_shared_text *ws_shared_new(const char *text)
{
    size_t n = strlen(text);
    ws_shared_text *t = tx_calloc(1, sizeof *t + n + 1);
    if (!t) return NULL;
    atomic_init(&t->refs, 1);
    t->len = n;
    memcpy(t->data, text, n + 1);
    return t;
}

ws_shared_text *ws_shared_ref(ws_shared_text *t)
{
    if (t) atomic_fetch_add(&t->refs, 1);
    return t;
}

void ws_shared_unref(ws_shared_text *t)
{
    if (t && atomic_fetch_sub(&t->refs, 1) == 1) tx_free(t);
}

/* ---- the watcher ---------------------------------------------------------------------------- */

/* What a watched thing looks like now: its digest, and for a tenant's
 * pending list the list itself (the streams send it as it is). */
static bool look(tj_journal *j, const char *tenant, const char *run_id, char digest[65], ws_shared_text **snapshot)
{
    *snapshot = NULL;
    if (!run_id[0]) {
        cJSON *list = NULL;
        if (tj_human_pending(j, tenant, &list) != TX_OK) {
            cJSON_Delete(list);
            return false;
        }
        /* timed_out turns true with time alone; it is part of what the page shows */
        char *text = cJSON_PrintUnformatted(list);
        cJSON_Delete(list);
        if (!text) return false;
        hl_sha256_hex(text, strlen(text), digest);
        *snapshot = ws_shared_new(text);
        cJSON_free(text);
        return *snapshot != NULL;
    }
    tj_run r;
    if (tj_run_get(j, tenant, run_id, &r) != TX_OK) return false;
    long long last_delta = 0, chars = 0;
    tj_delta_tail(j, tenant, run_id, &last_delta, &chars);
    char text[200];
    snprintf(text, sizeof text, "%s %lld %ld %lld", r.status, r.updated_ms, tj_effect_count(j, tenant, run_id),
             last_delta);
    tj_run_free(&r);
    hl_sha256_hex(text, strlen(text), digest);
    return true;
}

/* PostgreSQL: a connection of the watcher's own that new deltas wake
 * (NULL on SQLite, where the period is the only wake-up). */
static tj_journal *delta_listener(ws_server *s)
{
    if (!tj_store_is_url(s->opt.store)) return NULL;
    char err[256];
    tj_journal *l = NULL;
    if (tj_open(s->opt.store, &l, err, sizeof err) != TX_OK) return NULL;
    if (!tj_delta_listen(l)) {
        tj_close(l);
        return NULL;
    }
    return l;
}

static void *watcher_main(void *arg)
{
    ws_server *s = arg;
    /* what is watched now (copied: the store is read without the lock); on
     * the heap: as thread-local storage it was carved from every thread's
     * stack, the connections' 256 KiB ones too */
    struct watch_key {
        char tenant[128], run_id[40];
    } *keys = tx_calloc(WS_WATCH_MAX, sizeof *keys);
    if (!keys) return NULL;
    tj_journal *listener = delta_listener(s);
    while (!atomic_load(&s->stopping)) {
        int n = 0;
        pthread_mutex_lock(&s->watch_lock);
        for (int i = 0; i < WS_WATCH_MAX; i++)
            if (s->watches[i].refs > 0) {
                memcpy(keys[n].tenant, s->watches[i].tenant, sizeof keys[n].tenant);
                memcpy(keys[n].run_id, s->watches[i].run_id, sizeof keys[n].run_id);
                n++;
            }
        pthread_mutex_unlock(&s->watch_lock);
        char err[256];
        tj_journal *j = n ? ws_journal_get(s, err, sizeof err) : NULL;
        bool changed = false;
        for (int k = 0; k < n && j; k++) {
            char digest[65];
            ws_shared_text *snapshot = NULL;
            if (!look(j, keys[k].tenant, keys[k].run_id, digest, &snapshot)) continue;
            pthread_mutex_lock(&s->watch_lock);
            for (int i = 0; i < WS_WATCH_MAX; i++) {
                ws_watch *w = &s->watches[i];
                if (w->refs <= 0 || strcmp(w->tenant, keys[k].tenant) || strcmp(w->run_id, keys[k].run_id)) continue;
                if (strcmp(w->digest, digest) != 0) {
                    memcpy(w->digest, digest, sizeof w->digest);
                    ws_shared_unref(w->snapshot);
                    w->snapshot = snapshot;
                    snapshot = NULL;
                    w->gen++;
                    changed = true;
                }
                break;
            }
            pthread_mutex_unlock(&s->watch_lock);
            ws_shared_unref(snapshot);
        }
        ws_journal_put(s, j);
        if (changed) {
            pthread_mutex_lock(&s->watch_lock);
            pthread_cond_broadcast(&s->watch_cond);
            pthread_mutex_unlock(&s->watch_lock);
        }
        /* A lost listener is not replaced: the period still wakes the watcher. */
        if (listener && tj_queue_wait(listener, WS_WATCH_PERIOD_MS) < 0) {
            tj_close(listener);
            listener = NULL;
        } else if (!listener) {
            struct timespec ts = {0, WS_WATCH_PERIOD_MS * 1000L * 1000L};
            nanosleep(&ts, NULL);
        }
    }
    tj_close(listener);
    tx_free(keys);
    return NULL;
}

bool ws_watch_start(ws_server *s)
{
    s->watcher_started = pthread_create(&s->watcher, NULL, watcher_main, s) == 0;
    return s->watcher_started;
}

void ws_watch_stop(ws_server *s)
{
    if (s->watcher_started) pthread_join(s->watcher, NULL);
    s->watcher_started = false;
}

/* ---- streams -------------------------------------------------------------------------------- */

/* The count of token_id's open streams (under watch_lock), made when
 * `make`; NULL when the table is full. */
static ws_stream_count *stream_count(ws_server *s, const char *token_id, bool make)
{
    ws_stream_count *free_slot = NULL;
    for (int i = 0; i < WS_WATCH_MAX; i++) {
        ws_stream_count *c = &s->stream_counts[i];
        if (c->n > 0 && !strcmp(c->token_id, token_id)) return c;
        if (c->n <= 0 && !free_slot) free_slot = c;
    }
    if (!make || !free_slot) return NULL;
    snprintf(free_slot->token_id, sizeof free_slot->token_id, "%s", token_id);
    free_slot->n = 0;
    return free_slot;
}

static ws_stream *stream_new(ws_req *r, const char *run_id, const char *last_event_id, const char **why)
{
    ws_server *s = r->srv;
    ws_stream *st = tx_calloc(1, sizeof *st);
    *why = "table";
    if (!st) return NULL;
    st->srv = s;
    st->watch = -1;
    st->fd = -1;
    snprintf(st->token_id, sizeof st->token_id, "%s", r->tok.id);
    if (r->via_session) snprintf(st->session_id, sizeof st->session_id, "%s", r->session_id);
    st->checked_ms = hl_now_ms();
    /* A reconnecting client's Last-Event-ID: it had everything up to there. */
    long pos;
    long long seq;
    char status[16];
    if (run_id && last_event_id && sscanf(last_event_id, "%ld-%lld-%15[a-z]", &pos, &seq, status) == 3 && pos >= 0 &&
        seq >= 0) {
        st->next_position = pos;
        st->last_delta = seq;
        memcpy(st->status, status, sizeof st->status);
    }
    snprintf(st->tenant, sizeof st->tenant, "%s", r->tok.tenant);
    snprintf(st->run_id, sizeof st->run_id, "%s", run_id ? run_id : "");
    tx_buf_init(&st->out, 64u << 20);
    pthread_mutex_lock(&s->watch_lock);
    ws_stream_count *count = stream_count(s, st->token_id, true);
    int free_slot = -1, tenant_watches = 0;
    for (int i = 0; i < WS_WATCH_MAX && st->watch < 0; i++) {
        ws_watch *w = &s->watches[i];
        if (w->refs > 0 && !strcmp(w->tenant, st->tenant)) {
            if (!strcmp(w->run_id, st->run_id)) st->watch = i;
            tenant_watches++;
        } else if (w->refs <= 0 && free_slot < 0) {
            free_slot = i;
        }
    }
    if (!count || (s->opt.streams_per_token > 0 && count->n >= s->opt.streams_per_token)) {
        *why = count ? "token" : "table";
        st->watch = -1;
    } else if (st->watch < 0 && tenant_watches >= WS_WATCH_PER_TENANT) {
        *why = "tenant";
    } else if (st->watch < 0 && free_slot >= 0) {
        ws_watch *w = &s->watches[free_slot];
        memcpy(w->tenant, st->tenant, sizeof w->tenant);
        memcpy(w->run_id, st->run_id, sizeof w->run_id);
        w->digest[0] = '\0';
        ws_shared_unref(w->snapshot);
        w->snapshot = NULL;
        w->gen++;
        w->refs = 0;
        st->watch = free_slot;
    }
    if (st->watch >= 0) {
        s->watches[st->watch].refs++;
        count->n++;
        /* A thing watched already is shown at once; a new one after the
         * watcher's first look at it. */
        ws_watch *w = &s->watches[st->watch];
        st->seen = w->digest[0] ? w->gen - 1 : w->gen;
    }
    pthread_mutex_unlock(&s->watch_lock);
    if (st->watch < 0) {
        tx_buf_free(&st->out);
        tx_free(st);
        return NULL;
    }
    return st;
}

static void stream_free(void *cls)
{
    ws_stream *st = cls;
    if (!st) return;
    pthread_mutex_lock(&st->srv->watch_lock);
    if (st->watch >= 0) st->srv->watches[st->watch].refs--;
    ws_stream_count *count = stream_count(st->srv, st->token_id, false);
    if (count) count->n--;
    pthread_mutex_unlock(&st->srv->watch_lock);
    ws_shared_unref(st->sending);
    tx_buf_free(&st->out);
    tx_free(st);
}

/* One event of a run, with the id that resumes the stream after it. */
static void emit(ws_stream *st, const char *event, const cJSON *data)
{
    char *text = cJSON_PrintUnformatted(data);
    tx_buf_printf(&st->out, "id: %ld-%lld-%s\nevent: %s\ndata: %s\n\n", st->next_position, st->last_delta,
                  st->status[0] ? st->status : "none", event, text ? text : "null");
    cJSON_free(text);
}

/* The run's deltas after the last one sent, all of them (a run holds a
 * capped amount): NULL on a store error. */
static cJSON *new_deltas(ws_stream *st, tj_journal *j)
{
    cJSON *all = cJSON_CreateArray();
    long long after = st->last_delta;
    for (;;) {
        cJSON *page = NULL;
        if (tj_delta_list(j, st->tenant, st->run_id, after, 500, &page) != TX_OK) {
            cJSON_Delete(page);
            cJSON_Delete(all);
            return NULL;
        }
        int n = cJSON_GetArraySize(page);
        cJSON *d;
        while ((d = cJSON_DetachItemFromArray(page, 0))) {
            after = (long long)cJSON_GetObjectItemCaseSensitive(d, "seq")->valuedouble;
            cJSON_AddItemToArray(all, d);
        }
        cJSON_Delete(page);
        if (n < 500) return all;
    }
}

/* Sends the deltas of `deltas` (detached in order) from model calls at
 * positions up to `upto` (-1: all). */
static void send_deltas(ws_stream *st, cJSON *deltas, long upto)
{
    cJSON *d;
    while ((d = cJSON_GetArrayItem(deltas, 0))) {
        long pos = (long)cJSON_GetObjectItemCaseSensitive(d, "position")->valuedouble;
        if (upto >= 0 && pos > upto) return;
        d = cJSON_DetachItemFromArray(deltas, 0);
        st->last_delta = (long long)cJSON_GetObjectItemCaseSensitive(d, "seq")->valuedouble;
        emit(st, "delta", d);
        cJSON_Delete(d);
    }
}

/* The SSE event name of an effect. */
static const char *event_of(const char *method)
{
    if (!method) return "effect";
    if (!strcmp(method, "llm.chat")) return "llm";
    if (!strcmp(method, "tool.call")) return "tool_call";
    if (!strcmp(method, "human.request")) return "human_request";
    return "effect";
}

/* What happened to the run since the last look: new effects, its state,
 * and once it ended its result (then the stream ends). */
static void run_news(ws_stream *st)
{
    char err[256];
    tj_journal *j = ws_journal_get(st->srv, err, sizeof err);
    if (!j) return;
    /* Effects first, then deltas: a call's deltas are written before its
     * effect, so every delta of a call seen here is read below, and is
     * sent before the call's own event. */
    cJSON *effects = NULL;
    tx_status es = tj_effect_list(j, st->tenant, st->run_id, &effects);
    cJSON *deltas = new_deltas(st, j);
    if (es == TX_OK) {
        const cJSON *e;
        cJSON_ArrayForEach(e, effects)
        {
            const cJSON *pos = cJSON_GetObjectItemCaseSensitive(e, "position");
            if (!cJSON_IsNumber(pos) || (long)pos->valuedouble < st->next_position) continue;
            send_deltas(st, deltas, (long)pos->valuedouble);
            const cJSON *req = cJSON_GetObjectItemCaseSensitive(e, "request");
            cJSON *o = cJSON_CreateObject();
            cJSON_AddNumberToObject(o, "position", pos->valuedouble);
            cJSON_AddItemToObject(o, "method", cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(req, "method"), 1));
            cJSON_AddItemToObject(o, "params", cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(req, "params"), 1));
            cJSON_AddItemToObject(o, "result", cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(e, "result"), 1));
            st->next_position = (long)pos->valuedouble + 1; /* the id says: after this one */
            emit(st, event_of(hl_json_str(req, "method")), o);
            cJSON_Delete(o);
        }
    }
    send_deltas(st, deltas, -1);
    cJSON_Delete(deltas);
    cJSON_Delete(effects);
    cJSON *run = ws_run_json(j, st->tenant, st->run_id, false);
    const char *status = hl_json_str(run, "status");
    /* st->status "end": the result was sent (to this client before it
     * reconnected, as its Last-Event-ID says). */
    bool ended = !strcmp(st->status, "end");
    if (status && !ended && strcmp(status, st->status) != 0) {
        snprintf(st->status, sizeof st->status, "%s", status);
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "run_id", st->run_id);
        cJSON_AddStringToObject(o, "status", status);
        emit(st, "state", o);
        cJSON_Delete(o);
    }
    if (status && (!strcmp(status, "completed") || !strcmp(status, "failed"))) {
        if (!ended) {
            snprintf(st->status, sizeof st->status, "end");
            emit(st, "result", run);
        }
        st->finished = true;
    }
    cJSON_Delete(run);
    ws_journal_put(st->srv, j);
}

/* Whether the client closed its end (a quiet stream would otherwise keep
 * its thread until the next keepalive write fails). */
static bool client_left(const ws_stream *st)
{
    if (st->fd < 0) return false;
    /* An SSE client sends nothing after its request: readable means it
     * closed (recv sees the end) or broke. */
    struct pollfd p = {.fd = st->fd, .events = POLLIN};
    if (poll(&p, 1, 0) <= 0) return false;
    if (p.revents & (POLLHUP | POLLERR)) return true;
    char c;
    return recv(st->fd, &c, 1, MSG_PEEK | MSG_DONTWAIT) == 0;
}

/* Whether the stream's token still stands (not revoked) and, for a
 * stream of the inbox, its session (not signed out, not expired): looked
 * at about once a second. */
static bool still_allowed(ws_stream *st, bool at_once)
{
    long long now = hl_now_ms();
    if (!at_once && now - st->checked_ms < 1000) return true;
    st->checked_ms = now;
    ws_token tok;
    if (st->session_id[0]) {
        ws_session sess;
        return ws_session_find(st->srv, st->session_id, &sess, &tok);
    }
    return ws_keyring_live(st->srv->keys, st->token_id, &tok);
}

/* Waits for the watched thing to change: 1; 0 when the keepalive is
 * due; -1 when the server stops, the client left or its token or session
 * ended. */
static int wait_news(ws_stream *st)
{
    ws_server *s = st->srv;
    long long due = hl_now_ms() + keepalive_ms(s);
    int news = 0;
    pthread_mutex_lock(&s->watch_lock);
    while (!news) {
        if (atomic_load(&s->stopping)) {
            news = -1;
            break;
        }
        ws_watch *w = &s->watches[st->watch];
        if (w->gen != st->seen && (w->digest[0] || w->snapshot)) {
            /* news goes only to a token (and session) that still stands */
            pthread_mutex_unlock(&s->watch_lock);
            bool allowed = still_allowed(st, true);
            pthread_mutex_lock(&s->watch_lock);
            if (!allowed) {
                news = -1;
                break;
            }
            w = &s->watches[st->watch];
            st->seen = w->gen;
            if (!st->run_id[0] && w->snapshot) {
                /* The list itself is sent from the watcher's copy: a
                 * thousand streams of a large list hold one list. */
                tx_buf_puts(&st->out, "event: approvals\ndata: ");
                ws_shared_unref(st->sending);
                st->sending = ws_shared_ref(w->snapshot);
                st->sending_pos = 0;
            }
            news = 1;
            break;
        }
        long long now = hl_now_ms();
        if (now >= due) break;
        /* wake at least every second to see whether the client left */
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        long long wait = due - now < 1000 ? due - now : 1000;
        until.tv_sec += (time_t)(wait / 1000);
        until.tv_nsec += (long)(wait % 1000) * 1000000L;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        if (pthread_cond_timedwait(&s->watch_cond, &s->watch_lock, &until) != 0 && client_left(st)) news = -1;
        if (news == 0) {
            pthread_mutex_unlock(&s->watch_lock);
            bool allowed = still_allowed(st, false);
            pthread_mutex_lock(&s->watch_lock);
            if (!allowed) news = -1;
        }
    }
    pthread_mutex_unlock(&s->watch_lock);
    return news;
}

static ssize_t stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    (void)pos;
    ws_stream *st = cls;
    if (st->out_pos >= st->out.len && st->sending) {
        /* the shared list after its event's first line, then its end */
        size_t left = st->sending->len - st->sending_pos;
        if (left) {
            size_t n = left < max ? left : max;
            memcpy(buf, st->sending->data + st->sending_pos, n);
            st->sending_pos += n;
            return (ssize_t)n;
        }
        ws_shared_unref(st->sending);
        st->sending = NULL;
        tx_buf_clear(&st->out);
        st->out_pos = 0;
        tx_buf_puts(&st->out, "\n\n");
    }
    while (st->out_pos >= st->out.len) {
        tx_buf_clear(&st->out);
        st->out_pos = 0;
        if (st->finished || atomic_load(&st->srv->stopping)) return MHD_CONTENT_READER_END_OF_STREAM;
        int news = wait_news(st);
        if (news < 0) return MHD_CONTENT_READER_END_OF_STREAM;
        if (news > 0 && st->run_id[0]) run_news(st);
        else if (news == 0) tx_buf_puts(&st->out, ": keepalive\n\n");
        if (st->out_pos >= st->out.len && st->sending) return stream_read(cls, pos, buf, max);
    }
    size_t n = st->out.len - st->out_pos;
    if (n > max) n = max;
    memcpy(buf, st->out.data + st->out_pos, n);
    st->out_pos += n;
    return (ssize_t)n;
}

enum MHD_Result ws_reply_stream(ws_req *r, const char *run_id, const char *last_event_id)
{
    const char *why = "table";
    ws_stream *st = stream_new(r, run_id, last_event_id, &why);
    if (!st && !strcmp(why, "token"))
        return ws_problem(r, 429, "too_many_streams",
                          "this token has %d streams open already; close one (each browser tab of the inbox is one)",
                          r->srv->opt.streams_per_token);
    if (!st && !strcmp(why, "tenant"))
        return ws_problem(r, 503, "too_many_streams",
                          "this tenant streams %d different things already; close some, or retry later",
                          WS_WATCH_PER_TENANT);
    if (!st) return ws_problem(r, 503, "too_many_streams", "too many different things are streamed now; retry later");
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(r->conn, MHD_CONNECTION_INFO_CONNECTION_FD);
    st->fd = ci ? ci->connect_fd : -1;
    struct MHD_Response *resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 8192, stream_read, st, stream_free);
    if (!resp) {
        stream_free(st);
        return MHD_NO;
    }
    MHD_add_response_header(resp, "Content-Type", "text/event-stream; charset=utf-8");
    MHD_add_response_header(resp, "X-Accel-Buffering", "no");
    ws_security_headers(resp, r->srv->tls);
    enum MHD_Result res = MHD_queue_response(r->conn, 200, resp);
    MHD_destroy_response(resp);
    return res;
}
