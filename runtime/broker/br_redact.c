/*
 * br_redact.c - the secrets the broker holds, and their removal from
 * everything it passes back: replies, streamed deltas (across piece
 * boundaries), audit records.
 *
 * Every key the broker may hold is a secret whatever its variable is
 * called: providers.X.api_key_env, ${secret:NAME} in host tools, models
 * and MCP servers, and every secret-named variable of the environment.
 */
#include <stdlib.h>
#include <string.h>

#include "br_internal.h"

extern char **environ;

/* Keeps a secret's value for redaction (it may not have a secret-like name). */
void br_remember_secret(br_broker *b, const char *value)
{
    if (strlen(value) < 6 || b->n_secrets >= BR_MAX_SECRETS) return;
    for (size_t i = 0; i < b->n_secrets; i++)
        if (strcmp(b->secrets[i], value) == 0) return;
    b->secrets[b->n_secrets] = tx_strdup(value);
    if (b->secrets[b->n_secrets]) b->n_secrets++;
}

/* Walks the host configuration for key names: every `api_key_env: NAME`
 * (providers.X and any other table that names its key that way) and every
 * ${secret:NAME} in a string; the values set on the host become secrets. */
static void remember_config_secrets(br_broker *b, const cJSON *v, int depth)
{
    if (!v || depth > 32) return;
    if (cJSON_IsString(v) && v->valuestring) {
        if (v->string && strcmp(v->string, "api_key_env") == 0) {
            const char *val = getenv(v->valuestring);
            if (val) br_remember_secret(b, val);
        }
        for (const char *p = v->valuestring; (p = strstr(p, "${secret:"));) {
            const char *close = strchr(p, '}');
            if (!close) break;
            char var[128];
            snprintf(var, sizeof var, "%.*s", (int)(close - p - 9), p + 9);
            const char *val = getenv(var);
            if (val) br_remember_secret(b, val);
            p = close + 1;
        }
        return;
    }
    for (const cJSON *c = v->child; c; c = c->next) remember_config_secrets(b, c, depth + 1);
}

void br_remember_secrets(br_broker *b)
{
    /* Known now, not at first use, so a model echoing a tool's token before
     * that tool ran is still caught. The configuration's first, so that a
     * crowded environment cannot push them out of the table. */
    remember_config_secrets(b, b->config, 0);
    for (char **e = environ; e && *e && b->n_secrets < BR_MAX_SECRETS; e++) {
        const char *eq = strchr(*e, '=');
        if (!eq || strlen(eq + 1) < 6) continue; /* too short to redact without noise */
        char name[256];
        snprintf(name, sizeof name, "%.*s", (int)(eq - *e), *e);
        if (!tx_env_name_is_secret(name)) continue;
        br_remember_secret(b, eq + 1);
    }
}

/* Replaces every occurrence of a known secret in the strings of `v`. */
/* `text` with every known secret replaced by [REDACTED], as a new string
 * (tx_alloc'd), or NULL when it holds none. */
static char *redacted(const br_broker *b, const char *text)
{
    char *cur = NULL;
    for (size_t i = 0; i < b->n_secrets; i++) {
        const char *sec = b->secrets[i], *src = cur ? cur : text;
        if (!strstr(src, sec)) continue;
        tx_buf out;
        tx_buf_init(&out, BR_REDACT_CAP);
        const char *p = src, *hit;
        size_t sl = strlen(sec);
        while ((hit = strstr(p, sec))) {
            tx_buf_append(&out, p, (size_t)(hit - p));
            tx_buf_puts(&out, "[REDACTED]");
            p = hit + sl;
        }
        tx_buf_puts(&out, p);
        char *next = out.data ? tx_buf_steal(&out) : tx_strdup("[REDACTED]");
        tx_buf_free(&out);
        tx_free(cur);
        cur = next ? next : tx_strdup("[REDACTED]");
    }
    return cur;
}

/* Deeper than cJSON parses; a tree built deeper than this is replaced
 * whole rather than passed on unread. */
#define BR_REDACT_DEPTH 1100

void br_redact(const br_broker *b, cJSON *v, int depth)
{
    if (!v || b->n_secrets == 0) return;
    /* Object keys are text a provider chooses too ({"sk-...": 1}). */
    char *key = v->string ? redacted(b, v->string) : NULL;
    if (key) {
        char *copy = cJSON_malloc(strlen(key) + 1);
        if (copy) {
            strcpy(copy, key);
            if (!(v->type & cJSON_StringIsConst)) cJSON_free(v->string);
            v->string = copy;
            v->type &= ~cJSON_StringIsConst;
        }
        tx_free(key);
    }
    if (depth > BR_REDACT_DEPTH) {
        cJSON_Delete(v->child);
        v->child = NULL;
        v->type = cJSON_String | (v->type & cJSON_StringIsConst);
        v->valuestring = cJSON_malloc(sizeof "[REDACTED: nested too deep]");
        if (v->valuestring) strcpy(v->valuestring, "[REDACTED: nested too deep]");
        return;
    }
    if (cJSON_IsString(v) && v->valuestring) {
        char *text = redacted(b, v->valuestring);
        if (text) cJSON_SetValuestring(v, text);
        tx_free(text);
        return;
    }
    for (cJSON *c = v->child; c; c = c->next) br_redact(b, c, depth + 1);
}

