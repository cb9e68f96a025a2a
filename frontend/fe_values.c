/*
 * fe_values.c - turn expression nodes into static fe_value trees.
 *
 * Only what can be known without running code is kept: literals, tables,
 * names, calls with their arguments. Everything else is FE_OTHER with a span,
 * so rules can still point at it.
 */
#include <lauxlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "fe_internal.h"

void *fe_alloc(fe_parser *p, size_t n)
{
    void *m = tx_arena_alloc(&p->file->arena, n);
    if (!m) p->oom = true;
    return m;
}

char *fe_strndup(fe_parser *p, const char *s, size_t n)
{
    char *d = tx_arena_strndup(&p->file->arena, s, n);
    if (!d) p->oom = true;
    return d;
}

tx_span fe_node_span(const fe_node *node)
{
    return (tx_span){node->start_byte, node->end_byte, node->start, node->end};
}

char *fe_node_text(fe_parser *p, const fe_node *node)
{
    uint32_t s = node->start_byte, e = node->end_byte;
    if (e > p->file->len) e = (uint32_t)p->file->len;
    if (s > e) s = e;
    return fe_strndup(p, p->file->src + s, e - s);
}

tx_span fe_ts_span(TSNode node)
{
    TSPoint a = ts_node_start_point(node), b = ts_node_end_point(node);
    return (tx_span){ts_node_start_byte(node), ts_node_end_byte(node), {a.row, a.column},
                     {b.row, b.column}};
}

char *fe_ts_text(fe_parser *p, TSNode node)
{
    uint32_t s = ts_node_start_byte(node), e = ts_node_end_byte(node);
    if (e > p->file->len) e = (uint32_t)p->file->len;
    if (s > e) s = e;
    return fe_strndup(p, p->file->src + s, e - s);
}

