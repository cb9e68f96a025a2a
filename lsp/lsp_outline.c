/*
 * lsp_outline.c - document and workspace symbols, folding ranges and
 * selection ranges.
 *
 * Symbols come from the declaration model (procedures with their schema
 * fields, agents, tools, toolsets, models, the Specifications' features
 * and scenarios, custom steps, evaluations, mocks); folding and selection
 * from the tree-sitter tree, with the Gherkin structure (feature, scenario,
 * step) from the model inside Specifications strings.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lsp_internal.h"

/* LSP SymbolKind numbers. */
enum {
    SK_MODULE = 2,
    SK_NAMESPACE = 3,
    SK_CLASS = 5,
    SK_METHOD = 6,
    SK_FIELD = 8,
    SK_FUNCTION = 12,
    SK_VARIABLE = 13,
    SK_OBJECT = 19,
    SK_KEY = 20,
    SK_STRUCT = 23,
    SK_EVENT = 24,
};

int lsp_symbol_kind_number(lsp_sym_kind k)
{
    switch (k) {
    case LSP_SYM_PROCEDURE:
        return SK_FUNCTION;
    case LSP_SYM_AGENT:
        return SK_CLASS;
    case LSP_SYM_TOOL:
        return SK_METHOD;
    case LSP_SYM_STDLIB_TOOL:
        return SK_METHOD;
    case LSP_SYM_TOOLSET:
        return SK_MODULE;
    case LSP_SYM_MODEL:
        return SK_STRUCT;
    case LSP_SYM_FIELD:
        return SK_FIELD;
    case LSP_SYM_STEP:
        return SK_KEY;
    case LSP_SYM_LOCAL:
    case LSP_SYM_GLOBAL:
        return SK_VARIABLE;
    case LSP_SYM_SCENARIO:
        return SK_EVENT;
    }
    return SK_VARIABLE;
}

/* ---- document symbols
 * -------------------------------------------------------------------------------- */

typedef struct {
    lsp_server *s;
    lsp_doc *d;
    const lsp_analysis *a;
    lsp_view v;
    bool flat;
    cJSON *flat_out; /* SymbolInformation[] for clients without hierarchy */
} outline;

/* A DocumentSymbol for span/name_span of the model, mapped; NULL when the
 * text there changed since. */
static cJSON *doc_symbol(outline *o, const char *name, int kind, const char *detail, tx_span span,
                         tx_span name_span, cJSON *parent_children, const char *container)
{
    uint32_t s = span.start_byte, e = span.end_byte;
    uint32_t ns = name_span.start_byte, ne = name_span.end_byte;
    if (!lsp_doc_map(o->d, &s, &e)) return NULL;
    if (!lsp_doc_map(o->d, &ns, &ne) || ns < s || ne > e) ns = ne = s;
    if (o->flat) {
        cJSON *si = cJSON_CreateObject();
        cJSON_AddStringToObject(si, "name", name && name[0] ? name : "(unnamed)");
        cJSON_AddNumberToObject(si, "kind", kind);
        cJSON *loc = cJSON_AddObjectToObject(si, "location");
        cJSON_AddStringToObject(loc, "uri", o->d->uri);
        lsp_add(loc, "range", lsp_json_range(&o->v, s, e));
        if (container) cJSON_AddStringToObject(si, "containerName", container);
        lsp_push(o->flat_out, si);
        return si;
    }
    cJSON *ds = cJSON_CreateObject();
    cJSON_AddStringToObject(ds, "name", name && name[0] ? name : "(unnamed)");
    if (detail) cJSON_AddStringToObject(ds, "detail", detail);
    cJSON_AddNumberToObject(ds, "kind", kind);
    lsp_add(ds, "range", lsp_json_range(&o->v, s, e));
    lsp_add(ds, "selectionRange", lsp_json_range(&o->v, ns, ne));
    lsp_push(parent_children, ds);
    return ds;
}

static cJSON *children_of(outline *o, cJSON *sym)
{
    if (o->flat || !sym) return NULL;
    cJSON *c = cJSON_GetObjectItemCaseSensitive(sym, "children");
    return c ? c : cJSON_AddArrayToObject(sym, "children");
}

