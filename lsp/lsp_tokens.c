/*
 * lsp_tokens.c - semantic tokens from the grammars' own highlights queries.
 *
 * The server runs grammar/tactus/queries/highlights.scm over the document's
 * tree-sitter tree, and grammar/gherkin/queries/highlights.scm over each
 * Specifications string that injections.scm marks as Gherkin (parsed with
 * the gherkin grammar over that string's range), so editors with and
 * without tree-sitter show the same colours. The queries are embedded at
 * build time (embed-queries.cmake).
 *
 * tree-sitter 0.20 leaves predicates to the caller: #eq?, #any-of? and
 * #match? (PCRE2) are evaluated here; #set! only names the injected
 * language. Overlaps follow the query files' rule: when several patterns
 * capture the same node the last one wins; a capture inside another
 * (an escape in a string, Gherkin in a string) wins over the outer one.
 * Tokens never overlap and never span lines (LSP's default client
 * capabilities), with lengths in the client's position encoding.
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdlib.h>
#include <string.h>

#include "lsp_internal.h"

extern const char lsp_query_tactus_highlights[];
extern const size_t lsp_query_tactus_highlights_len;
extern const char lsp_query_tactus_injections[];
extern const size_t lsp_query_tactus_injections_len;
extern const char lsp_query_gherkin_highlights[];
extern const size_t lsp_query_gherkin_highlights_len;

static const char *const token_types[] = {
    "namespace", "type",   "class",  "function", "method",   "property",  "variable", "parameter",
    "keyword",   "string", "number", "comment",  "operator", "decorator", "macro",    NULL,
};
enum {
    T_NONE = 0,
    T_NAMESPACE = 1,
    T_TYPE,
    T_CLASS,
    T_FUNCTION,
    T_METHOD,
    T_PROPERTY,
    T_VARIABLE,
    T_PARAMETER,
    T_KEYWORD,
    T_STRING,
    T_NUMBER,
    T_COMMENT,
    T_OPERATOR,
    T_DECORATOR,
    T_MACRO
};
static const char *const token_modifiers[] = {"declaration", "readonly", "defaultLibrary",
                                              "documentation", NULL};
enum { M_DECLARATION = 1, M_READONLY = 2, M_DEFAULT_LIBRARY = 4, M_DOCUMENTATION = 8 };

cJSON *lsp_tokens_legend(void)
{
    cJSON *l = cJSON_CreateObject();
    cJSON *t = cJSON_AddArrayToObject(l, "tokenTypes");
    for (size_t i = 0; token_types[i]; i++)
        lsp_push(t, cJSON_CreateString(token_types[i]));
    cJSON *m = cJSON_AddArrayToObject(l, "tokenModifiers");
    for (size_t i = 0; token_modifiers[i]; i++)
        lsp_push(m, cJSON_CreateString(token_modifiers[i]));
    return l;
}

/* A capture name's token: its type (1-based index into token_types, 0 for
 * none) in the low byte, modifiers above. */
static uint16_t token_of(const char *name, bool gherkin)
{
    static const struct {
        const char *name;
        uint16_t type, mods;
    } tactus[] =
        {
            {"variable", T_VARIABLE, 0},
            {"constant", T_VARIABLE, M_READONLY},
            {"property", T_PROPERTY, 0},
            {"variable.parameter", T_PARAMETER, 0},
            {"attribute", T_DECORATOR, 0},
            {"function", T_FUNCTION, M_DECLARATION},
            {"function.call", T_FUNCTION, 0},
            {"function.method", T_METHOD, M_DECLARATION},
            {"function.method.call", T_METHOD, 0},
            {"module.builtin", T_NAMESPACE, M_DEFAULT_LIBRARY},
            {"constant.builtin", T_VARIABLE, M_READONLY | M_DEFAULT_LIBRARY},
            {"variable.builtin", T_VARIABLE, M_DEFAULT_LIBRARY},
            {"function.builtin", T_FUNCTION, M_DEFAULT_LIBRARY},
            {"type.builtin", T_TYPE, M_DEFAULT_LIBRARY},
            {"boolean", T_KEYWORD, 0},
            {"number", T_NUMBER, 0},
            {"string", T_STRING, 0},
            {"string.escape", T_STRING, 0},
            {"comment", T_COMMENT, 0},
            {"keyword.directive", T_MACRO, 0},
            {"keyword", T_KEYWORD, 0},
            {"keyword.return", T_KEYWORD, 0},
            {"keyword.function", T_KEYWORD, 0},
            {"keyword.conditional", T_KEYWORD, 0},
            {"keyword.repeat", T_KEYWORD, 0},
            {"keyword.operator", T_KEYWORD, 0},
            {"operator", T_OPERATOR, 0},
        },
      gk[] = {
          {"comment", T_COMMENT, 0},
          {"keyword", T_KEYWORD, 0},
          {"keyword.function", T_KEYWORD, 0},
          {"markup.heading", T_CLASS, M_DECLARATION},
          {"comment.documentation", T_COMMENT, M_DOCUMENTATION},
          {"attribute", T_DECORATOR, 0},
          {"string.special", T_STRING, 0},
          {"variable.parameter", T_PARAMETER, 0},
          {"string", T_STRING, 0},
          {"type", T_TYPE, 0},
          {"markup.raw", T_STRING, 0},
      };
    size_t n = gherkin ? sizeof gk / sizeof gk[0] : sizeof tactus / sizeof tactus[0];
    for (size_t i = 0; i < n; i++) {
        const char *nm = gherkin ? gk[i].name : tactus[i].name;
        if (!strcmp(nm, name))
            return (uint16_t)((gherkin ? gk[i].type : tactus[i].type) |
                              ((gherkin ? gk[i].mods : tactus[i].mods) << 8));
    }
    return 0;
}

