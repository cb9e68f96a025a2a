/*
 * fe_reuse.c - parsing the next version of one document cheaply (the
 * language server parses a document after every edit).
 *
 * Two parts of a parse are costly on a large file and mostly redundant
 * between two versions that differ by a keystroke:
 *
 *   - Lua's compiler, the judge of syntax, over the whole text. When the
 *     previous text compiled, and the new text differs from it only inside
 *     some top-level statements that declare no top-level local and hold no
 *     goto or label (in the old text and in the new), the rest of the file
 *     is what Lua accepted before and what it means to those statements is
 *     only which top-level locals are visible (and how: <const>,
 *     <close>, a register or a compile-time constant). So the changed
 *     statements are compiled alone behind a prologue that declares the
 *     same top-level locals the same way. If that compiles, Lua accepts the
 *     whole text; if it does not, or any condition fails, the whole text is
 *     compiled as always, so every error message is Lua's own. The prologue
 *     may use more registers than the original (a literal-initialised
 *     <const> is reproduced as a constant, anything else as a register),
 *     never fewer, so it can only fall back, never accept wrongly.
 *   - the Gherkin parse of each Specifications string. A string whose
 *     bytes are unchanged and that starts at the same column reuses its
 *     tree; when text above it was edited the tree is shifted with
 *     ts_tree_edit (an edit before its first line moves every node by the
 *     same rows and bytes and keeps columns).
 *
 * The base of both is the last text that parsed (and that Lua accepted),
 * not merely the previous one: the edit that mends a typo is compared with
 * the text before the typo.
 *
 * fe_parse_again gives exactly fe_parse's result; tests/unit/test_frontend.c
 * holds it to that over random edits of every example.
 */
#include <lauxlib.h>
#include <stdlib.h>
#include <string.h>

#include "fe_internal.h"

typedef struct {
    char *content; /* the string's bytes (owned) */
    uint32_t len;
    uint32_t start_byte;
    TSPoint start;
    TSTree *tree;
} gk_entry;

typedef struct {
    uint32_t start, end;
    bool declares_local;
} stmt;

struct fe_reuse {
    char *src; /* the last text Lua's verdict is known for */
    size_t len, cap;
    bool lua_ok;
    stmt *stmts;
    size_t n_stmts, cap_stmts;
    gk_entry *gk, *next_gk; /* trees of the last parse; trees of this one */
    size_t n_gk, n_next, cap_next;
};

fe_reuse *fe_reuse_new(void)
{
    return tx_calloc(1, sizeof(fe_reuse));
}

static void free_entries(gk_entry *e, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (e[i].tree) ts_tree_delete(e[i].tree);
        tx_free(e[i].content);
    }
}

void fe_reuse_free(fe_reuse *r)
{
    if (!r) return;
    free_entries(r->gk, r->n_gk);
    free_entries(r->next_gk, r->n_next);
    tx_free(r->gk);
    tx_free(r->next_gk);
    tx_free(r->stmts);
    tx_free(r->src);
    tx_free(r);
}

/* ---- Gherkin trees ------------------------------------------------------------------------ */

TSTree *fe_reuse_take_gherkin(fe_reuse *r, const char *src, tx_span content)
{
    uint32_t len = content.end_byte - content.start_byte;
    for (size_t i = 0; i < r->n_gk; i++) {
        gk_entry *e = &r->gk[i];
        if (!e->tree || e->len != len || e->start.column != content.start.column ||
            memcmp(e->content, src + content.start_byte, len) != 0)
            continue;
        TSTree *t = e->tree;
        e->tree = NULL;
        if (e->start_byte != content.start_byte || e->start.row != content.start.row) {
            uint32_t col = content.start.column;
            TSInputEdit shift = {
                0,      e->start_byte - col, content.start_byte - col,
                {0, 0}, {e->start.row, 0},   {content.start.row, 0},
            };
            ts_tree_edit(t, &shift);
        }
        return t;
    }
    return NULL;
}

