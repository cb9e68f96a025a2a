/*
 * lsp_doc.c - the documents the editor owns: text, tree, analysis.
 *
 * The editor owns an open document: its text comes only from didOpen and
 * didChange, never from disk. Each change edits the text in place, tells
 * tree-sitter what moved (ts_tree_edit) so the next parse reuses the rest
 * of the old tree, and bumps the generation. Analyses (fe_parse + ck_check,
 * the very code of `tactus check`) are made on demand and cached per
 * generation; the latest one that has a syntax tree ("good") stays for
 * navigation while the user types through a syntax error, its positions
 * mapped through the edits made since.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lsp_internal.h"

/* More edits than this since the last parseable text: stop mapping. */
#define LSP_MAX_EDIT_LOG 4096
/* Open brackets above which tree-sitter is not given the text: Debian 12's
 * libtree-sitter (0.20.7) frees a subtree twice when some 65,000 brackets
 * are left open (the frontend once guarded the same way). Lua itself stops
 * at 200 levels, so no valid file comes near. */
#define LSP_MAX_OPEN_BRACKETS 10000
/* tree-sitter parse budget: 1 s plus 0.25 s per MB. */
#define LSP_TS_BUDGET_US(len) (1000000ull + (uint64_t)(len) / 4)

/* ---- URIs ----------------------------------------------------------------------------------- */

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

char *lsp_uri_to_path(const char *uri)
{
    if (strncmp(uri, "file://", 7) != 0) return NULL;
    const char *p = uri + 7;
    /* file://host/path: only the local host is a path here. */
    if (strncmp(p, "localhost/", 10) == 0) p += 9;
    if (*p != '/') return NULL;
    size_t n = strlen(p);
    char *out = tx_malloc(n + 1);
    if (!out) return NULL;
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i] == '%' && i + 2 < n && hexval(p[i + 1]) >= 0 && hexval(p[i + 2]) >= 0) {
            char c = (char)(hexval(p[i + 1]) * 16 + hexval(p[i + 2]));
            if (c == '\0') { /* a NUL in a path: not a path */
                tx_free(out);
                return NULL;
            }
            out[o++] = c;
            i += 2;
        } else {
            out[o++] = p[i];
        }
    }
    out[o] = '\0';
    return out;
}

char *lsp_path_to_uri(const char *path)
{
    static const char hex[] = "0123456789ABCDEF";
    tx_buf b;
    tx_buf_init(&b, 1 << 16);
    tx_buf_puts(&b, "file://");
    for (const unsigned char *p = (const unsigned char *)path; *p; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
            strchr("/-._~", *p)) {
            tx_buf_append(&b, (const char *)p, 1);
        } else {
            char e[3] = {'%', hex[*p >> 4], hex[*p & 15]};
            tx_buf_append(&b, e, 3);
        }
    }
    return tx_buf_steal(&b);
}

/* ---- analyses ----------------------------------------------------------------------------------
 */

void lsp_analysis_free(lsp_analysis *a)
{
    if (!a) return;
    fe_file_free(a->file);
    tx_diag_list_free(&a->diags);
    lsp_lines_free(&a->lines);
    tx_free(a->stmts);
    tx_free(a->src);
    tx_free(a);
}

lsp_analysis *lsp_analyse_text(fe_context *fe, ck_checker *ck, fe_reuse *reuse, const char *path,
                               char *src, size_t len)
{
    lsp_analysis *a = tx_calloc(1, sizeof *a);
    if (!a) {
        tx_free(src);
        return NULL;
    }
    a->src = src;
    a->len = len;
    tx_diag_list_init(&a->diags);
    if (lsp_lines_build(&a->lines, src, len) != TX_OK) goto oom;
    /* The same two calls as `tactus check` (cli_check.c): the findings are
     * its findings, byte for byte. fe_parse_again is fe_parse that skips
     * what the last parse of this document already knows (frontend.h). */
    tx_status st = reuse ? fe_parse_again(fe, reuse, path, a->src, a->len, &a->file)
                         : fe_parse(fe, path, a->src, a->len, &a->file);
    if (st != TX_OK) goto oom;
    if (ck_check(ck, a->file, &a->diags) != TX_OK) goto oom;
    return a;
oom:
    lsp_analysis_free(a);
    return NULL;
}

/* ---- documents ---------------------------------------------------------------------------------
 */