/* ---- queries and their predicates
 * ---------------------------------------------------------------- */

typedef enum { P_EQ, P_NOT_EQ, P_MATCH, P_ANY_OF } pred_kind;

typedef struct {
    pred_kind kind;
    uint32_t capture;
    const char **values; /* P_EQ, P_ANY_OF: the strings (owned by the query) */
    uint32_t n_values;
    pcre2_code *re;
} predicate;

typedef struct {
    TSQuery *q;
    predicate **preds; /* per pattern */
    uint32_t *n_preds;
    uint32_t n_patterns;
    uint16_t *capture_token;  /* per capture id */
    uint32_t content_capture; /* injections: @injection.content */
} query;

typedef struct {
    query tactus, gherkin, inject;
    TSParser *gherkin_parser;
    bool failed;
} queries;

static void query_free(query *q)
{
    for (uint32_t i = 0; q->preds && i < q->n_patterns; i++) {
        /* preds[i] holds n_preds[i] predicates, and one being built (its
         * regex or values may exist before the count grew) */
        uint32_t n = q->n_preds ? q->n_preds[i] : 0;
        for (uint32_t k = 0; q->preds[i] && k <= n; k++) {
            tx_free(q->preds[i][k].values);
            pcre2_code_free(q->preds[i][k].re);
        }
        tx_free(q->preds[i]);
    }
    tx_free(q->preds);
    tx_free(q->n_preds);
    tx_free(q->capture_token);
    if (q->q) ts_query_delete(q->q);
    memset(q, 0, sizeof *q);
}

