/*
 * lsp_nav_requests.c - definition, references, rename (with prepareRename)
 * and document highlights, answered from the navigation index (lsp_nav.c)
 * and, for globals shared with closed files, the workspace index.
 */
#include <stdlib.h>
#include <string.h>

#include "lsp_internal.h"

static cJSON *location(const lsp_view *v, const char *uri, uint32_t s, uint32_t e)
{
    cJSON *l = cJSON_CreateObject();
    cJSON_AddStringToObject(l, "uri", uri);
    lsp_add(l, "range", lsp_json_range(v, s, e));
    return l;
}

/* The symbol at the request's position, with its occurrence. */
static const lsp_occurrence *occ_at(lsp_server *s, const cJSON *params, lsp_error *err,
                                    lsp_doc **d_out, lsp_nav **n_out, size_t *pos_out)
{
    lsp_doc *d = lsp_param_doc(s, params, err);
    if (!d) return NULL;
    size_t pos;
    if (!lsp_param_offset(s, d, params, &pos, err)) return NULL;
    *d_out = d;
    *pos_out = pos;
    /* Definition, references and rename act on the current text: analyse
     * it first (hover and completion make do with the last analysis). */
    if (!d->too_large) lsp_doc_analysis(s, d);
    lsp_nav *n = lsp_nav_get(s, d);
    *n_out = n;
    if (!n) return NULL;
    return lsp_nav_at(n, (uint32_t)pos);
}

/* The identifier (or dotted name's root) written at pos, for symbols
 * declared in other files. */
static bool word_char(char c)
{
    return c == '_' || (c >= '0' && c <= '9') || ((c | 32) >= 'a' && (c | 32) <= 'z');
}

static bool word_at(const lsp_doc *d, size_t pos, char *buf, size_t cap)
{
    if (pos > d->len) return false;
    size_t s = pos, e = pos;
    while (s > 0 && word_char(d->text[s - 1]))
        s--;
    while (e < d->len && word_char(d->text[e]))
        e++;
    if (e == s || e - s + 1 > cap || !lsp_is_identifier(d->text + s, e - s)) return false;
    memcpy(buf, d->text + s, e - s);
    buf[e - s] = '\0';
    return true;
}

/* require("x.y") at pos: the .tac module's path, or NULL. */
static char *required_module_at(lsp_server *s, lsp_doc *d, size_t pos)
{
    TSTree *tree = lsp_doc_tree(s, d);
    if (!tree) return NULL;
    TSNode n = lsp_node_at(tree, (uint32_t)pos, (uint32_t)pos);
    while (!ts_node_is_null(n) && !lsp_node_is(n, "string"))
        n = ts_node_parent(n);
    if (ts_node_is_null(n)) return NULL;
    TSNode args = ts_node_parent(n);
    TSNode call = ts_node_parent(args);
    if (!lsp_node_is(args, "arguments") || !lsp_node_is(call, "function_call")) return NULL;
    char name[64];
    if (!lsp_node_dotted(d, ts_node_child_by_field_name(call, "name", 4), name, sizeof name) ||
        strcmp(name, "require") != 0)
        return NULL;
    TSNode content = ts_node_child_by_field_name(n, "content", 7);
    if (ts_node_is_null(content)) return NULL;
    size_t len;
    const char *m = lsp_node_text(d, content, &len);
    return lsp_ws_module_path(d->path, m, len);
}

cJSON *lsp_on_definition(lsp_server *s, const cJSON *params, lsp_error *err)
{
    lsp_doc *d = NULL;
    lsp_nav *n = NULL;
    size_t pos = 0;
    const lsp_occurrence *o = occ_at(s, params, err, &d, &n, &pos);
    if (!d || !n) return NULL;
    lsp_view v = lsp_doc_view(s, d);
    if (o) {
        const lsp_symbol *y = &n->syms[o->sym];
        if (y->has_decl) return location(&v, d->uri, y->name_start, y->name_end);
    }
    char *mod = required_module_at(s, d, pos);
    if (mod) {
        cJSON *l = cJSON_CreateObject();
        char *uri = lsp_path_to_uri(mod);
        cJSON_AddStringToObject(l, "uri", uri ? uri : "");
        cJSON *r = cJSON_AddObjectToObject(l, "range");
        cJSON *a = cJSON_AddObjectToObject(r, "start");
        cJSON_AddNumberToObject(a, "line", 0);
        cJSON_AddNumberToObject(a, "character", 0);
        lsp_add(r, "end", cJSON_Duplicate(a, 1));
        tx_free(uri);
        tx_free(mod);
        return l;
    }
    /* A name this file uses but does not declare: another file's (a
     * sub-procedure or tool of a required .tac, a global it sets). */
    char word[256];
    if (!o && word_at(d, pos, word, sizeof word)) {
        cJSON *arr = cJSON_CreateArray();
        lsp_ws_locations(s, word, true, false, d->path, false, arr);
        if (cJSON_GetArraySize(arr) > 0) return arr;
        cJSON_Delete(arr);
    }
    return cJSON_CreateNull();
}