lsp_doc *lsp_doc_find(lsp_server *s, const char *uri)
{
    for (lsp_doc *d = s->docs; d; d = d->next)
        if (strcmp(d->uri, uri) == 0) return d;
    return NULL;
}

void lsp_doc_free(lsp_doc *d)
{
    if (!d) return;
    lsp_nav_free(d->nav);
    fe_reuse_free(d->reuse);
    if (d->good != d->an) lsp_analysis_free(d->good);
    lsp_analysis_free(d->an);
    if (d->tree) ts_tree_delete(d->tree);
    lsp_lines_free(&d->lines);
    tx_free(d->edits);
    tx_free(d->text);
    tx_free(d->path);
    tx_free(d->uri);
    tx_free(d);
}

/* Room for n bytes of text and its NUL (a quarter more, for edits to come). */
static tx_status reserve(lsp_doc *d, size_t n)
{
    if (n + 1 <= d->cap) return TX_OK;
    size_t cap = n + 1 + n / 4;
    char *t = tx_realloc(d->text, cap);
    if (!t) return TX_ENOMEM;
    d->text = t;
    d->cap = cap;
    return TX_OK;
}

static tx_status set_text(lsp_doc *d, const char *text, size_t n)
{
    if (reserve(d, n) != TX_OK) return TX_ENOMEM;
    memcpy(d->text, text, n);
    d->text[n] = '\0';
    d->len = n;
    return lsp_lines_build(&d->lines, d->text, n);
}

lsp_doc *lsp_doc_open(lsp_server *s, const char *uri, int64_t version, const char *text, size_t n)
{
    lsp_doc *d = tx_calloc(1, sizeof *d);
    if (!d) return NULL;
    d->uri = tx_strdup(uri);
    d->path = lsp_uri_to_path(uri);
    if (!d->path) d->path = tx_strdup(uri);
    d->version = version;
    if (!d->uri || !d->path || set_text(d, text, n) != TX_OK) {
        lsp_doc_free(d);
        return NULL;
    }
    d->too_large = n > LSP_MAX_DOCUMENT;
    d->tree_stale = true;
    d->bracket_bound = SIZE_MAX; /* unknown: measured at the first parse */
    d->generation = 1;
    d->next = s->docs;
    s->docs = d;
    return d;
}

void lsp_doc_close(lsp_server *s, const char *uri)
{
    for (lsp_doc **p = &s->docs; *p; p = &(*p)->next) {
        if (strcmp((*p)->uri, uri) != 0) continue;
        lsp_doc *d = *p;
        *p = d->next;
        lsp_doc_free(d);
        return;
    }
}

lsp_view lsp_doc_view(const lsp_server *s, const lsp_doc *d)
{
    return (lsp_view){d->text, d->len, &d->lines, s->enc};
}

lsp_view lsp_analysis_view(const lsp_server *s, const lsp_analysis *a)
{
    return (lsp_view){a->src, a->len, &a->lines, s->enc};
}

static void log_edit(lsp_doc *d, uint32_t start, uint32_t old_end, uint32_t new_end, size_t old_len)
{
    if (!d->good || d->edits_lost) return;
    /* A whole-text change maps nothing: the next reader re-analyses. */
    if (start == 0 && old_end == old_len && old_len > 0) {
        d->edits_lost = true;
        return;
    }
    if (d->n_edits == LSP_MAX_EDIT_LOG) {
        d->edits_lost = true;
        return;
    }
    if (d->n_edits == d->cap_edits) {
        size_t cap = d->cap_edits ? d->cap_edits * 2 : 32;
        lsp_edit *e = tx_realloc(d->edits, cap * sizeof *e);
        if (!e) {
            d->edits_lost = true;
            return;
        }
        d->edits = e;
        d->cap_edits = cap;
    }
    d->edits[d->n_edits++] = (lsp_edit){start, old_end, new_end};
}

