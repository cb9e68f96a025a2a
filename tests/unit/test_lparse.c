/*
 * Unit tests of frontend/fe_lparse.c, the hand-written Lua 5.4 parser.
 *
 * The main test is differential: for every input Lua's own compiler accepts,
 * fe_lparse must build exactly the tree tree-sitter builds with the `tactus`
 * grammar (named nodes minus comments and escape sequences, plus the
 * anonymous tokens fe_lparse keeps: kinds, fields, byte ranges, points, child
 * order). Inputs: the examples, the CLI cases, the grammar's corpus, files
 * from bench/gen-corpus.lua, random programs from a generator below, and
 * mutations of all of those. The first difference fails the test with the
 * path to the node, both nodes and the source line.
 *
 * Then targeted tests (precedence, strings, numbers, chunk ranges, errors,
 * limits, out-of-memory) and a timing harness that prints MB/s of both
 * parsers on a ~5 MB input (informational: it never fails on time).
 *
 * Longer sweeps: LPARSE_RANDOM=COUNT[,FIRST] and LPARSE_MUTATIONS=COUNT[,SEED]
 * change the random and mutated inputs; LPARSE_SHOW_REJECTS=1 prints what
 * Lua rejected (the generator's misses, and Lua's checks beyond syntax).
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

#include "fe_lparse.h"
#include "frontend.h"

#if defined(__SANITIZE_ADDRESS__)
#define SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SANITIZED 1
#endif
#endif
#ifndef SANITIZED
#define SANITIZED 0
#endif

static TSParser *ts;
static lua_State *L;
static char root_dir[4096]; /* the repository, from __FILE__ */

/* Totals over the whole run, printed at the end. */
static size_t total_files, total_nodes, total_bytes;

static int setup(void **state)
{
    (void)state;
    /* __FILE__ is .../tests/unit/test_lparse.c (CMake passes absolute paths) */
    snprintf(root_dir, sizeof root_dir, "%s", __FILE__);
    for (int i = 0; i < 3; i++) {
        char *slash = strrchr(root_dir, '/');
        if (!slash) return -1;
        *slash = '\0';
    }
    ts = ts_parser_new();
    if (!ts || !ts_parser_set_language(ts, tree_sitter_tactus())) return -1;
    L = luaL_newstate();
    return L ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    print_message("lparse: %zu sources, %zu bytes, %zu nodes compared with tree-sitter\n",
                  total_files, total_bytes, total_nodes);
    ts_parser_delete(ts);
    lua_close(L);
    return 0;
}

static bool lua_accepts(const char *src, size_t len)
{
    int rc = luaL_loadbufferx(L, src, len, "=t", "t");
    lua_pop(L, 1);
    return rc == LUA_OK;
}

/* ---- the differential comparison ---------------------------------------------------------- */

typedef struct {
    const char *label;
    const char *src;
    size_t len;
    size_t nodes;
    char path[4096];
} diff_ctx;

/* The tree-sitter children fe_lparse also builds: named nodes but comments
 * and escape sequences; anonymous tokens under a field (operators, string
 * delimiters) and `local`. */
static bool ts_kept(const TSTreeCursor *c)
{
    TSNode n = ts_tree_cursor_current_node(c);
    const char *type = ts_node_type(n);
    if (ts_node_is_named(n))
        return strcmp(type, "comment") != 0 && strcmp(type, "escape_sequence") != 0;
    return ts_tree_cursor_current_field_id(c) != 0 || strcmp(type, "local") == 0;
}

static void print_line(const diff_ctx *d, uint32_t byte)
{
    if (byte > d->len) byte = (uint32_t)d->len;
    size_t s = byte, e = byte;
    while (s > 0 && d->src[s - 1] != '\n')
        s--;
    while (e < d->len && d->src[e] != '\n' && e - s < 200)
        e++;
    print_message("    source: %.*s\n", (int)(e - s), d->src + s);
}

static _Noreturn void diff_fail(const diff_ctx *d, TSNode n, const TSTreeCursor *c,
                                const fe_node *f, const char *what)
{
    print_message("lparse differs from tree-sitter in %s: %s\n  at %s\n", d->label, what, d->path);
    if (!ts_node_is_null(n)) {
        const char *fn = c ? ts_tree_cursor_current_field_name(c) : NULL;
        print_message("  tree-sitter: %s%s%s [%u,%u]-[%u,%u] bytes %u-%u\n", fn ? fn : "",
                      fn ? ": " : "", ts_node_type(n), ts_node_start_point(n).row,
                      ts_node_start_point(n).column, ts_node_end_point(n).row,
                      ts_node_end_point(n).column, ts_node_start_byte(n), ts_node_end_byte(n));
        print_line(d, ts_node_start_byte(n));
    }
    if (f) {
        const char *fn = fe_field_name(f->field);
        print_message("  fe_lparse:   %s%s%s [%u,%u]-[%u,%u] bytes %u-%u\n", fn ? fn : "",
                      fn ? ": " : "", fe_kind_name(f->kind), f->start.row, f->start.column,
                      f->end.row, f->end.column, f->start_byte, f->end_byte);
        print_line(d, f->start_byte);
    }
    fail_msg("tree mismatch in %s at %s", d->label, d->path);
    abort(); /* not reached */
}

static void compare_node(diff_ctx *d, TSTreeCursor *c, const fe_node *f)
{
    TSNode n = ts_tree_cursor_current_node(c);
    const char *tf = ts_tree_cursor_current_field_name(c);
    const char *ff = fe_field_name(f->field);
    if (strcmp(ts_node_type(n), fe_kind_name(f->kind)) != 0) diff_fail(d, n, c, f, "kind");
    if (ts_node_is_named(n) != f->named) diff_fail(d, n, c, f, "named flag");
    if ((tf == NULL) != (ff == NULL) || (tf && strcmp(tf, ff) != 0)) diff_fail(d, n, c, f, "field");
    TSPoint sp = ts_node_start_point(n), ep = ts_node_end_point(n);
    if (ts_node_start_byte(n) != f->start_byte || ts_node_end_byte(n) != f->end_byte)
        diff_fail(d, n, c, f, "byte range");
    if (sp.row != f->start.row || sp.column != f->start.column || ep.row != f->end.row ||
        ep.column != f->end.column)
        diff_fail(d, n, c, f, "points");
    d->nodes++;

    size_t plen = strlen(d->path);
    const fe_node *fc = f->first;
    uint32_t index = 0, named = 0;
    if (ts_tree_cursor_goto_first_child(c)) {
        do {
            if (!ts_kept(c)) continue;
            snprintf(d->path + plen, sizeof d->path - plen, "/%s[%u]",
                     ts_node_type(ts_tree_cursor_current_node(c)), index);
            if (!fc) {
                TSNode cn = ts_tree_cursor_current_node(c);
                diff_fail(d, cn, c, NULL, "child missing in fe_lparse");
            }
            compare_node(d, c, fc);
            if (fc->named) named++;
            fc = fc->next;
            index++;
        } while (ts_tree_cursor_goto_next_sibling(c));
        ts_tree_cursor_goto_parent(c);
    }
    d->path[plen] = '\0';
    if (fc) {
        snprintf(d->path + plen, sizeof d->path - plen, "/?[%u]", index);
        diff_fail(d, (TSNode){0}, NULL, fc, "extra child in fe_lparse");
    }
    if (named != f->n_named) diff_fail(d, n, c, f, "n_named");
}

