/*
 * tactus-connect - joins a sandboxed runtime to a remote broker.
 *
 *   tactus-connect tcp://HOST:PORT|tls://HOST:PORT [--ca FILE] [--server-name NAME]
 *                  RUNTIME [ARGS...]
 *
 * tactus-runtime has no network code, by design (a test checks the binary):
 * when the broker is remote, this small program stands in front of it. It
 * reads the run's one-time token from the first line of its standard input,
 * connects (TLS: the broker's certificate must chain to --ca and name the
 * host, or --server-name), sends {"type": "hello", "token": ...}, and reads
 * the broker's first frame: a refusal (printed, exit 3) or the run's start
 * frame. Then it starts RUNTIME with pipes and relays frames both ways,
 * byte for byte, until either side ends; its exit status is the runtime's.
 *
 * It never parses what it relays, holds no secret but the token (useless
 * after the hello), and is linked statically so it can be mounted into the
 * FROM-scratch sandbox image like tactus-probe.
 *
 * Exit: the runtime's status; 3 refused or cannot connect; 2 usage.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base.h"

#define EXIT_REFUSED       3
#define CONNECT_TIMEOUT_MS 10000
#define FIRST_FRAME_MAX    (16u * 1024u * 1024u)

typedef struct {
    int fd;
    SSL *ssl;
} link_t;

/* What main has opened, released by die() too: a clean exit keeps leak
 * checkers (and the reader) sure nothing is left behind. */
static link_t *opened;
static SSL_CTX *opened_ctx;
static unsigned char *opened_frame;

static void release(void)
{
    free(opened_frame);
    opened_frame = NULL;
    if (opened && opened->ssl) {
        SSL_free(opened->ssl);
        opened->ssl = NULL;
    }
    if (opened && opened->fd >= 0) {
        close(opened->fd);
        opened->fd = -1;
    }
    SSL_CTX_free(opened_ctx);
    opened_ctx = NULL;
}

static int die(const char *fmt, const char *a, const char *b)
{
    release();
    fprintf(stderr, "tactus-connect: ");
    fprintf(stderr, fmt, a, b);
    fputc('\n', stderr);
    return EXIT_REFUSED;
}

static ssize_t link_read(link_t *l, void *buf, size_t n)
{
    if (l->ssl) {
        int k = SSL_read(l->ssl, buf, n > INT32_MAX ? INT32_MAX : (int)n);
        return k > 0 ? k : (SSL_get_error(l->ssl, k) == SSL_ERROR_ZERO_RETURN ? 0 : -1);
    }
    ssize_t k;
    while ((k = read(l->fd, buf, n)) < 0 && errno == EINTR) {
    }
    return k;
}

static bool link_write(link_t *l, const void *buf, size_t n)
{
    const char *p = buf;
    while (n) {
        ssize_t k;
        if (l->ssl) {
            int w = SSL_write(l->ssl, p, n > INT32_MAX ? INT32_MAX : (int)n);
            k = w > 0 ? w : -1;
        } else {
            k = write(l->fd, p, n);
            if (k < 0 && errno == EINTR) continue;
        }
        if (k <= 0) return false;
        p += k;
        n -= (size_t)k;
    }
    return true;
}

static bool write_all(int fd, const void *buf, size_t n)
{
    const char *p = buf;
    while (n) {
        ssize_t k = write(fd, p, n);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) return false;
        p += k;
        n -= (size_t)k;
    }
    return true;
}

static bool read_exact(link_t *l, unsigned char *buf, size_t n)
{
    while (n) {
        ssize_t k = link_read(l, buf, n);
        if (k <= 0) return false;
        buf += k;
        n -= (size_t)k;
    }
    return true;
}

/* The token: the first line of standard input, at most 255 bytes. */
static bool read_token(char *out, size_t cap)
{
    size_t n = 0;
    char c;
    while (n + 1 < cap) {
        ssize_t k = read(STDIN_FILENO, &c, 1);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0 || c == '\n') break;
        out[n++] = c;
    }
    out[n] = '\0';
    return n > 0;
}

/* The address of `host` in /etc/hosts: a static binary in a FROM-scratch
 * image has no NSS modules for getaddrinfo to load, but Docker writes
 * --add-host entries (host.docker.internal) there. */
