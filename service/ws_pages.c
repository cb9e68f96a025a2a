/*
 * ws_pages.c - the inbox's HTML, rendered on the server: every text that
 * comes from a procedure, a run or a person (messages, tool arguments,
 * inputs, names) goes through ws_html_escape; no page has inline script or
 * style (the Content-Security-Policy forbids them anyway). The pages work
 * without script; app.js only makes the lists live.
 */
#include <string.h>
#include <time.h>

#include "hostlib.h"
#include "ws_internal.h"
#include "ws_ui.h"

tx_status ws_html_escape(tx_buf *b, const char *s)
{
    tx_status st = TX_OK;
    for (const char *p = s ? s : ""; *p && st == TX_OK; p++) {
        switch (*p) {
        case '&': st = tx_buf_puts(b, "&amp;"); break;
        case '<': st = tx_buf_puts(b, "&lt;"); break;
        case '>': st = tx_buf_puts(b, "&gt;"); break;
        case '"': st = tx_buf_puts(b, "&quot;"); break;
        case '\'': st = tx_buf_puts(b, "&#39;"); break;
        default: st = tx_buf_append(b, p, 1); break;
        }
    }
    return st;
}

/* A JSON value, pretty, escaped. */
static void html_json(tx_buf *b, const cJSON *v)
{
    char *t = v ? cJSON_Print(v) : NULL;
    ws_html_escape(b, t ? t : "null");
    cJSON_free(t);
}

static void html_time(tx_buf *b, long long ms)
{
    char when[40];
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(when, sizeof when, "%Y-%m-%d %H:%M:%SZ", &tm);
    tx_buf_printf(b, "<time datetime=\"%s\">%s</time>", when, when);
}

void ws_page_begin(tx_buf *b, const char *title, const char *page, const ws_req *r)
{
    tx_buf_puts(b, "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                   "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
                   "<title>");
    ws_html_escape(b, title);
    tx_buf_puts(b, " · Tactus</title><link rel=\"stylesheet\" href=\"/ui/style.css\">"
                   "<script src=\"/ui/app.js\" defer></script></head>\n");
    tx_buf_printf(b, "<body data-page=\"%s\"><header><a class=\"home\" href=\"/\">Tactus approvals</a>", page);
    if (r && r->via_session) {
        tx_buf_puts(b, "<span class=\"who\">");
        ws_html_escape(b, r->tok.name);
        tx_buf_puts(b, " · tenant ");
        ws_html_escape(b, r->tok.tenant);
        tx_buf_printf(b, " · %s</span><form method=\"post\" action=\"/ui/logout\" class=\"logout\">"
                         "<input type=\"hidden\" name=\"csrf\" value=\"%s\"><button type=\"submit\">Sign out</button></form>",
                      ws_role_name(r->tok.role), r->csrf);
    }
    tx_buf_puts(b, "</header>\n<main>");
}

void ws_page_end(tx_buf *b)
{
    tx_buf_puts(b, "</main></body></html>\n");
}

void ws_page_login(tx_buf *b, const char *pre, const char *error)
{
    ws_page_begin(b, "Sign in", "login", NULL);
    tx_buf_puts(b, "<h1>Sign in</h1>");
    if (error) {
        tx_buf_puts(b, "<p class=\"error\" role=\"alert\">");
        ws_html_escape(b, error);
        tx_buf_puts(b, "</p>");
    }
    tx_buf_printf(b, "<form method=\"post\" action=\"/ui/login\" class=\"login\">"
                     "<input type=\"hidden\" name=\"csrf\" value=\"%s\">"
                     "<label for=\"token\">API token</label>"
                     "<input id=\"token\" name=\"token\" type=\"password\" autocomplete=\"off\" required autofocus>"
                     "<button type=\"submit\">Sign in</button></form>"
                     "<p class=\"hint\">A token comes from <code>tactus tokens create --tenant T --role approver</code>.</p>",
                  pre);
    ws_page_end(b);
}