static void schema_symbols(outline *o, cJSON *parent, const char *owner, const char *what,
                           const fe_schema *sc)
{
    cJSON *ch = children_of(o, parent);
    for (const fe_field *f = sc->fields; f; f = f->next) {
        char detail[96];
        snprintf(detail, sizeof detail, "%s: %s%s", what,
                 f->builder ? f->builder : fe_type_name(f->type), f->required ? ", required" : "");
        tx_span full = f->name_span;
        if (f->decl && f->decl->span.end_byte > full.end_byte)
            full.end_byte = f->decl->span.end_byte;
        doc_symbol(o, f->name, SK_FIELD, detail, full, f->name_span, ch, owner);
    }
}

/* A number member, 0 when absent (after a failed allocation). */
static double num(const cJSON *o, const char *key)
{
    const cJSON *n = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsNumber(n) ? n->valuedouble : 0;
}

static const cJSON *start_of(const cJSON *sym)
{
    const cJSON *r = cJSON_GetObjectItemCaseSensitive(sym, "range");
    if (!r)
        r = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(sym, "location"),
                                             "range");
    return cJSON_GetObjectItemCaseSensitive(r, "start");
}

static int by_start(const void *a, const void *b)
{
    const cJSON *sx = start_of(*(const cJSON *const *)a), *sy = start_of(*(const cJSON *const *)b);
    double lx = num(sx, "line"), ly = num(sy, "line");
    if (lx != ly) return lx < ly ? -1 : 1;
    double cx = num(sx, "character"), cy = num(sy, "character");
    return cx < cy ? -1 : cx > cy;
}

/* Sorts an array of symbols by position (stable output for editors and tests). */
static void sort_symbols(cJSON *arr)
{
    int n = cJSON_GetArraySize(arr);
    if (n < 2) return;
    cJSON **items = tx_malloc((size_t)n * sizeof *items);
    if (!items) return;
    for (int i = 0; i < n; i++)
        items[i] = cJSON_DetachItemFromArray(arr, 0);
    qsort(items, (size_t)n, sizeof *items, by_start);
    for (int i = 0; i < n; i++)
        lsp_push(arr, items[i]);
    tx_free(items);
}

cJSON *lsp_on_document_symbol(lsp_server *s, const cJSON *params, lsp_error *err)
{
    lsp_doc *d = lsp_param_doc(s, params, err);
    if (!d) return NULL;
    cJSON *out = cJSON_CreateArray();
    if (!d->too_large) lsp_doc_analysis(s, d); /* the outline of the current text */
    const lsp_analysis *a = d->too_large ? NULL : lsp_doc_good(s, d);
    if (!a || !a->file) return out;
    outline o = {.s = s,
                 .d = d,
                 .a = a,
                 .v = lsp_doc_view(s, d),
                 .flat = !s->caps.hierarchical_symbols,
                 .flat_out = out};
    const fe_file *f = a->file;
    for (const fe_procedure *p = f->procedures; p; p = p->next) {
        cJSON *sym = doc_symbol(&o, p->name, SK_FUNCTION, p->named ? "procedure" : "main procedure",
                                p->span, p->name_span, out, NULL);
        schema_symbols(&o, sym, p->name, "input", p->script_mode ? &f->script_input : &p->input);
        schema_symbols(&o, sym, p->name, "output", p->script_mode ? &f->script_output : &p->output);
        schema_symbols(&o, sym, p->name, "state", &p->state);
    }
    for (const fe_agent *ag = f->agents; ag; ag = ag->next)
        doc_symbol(&o, ag->name, SK_CLASS, ag->model ? ag->model : "agent", ag->span, ag->name_span,
                   out, NULL);
    for (const fe_tool *t = f->tools; t; t = t->next) {
        int kind = t->kind == FE_TOOL_TOOLSET ? SK_MODULE : SK_METHOD;
        const char *detail = t->kind == FE_TOOL_TOOLSET  ? "toolset"
                             : t->kind == FE_TOOL_STDLIB ? "stdlib tool"
                             : t->use                    ? t->use
                                                         : "tool";
        cJSON *sym = doc_symbol(&o, t->name, kind, detail, t->span, t->name_span, out, NULL);
        schema_symbols(&o, sym, t->name, "input", &t->input);
    }
    const fe_value *seen = NULL;
    for (const fe_model *m = f->models; m; m = m->next) {
        if (m->config == seen) continue; /* a Classify under two names: once */
        seen = m->config;
        doc_symbol(&o, m->name, SK_STRUCT, m->kind == FE_MODEL_CLASSIFY ? "classifier" : "model",
                   m->span, m->name_span, out, NULL);
    }
    for (const fe_custom_step *cs = f->custom_steps; cs; cs = cs->next) {
        char name[300];
        snprintf(name, sizeof name, "Step: %.280s", cs->text);
        doc_symbol(&o, name, SK_KEY, "custom step", cs->span, cs->span, out, NULL);
    }
    for (const fe_spec *sp = f->specs; sp; sp = sp->next) {
        char name[300];
        snprintf(name, sizeof name, "Feature: %.280s", sp->feature_name ? sp->feature_name : "");
        tx_span content = sp->span;
        cJSON *feat = doc_symbol(&o, name, SK_NAMESPACE, "Specifications", content,
                                 sp->feature_span, out, NULL);
        cJSON *ch = children_of(&o, feat);
        for (const fe_scenario *sc = sp->scenarios; sc; sc = sc->next) {
            const char *kw = sc->kind == FE_BACKGROUND ? "Background"
                             : sc->kind == FE_OUTLINE  ? "Scenario Outline"
                                                       : "Scenario";
            snprintf(name, sizeof name, "%s%s%.260s", kw, sc->name[0] ? ": " : "", sc->name);
            doc_symbol(&o, name, SK_EVENT, sc->rule, sc->span, sc->name_span, ch ? ch : out,
                       sp->feature_name);
        }
    }
    for (const fe_evaluation *ev = f->evaluations; ev; ev = ev->next)
        doc_symbol(&o, "Evaluation", SK_OBJECT, "dataset and evaluators", ev->span, ev->span, out,
                   NULL);
    for (const fe_mocks *mk = f->mocks; mk; mk = mk->next)
        doc_symbol(&o, "Mocks", SK_OBJECT, "test doubles", mk->span, mk->span, out, NULL);
    sort_symbols(out);
    return out;
}

