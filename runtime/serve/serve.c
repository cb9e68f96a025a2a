/*
 * sv_serve.c - `tactus broker serve`: one broker for many remote runtimes.
 *
 * Two doors:
 *   - the control socket (a Unix socket, mode 0600 in a 0700 folder): a
 *     `tactus run` on this machine registers a run there, {"type":
 *     "register", "start": <start frame>, "mocks", "mock_all"}, and gets a
 *     one-time token; the run's logs, stages, deltas and its run.finish then
 *     come back on the same connection;
 *   - the runtime listener (tcp:// or tls://, OpenSSL): tactus-connect, in
 *     front of the sandboxed runtime, sends {"type": "hello", "token": ...}
 *     as its first frame; an unknown, used or expired token is refused; a
 *     good one gets the run's start frame, and from then on the runtime's
 *     requests are answered here, with the keys this process holds.
 *
 * Whoever can reach the listener learns nothing without a token, and a
 * token is good for one connection within TOKEN_TTL_S of its registration.
 * One thread per connection: runs block on model calls for seconds, and a
 * hundred threads are cheap next to a hundred sandboxes.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "broker.h"
#include "config.h"
#include "hostlib.h"
#include "serve.h"
#include "proto.h"

#define TOKEN_TTL_S     60
#define HELLO_TIMEOUT_S 10

typedef struct slot {
    char token[65];
    char run_id[64];
    cJSON *start, *mocks;
    bool mock_all;
    time_t registered;
    bool claimed, cancelled, runtime_active, finished;
    int control_fd, runtime_fd;
    pthread_mutex_t write_lock; /* writes to control_fd */
    struct slot *next;
} slot;

typedef struct {
    const sv_options *o;
    SSL_CTX *tls;
    pthread_mutex_t lock; /* slots, live */
    pthread_cond_t changed;
    slot *slots;
    int live; /* connection threads running */
} server;

static volatile sig_atomic_t stopping;

static void on_stop(int sig)
{
    (void)sig;
    stopping = 1;
}

static void say(const server *s, const char *fmt, const char *a, const char *b)
{
    if (!s->o->log) return;
    time_t t = time(NULL);
    struct tm tm;
    char when[32];
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&t, &tm));
    flockfile(s->o->log);
    fprintf(s->o->log, "%s broker: ", when);
    fprintf(s->o->log, fmt, a, b);
    fputc('\n', s->o->log);
    fflush(s->o->log);
    funlockfile(s->o->log);
}

/* ---- one connection: a socket, maybe with TLS on it -------------------------------------------
 */

typedef struct {
    int fd;
    SSL *ssl;
    tp_decoder dec;
} conn;

static tx_status conn_write(conn *c, const cJSON *frame)
{
    tx_buf b;
    tx_buf_init(&b, TP_MAX_FRAME + 4);
    tx_status st = tp_encode(frame, &b);
    const char *p = b.data;
    size_t n = b.len;
    while (st == TX_OK && n) {
        ssize_t k;
        if (c->ssl) {
            int w = SSL_write(c->ssl, p, (int)(n > INT32_MAX ? INT32_MAX : n));
            k = w > 0 ? w : -1;
        } else {
            k = send(c->fd, p, n, MSG_NOSIGNAL);
            if (k < 0 && errno == EINTR) continue;
        }
        if (k <= 0)
            st = TX_EIO;
        else
            p += k, n -= (size_t)k;
    }
    tx_buf_free(&b);
    return st;
}

/* The next frame; TX_ENOENT at a clean end. */
static tx_status conn_read(conn *c, cJSON **out)
{
    *out = NULL;
    char buf[65536];
    for (;;) {
        tx_status st = tp_decoder_next(&c->dec, out);
        if (st != TX_OK || *out) return st;
        ssize_t k;
        if (c->ssl) {
            int r = SSL_read(c->ssl, buf, sizeof buf);
            k = r > 0 ? r : (SSL_get_error(c->ssl, r) == SSL_ERROR_ZERO_RETURN ? 0 : -1);
        } else {
            k = recv(c->fd, buf, sizeof buf, 0);
            if (k < 0 && errno == EINTR) continue;
        }
        if (k == 0) return c->dec.in.len ? TX_EIO : TX_ENOENT;
        if (k < 0) return TX_EIO;
        if ((st = tp_decoder_feed(&c->dec, buf, (size_t)k)) != TX_OK) return st;
    }
}

static void conn_close(conn *c)
{
    if (c->ssl) {
        SSL_shutdown(c->ssl);
        SSL_free(c->ssl);
    }
    if (c->fd >= 0) close(c->fd);
    tp_decoder_free(&c->dec);
}

