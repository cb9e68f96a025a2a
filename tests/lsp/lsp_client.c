/*
 * lsp_client.c - a scripted LSP client for the language server's tests.
 *
 *   lsp_client session TACTUS SESSION GOLDEN [--update]
 *       Starts `TACTUS lsp`, replays SESSION (JSON lines, below) and compares
 *       the transcript of what the server answered with GOLDEN, byte for byte.
 *   lsp_client parity TACTUS [--encoding E] FILE|DIR...
 *       Opens every .tac file in one server, pulls its diagnostics and
 *       compares them with `TACTUS check --format json FILE`: the same codes,
 *       severities, messages, lines and columns (LSP positions converted back
 *       to code points).
 *
 * A session is data (jq's discipline): one JSON object per line, `#` lines
 * are comments.
 *   {"send": MSG}            a request (waits for and records its response)
 *                            or a notification (no id: nothing to wait for)
 *   {"await": METHOD, "match": {...}}   waits for a server notification
 *                            whose params contain `match`; records it
 *   {"send_batch": [MSG, ...]}  several messages in one write (then the
 *                            responses to its requests, in order)
 *   {"frame": "text"}        text as one body with a correct Content-Length
 *   {"raw": "text"}          bytes as they are (framing tests)
 *   {"send_latin1": MSG}     MSG with U+0080..U+00FF written as single bytes
 *                            (a body that is not UTF-8)
 *   {"big_open": {"uri": U, "mib": N}}   didOpen of an N MiB document
 *   {"oversize": N}          a Content-Length: N header and N bytes of junk,
 *                            streamed (never held in memory here either)
 *   {"header_flood": N}      N bytes of header with no blank line, then one
 *   {"close": true}          closes the server's input
 *   {"expect_exit": N}       waits for the server to exit; records the status
 * In messages, "$ROOT" becomes the file:// URI of the session's fixture
 * folder (tests/lsp/fixtures) and {"$file": "name"} that file's text.
 * Server requests (progress tokens, registrations) are answered with null
 * and recorded; notifications that are not awaited are not recorded (their
 * timing is not part of the protocol).
 */
#define _GNU_SOURCE
#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lsp_wire.h"

static char *root_uri, *root_path, *docs_url;
static FILE *transcript;

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("lsp_client: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(1);
}

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)n + 1);
    if (!b || fread(b, 1, (size_t)n, f) != (size_t)n) die("cannot read %s", path);
    b[n] = '\0';
    fclose(f);
    if (len) *len = (size_t)n;
    return b;
}

/* ---- normalising and recording
 * ---------------------------------------------------------------------- */

static void replace_all(char **s, const char *from, const char *to)
{
    if (!from || !*from) return;
    size_t fl = strlen(from), tl = strlen(to);
    for (char *p = strstr(*s, from); p; p = strstr(p + tl, from)) {
        size_t off = (size_t)(p - *s), len = strlen(*s);
        char *n = malloc(len - fl + tl + 1);
        memcpy(n, *s, off);
        memcpy(n + off, to, tl);
        memcpy(n + off + tl, p + fl, len - off - fl + 1);
        free(*s);
        *s = n;
        p = n + off;
    }
}

/* codeDescription.href points into the build's docs/ (TACTUS_DOCS_URL):
 * everything before /diagnostics.md# becomes $DOCS. */
static void normalise_docs(char **text)
{
    for (char *p = strstr(*text, "/diagnostics.md#"); p; p = strstr(p + 1, "/diagnostics.md#")) {
        char *q = p;
        while (q > *text && q[-1] != '"')
            q--;
        if (q == p || (size_t)(p - q) == 5) continue; /* already $DOCS */
        size_t off = (size_t)(q - *text), len = strlen(*text), cut = (size_t)(p - q);
        char *n = malloc(len - cut + 6);
        memcpy(n, *text, off);
        memcpy(n + off, "$DOCS", 5);
        memcpy(n + off + 5, p, len - off - cut + 1);
        free(*text);
        *text = n;
        p = n + off + 5;
    }
}

static void record(const char *what, const cJSON *m)
{
    char *text = cJSON_Print(m);
    if (docs_url) replace_all(&text, docs_url, "$DOCS");
    normalise_docs(&text);
    replace_all(&text, root_uri, "$ROOT");
    replace_all(&text, root_path, "$PATH");
    fprintf(transcript, "--- %s\n%s\n", what, text);
    free(text);
}

/* Answers a request the server sent; true when m was one. */
static void stray(const cJSON *m)
{
    record("response to a raw or malformed message", m);
}

