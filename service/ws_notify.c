/*
 * ws_notify.c - notifications: when a request starts waiting for a person,
 * a JSON notification is POSTed to each configured webhook (trusted
 * configuration only: the command line), retried with backoff, with a link
 * to the request's page, so that teams can route it to chat.
 *
 * The tenants looked at are those the tokens file names. A request seen
 * pending when the server starts is not announced again (it was, or it is
 * in the inbox). Each server announces what it sees: configure webhooks on
 * one server when several share a store.
 */
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "hostlib.h"
#include "ws_internal.h"

#define NOTIFY_PERIOD_MS 500
#define NOTIFY_ATTEMPTS 6        /* 1 + 5 retries: 1, 2, 4, 8, 16 s apart */
#define NOTIFY_QUEUE_MAX 1024
#define NOTIFY_SEEN_MAX 8192

typedef struct {
    char *body;
    int hook;
    int attempts;
    long long next_ms;
} delivery;

typedef struct {
    delivery queue[NOTIFY_QUEUE_MAX];
    int n_queue;
    char (*seen)[48];
    int n_seen, seen_next;
} notifier;

static bool seen_before(notifier *n, const char *id)
{
    for (int i = 0; i < n->n_seen; i++)
        if (!strcmp(n->seen[i], id)) return true;
    /* a ring: the oldest ids are forgotten first */
    snprintf(n->seen[n->seen_next], 48, "%s", id);
    n->seen_next = (n->seen_next + 1) % NOTIFY_SEEN_MAX;
    if (n->n_seen < NOTIFY_SEEN_MAX) n->n_seen++;
    return false;
}

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

static void enqueue(ws_server *s, notifier *n, const char *tenant, const cJSON *q)
{
    cJSON *doc = cJSON_CreateObject();
    const char *id = hl_json_str(q, "request_id");
    cJSON_AddStringToObject(doc, "event", "approval.pending");
    cJSON_AddStringToObject(doc, "tenant", tenant);
    cJSON_AddStringToObject(doc, "request_id", id);
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
    snprintf(url, sizeof url, "%s/ui/approvals/%s", s->opt.public_url ? s->opt.public_url : "", id);
    cJSON_AddStringToObject(doc, "url", url);
    char *body = cJSON_PrintUnformatted(doc);
    cJSON_Delete(doc);
    for (size_t h = 0; body && h < s->opt.n_webhooks && n->n_queue < NOTIFY_QUEUE_MAX; h++) {
        delivery *d = &n->queue[n->n_queue++];
        d->body = tx_strdup(body);
        d->hook = (int)h;
        d->attempts = 0;
        d->next_ms = 0;
    }
    cJSON_free(body);
}

/* New pending requests of every tenant of the tokens file. */
static void look_for_new(ws_server *s, notifier *n, bool first)
{
    cJSON *tokens = NULL;
    char err[512];
    if (ws_tokens_list(s->opt.tokens, &tokens, err, sizeof err) != TX_OK) return;
    tj_journal *j = ws_journal_get(s, err, sizeof err);
    const cJSON *t;
    if (!j) {
        cJSON_Delete(tokens);
        return;
    }
    cJSON_ArrayForEach(t, tokens)
    {
        const char *tenant = hl_json_str(t, "tenant");
        bool dup = false;
        for (const cJSON *u = tokens->child; u != t; u = u->next)
            dup |= hl_json_str(u, "tenant") && tenant && !strcmp(hl_json_str(u, "tenant"), tenant);
        if (!tenant || dup) continue;
        cJSON *pending = NULL;
        if (tj_human_pending(j, tenant, &pending) == TX_OK) {
            const cJSON *q;
            cJSON_ArrayForEach(q, pending)
            {
                char key[48];
                snprintf(key, sizeof key, "%s", hl_json_str(q, "request_id") ? hl_json_str(q, "request_id") : "");
                if (!seen_before(n, key) && !first) enqueue(s, n, tenant, q);
            }
        }
        cJSON_Delete(pending);
    }
    ws_journal_put(s, j);
    cJSON_Delete(tokens);
}

static void deliver_due(ws_server *s, notifier *n)
{
    long long now = hl_now_ms();
    for (int i = 0; i < n->n_queue && !atomic_load(&s->stopping);) {
        delivery *d = &n->queue[i];
        if (d->next_ms > now) {
            i++;
            continue;
        }
        bool ok = post(s->opt.webhooks[d->hook], d->body);
        d->attempts++;
        if (ok || d->attempts >= NOTIFY_ATTEMPTS) {
            if (!ok && s->opt.log)
                fprintf(s->opt.log, "tactus serve: webhook %s: gave up after %d attempts\n", s->opt.webhooks[d->hook],
                        d->attempts);
            tx_free(d->body);
            n->queue[i] = n->queue[--n->n_queue];
            continue;
        }
        d->next_ms = now + 1000LL * (1LL << (d->attempts - 1));
        i++;
    }
}

static void *notifier_main(void *arg)
{
    ws_server *s = arg;
    notifier *n = tx_calloc(1, sizeof *n);
    if (n) n->seen = tx_calloc(NOTIFY_SEEN_MAX, sizeof *n->seen);
    bool first = true;
    while (n && n->seen && !atomic_load(&s->stopping)) {
        look_for_new(s, n, first);
        if (first && s->opt.log) {
            fprintf(s->opt.log, "tactus serve: notifications: %d request(s) pending at the start, not announced\n",
                    n->n_seen);
            fflush(s->opt.log);
        }
        first = false;
        deliver_due(s, n);
        struct timespec ts = {0, NOTIFY_PERIOD_MS * 1000L * 1000L};
        nanosleep(&ts, NULL);
    }
    for (int i = 0; n && i < n->n_queue; i++) tx_free(n->queue[i].body);
    if (n) tx_free(n->seen);
    tx_free(n);
    return NULL;
}

bool ws_notify_start(ws_server *s)
{
    if (!s->opt.n_webhooks) return true;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    s->notifier_started = pthread_create(&s->notifier, NULL, notifier_main, s) == 0;
    return s->notifier_started;
}

void ws_notify_stop(ws_server *s)
{
    if (s->notifier_started) pthread_join(s->notifier, NULL);
    s->notifier_started = false;
}