cJSON *lsp_on_workspace_symbol(lsp_server *s, const cJSON *params, lsp_error *err)
{
    (void)err;
    const cJSON *q = cJSON_GetObjectItemCaseSensitive(params, "query");
    const char *query = cJSON_IsString(q) ? q->valuestring : "";
    cJSON *out = cJSON_CreateArray();
    size_t ql = strlen(query);
    /* Open documents: the editor's text. */
    for (lsp_doc *d = s->docs; d; d = d->next) {
        lsp_nav *n = d->too_large ? NULL : lsp_nav_get(s, d);
        lsp_view v = lsp_doc_view(s, d);
        for (size_t i = 0; n && i < n->n_syms; i++) {
            const lsp_symbol *y = &n->syms[i];
            if (y->kind == LSP_SYM_LOCAL || !y->has_decl) continue;
            bool match = ql == 0;
            for (const char *p = y->name; !match && *p; p++)
                match = strncasecmp(p, query, ql) == 0;
            if (!match) continue;
            cJSON *si = cJSON_CreateObject();
            cJSON_AddStringToObject(si, "name", y->name);
            cJSON_AddNumberToObject(si, "kind", lsp_symbol_kind_number(y->kind));
            cJSON *loc = cJSON_AddObjectToObject(si, "location");
            cJSON_AddStringToObject(loc, "uri", d->uri);
            lsp_add(loc, "range", lsp_json_range(&v, y->name_start, y->name_end));
            if (y->owner >= 0) cJSON_AddStringToObject(si, "containerName", n->syms[y->owner].name);
            lsp_push(out, si);
        }
        /* the scenarios of its Specifications */
        const lsp_analysis *a = n ? n->model : NULL;
        for (const fe_spec *sp = a && a->file ? a->file->specs : NULL; sp; sp = sp->next)
            for (const fe_scenario *sc = sp->scenarios; sc; sc = sc->next) {
                uint32_t st = sc->name_span.start_byte, en = sc->name_span.end_byte;
                bool match = ql == 0;
                for (const char *p = sc->name; !match && *p; p++)
                    match = strncasecmp(p, query, ql) == 0;
                if (!sc->name[0] || !match || !lsp_doc_map(d, &st, &en)) continue;
                cJSON *si = cJSON_CreateObject();
                cJSON_AddStringToObject(si, "name", sc->name);
                cJSON_AddNumberToObject(si, "kind", SK_EVENT);
                cJSON *loc = cJSON_AddObjectToObject(si, "location");
                cJSON_AddStringToObject(loc, "uri", d->uri);
                lsp_add(loc, "range", lsp_json_range(&v, st, en));
                if (sp->feature_name)
                    cJSON_AddStringToObject(si, "containerName", sp->feature_name);
                lsp_push(out, si);
            }
    }
    lsp_ws_symbols(s, query, out, 2000);
    return out;
}

