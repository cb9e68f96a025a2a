/*
 * fe_specs.c - the Gherkin inside Specifications([[...]]).
 *
 * The gherkin parser runs over the whole .tac buffer with its included range
 * set to the string's content, so every node position is a .tac position and
 * diagnostics need no offset arithmetic.
 */
#include <stdio.h>
#include <string.h>

#include "fe_internal.h"

typedef struct {
    TSSymbol feature, rule, background, scenario, scenario_outline, examples, tags, tag, step,
        step_keyword, step_text, doc_string, doc_string_content, data_table, table_row,
        table_cell, title, keyword, comment, description;
    TSFieldId f_tags, f_keyword, f_name, f_text, f_argument, f_content, f_table;
} gk_syms;

static TSSymbol sym(const TSLanguage *l, const char *name)
{
    return ts_language_symbol_for_name(l, name, (uint32_t)strlen(name), true);
}

static TSFieldId fld(const TSLanguage *l, const char *name)
{
    return ts_language_field_id_for_name(l, name, (uint32_t)strlen(name));
}

static void gk_syms_init(gk_syms *g)
{
    const TSLanguage *l = tree_sitter_gherkin();
    g->feature = sym(l, "feature");
    g->rule = sym(l, "rule");
    g->background = sym(l, "background");
    g->scenario = sym(l, "scenario");
    g->scenario_outline = sym(l, "scenario_outline");
    g->examples = sym(l, "examples");
    g->tags = sym(l, "tags");
    g->tag = sym(l, "tag");
    g->step = sym(l, "step");
    g->step_keyword = sym(l, "step_keyword");
    g->step_text = sym(l, "step_text");
    g->doc_string = sym(l, "doc_string");
    g->doc_string_content = sym(l, "doc_string_content");
    g->data_table = sym(l, "data_table");
    g->table_row = sym(l, "table_row");
    g->table_cell = sym(l, "table_cell");
    g->title = sym(l, "title");
    g->keyword = sym(l, "keyword");
    g->comment = sym(l, "comment");
    g->description = sym(l, "description");
    g->f_tags = fld(l, "tags");
    g->f_keyword = fld(l, "keyword");
    g->f_name = fld(l, "name");
    g->f_text = fld(l, "text");
    g->f_argument = fld(l, "argument");
    g->f_content = fld(l, "content");
    g->f_table = fld(l, "table");
}

typedef struct {
    fe_parser *p;
    gk_syms g;
    fe_spec *spec;
    fe_scenario *tail;
} gk_walk;

/* The texts of parent's children of kind `sym` (tags, table cells). */
static const char **child_texts(gk_walk *w, TSNode parent, TSSymbol sym, size_t *n)
{
    uint32_t count = ts_node_named_child_count(parent);
    const char **out = fe_alloc(w->p, (count + 1) * sizeof *out);
    *n = 0;
    if (!out) return NULL;
    TSNode c;
    fe_ts_iter it = fe_ts_iter_start(parent);
    while (fe_ts_iter_next(&it, &c) && *n < count)
        if (ts_node_symbol(c) == sym) out[(*n)++] = fe_ts_text(w->p, c);
    fe_ts_iter_done(&it);
    return out;
}

static const char **collect_tags(gk_walk *w, TSNode owner, size_t *n)
{
    TSNode tags = ts_node_child_by_field_id(owner, w->g.f_tags);
    *n = 0;
    if (ts_node_is_null(tags)) return NULL;
    return child_texts(w, tags, w->g.tag, n);
}

static const char *title_of(gk_walk *w, TSNode owner, tx_span *span)
{
    TSNode name = ts_node_child_by_field_id(owner, w->g.f_name);
    if (ts_node_is_null(name)) {
        TSNode kw = ts_node_child_by_field_id(owner, w->g.f_keyword);
        *span = fe_ts_span(ts_node_is_null(kw) ? owner : kw);
        return "";
    }
    *span = fe_ts_span(name);
    return fe_ts_text(w->p, name);
}

/* Strips the common indentation of a doc string, as Gherkin does relative to
 * the opening delimiter's column. */