/* One pending request as a list item (app.js renders the same markup). */
static void pending_item(tx_buf *b, const cJSON *q)
{
    const char *id = hl_json_str(q, "request_id"), *msg = hl_json_str(q, "message");
    tx_buf_puts(b, "<li><a href=\"/ui/approvals/");
    ws_html_escape(b, id);
    tx_buf_puts(b, "\"><span class=\"kind\">");
    ws_html_escape(b, hl_json_str(q, "kind"));
    tx_buf_puts(b, "</span> <span class=\"message\">");
    tx_buf cut;
    tx_buf_init(&cut, 4096);
    tx_buf_shorten(&cut, msg ? msg : "", 200, "open it for the whole request");
    ws_html_escape(b, cut.data ? cut.data : "");
    tx_buf_free(&cut);
    tx_buf_puts(b, "</span></a> <span class=\"meta\">run ");
    ws_html_escape(b, hl_json_str(q, "run_id"));
    tx_buf_puts(b, ", asked ");
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(q, "created_ms");
    html_time(b, cJSON_IsNumber(c) ? (long long)c->valuedouble : 0);
    if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(q, "timed_out")))
        tx_buf_puts(b, " <strong>timed out: the default applies at the next resume</strong>");
    tx_buf_puts(b, "</span></li>");
}

void ws_page_inbox(tx_buf *b, const ws_req *r, const cJSON *pending, const cJSON *answered)
{
    ws_page_begin(b, "Inbox", "inbox", r);
    int n = cJSON_GetArraySize(pending);
    tx_buf_printf(b, "<h1>Pending requests (<span id=\"pending-count\">%d</span>)</h1>", n);
    tx_buf_printf(b, "<p id=\"pending-empty\"%s>Nothing waits for a person.</p>", n ? " hidden" : "");
    tx_buf_puts(b, "<ul id=\"pending\" class=\"requests\" aria-live=\"polite\">");
    const cJSON *q;
    cJSON_ArrayForEach(q, pending) pending_item(b, q);
    tx_buf_puts(b, "</ul><h2>Answered</h2>");
    if (!cJSON_GetArraySize(answered)) tx_buf_puts(b, "<p>No answers yet.</p>");
    else tx_buf_puts(b, "<table class=\"answered\"><thead><tr><th>Request</th><th>Kind</th><th>Answer</th>"
                        "<th>By</th><th>When</th></tr></thead><tbody>");
    cJSON_ArrayForEach(q, answered)
    {
        tx_buf_puts(b, "<tr><td><a href=\"/ui/approvals/");
        ws_html_escape(b, hl_json_str(q, "request_id"));
        tx_buf_puts(b, "\">");
        ws_html_escape(b, hl_json_str(q, "request_id"));
        tx_buf_puts(b, "</a></td><td>");
        ws_html_escape(b, hl_json_str(q, "kind"));
        tx_buf_puts(b, "</td><td><code>");
        char *a = cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(q, "answer"));
        ws_html_escape(b, a ? a : "null");
        cJSON_free(a);
        tx_buf_puts(b, "</code></td><td>");
        const char *by = hl_json_str(q, "answered_by");
        ws_html_escape(b, by && *by ? by : hl_json_str(q, "status"));
        tx_buf_puts(b, "</td><td>");
        const cJSON *w = cJSON_GetObjectItemCaseSensitive(q, "answered_ms");
        html_time(b, cJSON_IsNumber(w) ? (long long)w->valuedouble : 0);
        tx_buf_puts(b, "</td></tr>");
    }
    if (cJSON_GetArraySize(answered)) tx_buf_puts(b, "</tbody></table>");
    ws_page_end(b);
}

/* An option's value as a form carries it: its JSON text. */
static void option_input(tx_buf *b, const char *type, const cJSON *opt, int i)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(opt, "value");
    const char *label = hl_json_str(opt, "label");
    char *text = cJSON_PrintUnformatted(v ? v : opt);
    tx_buf_printf(b, "<label class=\"option\"><input type=\"%s\" name=\"value\" id=\"opt%d\" value=\"", type, i);
    ws_html_escape(b, text ? text : "null");
    tx_buf_puts(b, "\"> ");
    if (label) ws_html_escape(b, label);
    else if (cJSON_IsString(opt)) ws_html_escape(b, opt->valuestring);
    else ws_html_escape(b, text ? text : "null");
    tx_buf_puts(b, "</label>");
    cJSON_free(text);
}