tx_status lsp_doc_change(lsp_server *s, lsp_doc *d, const cJSON *range, const char *text, size_t n,
                         lsp_error *err)
{
    size_t start = 0, end = d->len;
    if (range) {
        lsp_pos a, b;
        if (!lsp_parse_range(range, &a, &b)) {
            lsp_fail(err, LSP_INVALID_PARAMS,
                     "contentChanges[].range must be {start: {line, character}, end: {...}} with "
                     "non-negative integers");
            return TX_EINVAL;
        }
        lsp_view v = lsp_doc_view(s, d);
        start = lsp_byte_of(&v, a);
        end = lsp_byte_of(&v, b);
        if (end < start) {
            lsp_fail(err, LSP_INVALID_PARAMS,
                     "contentChanges[].range ends (%u:%u) before it starts (%u:%u)", b.line,
                     b.character, a.line, a.character);
            return TX_EINVAL;
        }
    }
    size_t old_len = d->len, new_len = d->len - (end - start) + n;
    if (new_len > LSP_MAX_BODY) {
        lsp_fail(err, LSP_INVALID_PARAMS,
                 "the document would grow to %zu bytes, over the %u MiB "
                 "limit",
                 new_len, LSP_MAX_BODY >> 20);
        return TX_ELIMIT;
    }
    TSInputEdit edit;
    if (d->tree) {
        TSPoint sp = lsp_ts_point(d->text, d->len, &d->lines, start);
        TSPoint op = lsp_ts_point(d->text, d->len, &d->lines, end);
        edit = (TSInputEdit){(uint32_t)start, (uint32_t)end, (uint32_t)(start + n), sp, op, sp};
    }
    if (reserve(d, new_len) != TX_OK) return TX_ENOMEM;
    /* The deepest nesting can grow by at most the openers typed and the
     * closers deleted: the guard below rescans only when that bound could
     * reach its limit, not on every keystroke. */
    if (d->bracket_bound != SIZE_MAX) {
        for (size_t i = 0; i < n; i++)
            if (text[i] == '(' || text[i] == '{' || text[i] == '[') d->bracket_bound++;
        for (size_t i = start; i < end; i++)
            if (d->text[i] == ')' || d->text[i] == '}' || d->text[i] == ']') d->bracket_bound++;
    }
    memmove(d->text + start + n, d->text + end, d->len - end);
    memcpy(d->text + start, text, n);
    d->len = new_len;
    d->text[new_len] = '\0';
    if (lsp_lines_build(&d->lines, d->text, d->len) != TX_OK) return TX_ENOMEM;
    if (d->tree) {
        edit.new_end_point = lsp_ts_point(d->text, d->len, &d->lines, start + n);
        ts_tree_edit(d->tree, &edit);
    }
    log_edit(d, (uint32_t)start, (uint32_t)end, (uint32_t)(start + n), old_len);
    d->tree_stale = true;
    d->generation++;
    d->too_large = d->len > LSP_MAX_DOCUMENT;
    if (!d->too_large) d->too_large_told = false;
    return TX_OK;
}

bool lsp_doc_map(const lsp_doc *d, uint32_t *start, uint32_t *end)
{
    if (d->edits_lost) return false;
    uint32_t a = *start, b = *end;
    for (size_t i = 0; i < d->n_edits; i++) {
        const lsp_edit *e = &d->edits[i];
        if (b <= e->start) continue; /* before the edit */
        if (a >= e->old_end) {       /* after it: shifted */
            a = a - e->old_end + e->new_end;
            b = b - e->old_end + e->new_end;
            continue;
        }
        return false; /* the text there was edited */
    }
    *start = a;
    *end = b;
    return true;
}

bool lsp_doc_unmap(const lsp_doc *d, uint32_t *pos)
{
    if (d->edits_lost) return false;
    uint32_t p = *pos;
    for (size_t i = d->n_edits; i-- > 0;) {
        const lsp_edit *e = &d->edits[i];
        if (p <= e->start) continue;
        if (p >= e->new_end) {
            p = p - e->new_end + e->old_end;
            continue;
        }
        return false; /* inside text typed since */
    }
    *pos = p;
    return true;
}