static bool etc_hosts(const char *host, char *ip, size_t cap)
{
    FILE *f = fopen("/etc/hosts", "r");
    if (!f) return false;
    char line[512];
    bool found = false;
    while (!found && fgets(line, sizeof line, f)) {
        char *save = NULL, *addr = strtok_r(line, " \t\r\n", &save);
        if (!addr || addr[0] == '#') continue;
        for (char *name; !found && (name = strtok_r(NULL, " \t\r\n", &save));)
            if (name[0] == '#')
                break;
            else if (strcmp(name, host) == 0)
                found = snprintf(ip, cap, "%s", addr) < (int)cap;
    }
    fclose(f);
    return found;
}

static int tcp_connect(const char *host, const char *port)
{
    struct addrinfo hints = {0}, *res = NULL;
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    char ip[64];
    if (getaddrinfo(host, port, &hints, &res) != 0) {
        if (!etc_hosts(host, ip, sizeof ip)) return -1;
        hints.ai_flags = AI_NUMERICHOST;
        if (getaddrinfo(ip, port, &hints, &res) != 0) return -1;
    }
    int fd = -1;
    for (struct addrinfo *a = res; a && fd < 0; a = a->ai_next) {
        fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
        if (fd < 0) continue;
        struct timeval tv = {CONNECT_TIMEOUT_MS / 1000, 0};
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        if (connect(fd, a->ai_addr, a->ai_addrlen) != 0) {
            close(fd);
            fd = -1;
        }
    }
    freeaddrinfo(res);
    if (fd >= 0) {
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    }
    return fd;
}

static const char *tls_reason(SSL *ssl)
{
    long v = SSL_get_verify_result(ssl);
    if (v != X509_V_OK) return X509_verify_cert_error_string(v);
    unsigned long e = ERR_get_error();
    return e ? ERR_reason_error_string(e) : "the handshake failed";
}

/* Relays between the broker and the runtime until one side ends. */
static void relay(link_t *l, int *to_rt, int from_rt)
{
    unsigned char buf[65536];
    bool broker_open = true;
    for (;;) {
        bool pending = l->ssl && SSL_pending(l->ssl) > 0;
        struct pollfd fds[2] = {{broker_open ? l->fd : -1, POLLIN, 0}, {from_rt, POLLIN, 0}};
        if (!pending && poll(fds, 2, -1) < 0) {
            if (errno == EINTR) continue;
            return;
        }
        if (broker_open && (pending || fds[0].revents)) {
            ssize_t k = link_read(l, buf, sizeof buf);
            if (k <= 0 || !write_all(*to_rt, buf, (size_t)k)) {
                broker_open = false;
                close(*to_rt); /* the runtime sees end of input and stops */
                *to_rt = -1;
            }
        }
        if (fds[1].revents) {
            ssize_t k = read(from_rt, buf, sizeof buf);
            if (k < 0 && errno == EINTR) continue;
            if (k <= 0) return; /* the runtime is done */
            if (broker_open && !link_write(l, buf, (size_t)k)) return;
        }
    }
}