/* Compares tree-sitter's tree of src (which it deletes) with fe_lparse's;
 * returns the nodes compared. */
static size_t diff_tree(const char *label, const char *src, size_t len, TSTree *tree)
{
    assert_non_null(tree);
    TSNode root = ts_tree_root_node(tree);
    diff_ctx d = {.label = label, .src = src, .len = len};
    snprintf(d.path, sizeof d.path, "chunk");
    if (ts_node_has_error(root)) {
        print_message("tree-sitter finds an error in %s, which Lua accepts\n", label);
        fail_msg("tree-sitter error in %s", label);
    }
    tx_arena arena;
    tx_arena_init(&arena);
    fe_ast ast;
    tx_status st = fe_lparse(&arena, src, len, &ast);
    if (st != TX_OK || !ast.ok) {
        print_message("fe_lparse rejects %s (status %d): %u:%u: %s\n", label, (int)st,
                      ast.err_point.row + 1, ast.err_point.column + 1, ast.err_msg);
        print_line(&d, ast.err_byte);
        fail_msg("fe_lparse rejects %s", label);
    }
    TSTreeCursor c = ts_tree_cursor_new(root);
    compare_node(&d, &c, ast.root);
    ts_tree_cursor_delete(&c);
    ts_tree_delete(tree);
    tx_arena_free(&arena);
    total_files++;
    total_nodes += d.nodes;
    total_bytes += len;
    return d.nodes;
}

/* Parses src with both parsers and compares; returns the nodes compared. */
static size_t diff_source(const char *label, const char *src, size_t len)
{
    return diff_tree(label, src, len, ts_parser_parse_string(ts, NULL, src, (uint32_t)len));
}

/* ---- inputs -------------------------------------------------------------------------------- */

static char *read_all(const char *path, size_t *len)
{
    char *data = NULL;
    int err = 0;
    tx_status st = tx_read_file(path, 64u << 20, &data, len, &err);
    if (st != TX_OK) fail_msg("cannot read %s: %s", path, tx_status_str(st));
    return data;
}

typedef void (*file_fn)(const char *path, void *ud);

/* Calls fn on every *.tac under dir, recursively, in name order. */
static void walk_tac(const char *dir, file_fn fn, void *ud)
{
    struct dirent **names = NULL;
    int n = scandir(dir, &names, NULL, alphasort);
    if (n < 0) fail_msg("cannot read directory %s", dir);
    for (int i = 0; i < n; i++) {
        const char *nm = names[i]->d_name;
        if (nm[0] != '.') {
            char path[4096];
            int pn = snprintf(path, sizeof path, "%s/%s", dir, nm);
            struct stat sb;
            if (pn < 0 || (size_t)pn >= sizeof path) fail_msg("path too long: %s/%s", dir, nm);
            if (stat(path, &sb) == 0 && S_ISDIR(sb.st_mode))
                walk_tac(path, fn, ud);
            else if (tx_has_suffix(nm, ".tac"))
                fn(path, ud);
        }
        free(names[i]);
    }
    free(names);
}

typedef struct {
    size_t compared, skipped, nodes;
} tally;

static void diff_file(const char *path, void *ud)
{
    tally *t = ud;
    size_t len;
    char *src = read_all(path, &len);
    if (memchr(src, '\0', len) || !lua_accepts(src, len)) {
        t->skipped++;
    } else {
        t->nodes += diff_source(path, src, len);
        t->compared++;
    }
    tx_free(src);
}

static void examples_and_cli_cases(void **state)
{
    (void)state;
    tally t = {0};
    char dir[4200];
    snprintf(dir, sizeof dir, "%s/examples", root_dir);
    walk_tac(dir, diff_file, &t);
    snprintf(dir, sizeof dir, "%s/tests/cli/cases", root_dir);
    walk_tac(dir, diff_file, &t);
    print_message(
        "examples + cli cases: %zu files compared (%zu nodes), %zu skipped (Lua rejects)\n",
        t.compared, t.nodes, t.skipped);
    assert_true(t.compared >= 10);
}

/* Every test of grammar/tactus/test/corpus whose input Lua accepts (a
 * first line `#!...` is blanked for Lua, which only skips it in files). */
static void grammar_corpus(void **state)
{
    (void)state;
    static const char *const files[] = {"calls",       "comments",  "errors",
                                        "expressions", "functions", "statements",
                                        "strings",     "tables",    "tactus"};
    tally t = {0};
    for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
        char path[4200];
        snprintf(path, sizeof path, "%s/grammar/tactus/test/corpus/%s.txt", root_dir, files[i]);
        size_t len;
        char *text = read_all(path, &len);
        char *p = text, *end = text + len;
        while (p < end) {
            /* header: ===...\nname\n===...\n */
            if (strncmp(p, "===", 3) != 0) {
                char *nl = memchr(p, '\n', (size_t)(end - p));
                p = nl ? nl + 1 : end;
                continue;
            }
            char *name = memchr(p, '\n', (size_t)(end - p));
            if (!name) break;
            name++;
            char *close = strstr(name, "\n===");
            if (!close) break;
            char *input = memchr(close + 1, '\n', (size_t)(end - close - 1));
            if (!input) break;
            input++;
            char *dashes = strstr(input, "\n---");
            if (!dashes) break;
            size_t n = (size_t)(dashes - input);
            char label[512];
            snprintf(label, sizeof label, "%s.txt: %.*s", files[i], (int)(close - name), name);
            char *copy = tx_strndup(input, n);
            assert_non_null(copy);
            bool ok = lua_accepts(copy, n);
            if (!ok && n > 0 && copy[0] == '#') {
                char *blank = tx_strndup(copy, n);
                for (size_t k = 0; k < n && blank[k] != '\n'; k++)
                    blank[k] = ' ';
                ok = lua_accepts(blank, n);
                tx_free(blank);
            }
            if (ok) {
                t.nodes += diff_source(label, copy, n);
                t.compared++;
            } else {
                t.skipped++;
            }
            tx_free(copy);
            p = dashes + 1;
        }
        tx_free(text);
    }
    print_message("grammar corpus: %zu tests compared (%zu nodes), %zu skipped (Lua rejects)\n",
                  t.compared, t.nodes, t.skipped);
    assert_true(t.compared >= 40);
}

/* Runs bench/gen-corpus.lua in a private Lua state into a fresh directory. */
static void gen_corpus(const char *dir, int count)
{
    lua_State *G = luaL_newstate();
    assert_non_null(G);
    luaL_openlibs(G);
    char script[4200];
    snprintf(script, sizeof script, "%s/bench/gen-corpus.lua", root_dir);
    lua_createtable(G, 2, 1);
    lua_pushstring(G, script);
    lua_rawseti(G, -2, 0);
    lua_pushstring(G, dir);
    lua_rawseti(G, -2, 1);
    lua_pushinteger(G, count);
    lua_rawseti(G, -2, 2);
    lua_setglobal(G, "arg");
    /* the script prints a summary line: keep stdout for the test results */
    if (luaL_dostring(G, "print = function() end") != LUA_OK) fail_msg("lua");
    if (luaL_dofile(G, script) != LUA_OK) fail_msg("gen-corpus.lua: %s", lua_tostring(G, -1));
    lua_close(G);
}

