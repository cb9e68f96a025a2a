/*
 * serve.h - `tactus broker serve`: the broker on its own, holding the keys,
 * answering the effects of runs that reach it over TCP or TLS through
 * tactus-connect. Runs are registered on a private control socket, and each
 * runtime proves its run with a one-time token (see serve.c for the
 * protocol, docs/broker.md for its use).
 *
 * Errors: tx_status, TX_EINVAL with a message for a configuration that
 * cannot serve.
 */
#ifndef TACTUS_SERVE_H
#define TACTUS_SERVE_H

#include <cjson/cJSON.h>
#include <stdio.h>

#include "base.h"

typedef struct {
    const cJSON *config;    /* providers, host tools, budgets: the broker's own */
    const char *listen;     /* tcp://HOST:PORT or tls://HOST:PORT (port 0: any) */
    const char *cert, *key; /* PEM files, for tls:// */
    const char *control;    /* the Unix socket where runs are registered */
    const char *audit_path; /* audit log, or NULL */
    FILE *log;              /* one line per event, or NULL */
    void (*ready)(void *ud, const char *port); /* called once listening */
    void *ready_ud;
} sv_options;

/* Serves until SIGINT/SIGTERM (see serve.c for the protocol). TX_EINVAL
 * with a message for a configuration that cannot serve. */
tx_status sv_serve(const sv_options *o, char *err, size_t cap);

#endif