static void answer_server_request(server *s, const cJSON *m)
{
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(m, "id");
    const cJSON *method = cJSON_GetObjectItemCaseSensitive(m, "method");
    char what[256];
    snprintf(what, sizeof what, "server request %s", method->valuestring);
    record(what, m);
    cJSON *r = cJSON_CreateObject();
    cJSON_AddStringToObject(r, "jsonrpc", "2.0");
    cJSON_AddItemToObject(r, "id", cJSON_Duplicate(id, 1));
    cJSON_AddNullToObject(r, "result");
    char *body = cJSON_PrintUnformatted(r);
    send_frame(s, body, strlen(body));
    free(body);
    cJSON_Delete(r);
}

/* ---- session steps
 * ---------------------------------------------------------------------------------------- */

static const char *fixtures;

/* Replaces $ROOT in strings and {"$file": name} objects, in place. */
static void substitute(cJSON *v)
{
    for (cJSON *c = v ? v->child : NULL; c; c = c->next) {
        if (cJSON_IsObject(c) && c->child && c->child->string &&
            !strcmp(c->child->string, "$file") && cJSON_IsString(c->child)) {
            char path[PATH_MAX];
            snprintf(path, sizeof path, "%s/%s", fixtures, c->child->valuestring);
            char *text = read_file(path, NULL);
            if (!text) die("no fixture %s", path);
            cJSON *s = cJSON_CreateString(text);
            free(text);
            if (v->type == cJSON_Array) {
                int i = 0;
                for (cJSON *x = v->child; x != c; x = x->next)
                    i++;
                cJSON_ReplaceItemInArray(v, i, s);
            } else {
                cJSON_ReplaceItemInObjectCaseSensitive(v, c->string, s);
            }
            c = s;
            continue;
        }
        if (cJSON_IsString(c) && strstr(c->valuestring, "$ROOT")) {
            char *t = strdup(c->valuestring);
            replace_all(&t, "$ROOT", root_uri);
            cJSON_SetValuestring(c, t);
            free(t);
        }
        substitute(c);
    }
}

static void send_message(server *s, cJSON *msg)
{
    substitute(msg);
    char *body = cJSON_PrintUnformatted(msg);
    send_frame(s, body, strlen(body));
    free(body);
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(msg, "id");
    const cJSON *method = cJSON_GetObjectItemCaseSensitive(msg, "method");
    if (!id || !method) return;
    cJSON *r = wait_response(s, id);
    char what[300];
    snprintf(what, sizeof what, "response to %s",
             cJSON_IsString(method) ? method->valuestring : "?");
    if (!r) {
        fprintf(transcript, "--- %s\n(no response)\n", what);
        return;
    }
    record(what, r);
    cJSON_Delete(r);
}

/* JSON with code points U+0080..U+00FF as single bytes (not UTF-8). */
static void send_latin1(server *s, cJSON *msg)
{
    substitute(msg);
    char *body = cJSON_PrintUnformatted(msg);
    size_t o = 0;
    for (size_t i = 0; body[i]; i++) {
        unsigned char c = (unsigned char)body[i];
        if ((c == 0xC2 || c == 0xC3) && body[i + 1]) {
            body[o++] = (char)(((c & 0x03) << 6) | ((unsigned char)body[i + 1] & 0x3F));
            i++;
        } else {
            body[o++] = (char)c;
        }
    }
    send_frame(s, body, o);
    free(body);
}

static void big_open(server *s, const cJSON *spec)
{
    const cJSON *uri = cJSON_GetObjectItemCaseSensitive(spec, "uri");
    const cJSON *mib = cJSON_GetObjectItemCaseSensitive(spec, "mib");
    size_t target = (size_t)(mib ? mib->valuedouble : 50) * 1024 * 1024;
    const char *line = "local x = 1 -- a line of a very large generated document\\n";
    size_t ll = strlen(line);
    char *u = strdup(uri->valuestring);
    replace_all(&u, "$ROOT", root_uri);
    char head[1024];
    int hn = snprintf(
        head, sizeof head,
        "{\"jsonrpc\":\"2.0\",\"method\":\"textDocument/didOpen\",\"params\":{\"textDocument\":"
        "{\"uri\":\"%s\",\"languageId\":\"tactus\",\"version\":1,\"text\":\"",
        u);
    free(u);
    size_t lines = target / (ll - 1);
    const char *tail = "\"}}}";
    size_t total = (size_t)hn + lines * ll + strlen(tail);
    char frame[64];
    int fn = snprintf(frame, sizeof frame, "Content-Length: %zu\r\n\r\n", total);
    send_bytes(s, frame, (size_t)fn);
    send_bytes(s, head, (size_t)hn);
    char *chunk = malloc(ll * 4096);
    for (size_t i = 0; i < 4096; i++)
        memcpy(chunk + i * ll, line, ll);
    for (size_t done = 0; done < lines;) {
        size_t k = lines - done < 4096 ? lines - done : 4096;
        send_bytes(s, chunk, k * ll);
        done += k;
    }
    free(chunk);
    send_bytes(s, tail, strlen(tail));
}