static bool is_global_kind(lsp_sym_kind k)
{
    return k == LSP_SYM_PROCEDURE || k == LSP_SYM_AGENT || k == LSP_SYM_TOOL ||
           k == LSP_SYM_TOOLSET || k == LSP_SYM_MODEL || k == LSP_SYM_GLOBAL;
}

cJSON *lsp_on_references(lsp_server *s, const cJSON *params, lsp_error *err)
{
    lsp_doc *d = NULL;
    lsp_nav *n = NULL;
    size_t pos = 0;
    const lsp_occurrence *o = occ_at(s, params, err, &d, &n, &pos);
    if (!d || !n) return NULL;
    bool with_decl = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(params, "context"), "includeDeclaration"));
    cJSON *arr = cJSON_CreateArray();
    lsp_view v = lsp_doc_view(s, d);
    char word[256];
    const char *name = NULL;
    bool here = false;
    if (o) {
        const lsp_symbol *y = &n->syms[o->sym];
        for (size_t i = 0; i < n->n_occs; i++) {
            const lsp_occurrence *x = &n->occs[i];
            if (x->sym != o->sym || (x->role == LSP_OCC_DECL && !with_decl)) continue;
            lsp_push(arr, location(&v, d->uri, x->start, x->end));
        }
        if (is_global_kind(y->kind)) name = y->name;
        here = y->has_decl;
    } else if (word_at(d, pos, word, sizeof word)) {
        name = word;
    }
    if (name) lsp_ws_locations(s, name, with_decl, true, d->path, here, arr);
    return arr;
}

static const char *kind_word(lsp_sym_kind k)
{
    switch (k) {
    case LSP_SYM_PROCEDURE:
        return "procedure";
    case LSP_SYM_AGENT:
        return "agent";
    case LSP_SYM_TOOL:
        return "tool";
    case LSP_SYM_TOOLSET:
        return "toolset";
    case LSP_SYM_STDLIB_TOOL:
        return "stdlib tool";
    case LSP_SYM_MODEL:
        return "model";
    case LSP_SYM_FIELD:
        return "field";
    case LSP_SYM_STEP:
        return "custom step";
    case LSP_SYM_LOCAL:
        return "local";
    case LSP_SYM_GLOBAL:
        return "global";
    case LSP_SYM_SCENARIO:
        return "scenario";
    }
    return "symbol";
}

/* Why the thing at pos cannot be renamed, or NULL when it can. */
static const char *rename_refusal(lsp_server *s, lsp_doc *d, const lsp_nav *n,
                                  const lsp_occurrence *o, size_t pos, char *buf, size_t cap)
{
    if (o) {
        const lsp_symbol *y = &n->syms[o->sym];
        if (y->renamable) return NULL;
        if (y->kind == LSP_SYM_STEP)
            return "a custom step's text is not a name; edit the Step and the steps that use it";
        if (y->kind == LSP_SYM_PROCEDURE)
            return "the main procedure has no name to rename (name it: helper = Procedure {...})";
        snprintf(buf, cap, "this %s cannot be renamed", kind_word(y->kind));
        return buf;
    }
    char word[256];
    if (word_at(d, pos, word, sizeof word)) {
        if (lsp_dsl_find(word, strlen(word))) {
            snprintf(buf, cap, "'%s' is part of the Tactus DSL and cannot be renamed", word);
            return buf;
        }
        for (size_t i = 0; lsp_lua_globals[i]; i++)
            if (strcmp(lsp_lua_globals[i], word) == 0) {
                snprintf(buf, cap, "'%s' is a Lua standard global and cannot be renamed", word);
                return buf;
            }
        snprintf(buf, cap, "'%s' is not declared in this file; rename it where it is declared",
                 word);
        return buf;
    }
    (void)s;
    return "nothing to rename here: put the cursor on an agent, tool, procedure, field or local";
}