/* ---- control connections -----------------------------------------------------------------------
 */

static void slot_send(slot *sl, const cJSON *frame)
{
    pthread_mutex_lock(&sl->write_lock);
    if (sl->control_fd >= 0) tp_write_frame(sl->control_fd, frame);
    pthread_mutex_unlock(&sl->write_lock);
}

static bool new_token(char out[65])
{
    unsigned char raw[32];
    int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
    if (fd < 0) return false;
    ssize_t n = read(fd, raw, sizeof raw);
    close(fd);
    if (n != (ssize_t)sizeof raw) return false;
    for (size_t i = 0; i < sizeof raw; i++)
        snprintf(out + 2 * i, 3, "%02x", raw[i]);
    return true;
}

typedef struct {
    server *s;
    int fd;
} job;

static void *control_thread(void *arg)
{
    job *j = arg;
    server *s = j->s;
    int fd = j->fd;
    tx_free(j);
    cJSON *reg = NULL;
    slot *sl = NULL;
    if (tp_read_frame(fd, TP_MAX_FRAME, &reg) != TX_OK) goto out;
    const char *type = hl_json_str(reg, "type");
    const cJSON *start = cJSON_GetObjectItemCaseSensitive(reg, "start");
    if (!type || strcmp(type, "register") != 0 || !cJSON_IsObject(start)) {
        cJSON *r = cJSON_CreateObject();
        cJSON_AddStringToObject(r, "type", "refused");
        cJSON_AddStringToObject(r, "reason", "expected {\"type\": \"register\", \"start\": {...}}");
        tp_write_frame(fd, r);
        cJSON_Delete(r);
        goto out;
    }
    sl = tx_calloc(1, sizeof *sl);
    if (!sl || !new_token(sl->token)) goto out;
    pthread_mutex_init(&sl->write_lock, NULL);
    sl->start = cJSON_Duplicate(start, 1);
    const cJSON *mocks = cJSON_GetObjectItemCaseSensitive(reg, "mocks");
    sl->mocks = cJSON_IsObject(mocks) ? cJSON_Duplicate(mocks, 1) : NULL;
    sl->mock_all = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(reg, "mock_all"));
    snprintf(sl->run_id, sizeof sl->run_id, "%s",
             hl_json_str(start, "run_id") ? hl_json_str(start, "run_id") : "?");
    sl->registered = time(NULL);
    sl->control_fd = fd;
    sl->runtime_fd = -1;
    pthread_mutex_lock(&s->lock);
    sl->next = s->slots;
    s->slots = sl;
    pthread_mutex_unlock(&s->lock);
    cJSON *ok = cJSON_CreateObject();
    cJSON_AddStringToObject(ok, "type", "registered");
    cJSON_AddStringToObject(ok, "token", sl->token);
    slot_send(sl, ok);
    cJSON_Delete(ok);
    say(s, "run %s registered%s", sl->run_id, "");
    /* The client hangs up when it has its result, or to give up: either
     * way the run is over for us. */
    char b[256];
    for (;;) {
        struct pollfd p = {fd, POLLIN, 0};
        int n = poll(&p, 1, 1000);
        if (n < 0 && errno == EINTR) continue;
        if (n > 0 && read(fd, b, sizeof b) <= 0) break;
        if (stopping) break;
    }
out:
    if (sl) {
        pthread_mutex_lock(&s->lock);
        sl->cancelled = true;
        if (sl->runtime_fd >= 0) shutdown(sl->runtime_fd, SHUT_RDWR);
        while (sl->runtime_active)
            pthread_cond_wait(&s->changed, &s->lock);
        for (slot **pp = &s->slots; *pp; pp = &(*pp)->next)
            if (*pp == sl) {
                *pp = sl->next;
                break;
            }
        pthread_mutex_unlock(&s->lock);
        pthread_mutex_lock(&sl->write_lock);
        sl->control_fd = -1;
        pthread_mutex_unlock(&sl->write_lock);
        pthread_mutex_destroy(&sl->write_lock);
        cJSON_Delete(sl->start);
        cJSON_Delete(sl->mocks);
        tx_free(sl);
    }
    cJSON_Delete(reg);
    close(fd);
    return NULL;
}

/* ---- runtime connections -----------------------------------------------------------------------
 */

static bool same_token(const char *a, const char *b)
{
    size_t n = strlen(a);
    if (n != strlen(b)) return false;
    unsigned char d = 0;
    for (size_t i = 0; i < n; i++)
        d |= (unsigned char)(a[i] ^ b[i]);
    return d == 0;
}