static void oversize(server *s, size_t n)
{
    char head[64];
    int hn = snprintf(head, sizeof head, "Content-Length: %zu\r\n\r\n", n);
    send_bytes(s, head, (size_t)hn);
    char *junk = malloc(1 << 20);
    memset(junk, 'x', 1 << 20);
    for (size_t done = 0; done < n;) {
        size_t k = n - done < (1u << 20) ? n - done : (1u << 20);
        send_bytes(s, junk, k);
        done += k;
    }
    free(junk);
}

static int run_session(const char *tactus, const char *session, const char *golden, bool update)
{
    static char fx[PATH_MAX];
    snprintf(fx, sizeof fx, "%s", session);
    char *slash = strrchr(fx, '/');
    if (slash) *slash = '\0';
    strncat(fx, "/../fixtures", sizeof fx - strlen(fx) - 1);
    char *real = realpath(fx, NULL);
    if (!real) die("no fixtures folder beside %s", session);
    fixtures = real;
    root_path = real;
    root_uri = malloc(strlen(real) + 8);
    sprintf(root_uri, "file://%s", real);
    char *out_text = NULL;
    size_t out_len = 0;
    transcript = open_memstream(&out_text, &out_len);
    size_t n;
    char *script = read_file(session, &n);
    if (!script) die("cannot read %s", session);
    server s = {0};
    s.on_request = answer_server_request;
    s.on_stray = stray;
    start(&s, tactus, NULL);
    int line_no = 0;
    for (char *line = strtok(script, "\n"); line; line = strtok(NULL, "\n")) {
        line_no++;
        while (*line == ' ')
            line++;
        if (!*line || *line == '#') continue;
        cJSON *step = cJSON_Parse(line);
        if (!step) die("%s: a step that is not JSON: %.80s", session, line);
        cJSON *x;
        if ((x = cJSON_GetObjectItemCaseSensitive(step, "send"))) {
            send_message(&s, x);
        } else if ((x = cJSON_GetObjectItemCaseSensitive(step, "await"))) {
            cJSON *match = cJSON_GetObjectItemCaseSensitive(step, "match");
            substitute(step);
            match = cJSON_GetObjectItemCaseSensitive(step, "match");
            cJSON *m = wait_notification(&s, x->valuestring, match);
            char what[300];
            snprintf(what, sizeof what, "notification %s", x->valuestring);
            if (m) {
                record(what, m);
                cJSON_Delete(m);
            } else {
                fprintf(transcript, "--- %s\n(none came)\n", what);
            }
        } else if ((x = cJSON_GetObjectItemCaseSensitive(step, "send_batch"))) {
            char *all = NULL;
            size_t all_n = 0;
            FILE *m = open_memstream(&all, &all_n);
            cJSON *msg;
            cJSON_ArrayForEach(msg, x)
            {
                substitute(msg);
                char *body = cJSON_PrintUnformatted(msg);
                fprintf(m, "Content-Length: %zu\r\n\r\n%s", strlen(body), body);
                free(body);
            }
            fclose(m);
            send_bytes(&s, all, all_n);
            free(all);
            cJSON_ArrayForEach(msg, x)
            {
                const cJSON *id = cJSON_GetObjectItemCaseSensitive(msg, "id");
                const cJSON *method = cJSON_GetObjectItemCaseSensitive(msg, "method");
                if (!id || !cJSON_IsString(method)) continue;
                cJSON *r = wait_response(&s, id);
                char what[300];
                snprintf(what, sizeof what, "response to %s", method->valuestring);
                if (r)
                    record(what, r);
                else
                    fprintf(transcript, "--- %s\n(no response)\n", what);
                cJSON_Delete(r);
            }
        } else if ((x = cJSON_GetObjectItemCaseSensitive(step, "frame"))) {
            send_frame(&s, x->valuestring, strlen(x->valuestring));
        } else if ((x = cJSON_GetObjectItemCaseSensitive(step, "raw"))) {
            send_bytes(&s, x->valuestring, strlen(x->valuestring));
        } else if ((x = cJSON_GetObjectItemCaseSensitive(step, "send_latin1"))) {
            send_latin1(&s, x);
        } else if ((x = cJSON_GetObjectItemCaseSensitive(step, "big_open"))) {
            big_open(&s, x);
        } else if ((x = cJSON_GetObjectItemCaseSensitive(step, "oversize"))) {
            oversize(&s, (size_t)x->valuedouble);
        } else if ((x = cJSON_GetObjectItemCaseSensitive(step, "header_flood"))) {
            size_t k = (size_t)x->valuedouble;
            char *h = malloc(k);
            memset(h, 'H', k);
            memcpy(h, "X-Flood: ", 9);
            send_bytes(&s, h, k);
            send_bytes(&s, "\r\n\r\n", 4);
            free(h);
        } else if (cJSON_GetObjectItemCaseSensitive(step, "close")) {
            close(s.in);
            s.in = -1;
        } else if ((x = cJSON_GetObjectItemCaseSensitive(step, "expect_exit"))) {
            if (s.in >= 0) {
                close(s.in);
                s.in = -1;
            }
            fprintf(transcript, "--- exit %d\n", wait_exit(&s));
        } else {
            die("%s:%d: unknown step %.80s", session, line_no, line);
        }
        cJSON_Delete(step);
    }
    if (!s.exited) {
        if (s.in >= 0) close(s.in);
        int st = wait_exit(&s);
        fprintf(transcript, "--- exit %d (end of session)\n", st);
    }
    fclose(transcript);
    free(script);
    free(s.buf);
    cJSON_Delete(s.pending);
    int rc = 0;
    if (update) {
        FILE *g = fopen(golden, "wb");
        if (!g) die("cannot write %s", golden);
        fwrite(out_text, 1, out_len, g);
        fclose(g);
        printf("updated %s\n", golden);
        goto done;
    }
    size_t gl;
    char *want = read_file(golden, &gl);
    if (!want || gl != out_len || memcmp(want, out_text, gl) != 0) {
        char tmp[] = "/tmp/lsp_client.XXXXXX";
        int fd = mkstemp(tmp);
        if (fd >= 0) {
            if (write(fd, out_text, out_len) < 0) {
            }
            close(fd);
            char cmd[PATH_MAX * 2 + 32];
            snprintf(cmd, sizeof cmd, "diff -u '%s' '%s' | head -200", golden, tmp);
            if (system(cmd) < 0) {
            }
            unlink(tmp);
        }
        fprintf(stderr, "lsp_client: %s differs from %s (expected first, actual second)\n", session,
                golden);
        rc = 1;
    } else {
        printf("lsp session %s: ok\n", session);
    }
    free(want);
done:
    free(out_text);
    free(root_uri);
    free(real);
    return rc;
}