static void remove_tree(const char *dir)
{
    struct dirent **names = NULL;
    int n = scandir(dir, &names, NULL, alphasort);
    for (int i = 0; i < n; i++) {
        const char *nm = names[i]->d_name;
        if (strcmp(nm, ".") != 0 && strcmp(nm, "..") != 0) {
            char path[4096];
            int pn = snprintf(path, sizeof path, "%s/%s", dir, nm);
            struct stat sb;
            if (pn < 0 || (size_t)pn >= sizeof path) fail_msg("path too long: %s/%s", dir, nm);
            if (lstat(path, &sb) == 0 && S_ISDIR(sb.st_mode))
                remove_tree(path);
            else
                unlink(path);
        }
        free(names[i]);
    }
    free(names);
    rmdir(dir);
}

static void generated_corpus(void **state)
{
    (void)state;
    char dir[] = "/tmp/test_lparse_XXXXXX";
    assert_non_null(mkdtemp(dir));
    gen_corpus(dir, 50);
    tally t = {0};
    walk_tac(dir, diff_file, &t);
    remove_tree(dir);
    print_message("gen-corpus: %zu files compared (%zu nodes), %zu skipped\n", t.compared, t.nodes,
                  t.skipped);
    assert_int_equal(t.compared, 50);
}

/* ---- random programs ------------------------------------------------------------------------- */

/* Writes random Lua 5.4 from the whole grammar: every statement and
 * expression form, operators without parentheses (so precedence decides),
 * all string and number forms, comments and odd spacing between tokens. */
typedef struct {
    uint64_t rng;
    tx_buf out;
    char last;       /* last byte written (0 at a fresh separator) */
    bool tight;      /* omit spaces where tokens cannot merge */
    int depth;       /* expression/statement nesting left */
    bool in_loop;    /* `break` allowed */
    bool vararg;     /* `...` allowed */
    unsigned labels; /* unique label / const names */
} gen;

static uint64_t rnd(gen *g)
{
    uint64_t z = (g->rng += 0x9E3779B97F4A7C15u);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9u;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBu;
    return z ^ (z >> 31);
}

static unsigned pick(gen *g, unsigned n)
{
    return (unsigned)(rnd(g) % n);
}

static bool chance(gen *g, unsigned pct)
{
    return pick(g, 100) < pct;
}

static void put(gen *g, const char *s)
{
    size_t n = strlen(s);
    if (n == 0) return;
    if (tx_buf_append(&g->out, s, n) != TX_OK) fail_msg("generator buffer full");
    g->last = s[n - 1];
}

static bool word_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

/* Whitespace or a comment between two tokens. */
static void sep(gen *g)
{
    switch (pick(g, 40)) {
    case 0:
        put(g, "\n");
        break;
    case 1:
        put(g, "\n\n  ");
        break;
    case 2:
        put(g, "\t");
        break;
    case 3:
        put(g, " -- note\n");
        break;
    case 4:
        put(g, " --\n");
        break;
    case 5:
        put(g, " --[[ c ]] ");
        break;
    case 6:
        put(g, " --[==[ a ]] ]=]\n ]==] ");
        break;
    case 7:
        put(g, "\r\n");
        break;
    case 8:
        put(g, " ---[[ not long\n");
        break;
    case 9:
        put(g, "\f\v ");
        break;
    case 10:
        put(g, " --[=[\n]=]");
        break;
    default:
        put(g, " ");
        break;
    }
    g->last = ' ';
}

static void tok(gen *g, const char *t)
{
    char a = g->last, b = t[0];
    bool need = ((word_char(a) || a == '.') && (word_char(b) || b == '.')) ||
                (a == '.' && (b == '.' || (b >= '0' && b <= '9'))) ||
                (strchr("-[=<>~/:.", a) && a && strchr("-[=<>~/:.", b));
    if (need || !g->tight || chance(g, 15)) sep(g);
    put(g, t);
}

static void gen_name(gen *g)
{
    static const char *const names[] = {"a",  "b",    "x",   "foo",  "_",    "Procedure", "field",
                                        "t1", "ends", "iff", "nilx", "self", "_G",        "doer"};
    tok(g, names[pick(g, sizeof names / sizeof *names)]);
}

static void gen_number(gen *g)
{
    static const char *const nums[] = {"0",
                                       "42",
                                       "3.",
                                       ".5",
                                       "1e10",
                                       "1E-3",
                                       "2.5e+2",
                                       "0x1F",
                                       "0XfF",
                                       "0xA.8p3",
                                       "0x.1p-2",
                                       "0x10P+1",
                                       "007",
                                       "1.0",
                                       "0x7fffffffffffffff",
                                       "123456789012345678901234567890",
                                       "0xep1",
                                       "9.e2"};
    tok(g, nums[pick(g, sizeof nums / sizeof *nums)]);
}

static void gen_string(gen *g)
{
    static const char *const shorts[] = {"\"\"",
                                         "''",
                                         "\"plain\"",
                                         "'it\\'s'",
                                         "\"a\\n\\t\\\\\\\"\\'b\"",
                                         "'\\x41\\u{48}\\u{10FFFF}\\65\\0'",
                                         "\"one\\z   \n   two\"",
                                         "\"line\\\nnext\"",
                                         "\"dash -- not a comment\"",
                                         "'[[ not long ]]'",
                                         "\"\\r\\n\\a\\b\\f\\v\"",
                                         "\"tab\there\"",
                                         "\"caf\xc3\xa9\"",
                                         "'\\z'",
                                         "\"\\\r\nx\"",
                                         "\"\\255\\12x\"",
                                         "'\\u{0}'"};
    static const char *const longs[] = {"[[]]",           "[[x]]",
                                        "[==[]==]",       "[[\nfirst newline]]",
                                        "[=[ a ]] b ]=]", "[==[\n]=]\n]]\n]==]",
                                        "[[ -- ]]",       "[[\r\n\r\n]]",
                                        "[=[]]]=]",       "[[line1\nline2\n]]"};
    if (chance(g, 60))
        tok(g, shorts[pick(g, sizeof shorts / sizeof *shorts)]);
    else
        tok(g, longs[pick(g, sizeof longs / sizeof *longs)]);
}

static void gen_expr(gen *g);
static void gen_block(gen *g);

static void gen_table(gen *g)
{
    tok(g, "{");
    unsigned n = pick(g, 4);
    for (unsigned i = 0; i < n; i++) {
        if (i) tok(g, pick(g, 2) ? "," : ";");
        switch (pick(g, 3)) {
        case 0:
            tok(g, "[");
            gen_expr(g);
            tok(g, "]");
            tok(g, "=");
            break;
        case 1:
            gen_name(g);
            tok(g, "=");
            break;
        default:
            break;
        }
        gen_expr(g);
    }
    if (n && chance(g, 30)) tok(g, pick(g, 2) ? "," : ";");
    tok(g, "}");
}

static void gen_args(gen *g)
{
    switch (pick(g, 5)) {
    case 0:
        gen_string(g);
        return;
    case 1:
        gen_table(g);
        return;
    default: {
        tok(g, "(");
        unsigned n = pick(g, 4);
        for (unsigned i = 0; i < n; i++) {
            if (i) tok(g, ",");
            gen_expr(g);
        }
        tok(g, ")");
        return;
    }
    }
}