cJSON *lsp_on_prepare_rename(lsp_server *s, const cJSON *params, lsp_error *err)
{
    lsp_doc *d = NULL;
    lsp_nav *n = NULL;
    size_t pos = 0;
    const lsp_occurrence *o = occ_at(s, params, err, &d, &n, &pos);
    if (!d || !n) return NULL;
    char buf[512];
    const char *why = rename_refusal(s, d, n, o, pos, buf, sizeof buf);
    if (why) return lsp_fail(err, LSP_REQUEST_FAILED, "cannot rename: %s", why);
    lsp_view v = lsp_doc_view(s, d);
    cJSON *r = cJSON_CreateObject();
    lsp_add(r, "range", lsp_json_range(&v, o->start, o->end));
    cJSON_AddStringToObject(r, "placeholder", n->syms[o->sym].name);
    return r;
}

cJSON *lsp_on_rename(lsp_server *s, const cJSON *params, lsp_error *err)
{
    lsp_doc *d = NULL;
    lsp_nav *n = NULL;
    size_t pos = 0;
    const lsp_occurrence *o = occ_at(s, params, err, &d, &n, &pos);
    if (!d || !n) return NULL;
    const cJSON *nn = cJSON_GetObjectItemCaseSensitive(params, "newName");
    if (!cJSON_IsString(nn))
        return lsp_fail(err, LSP_INVALID_PARAMS, "params.newName must be a string");
    char buf[512];
    const char *why = rename_refusal(s, d, n, o, pos, buf, sizeof buf);
    if (why) return lsp_fail(err, LSP_REQUEST_FAILED, "cannot rename: %s", why);
    const char *new_name = nn->valuestring;
    if (!lsp_is_identifier(new_name, strlen(new_name)))
        return lsp_fail(err, LSP_REQUEST_FAILED,
                        "'%.100s' is not a valid name: use letters, digits and _ (not starting "
                        "with a digit) and no Lua keyword",
                        new_name);
    const lsp_symbol *y = &n->syms[o->sym];
    int clash = lsp_nav_find(n, new_name, strlen(new_name));
    if (clash >= 0 && is_global_kind(y->kind) && clash != o->sym)
        return lsp_fail(
            err, LSP_REQUEST_FAILED, "'%s' is already declared in this file (%s at line %u)",
            new_name, kind_word(n->syms[clash].kind),
            lsp_pos_of(&(lsp_view){d->text, d->len, &d->lines, s->enc}, n->syms[clash].name_start)
                    .line +
                1);
    lsp_view v = lsp_doc_view(s, d);
    cJSON *res = cJSON_CreateObject();
    cJSON *changes = cJSON_AddObjectToObject(res, "changes");
    cJSON *edits = cJSON_AddArrayToObject(changes, d->uri);
    for (size_t i = 0; i < n->n_occs; i++) {
        const lsp_occurrence *x = &n->occs[i];
        if (x->sym != o->sym) continue;
        cJSON *e = cJSON_CreateObject();
        lsp_add(e, "range", lsp_json_range(&v, x->start, x->end));
        cJSON_AddStringToObject(e, "newText", new_name);
        lsp_push(edits, e);
    }
    if (is_global_kind(y->kind)) lsp_ws_rename(s, y->name, new_name, d->path, changes);
    return res;
}

cJSON *lsp_on_highlight(lsp_server *s, const cJSON *params, lsp_error *err)
{
    lsp_doc *d = NULL;
    lsp_nav *n = NULL;
    size_t pos = 0;
    const lsp_occurrence *o = occ_at(s, params, err, &d, &n, &pos);
    if (!d || !n) return NULL;
    cJSON *arr = cJSON_CreateArray();
    if (!o) return arr;
    lsp_view v = lsp_doc_view(s, d);
    for (size_t i = 0; i < n->n_occs; i++) {
        const lsp_occurrence *x = &n->occs[i];
        if (x->sym != o->sym) continue;
        cJSON *h = cJSON_CreateObject();
        lsp_add(h, "range", lsp_json_range(&v, x->start, x->end));
        int kind = x->role == LSP_OCC_READ ? 2 : x->role == LSP_OCC_TEXT ? 1 : 3;
        cJSON_AddNumberToObject(h, "kind", kind);
        lsp_push(arr, h);
    }
    return arr;
}