void fe_reuse_keep_gherkin(fe_reuse *r, const char *src, tx_span content, TSTree *tree)
{
    uint32_t len = content.end_byte - content.start_byte;
    if (r->n_next == r->cap_next) {
        size_t cap = r->cap_next ? r->cap_next * 2 : 4;
        gk_entry *p = tx_realloc(r->next_gk, cap * sizeof *p);
        if (!p) {
            ts_tree_delete(tree);
            return;
        }
        r->next_gk = p;
        r->cap_next = cap;
    }
    char *copy = tx_malloc(len + 1);
    if (!copy) {
        ts_tree_delete(tree);
        return;
    }
    memcpy(copy, src + content.start_byte, len);
    r->next_gk[r->n_next++] =
        (gk_entry){copy, len, content.start_byte, {content.start.row, content.start.column}, tree};
}

/* ---- Lua's verdict -------------------------------------------------------------------------- */

static bool is_local_decl(const fe_node *n)
{
    if (n->kind == FE_K_VARIABLE_DECLARATION) return true;
    return n->kind == FE_K_FUNCTION_DECLARATION && n->first && n->first->kind == FE_K_LOCAL;
}

static bool has_jump(const char *s, size_t n)
{
    for (size_t i = 0; i + 1 < n; i++) {
        if (s[i] == ':' && s[i + 1] == ':') return true;
        if (s[i] == 'g' && i + 4 <= n && memcmp(s + i, "goto", 4) == 0) return true;
    }
    return false;
}

/* Whether an expression is a literal Lua folds into a constant. */
static bool literal(const fe_node *e)
{
    return e->kind == FE_K_NIL || e->kind == FE_K_TRUE || e->kind == FE_K_FALSE ||
           e->kind == FE_K_NUMBER || e->kind == FE_K_STRING;
}

/* Declares, in b, the top-level local of statement st the way it is
 * declared there (names, attributes, literal or not initialisers). */
static void prologue_of(const fe_node *st, const char *src, tx_buf *b)
{
    if (st->kind == FE_K_FUNCTION_DECLARATION) {
        const fe_node *name = fe_node_child_by_field(st, FE_F_NAME);
        if (name)
            tx_buf_printf(b, "local %.*s = _ENV;", (int)(name->end_byte - name->start_byte),
                          src + name->start_byte);
        return;
    }
    const fe_node *vars = NULL, *exprs = NULL;
    for (const fe_node *c = st->first; c; c = c->next) {
        if (c->kind == FE_K_VARIABLE_LIST) vars = c;
        if (c->kind == FE_K_EXPRESSION_LIST) exprs = c;
    }
    if (!vars) return;
    tx_buf_puts(b, "local ");
    bool first = true;
    for (const fe_node *c = vars->first; c; c = c->next) {
        if (c->kind == FE_K_IDENTIFIER) {
            tx_buf_printf(b, "%s%.*s", first ? "" : ", ", (int)(c->end_byte - c->start_byte),
                          src + c->start_byte);
            first = false;
        } else if (c->kind == FE_K_ATTRIBUTE) {
            tx_buf_printf(b, " %.*s", (int)(c->end_byte - c->start_byte), src + c->start_byte);
        }
    }
    if (exprs) {
        tx_buf_puts(b, " = ");
        bool fe = true;
        for (const fe_node *c = exprs->first; c; c = c->next) {
            if (!c->named) continue;
            tx_buf_printf(b, "%s%s", fe ? "" : ", ", literal(c) ? "nil" : "_ENV");
            fe = false;
        }
    }
    tx_buf_puts(b, ";");
}

