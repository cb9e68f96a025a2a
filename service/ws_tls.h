/*
 * ws_tls.h - TLS for `tactus serve`, terminated with OpenSSL in front of
 * libmicrohttpd: this module owns the listening socket, accepts, makes
 * the server's side of each handshake, and hands each connection's
 * plaintext to the HTTP server through a socket pair (one end is the
 * HTTP server's, with the client's real address for its limits and logs).
 *
 * One event-loop thread (epoll, non-blocking SSL_read/SSL_write) moves the
 * bytes both ways for every connection, so idle streams over TLS cost no
 * thread of their own here; each direction has a bounded buffer (a fast
 * sender waits for a slow reader), a handshake that does not finish in
 * time is dropped (slowloris over TLS), and a close on either side closes
 * the other. docs/security.md, "tactus serve".
 *
 * Errors: ws_tls_start fills `err` with what is wrong and the fix (the
 * file it concerns); everything after that is per connection and only
 * logged.
 */
#ifndef TACTUS_WS_TLS_H
#define TACTUS_WS_TLS_H

#include <stdio.h>
#include <sys/socket.h>

#include "base.h"

typedef struct ws_tls ws_tls;

/* Takes the plaintext end of a connection whose handshake finished, and
 * the client's address; the callee owns `fd` from then on (closes it even
 * when it refuses the connection). */
typedef void (*ws_tls_handoff)(void *cls, int fd, const struct sockaddr *peer, socklen_t peer_len);

typedef struct {
    const char *cert_file;    /* PEM: the certificate, then its chain */
    const char *key_file;     /* PEM: the certificate's private key */
    const struct sockaddr *addr; /* where to listen */
    socklen_t addr_len;
    int handshake_timeout_s;  /* a handshake not done by then is dropped */
    int max_connections;      /* at once, handshaking or not: the rest are closed at accept */
    int per_ip_connections;   /* at once from one address, likewise (0: no limit) */
    ws_tls_handoff handoff;
    void *cls;
    FILE *log;                /* per-connection failures; NULL: quiet */
} ws_tls_options;

/* Reads the certificate and the key (checked against each other),
 * listens, and starts the event loop. TX_EINVAL: the files (err names
 * which and how to fix it); TX_EIO: the socket or the thread. */
tx_status ws_tls_start(const ws_tls_options *o, ws_tls **out, char *err, size_t errlen);
/* The port listened on (the one picked when asked for 0). */
unsigned ws_tls_port(const ws_tls *t);
/* Stops accepting, closes every connection (the HTTP server's ends see
 * them close), joins the thread, frees. NULL: nothing. */
void ws_tls_stop(ws_tls *t);

#endif
