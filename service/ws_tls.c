/*
 * ws_tls.c - TLS for `tactus serve` with OpenSSL, in front of
 * libmicrohttpd (ws_tls.h).
 *
 * Each connection is a TCP socket with its SSL object, and once the
 * handshake is done a socket pair whose other end the HTTP server reads
 * and writes as if it were the client. One thread runs an epoll loop over
 * every socket (level-triggered): on any event on a connection, pump()
 * moves what it can in both directions until nothing moves, then asks
 * epoll for exactly the readiness that would let it move more. Each
 * direction has one buffer of BUF_CAP bytes, allocated while it holds
 * data: a side that sends faster than the other reads is simply not read
 * until the buffer drains, so memory per connection is bounded and an
 * idle one holds no buffer at all (OpenSSL releases its own with
 * SSL_MODE_RELEASE_BUFFERS).
 *
 * Closing: the client's close (close_notify or the TCP end) is passed on
 * as the end of the pair's input, once everything it sent was delivered;
 * the HTTP server closing its end is passed on as close_notify, once
 * everything it wrote was encrypted. An error on either side closes both.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/ssl.h>

#include "ws_tls.h"

/* One direction's buffer: a TLS record's worth, so that one SSL_read fills
 * it at most once and one SSL_write sends it whole. */
#define BUF_CAP 16384
#define MAX_EVENTS 256

typedef struct {
    char *data; /* NULL while empty */
    size_t len, pos;
} pipe_buf;

typedef struct conn {
    struct conn *prev, *next;
    int tcp;   /* the client's socket */
    int plain; /* our end of the pair; -1 until the handshake is done */
    SSL *ssl;
    struct sockaddr_storage peer;
    socklen_t peer_len;
    long long deadline_ms; /* the handshake's; 0 once it is done */
    uint32_t hs_want;      /* what the handshake waits for */
    pipe_buf in;           /* from the client, decrypted, for the HTTP server */
    pipe_buf out;          /* from the HTTP server, to encrypt */
    bool tls_eof;          /* the client closed */
    bool plain_eof;        /* the HTTP server closed */
    bool plain_shut;       /* the client's close passed on */
    bool read_wants_write; /* SSL_read needs the socket writable (TLS 1.3 key update) */
    bool write_wants_read; /* SSL_write needs it readable */
    bool dead;
    uint32_t tcp_ev, plain_ev; /* what epoll is asked for (0: not registered) */
} conn;

struct ws_tls {
    ws_tls_options opt;
    SSL_CTX *ctx;
    int lfd, wake, ep;
    unsigned port;
    pthread_t thread;
    atomic_int stopping;
    conn *conns;     /* live ones */
    conn *graveyard; /* closed during a batch of events, freed after it */
    int n_conns;
};

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void peer_text(const conn *c, char *out, size_t cap)
{
    char host[INET6_ADDRSTRLEN] = "?";
    unsigned port = 0;
    if (c->peer.ss_family == AF_INET) {
        const struct sockaddr_in *a = (const struct sockaddr_in *)&c->peer;
        inet_ntop(AF_INET, &a->sin_addr, host, sizeof host);
        port = ntohs(a->sin_port);
    } else if (c->peer.ss_family == AF_INET6) {
        const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)&c->peer;
        inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof host);
        port = ntohs(a->sin6_port);
    }
    snprintf(out, cap, "%s:%u", host, port);
}

/* One line about connection `c` to the log, with OpenSSL's reason. */
static void log_conn(ws_tls *t, const conn *c, const char *what)
{
    if (!t->opt.log) {
        ERR_clear_error();
        return;
    }
    char who[80], why[256] = "";
    peer_text(c, who, sizeof who);
    unsigned long e = ERR_get_error();
    if (e) ERR_error_string_n(e, why, sizeof why);
    ERR_clear_error();
    fprintf(t->opt.log, "tactus serve: TLS %s: %s%s%s\n", who, what, why[0] ? ": " : "", why);
    fflush(t->opt.log);
}

/* ---- buffers ------------------------------------------------------------------------------- */

static size_t buf_space(const pipe_buf *b)
{
    return BUF_CAP - b->len;
}

static bool buf_empty(const pipe_buf *b)
{
    return b->pos >= b->len;
}

/* Where the next bytes go (allocated on first use); NULL: out of memory. */
static char *buf_tail(pipe_buf *b)
{
    if (!b->data && !(b->data = malloc(BUF_CAP))) return NULL;
    return b->data + b->len;
}

