/*
 * tactus-mcp-forward - the one way out of an isolate: docker MCP server's
 * network (mcp_servers.NAME.network: {allow: ["HOST:PORT", ...]}).
 *
 *   tactus-mcp-forward --from NET/BITS HOST PORT [PORT...]
 *
 * The server's container sits alone on an internal Docker network with no
 * route out. One forwarder per allowed host sits on that network (under
 * the host's name, a network alias) and on an ordinary bridge. It resolves
 * HOST once, listens on each allowed PORT, and splices every connection
 * it accepts to HOST:the same port, byte for byte: no protocol is parsed
 * (TLS stays end to end), nothing else can be reached through it.
 * Connections from outside NET/BITS (the internal network's subnet: other
 * containers on the bridge) are closed at once, so it is no open relay.
 *
 * It prints "ready" on its standard output once listening, and exits when
 * its standard input ends (the broker's `docker run -i` went away: the
 * broker stopped the server, or died), on SIGTERM, or on a fatal error
 * (a message on stderr, status 2). It writes nothing after "ready": nobody
 * reads its pipes then. Static (libc only), so it runs in an image built
 * FROM scratch with nothing else in it.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_PORTS       16
#define MAX_ADDRS       8
#define MAX_PAIRS       64
#define CHUNK           16384
#define CONNECT_TIMEOUT 10000 /* ms: an upstream that does not answer */

typedef struct {
    int fd;
    char buf[CHUNK]; /* bytes read from this side, not yet written to the other */
    size_t len, off;
    bool eof;      /* this side sent its end */
    bool shut;     /* the other side was told (shutdown SHUT_WR) */
} side;

/* One accepted connection and its upstream. */
typedef struct {
    bool used;
    side down, up;   /* down: the server's connection; up: to HOST */
    int port;        /* the allowed port it came in on (and goes out to) */
    int next_addr;   /* the address of HOST tried next */
    long long since; /* when the upstream connect began */
    bool connecting;
} pair;

static struct in_addr from_net, from_mask;
static struct sockaddr_in addrs[MAX_ADDRS];
static int n_addrs;
static pair pairs[MAX_PAIRS];
static volatile sig_atomic_t stopping;