/* ---- folding
 * --------------------------------------------------------------------------------------------- */

#define LSP_MAX_FOLDS 10000

static void add_fold(cJSON *out, uint32_t start_line, uint32_t end_line, const char *kind)
{
    if (end_line <= start_line || cJSON_GetArraySize(out) >= LSP_MAX_FOLDS) return;
    /* Nested nodes on the same lines (a call and its table) fold once. */
    const cJSON *last = out->child ? out->child->prev : NULL;
    if (last && num(last, "startLine") == start_line && num(last, "endLine") == end_line) return;
    cJSON *f = cJSON_CreateObject();
    cJSON_AddNumberToObject(f, "startLine", start_line);
    cJSON_AddNumberToObject(f, "endLine", end_line);
    if (kind) cJSON_AddStringToObject(f, "kind", kind);
    lsp_push(out, f);
}

static bool foldable(const char *type)
{
    static const char *const kinds[] = {
        "function_definition",
        "function_declaration",
        "table_constructor",
        "if_statement",
        "for_statement",
        "while_statement",
        "do_statement",
        "repeat_statement",
        "string",
        "arguments",
        NULL,
    };
    for (size_t i = 0; kinds[i]; i++)
        if (!strcmp(kinds[i], type)) return true;
    return false;
}

cJSON *lsp_on_folding_range(lsp_server *s, const cJSON *params, lsp_error *err)
{
    lsp_doc *d = lsp_param_doc(s, params, err);
    if (!d) return NULL;
    cJSON *out = cJSON_CreateArray();
    TSTree *tree = lsp_doc_tree(s, d);
    lsp_view v = lsp_doc_view(s, d);
    if (tree) {
        TSTreeCursor c = ts_tree_cursor_new(ts_tree_root_node(tree));
        uint32_t comment_start = 0, comment_end = 0;
        bool in_comments = false;
        for (;;) {
            TSNode n = ts_tree_cursor_current_node(&c);
            const char *type = ts_node_type(n);
            uint32_t sl = lsp_line_of(&v, ts_node_start_byte(n));
            uint32_t el = lsp_line_of(&v, ts_node_end_byte(n));
            bool descend = ts_node_child_count(n) > 0;
            if (!strcmp(type, "comment")) {
                /* A run of line comments (or one long comment) folds as one. */
                if (in_comments && sl <= comment_end + 1) {
                    comment_end = el;
                } else {
                    if (in_comments) add_fold(out, comment_start, comment_end, "comment");
                    in_comments = true;
                    comment_start = sl;
                    comment_end = el;
                }
                descend = false;
            } else if (ts_node_is_named(n) && foldable(type) && el > sl) {
                /* Keep the closing line (end, }, ]]) visible. */
                bool string = !strcmp(type, "string");
                add_fold(out, sl, string ? el : el - 1, string ? "region" : NULL);
            }
            if (descend && ts_tree_cursor_goto_first_child(&c)) continue;
            bool moved = false;
            while (!moved) {
                if (ts_tree_cursor_goto_next_sibling(&c))
                    moved = true;
                else if (!ts_tree_cursor_goto_parent(&c))
                    break;
            }
            if (!moved) break;
        }
        if (in_comments) add_fold(out, comment_start, comment_end, "comment");
        ts_tree_cursor_delete(&c);
    }
    /* Gherkin: features, scenarios, and steps with tables or doc strings. */
    const lsp_analysis *a = d->too_large ? NULL : lsp_doc_good(s, d);
    for (const fe_spec *sp = a && a->file ? a->file->specs : NULL; sp; sp = sp->next)
        for (const fe_scenario *sc = sp->scenarios; sc; sc = sc->next) {
            uint32_t st = sc->span.start_byte, en = sc->span.end_byte;
            if (!lsp_doc_map(d, &st, &en)) continue;
            /* a scenario's span ends at the next one's start: trim blank lines */
            while (en > st &&
                   (d->text[en - 1] == '\n' || d->text[en - 1] == ' ' || d->text[en - 1] == '\r'))
                en--;
            add_fold(out, lsp_line_of(&v, st), lsp_line_of(&v, en), NULL);
        }
    return out;
}