bool fe_reuse_lua_ok(fe_parser *p, fe_reuse *r, const fe_ast *ast)
{
    const char *src = p->file->src;
    size_t len = p->file->len;
    if (!r->src || !r->lua_ok || !ast->ok || !ast->root) return false;
    /* Lua's loadbuffer rejects what our parser skips: a BOM, a #! line. */
    if ((len >= 3 && (unsigned char)src[0] == 0xEF) || (len && src[0] == '#')) return false;
    size_t pre = 0, min = len < r->len ? len : r->len;
    while (pre < min && src[pre] == r->src[pre])
        pre++;
    if (pre == len && len == r->len) return true;
    size_t suf = 0;
    while (suf < min - pre && src[len - 1 - suf] == r->src[r->len - 1 - suf])
        suf++;
    size_t new_end = len - suf, old_end = r->len - suf;
    long long delta = (long long)len - (long long)r->len;

    /* The new top-level statements. */
    size_t n = 0;
    for (const fe_node *c = ast->root->first; c; c = c->next)
        if (c->named) n++;
    const fe_node **st = tx_malloc((n ? n : 1) * sizeof *st);
    if (!st) return false;
    n = 0;
    for (const fe_node *c = ast->root->first; c; c = c->next)
        if (c->named) st[n++] = c;
    size_t m = r->n_stmts;
    /* Statements before the change: the same ranges as before. */
    size_t a = 0;
    while (a < n && a < m && st[a]->end_byte <= pre && r->stmts[a].start == st[a]->start_byte &&
           r->stmts[a].end == st[a]->end_byte)
        a++;
    /* ... and after it, shifted by the length difference. */
    size_t b = 0;
    while (b < n - a && b < m - a) {
        const fe_node *x = st[n - 1 - b];
        const stmt *y = &r->stmts[m - 1 - b];
        if (x->start_byte < new_end || y->start < old_end ||
            (long long)y->start + delta != x->start_byte ||
            (long long)y->end + delta != x->end_byte)
            break;
        b++;
    }
    bool ok = true;
    /* Every statement left in between, old and new, is an ordinary one. */
    for (size_t i = a; ok && i < m - b; i++)
        ok = !r->stmts[i].declares_local &&
             !has_jump(r->src + r->stmts[i].start, r->stmts[i].end - r->stmts[i].start);
    for (size_t i = a; ok && i < n - b; i++)
        ok = !is_local_decl(st[i]) &&
             !has_jump(src + st[i]->start_byte, st[i]->end_byte - st[i]->start_byte);
    if (ok && n - b > a) {
        tx_buf code;
        tx_buf_init(&code, 2 * len + 4096);
        for (size_t i = 0; i < a; i++)
            if (is_local_decl(st[i])) prologue_of(st[i], src, &code);
        tx_buf_puts(&code, "\n");
        uint32_t ms = st[a]->start_byte, me = st[n - b - 1]->end_byte;
        tx_buf_append(&code, src + ms, me - ms);
        lua_State *L = p->ctx->L;
        ok = code.data && luaL_loadbufferx(L, code.data, code.len, "=src", "t") == LUA_OK;
        lua_pop(L, 1);
        tx_buf_free(&code);
    }
    tx_free(st);
    return ok;
}

void fe_reuse_remember(fe_reuse *r, const fe_file *f, const fe_ast *ast)
{
    /* A text that did not parse keeps what an older one left: its trees
     * and the last text Lua accepted are still the best base for the next
     * parse (the edit that mends a typo is compared with the text before
     * the typo). */
    if (!ast || !ast->ok || !ast->root) {
        free_entries(r->next_gk, r->n_next);
        r->n_next = 0;
        return;
    }
    free_entries(r->gk, r->n_gk);
    tx_free(r->gk);
    r->gk = r->next_gk;
    r->n_gk = r->n_next;
    r->next_gk = NULL;
    r->n_next = r->cap_next = 0;
    if (!f->lua_ok) return;

    r->lua_ok = false;
    r->n_stmts = 0;
    if (f->len + 1 > r->cap) {
        char *s = tx_realloc(r->src, f->len + 1);
        if (!s) return;
        r->src = s;
        r->cap = f->len + 1;
    }
    memcpy(r->src, f->src, f->len);
    r->len = f->len;
    for (const fe_node *c = ast->root->first; c; c = c->next) {
        if (!c->named) continue;
        if (r->n_stmts == r->cap_stmts) {
            size_t cap = r->cap_stmts ? r->cap_stmts * 2 : 64;
            stmt *s = tx_realloc(r->stmts, cap * sizeof *s);
            if (!s) {
                r->n_stmts = 0;
                return;
            }
            r->stmts = s;
            r->cap_stmts = cap;
        }
        r->stmts[r->n_stmts++] = (stmt){c->start_byte, c->end_byte, is_local_decl(c)};
    }
    r->lua_ok = true;
}

void fe_reuse_forget(fe_reuse *r)
{
    free_entries(r->next_gk, r->n_next);
    r->n_next = 0;
    r->lua_ok = false;
    r->n_stmts = 0;
}