/* `n` bytes taken from the front; an emptied buffer is given back. */
static void buf_consume(pipe_buf *b, size_t n)
{
    b->pos += n;
    if (b->pos >= b->len) {
        free(b->data);
        b->data = NULL;
        b->pos = b->len = 0;
    }
}

/* ---- epoll --------------------------------------------------------------------------------- */

/* Asks epoll for `want` on `fd` (0: unregistered, so that a hang-up on a
 * side that is not read now does not wake the loop again and again). */
static void watch_fd(ws_tls *t, conn *c, int fd, uint32_t *have, uint32_t want)
{
    if (fd < 0 || *have == want) return;
    struct epoll_event ev = {.events = want, .data.ptr = c};
    if (!want) epoll_ctl(t->ep, EPOLL_CTL_DEL, fd, NULL);
    else epoll_ctl(t->ep, *have ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, fd, &ev);
    *have = want;
}

static void close_conn(ws_tls *t, conn *c)
{
    if (c->dead) return;
    c->dead = true;
    watch_fd(t, c, c->tcp, &c->tcp_ev, 0);
    watch_fd(t, c, c->plain, &c->plain_ev, 0);
    /* A close_notify if the socket takes it now (never waited for); none
     * for a handshake that did not finish. */
    if (c->plain >= 0) SSL_shutdown(c->ssl);
    ERR_clear_error();
    close(c->tcp);
    if (c->plain >= 0) close(c->plain);
    if (c->prev) c->prev->next = c->next;
    else t->conns = c->next;
    if (c->next) c->next->prev = c->prev;
    c->next = t->graveyard;
    t->graveyard = c;
    t->n_conns--;
}

static void free_conn(conn *c)
{
    SSL_free(c->ssl);
    free(c->in.data);
    free(c->out.data);
    free(c);
}

static void bury(ws_tls *t)
{
    while (t->graveyard) {
        conn *c = t->graveyard;
        t->graveyard = c->next;
        free_conn(c);
    }
}

/* ---- the pump ------------------------------------------------------------------------------ */

/* The handshake is done: the pair, one end to the HTTP server. */
static bool hand_off(ws_tls *t, conn *c)
{
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
        log_conn(t, c, "no socket pair for the connection");
        return false;
    }
    fcntl(sv[0], F_SETFL, fcntl(sv[0], F_GETFL) | O_NONBLOCK);
    c->plain = sv[0];
    c->deadline_ms = 0;
    c->hs_want = 0;
    t->opt.handoff(t->opt.cls, sv[1], (const struct sockaddr *)&c->peer, c->peer_len);
    return true;
}

/* SSL_read into the input buffer until it is full or TLS has nothing more:
 * false on a fatal error. */
static bool tls_to_in(ws_tls *t, conn *c, bool *moved)
{
    c->read_wants_write = false;
    while (!c->tls_eof && buf_space(&c->in)) {
        char *tail = buf_tail(&c->in);
        if (!tail) return false;
        ERR_clear_error();
        int n = SSL_read(c->ssl, tail, (int)buf_space(&c->in));
        if (n > 0) {
            c->in.len += (size_t)n;
            *moved = true;
            continue;
        }
        if (buf_empty(&c->in)) buf_consume(&c->in, 0);
        int e = SSL_get_error(c->ssl, n);
        if (e == SSL_ERROR_WANT_READ) return true;
        if (e == SSL_ERROR_WANT_WRITE) {
            c->read_wants_write = true;
            return true;
        }
        if (e == SSL_ERROR_ZERO_RETURN) {
            c->tls_eof = true;
            *moved = true;
            return true;
        }
        log_conn(t, c, "read failed");
        return false;
    }
    return true;
}

/* The input buffer to the HTTP server; the client's close after it. */
static bool in_to_plain(conn *c, bool *moved)
{
    if (!buf_empty(&c->in)) {
        ssize_t n = send(c->plain, c->in.data + c->in.pos, c->in.len - c->in.pos, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n > 0) {
            buf_consume(&c->in, (size_t)n);
            *moved = true;
        } else if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
            return false;
        }
    }
    if (c->tls_eof && buf_empty(&c->in) && !c->plain_shut) {
        shutdown(c->plain, SHUT_WR);
        c->plain_shut = true;
    }
    return true;
}

static void plain_to_out(conn *c, bool *moved)
{
    while (!c->plain_eof && buf_space(&c->out)) {
        char *tail = buf_tail(&c->out);
        if (!tail) return;
        ssize_t n = recv(c->plain, tail, buf_space(&c->out), MSG_DONTWAIT);
        if (n > 0) {
            c->out.len += (size_t)n;
            *moved = true;
            continue;
        }
        if (buf_empty(&c->out)) buf_consume(&c->out, 0);
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return;
        c->plain_eof = true; /* closed, or broken: either way nothing more comes */
        *moved = true;
        return;
    }
}

