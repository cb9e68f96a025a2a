/*
 * ck_specs.c - steps of Specifications (TAC703, TAC704).
 *
 * A step must match a built-in pattern (full string, case-insensitive,
 * first registered wins) or a custom Step("text", fn) declared in the file.
 * Scenario Outline steps are checked once per Examples row, with the row's
 * values substituted, because that is the text the runner will match.
 */
#include <string.h>

#include "ck_internal.h"

static bool custom_step_exists(const fe_file *f, const char *text)
{
    for (const fe_custom_step *s = f->custom_steps; s; s = s->next)
        if (strcmp(s->text, text) == 0) return true;
    return false;
}

/* An agent declared anywhere in the file (ck_names.c), or written as v0.10
 * named its global (the Greeter agent for greeter). */
static bool agent_declared(ck_run *r, const char *name, size_t len)
{
    char buf[256];
    if (len < sizeof buf) {
        memcpy(buf, name, len);
        buf[len] = '\0';
        const ck_name *n = ck_names_get(&r->names, buf);
        if (n && (n->kind == CK_NAME_AGENT || n->kind == CK_NAME_MODEL)) return true;
    }
    for (const fe_agent *a = r->f->agents; a; a = a->next)
        if (ck_capitalized_as(a->name, name, len)) return true;
    return false;
}

static void check_step_text(ck_run *r, const fe_step *st, const char *text, bool *reported)
{
    if (*reported || custom_step_exists(r->f, text)) return;
    ck_step_match_result m;
    if (ck_step_match(r->ck, text, strlen(text), &m)) {
        size_t n;
        const ck_step_info *info = ck_steps(&n);
        bool names_agent = strncmp(info[m.index].template, "the agent \"{agent}\"", 19) == 0 ||
                           strstr(info[m.index].template, "{agent} agent") != NULL;
        for (size_t i = 0; names_agent && i < m.n_groups; i++) {
            if (strcmp(m.groups[i].name, "agent") != 0) continue;
            const char *a = text + m.groups[i].start;
            if (!agent_declared(r, a, m.groups[i].len)) {
                ck_report(r, "TAC704", st->span,
                          "this step names agent '%.*s', which this file does not declare; the "
                          "mocked turn will never be used",
                          (int)m.groups[i].len, a);
                *reported = true;
            }
        }
        return;
    }
    *reported = true;
    const char *near = ck_step_nearest(r->ck, text);
    const char *custom_near = NULL;
    for (const fe_custom_step *s = r->f->custom_steps; s; s = s->next)
        if (tx_str_ieq(s->text, text)) custom_near = s->text;
    if (custom_near) {
        ck_report(r, "TAC703", st->span,
                  "undefined step '%s'; custom steps match exactly, and the Step '%s' "
                  "differs only in letter case",
                  text, custom_near);
        return;
    }
    bool quotes = strchr(text, '"') != NULL;
    ck_report(r, "TAC703", st->span,
              "undefined step '%s': it matches no built-in step and no custom Step; the "
              "nearest built-in step is '%s' (or declare Step(%s%s%s, function(ctx) ... end))",
              text, near ? near : "", quotes ? "[[" : "\"", text, quotes ? "]]" : "\"");
}

void ck_rule_specs(ck_run *r)
{
    tx_buf b;
    tx_buf_init(&b, 1 << 16);
    for (const fe_spec *sp = r->f->specs; sp; sp = sp->next) {
        for (const fe_scenario *sc = sp->scenarios; sc; sc = sc->next) {
            for (const fe_step *st = sc->steps; st; st = st->next) {
                bool reported = false;
                if (sc->kind == FE_OUTLINE && sc->example_rows && strchr(st->text, '<')) {
                    for (const fe_example_row *row = sc->example_rows; row && !reported;
                         row = row->next) {
                        fe_outline_substitute(sc, row, st->text, &b);
                        check_step_text(r, st, b.data ? b.data : "", &reported);
                    }
                } else {
                    check_step_text(r, st, st->text, &reported);
                }
            }
        }
    }
    tx_buf_free(&b);
}