/* ---- parity with tactus check
 * ------------------------------------------------------------------------------ */

typedef struct {
    char **paths;
    size_t n, cap;
} list;

static void collect(list *l, const char *path)
{
    struct stat sb;
    if (stat(path, &sb) != 0) die("no such file or folder: %s", path);
    if (S_ISDIR(sb.st_mode)) {
        char cmd[PATH_MAX + 64];
        snprintf(cmd, sizeof cmd, "find '%s' -name '*.tac' -type f | sort", path);
        FILE *p = popen(cmd, "r");
        char line[PATH_MAX];
        while (p && fgets(line, sizeof line, p)) {
            line[strcspn(line, "\n")] = '\0';
            collect(l, line);
        }
        if (p) pclose(p);
        return;
    }
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 64;
        l->paths = realloc(l->paths, l->cap * sizeof *l->paths);
    }
    l->paths[l->n++] = realpath(path, NULL);
}

/* Code points from the start of `line` (0-based) to `character` units of
 * encoding enc (16 or 32 or 8), plus one: check's 1-based column. */
static long column_of(const char *text, size_t len, long line, long character, int enc)
{
    size_t i = 0;
    for (long l = 0; l < line && i < len; i++)
        if (text[i] == '\n') l++;
    long units = 0, cps = 0;
    while (i < len && units < character && text[i] != '\n') {
        unsigned char c = (unsigned char)text[i];
        size_t k = c < 0x80 ? 1 : c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
        bool valid = k == 1 || i + k <= len;
        for (size_t j = 1; valid && j < k; j++)
            valid = ((unsigned char)text[i + j] & 0xC0) == 0x80;
        if (!valid) k = 1;
        units += enc == 8 ? (long)k : (enc == 16 && k == 4) ? 2 : 1;
        cps++;
        i += k;
    }
    return cps + 1;
}