/* prefixexp with suffixes; `call` forces a call at the end (a statement). */
static void gen_prefix(gen *g, bool call, bool assignable)
{
    g->depth--;
    if (!assignable && g->depth > 0 && chance(g, 12)) {
        tok(g, "(");
        gen_expr(g);
        tok(g, ")");
        if (!call) {
            tok(g, ".");
            gen_name(g);
        }
    } else {
        gen_name(g);
    }
    unsigned n = pick(g, 4);
    for (unsigned i = 0; i < n && g->depth > 0; i++) {
        switch (pick(g, 5)) {
        case 0:
            tok(g, ".");
            gen_name(g);
            break;
        case 1:
            tok(g, "[");
            gen_expr(g);
            tok(g, "]");
            break;
        case 2:
            tok(g, ":");
            gen_name(g);
            gen_args(g);
            break;
        default:
            gen_args(g);
            break;
        }
    }
    if (call) {
        if (chance(g, 30)) {
            tok(g, ":");
            gen_name(g);
        }
        gen_args(g);
    } else if (assignable && (g->last == ')' || g->last == '}' || g->last == '"' ||
                              g->last == '\'' || g->last == ']')) {
        /* ends in a call or index: make sure it ends in an index */
        tok(g, ".");
        gen_name(g);
    }
    g->depth++;
}

static void gen_function_body(gen *g)
{
    bool saved_vararg = g->vararg, saved_loop = g->in_loop;
    tok(g, "(");
    unsigned n = pick(g, 4);
    for (unsigned i = 0; i < n; i++) {
        if (i) tok(g, ",");
        gen_name(g);
    }
    g->vararg = chance(g, 40);
    if (g->vararg) {
        if (n) tok(g, ",");
        tok(g, "...");
    }
    tok(g, ")");
    g->in_loop = false;
    gen_block(g);
    tok(g, "end");
    g->vararg = saved_vararg;
    g->in_loop = saved_loop;
}

static void gen_simple(gen *g)
{
    switch (pick(g, g->depth > 0 ? 12 : 6)) {
    case 0:
        tok(g, "nil");
        break;
    case 1:
        tok(g, pick(g, 2) ? "true" : "false");
        break;
    case 2:
        gen_number(g);
        break;
    case 3:
        gen_string(g);
        break;
    case 4:
        if (g->vararg)
            tok(g, "...");
        else
            gen_name(g);
        break;
    case 5:
        gen_name(g);
        break;
    case 6:
    case 7:
        gen_prefix(g, false, false);
        break;
    case 8:
        g->depth--;
        gen_table(g);
        g->depth++;
        break;
    case 9:
        g->depth -= 2;
        tok(g, "function");
        gen_function_body(g);
        g->depth += 2;
        break;
    default:
        tok(g, "{");
        tok(g, "}");
        break;
    }
}

static void gen_expr(gen *g)
{
    static const char *const binops[] = {
        "or", "and", "<",  ">", "<=", ">=", "~=", "==", "|", "~", "&",
        "<<", ">>",  "..", "+", "-",  "*",  "/",  "//", "%", "^"};
    static const char *const unops[] = {"not", "-", "#", "~"};
    g->depth--;
    if (g->depth > 0 && chance(g, 20)) {
        tok(g, unops[pick(g, 4)]);
        gen_expr(g);
    } else if (g->depth > 0 && chance(g, 35)) {
        gen_expr(g);
        tok(g, binops[pick(g, sizeof binops / sizeof *binops)]);
        gen_expr(g);
    } else {
        gen_simple(g);
    }
    g->depth++;
}

static void gen_explist(gen *g)
{
    unsigned n = 1 + pick(g, 3);
    for (unsigned i = 0; i < n; i++) {
        if (i) tok(g, ",");
        gen_expr(g);
    }
}

static void gen_statement(gen *g)
{
    char buf[32];
    g->depth--;
    unsigned k = pick(g, g->depth > 0 ? 17 : 6);
    switch (k) {
    case 0:
        tok(g, ";");
        break;
    case 1:
    case 2: { /* assignment */
        unsigned n = 1 + pick(g, 3);
        for (unsigned i = 0; i < n; i++) {
            if (i) tok(g, ",");
            gen_prefix(g, false, true);
        }
        tok(g, "=");
        gen_explist(g);
        break;
    }
    case 3:
        gen_prefix(g, true, false);
        break;
    case 4: { /* local declaration, attributes on fresh names */
        tok(g, "local");
        unsigned n = 1 + pick(g, 3);
        bool closed = false; /* Lua allows one to-be-closed variable per list */
        for (unsigned i = 0; i < n; i++) {
            if (i) tok(g, ",");
            if (chance(g, 25)) {
                bool close = !closed && pick(g, 2);
                closed |= close;
                snprintf(buf, sizeof buf, "k%u", g->labels++);
                tok(g, buf);
                tok(g, "<");
                tok(g, close ? "close" : "const");
                tok(g, ">");
            } else {
                gen_name(g);
            }
        }
        if (chance(g, 70)) {
            tok(g, "=");
            gen_explist(g);
        }
        break;
    }
    case 5:
        if (g->in_loop) {
            tok(g, "break");
        } else {
            snprintf(buf, sizeof buf, "L%u", g->labels++);
            tok(g, "goto");
            tok(g, buf);
            tok(g, "::");
            tok(g, buf);
            tok(g, "::");
        }
        break;
    case 6:
        tok(g, "do");
        gen_block(g);
        tok(g, "end");
        break;
    case 7: {
        bool saved = g->in_loop;
        tok(g, "while");
        gen_expr(g);
        tok(g, "do");
        g->in_loop = true;
        gen_block(g);
        g->in_loop = saved;
        tok(g, "end");
        break;
    }
    case 8: {
        bool saved = g->in_loop;
        tok(g, "repeat");
        g->in_loop = true;
        gen_block(g);
        g->in_loop = saved;
        tok(g, "until");
        gen_expr(g);
        break;
    }
    case 9: {
        tok(g, "if");
        gen_expr(g);
        tok(g, "then");
        gen_block(g);
        unsigned n = pick(g, 3);
        for (unsigned i = 0; i < n; i++) {
            tok(g, "elseif");
            gen_expr(g);
            tok(g, "then");
            gen_block(g);
        }
        if (chance(g, 50)) {
            tok(g, "else");
            gen_block(g);
        }
        tok(g, "end");
        break;
    }
    case 10:
    case 11: {
        bool saved = g->in_loop;
        tok(g, "for");
        if (k == 10) {
            gen_name(g);
            tok(g, "=");
            gen_expr(g);
            tok(g, ",");
            gen_expr(g);
            if (chance(g, 40)) {
                tok(g, ",");
                gen_expr(g);
            }
        } else {
            unsigned n = 1 + pick(g, 3);
            for (unsigned i = 0; i < n; i++) {
                if (i) tok(g, ",");
                gen_name(g);
            }
            tok(g, "in");
            gen_explist(g);
        }
        tok(g, "do");
        g->in_loop = true;
        gen_block(g);
        g->in_loop = saved;
        tok(g, "end");
        break;
    }
    case 12: {
        tok(g, "function");
        gen_name(g);
        unsigned n = pick(g, 3);
        for (unsigned i = 0; i < n; i++) {
            tok(g, ".");
            gen_name(g);
        }
        if (chance(g, 30)) {
            tok(g, ":");
            gen_name(g);
        }
        gen_function_body(g);
        break;
    }
    case 13:
        tok(g, "local");
        tok(g, "function");
        gen_name(g);
        gen_function_body(g);
        break;
    case 14: { /* a statement starting with `(`: continues the previous call */
        tok(g, "(");
        gen_name(g);
        tok(g, ")");
        if (chance(g, 50)) {
            tok(g, ".");
            gen_name(g);
            tok(g, "=");
            gen_expr(g);
        } else {
            gen_args(g);
        }
        break;
    }
    default:
        gen_prefix(g, true, false);
        break;
    }
    g->depth++;
}

