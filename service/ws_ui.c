/*
 * ws_ui.c - the approvals inbox: sign-in with a token, sessions, the
 * pages' routes and the forms' answers.
 *
 * A session is a random id in an HttpOnly, SameSite=Strict cookie (Secure
 * under TLS), kept in memory and tied to the token it was made from (a
 * revoked token ends its sessions). Every form carries the session's CSRF
 * token, compared in constant time, and a POST whose Origin is another
 * site's is refused before that: a page elsewhere cannot answer for the
 * person signed in. Sign-in itself is guarded the same way with a
 * pre-session cookie (double submit), so no one can sign a browser in as
 * someone else.
 */
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "hostlib.h"
#include "proto.h"
#include "ws_ui.h"

/* ---- sessions ---------------------------------------------------------------------------------- */

static bool random_hex(char out[65])
{
    unsigned char b[32];
    if (RAND_bytes(b, sizeof b) != 1) return false;
    static const char digits[] = "0123456789abcdef";
    for (int i = 0; i < 32; i++) {
        out[2 * i] = digits[b[i] >> 4];
        out[2 * i + 1] = digits[b[i] & 15];
    }
    out[64] = '\0';
    return true;
}

static bool same_secret(const char *a, const char *b)
{
    return a && b && strlen(a) == 64 && strlen(b) == 64 && CRYPTO_memcmp(a, b, 64) == 0;
}

bool ws_session_new(ws_server *s, const ws_token *t, ws_session *out)
{
    ws_session n = {0};
    if (!random_hex(n.id) || !random_hex(n.csrf)) return false;
    snprintf(n.token_id, sizeof n.token_id, "%s", t->id);
    n.last_ms = hl_now_ms();
    n.used = true;
    pthread_mutex_lock(&s->sess_lock);
    /* A token signing in again and again replaces its own oldest session,
     * never another token's (one tenant's sign-ins used to push everyone
     * out of one table). Otherwise a free slot, else an expired one, else
     * the least recently used: the table holds WS_SESSIONS_MAX /
     * WS_SESSIONS_PER_TOKEN tokens' sessions before that happens. */
    int pick = -1, free_slot = -1, oldest = 0, own_oldest = -1, own = 0;
    for (int i = 0; i < WS_SESSIONS_MAX; i++) {
        ws_session *x = &s->sessions[i];
        bool live = x->used && n.last_ms - x->last_ms <= WS_SESSION_IDLE_MS;
        if (!live) {
            if (free_slot < 0) free_slot = i;
            continue;
        }
        if (!strcmp(x->token_id, n.token_id)) {
            own++;
            if (own_oldest < 0 || x->last_ms < s->sessions[own_oldest].last_ms) own_oldest = i;
        }
        if (x->last_ms < s->sessions[oldest].last_ms) oldest = i;
    }
    if (own >= WS_SESSIONS_PER_TOKEN) pick = own_oldest;
    else if (free_slot >= 0) pick = free_slot;
    else pick = oldest;
    s->sessions[pick] = n;
    pthread_mutex_unlock(&s->sess_lock);
    *out = n;
    return true;
}

bool ws_session_find(ws_server *s, const char *id, ws_session *out, ws_token *tok)
{
    if (!id || strlen(id) != 64) return false;
    bool found = false;
    long long now = hl_now_ms();
    pthread_mutex_lock(&s->sess_lock);
    for (int i = 0; i < WS_SESSIONS_MAX; i++) {
        ws_session *x = &s->sessions[i];
        if (x->used && same_secret(x->id, id)) {
            if (now - x->last_ms > WS_SESSION_IDLE_MS) {
                x->used = false;
            } else {
                x->last_ms = now;
                *out = *x;
                found = true;
            }
            break;
        }
    }
    pthread_mutex_unlock(&s->sess_lock);
    return found && ws_keyring_live(s->keys, out->token_id, tok);
}

void ws_session_end(ws_server *s, const char *id)
{
    pthread_mutex_lock(&s->sess_lock);
    for (int i = 0; i < WS_SESSIONS_MAX; i++)
        if (s->sessions[i].used && same_secret(s->sessions[i].id, id)) memset(&s->sessions[i], 0, sizeof s->sessions[i]);
    pthread_mutex_unlock(&s->sess_lock);
}

/* ---- forms -------------------------------------------------------------------------------------- */