static bool out_to_tls(ws_tls *t, conn *c, bool *moved)
{
    c->write_wants_read = false;
    if (buf_empty(&c->out)) return true;
    ERR_clear_error();
    int n = SSL_write(c->ssl, c->out.data + c->out.pos, (int)(c->out.len - c->out.pos));
    if (n > 0) {
        buf_consume(&c->out, (size_t)n);
        *moved = true;
        return true;
    }
    int e = SSL_get_error(c->ssl, n);
    if (e == SSL_ERROR_WANT_WRITE) return true;
    if (e == SSL_ERROR_WANT_READ) {
        c->write_wants_read = true;
        return true;
    }
    log_conn(t, c, "write failed (the client left?)");
    return false;
}

/* What would let the connection move more. */
static void rearm(ws_tls *t, conn *c)
{
    uint32_t tcp = 0, plain = 0;
    if (c->plain < 0) {
        tcp = c->hs_want;
    } else {
        if ((!c->tls_eof && buf_space(&c->in)) || c->write_wants_read) tcp |= EPOLLIN;
        if ((!buf_empty(&c->out) && !c->write_wants_read) || c->read_wants_write) tcp |= EPOLLOUT;
        if (!c->plain_eof && buf_space(&c->out)) plain |= EPOLLIN;
        if (!buf_empty(&c->in)) plain |= EPOLLOUT;
    }
    watch_fd(t, c, c->tcp, &c->tcp_ev, tcp);
    watch_fd(t, c, c->plain, &c->plain_ev, plain);
}

/* Moves what can move on `c`; `events`: what epoll said of its sockets. */
static void pump(ws_tls *t, conn *c, uint32_t events)
{
    if (c->dead) return;
    if (c->plain < 0) {
        ERR_clear_error();
        int r = SSL_do_handshake(c->ssl);
        if (r != 1) {
            int e = SSL_get_error(c->ssl, r);
            if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
                c->hs_want = e == SSL_ERROR_WANT_READ ? EPOLLIN : EPOLLOUT;
                rearm(t, c);
                return;
            }
            log_conn(t, c, "handshake failed (not a TLS client, or no protocol or cipher in common)");
            close_conn(t, c);
            return;
        }
        if (!hand_off(t, c)) {
            close_conn(t, c);
            return;
        }
    }
    bool moved;
    do {
        moved = false;
        bool ok = tls_to_in(t, c, &moved) && in_to_plain(c, &moved);
        if (ok) plain_to_out(c, &moved);
        if (!ok || !out_to_tls(t, c, &moved)) {
            close_conn(t, c);
            return;
        }
    } while (moved);
    /* The HTTP server is done and all it said was sent; or the client is
     * gone for good (its socket hung up or failed). */
    if ((c->plain_eof && buf_empty(&c->out)) || (events & EPOLLERR) ||
        ((events & EPOLLHUP) && c->tls_eof)) {
        close_conn(t, c);
        return;
    }
    rearm(t, c);
}

/* ---- the loop ------------------------------------------------------------------------------ */

static bool same_host(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
    if (a->ss_family != b->ss_family) return false;
    if (a->ss_family == AF_INET)
        return ((const struct sockaddr_in *)a)->sin_addr.s_addr == ((const struct sockaddr_in *)b)->sin_addr.s_addr;
    if (a->ss_family == AF_INET6)
        return !memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr, &((const struct sockaddr_in6 *)b)->sin6_addr,
                       sizeof(struct in6_addr));
    return false;
}

/* Whether `peer` may have one more connection: handshakes count, so that
 * one address cannot hold every slot with handshakes it never finishes. */
static bool peer_has_room(const ws_tls *t, const struct sockaddr_storage *peer)
{
    if (t->n_conns >= t->opt.max_connections) return false;
    if (t->opt.per_ip_connections <= 0) return true;
    int n = 0;
    for (const conn *c = t->conns; c; c = c->next)
        if (same_host(&c->peer, peer) && ++n >= t->opt.per_ip_connections) return false;
    return true;
}