static slot *claim(server *s, const char *token, int fd, const char **why)
{
    slot *found = NULL;
    pthread_mutex_lock(&s->lock);
    for (slot *sl = s->slots; sl; sl = sl->next)
        if (same_token(sl->token, token)) found = sl;
    *why = "unknown token";
    if (found && found->claimed) {
        *why = "this token was used already";
        found = NULL;
    } else if (found && (found->cancelled || time(NULL) - found->registered > TOKEN_TTL_S)) {
        *why = "this token has expired";
        found = NULL;
    }
    if (found) {
        found->claimed = found->runtime_active = true;
        found->runtime_fd = fd;
    }
    pthread_mutex_unlock(&s->lock);
    return found;
}

typedef struct {
    slot *sl;
} delta_ctx;

static void forward_delta(void *ud, const cJSON *delta)
{
    delta_ctx *d = ud;
    cJSON *n = tp_request(-1, "delta", cJSON_Duplicate(delta, 1));
    slot_send(d->sl, n);
    cJSON_Delete(n);
}

static void refuse(conn *c, const char *why)
{
    cJSON *r = cJSON_CreateObject();
    cJSON_AddStringToObject(r, "type", "refused");
    cJSON_AddStringToObject(r, "reason", why);
    conn_write(c, r);
    cJSON_Delete(r);
}

static void serve_run(server *s, conn *c, slot *sl)
{
    br_broker *b = br_broker_new(s->o->config, sl->mocks, sl->mock_all);
    if (!b) return;
    br_set_audit(b, s->o->audit_path ? s->o->audit_path : "", "default");
    br_set_effect(b, sl->run_id, -1);
    delta_ctx d = {sl};
    bool finished = false;
    if (conn_write(c, sl->start) == TX_OK) {
        cJSON *msg;
        while (!finished && conn_read(c, &msg) == TX_OK && msg) {
            const char *method = hl_json_str(msg, "method");
            if (!cJSON_GetObjectItemCaseSensitive(msg, "id")) {
                if (method && strcmp(method, "run.finish") == 0) finished = true;
                slot_send(sl, msg);
            } else {
                cJSON *reply = br_handle(b, msg, forward_delta, &d);
                bool ok = reply && conn_write(c, reply) == TX_OK;
                cJSON_Delete(reply);
                if (!ok) {
                    cJSON_Delete(msg);
                    break;
                }
            }
            cJSON_Delete(msg);
        }
    }
    if (!finished) {
        cJSON *params = cJSON_CreateObject();
        cJSON_AddStringToObject(params, "status", "failed");
        cJSON *e = cJSON_AddObjectToObject(params, "error");
        cJSON_AddStringToObject(
            e, "message", "the runtime's connection to the broker ended before the run finished");
        cJSON *n = tp_request(-1, "run.finish", params);
        slot_send(sl, n);
        cJSON_Delete(n);
    }
    say(s, "run %s %s", sl->run_id, finished ? "finished" : "ended without finishing");
    br_broker_free(b);
}

