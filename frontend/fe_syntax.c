/*
 * fe_syntax.c - syntax errors, judged by Lua 5.4's own compiler.
 *
 * Lua's compiler knows exactly what it expected ("'end' expected (to close 'function' at
 * line 3) near <eof>") and also rejects what a grammar accepts (assignment to
 * a <const>, goto with no visible label, break outside a loop, too many
 * nesting levels). We compile with load(..., "t") semantics and never run:
 * no library is opened in this state.
 */
#include <lauxlib.h>
#include <stdlib.h>
#include <string.h>

#include "fe_internal.h"

/* Byte offset of the start of line `line` (1-based), or len. */
static size_t line_offset(const char *src, size_t len, unsigned long line)
{
    size_t i = 0;
    for (unsigned long l = 1; l < line && i < len; i++)
        if (src[i] == '\n') l++;
    return i;
}

/* Rewrites Lua's wording for a reader who is not a Lua implementer. */
static void humanize(tx_buf *b, const char *msg)
{
    const char *eof = strstr(msg, "near <eof>");
    if (eof) {
        tx_buf_append(b, msg, (size_t)(eof - msg));
        tx_buf_puts(b, "at the end of the file");
        tx_buf_puts(b, eof + strlen("near <eof>"));
    } else {
        tx_buf_puts(b, msg);
    }
}

static const char *suggestion_for(const char *msg)
{
    if (strstr(msg, "'end' expected")) return "add the missing 'end'";
    if (strstr(msg, "unfinished long string")) return "close the string with ]] (same number of = signs as the opening)";
    if (strstr(msg, "unfinished long comment")) return "close the comment with ]] (same number of = signs as the opening)";
    if (strstr(msg, "unfinished string")) return "close the string with the same quote it opened with";
    if (strstr(msg, "too many C levels") || strstr(msg, "overflow"))
        return "split the expression into smaller parts with local variables";
    if (strstr(msg, "'=' expected")) return "check the statement: an expression alone is not a statement in Lua";
    if (strstr(msg, "<eof>' expected") || strstr(msg, "'<eof>' expected"))
        return "remove the extra 'end' or unmatched closing token";
    if (strstr(msg, "attempt to assign to const")) return "remove <const> or assign to a new local";
    return NULL;
}

void fe_lua_compile(fe_parser *p)
{
    fe_file *f = p->file;
    lua_State *L = p->ctx->L;
    /* "=src" makes Lua print the chunk name verbatim: "src:LINE: message". */
    int rc = luaL_loadbufferx(L, f->src, f->len, "=src", "t");
    f->lua_ok = rc == LUA_OK;
    if (rc == LUA_ERRMEM) p->oom = true;
    if (rc != LUA_OK && rc != LUA_ERRMEM) {
        const char *err = lua_tostring(L, -1);
        p->lua_error = fe_strndup(p, err ? err : "syntax error", err ? strlen(err) : 12);
    }
    lua_pop(L, 1);
}

void fe_report_lua_error(fe_parser *p)
{
    fe_file *f = p->file;
    if (f->lua_ok || !p->lua_error) return;
    const char *err = p->lua_error;
    unsigned long line = 1;
    const char *msg = err;
    if (strncmp(err, "src:", 4) == 0) {
        char *endp;
        line = strtoul(err + 4, &endp, 10);
        if (*endp == ':') msg = endp + 1;
        while (*msg == ' ') msg++;
    }
    if (line == 0) line = 1;

    /* Column: the tree-sitter error on that line, else the token Lua names,
     * else the first non-blank character of the line. */
    size_t ls = line_offset(f->src, f->len, line);
    size_t le = ls;
    while (le < f->len && f->src[le] != '\n') le++;
    size_t start = ls, end = le;
    const char *near = strstr(msg, "near '");
    const char *starting = strstr(msg, "(starting at line ");
    if (starting && strstr(msg, "unfinished long")) {
        /* Point at the opening bracket, which is where the fix goes. */
        unsigned long open_line = strtoul(starting + 18, NULL, 10);
        size_t os = line_offset(f->src, f->len, open_line), oe = os;
        while (oe < f->len && f->src[oe] != '\n') oe++;
        const char *opener = strstr(msg, "comment") ? "--[" : "[";
        for (size_t i = os; i < oe; i++) {
            if (strncmp(f->src + i, opener, strlen(opener)) != 0) continue;
            size_t j = i + strlen(opener);
            while (j < oe && f->src[j] == '=') j++;
            if (j < oe && f->src[j] == '[') {
                ls = os;
                le = oe;
                start = i;
                end = j + 1;
                break;
            }
        }
    } else if (strstr(msg, "near <eof>")) {
        start = end = f->len;
    } else if (p->ast && !p->ast->ok && p->ast->err_point.row + 1 == line) {
        /* Our parser stopped on the same line: its position is the token. */
        start = p->ast->err_byte;
        end = start;
        while (end < le && end - start < 200 && f->src[end] != ' ' && f->src[end] != '\t') end++;
    } else if (near) {
        const char *tok = near + 6;
        const char *q = strrchr(tok, '\'');
        size_t tn = q && q > tok ? (size_t)(q - tok) : 0;
        for (size_t i = ls; tn && i + tn <= le; i++)
            if (memcmp(f->src + i, tok, tn) == 0) {
                start = i;
                end = i + tn;
                break;
            }
        if (start == ls && end == le) end = ls;
    }
    if (start == ls && end == le) {
        while (start < le && (f->src[start] == ' ' || f->src[start] == '\t')) start++;
        end = start;
    }
    if (end < start) end = start;
    /* An ERROR node can span many lines; point at its first token only. */
    if (end > start + 200) end = start;

    tx_buf b;
    tx_buf_init(&b, 4096);
    tx_buf_puts(&b, "syntax error: ");
    humanize(&b, msg);
    /* Where the construct left open began: in the message (the text output
     * shows one place) and as the related place (the editor shows both). */
    fe_unclosed u = {0};
    bool unclosed = !strstr(msg, "unfinished") &&
                    fe_find_unclosed(f->src, f->len, strstr(msg, "near <eof>") ? f->len : start, msg, &u);
    bool named_by_lua = unclosed && !u.stolen && strstr(msg, "(to close '");
    if (unclosed && u.stolen)
        tx_buf_printf(&b,
                      "; '%s' at line %lu is never closed by '%s' (the '%s' at line %lu closes it, "
                      "though it lines up with the '%s' at line %lu)",
                      u.opener, u.line, u.closer, u.closer, u.end_line, u.lined_up, u.lined_up_line);
    else if (unclosed && !named_by_lua)
        tx_buf_printf(&b, "; '%s' at line %lu is never closed by '%s'", u.opener, u.line, u.closer);
    const char *hint = unclosed && u.stolen ? "add the missing 'end'" : suggestion_for(msg);
    if (unclosed && !hint) hint = NULL;
    if (hint) tx_buf_printf(&b, "; %s", hint);
    tx_diag_add(&f->diags, "TAC001", TX_SEV_ERROR, tx_span_of_bytes(f->src, f->len, start, end),
                "%s", b.data ? b.data : "syntax error");
    tx_buf_free(&b);
    if (unclosed)
        tx_diag_relate(&f->diags, tx_span_of_bytes(f->src, f->len, u.at, u.at + u.len),
                       "'%s' opened here is never closed by '%s'", u.opener, u.closer);
}