static void accept_all(ws_tls *t)
{
    for (;;) {
        struct sockaddr_storage peer;
        socklen_t len = sizeof peer;
        int fd = accept4(t->lfd, (struct sockaddr *)&peer, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) return; /* EAGAIN, or out of descriptors: the next round tries again */
        if (!peer_has_room(t, &peer)) {
            close(fd);
            continue;
        }
        conn *c = calloc(1, sizeof *c);
        SSL *ssl = c ? SSL_new(t->ctx) : NULL;
        if (!ssl || !SSL_set_fd(ssl, fd)) {
            SSL_free(ssl);
            free(c);
            close(fd);
            continue;
        }
        /* SSE events are small writes that must not wait for an ACK. */
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        SSL_set_accept_state(ssl);
        c->ssl = ssl;
        c->tcp = fd;
        c->plain = -1;
        memcpy(&c->peer, &peer, len);
        c->peer_len = len;
        c->deadline_ms = now_ms() + (long long)t->opt.handshake_timeout_s * 1000;
        c->hs_want = EPOLLIN;
        c->next = t->conns;
        if (t->conns) t->conns->prev = c;
        t->conns = c;
        t->n_conns++;
        rearm(t, c);
    }
}

/* Drops the handshakes past their deadline; the time to the next one. */
static int expire(ws_tls *t)
{
    long long now = now_ms(), next = now + 1000;
    for (conn *c = t->conns, *n; c; c = n) {
        n = c->next;
        if (c->plain >= 0) continue;
        if (c->deadline_ms <= now) {
            log_conn(t, c, "handshake not done in time: dropped");
            close_conn(t, c);
        } else if (c->deadline_ms < next) {
            next = c->deadline_ms;
        }
    }
    return (int)(next - now);
}

static void *loop_main(void *arg)
{
    ws_tls *t = arg;
    struct epoll_event evs[MAX_EVENTS];
    while (!atomic_load(&t->stopping)) {
        int n = epoll_wait(t->ep, evs, MAX_EVENTS, expire(t));
        for (int i = 0; i < n; i++) {
            void *p = evs[i].data.ptr;
            if (p == &t->lfd) accept_all(t);
            else if (p != &t->wake) pump(t, p, evs[i].events);
        }
        bury(t);
    }
    while (t->conns) close_conn(t, t->conns);
    bury(t);
    return NULL;
}

/* ---- start and stop ------------------------------------------------------------------------ */

/* The client's ALPN list must allow HTTP/1.1 (all the HTTP server speaks). */
static int pick_alpn(SSL *ssl, const unsigned char **out, unsigned char *outlen, const unsigned char *in,
                     unsigned inlen, void *arg)
{
    (void)ssl;
    (void)arg;
    static const unsigned char h11[] = "\x08http/1.1";
    unsigned char *sel = NULL;
    if (SSL_select_next_proto(&sel, outlen, h11, sizeof h11 - 1, in, inlen) != OPENSSL_NPN_NEGOTIATED)
        return SSL_TLSEXT_ERR_ALERT_FATAL;
    *out = sel;
    return SSL_TLSEXT_ERR_OK;
}

/* A key under a passphrase is refused, never prompted for on the terminal. */
static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
    (void)buf;
    (void)size;
    (void)rwflag;
    (void)u;
    return 0;
}

static const char *ssl_reason(char *buf, size_t cap)
{
    unsigned long e = ERR_peek_last_error();
    const char *r = e ? ERR_reason_error_string(e) : NULL;
    snprintf(buf, cap, "%s", r ? r : "unknown error");
    ERR_clear_error();
    return buf;
}