static void *runtime_thread(void *arg)
{
    job *j = arg;
    server *s = j->s;
    conn c;
    memset(&c, 0, sizeof c);
    c.fd = j->fd;
    tx_free(j);
    tp_decoder_init(&c.dec, TP_MAX_FRAME);
    struct timeval tv = {HELLO_TIMEOUT_S, 0};
    setsockopt(c.fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    int one = 1;
    setsockopt(c.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (s->tls) {
        c.ssl = SSL_new(s->tls);
        if (!c.ssl || !SSL_set_fd(c.ssl, c.fd) || SSL_accept(c.ssl) != 1) {
            unsigned long e = ERR_get_error();
            say(s, "a TLS handshake failed: %s%s", e ? ERR_reason_error_string(e) : "no handshake",
                "");
            conn_close(&c);
            return NULL;
        }
    }
    cJSON *hello = NULL;
    const char *why = "the first frame must be {\"type\": \"hello\", \"token\": ...}";
    slot *sl = NULL;
    if (conn_read(&c, &hello) == TX_OK && hello) {
        const char *type = hl_json_str(hello, "type"), *token = hl_json_str(hello, "token");
        if (type && strcmp(type, "hello") == 0 && token) sl = claim(s, token, c.fd, &why);
    }
    cJSON_Delete(hello);
    if (!sl) {
        say(s, "a runtime was refused: %s%s", why, "");
        refuse(&c, why);
        conn_close(&c);
        return NULL;
    }
    tv.tv_sec = 0; /* from here the run's own budgets apply */
    setsockopt(c.fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    serve_run(s, &c, sl);
    pthread_mutex_lock(&s->lock);
    sl->runtime_active = false;
    sl->runtime_fd = -1;
    pthread_cond_broadcast(&s->changed);
    pthread_mutex_unlock(&s->lock);
    conn_close(&c);
    return NULL;
}

/* ---- listening
 * ------------------------------------------------------------------------------------ */

/* Plain tcp:// is allowed only where nothing can overhear it: an IPv4
 * 127/8 address, ::1, or the name localhost. Any other name could resolve
 * anywhere, so it counts as remote. Brackets ([::1]) are accepted. */
static int listen_tcp(const char *hostport, char *err, size_t cap)
{
    char host[256];
    const char *colon = strrchr(hostport, ':');
    if (!colon || (size_t)(colon - hostport) >= sizeof host) {
        snprintf(err, cap, "'%s' is not HOST:PORT", hostport);
        return -1;
    }
    snprintf(host, sizeof host, "%.*s", (int)(colon - hostport), hostport);
    struct addrinfo hints = {0}, *res = NULL;
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE;
    int rc = getaddrinfo(host[0] ? host : NULL, colon + 1, &hints, &res);
    if (rc != 0) {
        snprintf(err, cap, "cannot resolve %s: %s", hostport, gai_strerror(rc));
        return -1;
    }
    int fd = -1;
    for (struct addrinfo *a = res; a && fd < 0; a = a->ai_next) {
        fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
        if (fd < 0) continue;
        int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (bind(fd, a->ai_addr, a->ai_addrlen) != 0 || listen(fd, 256) != 0) {
            snprintf(err, cap, "cannot listen on %s: %s", hostport, strerror(errno));
            close(fd);
            fd = -1;
        }
    }
    freeaddrinfo(res);
    return fd;
}

static int listen_control(const char *path, char *err, size_t cap)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof sa.sun_path) {
        snprintf(err, cap, "the control socket path is too long: %s", path);
        return -1;
    }
    /* The folder is ours alone: whoever can connect can start runs. */
    char dir[sizeof sa.sun_path];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash && slash != dir) {
        *slash = '\0';
        mkdir(dir, 0700);
        struct stat st;
        if (stat(dir, &st) != 0 || st.st_uid != geteuid() || (st.st_mode & 077)) {
            snprintf(err, cap, "the control socket's folder %s must belong to you with mode 0700",
                     dir);
            return -1;
        }
    }
    unlink(path);
    snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    mode_t old = umask(077);
    int rc = fd < 0 ? -1 : bind(fd, (struct sockaddr *)&sa, sizeof sa);
    umask(old);
    if (rc != 0 || listen(fd, 256) != 0) {
        snprintf(err, cap, "cannot listen on %s: %s", path, strerror(errno));
        if (fd >= 0) close(fd);
        return -1;
    }
    return fd;
}

typedef struct {
    void *(*fn)(void *);
    job *j;
} launch_arg;

static void *thread_main(void *arg)
{
    launch_arg a = *(launch_arg *)arg;
    server *s = a.j->s;
    tx_free(arg);
    a.fn(a.j);
    pthread_mutex_lock(&s->lock);
    s->live--;
    pthread_cond_broadcast(&s->changed);
    pthread_mutex_unlock(&s->lock);
    return NULL;
}

static bool spawn(server *s, int fd, void *(*fn)(void *))
{
    job *j = tx_malloc(sizeof *j);
    if (!j) {
        close(fd);
        return false;
    }
    launch_arg *a = tx_malloc(sizeof *a);
    if (!a) {
        close(fd);
        tx_free(j);
        return false;
    }
    j->s = s;
    j->fd = fd;
    a->fn = fn;
    a->j = j;
    pthread_mutex_lock(&s->lock);
    s->live++;
    pthread_mutex_unlock(&s->lock);
    pthread_t t;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&attr, 1u << 20);
    bool ok = pthread_create(&t, &attr, thread_main, a) == 0;
    pthread_attr_destroy(&attr);
    if (!ok) {
        pthread_mutex_lock(&s->lock);
        s->live--;
        pthread_mutex_unlock(&s->lock);
        close(fd);
        tx_free(j);
        tx_free(a);
    }
    return ok;
}