/* The value of field `name` in an application/x-www-form-urlencoded body
 * (its n-th occurrence), decoded into `out`; false when absent. */
static bool form_field(const ws_req *r, const char *name, int nth, char *out, size_t cap)
{
    const char *p = r->body.data ? r->body.data : "";
    size_t nl = strlen(name);
    while (*p) {
        const char *amp = strchr(p, '&');
        size_t len = amp ? (size_t)(amp - p) : strlen(p);
        if (len > nl && !strncmp(p, name, nl) && p[nl] == '=' && nth-- == 0) {
            size_t vl = len - nl - 1;
            if (vl >= cap) vl = cap - 1;
            memcpy(out, p + nl + 1, vl);
            out[vl] = '\0';
            for (char *c = out; *c; c++)
                if (*c == '+') *c = ' ';
            MHD_http_unescape(out);
            return true;
        }
        p += len + (amp ? 1 : 0);
    }
    return false;
}

/* Whether a POST may act for the session: the form's CSRF token is the
 * session's, and the browser does not say the request came from another
 * site. */
static bool same_site_post(ws_req *r, const char *csrf_expected)
{
    const char *site = ws_header(r, "Sec-Fetch-Site");
    if (site && strcmp(site, "same-origin") != 0 && strcmp(site, "none") != 0) return false;
    const char *origin = ws_header(r, "Origin"), *host = ws_header(r, "Host");
    if (origin) {
        char want[600];
        snprintf(want, sizeof want, "%s://%s", r->srv->tls ? "https" : "http", host ? host : "");
        if (strcmp(origin, want) != 0) return false;
    }
    char csrf[80];
    return form_field(r, "csrf", 0, csrf, sizeof csrf) && same_secret(csrf, csrf_expected);
}

static enum MHD_Result reply_html(ws_req *r, unsigned status, tx_buf *b, const char *const *headers)
{
    enum MHD_Result res = ws_reply(r, status, "text/html; charset=utf-8", b->data ? b->data : "", b->len, headers);
    tx_buf_free(b);
    return res;
}

static enum MHD_Result login_page(ws_req *r, unsigned status, const char *error)
{
    char pre[65];
    if (!random_hex(pre)) return ws_problem(r, 500, "no_random", "no random numbers");
    char cookie[200];
    snprintf(cookie, sizeof cookie, "tactus_pre=%s; HttpOnly; SameSite=Strict; Path=/ui/login%s", pre,
             r->srv->tls ? "; Secure" : "");
    tx_buf b;
    tx_buf_init(&b, 1u << 20);
    ws_page_login(&b, pre, error);
    const char *h[] = {"Set-Cookie", cookie, NULL};
    return reply_html(r, status, &b, h);
}

static enum MHD_Result do_login(ws_req *r)
{
    const char *pre = MHD_lookup_connection_value(r->conn, MHD_COOKIE_KIND, "tactus_pre");
    if (!pre || !same_site_post(r, pre))
        return ws_problem(r, 403, "csrf", "the sign-in form did not come from this server's page; open /ui/login and sign in there");
    char token[200];
    ws_token t;
    if (!form_field(r, "token", 0, token, sizeof token) || !ws_keyring_check(r->srv->keys, token, &t)) {
        OPENSSL_cleanse(token, sizeof token);
        return login_page(r, 401, "That token is not valid (or was revoked).");
    }
    OPENSSL_cleanse(token, sizeof token);
    ws_session sess;
    if (!ws_session_new(r->srv, &t, &sess)) return ws_problem(r, 500, "no_random", "no random numbers");
    char cookie[200];
    snprintf(cookie, sizeof cookie, "tactus_session=%s; HttpOnly; SameSite=Strict; Path=/%s", sess.id,
             r->srv->tls ? "; Secure" : "");
    return ws_redirect(r, "/", cookie);
}

