/*
 * sp_tags.c - Cucumber tag expressions for --tags:
 *
 *   expr := or ; or := and {"or" and} ; and := not {"and" not}
 *   not  := "not" not | "(" expr ")" | @tag
 *
 * e.g. "@smoke and not @slow", "(@a or @b) and not @wip". The expression
 * is evaluated by parsing it again against each scenario's tags: it is
 * short, and one code path both validates and evaluates.
 */
#include <ctype.h>
#include <string.h>

#include "sp_internal.h"

typedef struct {
    const char *p;
    const char *const *tags;
    size_t n_tags;
    const char *error;
    const char *at;
} tagp;

static void ws(tagp *t)
{
    while (isspace((unsigned char)*t->p))
        t->p++;
}

static bool keyword(tagp *t, const char *kw)
{
    ws(t);
    size_t n = strlen(kw);
    if (strncmp(t->p, kw, n) != 0) return false;
    char c = t->p[n];
    if (c && !isspace((unsigned char)c) && c != '(' && c != ')') return false;
    t->p += n;
    return true;
}

static bool expr(tagp *t);

static bool fail(tagp *t, const char *why)
{
    if (!t->error) {
        t->error = why;
        t->at = t->p;
    }
    return false;
}

static bool primary(tagp *t)
{
    ws(t);
    if (keyword(t, "not")) return !primary(t);
    if (*t->p == '(') {
        t->p++;
        bool v = expr(t);
        ws(t);
        if (*t->p != ')') return fail(t, "expected ')'");
        t->p++;
        return v;
    }
    if (*t->p != '@') return fail(t, "expected a tag such as @smoke, 'not' or '('");
    const char *start = t->p;
    while (*t->p && !isspace((unsigned char)*t->p) && *t->p != '(' && *t->p != ')')
        t->p++;
    size_t n = (size_t)(t->p - start);
    if (n < 2) return fail(t, "a tag needs a name after '@'");
    for (size_t i = 0; i < t->n_tags; i++)
        if (strlen(t->tags[i]) == n && strncmp(t->tags[i], start, n) == 0) return true;
    return false;
}

static bool conjunction(tagp *t)
{
    bool v = primary(t);
    while (keyword(t, "and"))
        v = primary(t) && v;
    return v;
}

static bool expr(tagp *t)
{
    bool v = conjunction(t);
    while (keyword(t, "or"))
        v = conjunction(t) || v;
    return v;
}

static bool eval(const char *e, const char *const *tags, size_t n, const char **error,
                 size_t *offset)
{
    tagp t = {e, tags, n, NULL, NULL};
    bool v = expr(&t);
    ws(&t);
    if (!t.error && *t.p) fail(&t, "expected 'and', 'or' or the end of the expression");
    if (error) *error = t.error;
    if (offset) *offset = t.error ? (size_t)(t.at - e) : 0;
    return !t.error && v;
}

bool sp_tags_valid(const char *e, char *err, size_t cap)
{
    const char *why;
    size_t off;
    eval(e, NULL, 0, &why, &off);
    if (!why) return true;
    snprintf(err, cap, "--tags '%s': at column %zu: %s", e, off + 1, why);
    return false;
}

bool sp_tags_match(const char *e, const char *const *tags, size_t n)
{
    return eval(e, tags, n, NULL, NULL);
}