/* Dotted name of `a`, `a.b.c`, `a:b`; NULL when any part is dynamic. */
const char *fe_static_name(fe_parser *p, const fe_node *node, int depth)
{
    const fe_syms *s = p->sym;
    uint16_t t = (node)->kind;
    if (depth > FE_MAX_DEPTH) return NULL;
    if (t == s->identifier) return fe_node_text(p, node);
    const fe_node *base, *last;
    if (t == s->dot_index_expression) {
        base = fe_node_child_by_field(node, s->f_table);
        last = fe_node_child_by_field(node, s->f_field);
    } else if (t == s->method_index_expression) {
        base = fe_node_child_by_field(node, s->f_table);
        last = fe_node_child_by_field(node, s->f_method);
    } else {
        return NULL;
    }
    if (!(base) || !(last)) return NULL;
    const char *head = fe_static_name(p, base, depth + 1);
    if (!head) return NULL;
    uint32_t ls = (last)->start_byte, le = (last)->end_byte;
    size_t hn = strlen(head), ln = le - ls;
    char *d = fe_alloc(p, hn + ln + 2);
    if (!d) return NULL;
    memcpy(d, head, hn);
    d[hn] = '.';
    memcpy(d + hn + 1, p->file->src + ls, ln);
    d[hn + 1 + ln] = '\0';
    return d;
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

static size_t utf8_encode(unsigned long cp, char out[6])
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    /* Lua 5.4 accepts up to 2^31 with the old 6-byte forms; cap at 4 bytes. */
    if (cp > 0x10FFFF) cp = 0xFFFD;
    out[0] = (char)(0xF0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* Decodes a short string's escapes (Lua 5.4 manual §3.1) into dst, which has
 * room for n bytes (decoding never grows). Returns the decoded length. */
static size_t decode_short_string(const char *s, size_t n, char *dst)
{
    size_t i = 0, o = 0;
    while (i < n) {
        char c = s[i];
        if (c != '\\' || i + 1 >= n) {
            dst[o++] = c;
            i++;
            continue;
        }
        char e = s[i + 1];
        i += 2;
        switch (e) {
        case 'a': dst[o++] = '\a'; break;
        case 'b': dst[o++] = '\b'; break;
        case 'f': dst[o++] = '\f'; break;
        case 'n': dst[o++] = '\n'; break;
        case 'r': dst[o++] = '\r'; break;
        case 't': dst[o++] = '\t'; break;
        case 'v': dst[o++] = '\v'; break;
        case '\n':
        case '\r':
            dst[o++] = '\n';
            if (i < n && (s[i] == '\n' || s[i] == '\r') && s[i] != e) i++;
            break;
        case 'z':
            while (i < n && (s[i] == ' ' || (s[i] >= '\t' && s[i] <= '\r'))) i++;
            break;
        case 'x':
            if (i + 1 < n && hexval(s[i]) >= 0 && hexval(s[i + 1]) >= 0) {
                dst[o++] = (char)(hexval(s[i]) * 16 + hexval(s[i + 1]));
                i += 2;
            }
            break;
        case 'u': {
            unsigned long cp = 0;
            size_t j = i;
            if (j < n && s[j] == '{') {
                j++;
                while (j < n && hexval(s[j]) >= 0 && cp < 0x80000000UL) cp = cp * 16 + (unsigned long)hexval(s[j++]);
                if (j < n && s[j] == '}') {
                    char buf[6];
                    size_t k = utf8_encode(cp, buf);
                    /* "\u{X}" is at least 5 bytes, so 4 output bytes always fit. */
                    memcpy(dst + o, buf, k);
                    o += k;
                    i = j + 1;
                }
            }
            break;
        }
        default:
            if (e >= '0' && e <= '9') {
                int v = e - '0';
                for (int k = 0; k < 2 && i < n && s[i] >= '0' && s[i] <= '9'; k++)
                    v = v * 10 + (s[i++] - '0');
                dst[o++] = (char)(v & 0xFF);
            } else {
                dst[o++] = e; /* \\ \" \' and anything Lua would reject */
            }
        }
    }
    return o;
}

static void value_string(fe_parser *p, const fe_node *node, fe_value *v)
{
    const fe_syms *s = p->sym;
    const fe_node *start = fe_node_child_by_field(node, s->f_start);
    const fe_node *content = fe_node_child_by_field(node, s->f_content);
    v->kind = FE_STRING;
    uint32_t cs, ce;
    if (!!(content)) {
        v->content = fe_node_span(content);
    } else {
        /* Empty string: an empty span right after the opening delimiter. */
        tx_span open = fe_node_span(!(start) ? node : start);
        v->content = (tx_span){open.end_byte, open.end_byte, open.end, open.end};
    }
    cs = v->content.start_byte;
    ce = v->content.end_byte;
    const char *src = p->file->src + cs;
    size_t n = ce - cs;
    v->long_string = !!(start) && p->file->src[(start)->start_byte] == '[';
    char *d = fe_alloc(p, n + 1);
    if (!d) {
        v->str = "";
        return;
    }
    if (v->long_string) {
        /* Lua skips a newline right after the opening bracket. */
        size_t skip = 0;
        if (n > 0 && (src[0] == '\n' || src[0] == '\r')) {
            skip = 1;
            if (n > 1 && (src[1] == '\n' || src[1] == '\r') && src[1] != src[0]) skip = 2;
        }
        memcpy(d, src + skip, n - skip);
        v->str_len = n - skip;
    } else {
        v->str_len = decode_short_string(src, n, d);
    }
    d[v->str_len] = '\0';
    v->str = d;
}

static void value_number(fe_parser *p, const fe_node *node, fe_value *v)
{
    char *text = fe_node_text(p, node);
    v->kind = FE_OTHER;
    if (!text) return;
    lua_State *L = p->ctx->L;
    if (lua_stringtonumber(L, text) != 0) {
        v->kind = FE_NUMBER;
        v->is_integer = lua_isinteger(L, -1);
        v->number = lua_tonumber(L, -1);
        lua_pop(L, 1);
    }
}

static void append_entry(fe_value *v, fe_entry **tail, fe_entry *e)
{
    if (*tail)
        (*tail)->next = e;
    else
        v->entries = e;
    *tail = e;
    v->n_entries++;
}

static void value_table(fe_parser *p, const fe_node *node, fe_value *v, int depth)
{
    const fe_syms *s = p->sym;
    v->kind = FE_TABLE;
    fe_entry *tail = NULL;
    fe_iter it = fe_iter_start(node);
    const fe_node *f;
    while (!p->oom && fe_iter_next(&it, &f)) {
        if ((f)->kind != s->field) continue;
        fe_entry *e = fe_alloc(p, sizeof *e);
        if (!e) break;
        const fe_node *name = fe_node_child_by_field(f, s->f_name);
        const fe_node *key = fe_node_child_by_field(f, s->f_key);
        const fe_node *value = fe_node_child_by_field(f, s->f_value);
        if (!!(name)) {
            e->key = fe_node_text(p, name);
            e->key_span = fe_node_span(name);
        } else if (!!(key) && (key)->kind == s->string) {
            /* ["k"] = v behaves like k = v for the model. */
            fe_value *kv = fe_value_from_node(p, key, depth + 1);
            if (kv && kv->kind == FE_STRING) {
                e->key = kv->str;
                e->key_span = kv->span;
            }
        } else if (!!(key)) {
            e->key = NULL;
            e->key_span = fe_node_span(key);
            /* A computed key: treat as neither positional nor named. */
            e->value = !(value) ? NULL : fe_value_from_node(p, value, depth + 1);
            continue;
        } else {
            v->n_positional++;
        }
        if (!(value)) continue;
        e->value = fe_value_from_node(p, value, depth + 1);
        if (e->value) append_entry(v, &tail, e);
    }
    fe_iter_done(&it);
}

static void value_call(fe_parser *p, const fe_node *node, fe_value *v, int depth)
{
    const fe_syms *s = p->sym;
    v->kind = FE_CALL;
    const fe_node *callee = fe_node_child_by_field(node, s->f_name);
    const fe_node *args = fe_node_child_by_field(node, s->f_arguments);
    if (!!(callee)) {
        v->str = fe_static_name(p, callee, depth + 1);
        if (v->str) v->str_len = strlen(v->str);
    }
    if (!(args)) return;
    fe_entry *tail = NULL;
    fe_iter it = fe_iter_start(args);
    const fe_node *a;
    while (!p->oom && fe_iter_next(&it, &a)) {
        if ((a)->kind == s->comment) continue;
        fe_entry *e = fe_alloc(p, sizeof *e);
        if (!e) break;
        e->value = fe_value_from_node(p, a, depth + 1);
        if (!e->value) break;
        append_entry(v, &tail, e);
        v->n_positional++;
    }
    fe_iter_done(&it);
}

fe_value *fe_value_from_node(fe_parser *p, const fe_node *node, int depth)
{
    const fe_syms *s = p->sym;
    fe_value *v = fe_alloc(p, sizeof *v);
    if (!v) return NULL;
    v->span = fe_node_span(node);
    v->node = node;
    v->kind = FE_OTHER;
    if (depth > FE_MAX_DEPTH) return v;
    uint16_t t = (node)->kind;
    while (t == s->parenthesized_expression && (node)->n_named == 1) {
        /* (x) is x for our purposes (it truncates multiple results only). */
        node = fe_node_named_child(node, 0);
        t = (node)->kind;
        if (++depth > FE_MAX_DEPTH) return v;
    }
    if (t == s->nil) {
        v->kind = FE_NIL;
    } else if (t == s->true_ || t == s->false_) {
        v->kind = FE_BOOL;
        v->boolean = t == s->true_;
    } else if (t == s->number) {
        value_number(p, node, v);
    } else if (t == s->string) {
        value_string(p, node, v);
    } else if (t == s->table_constructor) {
        value_table(p, node, v, depth);
    } else if (t == s->function_definition) {
        v->kind = FE_FUNCTION;
    } else if (t == s->function_call) {
        value_call(p, node, v, depth);
    } else if (t == s->identifier || t == s->dot_index_expression) {
        v->str = fe_static_name(p, node, depth + 1);
        if (v->str) {
            v->kind = FE_NAME;
            v->str_len = strlen(v->str);
        }
    } else if (t == s->unary_expression) {
        /* -3 is a number literal to a user. */
        const fe_node *op = fe_node_child_by_field(node, FE_F_OPERATOR);
        const fe_node *operand = fe_node_child_by_field(node, s->f_operand);
        if (!!(op) && !!(operand) &&
            (op)->end_byte - (op)->start_byte == 1 &&
            p->file->src[(op)->start_byte] == '-' &&
            (operand)->kind == s->number) {
            value_number(p, operand, v);
            if (v->kind == FE_NUMBER) v->number = -v->number;
        }
    }
    return v;
}

/* ---- public accessors ----------------------------------------------------------- */

const fe_entry *fe_value_entry(const fe_value *table, const char *key)
{
    if (!table || table->kind != FE_TABLE) return NULL;
    for (const fe_entry *e = table->entries; e; e = e->next)
        if (e->key && strcmp(e->key, key) == 0) return e;
    return NULL;
}

const fe_value *fe_value_get(const fe_value *table, const char *key)
{
    const fe_entry *e = fe_value_entry(table, key);
    return e ? e->value : NULL;
}

const fe_value *fe_value_at(const fe_value *v, size_t i)
{
    if (!v || (v->kind != FE_TABLE && v->kind != FE_CALL)) return NULL;
    for (const fe_entry *e = v->entries; e; e = e->next) {
        if (e->key) continue;
        if (i == 0) return e->value;
        i--;
    }
    return NULL;
}

const char *fe_value_kind_name(const fe_value *v)
{
    if (!v) return "nothing";
    switch (v->kind) {
    case FE_NIL: return "nil";
    case FE_BOOL: return "a boolean";
    case FE_NUMBER: return v->is_integer ? "an integer" : "a number";
    case FE_STRING: return "a string";
    case FE_TABLE: return "a table";
    case FE_FUNCTION: return "a function";
    case FE_NAME: return "a variable";
    case FE_CALL: return "a call";
    case FE_OTHER: return "an expression";
    }
    return "an expression";
}

static cJSON *to_json(const fe_value *v, int depth)
{
    if (!v || depth > FE_MAX_DEPTH) return cJSON_CreateNull();
    switch (v->kind) {
    case FE_BOOL: return cJSON_CreateBool(v->boolean);
    case FE_NUMBER: return cJSON_CreateNumber(v->number);
    case FE_STRING: return cJSON_CreateString(v->str);
    case FE_TABLE: {
        bool array = v->n_entries && v->n_entries == v->n_positional;
        cJSON *o = array ? cJSON_CreateArray() : cJSON_CreateObject();
        for (const fe_entry *e = v->entries; e; e = e->next) {
            cJSON *item = to_json(e->value, depth + 1);
            if (array)
                cJSON_AddItemToArray(o, item);
            else if (e->key)
                cJSON_AddItemToObject(o, e->key, item);
            else
                cJSON_Delete(item);
        }
        return o;
    }
    default: return cJSON_CreateNull();
    }
}

cJSON *fe_value_to_json(const fe_value *v)
{
    return to_json(v, 0);
}