static SSL_CTX *make_ctx(const ws_tls_options *o, char *err, size_t errlen)
{
    char why[160];
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (!ctx) {
        snprintf(err, errlen, "OpenSSL cannot make a TLS context: %s", ssl_reason(why, sizeof why));
        return NULL;
    }
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    /* TLS 1.2: forward secrecy and AEAD only; TLS 1.3's suites are all fine. */
    SSL_CTX_set_cipher_list(ctx, "ECDHE+AESGCM:ECDHE+CHACHA20:!aNULL:!eNULL");
    SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_COMPRESSION |
                                     SSL_OP_IGNORE_UNEXPECTED_EOF);
    SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS | SSL_MODE_ENABLE_PARTIAL_WRITE |
                                  SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    SSL_CTX_set_alpn_select_cb(ctx, pick_alpn, NULL);
    SSL_CTX_set_default_passwd_cb(ctx, no_passphrase);
    FILE *f = fopen(o->cert_file, "r");
    if (!f) {
        snprintf(err, errlen, "--tls-cert %s: cannot read it: %s", o->cert_file, strerror(errno));
        goto fail;
    }
    fclose(f);
    if (SSL_CTX_use_certificate_chain_file(ctx, o->cert_file) != 1) {
        snprintf(err, errlen,
                 "--tls-cert %s: not a PEM certificate chain (%s): give the server's certificate in PEM "
                 "(\"-----BEGIN CERTIFICATE-----\"), followed by its intermediates",
                 o->cert_file, ssl_reason(why, sizeof why));
        goto fail;
    }
    if (!(f = fopen(o->key_file, "r"))) {
        snprintf(err, errlen, "--tls-key %s: cannot read it: %s", o->key_file, strerror(errno));
        goto fail;
    }
    EVP_PKEY *key = PEM_read_PrivateKey(f, NULL, no_passphrase, NULL);
    fclose(f);
    if (!key) {
        snprintf(err, errlen,
                 "--tls-key %s: not an unencrypted PEM private key (%s): give the certificate's key in "
                 "PEM without a passphrase (openssl pkey -in KEY -out KEY.pem)",
                 o->key_file, ssl_reason(why, sizeof why));
        goto fail;
    }
    bool match = X509_check_private_key(SSL_CTX_get0_certificate(ctx), key) == 1;
    ERR_clear_error();
    bool used = match && SSL_CTX_use_PrivateKey(ctx, key) == 1;
    EVP_PKEY_free(key);
    if (!match) {
        snprintf(err, errlen,
                 "--tls-key %s does not match the certificate in --tls-cert %s: give the key the "
                 "certificate was made for (`openssl x509 -noout -pubkey -in %s` and `openssl pkey -pubout "
                 "-in %s` print the same key when they match)",
                 o->key_file, o->cert_file, o->cert_file, o->key_file);
        goto fail;
    }
    if (!used) {
        snprintf(err, errlen, "--tls-key %s: OpenSSL refuses the key (%s)", o->key_file, ssl_reason(why, sizeof why));
        goto fail;
    }
    return ctx;
fail:
    SSL_CTX_free(ctx);
    return NULL;
}

static int listen_on(const ws_tls_options *o, unsigned *port, char *err, size_t errlen)
{
    int fd = socket(o->addr->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    if (fd >= 0) setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (fd < 0 || bind(fd, o->addr, o->addr_len) != 0 || listen(fd, 1024) != 0) {
        snprintf(err, errlen, "cannot listen: %s (is the port in use?)", strerror(errno));
        if (fd >= 0) close(fd);
        return -1;
    }
    struct sockaddr_storage a;
    socklen_t len = sizeof a;
    *port = 0;
    if (getsockname(fd, (struct sockaddr *)&a, &len) == 0)
        *port = ntohs(a.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&a)->sin6_port
                                              : ((struct sockaddr_in *)&a)->sin_port);
    return fd;
}

static void tls_free(ws_tls *t)
{
    if (t->ep >= 0) close(t->ep);
    if (t->wake >= 0) close(t->wake);
    if (t->lfd >= 0) close(t->lfd);
    SSL_CTX_free(t->ctx);
    free(t);
}

tx_status ws_tls_start(const ws_tls_options *o, ws_tls **out, char *err, size_t errlen)
{
    *out = NULL;
    ws_tls *t = calloc(1, sizeof *t);
    if (!t) return TX_ENOMEM;
    t->opt = *o;
    t->lfd = t->wake = t->ep = -1;
    if (!(t->ctx = make_ctx(o, err, errlen))) {
        tls_free(t);
        return TX_EINVAL;
    }
    if ((t->lfd = listen_on(o, &t->port, err, errlen)) < 0) {
        tls_free(t);
        return TX_EIO;
    }
    t->wake = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    t->ep = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event le = {.events = EPOLLIN, .data.ptr = &t->lfd};
    struct epoll_event we = {.events = EPOLLIN, .data.ptr = &t->wake};
    if (t->wake < 0 || t->ep < 0 || epoll_ctl(t->ep, EPOLL_CTL_ADD, t->lfd, &le) != 0 ||
        epoll_ctl(t->ep, EPOLL_CTL_ADD, t->wake, &we) != 0 ||
        pthread_create(&t->thread, NULL, loop_main, t) != 0) {
        snprintf(err, errlen, "cannot start TLS: %s", strerror(errno));
        tls_free(t);
        return TX_EIO;
    }
    *out = t;
    return TX_OK;
}

unsigned ws_tls_port(const ws_tls *t)
{
    return t->port;
}

void ws_tls_stop(ws_tls *t)
{
    if (!t) return;
    atomic_store(&t->stopping, 1);
    uint64_t one = 1;
    if (write(t->wake, &one, sizeof one) < 0) {
        /* the counter is full: the loop is being woken already */
    }
    pthread_join(t->thread, NULL);
    tls_free(t);
}
