/*
 * br_http.c - the HTTP machinery shared by the model providers (see
 * br_http.h): one place for curl setup, retries, the stall timeout, line
 * splitting and the status -> error type mapping, so that every provider
 * fails the same way for the same reason.
 */
#include <ctype.h>
#include <curl/curl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "br_curl.h"
#include "providers.h"

#define LINE_CAP (8u * 1024u * 1024u)

/* ---- settings
 * ------------------------------------------------------------------------------------ */

/* providers.<provider>.<key>, looked up key by key: a provider's name comes
 * from the procedure's model string, so it is never read as a dotted path
 * (a name like "evil.max_tokens" must not reach into another key's value). */
static const cJSON *provider_setting(const cJSON *config, const char *provider, const char *key)
{
    const cJSON *p = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(config, "providers"),
                                                      provider);
    return cJSON_GetObjectItemCaseSensitive(p, key);
}

const char *br_http_cfg_str(const cJSON *config, const char *provider, const char *key)
{
    const cJSON *v = provider_setting(config, provider, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

double br_http_cfg_num(const cJSON *config, const char *provider, const char *key, double def)
{
    const cJSON *v = provider_setting(config, provider, key);
    return cJSON_IsNumber(v) ? v->valuedouble : def;
}

void br_http_settings_load(const cJSON *config, const char *provider, const char *env_base,
                           const char *env_key, const char *default_base,
                           const char *default_key_env, br_http_settings *s)
{
    const char *base = env_base ? getenv(env_base) : NULL;
    const char *key = env_key ? getenv(env_key) : NULL;
    s->constant_backoff = false;
    s->max_delay = 0;
    snprintf(s->key_env, sizeof s->key_env, "%s", env_key ? env_key : "");
    if (!base || !*base) base = br_http_cfg_str(config, provider, "base_url");
    s->public_endpoint = !base;
    if (!base) base = default_base;
    if (!key || !*key) {
        const char *env_name = br_http_cfg_str(config, provider, "api_key_env");
        char def[160];
        if (!env_name && default_key_env) env_name = default_key_env;
        if (!env_name) {
            size_t i = 0;
            for (; provider[i] && i < 100; i++)
                def[i] = (char)toupper((unsigned char)provider[i]);
            strcpy(def + i, "_API_KEY");
            env_name = def;
        }
        key = getenv(env_name);
        snprintf(s->key_env, sizeof s->key_env, "%s", env_name);
    }
    snprintf(s->base_url, sizeof s->base_url, "%s", base);
    size_t bl = strlen(s->base_url);
    while (bl > 0 && s->base_url[bl - 1] == '/')
        s->base_url[--bl] = '\0';
    snprintf(s->api_key, sizeof s->api_key, "%s", key ? key : "");
    s->stall_ms = (long)(br_http_cfg_num(config, provider, "stall_timeout", 60) * 1000);
    s->timeout_ms = (long)(br_http_cfg_num(config, provider, "timeout", 600) * 1000);
    if (s->stall_ms < 1) s->stall_ms = 1;
    if (s->timeout_ms < 1) s->timeout_ms = 1;
    s->max_retries = (int)br_http_cfg_num(config, provider, "max_retries", 2);
    s->retry_delay = br_http_cfg_num(config, provider, "retry_delay", 0.5);
}

/* ---- one attempt -------------------------------------------------------------------------------
 */

struct br_http_stream {
    CURL *curl;
    const br_sink *sink;
    const br_http_parser *parser;
    void *parser_state;
    long status; /* HTTP status, known once headers are in */
    bool sse;    /* the answer is an event stream */
    tx_buf line; /* the current line */
    tx_buf body; /* a non-stream (error) body */
    bool malformed;
    char malformed_what[160];
    bool got_bytes; /* streamed anything to the sink: no retry after this */
    long long last_byte_ms;
    long stall_ms;
    bool stalled;
    long long deadline_ms; /* the run's time limit (0: none) */
    bool past_deadline;    /* the transfer was cut there */
    bool interrupted;      /* cut by the sink's interrupt: the run is stopping */
};

/* The sink's interrupt (the broker's): the run is stopping. */
static bool sink_interrupted(void *ud)
{
    const br_sink *sink = ud;
    return sink && sink->interrupted && sink->interrupted(sink->interrupted_ud);
}

void br_http_emit(br_http_stream *s, cJSON *delta)
{
    if (delta && s->sink && s->sink->on_delta) s->sink->on_delta(s->sink->ud, delta);
    cJSON_Delete(delta);
    s->got_bytes = true;
}

void br_http_malformed(br_http_stream *s, const char *fmt, ...)
{
    if (s->malformed) return;
    s->malformed = true;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->malformed_what, sizeof s->malformed_what, fmt, ap);
    va_end(ap);
}

/* curl calls this about once a second and on every chunk: a stream that
 * stops moving for stall_ms is abandoned (curl's own low-speed check works
 * in whole seconds averaged over a window, too coarse for this). */
static int on_progress(void *ud, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                       curl_off_t ulnow)
{
    (void)dltotal, (void)dlnow, (void)ultotal, (void)ulnow;
    br_http_stream *s = ud;
    long long now = hl_now_ms();
    if (sink_interrupted((void *)s->sink)) {
        s->interrupted = true;
        return 1; /* abort the transfer: the run is stopping */
    }
    if (s->deadline_ms && now >= s->deadline_ms) {
        s->past_deadline = true;
        return 1; /* abort the transfer: the run's time is up */
    }
    if (now - s->last_byte_ms > s->stall_ms) {
        s->stalled = true;
        return 1; /* abort the transfer */
    }
    return 0;
}

static void feed_line(br_http_stream *s)
{
    size_t n = s->line.len;
    const char *text = s->line.data ? s->line.data : "";
    if (n && text[n - 1] == '\r') n--; /* CRLF streams */
    /* Only data lines carry the answer: comments, event:, id: and blank
     * lines do not (every provider's payload names its own type). */
    if (n >= 5 && strncmp(text, "data:", 5) == 0) {
        text += 5, n -= 5;
        if (n && *text == ' ') text++, n--;
        s->parser->data(s, s->parser_state, text, n);
    }
    tx_buf_clear(&s->line);
}

static size_t on_write(char *data, size_t size, size_t nmemb, void *ud)
{
    br_http_stream *s = ud;
    size_t n = size * nmemb;
    s->last_byte_ms = hl_now_ms();
    if (s->status == 0) {
        br_curl.easy_getinfo(s->curl, CURLINFO_RESPONSE_CODE, &s->status);
        char *ct = NULL;
        br_curl.easy_getinfo(s->curl, CURLINFO_CONTENT_TYPE, &ct);
        s->sse =
            s->status == 200 && (!ct || strstr(ct, "event-stream") || strstr(ct, "json") == NULL);
    }
    if (!s->sse) {
        if (tx_buf_append(&s->body, data, n) != TX_OK) return 0; /* over the cap: abort */
        return n;
    }
    size_t i = 0;
    while (i < n) {
        const char *nl = memchr(data + i, '\n', n - i);
        size_t run = nl ? (size_t)(nl - (data + i)) : n - i;
        if (tx_buf_append(&s->line, data + i, run) != TX_OK) return 0; /* over the cap */
        i += run;
        if (!nl) break;
        feed_line(s);
        i++;
    }
    return n;
}

/* ---- errors -----------------------------------------------------------------------------------
 */

/* A non-200 answer. Both OpenAI ({"error": {"message"}}) and Anthropic
 * ({"type": "error", "error": {"type", "message"}}) put the reason at
 * error.message; some compatible servers send error as a string. */
static void http_error(const br_http_stream *s, const char *model, const br_http_settings *st,
                       br_error *err)
{
    const char *msg = NULL;
    cJSON *body = s->body.data ? cJSON_ParseWithLength(s->body.data, s->body.len) : NULL;
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(body, "error");
    if (cJSON_IsString(e))
        msg = e->valuestring;
    else
        msg = hl_json_str(e, "message");
    char detail[256];
    if (msg)
        snprintf(detail, sizeof detail, "%.200s", msg);
    else if (s->body.len)
        snprintf(detail, sizeof detail, "%.120s", s->body.data);
    else
        snprintf(detail, sizeof detail, "no details");
    long code = s->status;
    const char *base = st->base_url;
    if (code == 401 || code == 403) {
        strcpy(err->type, "AuthError");
        snprintf(err->message, sizeof err->message,
                 "the provider at %.300s refused the API key (HTTP %ld: %s); set %s on the host "
                 "(environment or .env)",
                 base, code, detail, st->key_env);
    } else if (code == 404) {
        strcpy(err->type, "ProviderError");
        snprintf(err->message, sizeof err->message,
                 "unknown model \"%.100s\" at %.300s (HTTP 404: %s)", model, base, detail);
    } else if (code == 429) {
        strcpy(err->type, "RateLimited");
        snprintf(err->message, sizeof err->message, "rate limited by %.300s (HTTP 429: %s)", base,
                 detail);
    } else {
        strcpy(err->type, code >= 500 ? "ProviderError" : "BadRequest");
        snprintf(err->message, sizeof err->message, "the provider at %.300s answered HTTP %ld: %s",
                 base, code, detail);
    }
    cJSON_Delete(body);
}

static void set_err(br_error *err, const char *type, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void set_err(br_error *err, const char *type, const char *fmt, ...)
{
    snprintf(err->type, sizeof err->type, "%s", type);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    va_end(ap);
}

/* What the attempt came to: the done data, or NULL with err and whether a
 * retry may help. */
static cJSON *outcome(br_http_stream *s, CURLcode rc, const br_http_settings *st, const char *model,
                      br_error *err, bool *retryable)
{
    const char *base = st->base_url;
    *retryable = false;
    if (s->interrupted) {
        set_err(err, BR_INTERRUPTED,
                "interrupted (the run is stopping): the answer from %.300s was abandoned before it "
                "was complete; nothing of it is recorded, and the call is made again (with the same "
                "idempotency key) when the run resumes",
                base);
    } else if (s->past_deadline) {
        set_err(err, "Timeout",
                "the run's time limit was reached while %.300s was answering; the answer was "
                "abandoned",
                base);
    } else if (s->stalled) {
        set_err(err, "Timeout",
                "the provider at %.300s sent nothing for %.1f s (stall_timeout); the answer was "
                "abandoned",
                base, (double)st->stall_ms / 1000.0);
        *retryable = !s->got_bytes;
    } else if (rc == CURLE_OPERATION_TIMEDOUT) {
        set_err(err, "Timeout",
                "the answer from %.300s took longer than %.1f s (timeout); it was abandoned", base,
                (double)st->timeout_ms / 1000.0);
        *retryable = !s->got_bytes;
    } else if (rc != CURLE_OK && s->status == 0) {
        set_err(err, "ProviderError", "cannot reach the provider at %.300s: %s", base,
                br_curl.easy_strerror(rc));
        *retryable = true;
    } else if (s->status != 200) {
        http_error(s, model, st, err);
        *retryable = s->status == 429 || s->status >= 500; /* 529 "overloaded" included */
    } else if (rc == CURLE_WRITE_ERROR) {
        set_err(err, "ProviderError",
                "the answer from %.300s exceeded the size limit (16 MiB) and was abandoned", base);
    } else if (rc != CURLE_OK) {
        /* A 200 whose body was cut: never passed off as a complete answer. */
        set_err(err, "ProviderError", "the answer from %.300s ended early: %s", base,
                br_curl.easy_strerror(rc));
        *retryable = !s->got_bytes;
    } else if (s->malformed) {
        set_err(err, "ProviderError", "malformed answer from %.300s: %s", base, s->malformed_what);
    } else if (!s->sse) {
        set_err(err, "ProviderError", "malformed answer from %.300s: expected an event stream",
                base);
    } else {
        if (s->line.len) feed_line(s); /* a last line without its newline */
        if (s->malformed) {
            set_err(err, "ProviderError", "malformed answer from %.300s: %s", base,
                    s->malformed_what);
            return NULL;
        }
        return s->parser->finish(s->parser_state, base, err);
    }
    return NULL;
}

/* The wait before a retry, in 50 ms slices: false when the sink's
 * interrupt cut it. */
static bool sleep_seconds(double s, const br_sink *sink)
{
    long long until = hl_now_ms() + (long long)(s * 1000.0);
    for (long long left; (left = until - hl_now_ms()) > 0;) {
        if (sink_interrupted((void *)sink)) return false;
        if (left > 50) left = 50;
        struct timespec ts = {0, (long)left * 1000000L};
        nanosleep(&ts, NULL);
    }
    return true;
}

cJSON *br_http_stream_post(const br_http_settings *st, const char *url, const char *const *headers,
                           const char *body, const char *model, const br_http_parser *parser,
                           void *parser_state, const br_sink *sink, br_error *err)
{
    /* libcurl (and the TLS library under it) is loaded on the first model
     * call, not at every start: most runs never need it. */
    /* A public endpoint without its key would answer 401 after the request
     * (the prompt with it) went out: refused here, naming the variable. */
    if (st->public_endpoint && !st->api_key[0]) {
        set_err(err, "AuthError",
                "%s is not set, and %.300s needs an API key: nothing was sent. Put %s=... in "
                "~/.config/tactus/.env or the environment (a project's .env counts once `tactus "
                "trust` recorded it), or point providers.NAME.base_url at a server that needs no key",
                st->key_env, st->base_url, st->key_env);
        return NULL;
    }
    if (!br_curl_load(err->message, sizeof err->message)) {
        strcpy(err->type, "ProviderError");
        return NULL;
    }
    cJSON *result = NULL;
    long long deadline = sink ? sink->deadline_ms : 0;
    for (int attempt = 0;; attempt++) {
        long timeout_ms = st->timeout_ms;
        if (deadline) {
            long long left = deadline - hl_now_ms();
            if (left <= 0) {
                if (attempt == 0)
                    set_err(err, "Timeout",
                            "the run's time limit was reached before %.300s was asked",
                            st->base_url);
                break; /* a retry's error stays the one reported */
            }
            if (left < timeout_ms) timeout_ms = (long)left;
        }
        CURL *curl = br_curl.easy_init();
        if (!curl) {
            set_err(err, "ProviderError", "libcurl could not start a transfer");
            break;
        }
        br_http_stream s;
        memset(&s, 0, sizeof s);
        tx_buf_init(&s.line, LINE_CAP);
        tx_buf_init(&s.body, BR_HTTP_BODY_CAP);
        s.curl = curl;
        s.sink = sink;
        s.parser = parser;
        s.parser_state = parser_state;
        parser->begin(parser_state);
        struct curl_slist *hdrs = NULL;
        for (size_t i = 0; headers && headers[i]; i++)
            hdrs = br_curl.slist_append(hdrs, headers[i]);
        br_curl.easy_setopt(curl, CURLOPT_URL, url);
        br_curl.easy_setopt(curl, CURLOPT_HTTPHEADER, hdrs);
        br_curl.easy_setopt(curl, CURLOPT_POSTFIELDS, body);
        br_curl.easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_write);
        br_curl.easy_setopt(curl, CURLOPT_WRITEDATA, &s);
        br_curl.easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
        br_curl.easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, 10L);
        br_curl.easy_setopt(curl, CURLOPT_TIMEOUT_MS, timeout_ms);
        /* A stream that stops moving is a failure, not a wait forever. */
        s.stall_ms = st->stall_ms;
        s.deadline_ms = deadline;
        s.last_byte_ms = hl_now_ms();
        br_curl.easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, on_progress);
        br_curl.easy_setopt(curl, CURLOPT_XFERINFODATA, &s);
        br_curl.easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
        br_curl.easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
        br_curl.easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
        br_curl_stop stop = {sink_interrupted, (void *)sink};
        CURLcode rc = br_curl_run(curl, &stop);
        if (rc == CURLE_ABORTED_BY_CALLBACK && sink_interrupted((void *)sink)) s.interrupted = true;
        if (s.status == 0) br_curl.easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &s.status);
        if (rc == CURLE_OPERATION_TIMEDOUT && deadline && hl_now_ms() >= deadline)
            s.past_deadline = true; /* curl's timeout was the run's, not the provider's */
        bool retryable;
        result = outcome(&s, rc, st, model, err, &retryable);
        /* The slist holds copies of the headers, the key among them. */
        for (struct curl_slist *h = hdrs; h; h = h->next)
            memset(h->data, 0, strlen(h->data));
        br_curl.slist_free_all(hdrs);
        br_curl.easy_cleanup(curl);
        tx_buf_free(&s.line);
        tx_buf_free(&s.body);
        if (result || !retryable || attempt >= st->max_retries) break;
        double delay = st->constant_backoff ? st->retry_delay : st->retry_delay * (double)(1 << attempt);
        if (st->max_delay > 0 && delay > st->max_delay) delay = st->max_delay;
        /* Procedures and project files set these: bounded whatever they say,
         * and compared in doubles (1e16 s in milliseconds overflows an
         * integer, which once let a retry sleep past the run's deadline). */
        if (!(delay >= 0)) delay = 0;
        if (delay > BR_HTTP_MAX_RETRY_DELAY) delay = BR_HTTP_MAX_RETRY_DELAY;
        if (deadline && (double)hl_now_ms() + delay * 1000.0 >= (double)deadline) break;
        if (!sleep_seconds(delay, sink)) {
            char why[400];
            snprintf(why, sizeof why, "%.300s", err->message);
            set_err(err, BR_INTERRUPTED,
                    "interrupted (the run is stopping): the call to %.300s was abandoned while it "
                    "waited to retry (%s); nothing of it is recorded, and it is made again when the "
                    "run resumes",
                    st->base_url, why);
            break;
        }
    }
    return result;
}