static const char *doc_string_text(gk_walk *w, TSNode doc)
{
    TSNode content = ts_node_child_by_field_id(doc, w->g.f_content);
    if (ts_node_is_null(content)) return "";
    uint32_t indent = ts_node_start_point(doc).column;
    const char *s = w->p->file->src + ts_node_start_byte(content);
    size_t n = ts_node_end_byte(content) - ts_node_start_byte(content);
    char *out = fe_alloc(w->p, n + 1);
    if (!out) return "";
    size_t o = 0, i = 0;
    /* The content node may start at its first line's text or at the start
     * of that line (the grammar's scanner decides); strip it in both cases. */
    bool at_line_start = ts_node_start_point(content).column < indent;
    while (i < n) {
        if (at_line_start) {
            uint32_t k = 0;
            while (k < indent && i < n && (s[i] == ' ' || s[i] == '\t')) i++, k++;
            at_line_start = false;
            continue;
        }
        char c = s[i++];
        if (c == '\r') continue;
        out[o++] = c;
        if (c == '\n') at_line_start = true;
    }
    while (o > 0 && (out[o - 1] == '\n' || out[o - 1] == ' ')) o--;
    out[o] = '\0';
    return out;
}

static const char **row_cells(gk_walk *w, TSNode row, size_t *n)
{
    return child_texts(w, row, w->g.table_cell, n);
}

/* The rows of a step's data table, in order; *n counts them. */
static fe_example_row *table_rows(gk_walk *w, TSNode table, size_t *n)
{
    fe_example_row *head = NULL, *tail = NULL;
    *n = 0;
    TSNode r;
    fe_ts_iter it = fe_ts_iter_start(table);
    while (!w->p->oom && fe_ts_iter_next(&it, &r)) {
        if (ts_node_symbol(r) != w->g.table_row) continue;
        fe_example_row *row = fe_alloc(w->p, sizeof *row);
        if (!row) break;
        row->cells = row_cells(w, r, &row->n_cells);
        row->span = fe_ts_span(r);
        if (tail)
            tail->next = row;
        else
            head = row;
        tail = row;
        (*n)++;
    }
    fe_ts_iter_done(&it);
    return head;
}

static void add_step(gk_walk *w, fe_scenario *sc, fe_step **tail, TSNode st)
{
    TSNode kw = ts_node_child_by_field_id(st, w->g.f_keyword);
    TSNode text = ts_node_child_by_field_id(st, w->g.f_text);
    if (ts_node_is_null(kw) || ts_node_is_null(text)) return;
    fe_step *step = fe_alloc(w->p, sizeof *step);
    if (!step) return;
    step->keyword = fe_ts_text(w->p, kw);
    step->keyword_span = fe_ts_span(kw);
    step->text = fe_ts_text(w->p, text);
    step->span = fe_ts_span(text);
    TSNode arg = ts_node_child_by_field_id(st, w->g.f_argument);
    if (!ts_node_is_null(arg)) {
        if (ts_node_symbol(arg) == w->g.doc_string)
            step->doc_string = doc_string_text(w, arg);
        else if (ts_node_symbol(arg) == w->g.data_table)
            step->table = table_rows(w, arg, &step->table_rows);
    }
    if (*tail)
        (*tail)->next = step;
    else
        sc->steps = step;
    *tail = step;
    sc->n_steps++;
}

static void add_examples(gk_walk *w, fe_scenario *sc, TSNode ex)
{
    TSNode table = ts_node_child_by_field_id(ex, w->g.f_table);
    if (ts_node_is_null(table)) return;
    /* The first row is the header (a later Examples table reuses the first
     * header: the runner substitutes by it). */
    size_t n;
    fe_example_row *rows = table_rows(w, table, &n);
    if (!rows) return;
    if (!sc->example_header) {
        sc->example_header = rows->cells;
        sc->n_header = rows->n_cells;
    }
    fe_example_row **tail = &sc->example_rows;
    while (*tail) tail = &(*tail)->next;
    *tail = rows->next;
    sc->n_example_rows += n - 1;
}