static void gen_block(gen *g)
{
    unsigned n = pick(g, g->depth > 0 ? 4 : 2);
    for (unsigned i = 0; i < n; i++)
        gen_statement(g);
    if (chance(g, 20)) {
        tok(g, "return");
        if (chance(g, 70)) gen_explist(g);
        if (chance(g, 30)) tok(g, ";");
    }
}

static char *gen_program(uint64_t seed, size_t *len)
{
    gen g = {.rng = seed * 0x2545F4914F6CDD1Du + 1, .vararg = true};
    tx_buf_init(&g.out, 64u << 20);
    g.tight = chance(&g, 50);
    g.depth = 4 + (int)pick(&g, 6);
    if (chance(&g, 20)) sep(&g);
    unsigned n = 1 + pick(&g, 12);
    for (unsigned i = 0; i < n; i++)
        gen_statement(&g);
    if (chance(&g, 25)) {
        tok(&g, "return");
        if (chance(&g, 70)) gen_explist(&g);
    }
    if (chance(&g, 30)) sep(&g);
    if (!g.out.data) put(&g, " ");
    *len = g.out.len;
    return tx_buf_steal(&g.out);
}

static void random_programs(void **state)
{
    (void)state;
    /* LPARSE_RANDOM=COUNT[,FIRST] runs other programs (for longer sweeps) */
    unsigned count = SANITIZED ? 800 : 3000, first = 1;
    const char *env = getenv("LPARSE_RANDOM");
    if (env && sscanf(env, "%u,%u", &count, &first) < 1) fail_msg("LPARSE_RANDOM=COUNT[,FIRST]");
    size_t compared = 0, rejected = 0, nodes = 0, bytes = 0;
    for (unsigned i = first - 1; i < first - 1 + count; i++) {
        size_t len;
        char *src = gen_program(i + 1, &len);
        if (lua_accepts(src, len)) {
            char label[64];
            snprintf(label, sizeof label, "random program #%u", i + 1);
            nodes += diff_source(label, src, len);
            compared++;
            bytes += len;
        } else {
            if (getenv("LPARSE_SHOW_REJECTS")) {
                luaL_loadbufferx(L, src, len, "=t", "t");
                print_message("#%u: %s\n", i + 1, lua_tostring(L, -1));
                if (rejected < 3) print_message("%.*s\n", (int)len, src);
                lua_pop(L, 1);
            }
            rejected++;
        }
        tx_free(src);
    }
    print_message("random programs: %zu compared (%zu bytes, %zu nodes), %zu rejected by Lua\n",
                  compared, bytes, nodes, rejected);
    assert_true(compared >= count * 8 / 10);
}

/* Mutations of valid sources (truncation, a byte deleted, duplicated or
 * replaced): fe_lparse must never crash, must accept and match whatever
 * Lua accepts, and should reject most of what Lua rejects (not all: Lua
 * also checks goto targets, `break` outside loops, `...` outside vararg
 * functions and assignments to <const>, which a parser does not). */
static void mutations(void **state)
{
    (void)state;
    static const char noise[] = "()[]{}=,;.:'\"-+*/<>~#\\ \nxend0[[--";
    /* LPARSE_MUTATIONS=COUNT[,SEED] for longer sweeps */
    unsigned count = SANITIZED ? 800 : 3000, seed = 77;
    const char *env = getenv("LPARSE_MUTATIONS");
    if (env && sscanf(env, "%u,%u", &count, &seed) < 1) fail_msg("LPARSE_MUTATIONS=COUNT[,SEED]");
    size_t accepted = 0, agree = 0, both_reject = 0;
    gen g = {.rng = seed};
    for (unsigned i = 0; i < count; i++) {
        size_t len;
        char *src = gen_program(pick(&g, 100000) + 1, &len);
        size_t at = len ? pick(&g, (unsigned)len) : 0;
        switch (pick(&g, 4)) {
        case 0:
            len = at;
            break;
        case 1:
            if (len) {
                memmove(src + at, src + at + 1, len - at - 1);
                len--;
            }
            break;
        case 2:
            if (len) src[at] = noise[pick(&g, sizeof noise - 1)];
            break;
        default: {
            size_t span = 1 + pick(&g, 8);
            if (at + span > len) span = len - at;
            char *grown = tx_malloc(len + span + 1);
            memcpy(grown, src, at + span);
            memcpy(grown + at + span, src + at, len - at);
            tx_free(src);
            src = grown;
            len += span;
            break;
        }
        }
        tx_arena arena;
        tx_arena_init(&arena);
        fe_ast ast;
        tx_status st = fe_lparse(&arena, src, len, &ast);
        assert_int_equal(st, TX_OK);
        tx_arena_free(&arena);
        if (lua_accepts(src, len)) {
            char label[64];
            snprintf(label, sizeof label, "mutation #%u", i);
            diff_source(label, src, len);
            accepted++;
        } else if (!ast.ok) {
            both_reject++;
        }
        if (ast.ok == lua_accepts(src, len)) {
            agree++;
        } else if (getenv("LPARSE_SHOW_REJECTS")) {
            luaL_loadbufferx(L, src, len, "=t", "t");
            print_message("#%u: Lua only: %s\n", i, lua_tostring(L, -1));
            lua_pop(L, 1);
        }
        tx_free(src);
    }
    print_message("mutations: %u, Lua accepts %zu (all compared), both reject %zu, verdicts "
                  "agree on %zu\n",
                  count, accepted, both_reject, agree);
    assert_true(agree >= count * 9 / 10);
}

/* ---- targeted tests
 * ------------------------------------------------------------------------------ */

/* Compact S-expression of a subtree: identifiers and numbers as their
 * text, anonymous tokens as their kind name, other nodes as (kind ...). */
static void sexp(tx_buf *b, const char *src, const fe_node *n)
{
    if (!n->named) {
        tx_buf_puts(b, fe_kind_name(n->kind));
        return;
    }
    if (n->kind == FE_K_IDENTIFIER || n->kind == FE_K_NUMBER) {
        tx_buf_append(b, src + n->start_byte, n->end_byte - n->start_byte);
        return;
    }
    tx_buf_printf(b, "(%s", fe_kind_name(n->kind));
    for (const fe_node *c = n->first; c; c = c->next) {
        tx_buf_puts(b, " ");
        sexp(b, src, c);
    }
    tx_buf_puts(b, ")");
}

/* The tree of `return EXPR`'s expression. */
static void check_expr(const char *expr, const char *want)
{
    char src[512];
    snprintf(src, sizeof src, "return %s", expr);
    assert_true(lua_accepts(src, strlen(src)));
    diff_source(src, src, strlen(src));
    tx_arena arena;
    tx_arena_init(&arena);
    fe_ast ast;
    assert_int_equal(fe_lparse(&arena, src, strlen(src), &ast), TX_OK);
    assert_true(ast.ok);
    const fe_node *ret = fe_node_named_child(ast.root, 0);
    const fe_node *e = fe_node_child_by_field(fe_node_named_child(ret, 0), FE_F_VALUE);
    tx_buf b;
    tx_buf_init(&b, 1 << 16);
    sexp(&b, src, e);
    if (strcmp(b.data, want) != 0) {
        print_message("%s\n  got:  %s\n  want: %s\n", expr, b.data, want);
        fail_msg("wrong tree for %s", expr);
    }
    tx_buf_free(&b);
    tx_arena_free(&arena);
}