static bool query_init(query *q, const TSLanguage *lang, const char *src, size_t len, bool gherkin)
{
    uint32_t err_off;
    TSQueryError err;
    q->q = ts_query_new(lang, src, (uint32_t)len, &err_off, &err);
    if (!q->q) return false;
    q->n_patterns = ts_query_pattern_count(q->q);
    uint32_t nc = ts_query_capture_count(q->q);
    q->capture_token = tx_calloc(nc ? nc : 1, sizeof *q->capture_token);
    q->preds = tx_calloc(q->n_patterns ? q->n_patterns : 1, sizeof *q->preds);
    q->n_preds = tx_calloc(q->n_patterns ? q->n_patterns : 1, sizeof *q->n_preds);
    if (!q->capture_token || !q->preds || !q->n_preds) return false;
    q->content_capture = UINT32_MAX;
    for (uint32_t i = 0; i < nc; i++) {
        uint32_t l;
        const char *name = ts_query_capture_name_for_id(q->q, i, &l);
        char buf[64];
        snprintf(buf, sizeof buf, "%.*s", (int)l, name);
        q->capture_token[i] = buf[0] == '_' ? 0 : token_of(buf, gherkin);
        if (!strcmp(buf, "injection.content")) q->content_capture = i;
    }
    for (uint32_t p = 0; p < q->n_patterns; p++) {
        uint32_t steps;
        const TSQueryPredicateStep *st = ts_query_predicates_for_pattern(q->q, p, &steps);
        predicate *list = tx_calloc(steps ? steps : 1, sizeof *list);
        if (!list) return false;
        q->preds[p] = list;
        for (uint32_t i = 0; i < steps;) {
            uint32_t j = i;
            while (j < steps && st[j].type != TSQueryPredicateStepTypeDone)
                j++;
            /* st[i] is the predicate's name, then its arguments, up to j. */
            uint32_t l;
            const char *fn = st[i].type == TSQueryPredicateStepTypeString
                                 ? ts_query_string_value_for_id(q->q, st[i].value_id, &l)
                                 : "";
            predicate *pr = &list[q->n_preds[p]];
            bool keep = j > i + 1 && st[i + 1].type == TSQueryPredicateStepTypeCapture;
            if (keep) pr->capture = st[i + 1].value_id;
            if (keep && (!strcmp(fn, "eq?") || !strcmp(fn, "not-eq?") || !strcmp(fn, "any-of?"))) {
                pr->kind = !strcmp(fn, "eq?") ? P_EQ : !strcmp(fn, "not-eq?") ? P_NOT_EQ : P_ANY_OF;
                pr->values = tx_calloc(j - i, sizeof *pr->values);
                if (!pr->values) return false;
                for (uint32_t k = i + 2; k < j; k++)
                    if (st[k].type == TSQueryPredicateStepTypeString)
                        pr->values[pr->n_values++] =
                            ts_query_string_value_for_id(q->q, st[k].value_id, &l);
                q->n_preds[p]++;
            } else if (keep && !strcmp(fn, "match?") && j == i + 3 &&
                       st[i + 2].type == TSQueryPredicateStepTypeString) {
                const char *re = ts_query_string_value_for_id(q->q, st[i + 2].value_id, &l);
                int e;
                PCRE2_SIZE off;
                pr->kind = P_MATCH;
                pr->re = pcre2_compile((PCRE2_SPTR)re, l, PCRE2_UTF | PCRE2_MATCH_INVALID_UTF, &e,
                                       &off, NULL);
                if (!pr->re) return false;
                q->n_preds[p]++;
            }
            /* #set! and unknown predicates: nothing to check. */
            i = j + 1;
        }
    }
    return true;
}

static queries *get_queries(lsp_server *s)
{
    queries *qs = s->q_regex;
    if (qs) return qs->failed ? NULL : qs;
    qs = tx_calloc(1, sizeof *qs);
    if (!qs) return NULL;
    s->q_regex = qs;
    qs->gherkin_parser = ts_parser_new();
    qs->failed = !qs->gherkin_parser ||
                 !ts_parser_set_language(qs->gherkin_parser, tree_sitter_gherkin()) ||
                 !query_init(&qs->tactus, tree_sitter_tactus(), lsp_query_tactus_highlights,
                             lsp_query_tactus_highlights_len, false) ||
                 !query_init(&qs->inject, tree_sitter_tactus(), lsp_query_tactus_injections,
                             lsp_query_tactus_injections_len, false) ||
                 !query_init(&qs->gherkin, tree_sitter_gherkin(), lsp_query_gherkin_highlights,
                             lsp_query_gherkin_highlights_len, true);
    if (qs->failed) lsp_log(&s->out, "semantic tokens: the embedded queries do not compile");
    return qs->failed ? NULL : qs;
}

void lsp_tokens_free(lsp_server *s)
{
    queries *qs = s->q_regex;
    if (!qs) return;
    query_free(&qs->tactus);
    query_free(&qs->inject);
    query_free(&qs->gherkin);
    if (qs->gherkin_parser) ts_parser_delete(qs->gherkin_parser);
    tx_free(qs);
    s->q_regex = NULL;
}

