/*
 * lsp_signature.c - signature help inside field.*{...}, Human.*{...},
 * primitive calls, and calls of the file's sub-procedures, tools and agents.
 */
#include <stdio.h>
#include <string.h>

#include "lsp_internal.h"

/* label `name(a, b)` or `name{k1, k2, ...}` with parameter offsets. */
static cJSON *signature(const char *name, const char *doc, bool table, const char *const *params,
                        const lsp_dsl_key *keys, const fe_schema *schema, int active)
{
    tx_buf b;
    tx_buf_init(&b, 8192);
    tx_buf_printf(&b, "%s%s", name, table ? "{" : "(");
    cJSON *ps = cJSON_CreateArray();
    size_t i = 0;
#define PARAM(text, pdoc)                                                                          \
    do {                                                                                           \
        if (i++) tx_buf_puts(&b, ", ");                                                            \
        size_t st_ = b.len;                                                                        \
        tx_buf_puts(&b, text);                                                                     \
        cJSON *p_ = cJSON_CreateObject();                                                          \
        cJSON *l_ = cJSON_AddArrayToObject(p_, "label");                                           \
        lsp_push(l_, cJSON_CreateNumber((double)st_));                                             \
        lsp_push(l_, cJSON_CreateNumber((double)b.len));                                           \
        if (pdoc) cJSON_AddStringToObject(p_, "documentation", pdoc);                              \
        lsp_push(ps, p_);                                                                          \
    } while (0)
    for (size_t k = 0; params && params[k]; k++)
        PARAM(params[k], (const char *)NULL);
    for (const lsp_dsl_key *k = keys; k && k->key; k++)
        PARAM(k->key, k->doc);
    for (const fe_field *f = schema ? schema->fields : NULL; f; f = f->next) {
        char text[160];
        snprintf(text, sizeof text, "%s%s: %s", f->name, f->required ? "" : "?",
                 f->builder ? f->builder : fe_type_name(f->type));
        PARAM(text, (const char *)NULL);
    }
#undef PARAM
    tx_buf_puts(&b, table ? "}" : ")");
    cJSON *sig = cJSON_CreateObject();
    /* Offsets are UTF-16 units of the label; the labels here are ASCII
     * names, so bytes are the same. */
    cJSON_AddStringToObject(sig, "label", b.data ? b.data : name);
    if (doc) cJSON_AddStringToObject(sig, "documentation", doc);
    lsp_add(sig, "parameters", ps);
    if (active >= 0) cJSON_AddNumberToObject(sig, "activeParameter", active);
    tx_buf_free(&b);
    return sig;
}

static int key_index(const lsp_dsl_key *keys, const char *key)
{
    for (int i = 0; keys && keys[i].key; i++)
        if (!strcmp(keys[i].key, key)) return i;
    return -1;
}

