/*
 * cli_render.c - diagnostics as text (file:line:col, source line, caret),
 * as one JSON document, or as SARIF 2.1.0.
 *
 * Lines and columns are 1-based; columns count Unicode code points, so they
 * agree with what an editor shows. end_column is exclusive (one past the last
 * character), as in SARIF.
 */
#include <string.h>

#include "cli.h"

struct cli_report {
    cli_format format;
    FILE *out;
    bool color;
    tx_buf doc; /* JSON diagnostics array or SARIF results, accumulated */
    size_t n;
};

/* Documents are capped so that a pathological input cannot exhaust memory. */
#define REPORT_MAX_DOC (512u * 1024u * 1024u)

cli_report *cli_report_new(cli_format format, FILE *out, bool color)
{
    cli_report *r = tx_calloc(1, sizeof *r);
    if (!r) return NULL;
    r->format = format;
    r->out = out;
    r->color = color;
    tx_buf_init(&r->doc, REPORT_MAX_DOC);
    return r;
}

void cli_report_free(cli_report *r)
{
    if (!r) return;
    tx_buf_free(&r->doc);
    tx_free(r);
}

static const char *sev_color(tx_severity s)
{
    switch (s) {
    case TX_SEV_ERROR: return "\033[1;31m";
    case TX_SEV_WARNING: return "\033[1;33m";
    case TX_SEV_INFO: return "\033[1;36m";
    }
    return "";
}

/* Prints a source line safely: control characters (C0, DEL, C1) and invalid
 * UTF-8 would corrupt a terminal, so they become '?' (one column each, so the
 * caret below still lines up; messages use tx_term_text instead). Returns nothing; tabs are kept so
 * that the caret line below can align by repeating them. */
static void put_source_line(FILE *out, const char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        unsigned char c = (unsigned char)s[i];
        if (c == '\t' || (c >= 0x20 && c < 0x7F)) {
            fputc(c, out);
            i++;
        } else if (c >= 0x80) {
            size_t ok = tx_utf8_invalid_at(s + i, n - i < 4 ? n - i : 4);
            size_t k = 1;
            while (k < 4 && i + k < n && ((unsigned char)s[i + k] & 0xC0) == 0x80) k++;
            bool c1 = k == 2 && c == 0xC2 && (unsigned char)s[i + 1] < 0xA0; /* U+0080..9F: CSI, OSC... */
            if (c1) {
                fputc('?', out);
                i += 2;
            } else if (ok >= k) {
                fwrite(s + i, 1, k, out);
                i += k;
            } else {
                fputc('?', out);
                i++;
            }
        } else {
            fputc('?', out);
            i++;
        }
    }
}

static void text_diag(cli_report *r, const char *path, const char *src, size_t len,
                      const tx_diag *d)
{
    FILE *out = r->out;
    tx_line_col lc = tx_span_columns(src, len, d->span);
    const char *bold = r->color ? "\033[1m" : "", *reset = r->color ? "\033[0m" : "";
    /* The message may quote the file's text: made inert (tx_term_text). */
    char *tpath = tx_term_text(path), *tmsg = tx_term_text(d->message);
    fprintf(out, "%s%s:%u:%u:%s %s%s[%s]%s: %s\n", bold, tpath ? tpath : "?", lc.line, lc.column, reset,
            r->color ? sev_color(d->severity) : "", tx_severity_str(d->severity), d->code, reset,
            tmsg ? tmsg : "");
    tx_free(tpath);
    tx_free(tmsg);
    if (len == 0) return;
    size_t s = d->span.start_byte > len ? len : d->span.start_byte;
    size_t ls = s, le = s;
    while (ls > 0 && src[ls - 1] != '\n') ls--;
    while (le < len && src[le] != '\n' && src[le] != '\r') le++;
    if (le - ls > 400) return; /* minified or binary-ish: the position says enough */
    fprintf(out, "%5u | ", lc.line);
    put_source_line(out, src + ls, le - ls);
    fputs("\n      | ", out);
    for (size_t i = ls; i < s; i++) {
        unsigned char c = (unsigned char)src[i];
        if (c == '\t')
            fputc('\t', out);
        else if ((c & 0xC0) != 0x80)
            fputc(' ', out);
    }
    size_t e = d->span.end_byte;
    if (e > le) e = le;
    size_t width = e > s ? tx_utf8_count(src + s, e - s) : 1;
    fputs(r->color ? sev_color(d->severity) : "", out);
    fputc('^', out);
    for (size_t i = 1; i < width; i++) fputc('~', out);
    fprintf(out, "%s\n", reset);
}

/* Minimal percent-encoding of a relative path for a SARIF artifact URI. */
static void uri_path(tx_buf *b, const char *path)
{
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *p = (const unsigned char *)path; *p; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
            strchr("/-._~", *p)) {
            tx_buf_append(b, (const char *)p, 1);
        } else {
            char e[3] = {'%', hex[*p >> 4], hex[*p & 15]};
            tx_buf_append(b, e, 3);
        }
    }
}

static const char *sarif_level(tx_severity s)
{
    return s == TX_SEV_ERROR ? "error" : s == TX_SEV_WARNING ? "warning" : "note";
}

