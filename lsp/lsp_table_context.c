/*
 * lsp_table_context.c - where the cursor is: the table it is in, the call
 * that table is an argument of, and the key it is the value of in an
 * enclosing table (tools = {...} of an Agent). Hover, completion and
 * signature help share it.
 */
#include <stdio.h>
#include <string.h>

#include "lsp_internal.h"

bool lsp_call_name(const lsp_doc *d, TSNode call, char *buf, size_t cap)
{
    TSNode callee = ts_node_child_by_field_name(call, "name", 4);
    if (ts_node_is_null(callee)) return false;
    /* Kind "name" {...}: the callee is itself a call. */
    if (lsp_node_is(callee, "function_call")) return lsp_call_name(d, callee, buf, cap);
    return lsp_node_dotted(d, callee, buf, cap);
}

/* The call a table is passed to: X{...}, X({...}), X "n" {...}. */
static bool table_call(const lsp_doc *d, TSNode table, char *buf, size_t cap, int *arg)
{
    TSNode p = ts_node_parent(table);
    *arg = 0;
    if (!lsp_node_is(p, "arguments")) return false;
    TSNode call = ts_node_parent(p);
    if (!lsp_node_is(call, "function_call")) return false;
    uint32_t n = ts_node_named_child_count(p);
    for (uint32_t i = 0; i < n; i++)
        if (ts_node_eq(ts_node_named_child(p, i), table)) *arg = (int)i;
    return lsp_call_name(d, call, buf, cap);
}

bool lsp_table_context(lsp_server *s, lsp_doc *d, size_t pos, lsp_table_ctx *ctx)
{
    memset(ctx, 0, sizeof *ctx);
    TSTree *tree = lsp_doc_tree(s, d);
    if (!tree) return false;
    /* Look just before the cursor: at the end of a word being typed the
     * word is the node, not what follows it. */
    uint32_t at = pos > 0 ? (uint32_t)pos - 1 : 0;
    TSNode n = lsp_node_at(tree, at, at);
    TSNode table = n;
    while (!ts_node_is_null(table) && !lsp_node_is(table, "table_constructor"))
        table = ts_node_parent(table);
    if (ts_node_is_null(table)) return false;
    if (pos <= ts_node_start_byte(table) || pos >= ts_node_end_byte(table)) {
        /* on the braces themselves: not inside */
        if (pos != ts_node_end_byte(table) || d->text[pos - 1] == '}') return false;
    }
    ctx->in_table = true;
    ctx->table_start = ts_node_start_byte(table);
    table_call(d, table, ctx->callee, sizeof ctx->callee, &ctx->arg_index);
    /* key = {...} inside an outer table */
    TSNode f = ts_node_parent(table);
    if (lsp_node_is(f, "field")) {
        TSNode key = ts_node_child_by_field_name(f, "name", 4);
        size_t kl;
        const char *kt = ts_node_is_null(key) ? NULL : lsp_node_text(d, key, &kl);
        if (kt && kl < sizeof ctx->key) {
            memcpy(ctx->key, kt, kl);
            ctx->key[kl] = '\0';
        }
        TSNode outer = ts_node_parent(f);
        int arg;
        if (lsp_node_is(outer, "table_constructor"))
            table_call(d, outer, ctx->outer_callee, sizeof ctx->outer_callee, &arg);
    }
    /* At a key: between fields, or on a bare word that is a positional
     * value or a field's name. */
    if (ts_node_eq(n, table)) {
        ctx->at_key = true;
    } else {
        TSNode w = n;
        if (lsp_node_is(w, "identifier")) {
            TSNode p = ts_node_parent(w);
            if (lsp_node_is(p, "field") && ts_node_eq(ts_node_parent(p), table)) {
                TSNode name = ts_node_child_by_field_name(p, "name", 4);
                TSNode value = ts_node_child_by_field_name(p, "value", 5);
                ctx->at_key = (!ts_node_is_null(name) && ts_node_eq(name, w)) ||
                              (ts_node_is_null(name) && ts_node_eq(value, w));
            }
        } else if (lsp_node_is(w, "field") && ts_node_eq(ts_node_parent(w), table)) {
            ctx->at_key = pos <= ts_node_start_byte(w);
        }
    }
    return true;
}
