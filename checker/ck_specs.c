/*
 * ck_specs.c - steps of Specifications (TAC703, TAC704, TAC705).
 *
 * A step must match a built-in pattern (full string, case-insensitive,
 * first registered wins) or a custom Step("text", fn) declared in the file.
 * Scenario Outline steps are checked once per Examples row, with the row's
 * values substituted, because that is the text the runner will match.
 *
 * A matched step that names an input, output, state key, agent or tool
 * the file does not declare could never pass (or its mock never be
 * used): reported with the nearest declared name. Agents and tools count
 * wherever the file declares them (ck_names.c: inside functions, v0.10
 * forms, a toolset's tools by full and short name, v0.10's capitalised
 * agent globals). A kind the file leaves open (no literal schema, a
 * dynamic state key, toolsets of unknown tools) is not judged.
 */
#include <string.h>

#include "ck_internal.h"

static bool custom_step_exists(const fe_file *f, const char *text)
{
    for (const fe_custom_step *s = f->custom_steps; s; s = s->next)
        if (strcmp(s->text, text) == 0) return true;
    return false;
}

/* ---- names in steps (TAC704, TAC705) ---------------------------------------------------- */

/* What a step's captured name refers to. */
typedef enum { NAME_NONE, NAME_INPUT, NAME_OUTPUT, NAME_STATE, NAME_AGENT, NAME_TOOL } name_kind;

static const char *const kind_words[] = {"", "input", "output", "state key", "agent", "tool"};

/* The kind of the name a pattern's group captures, from the step's template
 * (the library's own wording, ck_steps.c). */
static name_kind group_kind(const char *template, const char *group)
{
    if (!strcmp(group, "agent")) return NAME_AGENT;
    if (!strcmp(group, "tool")) return NAME_TOOL;
    if (!strcmp(group, "param")) return strstr(template, "parameter is") ? NAME_INPUT : NAME_NONE;
    if (strcmp(group, "key") != 0) return NAME_NONE;
    if (!strncmp(template, "the input ", 10)) return NAME_INPUT;
    if (!strncmp(template, "the output ", 11)) return NAME_OUTPUT;
    if (!strncmp(template, "the state ", 10)) return NAME_STATE;
    return NAME_NONE;
}

/* The names a file declares, per kind; `known` false where the file leaves
 * the set open (no literal schema, a dynamic state key, MCP toolsets), so
 * nothing is reported for that kind. */
typedef struct {
    const char *names[256];
    size_t n;
    bool known;
} name_set;

static void set_add(name_set *s, const char *name)
{
    if (!name || s->n >= sizeof s->names / sizeof s->names[0]) return;
    for (size_t i = 0; i < s->n; i++)
        if (!strcmp(s->names[i], name)) return;
    s->names[s->n++] = name;
}

static bool set_has(const name_set *s, const char *name, size_t len)
{
    for (size_t i = 0; i < s->n; i++)
        if (strlen(s->names[i]) == len && !strncmp(s->names[i], name, len)) return true;
    return false;
}

static void set_schema(name_set *s, const fe_schema *sc)
{
    s->known = sc->present && sc->value && sc->value->kind == FE_TABLE;
    for (const fe_field *fd = sc->fields; fd; fd = fd->next) set_add(s, fd->name);
}

typedef struct {
    name_set sets[NAME_TOOL + 1];
    bool built;
} step_names;

static const fe_procedure *main_of(const fe_file *f)
{
    for (const fe_procedure *p = f->procedures; p; p = p->next)
        if (!p->named) return p;
    return NULL;
}

static void build_names(const fe_file *f, step_names *sn)
{
    memset(sn, 0, sizeof *sn);
    sn->built = true;
    const fe_procedure *main = main_of(f);
    if (main) {
        set_schema(&sn->sets[NAME_INPUT], &main->input);
        set_schema(&sn->sets[NAME_OUTPUT], &main->output);
        set_schema(&sn->sets[NAME_STATE], &main->state);
    } else {
        set_schema(&sn->sets[NAME_INPUT], &f->script_input);
        set_schema(&sn->sets[NAME_OUTPUT], &f->script_output);
    }
    /* State keys: the schema's, and every literal key the code uses
     * (State.set("k", v), state.k = v); one dynamic key leaves them open. */
    name_set *st = &sn->sets[NAME_STATE];
    st->known = true;
    for (const fe_ref *ref = f->refs; ref; ref = ref->next) {
        if (!strncmp(ref->name, "state.", 6)) {
            set_add(st, ref->name + 6);
        } else if (!strcmp(ref->name, "state") && !ref->is_call) {
            st->known = false; /* state[k], pairs(state), local s = state */
        } else if (!strncmp(ref->name, "State.", 6) && ref->call) {
            const fe_value *k = fe_value_at(ref->call, 0);
            if (k && k->kind == FE_STRING)
                set_add(st, k->str);
            else if (k && strcmp(ref->name, "State.all") && strcmp(ref->name, "State.clear"))
                st->known = false;
        }
    }
    name_set *ag = &sn->sets[NAME_AGENT];
    ag->known = true;
    for (const fe_agent *a = f->agents; a; a = a->next) set_add(ag, a->name);
    name_set *tl = &sn->sets[NAME_TOOL];
    tl->known = true;
    for (const fe_tool *t = f->tools; t; t = t->next) {
        set_add(tl, t->name);
        if (t->kind == FE_TOOL_TOOLSET) tl->known = false; /* its tools are its own (or an MCP server's) */
        if (t->kind == FE_TOOL_STDLIB) set_add(tl, "done");
    }
    set_add(tl, "done"); /* the stdlib's, mockable without a binding */
    for (const fe_ref *ref = f->refs; ref && tl->known; ref = ref->next)
        if (!strncmp(ref->name, "mcp.", 4)) tl->known = false; /* SERVER_TOOL: the server's */
    for (const fe_agent *a = f->agents; a; a = a->next)
        if (fe_value_get(a->config, "inline_tools") || fe_value_get(a->config, "toolsets"))
            tl->known = false;
}