void cli_report_file(cli_report *r, const char *path, const char *src, size_t len,
                     const tx_diag_list *diags)
{
    for (size_t i = 0; i < diags->len; i++) {
        const tx_diag *d = &diags->items[i];
        if (r->format == CLI_FORMAT_TEXT) {
            text_diag(r, path, src, len, d);
            continue;
        }
        tx_line_col lc = tx_span_columns(src, len, d->span);
        tx_buf *b = &r->doc;
        if (r->n++) tx_buf_puts(b, ",");
        if (r->format == CLI_FORMAT_JSON) {
            tx_buf_puts(b, "\n  {\"file\": ");
            tx_buf_json_string(b, path, strlen(path));
            tx_buf_printf(b,
                          ", \"line\": %u, \"column\": %u, \"end_line\": %u, \"end_column\": %u, "
                          "\"severity\": \"%s\", \"code\": \"%s\", \"message\": ",
                          lc.line, lc.column, lc.end_line, lc.end_column,
                          tx_severity_str(d->severity), d->code);
            tx_buf_json_string(b, d->message, strlen(d->message));
            tx_buf_puts(b, "}");
        } else {
            size_t n_rules, index = 0;
            const ck_rule_info *rules = ck_rules(&n_rules);
            for (size_t k = 0; k < n_rules; k++)
                if (strcmp(rules[k].code, d->code) == 0) index = k;
            tx_buf_printf(b, "\n        {\"ruleId\": \"%s\", \"ruleIndex\": %zu, \"level\": \"%s\", "
                             "\"message\": {\"text\": ",
                          d->code, index, sarif_level(d->severity));
            tx_buf_json_string(b, d->message, strlen(d->message));
            tx_buf_puts(b, "}, \"locations\": [{\"physicalLocation\": {\"artifactLocation\": "
                           "{\"uri\": \"");
            uri_path(b, path);
            tx_buf_printf(b,
                          "\"}, \"region\": {\"startLine\": %u, \"startColumn\": %u, "
                          "\"endLine\": %u, \"endColumn\": %u}}}]}",
                          lc.line, lc.column, lc.end_line, lc.end_column);
        }
    }
}

int cli_report_finish(cli_report *r, size_t files)
{
    FILE *out = r->out;
    const char *items = r->doc.data ? r->doc.data : "";
    if (r->format == CLI_FORMAT_JSON) {
        fprintf(out, "{\"files\": %zu, \"diagnostics\": [%s%s]}\n", files, items,
                r->n ? "\n" : "");
    } else if (r->format == CLI_FORMAT_SARIF) {
        size_t n_rules;
        const ck_rule_info *rules = ck_rules(&n_rules);
        fputs("{\n  \"$schema\": \"https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/"
              "schemas/sarif-schema-2.1.0.json\",\n  \"version\": \"2.1.0\",\n  \"runs\": [{\n"
              "    \"tool\": {\"driver\": {\"name\": \"tactus\", \"version\": \"" TACTUS_VERSION
              "\", \"rules\": [",
              out);
        for (size_t i = 0; i < n_rules; i++) {
            tx_buf b;
            tx_buf_init(&b, 4096);
            tx_buf_json_string(&b, rules[i].summary, strlen(rules[i].summary));
            fprintf(out,
                    "%s\n      {\"id\": \"%s\", \"name\": \"%s\", \"shortDescription\": "
                    "{\"text\": %s}, \"help\": {\"text\": \"See docs/diagnostics.md, section "
                    "%s, for a bad and a fixed example.\"}, "
                    "\"defaultConfiguration\": {\"level\": \"%s\"}}",
                    i ? "," : "", rules[i].code, rules[i].name, b.data ? b.data : "\"\"",
                    rules[i].code, sarif_level(rules[i].severity));
            tx_buf_free(&b);
        }
        fprintf(out, "\n    ]}},\n    \"columnKind\": \"unicodeCodePoints\",\n    \"results\": [%s%s]\n  }]\n}\n",
                items, r->n ? "\n    " : "");
    }
    fflush(out);
    return ferror(out) ? -1 : 0;
}

/* ---- JSON values for people ------------------------------------------------------------- */

static void json_pretty(tx_buf *b, const cJSON *v, int indent)
{
    if (cJSON_IsObject(v) || cJSON_IsArray(v)) {
        bool obj = cJSON_IsObject(v);
        if (!v->child) {
            tx_buf_puts(b, obj ? "{}" : "[]");
            return;
        }
        tx_buf_puts(b, obj ? "{\n" : "[\n");
        for (const cJSON *c = v->child; c; c = c->next) {
            tx_buf_printf(b, "%*s", indent + 2, "");
            if (obj) {
                tx_buf_json_string(b, c->string, strlen(c->string));
                tx_buf_puts(b, ": ");
            }
            json_pretty(b, c, indent + 2);
            tx_buf_puts(b, c->next ? ",\n" : "\n");
        }
        tx_buf_printf(b, "%*s%s", indent, "", obj ? "}" : "]");
        return;
    }
    if (cJSON_IsString(v)) {
        tx_buf_json_string(b, v->valuestring, strlen(v->valuestring));
        return;
    }
    char *text = cJSON_PrintUnformatted(v);
    tx_buf_puts(b, text ? text : "null");
    cJSON_free(text);
}

void cli_print_json(FILE *out, const cJSON *v)
{
    tx_buf b;
    tx_buf_init(&b, 256u << 20);
    json_pretty(&b, v, 0);
    fprintf(out, "%s\n", b.data ? b.data : "null");
    tx_buf_free(&b);
}
