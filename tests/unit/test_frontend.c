/* Unit tests of frontend/: the declaration model and its source spans. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

#include "checker.h"
#include "frontend.h"

static fe_context *ctx;

static int setup(void **state)
{
    (void)state;
    ctx = fe_context_new();
    return ctx ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    fe_context_free(ctx);
    return 0;
}

static fe_file *parse(const char *src)
{
    fe_file *f = NULL;
    assert_int_equal(fe_parse(ctx, "t.tac", src, strlen(src), &f), TX_OK);
    assert_non_null(f);
    return f;
}

static void procedures_in_every_form(void **state)
{
    (void)state;
    fe_file *f = parse("Procedure { input = { x = field.number{required = true} },\n"
                       "  output = { y = field.number{} },\n"
                       "  function(input) return {y = input.x * 2} end }\n"
                       "helper = Procedure { function() return 1 end }\n"
                       "Procedure \"named\" { function() end }\n"
                       "old = procedure(\"old\", {}, function() end)\n");
    assert_true(f->lua_ok);
    assert_int_equal(f->n_procedures, 4);
    const fe_procedure *p = f->procedures;
    assert_string_equal(p->name, "main");
    assert_false(p->named);
    assert_non_null(p->function);
    assert_int_equal(p->input.n_fields, 1);
    assert_string_equal(p->input.fields->name, "x");
    assert_int_equal(p->input.fields->type, FE_TYPE_NUMBER);
    assert_true(p->input.fields->required);
    assert_non_null(p->returns);
    assert_non_null(fe_value_get(p->returns->value, "y"));
    p = p->next;
    assert_string_equal(p->name, "helper");
    assert_true(p->named);
    p = p->next;
    assert_string_equal(p->name, "named");
    assert_int_equal(p->name_span.start.row, 4);
    p = p->next;
    assert_string_equal(p->name, "old");
    assert_non_null(p->function);
    fe_file_free(f);
}

static void script_mode_and_plain_main(void **state)
{
    (void)state;
    fe_file *f = parse("input { name = field.string{required = true} }\n"
                       "output { greeting = field.string{} }\n"
                       "local g = 'Hi ' .. input.name\n"
                       "return { greeting = g }\n");
    assert_int_equal(f->n_procedures, 1);
    assert_true(f->procedures->script_mode);
    assert_int_equal(f->procedures->input.n_fields, 1);
    assert_int_equal(f->procedures->output.n_fields, 1);
    assert_non_null(f->procedures->returns);
    fe_file_free(f);

    f = parse("function main()\n  return 1\nend\n");
    assert_int_equal(f->n_procedures, 1);
    assert_true(f->procedures->plain_main);
    fe_file_free(f);
}

static void agents_tools_and_grants(void **state)
{
    (void)state;
    fe_file *f = parse("local done = require(\"tactus.tools.done\")\n"
                       "search = Tool { description = 'd', input = { q = field.string{} }, "
                       "function(a) return a end }\n"
                       "ping = Tool { use = \"broker.host.ping\" }\n"
                       "kit = Toolset { tools = {} }\n"
                       "writer = Agent { model = \"openai/gpt-4o-mini\", tools = {search, done} }\n"
                       "Agent \"critic\" { model = { name = \"anthropic/claude\" } }\n");
    const fe_tool *t = f->tools;
    assert_string_equal(t->name, "done");
    assert_int_equal(t->kind, FE_TOOL_STDLIB);
    t = t->next;
    assert_string_equal(t->name, "search");
    assert_int_equal(t->kind, FE_TOOL_LUA);
    assert_int_equal(t->input.n_fields, 1);
    t = t->next;
    assert_int_equal(t->kind, FE_TOOL_BROKER);
    assert_string_equal(t->use, "broker.host.ping");
    t = t->next;
    assert_int_equal(t->kind, FE_TOOL_TOOLSET);
    const fe_agent *a = f->agents;
    assert_string_equal(a->name, "writer");
    assert_string_equal(a->model, "openai/gpt-4o-mini");
    assert_int_equal(a->tools->n_entries, 2);
    assert_string_equal(fe_value_at(a->tools, 0)->str, "search");
    a = a->next;
    assert_string_equal(a->name, "critic");
    assert_string_equal(a->model, "anthropic/claude");
    fe_file_free(f);
}

static void strings_are_decoded(void **state)
{
    (void)state;
    fe_file *f = parse("x = Tool { description = \"a\\tb\\x41\\u{E9}\\65\\z\n   c\", "
                       "function() end }\nprint(x)\n");
    const fe_value *d = fe_value_get(f->tools->config, "description");
    assert_non_null(d);
    assert_int_equal(d->kind, FE_STRING);
    assert_string_equal(d->str, "a\tbA\xc3\xa9" "Ac");
    fe_file_free(f);
}

static void specifications_have_tac_positions(void **state)
{
    (void)state;
    const char *src = "Procedure { function() return 1 end }\n"
                      "Specifications([[\n"
                      "Feature: Greeting\n"
                      "  @smoke\n"
                      "  Scenario: says hello\n"
                      "    Given the procedure has started\n"
                      "    When the procedure runs\n"
                      "    Then the output should be 1\n"
                      "  Scenario Outline: many\n"
                      "    Then the output should be <n>\n"
                      "    Examples:\n"
                      "      | n |\n"
                      "      | 1 |\n"
                      "]])\n";
    fe_file *f = parse(src);
    assert_non_null(f->specs);
    const fe_spec *sp = f->specs;
    assert_string_equal(sp->feature_name, "Greeting");
    assert_int_equal(sp->feature_span.start.row, 2);
    const fe_scenario *sc = sp->scenarios;
    assert_string_equal(sc->name, "says hello");
    assert_int_equal(sc->n_tags, 1);
    assert_string_equal(sc->tags[0], "@smoke");
    assert_int_equal(sc->n_steps, 3);
    const fe_step *st = sc->steps;
    assert_string_equal(st->keyword, "Given");
    assert_string_equal(st->text, "the procedure has started");
    assert_int_equal(st->span.start.row, 5);
    assert_int_equal(st->span.start.column, 10);
    assert_memory_equal(src + st->span.start_byte, "the procedure has started", 25);
    sc = sc->next;
    assert_int_equal(sc->kind, FE_OUTLINE);
    assert_int_equal(sc->n_header, 1);
    assert_int_equal(sc->n_example_rows, 1);
    assert_string_equal(sc->example_rows->cells[0], "1");
    assert_int_equal(f->diags.len, 0);
    fe_file_free(f);
}

static void references_skip_locals(void **state)
{
    (void)state;
    fe_file *f = parse("local io = {}\n"
                       "io.open('x')\n"
                       "function f(os) return os.execute end\n"
                       "for _, debug in ipairs({}) do debug.x() end\n"
                       "os.exit(1)\n"
                       "local s = ('x'):rep(2)\n");
    bool saw_exit = false, saw_other = false;
    for (const fe_ref *r = f->refs; r; r = r->next) {
        if (strcmp(r->name, "os.exit") == 0) saw_exit = r->is_call;
        if (strcmp(r->name, "io.open") == 0 || strcmp(r->name, "os.execute") == 0 ||
            strcmp(r->name, "debug.x") == 0)
            saw_other = true;
    }
    assert_true(saw_exit);
    assert_false(saw_other);
    fe_file_free(f);
}

static void syntax_errors_say_what_lua_expected(void **state)
{
    (void)state;
    fe_file *f = parse("Procedure {\n  function()\n    return 1\n}\n");
    assert_false(f->lua_ok);
    assert_int_equal(f->diags.len, 1);
    assert_string_equal(f->diags.items[0].code, "TAC001");
    assert_non_null(strstr(f->diags.items[0].message, "'end' expected"));
    assert_int_equal(f->diags.items[0].span.start.row, 3);
    fe_file_free(f);
}

/* A construct left open is named where it opened (issue 17): in the
 * message and as the related place. */