static void add_scenario(gk_walk *w, TSNode node, fe_scenario_kind kind, const char *rule)
{
    fe_scenario *sc = fe_alloc(w->p, sizeof *sc);
    if (!sc) return;
    sc->kind = kind;
    sc->rule = rule;
    sc->span = fe_ts_span(node);
    sc->name = title_of(w, node, &sc->name_span);
    sc->tags = collect_tags(w, node, &sc->n_tags);
    fe_step *tail = NULL;
    TSNode c;
    fe_ts_iter it = fe_ts_iter_start(node);
    while (!w->p->oom && fe_ts_iter_next(&it, &c)) {
        TSSymbol t = ts_node_symbol(c);
        if (t == w->g.step)
            add_step(w, sc, &tail, c);
        else if (t == w->g.examples)
            add_examples(w, sc, c);
    }
    fe_ts_iter_done(&it);
    if (w->tail)
        w->tail->next = sc;
    else
        w->spec->scenarios = sc;
    w->tail = sc;
    w->spec->n_scenarios++;
}

static void walk_container(gk_walk *w, TSNode node, const char *rule)
{
    TSNode c;
    fe_ts_iter it = fe_ts_iter_start(node);
    while (!w->p->oom && fe_ts_iter_next(&it, &c)) {
        TSSymbol t = ts_node_symbol(c);
        if (t == w->g.background)
            add_scenario(w, c, FE_BACKGROUND, rule);
        else if (t == w->g.scenario)
            add_scenario(w, c, FE_SCENARIO, rule);
        else if (t == w->g.scenario_outline)
            add_scenario(w, c, FE_OUTLINE, rule);
        else if (t == w->g.rule && !rule) {
            tx_span sp;
            walk_container(w, c, title_of(w, c, &sp));
        }
    }
    fe_ts_iter_done(&it);
}

static bool starts_with_word(const char *s, size_t n, const char *w)
{
    size_t k = strlen(w);
    return n >= k && strncmp(s, w, k) == 0 && (n == k || s[k] == ' ' || s[k] == ':');
}

/* What a line that failed to parse probably needed. */
static const char *gherkin_hint(const char *s, size_t n, int shown)
{
    static _Thread_local char buf[512];
    static const char *const steps[] = {"Given", "When", "Then", "And", "But", "*"};
    for (size_t i = 0; i < 6; i++)
        if (starts_with_word(s, n, steps[i])) {
            snprintf(buf, sizeof buf,
                     "the step '%.*s' is outside any scenario; steps belong to a 'Scenario:', "
                     "'Scenario Outline:' or 'Background:': add 'Scenario: <name>' above it",
                     shown, s);
            return buf;
        }
    if (n && s[0] == '|')
        snprintf(buf, sizeof buf,
                 "the table row '%.*s' follows neither a step nor 'Examples:'; put data tables "
                 "right under the step or Examples line they belong to",
                 shown, s);
    else if (n >= 3 && (strncmp(s, "\"\"\"", 3) == 0 || strncmp(s, "```", 3) == 0))
        snprintf(buf, sizeof buf,
                 "a doc string (%.3s) must directly follow a step and be closed by the same "
                 "delimiter",
                 s);
    else
        snprintf(buf, sizeof buf,
                 "unexpected '%.*s'; expected 'Feature:' first, then 'Background:', 'Scenario:', "
                 "'Scenario Outline:' or 'Rule:' blocks whose lines are steps starting with "
                 "Given, When, Then, And or But",
                 shown, s);
    return buf;
}

/* Reports ERROR and MISSING nodes of the Gherkin tree, iteratively. */
static void report_gherkin_errors(gk_walk *w, TSNode root)
{
    fe_file *f = w->p->file;
    TSTreeCursor c = ts_tree_cursor_new(root);
    int reported = 0;
    for (;;) {
        TSNode n = ts_tree_cursor_current_node(&c);
        bool descend = true;
        if (ts_node_is_missing(n)) {
            tx_diag_add(&f->diags, "TAC701", TX_SEV_ERROR, fe_ts_span(n),
                        "Gherkin syntax error: missing %s here; add it",
                        ts_node_type(n));
            reported++;
            descend = false;
        } else if (fe_node_is_error(n)) {
            uint32_t s = ts_node_start_byte(n), e = ts_node_end_byte(n);
            size_t le = s;
            while (le < e && f->src[le] != '\n' && f->src[le] != '\r') le++;
            size_t shown = le - s > 60 ? 60 : le - s;
            tx_diag_add(&f->diags, "TAC701", TX_SEV_ERROR,
                        tx_span_of_bytes(f->src, f->len, s, le), "Gherkin syntax error: %s",
                        gherkin_hint(f->src + s, le - s, (int)shown));
            reported++;
            descend = false;
        }
        if (reported >= 20) break;
        if (descend && ts_node_has_error(n) && ts_tree_cursor_goto_first_child(&c)) continue;
        bool moved = false;
        while (!moved) {
            if (ts_tree_cursor_goto_next_sibling(&c))
                moved = true;
            else if (!ts_tree_cursor_goto_parent(&c))
                break;
        }
        if (!moved) break;
    }
    ts_tree_cursor_delete(&c);
}