/* The tenant's requests answered lately: those of its 50 newest runs. */
static cJSON *answered_lately(tj_journal *j, const char *tenant)
{
    cJSON *out = cJSON_CreateArray(), *runs = NULL;
    if (tj_run_list(j, tenant, NULL, &runs) == TX_OK) {
        int n = 0;
        const cJSON *run;
        cJSON_ArrayForEach(run, runs)
        {
            if (n++ >= 50) break;
            cJSON *reqs = NULL;
            if (tj_human_of_run(j, tenant, hl_json_str(run, "run_id"), &reqs) == TX_OK) {
                cJSON *q = reqs ? reqs->child : NULL;
                while (q) {
                    cJSON *next = q->next;
                    const char *st = hl_json_str(q, "status");
                    if (st && strcmp(st, "pending") != 0) cJSON_AddItemToArray(out, cJSON_DetachItemViaPointer(reqs, q));
                    q = next;
                }
            }
            cJSON_Delete(reqs);
        }
    }
    cJSON_Delete(runs);
    return out;
}

static enum MHD_Result inbox(ws_req *r, tj_journal *j)
{
    cJSON *pending = NULL;
    if (tj_human_pending(j, r->tok.tenant, &pending) != TX_OK) {
        cJSON_Delete(pending);
        return ws_store_problem(r, "store_failed", "the store failed", tj_last_error(j));
    }
    cJSON *answered = answered_lately(j, r->tok.tenant);
    tx_buf b;
    tx_buf_init(&b, 32u << 20);
    ws_page_inbox(&b, r, pending, answered);
    cJSON_Delete(pending);
    cJSON_Delete(answered);
    return reply_html(r, 200, &b, NULL);
}

static enum MHD_Result request_page(ws_req *r, tj_journal *j, const char *id, unsigned status, const char *error)
{
    tj_human h;
    tx_status got = tj_human_get(j, r->tok.tenant, id, &h);
    if (got != TX_OK && got != TX_ENOENT) return ws_store_problem(r, "store_failed", "the store failed", tj_last_error(j));
    if (got != TX_OK) {
        tx_buf b;
        tx_buf_init(&b, 1u << 20);
        ws_page_begin(&b, "Not found", "missing", r);
        tx_buf_puts(&b, "<h1>No such request</h1><p><a href=\"/\">Back to the inbox</a></p>");
        ws_page_end(&b);
        return reply_html(r, 404, &b, NULL);
    }
    cJSON *view = ws_approval_json(j, &h, true);
    tx_buf b;
    tx_buf_init(&b, 32u << 20);
    ws_page_request(&b, r, &h, view, error);
    cJSON_Delete(view);
    tj_human_free(&h);
    return reply_html(r, status, &b, NULL);
}

/* The API's answer object from the form of the request's kind. */
static cJSON *answer_of_form(ws_req *r, const tj_human *h, char *why, size_t cap)
{
    char hash[80], field[64 * 1024];
    if (!form_field(r, "request_hash", 0, hash, sizeof hash)) {
        snprintf(why, cap, "the form has no request_hash: reload the page");
        return NULL;
    }
    cJSON *a = cJSON_CreateObject();
    cJSON_AddStringToObject(a, "request_hash", hash);
    if (!strcmp(h->kind, "approve") || !strcmp(h->kind, "tool_approval")) {
        if (form_field(r, "decision", 0, field, sizeof field) && (!strcmp(field, "approve") || !strcmp(field, "deny"))) {
            cJSON_AddBoolToObject(a, "approved", !strcmp(field, "approve"));
            return a;
        }
        snprintf(why, cap, "choose Approve or Deny");
    } else if (form_field(r, "text", 0, field, sizeof field)) {
        cJSON_AddStringToObject(a, "value", field);
        return a;
    } else if (form_field(r, "review_decision", 0, field, sizeof field)) {
        cJSON *v = cJSON_AddObjectToObject(a, "value");
        cJSON_AddStringToObject(v, "decision", field);
        if (form_field(r, "edited_artifact", 0, field, sizeof field)) cJSON_AddStringToObject(v, "edited_artifact", field);
        cJSON_AddStringToObject(v, "feedback", form_field(r, "feedback", 0, field, sizeof field) ? field : "");
        return a;
    } else if (form_field(r, "multiple", 0, field, sizeof field)) {
        /* options: each checked one's JSON text */
        bool multiple = !strcmp(field, "1");
        cJSON *list = cJSON_CreateArray();
        for (int i = 0; form_field(r, "value", i, field, sizeof field); i++) {
            cJSON *v = tp_json_parse_strict(field, strlen(field), 64, why, cap);
            if (v) cJSON_AddItemToArray(list, v);
        }
        if (multiple) {
            cJSON_AddItemToObject(a, "value", list);
            return a;
        }
        if (cJSON_GetArraySize(list) == 1) {
            cJSON_AddItemToObject(a, "value", cJSON_DetachItemFromArray(list, 0));
            cJSON_Delete(list);
            return a;
        }
        cJSON_Delete(list);
        snprintf(why, cap, "choose one of the options");
    } else if (form_field(r, "json", 0, field, sizeof field)) {
        cJSON *v = tp_json_parse_strict(field, strlen(field), 64, why, cap);
        if (v) {
            cJSON_AddItemToObject(a, "value", v);
            return a;
        }
    } else {
        snprintf(why, cap, "the form is empty: give an answer");
    }
    cJSON_Delete(a);
    return NULL;
}