static void unclosed_constructs_are_named_where_they_open(void **state)
{
    (void)state;
    static const struct {
        const char *src, *says;
        unsigned row, column; /* of the related place (0-based) */
        bool related;
    } cases[] = {
        {"Procedure {\n  function()\n    if x then\n      y()\n  end,\n}\n",
         "'if' at line 3 is never closed by 'end' (the 'end' at line 5 closes it, though it lines up "
         "with the 'function' at line 2)",
         2, 4, true},
        {"if x then\n  foo(a,\nend\n", "'(' at line 2 is never closed by ')'", 1, 5, true},
        {"local t = {\n  a = 1,\nlocal x = 2\n", "'{' at line 1 is never closed by '}'", 0, 10, true},
        {"x = { a = {1, 2 }\n", "'}' expected (to close '{' at line 1)", 0, 4, true},
        {"while x do\n  y()\n", "'end' expected (to close 'while' at line 1)", 0, 0, true},
        /* not a construct left open: nothing added */
        {"foo(a, , b)\n", "unexpected symbol near ','", 0, 0, false},
        {"local t = {a = 1}}\n", "unexpected symbol near '}'", 0, 0, false},
        {"s = [[abc\n", "unfinished long string", 0, 0, false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        fe_file *f = parse(cases[i].src);
        assert_int_equal(f->diags.len, 1);
        const tx_diag *d = &f->diags.items[0];
        if (!strstr(d->message, cases[i].says)) fail_msg("case %zu: %s", i, d->message);
        assert_int_equal(d->has_related, cases[i].related);
        if (cases[i].related) {
            assert_int_equal(d->related.start.row, cases[i].row);
            assert_int_equal(d->related.start.column, cases[i].column);
            assert_non_null(strstr(d->related_message, "is never closed by"));
        } else {
            assert_null(strstr(d->message, "never closed"));
        }
        fe_file_free(f);
    }
}

static void allocation_failures_are_reported_not_crashes(void **state)
{
    (void)state;
    const char *src = "local done = require('tactus.tools.done')\n"
                      "w = Agent { model = 'openai/x', tools = {done} }\n"
                      "Procedure { input = { a = field.string{enum = {'x'}} }, "
                      "function(i) return w({message = i.a}).output end }\n"
                      "Specifications([[\nFeature: f\n  Scenario: s\n    When the procedure runs\n]])\n";
    size_t ok = 0, oom = 0;
    for (long n = 0; n < 400; n++) {
        tx_alloc_fail_after(n);
        fe_file *f = NULL;
        tx_status st = fe_parse(ctx, "t.tac", src, strlen(src), &f);
        tx_alloc_fail_after(-1);
        if (st == TX_OK) {
            assert_non_null(f);
            ok++;
        } else {
            assert_int_equal(st, TX_ENOMEM);
            assert_null(f);
            oom++;
        }
        fe_file_free(f);
    }
    assert_true(oom > 0);
    assert_true(ok > 0);
}

/* ---- fe_parse_again gives fe_parse's result --------------------------------------------------- */

/* Everything a parse yields that a reader sees: the findings of every rule
 * (their codes, spans and messages) and the Gherkin structure's spans. */
static char *summary(ck_checker *ck, const char *src, size_t len, fe_reuse *r)
{
    fe_file *f = NULL;
    tx_status st = r ? fe_parse_again(ctx, r, "t.tac", src, len, &f) : fe_parse(ctx, "t.tac", src, len, &f);
    assert_int_equal(st, TX_OK);
    tx_diag_list l;
    tx_diag_list_init(&l);
    assert_int_equal(ck_check(ck, f, &l), TX_OK);
    tx_buf b;
    tx_buf_init(&b, 64u << 20);
    tx_buf_printf(&b, "lua_ok %d\n", f->lua_ok);
    for (size_t i = 0; i < l.len; i++)
        tx_buf_printf(&b, "%s %u-%u %u:%u %s\n", l.items[i].code, l.items[i].span.start_byte,
                      l.items[i].span.end_byte, l.items[i].span.start.row, l.items[i].span.start.column,
                      l.items[i].message);
    for (const fe_spec *sp = f->specs; sp; sp = sp->next)
        for (const fe_scenario *sc = sp->scenarios; sc; sc = sc->next) {
            tx_buf_printf(&b, "scenario %s %u-%u %u:%u\n", sc->name, sc->span.start_byte, sc->span.end_byte,
                          sc->span.start.row, sc->span.start.column);
            for (const fe_step *stp = sc->steps; stp; stp = stp->next)
                tx_buf_printf(&b, " step %s %u-%u %u:%u\n", stp->text, stp->span.start_byte, stp->span.end_byte,
                              stp->span.start.row, stp->span.start.column);
        }
    tx_diag_list_free(&l);
    fe_file_free(f);
    return tx_buf_steal(&b);
}

static uint64_t rng = 0x9E3779B97F4A7C15ull;
static uint32_t next_rand(uint32_t n)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng % n);
}