void fe_parse_spec(fe_parser *p, const fe_value *arg, tx_span call_span)
{
    fe_file *f = p->file;
    if (!arg || arg->kind != FE_STRING) {
        tx_span sp = arg ? arg->span : call_span;
        tx_diag_add(&f->diags, "TAC702", TX_SEV_ERROR, sp,
                    "Specifications expects one Gherkin string, got %s; write "
                    "Specifications([[ Feature: ... ]]) with the text inline",
                    fe_value_kind_name(arg));
        return;
    }
    fe_spec *spec = fe_alloc(p, sizeof *spec);
    if (!spec) return;
    spec->span = call_span;
    spec->content = arg->content;
    gk_walk w = {.p = p, .spec = spec};
    gk_syms_init(&w.g);

    TSRange range = {
        {arg->content.start.row, arg->content.start.column},
        {arg->content.end.row, arg->content.end.column},
        arg->content.start_byte,
        arg->content.end_byte,
    };
    TSParser *gp = p->ctx->gherkin_parser;
    TSTree *tree = NULL;
    /* The same string as in the last parse of this document: its tree. */
    if (p->reuse && arg->content.end_byte > arg->content.start_byte)
        tree = fe_reuse_take_gherkin(p->reuse, f->src, arg->content);
    if (!tree && arg->content.end_byte > arg->content.start_byte &&
        ts_parser_set_included_ranges(gp, &range, 1)) {
        tree = ts_parser_parse_string(gp, NULL, f->src, (uint32_t)f->len);
    }
    if (tree) {
        TSNode root = ts_tree_root_node(tree);
        if (ts_node_has_error(root)) report_gherkin_errors(&w, root);
        TSNode c;
        fe_ts_iter it = fe_ts_iter_start(root);
        while (fe_ts_iter_next(&it, &c)) {
            if (ts_node_symbol(c) != w.g.feature || spec->feature_name) continue;
            spec->feature_name = title_of(&w, c, &spec->feature_span);
            spec->feature_tags = collect_tags(&w, c, &spec->n_feature_tags);
            walk_container(&w, c, NULL);
        }
        fe_ts_iter_done(&it);
        if (p->reuse)
            fe_reuse_keep_gherkin(p->reuse, f->src, arg->content, tree);
        else
            ts_tree_delete(tree);
    }
    ts_parser_set_included_ranges(gp, NULL, 0);
    if (!spec->feature_name) {
        tx_diag_add(&f->diags, "TAC701", TX_SEV_ERROR, arg->span,
                    "Gherkin syntax error: the specification has no 'Feature:' line; start the "
                    "text with 'Feature: <name>' followed by scenarios");
        spec->feature_name = "";
        spec->feature_span = arg->span;
    }
    *p->tail_specs = spec;
    p->tail_specs = &spec->next;
}

void fe_outline_substitute(const fe_scenario *sc, const fe_example_row *row, const char *text,
                           tx_buf *out)
{
    tx_buf_clear(out);
    for (const char *p = text; *p;) {
        if (*p == '<' && row) {
            const char *close = strchr(p, '>');
            bool done = false;
            for (size_t i = 0; close && i < sc->n_header && i < row->n_cells; i++) {
                size_t hl = strlen(sc->example_header[i]);
                if ((size_t)(close - p - 1) == hl && strncmp(p + 1, sc->example_header[i], hl) == 0) {
                    tx_buf_puts(out, row->cells[i]);
                    p = close + 1;
                    done = true;
                    break;
                }
            }
            if (done) continue;
        }
        tx_buf_append(out, p, 1);
        p++;
    }
}