static enum MHD_Result answer_post(ws_req *r, tj_journal *j, const char *id)
{
    if (!same_site_post(r, r->csrf))
        return ws_problem(r, 403, "csrf", "this form did not come from this server's page (its CSRF token or origin is wrong); "
                                          "nothing was answered");
    tj_human h;
    if (tj_human_get(j, r->tok.tenant, id, &h) != TX_OK) return request_page(r, j, id, 404, NULL);
    enum MHD_Result res;
    if (!ws_allow(r, "answer", &res)) {
        tj_human_free(&h);
        return res;
    }
    char why[1200], code[64];
    cJSON *body = answer_of_form(r, &h, why, sizeof why);
    tj_human_free(&h);
    if (!body) return request_page(r, j, id, 422, why);
    unsigned st = ws_answer(r->srv, j, r->tok.tenant, id, body, r->tok.name, code, sizeof code, why, sizeof why);
    cJSON_Delete(body);
    if (st) return request_page(r, j, id, st, why);
    char loc[120];
    snprintf(loc, sizeof loc, "/ui/approvals/%s", id);
    return ws_redirect(r, loc, NULL);
}

static bool id_chars_ok(const char *id)
{
    size_t n = strlen(id);
    if (!n || n >= 48) return false;
    for (size_t i = 0; i < n; i++)
        if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._", id[i])) return false;
    return true;
}

enum MHD_Result ws_ui_route(ws_req *r)
{
    bool get = !strcmp(r->method, "GET") || !strcmp(r->method, "HEAD"), post = !strcmp(r->method, "POST");
    if (!strcmp(r->url, "/ui/app.js") && get)
        return ws_reply(r, 200, "text/javascript; charset=utf-8", ws_asset_app_js, ws_asset_app_js_len, NULL);
    if (!strcmp(r->url, "/ui/style.css") && get)
        return ws_reply(r, 200, "text/css; charset=utf-8", ws_asset_style_css, ws_asset_style_css_len, NULL);
    if (!strcmp(r->url, "/ui/login")) {
        if (get) return login_page(r, 200, NULL);
        if (post) return do_login(r);
        return ws_problem(r, 405, "method_not_allowed", "GET or POST");
    }
    bool page = !strcmp(r->url, "/") || !strncmp(r->url, "/ui/", 4);
    if (!page) return ws_problem(r, 404, "not_found", "no such page");
    if (!r->authed || !r->via_session) {
        if (post) return ws_problem(r, 401, "unauthorized", "sign in first (/ui/login)");
        return ws_redirect(r, "/ui/login", NULL);
    }
    if (!strcmp(r->url, "/ui/logout") && post) {
        if (!same_site_post(r, r->csrf)) return ws_problem(r, 403, "csrf", "this form did not come from this server's page");
        ws_session_end(r->srv, r->session_id);
        return ws_redirect(r, "/ui/login", "tactus_session=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0");
    }
    char err[512];
    tj_journal *j = ws_journal_get(r->srv, err, sizeof err);
    if (!j) return ws_store_problem(r, "store_unavailable", "the store cannot be opened", err);
    enum MHD_Result res;
    const char *id = !strncmp(r->url, "/ui/approvals/", 14) ? r->url + 14 : NULL;
    if (!strcmp(r->url, "/") && get) res = inbox(r, j);
    else if (id && !id_chars_ok(id)) res = request_page(r, j, "-", 404, NULL);
    else if (id && get) res = request_page(r, j, id, 200, NULL);
    else if (id && post) res = answer_post(r, j, id);
    else res = ws_problem(r, 404, "not_found", "no such page");
    ws_journal_put(r->srv, j);
    return res;
}
