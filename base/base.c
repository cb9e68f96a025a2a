/*
 * base.c - allocation, buffers, arena, files, UTF-8 and diagnostics.
 * See base.h for the contracts.
 */
#include "base.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

const char *tx_status_str(tx_status s)
{
    switch (s) {
    case TX_OK: return "ok";
    case TX_ENOMEM: return "out of memory";
    case TX_ELIMIT: return "size limit exceeded";
    case TX_EIO: return "input/output error";
    case TX_EINVAL: return "invalid input";
    case TX_ENOENT: return "no such file or directory";
    case TX_EISDIR: return "is a directory";
    case TX_ENOTREG: return "not a regular file";
    }
    return "unknown error";
}

/* ---- allocation ------------------------------------------------------------ */

/* Process-wide on purpose: fault injection is a test-only switch, and the
 * counter must see every allocation whichever module or thread makes it.
 * Relaxed atomics: the CLI checks files on several threads. */
static _Atomic long alloc_budget = -1;
static _Atomic unsigned long alloc_total;

void tx_alloc_fail_after(long n)
{
    atomic_store_explicit(&alloc_budget, n, memory_order_relaxed);
}

unsigned long tx_alloc_count(void)
{
    return atomic_load_explicit(&alloc_total, memory_order_relaxed);
}

static bool alloc_allowed(void)
{
    atomic_fetch_add_explicit(&alloc_total, 1, memory_order_relaxed);
    long b = atomic_load_explicit(&alloc_budget, memory_order_relaxed);
    if (b < 0) return true;
    if (b == 0) return false;
    atomic_fetch_sub_explicit(&alloc_budget, 1, memory_order_relaxed);
    return true;
}

void *tx_malloc(size_t n)
{
    if (!alloc_allowed()) return NULL;
    return malloc(n ? n : 1);
}

void *tx_calloc(size_t count, size_t size)
{
    if (!alloc_allowed()) return NULL;
    return calloc(count ? count : 1, size ? size : 1);
}

void *tx_realloc(void *p, size_t n)
{
    if (!alloc_allowed()) return NULL;
    return realloc(p, n ? n : 1);
}

void tx_free(void *p)
{
    free(p);
}

char *tx_strndup(const char *s, size_t n)
{
    char *d = tx_malloc(n + 1);
    if (!d) return NULL;
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

char *tx_strdup(const char *s)
{
    return tx_strndup(s, strlen(s));
}

/* ---- buffers --------------------------------------------------------------- */

void tx_buf_init(tx_buf *b, size_t limit)
{
    b->data = NULL;
    b->len = b->cap = 0;
    b->limit = limit;
}

static tx_status buf_reserve(tx_buf *b, size_t extra)
{
    if (extra > b->limit || b->len > b->limit - extra) return TX_ELIMIT;
    size_t need = b->len + extra + 1;
    if (need <= b->cap) return TX_OK;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need) cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    char *d = tx_realloc(b->data, cap);
    if (!d) return TX_ENOMEM;
    b->data = d;
    b->cap = cap;
    return TX_OK;
}

tx_status tx_buf_append(tx_buf *b, const char *s, size_t n)
{
    tx_status st = buf_reserve(b, n);
    if (st != TX_OK) return st;
    if (n) memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
    return TX_OK;
}

tx_status tx_buf_puts(tx_buf *b, const char *s)
{
    return tx_buf_append(b, s, strlen(s));
}

tx_status tx_buf_vprintf(tx_buf *b, const char *fmt, va_list ap)
{
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0) return TX_EINVAL;
    tx_status st = buf_reserve(b, (size_t)n);
    if (st != TX_OK) return st;
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    b->len += (size_t)n;
    return TX_OK;
}

tx_status tx_buf_printf(tx_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    tx_status st = tx_buf_vprintf(b, fmt, ap);
    va_end(ap);
    return st;
}