/* ---- one plain request (host HTTP tools) ----------------------------------------------------- */

static size_t collect(char *data, size_t size, size_t nmemb, void *ud)
{
    tx_buf *b = ud;
    size_t n = size * nmemb;
    return tx_buf_append(b, data, n) == TX_OK ? n : 0; /* over the cap: abort */
}

int br_http_request(const char *method, const char *url, const char *const *headers,
                    const char *body, long timeout_ms, bool (*interrupted)(void *ud), void *ud,
                    tx_buf *out, br_error *err)
{
    if (!br_curl_load(err->message, sizeof err->message)) {
        strcpy(err->type, "ToolError");
        return -1;
    }
    CURL *curl = br_curl.easy_init();
    if (!curl) {
        strcpy(err->type, "ToolError");
        strcpy(err->message, "out of memory");
        return -1;
    }
    br_curl.easy_setopt(curl, CURLOPT_WRITEFUNCTION, collect);
    br_curl.easy_setopt(curl, CURLOPT_WRITEDATA, out);
    long status;
    br_curl_stop stop = {interrupted, ud};
    CURLcode rc = br_curl_perform(curl, method, url, headers, body, timeout_ms, &stop, &status);
    if (rc == CURLE_ABORTED_BY_CALLBACK) {
        strcpy(err->type, BR_INTERRUPTED);
        snprintf(err->message, sizeof err->message, "the request to %.300s was interrupted (the run is "
                 "stopping); nothing of it is recorded, and it is made again when the run resumes", url);
        return -1;
    }
    if (rc != CURLE_OK) {
        strcpy(err->type, rc == CURLE_OPERATION_TIMEDOUT ? "Timeout" : "ToolError");
        snprintf(err->message, sizeof err->message, "%s", rc == CURLE_WRITE_ERROR
                                                              ? "the answer exceeded max_output"
                                                              : br_curl.easy_strerror(rc));
        return -1;
    }
    return (int)status;
}