/* Replaces every known secret in s[0..n) into `out`. */
static void redact_into(const br_broker *b, const char *s, tx_buf *out)
{
    cJSON *tmp = cJSON_CreateString(s);
    br_redact(b, tmp, 0);
    tx_buf_puts(out, tmp && tmp->valuestring ? tmp->valuestring : "[REDACTED]");
    cJSON_Delete(tmp);
}

static size_t longest_secret(const br_broker *b)
{
    size_t m = 0;
    for (size_t i = 0; i < b->n_secrets; i++)
        if (strlen(b->secrets[i]) > m) m = strlen(b->secrets[i]);
    return m;
}

static struct held_stream *held_stream_for(br_broker *b, int index)
{
    struct held_stream *free_slot = NULL;
    for (size_t i = 0; i < BR_MAX_HELD; i++) {
        if (b->held[i].used && b->held[i].index == index) return &b->held[i];
        if (!b->held[i].used && !free_slot) free_slot = &b->held[i];
    }
    if (!free_slot) return NULL; /* the caller then passes nothing of the piece */
    free_slot->used = true;
    free_slot->index = index;
    tx_buf_init(&free_slot->tail, BR_REDACT_CAP);
    return free_slot;
}

/* The text to pass on now for one stream: (held tail + piece) with every
 * whole secret replaced, minus its last (longest - 1) bytes, which are held
 * (a secret starting there may go on in the next piece). The cut is moved
 * back to a UTF-8 boundary so a passed piece is always valid UTF-8.
 * Returns a tx_alloc'd string ("" = nothing to pass yet), NULL on memory. */
static char *release_stream(br_broker *b, struct held_stream *h, const char *piece, bool flush)
{
    tx_buf_puts(&h->tail, piece ? piece : "");
    tx_buf all;
    tx_buf_init(&all, BR_REDACT_CAP);
    redact_into(b, h->tail.data ? h->tail.data : "", &all);
    size_t n = all.len, keep = flush ? 0 : longest_secret(b) - 1;
    size_t cut = n > keep ? n - keep : 0;
    while (cut > 0 && cut < n && ((unsigned char)all.data[cut] & 0xC0) == 0x80) cut--;
    char *now = tx_strndup(all.data ? all.data : "", cut);
    tx_buf_clear(&h->tail);
    if (n > cut) tx_buf_append(&h->tail, all.data + cut, n - cut);
    tx_buf_free(&all);
    return now;
}

/* Streamed deltas: {"text"} and {"tool_call": {index, arguments_delta}} are
 * passed on through release_stream; anything else (and a delta when no
 * secret is known) as a redacted copy. */
void br_redacting_delta(void *ud, const cJSON *delta)
{
    br_broker *b = ud;
    if (!b->user_delta) return;
    if (b->n_secrets == 0) {
        b->user_delta(b->user_ud, delta);
        return;
    }
    cJSON *copy = cJSON_Duplicate(delta, 1);
    if (!copy) return;
    cJSON *text = cJSON_GetObjectItemCaseSensitive(copy, "text");
    cJSON *tc = cJSON_GetObjectItemCaseSensitive(copy, "tool_call");
    cJSON *args = cJSON_GetObjectItemCaseSensitive(tc, "arguments_delta");
    const cJSON *index = cJSON_GetObjectItemCaseSensitive(tc, "index");
    cJSON *piece = cJSON_IsString(text) ? text : cJSON_IsString(args) ? args : NULL;
    struct held_stream *h = piece ? held_stream_for(b, piece == text ? -1 : cJSON_IsNumber(index) ? index->valueint : 0) : NULL;
    if (h) {
        char *now = release_stream(b, h, piece->valuestring, false);
        cJSON_SetValuestring(piece, now ? now : "");
        tx_free(now);
        /* Nothing to pass yet: a text delta is dropped, a tool-call delta
         * still goes (it may carry the call's id and name). */
        if (piece == text && !*text->valuestring) {
            cJSON_Delete(copy);
            return;
        }
    } else if (piece) {
        /* No room to hold this stream's tail: a secret split over its pieces
         * could not be caught, so none of its text is passed on (the final
         * answer, redacted whole, still carries all of it). */
        if (piece == text) {
            cJSON_Delete(copy);
            return;
        }
        cJSON_SetValuestring(piece, "");
    }
    br_redact(b, copy, 0);
    b->user_delta(b->user_ud, copy);
    cJSON_Delete(copy);
}

/* At the end of a streamed call: what each stream still holds, redacted. */
void br_flush_streams(br_broker *b)
{
    for (size_t i = 0; i < BR_MAX_HELD; i++) {
        struct held_stream *h = &b->held[i];
        if (!h->used) continue;
        char *rest = release_stream(b, h, "", true);
        if (rest && *rest && b->user_delta) {
            cJSON *d = cJSON_CreateObject();
            if (h->index < 0) {
                cJSON_AddStringToObject(d, "text", rest);
            } else {
                cJSON *t = cJSON_AddObjectToObject(d, "tool_call");
                cJSON_AddNumberToObject(t, "index", h->index);
                cJSON_AddStringToObject(t, "arguments_delta", rest);
            }
            b->user_delta(b->user_ud, d);
            cJSON_Delete(d);
        }
        tx_free(rest);
        tx_buf_free(&h->tail);
        h->used = false;
    }
}