/* Length of the well-formed UTF-8 sequence at s (n bytes left), 0 if none. */
static size_t utf8_seq_len(const unsigned char *s, size_t n)
{
    unsigned c = s[0];
    if (c < 0x80) return 1;
    if (c >= 0xC2 && c <= 0xDF) return (n >= 2 && (s[1] & 0xC0) == 0x80) ? 2 : 0;
    if (c >= 0xE0 && c <= 0xEF) {
        if (n < 3 || (s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80) return 0;
        if (c == 0xE0 && s[1] < 0xA0) return 0; /* overlong */
        if (c == 0xED && s[1] > 0x9F) return 0; /* surrogates */
        return 3;
    }
    if (c >= 0xF0 && c <= 0xF4) {
        if (n < 4 || (s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80 || (s[3] & 0xC0) != 0x80)
            return 0;
        if (c == 0xF0 && s[1] < 0x90) return 0; /* overlong */
        if (c == 0xF4 && s[1] > 0x8F) return 0; /* > U+10FFFF */
        return 4;
    }
    return 0;
}

tx_status tx_buf_json_string(tx_buf *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *p = (const unsigned char *)s;
    tx_status st = tx_buf_append(b, "\"", 1);
    size_t i = 0;
    while (st == TX_OK && i < n) {
        unsigned c = p[i];
        if (c == '"' || c == '\\') {
            char e[2] = {'\\', (char)c};
            st = tx_buf_append(b, e, 2);
            i++;
        } else if (c < 0x20) {
            const char *e = NULL;
            switch (c) {
            case '\n': e = "\\n"; break;
            case '\r': e = "\\r"; break;
            case '\t': e = "\\t"; break;
            case '\b': e = "\\b"; break;
            case '\f': e = "\\f"; break;
            }
            if (e) {
                st = tx_buf_append(b, e, 2);
            } else {
                char u[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
                st = tx_buf_append(b, u, 6);
            }
            i++;
        } else if (c < 0x80) {
            st = tx_buf_append(b, (const char *)p + i, 1);
            i++;
        } else {
            size_t k = utf8_seq_len(p + i, n - i);
            if (k) {
                st = tx_buf_append(b, (const char *)p + i, k);
                i += k;
            } else {
                st = tx_buf_append(b, "\xEF\xBF\xBD", 3); /* U+FFFD */
                i++;
            }
        }
    }
    if (st == TX_OK) st = tx_buf_append(b, "\"", 1);
    return st;
}

char *tx_buf_steal(tx_buf *b)
{
    char *d = b->data;
    if (!d) d = tx_strdup("");
    b->data = NULL;
    b->len = b->cap = 0;
    return d;
}

void tx_buf_clear(tx_buf *b)
{
    b->len = 0;
    if (b->data) b->data[0] = '\0';
}

void tx_buf_free(tx_buf *b)
{
    tx_free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

/* ---- arena ----------------------------------------------------------------- */

struct tx_arena_block {
    tx_arena_block *next;
    size_t used, size;
    max_align_t data[];
};

void tx_arena_init(tx_arena *a)
{
    a->head = NULL;
}

void *tx_arena_alloc(tx_arena *a, size_t n)
{
    const size_t align = _Alignof(max_align_t);
    n = (n + align - 1) / align * align;
    tx_arena_block *blk = a->head;
    if (!blk || blk->size - blk->used < n) {
        size_t size = n > 16384 ? n : 16384;
        blk = tx_malloc(sizeof(*blk) + size);
        if (!blk) return NULL;
        blk->size = size;
        blk->used = 0;
        blk->next = a->head;
        a->head = blk;
    }
    void *p = (char *)blk->data + blk->used;
    blk->used += n;
    memset(p, 0, n);
    return p;
}

char *tx_arena_strndup(tx_arena *a, const char *s, size_t n)
{
    char *d = tx_arena_alloc(a, n + 1);
    if (!d) return NULL;
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

void tx_arena_free(tx_arena *a)
{
    tx_arena_block *b = a->head;
    while (b) {
        tx_arena_block *next = b->next;
        tx_free(b);
        b = next;
    }
    a->head = NULL;
}

/* ---- files ------------------------------------------------------------------ */

tx_status tx_read_file(const char *path, size_t limit, char **out, size_t *len, int *err_no)
{
    *out = NULL;
    *len = 0;
    *err_no = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    if (fd < 0) {
        *err_no = errno;
        return errno == ENOENT ? TX_ENOENT : TX_EIO;
    }
    struct stat sb;
    if (fstat(fd, &sb) != 0) {
        *err_no = errno;
        close(fd);
        return TX_EIO;
    }
    if (S_ISDIR(sb.st_mode)) {
        close(fd);
        return TX_EISDIR;
    }
    if (!S_ISREG(sb.st_mode)) {
        close(fd);
        return TX_ENOTREG;
    }
    tx_buf b;
    tx_buf_init(&b, limit);
    tx_status st = TX_OK;
    char chunk[65536];
    for (;;) {
        ssize_t r = read(fd, chunk, sizeof chunk);
        if (r < 0) {
            if (errno == EINTR) continue;
            *err_no = errno;
            st = TX_EIO;
            break;
        }
        if (r == 0) break;
        st = tx_buf_append(&b, chunk, (size_t)r);
        if (st != TX_OK) break;
    }
    close(fd);
    if (st != TX_OK) {
        tx_buf_free(&b);
        return st;
    }
    *len = b.len;
    *out = tx_buf_steal(&b);
    return *out ? TX_OK : TX_ENOMEM;
}

/* ---- UTF-8 ------------------------------------------------------------------ */

size_t tx_utf8_invalid_at(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    while (i < n) {
        if (p[i] < 0x80) {
            i++;
            continue;
        }
        size_t k = utf8_seq_len(p + i, n - i);
        if (!k) return i;
        i += k;
    }
    return n;
}

size_t tx_utf8_count(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0, count = 0;
    while (i < n) {
        size_t k = p[i] < 0x80 ? 1 : utf8_seq_len(p + i, n - i);
        i += k ? k : 1;
        count++;
    }
    return count;
}

size_t tx_utf8_cut(const char *s, size_t n, size_t max)
{
    if (n <= max) return n;
    size_t cut = max;
    while (cut > 0 && ((unsigned char)s[cut] & 0xC0) == 0x80) cut--;
    return cut;
}

tx_status tx_buf_shorten(tx_buf *b, const char *s, size_t max, const char *where_whole)
{
    size_t n = strlen(s), cut = tx_utf8_cut(s, n, max);
    tx_status st = tx_buf_append(b, s, cut);
    if (st == TX_OK && cut < n)
        st = tx_buf_printf(b, "\xe2\x80\xa6 (%zu more bytes%s%s)", n - cut, where_whole ? "; " : "",
                           where_whole ? where_whole : "");
    return st;
}

/* ---- terminal text ---------------------------------------------------------- */

static unsigned utf8_decode3(const unsigned char *p, size_t k)
{
    if (k == 2) return ((unsigned)(p[0] & 0x1F) << 6) | (p[1] & 0x3F);
    return ((unsigned)(p[0] & 0x0F) << 12) | ((unsigned)(p[1] & 0x3F) << 6) | (p[2] & 0x3F);
}

/* Characters that change how the text around them is shown without being
 * seen: bidirectional overrides and isolates (Trojan Source, CVE-2021-42574:
 * "dorp" shown where "prod" is written), marks, zero-width characters and the
 * byte-order mark. A person approving text must see what they approve. */
static bool is_format_control(const unsigned char *p, size_t k)
{
    if (k != 2 && k != 3) return false;
    unsigned cp = utf8_decode3(p, k);
    return cp == 0x061C || (cp >= 0x200B && cp <= 0x200F) || (cp >= 0x202A && cp <= 0x202E) ||
           (cp >= 0x2060 && cp <= 0x2069) || cp == 0xFEFF;
}

tx_status tx_buf_term_text(tx_buf *b, const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    tx_status st = TX_OK;
    size_t i = 0;
    while (i < n && st == TX_OK) {
        unsigned char c = p[i];
        if (c < 0x80) {
            if ((c < 0x20 && c != '\n' && c != '\t') || c == 0x7f)
                st = tx_buf_printf(b, "\\x%02x", c);
            else
                st = tx_buf_append(b, s + i, 1);
            i++;
            continue;
        }
        size_t k = utf8_seq_len(p + i, n - i);
        if (!k) {
            st = tx_buf_printf(b, "\\x%02x", c);
            i++;
        } else if (k == 2 && c == 0xC2 && p[i + 1] < 0xA0) {
            st = tx_buf_printf(b, "\\u%04x", (unsigned)p[i + 1]);
            i += 2;
        } else if (is_format_control(p + i, k)) {
            st = tx_buf_printf(b, "\\u%04x", utf8_decode3(p + i, k));
            i += k;
        } else {
            st = tx_buf_append(b, s + i, k);
            i += k;
        }
    }
    return st;
}

char *tx_term_text(const char *s)
{
    tx_buf b;
    tx_buf_init(&b, (size_t)64 * 1024 * 1024);
    if (tx_buf_term_text(&b, s ? s : "", s ? strlen(s) : 0) != TX_OK ||
        tx_buf_puts(&b, "") != TX_OK) {
        tx_buf_free(&b);
        return NULL;
    }
    return tx_buf_steal(&b);
}

void tx_fputs_term(const char *s, FILE *out)
{
    char *t = tx_term_text(s);
    fputs(t ? t : "[unprintable]", out);
    tx_free(t);
}

void tx_fputs_xml(const char *s, FILE *out)
{
    for (; s && *s; s++) {
        unsigned char ch = (unsigned char)*s;
        const char *esc = ch == '&'    ? "&amp;"
                          : ch == '<'  ? "&lt;"
                          : ch == '>'  ? "&gt;"
                          : ch == '"'  ? "&quot;"
                          : ch == '\'' ? "&#39;"
                                       : NULL;
        if (esc)
            fputs(esc, out);
        else if (ch < 0x20 && ch != '\t' && ch != '\n' && ch != '\r')
            fputc('?', out);
        else
            fputc(ch, out);
    }
}

/* ---- diagnostics ------------------------------------------------------------ */

const char *tx_severity_str(tx_severity s)
{
    switch (s) {
    case TX_SEV_ERROR: return "error";
    case TX_SEV_WARNING: return "warning";
    case TX_SEV_INFO: return "info";
    }
    return "error";
}

void tx_diag_list_init(tx_diag_list *l)
{
    memset(l, 0, sizeof *l);
}

void tx_diag_add(tx_diag_list *l, const char *code, tx_severity sev, tx_span span,
                 const char *fmt, ...)
{
    if (l->len == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16;
        tx_diag *items = tx_realloc(l->items, cap * sizeof *items);
        if (!items) {
            l->oom = true;
            l->last_ok = false;
            return;
        }
        l->items = items;
        l->cap = cap;
    }
    tx_buf b;
    tx_buf_init(&b, 1 << 16);
    va_list ap;
    va_start(ap, fmt);
    tx_status st = tx_buf_vprintf(&b, fmt, ap);
    va_end(ap);
    if (st == TX_ELIMIT) st = TX_OK; /* a giant message is cut, not lost */
    char *msg = st == TX_OK ? tx_buf_steal(&b) : NULL;
    tx_buf_free(&b);
    if (!msg) {
        l->oom = true;
        l->last_ok = false;
        return;
    }
    l->items[l->len++] = (tx_diag){code, sev, span, msg, false, {0, 0, {0, 0}, {0, 0}}, NULL};
    l->last_ok = true;
}

void tx_diag_relate(tx_diag_list *l, tx_span span, const char *fmt, ...)
{
    /* Only the add that just succeeded gets it: after a failed add the last
     * item belongs to an earlier finding. */
    if (!l->len || !l->last_ok) return;
    tx_diag *d = &l->items[l->len - 1];
    tx_buf b;
    tx_buf_init(&b, 4096);
    va_list ap;
    va_start(ap, fmt);
    tx_status st = tx_buf_vprintf(&b, fmt, ap);
    va_end(ap);
    if (st == TX_ELIMIT) st = TX_OK;
    char *msg = st == TX_OK ? tx_buf_steal(&b) : NULL;
    tx_buf_free(&b);
    if (!msg) {
        l->oom = true;
        return;
    }
    tx_free(d->related_message);
    d->related_message = msg;
    d->related = span;
    d->has_related = true;
}

static int diag_cmp(const void *pa, const void *pb)
{
    const tx_diag *a = pa, *b = pb;
    if (a->span.start_byte != b->span.start_byte)
        return a->span.start_byte < b->span.start_byte ? -1 : 1;
    int c = strcmp(a->code, b->code);
    if (c) return c;
    if (a->span.end_byte != b->span.end_byte) return a->span.end_byte < b->span.end_byte ? -1 : 1;
    return strcmp(a->message, b->message);
}

void tx_diag_sort(tx_diag_list *l)
{
    if (l->len < 2) return;
    qsort(l->items, l->len, sizeof *l->items, diag_cmp);
    size_t w = 1;
    for (size_t r = 1; r < l->len; r++) {
        if (diag_cmp(&l->items[w - 1], &l->items[r]) == 0) {
            tx_free(l->items[r].message);
            tx_free(l->items[r].related_message);
            continue;
        }
        l->items[w++] = l->items[r];
    }
    l->len = w;
}

size_t tx_diag_count(const tx_diag_list *l, tx_severity sev)
{
    size_t n = 0;
    for (size_t i = 0; i < l->len; i++)
        if (l->items[i].severity == sev) n++;
    return n;
}

void tx_diag_list_free(tx_diag_list *l)
{
    for (size_t i = 0; i < l->len; i++) {
        tx_free(l->items[i].message);
        tx_free(l->items[i].related_message);
    }
    tx_free(l->items);
    memset(l, 0, sizeof *l);
}

/* Start of the line holding byte `pos`, searching back at most to 0. */
static size_t line_start(const char *src, size_t pos)
{
    while (pos > 0 && src[pos - 1] != '\n') pos--;
    return pos;
}

tx_line_col tx_span_columns(const char *src, size_t src_len, tx_span span)
{
    size_t s = span.start_byte > src_len ? src_len : span.start_byte;
    size_t e = span.end_byte > src_len ? src_len : span.end_byte;
    if (e < s) e = s;
    size_t ls = line_start(src, s), le = line_start(src, e);
    tx_line_col lc;
    lc.line = span.start.row + 1;
    lc.column = (uint32_t)tx_utf8_count(src + ls, s - ls) + 1;
    lc.end_line = span.end.row + 1;
    lc.end_column = (uint32_t)tx_utf8_count(src + le, e - le) + 1;
    return lc;
}

tx_span tx_span_of_bytes(const char *src, size_t src_len, size_t start, size_t end)
{
    if (start > src_len) start = src_len;
    if (end > src_len) end = src_len;
    if (end < start) end = start;
    tx_span sp = {(uint32_t)start, (uint32_t)end, {0, 0}, {0, 0}};
    uint32_t row = 0;
    size_t ls = 0, i = 0;
    for (; i < start; i++)
        if (src[i] == '\n') row++, ls = i + 1;
    sp.start = (tx_point){row, (uint32_t)(start - ls)};
    for (; i < end; i++)
        if (src[i] == '\n') row++, ls = i + 1;
    sp.end = (tx_point){row, (uint32_t)(end - ls)};
    return sp;
}

/* ---- string map ---------------------------------------------------------------- */

static uint64_t hash_bytes(const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (size_t i = 0; i < n; i++) h = (h ^ (unsigned char)s[i]) * 1099511628211ULL;
    return h;
}

void tx_map_init(tx_map *m)
{
    memset(m, 0, sizeof *m);
}

static size_t map_slot(const tx_map *m, const char **keys, const size_t *lens, size_t cap,
                       const char *key, size_t n)
{
    (void)m;
    size_t i = (size_t)hash_bytes(key, n) & (cap - 1);
    while (keys[i] && !(lens[i] == n && memcmp(keys[i], key, n) == 0)) i = (i + 1) & (cap - 1);
    return i;
}

tx_status tx_map_put(tx_map *m, const char *key, size_t n, void *value)
{
    if ((m->len + 1) * 2 > m->cap) {
        size_t cap = m->cap ? m->cap * 2 : 64;
        const char **keys = tx_calloc(cap, sizeof *keys);
        size_t *lens = tx_calloc(cap, sizeof *lens);
        void **values = tx_calloc(cap, sizeof *values);
        if (!keys || !lens || !values) {
            tx_free(keys);
            tx_free(lens);
            tx_free(values);
            return TX_ENOMEM;
        }
        for (size_t i = 0; i < m->cap; i++) {
            if (!m->keys[i]) continue;
            size_t j = map_slot(m, keys, lens, cap, m->keys[i], m->key_lens[i]);
            keys[j] = m->keys[i];
            lens[j] = m->key_lens[i];
            values[j] = m->values[i];
        }
        tx_free(m->keys);
        tx_free(m->key_lens);
        tx_free(m->values);
        m->keys = keys;
        m->key_lens = lens;
        m->values = values;
        m->cap = cap;
    }
    size_t i = map_slot(m, m->keys, m->key_lens, m->cap, key, n);
    if (!m->keys[i]) m->len++;
    m->keys[i] = key;
    m->key_lens[i] = n;
    m->values[i] = value;
    return TX_OK;
}

void *tx_map_get(const tx_map *m, const char *key, size_t n)
{
    if (!m->cap) return NULL;
    size_t i = map_slot(m, m->keys, m->key_lens, m->cap, key, n);
    return m->keys[i] ? m->values[i] : NULL;
}

void tx_map_free(tx_map *m)
{
    tx_free(m->keys);
    tx_free(m->key_lens);
    tx_free(m->values);
    memset(m, 0, sizeof *m);
}

/* ---- strings ------------------------------------------------------------------ */

size_t tx_edit_distance(const char *a, size_t alen, const char *b, size_t blen, size_t cap)
{
    if (alen > blen ? alen - blen > cap : blen - alen > cap) return cap + 1;
    size_t *row = tx_malloc((blen + 1) * sizeof *row);
    if (!row) return cap + 1;
    for (size_t j = 0; j <= blen; j++) row[j] = j;
    for (size_t i = 1; i <= alen; i++) {
        size_t prev = row[0], best = i;
        row[0] = i;
        for (size_t j = 1; j <= blen; j++) {
            size_t cur = row[j];
            size_t sub = prev + (tolower((unsigned char)a[i - 1]) !=
                                 tolower((unsigned char)b[j - 1]));
            size_t del = row[j] + 1, ins = row[j - 1] + 1;
            size_t m = sub < del ? sub : del;
            row[j] = m < ins ? m : ins;
            if (row[j] < best) best = row[j];
            prev = cur;
        }
        if (best > cap) {
            tx_free(row);
            return cap + 1;
        }
    }
    size_t d = row[blen];
    tx_free(row);
    return d > cap ? cap + 1 : d;
}

bool tx_str_ieq(const char *a, const char *b)
{
    while (*a && *b) {
        if (tolower((unsigned char)*a) != tolower((unsigned char)*b)) return false;
        a++;
        b++;
    }
    return *a == *b;
}

bool tx_has_suffix(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && memcmp(s + n - m, suffix, m) == 0;
}

bool tx_env_name_is_secret(const char *name)
{
    static const char *const blocked[] = {
        "OPENAI_API_KEY",        "GOOGLE_API_KEY",    "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AZURE_OPENAI_API_KEY",
        "ANTHROPIC_API_KEY",
    };
    static const char *const suffixes[] = {"_API_KEY", "_TOKEN", "_SECRET", "_PASSWORD"};
    char upper[256];
    size_t n = strlen(name);
    if (n >= sizeof upper) return true; /* absurd names are refused, not guessed */
    for (size_t i = 0; i <= n; i++) upper[i] = (char)toupper((unsigned char)name[i]);
    for (size_t i = 0; i < sizeof blocked / sizeof blocked[0]; i++)
        if (strcmp(upper, blocked[i]) == 0) return true;
    for (size_t i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++)
        if (tx_has_suffix(upper, suffixes[i])) return true;
    return false;
}