static bool predicates_hold(const query *q, const TSQueryMatch *m, const char *text, size_t len)
{
    for (uint32_t i = 0; i < q->n_preds[m->pattern_index]; i++) {
        const predicate *pr = &q->preds[m->pattern_index][i];
        TSNode node = {0};
        bool found = false;
        for (uint16_t c = 0; c < m->capture_count; c++)
            if (m->captures[c].index == pr->capture) {
                node = m->captures[c].node;
                found = true;
            }
        if (!found) return false;
        uint32_t s = ts_node_start_byte(node), e = ts_node_end_byte(node);
        if (e > len) e = (uint32_t)len;
        if (s > e) s = e;
        const char *t = text + s;
        size_t n = e - s;
        switch (pr->kind) {
        case P_EQ:
        case P_NOT_EQ: {
            bool eq =
                pr->n_values == 1 && strlen(pr->values[0]) == n && !memcmp(pr->values[0], t, n);
            if (eq != (pr->kind == P_EQ)) return false;
            break;
        }
        case P_ANY_OF: {
            bool any = false;
            for (uint32_t k = 0; k < pr->n_values && !any; k++)
                any = strlen(pr->values[k]) == n && !memcmp(pr->values[k], t, n);
            if (!any) return false;
            break;
        }
        case P_MATCH: {
            pcre2_match_data *md = pcre2_match_data_create_from_pattern(pr->re, NULL);
            int rc = md ? pcre2_match(pr->re, (PCRE2_SPTR)t, n, 0, 0, md, NULL) : -1;
            pcre2_match_data_free(md);
            if (rc < 0) return false;
            break;
        }
        }
    }
    return true;
}

/* ---- painting
 * ---------------------------------------------------------------------------------------- */

typedef struct {
    uint32_t s, e;
    uint16_t token;
    uint32_t pattern;
} capture;

typedef struct {
    capture *items;
    size_t n, cap;
    bool oom;
} captures;

static void push_capture(captures *c, uint32_t s, uint32_t e, uint16_t token, uint32_t pattern)
{
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 1024;
        capture *p = tx_realloc(c->items, cap * sizeof *p);
        if (!p) {
            c->oom = true;
            return;
        }
        c->items = p;
        c->cap = cap;
    }
    c->items[c->n++] = (capture){s, e, token, pattern};
}

/* Runs q over node within [from, to), collecting captures with a token. */
static void run_query(const query *q, TSNode root, const char *text, size_t len, uint32_t from,
                      uint32_t to, uint32_t pattern_base, captures *out)
{
    TSQueryCursor *qc = ts_query_cursor_new();
    if (!qc) {
        out->oom = true;
        return;
    }
    ts_query_cursor_set_byte_range(qc, from, to);
    ts_query_cursor_exec(qc, q->q, root);
    TSQueryMatch m;
    while (ts_query_cursor_next_match(qc, &m)) {
        if (!predicates_hold(q, &m, text, len)) continue;
        for (uint16_t c = 0; c < m.capture_count; c++) {
            uint16_t tok = q->capture_token[m.captures[c].index];
            if (!tok) continue;
            TSNode n = m.captures[c].node;
            push_capture(out, ts_node_start_byte(n), ts_node_end_byte(n), tok,
                         pattern_base + m.pattern_index);
        }
    }
    ts_query_cursor_delete(qc);
}

/* Outer captures first, then inner; for the same range, earlier patterns
 * first: painting in this order lets the later/inner one win. */
static int paint_order(const void *pa, const void *pb)
{
    const capture *a = pa, *b = pb;
    uint32_t la = a->e - a->s, lb = b->e - b->s;
    if (la != lb) return la > lb ? -1 : 1;
    if (a->pattern != b->pattern) return a->pattern < b->pattern ? -1 : 1;
    return a->s < b->s ? -1 : a->s > b->s;
}