void br_http_apply_agent_retry(br_http_settings *s, const cJSON *params)
{
    const cJSON *r = cJSON_GetObjectItemCaseSensitive(params, "retry");
    if (!cJSON_IsObject(r)) return;
    const cJSON *v;
    if (cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(r, "enabled"))) s->max_retries = 0;
    if (cJSON_IsNumber(v = cJSON_GetObjectItemCaseSensitive(r, "attempts")) && v->valuedouble >= 1)
        s->max_retries = (int)v->valuedouble - 1;
    if (cJSON_IsNumber(v = cJSON_GetObjectItemCaseSensitive(r, "delay_seconds")) && v->valuedouble >= 0)
        s->retry_delay = v->valuedouble;
    if (cJSON_IsNumber(v = cJSON_GetObjectItemCaseSensitive(r, "max_delay_seconds")) && v->valuedouble > 0)
        s->max_delay = v->valuedouble;
    if (cJSON_IsString(v = cJSON_GetObjectItemCaseSensitive(r, "backoff")))
        s->constant_backoff = strcmp(v->valuestring, "constant") == 0;
    if (cJSON_IsString(v = cJSON_GetObjectItemCaseSensitive(r, "on")) &&
        strcmp(v->valuestring, "validation_only") == 0)
        s->max_retries = 0;
    if (s->max_retries > 10) s->max_retries = 10; /* a bound, whatever a procedure asks */
}