static int run_parity(const char *tactus, const char *encoding, list *files)
{
    server s = {0};
    s.on_request = answer_server_request;
    start(&s, tactus, NULL);
    int enc = !strcmp(encoding, "utf-8") ? 8 : !strcmp(encoding, "utf-32") ? 32 : 16;
    char init[512];
    snprintf(
        init, sizeof init,
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":{\"capabilities\":{"
        "\"general\":{\"positionEncodings\":[\"%s\"]},\"textDocument\":{\"diagnostic\":{}}}}}",
        encoding);
    send_frame(&s, init, strlen(init));
    cJSON *id1 = cJSON_CreateNumber(1);
    cJSON *r = wait_response(&s, id1);
    const char *got_enc = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(r, "result"),
                                         "capabilities"),
        "positionEncoding"));
    if (!got_enc || strcmp(got_enc, encoding) != 0) die("the server did not agree to %s", encoding);
    cJSON_Delete(r);
    cJSON_Delete(id1);
    const char *initialized = "{\"jsonrpc\":\"2.0\",\"method\":\"initialized\",\"params\":{}}";
    send_frame(&s, initialized, strlen(initialized));
    int failures = 0, compared = 0, skipped = 0;
    size_t total_diags = 0;
    for (size_t f = 0; f < files->n; f++) {
        const char *path = files->paths[f];
        size_t len;
        char *text = read_file(path, &len);
        if (memchr(text, '\0', len)) {
            /* JSON strings carry U+0000 only as an escape and the server's
             * JSON library ends strings there: such a file cannot be sent. */
            skipped++;
            free(text);
            continue;
        }
        char cmd[PATH_MAX + 256];
        snprintf(cmd, sizeof cmd, "'%s' check --format json '%s' 2>/dev/null", tactus, path);
        FILE *p = popen(cmd, "r");
        char *ck = NULL;
        size_t ckl = 0;
        FILE *m = open_memstream(&ck, &ckl);
        char buf[65536];
        size_t k;
        while ((k = fread(buf, 1, sizeof buf, p)) > 0)
            fwrite(buf, 1, k, m);
        pclose(p);
        fclose(m);
        cJSON *check = cJSON_Parse(ck);
        free(ck);
        if (!check) die("tactus check --format json %s printed no JSON", path);
        /* didOpen with the file's bytes as they are */
        char *uri = malloc(strlen(path) + 8);
        sprintf(uri, "file://%s", path);
        cJSON *open = cJSON_CreateObject();
        cJSON_AddStringToObject(open, "jsonrpc", "2.0");
        cJSON_AddStringToObject(open, "method", "textDocument/didOpen");
        cJSON *td =
            cJSON_AddObjectToObject(cJSON_AddObjectToObject(open, "params"), "textDocument");
        cJSON_AddStringToObject(td, "uri", uri);
        cJSON_AddStringToObject(td, "languageId", "tactus");
        cJSON_AddNumberToObject(td, "version", 1);
        cJSON_AddStringToObject(td, "text", text);
        char *body = cJSON_PrintUnformatted(open);
        send_frame(&s, body, strlen(body));
        free(body);
        cJSON_Delete(open);
        char req[PATH_MAX + 256];
        snprintf(
            req, sizeof req,
            "{\"jsonrpc\":\"2.0\",\"id\":%zu,\"method\":\"textDocument/diagnostic\",\"params\":{"
            "\"textDocument\":{\"uri\":\"%s\"}}}",
            f + 100, uri);
        send_frame(&s, req, strlen(req));
        cJSON *idn = cJSON_CreateNumber((double)(f + 100));
        cJSON *resp = wait_response(&s, idn);
        cJSON_Delete(idn);
        const cJSON *items = cJSON_GetObjectItemCaseSensitive(
            cJSON_GetObjectItemCaseSensitive(resp, "result"), "items");
        const cJSON *want = cJSON_GetObjectItemCaseSensitive(check, "diagnostics");
        int nw = cJSON_GetArraySize(want), ng = cJSON_GetArraySize(items);
        bool ok = nw == ng;
        if (!ok)
            fprintf(stderr, "%s: tactus check found %d diagnostics, the server %d\n", path, nw, ng);
        for (int i = 0; ok && i < nw; i++) {
            const cJSON *w = cJSON_GetArrayItem(want, i), *g = cJSON_GetArrayItem(items, i);
            const cJSON *range = cJSON_GetObjectItemCaseSensitive(g, "range");
            const cJSON *st = cJSON_GetObjectItemCaseSensitive(range, "start");
            const cJSON *en = cJSON_GetObjectItemCaseSensitive(range, "end");
            long sl = (long)cJSON_GetObjectItemCaseSensitive(st, "line")->valuedouble;
            long sc = (long)cJSON_GetObjectItemCaseSensitive(st, "character")->valuedouble;
            long el = (long)cJSON_GetObjectItemCaseSensitive(en, "line")->valuedouble;
            long ec = (long)cJSON_GetObjectItemCaseSensitive(en, "character")->valuedouble;
            const char *wsev =
                cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(w, "severity"));
            int gsev = (int)cJSON_GetObjectItemCaseSensitive(g, "severity")->valuedouble;
            int wsev_n = !strcmp(wsev, "error") ? 1 : !strcmp(wsev, "warning") ? 2 : 3;
            bool same =
                !strcmp(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(w, "code")),
                        cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(g, "code"))) &&
                !strcmp(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(w, "message")),
                        cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(g, "message"))) &&
                wsev_n == gsev &&
                cJSON_GetObjectItemCaseSensitive(w, "line")->valuedouble == sl + 1 &&
                cJSON_GetObjectItemCaseSensitive(w, "end_line")->valuedouble == el + 1 &&
                cJSON_GetObjectItemCaseSensitive(w, "column")->valuedouble ==
                    column_of(text, len, sl, sc, enc) &&
                cJSON_GetObjectItemCaseSensitive(w, "end_column")->valuedouble ==
                    column_of(text, len, el, ec, enc);
            if (!same) {
                char *a = cJSON_PrintUnformatted(w), *b = cJSON_PrintUnformatted(g);
                fprintf(stderr, "%s: diagnostic %d differs\n  check: %s\n  lsp:   %s\n", path, i, a,
                        b);
                free(a);
                free(b);
                ok = false;
            }
        }
        total_diags += (size_t)nw;
        if (!ok) failures++;
        compared++;
        char close_msg[PATH_MAX + 128];
        snprintf(close_msg, sizeof close_msg,
                 "{\"jsonrpc\":\"2.0\",\"method\":\"textDocument/"
                 "didClose\",\"params\":{\"textDocument\":{\"uri\":\"%s\"}}}",
                 uri);
        send_frame(&s, close_msg, strlen(close_msg));
        cJSON_Delete(resp);
        cJSON_Delete(check);
        free(uri);
        free(text);
    }
    const char *bye = "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"shutdown\"}";
    send_frame(&s, bye, strlen(bye));
    cJSON *id2 = cJSON_CreateNumber(2);
    cJSON_Delete(wait_response(&s, id2));
    cJSON_Delete(id2);
    const char *ex = "{\"jsonrpc\":\"2.0\",\"method\":\"exit\"}";
    send_frame(&s, ex, strlen(ex));
    int st = wait_exit(&s);
    free(s.buf);
    cJSON_Delete(s.pending);
    for (size_t i = 0; i < files->n; i++)
        free(files->paths[i]);
    free(files->paths);
    printf("parity (%s): %d files compared, %zu diagnostics, %d skipped (NUL bytes), %d differ; "
           "server exit %d\n",
           encoding, compared, total_diags, skipped, failures, st);
    return failures || st != 0 ? 1 : 0;
}

int main(int argc, char **argv)
{
    signal(SIGPIPE, SIG_IGN);
    if (argc >= 5 && !strcmp(argv[1], "session")) {
        docs_url = getenv("TACTUS_DOCS_URL");
        return run_session(argv[2], argv[3], argv[4], argc > 5 && !strcmp(argv[5], "--update"));
    }
    if (argc >= 4 && !strcmp(argv[1], "parity")) {
        const char *enc = "utf-16";
        int i = 3;
        if (!strcmp(argv[3], "--encoding") && argc > 5) {
            enc = argv[4];
            i = 5;
        }
        list l = {0};
        for (; i < argc; i++)
            collect(&l, argv[i]);
        return run_parity(argv[2], enc, &l);
    }
    fprintf(stderr,
            "usage: lsp_client session TACTUS SESSION GOLDEN [--update]\n"
            "       lsp_client parity TACTUS [--encoding utf-16|utf-8|utf-32] FILE|DIR...\n");
    return 2;
}