static cJSON *tokens(lsp_server *s, lsp_doc *d, uint32_t from, uint32_t to, lsp_error *err)
{
    cJSON *res = cJSON_CreateObject();
    cJSON *data = cJSON_AddArrayToObject(res, "data");
    TSTree *tree = lsp_doc_tree(s, d);
    queries *qs = tree ? get_queries(s) : NULL;
    if (!qs) return res;
    if (to > d->len) to = (uint32_t)d->len;
    if (from > to) from = to;
    captures caps = {0};
    TSNode root = ts_tree_root_node(tree);
    run_query(&qs->tactus, root, d->text, d->len, from, to, 0, &caps);
    /* Gherkin inside Specifications strings (injections.scm). */
    TSQueryCursor *qc = ts_query_cursor_new();
    if (qc) {
        ts_query_cursor_set_byte_range(qc, from, to);
        ts_query_cursor_exec(qc, qs->inject.q, root);
        TSQueryMatch m;
        while (ts_query_cursor_next_match(qc, &m)) {
            if (!predicates_hold(&qs->inject, &m, d->text, d->len)) continue;
            for (uint16_t c = 0; c < m.capture_count; c++) {
                if (m.captures[c].index != qs->inject.content_capture) continue;
                TSNode content = m.captures[c].node;
                TSRange r = {ts_node_start_point(content), ts_node_end_point(content),
                             ts_node_start_byte(content), ts_node_end_byte(content)};
                if (r.end_byte <= r.start_byte ||
                    !ts_parser_set_included_ranges(qs->gherkin_parser, &r, 1))
                    continue;
                TSTree *g =
                    ts_parser_parse_string(qs->gherkin_parser, NULL, d->text, (uint32_t)d->len);
                if (g) {
                    run_query(&qs->gherkin, ts_tree_root_node(g), d->text, d->len, from, to,
                              1u << 20, &caps);
                    ts_tree_delete(g);
                }
            }
        }
        ts_query_cursor_delete(qc);
        ts_parser_set_included_ranges(qs->gherkin_parser, NULL, 0);
    }
    if (caps.oom) {
        tx_free(caps.items);
        cJSON_Delete(res);
        lsp_fail(err, LSP_INTERNAL_ERROR, "out of memory computing semantic tokens");
        return NULL;
    }
    if (caps.n > 1) qsort(caps.items, caps.n, sizeof *caps.items, paint_order);
    uint16_t *paint = tx_calloc(to - from + 1, sizeof *paint);
    if (!paint) {
        tx_free(caps.items);
        cJSON_Delete(res);
        lsp_fail(err, LSP_INTERNAL_ERROR, "out of memory computing semantic tokens");
        return NULL;
    }
    for (size_t i = 0; i < caps.n; i++) {
        uint32_t a = caps.items[i].s < from ? from : caps.items[i].s;
        uint32_t b = caps.items[i].e > to ? to : caps.items[i].e;
        for (uint32_t k = a; k < b; k++)
            paint[k - from] = caps.items[i].token;
    }
    tx_free(caps.items);
    /* Runs of one token, cut at line ends (and around whitespace, which
     * carries no colour), encoded relative to the previous token. */
    lsp_view v = lsp_doc_view(s, d);
    uint32_t prev_line = 0, prev_char = 0;
    uint32_t i = from;
    while (i < to) {
        uint16_t t = paint[i - from];
        char ch = d->text[i];
        if (!t || ch == '\n' || ch == '\r' || ch == ' ' || ch == '\t') {
            i++;
            continue;
        }
        uint32_t j = i;
        while (j < to && paint[j - from] == t && d->text[j] != '\n' && d->text[j] != '\r')
            j++;
        lsp_pos a = lsp_pos_of(&v, i), b = lsp_pos_of(&v, j);
        if (b.character > a.character) {
            uint32_t dl = a.line - prev_line;
            uint32_t dc = dl ? a.character : a.character - prev_char;
            lsp_push(data, cJSON_CreateNumber(dl));
            lsp_push(data, cJSON_CreateNumber(dc));
            lsp_push(data, cJSON_CreateNumber(b.character - a.character));
            lsp_push(data, cJSON_CreateNumber((t & 0xFF) - 1));
            lsp_push(data, cJSON_CreateNumber(t >> 8));
            prev_line = a.line;
            prev_char = a.character;
        }
        i = j;
    }
    tx_free(paint);
    return res;
}

cJSON *lsp_on_semantic_tokens_full(lsp_server *s, const cJSON *params, lsp_error *err)
{
    lsp_doc *d = lsp_param_doc(s, params, err);
    if (!d) return NULL;
    return tokens(s, d, 0, (uint32_t)d->len, err);
}

cJSON *lsp_on_semantic_tokens_range(lsp_server *s, const cJSON *params, lsp_error *err)
{
    lsp_doc *d = lsp_param_doc(s, params, err);
    if (!d) return NULL;
    lsp_pos a, b;
    if (!lsp_parse_range(cJSON_GetObjectItemCaseSensitive(params, "range"), &a, &b))
        return lsp_fail(err, LSP_INVALID_PARAMS, "params.range must be {start, end} positions");
    lsp_view v = lsp_doc_view(s, d);
    /* Whole lines: a token is never cut by the range's edges mid-line. */
    size_t from = d->lines.starts[lsp_line_of(&v, lsp_byte_of(&v, a))];
    size_t to = lsp_line_end(&v, lsp_line_of(&v, lsp_byte_of(&v, b)));
    return tokens(s, d, (uint32_t)from, (uint32_t)to, err);
}