/* The form for the request's kind. */
static void answer_form(tx_buf *b, const ws_req *r, const tj_human *h)
{
    tx_buf_puts(b, "<form method=\"post\" class=\"answer\" action=\"/ui/approvals/");
    ws_html_escape(b, h->id);
    tx_buf_printf(b, "\"><input type=\"hidden\" name=\"csrf\" value=\"%s\">"
                     "<input type=\"hidden\" name=\"request_hash\" value=\"%s\">",
                  r->csrf, h->request_hash);
    const cJSON *rq = h->request, *options = cJSON_GetObjectItemCaseSensitive(rq, "options");
    bool has_options = cJSON_IsArray(options) && cJSON_GetArraySize(options) > 0;
    const cJSON *opt;
    int i = 0;
    if (!strcmp(h->kind, "approve") || !strcmp(h->kind, "tool_approval")) {
        tx_buf_puts(b, "<div class=\"buttons\"><button type=\"submit\" name=\"decision\" value=\"approve\" "
                       "id=\"approve\">Approve</button><button type=\"submit\" name=\"decision\" value=\"deny\" "
                       "id=\"deny\" class=\"deny\">Deny</button></div>");
    } else if (!strcmp(h->kind, "select") || (!strcmp(h->kind, "input") && has_options)) {
        const char *mode = hl_json_str(rq, "mode");
        bool multiple = mode && !strcmp(mode, "multiple");
        tx_buf_printf(b, "<fieldset><legend>Choose %s</legend>", multiple ? "any" : "one");
        cJSON_ArrayForEach(opt, options) option_input(b, multiple ? "checkbox" : "radio", opt, i++);
        tx_buf_printf(b, "</fieldset><input type=\"hidden\" name=\"multiple\" value=\"%d\">", multiple);
        tx_buf_puts(b, "<button type=\"submit\" id=\"submit\">Answer</button>");
    } else if (!strcmp(h->kind, "input")) {
        tx_buf_puts(b, "<label for=\"value\">Your answer</label><textarea id=\"value\" name=\"text\" rows=\"3\" required>"
                       "</textarea><button type=\"submit\" id=\"submit\">Answer</button>");
    } else if (!strcmp(h->kind, "review")) {
        tx_buf_puts(b, "<label for=\"decision\">Decision</label><select id=\"decision\" name=\"review_decision\">");
        cJSON_ArrayForEach(opt, options)
        {
            const char *w = cJSON_IsString(opt) ? opt->valuestring : hl_json_str(opt, "label");
            if (!w) continue;
            tx_buf_puts(b, "<option value=\"");
            ws_html_escape(b, w);
            tx_buf_puts(b, "\">");
            ws_html_escape(b, w);
            tx_buf_puts(b, "</option>");
        }
        if (!has_options) tx_buf_puts(b, "<option>approve</option><option>reject</option><option>revise</option>");
        tx_buf_puts(b, "</select><label for=\"edited\">The artifact (edit it if needed)</label>"
                       "<textarea id=\"edited\" name=\"edited_artifact\" rows=\"8\">");
        const cJSON *artifact = cJSON_GetObjectItemCaseSensitive(rq, "artifact");
        if (cJSON_IsString(artifact)) ws_html_escape(b, artifact->valuestring);
        tx_buf_puts(b, "</textarea><label for=\"feedback\">Feedback</label>"
                       "<textarea id=\"feedback\" name=\"feedback\" rows=\"3\">");
        tx_buf_puts(b, "</textarea><button type=\"submit\" id=\"submit\">Send review</button>");
    } else {
        tx_buf_puts(b, "<label for=\"json\">Your answer, as JSON</label><textarea id=\"json\" name=\"json\" rows=\"5\" "
                       "required></textarea><button type=\"submit\" id=\"submit\">Answer</button>");
    }
    tx_buf_puts(b, "</form>");
}