int main(int argc, char **argv)
{
    signal(SIGPIPE, SIG_IGN);
    const char *endpoint = NULL, *ca = NULL, *server_name = NULL;
    int i = 1;
    for (; i < argc; i++) {
        if (!strcmp(argv[i], "--ca") && i + 1 < argc)
            ca = argv[++i];
        else if (!strcmp(argv[i], "--server-name") && i + 1 < argc)
            server_name = argv[++i];
        else if (!endpoint)
            endpoint = argv[i];
        else
            break;
    }
    if (!endpoint || i >= argc) {
        fputs("usage: tactus-connect tcp://HOST:PORT|tls://HOST:PORT [--ca FILE] "
              "[--server-name NAME] RUNTIME [ARGS...]\n(the run's token on the first line of "
              "stdin)\n",
              stderr);
        return 2;
    }
    bool tls = strncmp(endpoint, "tls://", 6) == 0;
    if (!tls && strncmp(endpoint, "tcp://", 6) != 0)
        return die("endpoint '%s' is neither tcp://HOST:PORT nor tls://HOST:PORT%s", endpoint, "");
    char host[256];
    const char *hp = endpoint + 6, *colon = strrchr(hp, ':');
    if (!colon || colon == hp || (size_t)(colon - hp) >= sizeof host || !colon[1])
        return die("endpoint '%s' has no port%s", endpoint, "");
    snprintf(host, sizeof host, "%.*s", (int)(colon - hp), hp);
    if (host[0] == '[' && host[strlen(host) - 1] == ']') { /* [::1] */
        memmove(host, host + 1, strlen(host));
        host[strlen(host) - 1] = '\0';
    }
    if (tls && !ca)
        return die("tls:// needs --ca FILE: the broker's certificate is checked%s%s", "", "");
    char token[256];
    if (!read_token(token, sizeof token))
        return die("no token on the first line of standard input%s%s", "", "");

    link_t l = {tcp_connect(host, colon + 1), NULL};
    opened = &l;
    if (l.fd < 0)
        return die("cannot connect to %s: %s", endpoint, strerror(errno ? errno : ECONNREFUSED));
    SSL_CTX *ctx = NULL;
    if (tls) {
        ctx = opened_ctx = SSL_CTX_new(TLS_client_method());
        if (!ctx || !SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) ||
            SSL_CTX_load_verify_locations(ctx, ca, NULL) != 1)
            return die("cannot load the CA file %s%s", ca, "");
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
        l.ssl = SSL_new(ctx);
        const char *name = server_name ? server_name : host;
        X509_VERIFY_PARAM *param = SSL_get0_param(l.ssl);
        X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
        /* An IP address must be in the certificate's IP names; a host name
         * in its DNS names (and is sent as SNI). */
        if (X509_VERIFY_PARAM_set1_ip_asc(param, name) != 1) {
            SSL_set_tlsext_host_name(l.ssl, name);
            if (X509_VERIFY_PARAM_set1_host(param, name, 0) != 1)
                return die("bad server name %s%s", name, "");
        }
        SSL_set_fd(l.ssl, l.fd);
        if (SSL_connect(l.ssl) != 1)
            return die("TLS handshake with %s refused: %s", endpoint, tls_reason(l.ssl));
    }

    /* hello: the token, JSON-escaped, in one frame */
    tx_buf hello;
    tx_buf_init(&hello, 4096);
    tx_buf_append(&hello, "\0\0\0\0", 4);
    tx_buf_puts(&hello, "{\"type\":\"hello\",\"protocol\":1,\"token\":");
    tx_buf_json_string(&hello, token, strlen(token));
    tx_buf_puts(&hello, "}");
    if (!hello.data) return die("out of memory%s%s", "", "");
    uint32_t n = (uint32_t)(hello.len - 4);
    unsigned char *h = (unsigned char *)hello.data;
    h[0] = (unsigned char)(n >> 24), h[1] = (unsigned char)(n >> 16),
    h[2] = (unsigned char)(n >> 8), h[3] = (unsigned char)n;
    explicit_bzero(token, sizeof token);
    bool sent = link_write(&l, hello.data, hello.len);
    explicit_bzero(hello.data, hello.len);
    tx_buf_free(&hello);
    if (!sent) return die("cannot send the hello to %s%s", endpoint, "");

    /* The first frame: the run's start frame, or a refusal. */
    unsigned char len4[4];
    if (!read_exact(&l, len4, 4))
        return die("the broker at %s closed the connection%s", endpoint, "");
    uint32_t fl =
        (uint32_t)len4[0] << 24 | (uint32_t)len4[1] << 16 | (uint32_t)len4[2] << 8 | len4[3];
    if (fl == 0 || fl > FIRST_FRAME_MAX)
        return die("the broker at %s sent a malformed frame%s", endpoint, "");
    unsigned char *first = opened_frame = malloc(fl + 5);
    if (!first) return die("out of memory%s%s", "", "");
    memcpy(first, len4, 4);
    if (!read_exact(&l, first + 4, fl))
        return die("the broker at %s closed the connection%s", endpoint, "");
    first[fl + 4] = '\0';
    const char *body = (const char *)first + 4;
    if (strstr(body, "\"type\":\"refused\"")) {
        const char *r = strstr(body, "\"reason\":\"");
        fprintf(stderr, "tactus-connect: the broker at %s refused the run: %.*s\n", endpoint,
                r ? (int)strcspn(r + 10, "\"") : 7, r ? r + 10 : "refused");
        release();
        return EXIT_REFUSED;
    }

    int in[2], out[2];
    if (pipe2(in, O_CLOEXEC) != 0 || pipe2(out, O_CLOEXEC) != 0)
        return die("cannot make pipes%s%s", "", "");
    pid_t pid = fork();
    if (pid < 0) return die("cannot start %s%s", argv[i], "");
    if (pid == 0) {
        dup2(in[0], STDIN_FILENO);
        dup2(out[1], STDOUT_FILENO);
        execv(argv[i], argv + i);
        _exit(127);
    }
    close(in[0]);
    close(out[1]);
    bool ok = write_all(in[1], first, fl + 4);
    free(first);
    opened_frame = NULL;
    if (ok) relay(&l, &in[1], out[0]);
    if (in[1] >= 0) close(in[1]);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (l.ssl) SSL_shutdown(l.ssl);
    release();
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