/* The place of group g of the step's text in the .tac file, when the text
 * is there verbatim (a [[...]] string); else the whole step. */
static tx_span group_span(const fe_file *f, const fe_step *st, const char *text, size_t start,
                          size_t len)
{
    size_t at = st->span.start_byte + start;
    if (text == st->text && at + len <= st->span.end_byte && at + len <= f->len &&
        !memcmp(f->src + at, text + start, len))
        return tx_span_of_bytes(f->src, f->len, at, at + len);
    return st->span;
}

/* An agent declared anywhere in the file (ck_names.c: inside functions,
 * v0.10 forms), or written as v0.10 named its global (the Greeter agent
 * for greeter). */
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

/* A tool or toolset declared anywhere in the file, a toolset's tool by its
 * full name (orders_lookup) or its short one (lookup) (ck_names.c). */
static bool tool_declared(ck_run *r, const char *name, size_t len)
{
    char buf[256];
    if (len >= sizeof buf) return false;
    memcpy(buf, name, len);
    buf[len] = '\0';
    const ck_name *n = ck_names_get(&r->names, buf);
    return n && (n->kind == CK_NAME_TOOL || n->kind == CK_NAME_TOOLSET);
}

/* Checks the names a matched step captures; true when it reported one. */
static bool check_step_names(ck_run *r, const fe_step *st, const char *text,
                             const ck_step_match_result *m, step_names *sn)
{
    size_t n;
    const ck_step_info *info = ck_steps(&n);
    const char *template = info[m->index].template;
    for (size_t i = 0; i < m->n_groups; i++) {
        name_kind k = group_kind(template, m->groups[i].name);
        const char *name = text + m->groups[i].start;
        size_t len = m->groups[i].len;
        if (k == NAME_NONE || len == 0 || memchr(name, '<', len)) continue;
        if (k == NAME_AGENT && agent_declared(r, name, len)) continue;
        if (k == NAME_TOOL && tool_declared(r, name, len)) continue;
        if (!sn->built) build_names(r->f, sn);
        const name_set *set = &sn->sets[k];
        if (!set->known || set_has(set, name, len)) continue;
        char word[128];
        snprintf(word, sizeof word, "%.*s", (int)(len < 127 ? len : 127), name);
        const char *near = ck_nearest_name(word, set->names, set->n);
        if (k == NAME_AGENT) {
            /* the wording the language server's fix reads: "names agent '...'" */
            ck_report(r, "TAC704", st->span,
                      "this step names agent '%s', which this file does not declare%s%s%s; the "
                      "mocked turn would never be used",
                      word, near ? " (did you mean '" : "", near ? near : "", near ? "'?)" : "");
        } else if (strstr(template, " not ")) {
            /* "should not be/be called": it holds whatever the procedure
             * does (an undeclared output is dropped at run time, issue 18),
             * so it is either a typo or a test that the name stays absent. */
            ck_report_as(r, "TAC705", TX_SEV_WARNING,
                         group_span(r->f, st, text, m->groups[i].start, len),
                         "this step names %s '%s', which this file does not declare%s%s%s; "
                         "being negative, it passes whatever the procedure does",
                         kind_words[k], word, near ? " (did you mean '" : "", near ? near : "",
                         near ? "'?)" : "");
        } else {
            ck_report(r, "TAC705", group_span(r->f, st, text, m->groups[i].start, len),
                      "this step names %s '%s', which this file does not declare%s%s%s; the "
                      "step could never pass",
                      kind_words[k], word, near ? " (did you mean '" : "", near ? near : "",
                      near ? "'?)" : "");
        }
        return true;
    }
    return false;
}

static void check_step_text(ck_run *r, const fe_step *st, const char *text, bool *reported,
                            step_names *sn)
{
    if (*reported || custom_step_exists(r->f, text)) return;
    ck_step_match_result m;
    if (ck_step_match(r->ck, text, strlen(text), &m)) {
        *reported = check_step_names(r, st, text, &m, sn);
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
    step_names sn = {.built = false};
    for (const fe_spec *sp = r->f->specs; sp; sp = sp->next) {
        for (const fe_scenario *sc = sp->scenarios; sc; sc = sc->next) {
            for (const fe_step *st = sc->steps; st; st = st->next) {
                bool reported = false;
                if (sc->kind == FE_OUTLINE && sc->example_rows && strchr(st->text, '<')) {
                    for (const fe_example_row *row = sc->example_rows; row && !reported;
                         row = row->next) {
                        fe_outline_substitute(sc, row, st->text, &b);
                        check_step_text(r, st, b.data ? b.data : "", &reported, &sn);
                    }
                } else {
                    check_step_text(r, st, st->text, &reported, &sn);
                }
            }
        }
    }
    tx_buf_free(&b);
}