lsp_analysis *lsp_doc_analysis(lsp_server *s, lsp_doc *d)
{
    if (d->an && d->an->generation == d->generation) return d->an;
    char *copy = tx_malloc(d->len + 1);
    if (!copy) return NULL;
    memcpy(copy, d->text, d->len + 1);
    lsp_analysis *a;
    if (d->too_large) {
        a = tx_calloc(1, sizeof *a);
        if (!a || lsp_lines_build(&a->lines, copy, d->len) != TX_OK) {
            tx_free(a ? a->lines.starts : NULL);
            tx_free(a);
            tx_free(copy);
            return NULL;
        }
        a->src = copy;
        a->len = d->len;
        tx_diag_list_init(&a->diags);
    } else {
        if (!d->reuse) d->reuse = fe_reuse_new();
        a = lsp_analyse_text(s->fe, s->ck, d->reuse, d->path, copy, d->len);
        if (!a) return NULL;
    }
    a->generation = d->generation;
    a->result_id = ++s->next_result_id;
    if (d->an && d->an != d->good) lsp_analysis_free(d->an);
    d->an = a;
    if (a->file && a->file->root) {
        /* The navigation index points into the analysis it came from. */
        lsp_nav_free(d->nav);
        d->nav = NULL;
        if (d->good && d->good != a) lsp_analysis_free(d->good);
        d->good = a;
        d->n_edits = 0;
        d->edits_lost = false;
    }
    return a;
}

lsp_analysis *lsp_doc_good(lsp_server *s, lsp_doc *d)
{
    /* Navigation and completion take the declarations as they were at the
     * last analysis, mapped through the edits since: re-analysing a large
     * file on every keystroke would make them as slow as a check. The
     * diagnostics (lsp_doc_analysis) are always fresh. */
    if (!d->good || d->edits_lost) lsp_doc_analysis(s, d);
    return d->good;
}

/* Deepest count of unclosed ( { [ anywhere, strings and comments included:
 * a cheap upper bound for the guard above. */
static size_t max_bracket_depth(const char *src, size_t len)
{
    size_t depth = 0, max = 0;
    for (size_t i = 0; i < len; i++) {
        char c = src[i];
        if (c == '(' || c == '{' || c == '[') {
            if (++depth > max) max = depth;
        } else if ((c == ')' || c == '}' || c == ']') && depth) {
            depth--;
        }
    }
    return max;
}

TSTree *lsp_doc_tree(lsp_server *s, lsp_doc *d)
{
    if (!d->tree_stale) return d->tree;
    d->tree_stale = false;
    if (d->bracket_bound > LSP_MAX_OPEN_BRACKETS && d->len <= LSP_MAX_TREE)
        d->bracket_bound = max_bracket_depth(d->text, d->len);
    if (d->len > LSP_MAX_TREE || d->bracket_bound > LSP_MAX_OPEN_BRACKETS) {
        if (d->tree) ts_tree_delete(d->tree);
        d->tree = NULL;
        lsp_log(&s->out, "%s: no syntax tree (%zu bytes; over %u bytes or %u open brackets)",
                d->uri, d->len, LSP_MAX_TREE, LSP_MAX_OPEN_BRACKETS);
        return NULL;
    }
    ts_parser_set_timeout_micros(s->ts, LSP_TS_BUDGET_US(d->len));
    TSTree *t = ts_parser_parse_string(s->ts, d->tree, d->text, (uint32_t)d->len);
    if (!t) {
        ts_parser_reset(s->ts);
        lsp_log(&s->out, "%s: tree-sitter gave up after its time budget", d->uri);
    }
    if (d->tree) ts_tree_delete(d->tree);
    d->tree = t;
    return t;
}

/* ---- syntax helpers shared by the feature files ------------------------------------------------
 */

TSNode lsp_node_at(TSTree *tree, uint32_t start, uint32_t end)
{
    TSNode root = ts_tree_root_node(tree);
    return ts_node_named_descendant_for_byte_range(root, start, end);
}

const char *lsp_node_text(const lsp_doc *d, TSNode n, size_t *len)
{
    uint32_t s = ts_node_start_byte(n), e = ts_node_end_byte(n);
    if (e > d->len) e = (uint32_t)d->len;
    if (s > e) s = e;
    *len = e - s;
    return d->text + s;
}

bool lsp_node_is(TSNode n, const char *type)
{
    return !ts_node_is_null(n) && strcmp(ts_node_type(n), type) == 0;
}