static size_t insert_at(char *text, size_t len, size_t cap, size_t at, const char *what)
{
    size_t n = strlen(what);
    if (len + n >= cap) return len;
    memmove(text + at + n, text + at, len - at);
    memcpy(text + at, what, n);
    return len + n;
}

/* One random edit of text (in place, cap bytes): mostly what a person types
 * in a valid file (a digit, a statement in a function body), some edits
 * that break it. */
static size_t random_edit(char *text, size_t len, size_t cap)
{
    static const char *const lines[] = {
        "local zz = 1\n", "x = 2\n", "print(1)\n", "goto done\n", "::done::\n", "Log.info('x')\n",
        "  -- a comment\n", "local K <const> = 1\n", "K = 2\n", "do local q = 1 end\n", "return 1\n",
        "f(\n", "end\n", "(g)()\n", "Sleep(\"1\")\n", "local function h() return h end\n",
        "Specifications([[\nFeature: f\n  Scenario: s\n    When the procedure runs\n]])\n",
    };
    static const char *const body[] = {
        " local zz = 1", " x = 2", " print(1)", " do local q = 1 end", " goto l ::l::", " K = 3",
        " local function h() return h end", " Log.info('x')", " if x then return end", " while false do break end",
        " local a <close> = nil", " return", " zz = (zz or 0) + 1",
    };
    uint32_t op = next_rand(100);
    size_t at = len ? next_rand((uint32_t)len + 1) : 0;
    if (op < 30) { /* a digit changed */
        for (size_t k = 0; k < len; k++) {
            size_t i = (at + k) % len;
            if (text[i] >= '0' && text[i] <= '9') {
                text[i] = (char)('0' + next_rand(10));
                break;
            }
        }
        return len;
    }
    if (op < 50) { /* a statement at the start of a function body */
        const char *hit = NULL;
        for (const char *q = text; (q = strstr(q, "function(")) != NULL; q++)
            if (!hit || next_rand(3) == 0) hit = q;
        if (!hit) return len;
        size_t i = (size_t)(hit - text);
        while (i < len && text[i] != ')') i++;
        if (i >= len) return len;
        return insert_at(text, len, cap, i + 1, body[next_rand(sizeof body / sizeof body[0])]);
    }
    if (op < 70) { /* a whole line at a line start */
        while (at > 0 && text[at - 1] != '\n') at--;
        return insert_at(text, len, cap, at, lines[next_rand(sizeof lines / sizeof lines[0])]);
    }
    if (op < 85) { /* a character typed */
        static const char chars[] = "0123456789az _,.(){}\"";
        char c[2] = {chars[next_rand(sizeof chars - 1)], 0};
        return insert_at(text, len, cap, at, c);
    }
    /* a few bytes deleted */
    size_t n = 1 + next_rand(3);
    if (at + n > len) n = len - at;
    memmove(text + at, text + at + n, len - at - n);
    return len - n;
}

