/*
 * sup_show.c - what the user sees while a run goes on (stderr when stdout
 * carries the result): streamed tokens, prints and logs, stages, tool
 * calls. All of it is the procedure's text, made inert for the terminal
 * (tx_term_text) and capped per run.
 */
#include <string.h>

#include "sup_internal.h"

/* The arguments shown on a tool call's line. */
#define TOOL_ARGS_SHOWN 300

static void show(const sup_progress *p, const char *color, const char *fmt, const char *a,
                 const char *b)
{
    if (!p->out) return;
    /* a and b are the procedure's text: made inert for the terminal. */
    char *ta = tx_term_text(a ? a : ""), *tb = tx_term_text(b ? b : "");
    fprintf(p->out, "%s", p->color ? color : "");
    fprintf(p->out, fmt, ta ? ta : "", tb ? tb : "");
    tx_free(ta);
    tx_free(tb);
    fprintf(p->out, "%s", p->color ? "\033[0m" : "");
    fflush(p->out);
}


/* What a run may put on the user's terminal (prints, logs, stages, tokens,
 * tool calls): past it, one note and nothing more, so a procedure printing
 * in a loop cannot fill the host's disk or drown the terminal. The run's
 * result and the journal are not cut. */
#define DISPLAY_CAP (16ll * 1024 * 1024)

bool sup_may_show(run_ctx *r, size_t n)
{
    if (!r->opt->progress.out) return false;
    if (r->shown > DISPLAY_CAP) return false;
    r->shown += (long long)n;
    if (r->shown > DISPLAY_CAP) {
        fprintf(r->opt->progress.out,
                "\n[tactus] the procedure has shown more than %lld MiB; the rest of its output "
                "is not shown (its result is not cut)\n",
                DISPLAY_CAP >> 20);
        fflush(r->opt->progress.out);
        return false;
    }
    return true;
}

void sup_end_stream(run_ctx *r)
{
    if (r->streaming && r->opt->progress.out) fputc('\n', r->opt->progress.out);
    r->streaming = false;
}

void sup_show_log(run_ctx *r, const cJSON *params)
{
    const sup_progress *p = &r->opt->progress;
    const char *level = hl_json_str(params, "level");
    const char *msg = hl_json_str(params, "message");
    if (!level || !msg) return;
    if (strcmp(level, "debug") == 0 && !p->verbose) return;
    const cJSON *ctxv = cJSON_GetObjectItemCaseSensitive(params, "context");
    if (!sup_may_show(r, strlen(msg) + (cJSON_IsString(ctxv) ? strlen(ctxv->valuestring) : 64))) return;
    sup_end_stream(r);
    if (strcmp(level, "print") == 0) {
        show(p, "", "%s\n", msg, NULL);
        return;
    }
    const char *color = strcmp(level, "error") == 0  ? "\033[31m"
                        : strcmp(level, "warn") == 0 ? "\033[33m"
                                                      : "\033[2m";
    const cJSON *ctx = cJSON_GetObjectItemCaseSensitive(params, "context");
    char *ctx_text = ctx && !cJSON_IsNull(ctx) ? cJSON_PrintUnformatted(ctx) : NULL;
    char line[64] = "";
    const cJSON *ln = cJSON_GetObjectItemCaseSensitive(params, "line");
    if (cJSON_IsNumber(ln)) snprintf(line, sizeof line, ":%d", ln->valueint);
    if (p->out) {
        char *tl = tx_term_text(level), *tm = tx_term_text(msg), *tc = tx_term_text(ctx_text ? ctx_text : "");
        fprintf(p->out, "%s[%s%s] %s%s%s%s\n", p->color ? color : "", tl ? tl : "", line, tm ? tm : "",
                ctx_text ? " " : "", tc ? tc : "", p->color ? "\033[0m" : "");
        fflush(p->out);
        tx_free(tl);
        tx_free(tm);
        tx_free(tc);
    }
    cJSON_free(ctx_text);
}

/* Deltas from the broker: shown to the user, and recorded in the store
 * for the run's followers (sup_effects.c). */
void sup_on_delta(void *ud, const cJSON *delta)
{
    run_ctx *r = ud;
    const cJSON *progress = cJSON_GetObjectItemCaseSensitive(delta, "progress");
    if (cJSON_IsObject(progress) && sup_may_show(r, 400)) {
        /* An MCP tool's notifications/progress, as the broker passed it on. */
        const cJSON *done = cJSON_GetObjectItemCaseSensitive(progress, "progress");
        const cJSON *total = cJSON_GetObjectItemCaseSensitive(progress, "total");
        const char *msg = hl_json_str(progress, "message");
        char line[512], of[40] = "";
        if (cJSON_IsNumber(total)) snprintf(of, sizeof of, "/%g", total->valuedouble);
        snprintf(line, sizeof line, "%.60s.%.100s %g%s%s%.200s\n",
                 hl_json_str(progress, "server") ? hl_json_str(progress, "server") : "?",
                 hl_json_str(progress, "tool") ? hl_json_str(progress, "tool") : "?",
                 cJSON_IsNumber(done) ? done->valuedouble : 0, of, msg ? ": " : "", msg ? msg : "");
        sup_end_stream(r);
        show(&r->opt->progress, "\033[2m", "progress: %s", line, NULL);
        return;
    }
    const cJSON *text = cJSON_GetObjectItemCaseSensitive(delta, "text");
    if (cJSON_IsString(text)) sup_deltas_add(r->deltas, text->valuestring);
    if (cJSON_IsString(text) && sup_may_show(r, strlen(text->valuestring))) {
        tx_fputs_term(text->valuestring, r->opt->progress.out);
        fflush(r->opt->progress.out);
        r->streaming = true;
    }
}

/* "-> NAME ARGS" for a tool call, the arguments cut to a line. */
void sup_show_tool_call(run_ctx *r, const cJSON *params)
{
    sup_end_stream(r);
    char *args = cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(params, "args"));
    /* A line per call, whatever the arguments weigh. */
    tx_buf line;
    tx_buf_init(&line, TOOL_ARGS_SHOWN + 256);
    tx_buf_shorten(&line, args ? args : "", TOOL_ARGS_SHOWN, "tactus show RUN --json has them all");
    if (line.data && sup_may_show(r, line.len))
        show(&r->opt->progress, "\033[35m", "-> %s %s\n", hl_json_str(params, "name"), line.data);
    tx_buf_free(&line);
    cJSON_free(args);
}

/* "[call] WHAT: DETAIL, N ms" under -v, as a brokered call ends. */
void sup_show_call(run_ctx *r, const char *what, const char *detail, long long ms)
{
    if (!sup_may_show(r, strlen(what) + strlen(detail) + 32)) return;
    sup_end_stream(r);
    char line[420];
    snprintf(line, sizeof line, "%s: %s, %lld ms\n", what, detail, ms);
    show(&r->opt->progress, "\033[2m", "[call] %s", line, NULL);
}

void sup_show_stage(run_ctx *r, const char *stage)
{
    if (sup_may_show(r, stage ? strlen(stage) : 0)) {
        sup_end_stream(r);
        show(&r->opt->progress, "\033[36m", "stage: %s\n", stage, NULL);
    }
}
