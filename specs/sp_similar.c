/*
 * sp_similar.c - how alike two texts are, the two ways the original steps
 * measured it (inventory C.2):
 *   - "fuzzy match": Python difflib's SequenceMatcher ratio (Ratcliff and
 *     Obershelp: the longest common block, then recursively left and right
 *     of it; ratio = 2 * matched / total), on normalized text, and 1.0 when
 *     either contains the other;
 *   - "similar to ... with N% similarity": rapidfuzz's fuzz.ratio, the Indel
 *     similarity 100 * 2 * LCS / total, LCS being the longest common
 *     subsequence.
 * Both work on code points, as Python does. Texts are capped at
 * SP_SIMILAR_MAX code points: the work is quadratic.
 */
#include <ctype.h>
#include <string.h>

#include "sp_internal.h"

/* Decodes UTF-8 into code points (invalid bytes count as themselves). */
static size_t decode(const char *s, uint32_t *out, size_t cap)
{
    size_t n = 0;
    const unsigned char *p = (const unsigned char *)s;
    while (*p && n < cap) {
        uint32_t c = *p;
        size_t len = 1;
        if (c >= 0xF0 && p[1] && p[2] && p[3])
            c = (uint32_t)(c & 7) << 18 | (uint32_t)(p[1] & 63) << 12 | (uint32_t)(p[2] & 63) << 6 |
                (p[3] & 63),
            len = 4;
        else if (c >= 0xE0 && p[1] && p[2])
            c = (uint32_t)(c & 15) << 12 | (uint32_t)(p[1] & 63) << 6 | (p[2] & 63), len = 3;
        else if (c >= 0xC0 && p[1])
            c = (uint32_t)(c & 31) << 6 | (p[1] & 63), len = 2;
        out[n++] = c;
        p += len;
    }
    return n;
}

/* Longest common block of a[alo..ahi) and b[blo..bhi): earliest in a, then
 * in b, as difflib picks it. `row` has bhi + 1 entries of scratch. */
static size_t longest_block(const uint32_t *a, size_t alo, size_t ahi, const uint32_t *b,
                            size_t blo, size_t bhi, size_t *row, size_t *prev, size_t *ia,
                            size_t *ib)
{
    size_t best = 0;
    *ia = alo;
    *ib = blo;
    memset(prev + blo, 0, (bhi - blo + 1) * sizeof *prev);
    for (size_t i = alo; i < ahi; i++) {
        for (size_t j = blo; j < bhi; j++) {
            size_t k = a[i] == b[j] ? (j > blo ? prev[j - 1] : 0) + 1 : 0;
            row[j] = k;
            if (k > best) {
                best = k;
                *ia = i + 1 - k;
                *ib = j + 1 - k;
            }
        }
        memcpy(prev + blo, row + blo, (bhi - blo) * sizeof *row);
    }
    return best;
}

static size_t matched(const uint32_t *a, size_t alo, size_t ahi, const uint32_t *b, size_t blo,
                      size_t bhi, size_t *row, size_t *prev, int depth)
{
    if (alo >= ahi || blo >= bhi || depth > 4096) return 0;
    size_t i, j;
    size_t k = longest_block(a, alo, ahi, b, blo, bhi, row, prev, &i, &j);
    if (k == 0) return 0;
    return k + matched(a, alo, i, b, blo, j, row, prev, depth + 1) +
           matched(a, i + k, ahi, b, j + k, bhi, row, prev, depth + 1);
}

/* Both texts as code points, and two rows of scratch for the tables. */
typedef struct {
    uint32_t *a, *b;
    size_t na, nb;
    size_t *row, *prev;
} pair;

static bool pair_open(pair *p, const char *sa, const char *sb)
{
    const size_t cap = SP_SIMILAR_MAX;
    p->a = tx_malloc(cap * sizeof *p->a);
    p->b = tx_malloc(cap * sizeof *p->b);
    p->row = tx_calloc(cap + 1, sizeof *p->row);
    p->prev = tx_calloc(cap + 1, sizeof *p->prev);
    if (!p->a || !p->b || !p->row || !p->prev) return false;
    p->na = decode(sa, p->a, cap);
    p->nb = decode(sb, p->b, cap);
    return true;
}

static void pair_close(pair *p)
{
    tx_free(p->a);
    tx_free(p->b);
    tx_free(p->row);
    tx_free(p->prev);
}

double sp_sequence_ratio(const char *sa, const char *sb)
{
    pair p;
    double r = 0;
    if (pair_open(&p, sa, sb)) {
        size_t total = p.na + p.nb;
        r = total ? 2.0 * (double)matched(p.a, 0, p.na, p.b, 0, p.nb, p.row, p.prev, 0) /
                        (double)total
                  : 1.0;
    }
    pair_close(&p);
    return r;
}

double sp_indel_ratio(const char *sa, const char *sb)
{
    pair p;
    double r = 0;
    if (pair_open(&p, sa, sb)) {
        /* LCS by rows: prev is row i-1, row is row i. */
        for (size_t i = 1; i <= p.na; i++) {
            p.row[0] = 0;
            for (size_t j = 1; j <= p.nb; j++) {
                size_t up = p.prev[j], left = p.row[j - 1];
                p.row[j] = p.a[i - 1] == p.b[j - 1] ? p.prev[j - 1] + 1 : up > left ? up : left;
            }
            memcpy(p.prev, p.row, (p.nb + 1) * sizeof *p.row);
        }
        size_t total = p.na + p.nb;
        r = total ? 100.0 * 2.0 * (double)p.prev[p.nb] / (double)total : 100.0;
    }
    pair_close(&p);
    return r;
}

char *sp_fuzzy_normalize(const char *s)
{
    /* Lower case, drop punctuation, collapse whitespace (ASCII rules; other
     * code points are kept as letters, as Python's \w keeps them). */
    size_t n = strlen(s);
    char *out = tx_malloc(n + 1);
    if (!out) return NULL;
    size_t o = 0;
    bool space = false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x80 && isspace(c)) {
            space = o > 0;
            continue;
        }
        if (c < 0x80 && !isalnum(c) && c != '_') continue;
        if (space) out[o++] = ' ';
        space = false;
        out[o++] = (char)(c < 0x80 ? tolower(c) : c);
    }
    out[o] = '\0';
    return out;
}