static void reparse_gives_what_parse_gives(void **state)
{
    (void)state;
    ck_checker *ck = ck_checker_new();
    assert_non_null(ck);
    char root[4096];
    snprintf(root, sizeof root, "%s", __FILE__);
    for (int up = 0; up < 3; up++) *strrchr(root, '/') = '\0';
    char dir[4200];
    snprintf(dir, sizeof dir, "%s/examples", root);
    DIR *dp = opendir(dir);
    assert_non_null(dp);
    struct dirent *e;
    size_t files = 0, edits = 0, accepted = 0;
    while ((e = readdir(dp))) {
        size_t nl = strlen(e->d_name);
        if (nl < 5 || strcmp(e->d_name + nl - 4, ".tac") != 0) continue;
        char path[8400];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        char *src;
        size_t len;
        int err;
        assert_int_equal(tx_read_file(path, 1 << 20, &src, &len, &err), TX_OK);
        size_t cap = len + 64 * 1024;
        char *text = malloc(cap), *valid = malloc(cap);
        memcpy(text, src, len);
        memcpy(valid, src, len);
        size_t valid_len = len;
        fe_reuse *r = fe_reuse_new();
        for (int i = 0; i < 150; i++) {
            len = random_edit(text, len, cap);
            char *a = summary(ck, text, len, r), *b = summary(ck, text, len, NULL);
            if (strcmp(a, b) != 0) fprintf(stderr, "%s, edit %d:\n--- again\n%s--- parse\n%s", e->d_name, i, a, b);
            assert_string_equal(a, b);
            bool ok = !strncmp(a, "lua_ok 1", 8);
            tx_free(a);
            tx_free(b);
            edits++;
            /* a valid text is the new base; a broken one is mostly undone
             * (as a person fixes a typo): the document stays near valid code */
            if (ok) {
                accepted++;
                memcpy(valid, text, len);
                valid_len = len;
            } else if (next_rand(4) != 0) {
                memcpy(text, valid, valid_len);
                len = valid_len;
            }
        }
        fe_reuse_free(r);
        free(text);
        free(valid);
        tx_free(src);
        files++;
    }
    closedir(dp);
    assert_true(files >= 10);
    printf("fe_parse_again == fe_parse over %zu random edits of %zu examples (%zu texts Lua accepts)\n",
           edits, files, accepted);
    assert_true(accepted > edits / 4);
    ck_checker_free(ck);
}