static void on_term(int sig)
{
    (void)sig;
    stopping = 1;
}

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void die(const char *what, const char *detail)
{
    fprintf(stderr, "tactus-mcp-forward: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
    exit(2);
}

static bool parse_cidr(const char *s, struct in_addr *net, struct in_addr *mask)
{
    char ip[32];
    const char *slash = strchr(s, '/');
    if (!slash || (size_t)(slash - s) >= sizeof ip) return false;
    memcpy(ip, s, (size_t)(slash - s));
    ip[slash - s] = '\0';
    char *end;
    long bits = strtol(slash + 1, &end, 10);
    if (*end || bits < 8 || bits > 32 || inet_pton(AF_INET, ip, net) != 1) return false;
    mask->s_addr = htonl(bits == 32 ? 0xffffffffu : ~(0xffffffffu >> bits));
    net->s_addr &= mask->s_addr;
    return true;
}

static int parse_port(const char *s)
{
    char *end;
    long p = strtol(s, &end, 10);
    return *s && !*end && p >= 1 && p <= 65535 ? (int)p : 0;
}

/* HOST's IPv4 addresses, once: a name the allow-list gives is pinned to
 * what it resolved to at start (the bridge's resolver, or --add-host). */
static void resolve(const char *host)
{
    struct addrinfo hints = {.ai_family = AF_INET, .ai_socktype = SOCK_STREAM}, *res, *r;
    int e = getaddrinfo(host, NULL, &hints, &res);
    if (e != 0) die("cannot resolve the allowed host", gai_strerror(e));
    for (r = res; r && n_addrs < MAX_ADDRS; r = r->ai_next) addrs[n_addrs++] = *(struct sockaddr_in *)r->ai_addr;
    freeaddrinfo(res);
    if (n_addrs == 0) die("the allowed host has no IPv4 address", host);
}

static int listen_on(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
        bind(fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(fd, 64) != 0)
        die("cannot listen on an allowed port", strerror(errno));
    return fd;
}

static void close_pair(pair *p)
{
    if (p->down.fd >= 0) close(p->down.fd);
    if (p->up.fd >= 0) close(p->up.fd);
    p->used = false;
}

/* A non-blocking connect to the pair's next address of HOST; false when
 * none is left. */
static bool connect_next(pair *p)
{
    while (p->next_addr < n_addrs) {
        if (p->up.fd >= 0) close(p->up.fd);
        struct sockaddr_in a = addrs[p->next_addr++];
        a.sin_port = htons((uint16_t)p->port);
        p->up.fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (p->up.fd < 0) return false;
        if (connect(p->up.fd, (struct sockaddr *)&a, sizeof a) == 0 || errno == EINPROGRESS) {
            p->connecting = true;
            p->since = now_ms();
            return true;
        }
    }
    return false;
}

static void accept_on(int lfd, int port)
{
    struct sockaddr_in peer;
    socklen_t plen = sizeof peer;
    int fd = accept4(lfd, (struct sockaddr *)&peer, &plen, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) return;
    /* Only the server's network: another container on the bridge side
     * must not use this as a way to the allowed host. */
    if (peer.sin_family != AF_INET || (peer.sin_addr.s_addr & from_mask.s_addr) != from_net.s_addr) {
        close(fd);
        return;
    }
    for (size_t i = 0; i < MAX_PAIRS; i++) {
        if (pairs[i].used) continue;
        pair *p = &pairs[i];
        *p = (pair){.used = true, .port = port};
        p->down.fd = fd;
        p->up.fd = -1;
        if (!connect_next(p)) close_pair(p);
        return;
    }
    close(fd); /* full: the server may try again */
}

/* Moves what FROM read into TO; false when the pair is broken. */
static bool flush(side *from, side *to)
{
    while (from->off < from->len) {
        ssize_t w = send(to->fd, from->buf + from->off, from->len - from->off, MSG_NOSIGNAL);
        if (w < 0) return errno == EAGAIN || errno == EINTR;
        from->off += (size_t)w;
    }
    from->len = from->off = 0;
    if (from->eof && !from->shut) {
        shutdown(to->fd, SHUT_WR);
        from->shut = true;
    }
    return true;
}

static bool fill(side *s)
{
    ssize_t r = recv(s->fd, s->buf, sizeof s->buf, 0);
    if (r < 0) return errno == EAGAIN || errno == EINTR;
    if (r == 0) s->eof = true;
    s->len = (size_t)r;
    s->off = 0;
    return true;
}

/* One pair's events: its connect finishing, then bytes both ways. */
static void serve_pair(pair *p, short down_ev, short up_ev)
{
    if (p->connecting) {
        int soerr = 0;
        socklen_t sl = sizeof soerr;
        if (!(up_ev & (POLLOUT | POLLERR | POLLHUP))) {
            if (now_ms() - p->since > CONNECT_TIMEOUT && !connect_next(p)) close_pair(p);
            return;
        }
        getsockopt(p->up.fd, SOL_SOCKET, SO_ERROR, &soerr, &sl);
        if (soerr != 0) {
            if (!connect_next(p)) close_pair(p);
            return;
        }
        p->connecting = false;
        return;
    }
    if ((down_ev | up_ev) & POLLERR) { /* reset: nothing more goes either way */
        close_pair(p);
        return;
    }
    bool ok = true;
    if (ok && (down_ev & (POLLIN | POLLHUP | POLLERR)) && !p->down.len && !p->down.eof) ok = fill(&p->down);
    if (ok && (up_ev & (POLLIN | POLLHUP | POLLERR)) && !p->up.len && !p->up.eof) ok = fill(&p->up);
    if (ok) ok = flush(&p->down, &p->up) && flush(&p->up, &p->down);
    if (!ok || (p->down.shut && p->up.shut)) close_pair(p);
}

int main(int argc, char **argv)
{
    if (argc < 5 || strcmp(argv[1], "--from") != 0) {
        fputs("usage: tactus-mcp-forward --from NET/BITS HOST PORT [PORT...]\n", stderr);
        return 2;
    }
    if (!parse_cidr(argv[2], &from_net, &from_mask)) die("--from takes an IPv4 network, like 172.18.0.0/16", argv[2]);
    int ports[MAX_PORTS], lfds[MAX_PORTS], n_ports = 0;
    for (int i = 4; i < argc; i++) {
        if (n_ports == MAX_PORTS) die("too many ports", NULL);
        if (!(ports[n_ports++] = parse_port(argv[i]))) die("a port is a number from 1 to 65535", argv[i]);
    }
    struct sigaction sa = {.sa_handler = on_term};
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    resolve(argv[3]);
    for (int i = 0; i < n_ports; i++) lfds[i] = listen_on(ports[i]);
    puts("ready");
    fflush(stdout);

    struct pollfd fds[1 + MAX_PORTS + 2 * MAX_PAIRS];
    while (!stopping) {
        int n = 0;
        fds[n++] = (struct pollfd){STDIN_FILENO, POLLIN, 0};
        for (int i = 0; i < n_ports; i++) fds[n++] = (struct pollfd){lfds[i], POLLIN, 0};
        int base = n;
        for (size_t i = 0; i < MAX_PAIRS; i++) {
            pair *p = &pairs[i];
            short dev = 0, uev = 0;
            if (p->used && p->connecting) {
                uev = POLLOUT;
            } else if (p->used) {
                /* read a side only when what it sent before is written */
                if (!p->down.len && !p->down.eof) dev |= POLLIN;
                if (!p->up.len && !p->up.eof) uev |= POLLIN;
                if (p->down.len) uev |= POLLOUT;
                if (p->up.len) dev |= POLLOUT;
            }
            fds[base + 2 * (int)i] = (struct pollfd){p->used ? p->down.fd : -1, dev, 0};
            fds[base + 2 * (int)i + 1] = (struct pollfd){p->used ? p->up.fd : -1, uev, 0};
        }
        n = base + 2 * MAX_PAIRS;
        if (poll(fds, (nfds_t)n, 1000) < 0) {
            if (errno == EINTR) continue;
            die("poll", strerror(errno));
        }
        if (fds[0].revents) {
            char b[256];
            ssize_t r = read(STDIN_FILENO, b, sizeof b);
            if (r == 0 || (r < 0 && errno != EINTR && errno != EAGAIN)) break; /* the broker is gone */
        }
        for (int i = 0; i < n_ports; i++)
            if (fds[1 + i].revents & POLLIN) accept_on(lfds[i], ports[i]);
        for (size_t i = 0; i < MAX_PAIRS; i++)
            if (pairs[i].used) serve_pair(&pairs[i], fds[base + 2 * (int)i].revents, fds[base + 2 * (int)i + 1].revents);
    }
    for (size_t i = 0; i < MAX_PAIRS; i++)
        if (pairs[i].used) close_pair(&pairs[i]);
    return 0;
}