/* ---- selection ranges
 * -------------------------------------------------------------------------------------- */

typedef struct {
    uint32_t s, e;
} span32;

static int by_size(const void *a, const void *b)
{
    const span32 *x = a, *y = b;
    uint32_t lx = x->e - x->s, ly = y->e - y->s;
    if (lx != ly) return lx < ly ? -1 : 1;
    return x->s < y->s ? -1 : x->s > y->s;
}

cJSON *lsp_on_selection_range(lsp_server *s, const cJSON *params, lsp_error *err)
{
    lsp_doc *d = lsp_param_doc(s, params, err);
    if (!d) return NULL;
    const cJSON *positions = cJSON_GetObjectItemCaseSensitive(params, "positions");
    if (!cJSON_IsArray(positions))
        return lsp_fail(err, LSP_INVALID_PARAMS,
                        "params.positions must be an array of {line, character}");
    TSTree *tree = lsp_doc_tree(s, d);
    const lsp_analysis *a = d->too_large ? NULL : lsp_doc_good(s, d);
    lsp_view v = lsp_doc_view(s, d);
    cJSON *out = cJSON_CreateArray();
    const cJSON *pj;
    cJSON_ArrayForEach(pj, positions)
    {
        lsp_pos p;
        if (!lsp_parse_pos(pj, &p)) {
            cJSON_Delete(out);
            return lsp_fail(err, LSP_INVALID_PARAMS,
                            "params.positions[] must be {line, character}");
        }
        uint32_t pos = (uint32_t)lsp_byte_of(&v, p);
        span32 spans[512];
        size_t n = 0;
        for (TSNode x = tree ? lsp_node_at(tree, pos, pos) : (TSNode){0};
             !ts_node_is_null(x) && n < 400; x = ts_node_parent(x))
            spans[n++] = (span32){ts_node_start_byte(x), ts_node_end_byte(x)};
        /* Inside Specifications: step text, step, scenario, feature. */
        for (const fe_spec *sp = a && a->file ? a->file->specs : NULL; sp && n < 500;
             sp = sp->next) {
            uint32_t cs = sp->content.start_byte, ce = sp->content.end_byte;
            if (!lsp_doc_map(d, &cs, &ce) || pos < cs || pos > ce) continue;
            for (const fe_scenario *sc = sp->scenarios; sc && n < 500; sc = sc->next) {
                uint32_t ss = sc->span.start_byte, se = sc->span.end_byte;
                if (!lsp_doc_map(d, &ss, &se) || pos < ss || pos > se) continue;
                while (se > ss && (d->text[se - 1] == '\n' || d->text[se - 1] == ' '))
                    se--;
                spans[n++] = (span32){ss, se};
                for (const fe_step *st = sc->steps; st && n < 500; st = st->next) {
                    uint32_t ks = st->keyword_span.start_byte, ts = st->span.start_byte,
                             te = st->span.end_byte;
                    uint32_t dummy = ks;
                    if (!lsp_doc_map(d, &ks, &dummy) || !lsp_doc_map(d, &ts, &te) || pos < ks ||
                        pos > te)
                        continue;
                    spans[n++] = (span32){ks, te};
                    if (pos >= ts) spans[n++] = (span32){ts, te};
                }
            }
        }
        if (n == 0) spans[n++] = (span32){pos, pos};
        qsort(spans, n, sizeof *spans, by_size);
        /* Innermost first; each next must contain the previous. */
        cJSON *chain = NULL;
        span32 kept[512];
        size_t k = 0;
        for (size_t i = 0; i < n; i++) {
            if (spans[i].s > pos || spans[i].e < pos) continue;
            if (k && (spans[i].s > kept[k - 1].s || spans[i].e < kept[k - 1].e ||
                      (spans[i].s == kept[k - 1].s && spans[i].e == kept[k - 1].e)))
                continue;
            kept[k++] = spans[i];
        }
        for (size_t i = k; i-- > 0;) {
            cJSON *sr = cJSON_CreateObject();
            lsp_add(sr, "range", lsp_json_range(&v, kept[i].s, kept[i].e));
            if (chain) lsp_add(sr, "parent", chain);
            chain = sr;
        }
        lsp_push(out, chain ? chain : cJSON_CreateNull());
    }
    return out;
}