/* A <const> local declared before an edited statement: assigning it is
 * Lua's error, seen through the prologue. */
static void reparse_keeps_lua_errors(void **state)
{
    (void)state;
    ck_checker *ck = ck_checker_new();
    fe_reuse *r = fe_reuse_new();
    const char *v1 = "local K <const> = 1\nlocal A = 2\nProcedure { function() return A end }\n";
    const char *v2 = "local K <const> = 1\nlocal A = 2\nProcedure { function() K = 3 return A end }\n";
    char *a = summary(ck, v1, strlen(v1), r);
    tx_free(a);
    a = summary(ck, v2, strlen(v2), r);
    char *b = summary(ck, v2, strlen(v2), NULL);
    assert_string_equal(a, b);
    assert_non_null(strstr(a, "attempt to assign to const variable 'K'"));
    tx_free(a);
    tx_free(b);
    fe_reuse_free(r);
    ck_checker_free(ck);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(procedures_in_every_form),
        cmocka_unit_test(script_mode_and_plain_main),
        cmocka_unit_test(agents_tools_and_grants),
        cmocka_unit_test(strings_are_decoded),
        cmocka_unit_test(specifications_have_tac_positions),
        cmocka_unit_test(references_skip_locals),
        cmocka_unit_test(syntax_errors_say_what_lua_expected),
        cmocka_unit_test(unclosed_constructs_are_named_where_they_open),
        cmocka_unit_test(allocation_failures_are_reported_not_crashes),
        cmocka_unit_test(reparse_gives_what_parse_gives),
        cmocka_unit_test(reparse_keeps_lua_errors),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