static void precedence(void **state)
{
    (void)state;
    check_expr("-x^2", "(unary_expression - (binary_expression x ^ 2))");
    check_expr("2^-3^2", "(binary_expression 2 ^ (unary_expression - (binary_expression 3 ^ 2)))");
    check_expr("a^b^c", "(binary_expression a ^ (binary_expression b ^ c))");
    check_expr("a..b..c", "(binary_expression a .. (binary_expression b .. c))");
    check_expr("a-b-c", "(binary_expression (binary_expression a - b) - c)");
    check_expr("a+b*c", "(binary_expression a + (binary_expression b * c))");
    check_expr("a or b and c", "(binary_expression a or (binary_expression b and c))");
    check_expr("not a == b", "(binary_expression (unary_expression not a) == b)");
    check_expr("a < b == c", "(binary_expression (binary_expression a < b) == c)");
    check_expr("a | b ~ c & d << e .. f + g * h",
               "(binary_expression a | (binary_expression b ~ (binary_expression c & "
               "(binary_expression d << (binary_expression e .. (binary_expression f + "
               "(binary_expression g * h)))))))");
    check_expr("a // b % c / d", "(binary_expression (binary_expression (binary_expression a // b) "
                                 "% c) / d)");
    check_expr("#t + 1", "(binary_expression (unary_expression # t) + 1)");
    check_expr("~a ~ b", "(binary_expression (unary_expression ~ a) ~ b)");
    check_expr("- - a", "(unary_expression - (unary_expression - a))");
    check_expr("a .. b + c", "(binary_expression a .. (binary_expression b + c))");
    check_expr("-a .. b", "(binary_expression (unary_expression - a) .. b)");
    check_expr("a^-b+c", "(binary_expression (binary_expression a ^ (unary_expression - b)) + c)");
    check_expr("a >> b >> c", "(binary_expression (binary_expression a >> b) >> c)");
    check_expr("f(x).y[z]:m 's'",
               "(function_call (method_index_expression (bracket_index_expression "
               "(dot_index_expression (function_call f (arguments x)) y) z) m) "
               "(arguments (string ' (string_content) ')))");
    check_expr("(f)()", "(function_call (parenthesized_expression f) (arguments))");
    check_expr(
        "Procedure \"n\" {a = 1; [2] = 3, 4,}",
        "(function_call (function_call Procedure (arguments (string \" (string_content) \"))) "
        "(arguments (table_constructor (field a 1) (field 2 3) (field 4))))");
    check_expr("function(a, ...) return ... end",
               "(function_definition (parameters a (vararg_expression)) (block (return_statement "
               "(expression_list (vararg_expression)))))");
}

/* Children of the first string literal in `src` (after `return `). */
static const fe_node *first_string(fe_ast *ast, tx_arena *arena, const char *src)
{
    assert_int_equal(fe_lparse(arena, src, strlen(src), ast), TX_OK);
    assert_true(ast->ok);
    const fe_node *ret = fe_node_named_child(ast->root, 0);
    const fe_node *s = fe_node_child_by_field(fe_node_named_child(ret, 0), FE_F_VALUE);
    assert_int_equal(s->kind, FE_K_STRING);
    return s;
}

static void strings(void **state)
{
    (void)state;
    static const char *const cases[] = {
        "return \"\"",
        "return ''",
        "return \"a\\z\n\n   b\"",
        "return 'x\\\ny'",
        "return '\\\r\nq'",
        "return \"\\x41\\u{7FFFFFFF}\\255\\0\\a\\b\\f\\n\\r\\t\\v\\\\\\\"\\'\"",
        "return [[]]",
        "return [==[\n]]]=]\n]==]",
        "return [[\n\n]]",
        "return [=[x]]]=]",
        "return \"--[[ x ]]\"",
        "x = f[[s]] .. g'q' .. h\"r\"",
        /* bytes that are not UTF-8 (Lua takes them; tree-sitter decodes
         * them one by one): positions stay byte positions */
        "x = \"\xE2\"\ny = \"\xF0\x9F\" .. '\xE2\x80' .. \"\xff\xfe\" -- \xE2\nz = 1",
        "z = [[\xC3]] --[[\xF0]] w = [==[\xF0\x9F\x98]==] --\xE2\x82",
        "s = '\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80' .. \"\xED\xA0\x80\"",
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        assert_true(lua_accepts(cases[i], strlen(cases[i])));
        diff_source(cases[i], cases[i], strlen(cases[i]));
    }
    tx_arena arena;
    tx_arena_init(&arena);
    fe_ast ast;
    /* long bracket of level 2 over two lines: delimiters keep their `=`s */
    const fe_node *s = first_string(&ast, &arena, "return [==[\nab]==]");
    const fe_node *open = fe_node_child_by_field(s, FE_F_START);
    const fe_node *content = fe_node_child_by_field(s, FE_F_CONTENT);
    const fe_node *close = fe_node_child_by_field(s, FE_F_END);
    assert_int_equal(open->kind, FE_K_LONG_OPEN);
    assert_false(open->named);
    assert_int_equal(open->end_byte - open->start_byte, 4);
    assert_int_equal(content->start_byte, 11);
    assert_int_equal(content->end_byte, 14);
    assert_int_equal(content->end.row, 1);
    assert_int_equal(content->end.column, 2);
    assert_int_equal(close->kind, FE_K_LONG_CLOSE);
    assert_int_equal(close->start.column, 2);
    assert_int_equal(close->end.column, 6);
    /* empty strings have no content node */
    s = first_string(&ast, &arena, "return ''");
    assert_null(fe_node_child_by_field(s, FE_F_CONTENT));
    assert_int_equal(fe_node_child_by_field(s, FE_F_START)->kind, FE_K_SQUOTE);
    assert_int_equal(s->n_named, 0);
    tx_arena_free(&arena);
}

static void numbers(void **state)
{
    (void)state;
    static const char *const good[] = {"0",
                                       "42",
                                       "3.",
                                       ".5",
                                       "3.14",
                                       "1e10",
                                       "1E-3",
                                       "2.5e+2",
                                       "5.e3",
                                       ".5e-1",
                                       "0x1F",
                                       "0XfF",
                                       "0xA.8p3",
                                       "0x.1p-2",
                                       "0x10P+1",
                                       "0xA.",
                                       "0x1p4",
                                       "0xe",
                                       "9007199254740993",
                                       "0xffffffffffffffffff",
                                       "1"
                                       "0000000000000000000000"};
    for (size_t i = 0; i < sizeof good / sizeof *good; i++) {
        char src[128];
        snprintf(src, sizeof src, "return %s", good[i]);
        assert_true(lua_accepts(src, strlen(src)));
        check_expr(good[i], good[i]);
    }
    /* `0xe+1` is hex 0xe plus 1; `1..2` is not a number */
    check_expr("0xe+1", "(binary_expression 0xe + 1)");
    check_expr("1 .. 2", "(binary_expression 1 .. 2)");
    static const char *const bad[] = {"3x", "1e", "0x", "1..2", "0x1p", "1.2.3", "08f", "3do"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char src[128];
        snprintf(src, sizeof src, "return %s", bad[i]);
        assert_false(lua_accepts(src, strlen(src)));
        tx_arena arena;
        tx_arena_init(&arena);
        fe_ast ast;
        assert_int_equal(fe_lparse(&arena, src, strlen(src), &ast), TX_OK);
        assert_false(ast.ok);
        assert_int_equal(ast.err_byte, 7);
        assert_non_null(strstr(ast.err_msg, "malformed number"));
        tx_arena_free(&arena);
    }
}