bool lsp_node_dotted(const lsp_doc *d, TSNode n, char *buf, size_t cap)
{
    if (ts_node_is_null(n) || cap == 0) return false;
    size_t len;
    if (lsp_node_is(n, "identifier")) {
        const char *t = lsp_node_text(d, n, &len);
        if (len + 1 > cap) return false;
        memcpy(buf, t, len);
        buf[len] = '\0';
        return true;
    }
    bool dot = lsp_node_is(n, "dot_index_expression");
    if (!dot && !lsp_node_is(n, "method_index_expression")) return false;
    TSNode table = ts_node_child_by_field_name(n, "table", 5);
    TSNode last = dot ? ts_node_child_by_field_name(n, "field", 5)
                      : ts_node_child_by_field_name(n, "method", 6);
    if (ts_node_is_null(last) || !lsp_node_dotted(d, table, buf, cap)) return false;
    size_t bl = strlen(buf);
    const char *t = lsp_node_text(d, last, &len);
    if (bl + 1 + len + 1 > cap) return false;
    buf[bl] = '.';
    memcpy(buf + bl + 1, t, len);
    buf[bl + 1 + len] = '\0';
    return true;
}

void lsp_block_locals(const lsp_doc *d, TSNode blk, uint32_t before,
                      void (*fn)(void *ud, TSNode id, TSNode stmt), void *ud)
{
    (void)d;
    uint32_t k = ts_node_named_child_count(blk);
    for (uint32_t i = 0; i < k && i < 4000; i++) {
        TSNode st = ts_node_named_child(blk, i);
        if (ts_node_start_byte(st) >= before) break;
        TSNode names = {0};
        if (lsp_node_is(st, "variable_declaration")) {
            names = ts_node_named_child(st, 0);
        } else if (lsp_node_is(st, "function_declaration")) {
            TSNode first = ts_node_child(st, 0);
            if (!ts_node_is_null(first) && !strcmp(ts_node_type(first), "local"))
                names = ts_node_child_by_field_name(st, "name", 4);
        }
        if (ts_node_is_null(names)) continue;
        bool single = lsp_node_is(names, "identifier");
        uint32_t m = single ? 1 : ts_node_named_child_count(names);
        for (uint32_t j = 0; j < m; j++) {
            TSNode id = single ? names : ts_node_named_child(names, j);
            if (lsp_node_is(id, "identifier")) fn(ud, id, st);
        }
    }
}

void lsp_function_params(TSNode fn_node, void (*fn)(void *ud, TSNode id, uint32_t index), void *ud)
{
    TSNode params = ts_node_child_by_field_name(fn_node, "parameters", 10);
    uint32_t k = ts_node_is_null(params) ? 0 : ts_node_named_child_count(params);
    for (uint32_t i = 0; i < k; i++) {
        TSNode p = ts_node_named_child(params, i);
        if (lsp_node_is(p, "identifier")) fn(ud, p, i);
    }
}

/* The text of the markdown this server writes, without its syntax: code
 * fences' lines dropped (their code kept as it is), `code` without its
 * backticks, **strong** without its stars. "- " items stay: they read as
 * plain text. A client that shows plaintext as it is would otherwise show
 * the stars and backticks. */
static void markdown_to_plain(const char *md, tx_buf *out)
{
    bool fenced = false, code = false;
    for (const char *p = md; *p;) {
        size_t line = strcspn(p, "\n");
        bool fence = !strncmp(p, "```", 3);
        if (fence) fenced = !fenced;
        if (fence || fenced) { /* p is at a line's start: the fence's line, or code */
            if (!fence) tx_buf_append(out, p, line + (p[line] == '\n'));
            p += line + (p[line] == '\n');
            continue;
        }
        const char *end = p + line + (p[line] == '\n');
        while (p < end) {
            size_t run = 0;
            while (p + run < end && p[run] != '`' && (code || p[run] != '*' || p[run + 1] != '*'))
                run++;
            tx_buf_append(out, p, run);
            p += run;
            if (p == end) break;
            if (*p == '`')
                code = !code, p++;
            else
                p += 2; /* ** */
        }
    }
}

cJSON *lsp_markup(const lsp_server *s, const char *markdown)
{
    cJSON *m = cJSON_CreateObject();
    if (s->caps.markdown_hover) {
        cJSON_AddStringToObject(m, "kind", "markdown");
        cJSON_AddStringToObject(m, "value", markdown);
        return m;
    }
    tx_buf b;
    tx_buf_init(&b, strlen(markdown) + 1);
    markdown_to_plain(markdown, &b);
    cJSON_AddStringToObject(m, "kind", "plaintext");
    cJSON_AddStringToObject(m, "value", b.data ? b.data : "");
    tx_buf_free(&b);
    return m;
}