cJSON *lsp_on_signature_help(lsp_server *s, const cJSON *params, lsp_error *err)
{
    lsp_doc *d = lsp_param_doc(s, params, err);
    size_t pos;
    if (!d || !lsp_param_offset(s, d, params, &pos, err)) return NULL;
    TSTree *tree = lsp_doc_tree(s, d);
    if (!tree) return cJSON_CreateNull();
    /* The innermost call whose arguments hold the cursor. */
    TSNode n = lsp_node_at(tree, pos > 0 ? (uint32_t)pos - 1 : 0, pos > 0 ? (uint32_t)pos - 1 : 0);
    TSNode args = n;
    while (!ts_node_is_null(args)) {
        if (lsp_node_is(args, "arguments") && pos > ts_node_start_byte(args) &&
            (pos < ts_node_end_byte(args) || d->text[ts_node_end_byte(args) - 1] != ')'))
            break;
        args = ts_node_parent(args);
    }
    if (ts_node_is_null(args)) return cJSON_CreateNull();
    TSNode call = ts_node_parent(args);
    char name[128];
    if (!lsp_node_is(call, "function_call") || !lsp_call_name(d, call, name, sizeof name))
        return cJSON_CreateNull();
    /* Which argument, and inside a table argument which key. */
    int active = 0;
    uint32_t count = ts_node_named_child_count(args);
    TSNode arg_node = {0};
    for (uint32_t i = 0; i < count; i++) {
        TSNode a = ts_node_named_child(args, i);
        if (ts_node_start_byte(a) < pos) {
            active = (int)i;
            arg_node = a;
        }
    }
    bool in_table = lsp_node_is(args, "table_constructor") ||
                    lsp_node_is(ts_node_named_child(args, 0), "table_constructor") ||
                    lsp_node_is(arg_node, "table_constructor");
    char key[64] = "";
    lsp_table_ctx ctx;
    if (in_table && lsp_table_context(s, d, pos, &ctx) && ctx.in_table) {
        /* the field holding the cursor */
        TSNode f = lsp_node_at(tree, (uint32_t)pos - 1, (uint32_t)pos - 1);
        while (!ts_node_is_null(f) && !lsp_node_is(f, "field"))
            f = ts_node_parent(f);
        TSNode kn = ts_node_is_null(f) ? f : ts_node_child_by_field_name(f, "name", 4);
        size_t kl;
        const char *kt = ts_node_is_null(kn) ? NULL : lsp_node_text(d, kn, &kl);
        if (kt && kl < sizeof key) {
            memcpy(key, kt, kl);
            key[kl] = '\0';
        }
    }
    cJSON *sig = NULL;
    const lsp_dsl_entry *e = lsp_dsl_find(name, strlen(name));
    if (e && e->keys && (in_table || !e->params)) {
        sig = signature(e->name, e->doc, true, NULL, e->keys, NULL,
                        key[0] ? key_index(e->keys, key) : -1);
    } else if (e && e->params) {
        sig = signature(e->name, e->doc, false, e->params, NULL, NULL, active);
    } else {
        /* A declared procedure or agent: its inputs. */
        lsp_nav *nav = lsp_nav_get(s, d);
        int k = nav ? lsp_nav_find(nav, name, strlen(name)) : -1;
        if (k >= 0 && nav->syms[k].kind == LSP_SYM_PROCEDURE) {
            const fe_procedure *p = nav->syms[k].decl;
            int act = -1, i = 0;
            for (const fe_field *f = p->input.fields; f; f = f->next, i++)
                if (key[0] && !strcmp(f->name, key)) act = i;
            sig = signature(name, "a sub-procedure: its input fields", true, NULL, NULL, &p->input,
                            act);
        } else if (k >= 0 && nav->syms[k].kind == LSP_SYM_TOOL) {
            const fe_tool *t = nav->syms[k].decl;
            int act = -1, i = 0;
            for (const fe_field *f = t->input.fields; f; f = f->next, i++)
                if (key[0] && !strcmp(f->name, key)) act = i;
            sig = signature(name, "a direct tool call (recorded like an agent's): its input fields",
                            true, NULL, NULL, &t->input, act);
        } else if (k >= 0 && nav->syms[k].kind == LSP_SYM_AGENT) {
            static const lsp_dsl_key turn_keys[] = {
                {"message", "the user message of this turn"},
                {"tools", "narrows the agent's tools for this turn (never widens them)"},
                {"temperature", "sampling temperature for this turn"},
                {"max_tokens", "most tokens in the reply"},
                {"system_prompt", "the system prompt template for this turn"},
                {NULL, NULL},
            };
            sig = signature(name, "one agent turn; returns {output, usage, ...}", true, NULL,
                            turn_keys, NULL, key[0] ? key_index(turn_keys, key) : -1);
        }
    }
    if (!sig) return cJSON_CreateNull();
    const cJSON *ap = cJSON_GetObjectItemCaseSensitive(sig, "activeParameter");
    double active_param = cJSON_IsNumber(ap) ? ap->valuedouble : 0;
    cJSON *res = cJSON_CreateObject();
    cJSON *sigs = cJSON_AddArrayToObject(res, "signatures");
    lsp_push(sigs, sig);
    cJSON_AddNumberToObject(res, "activeSignature", 0);
    cJSON_AddNumberToObject(res, "activeParameter", active_param);
    return res;
}
