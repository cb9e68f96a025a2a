/*
 * ws_notify.c - notifications: when a request starts waiting for a person,
 * a JSON notification is POSTed to each configured webhook whose tenants
 * it concerns (trusted configuration only: the command line or the user's
 * file), retried with backoff, with a link to the request's page, so that
 * teams can route it to chat.
 *
 * One thread looks for new pending requests of the tenants the tokens file
 * names; each webhook has a thread and a queue of its own, so a webhook
 * that hangs or fails delays only its own deliveries. A request seen
 * pending when the server starts is not announced again (it was, or it is
 * in the inbox). A request is taken as announced only once every webhook
 * it concerns has queued it: when a queue is full it is looked at again
 * later, never lost and never sent twice. What counts as seen is rebuilt
 * from each look's pending lists, so it grows with what is pending, not
 * with time. Each server announces what it sees: configure webhooks on
 * one server when several share a store.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "hostlib.h"
#include "ws_internal.h"

#define NOTIFY_PERIOD_MS 500
#define NOTIFY_ATTEMPTS 6 /* 1 + 5 retries: 1, 2, 4, 8, 16 s apart */
#define NOTIFY_QUEUE_MAX 1024

typedef struct {
    char *body;
    int attempts;
    long long next_ms;
} delivery;

/* One webhook: its queue (FIFO) and the thread that delivers it. */
typedef struct {
    const ws_webhook *hook;
    ws_server *srv;
    pthread_t thread;
    bool started;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    delivery queue[NOTIFY_QUEUE_MAX];
    int n_queue;
} hook_lane;

typedef char request_key[48];

struct ws_notifier {
    ws_server *srv;
    pthread_t thread;
    bool started;
    hook_lane *lanes;
    size_t n_lanes;
    request_key *seen; /* sorted; the ids pending at the last look */
    size_t n_seen;
};

static size_t discard(char *p, size_t size, size_t nmemb, void *ud)
{
    (void)p;
    (void)ud;
    return size * nmemb;
}

/* One POST: true on a 2xx answer. */
static bool post(const char *url, const char *body)
{
    CURL *c = curl_easy_init();
    if (!c) return false;
    struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
    h = curl_slist_append(h, "User-Agent: tactus-serve");
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 5000L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    long code = 0;
    bool ok = curl_easy_perform(c) == CURLE_OK && curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code) == CURLE_OK &&
              code >= 200 && code < 300;
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    return ok;
}

static bool hook_concerns(const ws_webhook *h, const char *tenant)
{
    if (!h->n_tenants) return true;
    for (size_t i = 0; i < h->n_tenants; i++)
        if (!strcmp(h->tenants[i], tenant)) return true;
    return false;
}

/* The notification of request q, as the webhooks receive it. */
static char *notification(const ws_server *s, const char *tenant, const cJSON *q)
{
    cJSON *doc = cJSON_CreateObject();
    const char *id = hl_json_str(q, "request_id");
    cJSON_AddStringToObject(doc, "event", "approval.pending");
    cJSON_AddStringToObject(doc, "tenant", tenant);
    cJSON_AddStringToObject(doc, "request_id", id ? id : "");
    cJSON_AddStringToObject(doc, "run_id", hl_json_str(q, "run_id") ? hl_json_str(q, "run_id") : "");
    cJSON_AddStringToObject(doc, "kind", hl_json_str(q, "kind") ? hl_json_str(q, "kind") : "");
    /* the message is the procedure's text: shortened, and for the receiver to escape */
    tx_buf cut;
    tx_buf_init(&cut, 4096);
    tx_buf_shorten(&cut, hl_json_str(q, "message") ? hl_json_str(q, "message") : "", 500, "the request page");
    cJSON_AddStringToObject(doc, "message", cut.data ? cut.data : "");
    tx_buf_free(&cut);
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(q, "created_ms");
    cJSON_AddNumberToObject(doc, "created_ms", cJSON_IsNumber(c) ? c->valuedouble : 0);
    char url[1200];
    snprintf(url, sizeof url, "%s/ui/approvals/%s", s->opt.public_url ? s->opt.public_url : "", id ? id : "");
    cJSON_AddStringToObject(doc, "url", url);
    char *body = cJSON_PrintUnformatted(doc);
    cJSON_Delete(doc);
    return body;
}