tx_status sv_serve(const sv_options *o, char *err, size_t cap)
{
    server *s = tx_calloc(1, sizeof *s);
    if (!s) return TX_ENOMEM;
    s->o = o;
    bool tls = strncmp(o->listen, "tls://", 6) == 0;
    if (!tls && strncmp(o->listen, "tcp://", 6) != 0) {
        snprintf(err, cap, "--listen takes tcp://HOST:PORT or tls://HOST:PORT, not '%s'",
                 o->listen);
        tx_free(s);
        return TX_EINVAL;
    }
    if (!tls) {
        char host[256];
        const char *hp = o->listen + 6, *colon = strrchr(hp, ':');
        snprintf(host, sizeof host, "%.*s", colon ? (int)(colon - hp) : 0, hp);
        if (!hl_host_is_loopback(host)) {
            snprintf(err, cap,
                     "--listen %s: plain tcp:// is allowed only on a loopback address "
                     "(127.0.0.1, ::1, localhost): beyond it, prompts, answers and run tokens "
                     "would cross the network unencrypted. Use --listen tls://%s with --cert and "
                     "--key",
                     o->listen, hp);
            tx_free(s);
            return TX_EINVAL;
        }
    }
    if (tls) {
        if (!o->cert || !o->key) {
            snprintf(err, cap,
                     "tls:// needs a certificate and its key (--cert, --key, or "
                     "sandbox.broker_tls_cert_file and sandbox.broker_tls_key_file)");
            tx_free(s);
            return TX_EINVAL;
        }
        s->tls = SSL_CTX_new(TLS_server_method());
        if (!s->tls || !SSL_CTX_set_min_proto_version(s->tls, TLS1_2_VERSION) ||
            SSL_CTX_use_certificate_chain_file(s->tls, o->cert) != 1 ||
            SSL_CTX_use_PrivateKey_file(s->tls, o->key, SSL_FILETYPE_PEM) != 1 ||
            SSL_CTX_check_private_key(s->tls) != 1) {
            unsigned long e = ERR_get_error();
            snprintf(err, cap, "cannot use the certificate %s with the key %s: %s", o->cert, o->key,
                     e ? ERR_reason_error_string(e) : "unreadable");
            SSL_CTX_free(s->tls);
            tx_free(s);
            return TX_EINVAL;
        }
    }
    int lfd = listen_tcp(o->listen + 6, err, cap);
    if (lfd < 0) {
        SSL_CTX_free(s->tls);
        tx_free(s);
        return TX_EINVAL;
    }
    int cfd = listen_control(o->control, err, cap);
    if (cfd < 0) {
        close(lfd);
        SSL_CTX_free(s->tls);
        tx_free(s);
        return TX_EINVAL;
    }
    pthread_mutex_init(&s->lock, NULL);
    pthread_cond_init(&s->changed, NULL);
    stopping = 0;
    struct sigaction sa = {0}, old_int, old_term;
    sa.sa_handler = on_stop;
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    if (o->ready) {
        /* the port actually bound (for --listen ...:0) */
        struct sockaddr_storage ss;
        socklen_t sl = sizeof ss;
        char port[16] = "?";
        if (getsockname(lfd, (struct sockaddr *)&ss, &sl) == 0)
            snprintf(port, sizeof port, "%u",
                     ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                                    : ((struct sockaddr_in *)&ss)->sin_port));
        o->ready(o->ready_ud, port);
    }
    say(s, "listening on %s; control socket %s", o->listen, o->control);
    while (!stopping) {
        struct pollfd p[2] = {{lfd, POLLIN, 0}, {cfd, POLLIN, 0}};
        int n = poll(p, 2, 1000);
        if (n <= 0) continue;
        if (p[0].revents) {
            int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
            if (fd >= 0) spawn(s, fd, runtime_thread);
        }
        if (p[1].revents) {
            int fd = accept4(cfd, NULL, NULL, SOCK_CLOEXEC);
            if (fd >= 0) spawn(s, fd, control_thread);
        }
    }
    say(s, "stopping%s%s", "", "");
    close(lfd);
    close(cfd);
    unlink(o->control);
    /* Stop the runs in flight and wait (a little) for their threads. */
    pthread_mutex_lock(&s->lock);
    for (slot *sl = s->slots; sl; sl = sl->next) {
        if (sl->runtime_fd >= 0) shutdown(sl->runtime_fd, SHUT_RDWR);
        if (sl->control_fd >= 0) shutdown(sl->control_fd, SHUT_RDWR);
    }
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 5;
    while (s->live > 0 && pthread_cond_timedwait(&s->changed, &s->lock, &until) == 0) {
    }
    bool idle = s->live == 0;
    pthread_mutex_unlock(&s->lock);
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    if (idle) { /* else a thread still holds it; the process is about to exit */
        SSL_CTX_free(s->tls);
        tx_free(s);
    }
    return TX_OK;
}
