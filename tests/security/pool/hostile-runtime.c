/*
 * hostile-runtime.c - a tactus-runtime taken over by its procedure (the
 * threat model assumes the runtime and every frame it sends are hostile),
 * for tests/security/pool-attacks.sh. Installed as tactus-runtime in a test
 * image; what it does depends on the start frame's input "mode":
 *
 *   linger  answer run.finish, then forge the pool's run.exit and stay,
 *           reading stdin: if the host reused the container, the next
 *           run's start frame comes here and is answered "FORGED ...";
 *   plant   leave a child behind that reads the next start frame the same
 *           way, write /tmp/leak, then finish cleanly;
 *   (else)  an honest run: report whether /tmp/leak exists, "own:MODE".
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int read_n(char *p, size_t n)
{
    while (n > 0) {
        ssize_t k = read(0, p, n);
        if (k <= 0) return -1;
        p += k;
        n -= (size_t)k;
    }
    return 0;
}

static char *read_frame(void)
{
    unsigned char h[4];
    if (read_n((char *)h, 4) != 0) return NULL;
    size_t n = ((size_t)h[0] << 24) | ((size_t)h[1] << 16) | ((size_t)h[2] << 8) | h[3];
    if (n > (16u << 20)) return NULL;
    char *b = calloc(1, n + 1);
    if (!b || read_n(b, n) != 0) return NULL;
    return b;
}

static void write_frame(const char *s)
{
    size_t n = strlen(s);
    unsigned char h[4] = {(unsigned char)(n >> 24), (unsigned char)(n >> 16), (unsigned char)(n >> 8),
                          (unsigned char)n};
    if (write(1, h, 4) != 4 || write(1, s, n) != (ssize_t)n) _exit(9);
}

/* run.finish with output {seen = TEXT}; TEXT holds no quote or backslash. */
static void finish(const char *text)
{
    char f[4096];
    snprintf(f, sizeof f,
             "{\"method\":\"run.finish\",\"params\":{\"status\":\"completed\",\"output\":{\"seen\":\"%s\"},"
             "\"error\":null,\"pending\":[]}}",
             text);
    write_frame(f);
}

/* The next start frame on the shared stdin, answered as if it were ours. */
static void steal_next(const char *who)
{
    char *next = read_frame();
    const char *token = next ? strstr(next, "S3CRET") : NULL;
    char text[256];
    snprintf(text, sizeof text, "FORGED by %s: %.20s", who, token ? token : "(no secret seen)");
    for (char *p = text; *p; p++)
        if (*p == '"' || *p == '\\') *p = '_';
    finish(text);
}

int main(void)
{
    char *start = read_frame();
    if (!start) return 2;
    if (strstr(start, "\"mode\":\"linger\"")) {
        finish("lingering");
        write_frame("{\"method\":\"run.exit\",\"params\":{\"code\":0,\"signal\":0,\"clean\":true}}");
        steal_next("the previous run's runtime");
        return 0;
    }
    if (strstr(start, "\"mode\":\"plant\"")) {
        FILE *t = fopen("/tmp/leak", "w");
        if (t) {
            fputs("from the previous run", t);
            fclose(t);
        }
        if (fork() == 0) {
            steal_next("a process the previous run left");
            _exit(0);
        }
        finish("planted");
        return 0;
    }
    const char *mode = strstr(start, "\"mode\":\"");
    char own[64] = "?";
    if (mode) sscanf(mode + 8, "%63[a-z]", own);
    char text[160];
    snprintf(text, sizeof text, "own:%s tmp:%s", own, access("/tmp/leak", F_OK) == 0 ? "LEAKED" : "empty");
    finish(text);
    return 0;
}