/* Queues q on every lane it concerns, or on none (false) when one of
 * them is full or memory runs out: then it is looked at again later. */
static bool announce(struct ws_notifier *n, const char *tenant, const cJSON *q)
{
    for (size_t i = 0; i < n->n_lanes; i++) {
        hook_lane *l = &n->lanes[i];
        if (!hook_concerns(l->hook, tenant)) continue;
        pthread_mutex_lock(&l->lock);
        bool full = l->n_queue >= NOTIFY_QUEUE_MAX;
        pthread_mutex_unlock(&l->lock);
        if (full) return false;
    }
    char *body = notification(n->srv, tenant, q);
    if (!body) return false;
    char **copies = tx_calloc(n->n_lanes, sizeof *copies);
    bool ok = copies != NULL;
    for (size_t i = 0; ok && i < n->n_lanes; i++)
        if (hook_concerns(n->lanes[i].hook, tenant) && !(copies[i] = tx_strdup(body))) ok = false;
    for (size_t i = 0; i < n->n_lanes && copies; i++) {
        if (!copies[i]) continue;
        if (!ok) {
            tx_free(copies[i]);
            continue;
        }
        hook_lane *l = &n->lanes[i];
        pthread_mutex_lock(&l->lock);
        l->queue[l->n_queue++] = (delivery){copies[i], 0, 0};
        pthread_cond_signal(&l->wake);
        pthread_mutex_unlock(&l->lock);
    }
    tx_free(copies);
    cJSON_free(body);
    return ok;
}

static int key_cmp(const void *a, const void *b)
{
    return strcmp(a, b);
}

typedef struct {
    request_key *keys;
    size_t n, cap;
} key_list;

static bool keys_add(key_list *l, const char *id)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 256;
        request_key *grown = tx_realloc(l->keys, cap * sizeof *grown);
        if (!grown) return false;
        l->keys = grown, l->cap = cap;
    }
    snprintf(l->keys[l->n++], sizeof(request_key), "%s", id);
    return true;
}

static bool was_seen(const struct ws_notifier *n, const char *id)
{
    return n->n_seen && bsearch(id, n->seen, n->n_seen, sizeof *n->seen, key_cmp);
}

/* One look at every tenant's pending requests: the new ones announced
 * (none at the first look), and what counts as seen rebuilt from them. */
static void look(struct ws_notifier *n, bool first)
{
    ws_server *s = n->srv;
    cJSON *tokens = NULL;
    char err[512];
    if (ws_tokens_list(s->opt.tokens, &tokens, err, sizeof err) != TX_OK) return;
    tj_journal *j = ws_journal_get(s, err, sizeof err);
    if (!j) {
        cJSON_Delete(tokens);
        return;
    }
    key_list now = {0};
    bool failed = false;
    const cJSON *t;
    cJSON_ArrayForEach(t, tokens)
    {
        const char *tenant = hl_json_str(t, "tenant");
        bool dup = false;
        for (const cJSON *u = tokens->child; u != t; u = u->next)
            dup |= hl_json_str(u, "tenant") && tenant && !strcmp(hl_json_str(u, "tenant"), tenant);
        if (!tenant || dup) continue;
        cJSON *pending = NULL;
        if (tj_human_pending(j, tenant, &pending) != TX_OK) failed = true;
        const cJSON *q;
        cJSON_ArrayForEach(q, pending)
        {
            const char *id = hl_json_str(q, "request_id");
            if (!id || strlen(id) >= sizeof(request_key)) continue;
            if (!first && !was_seen(n, id) && !announce(n, tenant, q)) continue;
            failed |= !keys_add(&now, id);
        }
        cJSON_Delete(pending);
    }
    ws_journal_put(s, j);
    cJSON_Delete(tokens);
    if (failed) {
        /* A tenant not read this time keeps what was seen of it (and
         * out of memory, what was seen is kept whole). */
        for (size_t i = 0; i < n->n_seen; i++)
            if (!keys_add(&now, n->seen[i])) {
                tx_free(now.keys);
                return;
            }
    }
    qsort(now.keys, now.n, sizeof *now.keys, key_cmp);
    tx_free(n->seen);
    n->seen = now.keys;
    n->n_seen = now.n;
}

