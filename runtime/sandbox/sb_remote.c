/*
 * sb_remote.c - a remote broker (sandbox.broker_transport: tcp|tls): where
 * tactus-connect connects, how it checks the broker, where runs are
 * registered; plain TCP only on loopback.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sb_internal.h"

tx_status sb_remote_config(const cJSON *config, bool docker, sb_remote *r, bool *remote, char *err,
                           size_t errlen)
{
    memset(r, 0, sizeof *r);
    *remote = false;
    const cJSON *sb = cf_get(config, "sandbox");
    const char *transport = hl_json_str(sb, "broker_transport");
    if (!transport || strcmp(transport, "stdio") == 0) return TX_OK;
    if (strcmp(transport, "tcp") != 0 && strcmp(transport, "tls") != 0) {
        snprintf(err, errlen, "Unsupported sandbox.broker_transport: '%s'", transport);
        return TX_EINVAL;
    }
    const char *network = hl_json_str(sb, "network");
    if (docker && (!network || strcmp(network, "none") == 0)) {
        snprintf(err, errlen,
                 "sandbox.broker_transport requires container networking. Set sandbox.network "
                 "to 'bridge' (or another non-'none' mode).");
        return TX_EINVAL;
    }
    const char *host = hl_json_str(sb, "broker_host");
    if (!host) host = docker ? "host.docker.internal" : "127.0.0.1";
    const cJSON *port = cJSON_GetObjectItemCaseSensitive(sb, "broker_port");
    if (!cJSON_IsNumber(port) || port->valueint <= 0 || port->valueint > 65535) {
        snprintf(err, errlen,
                 "sandbox.broker_transport '%s' needs sandbox.broker_port: the port `tactus broker "
                 "serve --listen %s://HOST:PORT` listens on",
                 transport, transport);
        return TX_EINVAL;
    }
    if (strcmp(transport, "tcp") == 0 && !hl_host_is_loopback(host)) {
        snprintf(err, errlen,
                 "sandbox.broker_transport 'tcp' to %s: plain TCP is allowed only to a loopback "
                 "address (127.0.0.1, ::1, localhost); beyond it, prompts, answers and the run "
                 "token would cross the network unencrypted. Set sandbox.broker_transport: tls "
                 "and sandbox.broker_ca_file (docs/broker.md)",
                 host);
        return TX_EINVAL;
    }
    snprintf(r->endpoint, sizeof r->endpoint, "%s://%s%s%s:%d", transport,
             strchr(host, ':') ? "[" : "", host, strchr(host, ':') ? "]" : "", port->valueint);
    const char *ca = hl_json_str(sb, "broker_ca_file");
    if (strcmp(transport, "tls") == 0) {
        if (!ca) {
            snprintf(err, errlen, "sandbox.broker_transport='tls' requires sandbox.broker_ca_file (the "
                                  "CA that signed the broker's certificate)");
            return TX_EINVAL;
        }
        if (!realpath(ca, r->ca)) {
            snprintf(err, errlen, "sandbox.broker_ca_file %s: %s", ca, strerror(errno));
            return TX_EINVAL;
        }
    }
    const char *name = hl_json_str(sb, "broker_server_name");
    if (name) snprintf(r->server_name, sizeof r->server_name, "%s", name);
    const char *control = hl_json_str(sb, "broker_control");
    if (control)
        snprintf(r->control, sizeof r->control, "%s", control);
    else if (!cf_default_broker_control(r->control, sizeof r->control)) {
        snprintf(err, errlen,
                 "the broker's control socket has no private default place (neither XDG_RUNTIME_DIR "
                 "nor HOME is set): set sandbox.broker_control to a socket in a folder of your own");
        return TX_EINVAL;
    }
    char runtime[sizeof r->connect_exe];
    if (sb_find_runtime(runtime, sizeof runtime) == TX_OK) {
        char *slash = strrchr(runtime, '/');
        if (slash) *slash = '\0';
        if ((size_t)snprintf(r->connect_exe, sizeof r->connect_exe, "%.4000s/tactus-connect",
                             runtime) >= sizeof r->connect_exe)
            r->connect_exe[0] = '\0';
    }
    if (!r->connect_exe[0] || access(r->connect_exe, X_OK) != 0) {
        snprintf(err, errlen, "tactus-connect not found beside tactus-runtime: remote brokers need it");
        return TX_EINVAL;
    }
    *remote = true;
    return TX_OK;
}