/* The root's range (tree-sitter: from the first token or comment, or the
 * end of the file when there is none, to the end of the file), hash-bang
 * lines, comments of every form. */
static void chunk_ranges_and_comments(void **state)
{
    (void)state;
    static const char *const cases[] = {
        "",
        "\n  \n",
        "\n-- only a comment\n",
        "  x()  ",
        "--[==[ long\n comment ]] ]==] x = 1 --[[ trailing ]]\n\n",
        "#!/usr/bin/env lua\nx = 1\n",
        "  #!/bin/lua\nx()",
        "#!",
        "do -- a\n --b\n x() -- c\n -- d\n y() --e\n end",
        "x = 1 -- c\r\ny = 2\rz = 3",
        "---[[ not long\nx = 1",
        "--[ not long either\nx = 1",
        "--\nx = 1 --",
        "return",
        "return;",
        ";;",
        "\xef\xbb\xbfx = 1",
        "\xef\xbb\xbf",
        "-- c\n#!x\nx()",
        "--[[ c ]]#!x\nx()",
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        diff_source(cases[i], cases[i], strlen(cases[i]));
    }
}

static void check_error(const char *src, uint32_t byte, const char *msg_part)
{
    size_t len = strlen(src);
    assert_false(lua_accepts(src, len));
    tx_arena arena;
    tx_arena_init(&arena);
    fe_ast ast;
    tx_status st = fe_lparse(&arena, src, len, &ast);
    if (st != TX_OK || ast.ok || ast.err_byte != byte || !strstr(ast.err_msg, msg_part)) {
        print_message("%s\n  status %d ok %d at byte %u (%u:%u): %s\n  want byte %u, \"%s\"\n", src,
                      (int)st, ast.ok, ast.err_byte, ast.err_point.row, ast.err_point.column,
                      ast.err_msg, byte, msg_part);
        fail_msg("wrong error for %s", src);
    }
    assert_null(ast.root);
    tx_span sp = tx_span_of_bytes(src, len, byte, byte);
    assert_int_equal(ast.err_point.row, sp.start.row);
    assert_int_equal(ast.err_point.column, sp.start.column);
    tx_arena_free(&arena);
}

static void errors(void **state)
{
    (void)state;
    check_error("x = = 1", 4, "unexpected symbol near '='");
    check_error("if x then\n  y()\n", 16, "'end' expected (to close 'if' at line 1) near <eof>");
    check_error("x = \"abc\ny = 1", 4, "unfinished string");
    check_error("x = [==[ abc ]=]", 4, "unfinished long string");
    check_error("--[[ abc", 0, "unfinished long comment");
    check_error("x = 3x", 4, "malformed number near '3x'");
    check_error("x = '\\q'", 5, "invalid escape sequence");
    check_error("x = '\\300'", 5, "decimal escape too large");
    check_error("x = '\\xZZ'", 5, "hexadecimal digit expected");
    check_error("x = '\\u{80000000}'", 5, "UTF-8 value too large");
    check_error("local x <foo> = 1", 9, "unknown attribute 'foo'");
    check_error("f() = 1", 0, "cannot assign");
    check_error("x", 1, "syntax error near <eof>");
    check_error("return 1 x = 2", 9, "'<eof>' expected near 'x'");
    check_error("x = 1 end", 6, "'<eof>' expected near 'end'");
    check_error("\n\n  @", 4, "unexpected symbol near '@'");
    check_error("t = {1, 2", 9, "'}' expected");
    check_error("x = a[=", 5, "invalid long string delimiter");
    check_error("f(a b)", 4, "')' expected near 'b'");
    check_error("for i do end", 6, "'=' or 'in' expected");
    check_error("a:b = 1", 4, "function arguments expected");
    check_error("local function(x) end", 14, "<name> expected");
    check_error("function f(a, 1) end", 14, "<name> expected");
    check_error("x = #!", 5, "unexpected symbol");
}

static void limits(void **state)
{
    (void)state;
    tx_buf b;
    tx_buf_init(&b, 1 << 20);
    /* 190 levels is fine (Lua allows it), 1100 exceeds FE_LPARSE_MAX_DEPTH */
    for (int depth = 190; depth <= 1100; depth += 910) {
        b.len = 0;
        tx_buf_puts(&b, "x = ");
        for (int i = 0; i < depth; i++)
            tx_buf_puts(&b, "(");
        tx_buf_puts(&b, "1");
        for (int i = 0; i < depth; i++)
            tx_buf_puts(&b, ")");
        tx_arena arena;
        tx_arena_init(&arena);
        fe_ast ast;
        tx_status st = fe_lparse(&arena, b.data, b.len, &ast);
        assert_int_equal(st, depth < FE_LPARSE_MAX_DEPTH ? TX_OK : TX_ELIMIT);
        if (depth < FE_LPARSE_MAX_DEPTH) {
            assert_true(ast.ok);
            diff_source("190 parentheses", b.data, b.len);
        } else {
            assert_null(ast.root);
        }
        tx_arena_free(&arena);
    }
    /* nested blocks, tables, unary operators and `..` chains */
    static const char *const prefix[] = {"", "x = ", "x = ", "x = "};
    static const char *const open[] = {"do ", "{", "- ", "a .. "};
    static const char *const close[] = {"end ", "}", "", ""};
    for (size_t k = 0; k < 4; k++) {
        b.len = 0;
        tx_buf_puts(&b, prefix[k]);
        for (int i = 0; i < 100000; i++)
            tx_buf_puts(&b, open[k]);
        tx_buf_puts(&b, k == 0 ? "" : "1");
        for (int i = 0; i < 100000; i++)
            tx_buf_puts(&b, close[k]);
        tx_arena arena;
        tx_arena_init(&arena);
        fe_ast ast;
        assert_int_equal(fe_lparse(&arena, b.data, b.len, &ast), TX_ELIMIT);
        assert_null(ast.root);
        tx_arena_free(&arena);
    }
    /* a long flat chain of left-associative operators does not recurse */
    b.len = 0;
    tx_buf_puts(&b, "x = 1");
    for (int i = 0; i < 100000; i++)
        tx_buf_puts(&b, " + 1");
    tx_arena arena;
    tx_arena_init(&arena);
    fe_ast ast;
    assert_int_equal(fe_lparse(&arena, b.data, b.len, &ast), TX_OK);
    assert_true(ast.ok);
    tx_arena_free(&arena);
    tx_buf_free(&b);
}

/* Every allocation failing in turn: TX_ENOMEM, no crash, no leak (the
 * arena owns everything and the caller frees it). */
static void out_of_memory(void **state)
{
    (void)state;
    size_t len;
    char *src = gen_program(4242, &len);
    tx_buf big;
    tx_buf_init(&big, 1 << 24);
    for (int i = 0; i < 40; i++) {
        tx_buf_puts(&big, "do\n");
        tx_buf_append(&big, src, len);
        tx_buf_puts(&big, "\nend\n");
    }
    tx_free(src);
    bool done = false;
    for (long n = 0; !done && n < 10000; n++) {
        tx_arena arena;
        tx_arena_init(&arena);
        fe_ast ast;
        tx_alloc_fail_after(n);
        tx_status st = fe_lparse(&arena, big.data, big.len, &ast);
        tx_alloc_fail_after(-1);
        if (st == TX_OK) {
            done = true;
        } else {
            assert_int_equal(st, TX_ENOMEM);
            assert_null(ast.root);
        }
        tx_arena_free(&arena);
    }
    assert_true(done);
    tx_buf_free(&big);
}