/* A webhook's thread: the first due delivery of its queue, one at a time. */
static void *lane_main(void *arg)
{
    hook_lane *l = arg;
    ws_server *s = l->srv;
    pthread_mutex_lock(&l->lock);
    while (!atomic_load(&s->stopping)) {
        long long now = hl_now_ms(), next = now + NOTIFY_PERIOD_MS;
        int due = -1;
        for (int i = 0; i < l->n_queue; i++) {
            if (l->queue[i].next_ms <= now) {
                due = i;
                break;
            }
            if (l->queue[i].next_ms < next) next = l->queue[i].next_ms;
        }
        if (due < 0) {
            struct timespec until;
            clock_gettime(CLOCK_REALTIME, &until);
            long long wait_ms = next - now;
            until.tv_sec += wait_ms / 1000;
            until.tv_nsec += (wait_ms % 1000) * 1000000L;
            if (until.tv_nsec >= 1000000000L) until.tv_sec++, until.tv_nsec -= 1000000000L;
            pthread_cond_timedwait(&l->wake, &l->lock, &until);
            continue;
        }
        delivery d = l->queue[due];
        pthread_mutex_unlock(&l->lock);
        bool ok = post(l->hook->url, d.body);
        d.attempts++;
        pthread_mutex_lock(&l->lock);
        if (ok || d.attempts >= NOTIFY_ATTEMPTS) {
            if (!ok && s->opt.log)
                fprintf(s->opt.log, "tactus serve: webhook %s: gave up after %d attempts\n", l->hook->url, d.attempts);
            tx_free(d.body);
            memmove(&l->queue[due], &l->queue[due + 1], (size_t)(l->n_queue - due - 1) * sizeof *l->queue);
            l->n_queue--;
        } else {
            d.next_ms = hl_now_ms() + 1000LL * (1LL << (d.attempts - 1));
            l->queue[due] = d;
        }
    }
    pthread_mutex_unlock(&l->lock);
    return NULL;
}

static void *notifier_main(void *arg)
{
    struct ws_notifier *n = arg;
    ws_server *s = n->srv;
    bool first = true;
    while (!atomic_load(&s->stopping)) {
        look(n, first);
        if (first && s->opt.log) {
            fprintf(s->opt.log, "tactus serve: notifications: %zu request(s) pending at the start, not announced\n",
                    n->n_seen);
            fflush(s->opt.log);
        }
        first = false;
        struct timespec ts = {0, NOTIFY_PERIOD_MS * 1000L * 1000L};
        nanosleep(&ts, NULL);
    }
    return NULL;
}

static void notifier_free(struct ws_notifier *n)
{
    for (size_t i = 0; i < n->n_lanes; i++) {
        hook_lane *l = &n->lanes[i];
        for (int k = 0; k < l->n_queue; k++) tx_free(l->queue[k].body);
        pthread_mutex_destroy(&l->lock);
        pthread_cond_destroy(&l->wake);
    }
    tx_free(n->lanes);
    tx_free(n->seen);
    tx_free(n);
}

bool ws_notify_start(ws_server *s)
{
    if (!s->opt.n_webhooks) return true;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    struct ws_notifier *n = tx_calloc(1, sizeof *n);
    if (!n || !(n->lanes = tx_calloc(s->opt.n_webhooks, sizeof *n->lanes))) {
        tx_free(n);
        return false;
    }
    n->srv = s;
    n->n_lanes = s->opt.n_webhooks;
    s->notifier = n;
    for (size_t i = 0; i < n->n_lanes; i++) {
        hook_lane *l = &n->lanes[i];
        l->hook = &s->opt.webhooks[i];
        l->srv = s;
        pthread_mutex_init(&l->lock, NULL);
        pthread_cond_init(&l->wake, NULL);
        if (!(l->started = pthread_create(&l->thread, NULL, lane_main, l) == 0)) return false;
    }
    return (n->started = pthread_create(&n->thread, NULL, notifier_main, n) == 0);
}

void ws_notify_stop(ws_server *s)
{
    struct ws_notifier *n = s->notifier;
    if (!n) return;
    if (n->started) pthread_join(n->thread, NULL);
    for (size_t i = 0; i < n->n_lanes; i++) {
        hook_lane *l = &n->lanes[i];
        if (!l->started) continue;
        pthread_mutex_lock(&l->lock);
        pthread_cond_signal(&l->wake);
        pthread_mutex_unlock(&l->lock);
        pthread_join(l->thread, NULL);
    }
    notifier_free(n);
    s->notifier = NULL;
}