void ws_page_request(tx_buf *b, const ws_req *r, const tj_human *h, const cJSON *view, const char *error)
{
    ws_page_begin(b, "Request", "request", r);
    tx_buf_puts(b, "<h1>");
    ws_html_escape(b, h->kind);
    tx_buf_puts(b, " request <code>");
    ws_html_escape(b, h->id);
    tx_buf_puts(b, "</code></h1><p class=\"status\">Status: <strong id=\"request-status\">");
    ws_html_escape(b, h->status);
    tx_buf_puts(b, "</strong></p>");
    if (error) {
        tx_buf_puts(b, "<p class=\"error\" role=\"alert\">");
        ws_html_escape(b, error);
        tx_buf_puts(b, "</p>");
    }
    tx_buf_puts(b, "<section><h2>Message</h2><pre id=\"message\" class=\"message\">");
    ws_html_escape(b, h->message);
    tx_buf_puts(b, "</pre>");
    if (!strcmp(h->kind, "tool_approval")) {
        tx_buf_puts(b, "<h2>The exact call that would run</h2><p>Tool <code id=\"tool\">");
        ws_html_escape(b, hl_json_str(h->request, "name"));
        tx_buf_puts(b, "</code> with arguments</p><pre id=\"tool-args\">");
        html_json(b, cJSON_GetObjectItemCaseSensitive(h->request, "args"));
        tx_buf_puts(b, "</pre>");
    }
    tx_buf_puts(b, "<h2>Timeout</h2><p>");
    if (h->deadline_ms) {
        tx_buf_puts(b, "Answer by ");
        html_time(b, h->deadline_ms);
        tx_buf_puts(b, "; then the default applies: <code>");
        char *d = cJSON_PrintUnformatted(h->default_value);
        ws_html_escape(b, d ? d : "null");
        cJSON_free(d);
        tx_buf_puts(b, "</code>");
    } else {
        tx_buf_puts(b, "None: the run waits until someone answers.");
    }
    tx_buf_puts(b, "</p></section>");
    if (!strcmp(h->status, "pending") && tj_human_late(h)) {
        tx_buf_puts(b, "<p><strong>Timed out:</strong> the default applies when the run resumes; "
                       "the request can no longer be answered.</p>");
    } else if (!strcmp(h->status, "pending")) {
        if (ws_role_can(r->tok.role, "answer")) answer_form(b, r, h);
        else tx_buf_puts(b, "<p>Your token may read this request, not answer it.</p>");
    } else {
        tx_buf_puts(b, "<section><h2>Answer</h2><p><code id=\"answer\">");
        char *a = cJSON_PrintUnformatted(h->answer);
        ws_html_escape(b, a ? a : "null");
        cJSON_free(a);
        tx_buf_puts(b, "</code> by <span id=\"answered-by\">");
        ws_html_escape(b, h->answered_by[0] ? h->answered_by : "its timeout");
        tx_buf_puts(b, "</span> at ");
        html_time(b, h->answered_ms);
        tx_buf_puts(b, "</p></section>");
    }
    const cJSON *run = cJSON_GetObjectItemCaseSensitive(view, "run");
    tx_buf_puts(b, "<section><h2>The run</h2><p>Run <code>");
    ws_html_escape(b, h->run_id);
    tx_buf_puts(b, "</code> of <code>");
    ws_html_escape(b, hl_json_str(run, "procedure"));
    tx_buf_puts(b, "</code>: <strong id=\"run-status\" data-run=\"");
    ws_html_escape(b, h->run_id);
    tx_buf_puts(b, "\">");
    ws_html_escape(b, hl_json_str(run, "status"));
    tx_buf_puts(b, "</strong></p><h3>Inputs</h3><pre id=\"inputs\">");
    html_json(b, cJSON_GetObjectItemCaseSensitive(run, "inputs"));
    tx_buf_puts(b, "</pre><h3>Recent events</h3><ol id=\"run-events\" class=\"events\">");
    const cJSON *e;
    cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(run, "recent_events"))
    {
        const cJSON *pos = cJSON_GetObjectItemCaseSensitive(e, "position");
        tx_buf_printf(b, "<li data-position=\"%ld\"><code>", cJSON_IsNumber(pos) ? (long)pos->valuedouble : -1L);
        ws_html_escape(b, hl_json_str(e, "method"));
        tx_buf_puts(b, "</code> ");
        char *p = cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(e, "params"));
        tx_buf cut;
        tx_buf_init(&cut, 4096);
        tx_buf_shorten(&cut, p ? p : "", 300, "GET /v1/runs/RUN has it all");
        ws_html_escape(b, cut.data ? cut.data : "");
        tx_buf_free(&cut);
        cJSON_free(p);
        tx_buf_puts(b, "</li>");
    }
    tx_buf_puts(b, "</ol><h3>The whole request</h3><pre id=\"request\">");
    html_json(b, h->request);
    tx_buf_printf(b, "</pre><p class=\"hint\">The answer is bound to this exact request (hash <code>%s</code>).</p>"
                     "</section>",
                  h->request_hash);
    ws_page_end(b);
}