static void accessors(void **state)
{
    (void)state;
    const char *src = "local a <const>, b = 1, 2\nlocal function f() end";
    tx_arena arena;
    tx_arena_init(&arena);
    fe_ast ast;
    assert_int_equal(fe_lparse(&arena, src, strlen(src), &ast), TX_OK);
    assert_true(ast.ok);
    const fe_node *decl = fe_node_named_child(ast.root, 0);
    assert_int_equal(decl->kind, FE_K_VARIABLE_DECLARATION);
    assert_int_equal(decl->first->kind, FE_K_LOCAL);
    assert_false(decl->first->named);
    assert_int_equal(decl->n_named, 2);
    const fe_node *vars = fe_node_named_child(decl, 0);
    assert_int_equal(vars->kind, FE_K_VARIABLE_LIST);
    assert_int_equal(vars->n_named, 3);
    const fe_node *attr = fe_node_child_by_field(vars, FE_F_ATTRIBUTE);
    assert_int_equal(attr->kind, FE_K_ATTRIBUTE);
    assert_null(fe_node_named_child(vars, 3));
    const fe_node *fn = fe_node_named_child(ast.root, 1);
    assert_int_equal(fn->kind, FE_K_FUNCTION_DECLARATION);
    assert_int_equal(fn->first->kind, FE_K_LOCAL);
    assert_null(fe_node_child_by_field(fn, FE_F_BODY));
    assert_non_null(fe_node_child_by_field(fn, FE_F_PARAMETERS));
    assert_null(fe_node_named_child(ast.root, 2));
    assert_string_equal(fe_kind_name(FE_K_LONG_OPEN), "[[");
    assert_string_equal(fe_kind_name(9999), "?");
    assert_null(fe_field_name(FE_F_NONE));
    assert_string_equal(fe_field_name(FE_F_CONSEQUENCE), "consequence");
    for (uint16_t k = 0; k < FE_K__COUNT; k++) {
        assert_non_null(fe_kind_name(k));
        assert_int_not_equal(strcmp(fe_kind_name(k), "?"), 0);
        /* every kind is a node type of the grammar with the same namedness */
        TSSymbol sym =
            ts_language_symbol_for_name(tree_sitter_tactus(), fe_kind_name(k),
                                        (uint32_t)strlen(fe_kind_name(k)), k < FE_K_LOCAL);
        assert_int_not_equal(sym, 0);
    }
    for (uint16_t f = 1; f < FE_F__COUNT; f++)
        assert_int_not_equal(ts_language_field_id_for_name(tree_sitter_tactus(), fe_field_name(f),
                                                           (uint32_t)strlen(fe_field_name(f))),
                             0);
    tx_arena_free(&arena);
}

/* ---- speed
 * ---------------------------------------------------------------------------------------- */

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

typedef struct {
    char **data;
    size_t *len;
    size_t n, cap;
} file_set;

static void collect_file(const char *path, void *ud)
{
    file_set *fs = ud;
    if (fs->n == fs->cap) {
        fs->cap = fs->cap ? fs->cap * 2 : 64;
        fs->data = tx_realloc(fs->data, fs->cap * sizeof *fs->data);
        fs->len = tx_realloc(fs->len, fs->cap * sizeof *fs->len);
        assert_true(fs->data && fs->len);
    }
    fs->data[fs->n] = read_all(path, &fs->len[fs->n]);
    fs->n++;
}

/* Informational only: MB/s of fe_lparse, per file (each with its own arena,
 * as the frontend uses it) and on all files concatenated into one ~5 MB
 * chunk (each in its own do ... end), against tree-sitter on the latter. */
static void speed(void **state)
{
    (void)state;
    char dir[] = "/tmp/test_lparse_XXXXXX";
    assert_non_null(mkdtemp(dir));
    gen_corpus(dir, SANITIZED ? 100 : 1000);
    file_set fs = {0};
    walk_tac(dir, collect_file, &fs);
    remove_tree(dir);
    tx_buf big;
    tx_buf_init(&big, 64u << 20);
    for (size_t i = 0; i < fs.n; i++) {
        /* `return` stays last in its block, locals stay scoped */
        tx_buf_puts(&big, "do\n");
        tx_buf_append(&big, fs.data[i], fs.len[i]);
        tx_buf_puts(&big, "\nend\n");
    }
    assert_non_null(big.data);
    double mb = (double)big.len / 1e6;

    double best_files = 1e9, best_big = 1e9;
    for (int run = 0; run < 5; run++) {
        double t0 = now_s();
        for (size_t i = 0; i < fs.n; i++) {
            tx_arena arena;
            tx_arena_init(&arena);
            fe_ast ast;
            assert_int_equal(fe_lparse(&arena, fs.data[i], fs.len[i], &ast), TX_OK);
            assert_true(ast.ok);
            tx_arena_free(&arena);
        }
        double t = now_s() - t0;
        if (t < best_files) best_files = t;
    }
    size_t nodes = 0;
    for (int run = 0; run < 5; run++) {
        tx_arena arena;
        tx_arena_init(&arena);
        fe_ast ast;
        double t0 = now_s();
        tx_status st = fe_lparse(&arena, big.data, big.len, &ast);
        double t = now_s() - t0;
        assert_int_equal(st, TX_OK);
        assert_true(ast.ok);
        if (t < best_big) best_big = t;
        if (run == 0) {
            const fe_node *stack[4096];
            size_t sp = 0;
            stack[sp++] = ast.root;
            while (sp) {
                const fe_node *n = stack[--sp];
                nodes++;
                for (const fe_node *c = n->first; c; c = c->next) {
                    assert_true(sp < 4096);
                    stack[sp++] = c;
                }
            }
        }
        tx_arena_free(&arena);
    }
    double t0 = now_s();
    TSTree *tree = ts_parser_parse_string(ts, NULL, big.data, (uint32_t)big.len);
    double tts = now_s() - t0;
    print_message("speed%s: %zu files, %.2f MB, %zu nodes\n"
                  "  fe_lparse, file by file:   %6.1f ms  %4.0f MB/s\n"
                  "  fe_lparse, one chunk:      %6.1f ms  %4.0f MB/s\n"
                  "  tree-sitter, one chunk:    %6.1f ms  %4.1f MB/s (%.0fx slower)\n",
                  SANITIZED ? " [sanitizer build: not representative]" : "", fs.n, mb, nodes,
                  best_files * 1e3, mb / best_files, best_big * 1e3, mb / best_big, tts * 1e3,
                  mb / tts, tts / best_big);
    /* and the same input through the differential comparison */
    diff_tree("gen-corpus concatenated", big.data, big.len, tree);
    tx_buf_free(&big);
    for (size_t i = 0; i < fs.n; i++)
        tx_free(fs.data[i]);
    tx_free(fs.data);
    tx_free(fs.len);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(precedence),
        cmocka_unit_test(strings),
        cmocka_unit_test(numbers),
        cmocka_unit_test(chunk_ranges_and_comments),
        cmocka_unit_test(errors),
        cmocka_unit_test(limits),
        cmocka_unit_test(out_of_memory),
        cmocka_unit_test(accessors),
        cmocka_unit_test(examples_and_cli_cases),
        cmocka_unit_test(grammar_corpus),
        cmocka_unit_test(generated_corpus),
        cmocka_unit_test(random_programs),
        cmocka_unit_test(mutations),
        cmocka_unit_test(speed),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
