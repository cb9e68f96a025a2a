/*
 * br_mcp_net.c - the network of an isolate: docker MCP server, when its
 * declaration names an allow-list:
 *
 *   network: { allow: ["api.example.com:443", "host.docker.internal:8080"] }
 *   network: ["api.example.com"]            # the same; no port means 443
 *
 * Enforced by the network, not by the server's good will. At each start of
 * the server (br_egress_up, before its `docker run`):
 *   - a Docker network of its own, --internal (no route out) and with no
 *     address of the host on its bridge (inhibit_ipv4: a plain internal
 *     network still lets a container reach every service the host has on
 *     0.0.0.0 through the bridge's gateway address);
 *   - per allowed host, a forwarder (tactus-mcp-forward, in an image built
 *     here FROM scratch) on the default bridge, then joined to the server's
 *     network under the host's name (a network alias, answered by Docker's
 *     resolver there). It resolves the host once, listens on the allowed
 *     ports only, and splices bytes to the real host: TLS stays end to end,
 *     any TCP protocol works, nothing else has a route;
 *   - the server's container joins that network with an unroutable DNS
 *     upstream, so that Docker's resolver cannot carry a query for another
 *     name out from the host's side (CVE-2024-29018).
 * At each stop (br_egress_down): the containers and the network go. The
 * forwarders run attached (`docker run -i`): if the broker dies, their
 * input ends and they exit and are removed; what is left (the network) is
 * removed by the next start on this machine, found by its labels, once
 * the process that made it is gone.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "br_internal.h"

#define MAX_HOSTS     16
#define MAX_PORTS     16
#define DEFAULT_PORT  443
#define READY_TIMEOUT 30000
/* Docker's resolver on the server's network forwards names it does not
 * know to this upstream, from inside the server's network namespace, where
 * no address outside its subnet is routed (240/4 is reserved besides). */
#define UNROUTABLE_DNS "240.0.0.1"
#define LABEL_EGRESS   "tactus.mcp.egress"
#define LABEL_OWNER    "tactus.mcp.owner"
#define WHERE_SET      "in the host's configuration (`tactus config` shows which file sets it)"

typedef struct {
    char host[256];
    int ports[MAX_PORTS];
    size_t n_ports;
    hl_child fwd; /* its forwarder's `docker run -i`; pid -1: not running */
} allowed_host;

struct br_egress {
    char server[64];
    char id[16];    /* random: this server start's network and containers */
    char net[48];   /* tactus-mcp-ID */
    char owner[200]; /* hostname/pid/start time of this process */
    allowed_host hosts[MAX_HOSTS];
    size_t n_hosts;
    char **envp; /* the docker CLI's: PATH, HOME, DOCKER_HOST */
    bool up;
};

/* ---- the allow-list, checked ----------------------------------------------------------------- */

static bool is_ip_literal(const char *h)
{
    return strspn(h, "0123456789.") == strlen(h);
}

/* "host" or "host:port" into host (lower-cased) and port; false with why. */
static bool parse_entry(const char *s, char *host, size_t hcap, int *port, char *why, size_t wcap)
{
    const char *example = "write HOST:PORT, like \"api.example.com:443\"";
    if (!*s) return snprintf(why, wcap, "is empty: %s", example), false;
    if (strstr(s, "://")) return snprintf(why, wcap, "is a URL: %s", example), false;
    if (strchr(s, '*'))
        return snprintf(why, wcap, "has a wildcard, which an allow-list does not take (each host gets a "
                                   "forwarder of its own, resolved once): name every host, like "
                                   "\"api.example.com:443\""), false;
    if (strchr(s, '[') || strchr(s, ':') != strrchr(s, ':'))
        return snprintf(why, wcap, "is an IPv6 address: the server's network is IPv4 only; name the host, %s",
                        example), false;
    const char *colon = strrchr(s, ':');
    size_t hl = colon ? (size_t)(colon - s) : strlen(s);
    *port = DEFAULT_PORT;
    if (colon) {
        char *end;
        long p = strtol(colon + 1, &end, 10);
        if (!isdigit((unsigned char)colon[1]) || *end || p < 1 || p > 65535)
            return snprintf(why, wcap, "has the port \"%.20s\": a port is a number from 1 to 65535 "
                                       "(without one, 443)", colon + 1), false;
        *port = (int)p;
    }
    if (hl == 0 || hl > 253 || hl >= hcap) return snprintf(why, wcap, "has no host name: %s", example), false;
    for (size_t i = 0; i < hl; i++) host[i] = (char)tolower((unsigned char)s[i]);
    host[hl] = '\0';
    bool label_ok = true;
    for (const char *l = host; *l && label_ok; l += strcspn(l, ".") + (l[strcspn(l, ".")] ? 1 : 0)) {
        size_t n = strcspn(l, ".");
        label_ok = n > 0 && n <= 63 && l[0] != '-' && l[n - 1] != '-';
    }
    if (strspn(host, "abcdefghijklmnopqrstuvwxyz0123456789.-") != hl || !label_ok || host[hl - 1] == '.')
        return snprintf(why, wcap, "is not a host name: %s", example), false;
    if (is_ip_literal(host))
        return snprintf(why, wcap, "is an IP address: the server reaches an allowed host by its name (its "
                                   "forwarder answers to that name on the server's network); name it "
                                   "(host.docker.internal is this machine)"), false;
    if (strcmp(host, "localhost") == 0 || strncmp(host, "localhost.", 10) == 0)
        return snprintf(why, wcap, "is localhost, which in a container is the container itself: this "
                                   "machine is host.docker.internal"), false;
    return true;
}

/* One allowed host:port added (a host named twice has one forwarder). */
static bool add_allowed(br_egress *e, const char *host, int port, char *why, size_t wcap)
{
    allowed_host *h = NULL;
    for (size_t i = 0; i < e->n_hosts && !h; i++)
        if (strcmp(e->hosts[i].host, host) == 0) h = &e->hosts[i];
    if (!h) {
        if (e->n_hosts == MAX_HOSTS)
            return snprintf(why, wcap, "names more than %d hosts; an allow-list is kept short", MAX_HOSTS), false;
        h = &e->hosts[e->n_hosts++];
        snprintf(h->host, sizeof h->host, "%s", host);
        h->fwd = (hl_child){-1, -1, -1, -1};
    }
    for (size_t i = 0; i < h->n_ports; i++)
        if (h->ports[i] == port) return true;
    if (h->n_ports == MAX_PORTS)
        return snprintf(why, wcap, "names more than %d ports of %s", MAX_PORTS, host), false;
    h->ports[h->n_ports++] = port;
    return true;
}

bool br_docker_env_append(char ***env)
{
    size_t n = 0;
    while (*env && (*env)[n]) n++;
    char **grown = tx_realloc(*env, (n + 4) * sizeof **env);
    if (!grown) return false;
    *env = grown;
    const char *keep[] = {"PATH", "HOME", "DOCKER_HOST"};
    for (size_t i = 0; i < 3; i++) {
        const char *v = getenv(keep[i]);
        if (!v) continue;
        tx_buf kv;
        tx_buf_init(&kv, 8192);
        tx_buf_printf(&kv, "%s=%s", keep[i], v);
        grown[n++] = tx_buf_steal(&kv);
    }
    grown[n] = NULL;
    return true;
}

/* This process, as "hostname/pid/start time" (the start time tells a pid
 * used again from ours). */
static void owner_of(pid_t pid, char *out, size_t cap)
{
    char host[128] = "", path[64];
    gethostname(host, sizeof host - 1);
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    char *stat = NULL;
    size_t len;
    int e;
    unsigned long long start = 0;
    if (tx_read_file(path, 4096, &stat, &len, &e) == TX_OK) {
        const char *p = strrchr(stat, ')'); /* the command may hold spaces */
        for (int field = 2; p && *p && field < 22; field++) p = strchr(p + 1, ' ');
        if (p) start = strtoull(p + 1, NULL, 10);
        tx_free(stat);
    }
    snprintf(out, cap, "%s/%d/%llu", host, (int)pid, start);
}

bool br_egress_new(const char *name, const cJSON *net, br_egress **out, char *err, size_t cap)
{
    *out = NULL;
    if (!net || (cJSON_IsString(net) && strcmp(net->valuestring, "none") == 0)) return true;
    const cJSON *list = net;
    if (cJSON_IsObject(net)) {
        list = cJSON_GetObjectItemCaseSensitive(net, "allow");
        const cJSON *k;
        cJSON_ArrayForEach(k, net) if (strcmp(k->string, "allow") != 0)
        {
            snprintf(err, cap, "mcp_servers.%s.network.%.40s is not a key of it (keys: allow), " WHERE_SET
                               "; nothing was started", name, k->string);
            return false;
        }
    }
    if (!cJSON_IsArray(list) || cJSON_GetArraySize(list) == 0) {
        snprintf(err, cap, "mcp_servers.%s.network takes none, or an allow-list of hosts: {allow: "
                           "[\"api.example.com:443\"]} (a plain list works too; no port means 443), " WHERE_SET
                           "; nothing was started", name);
        return false;
    }
    br_egress *e = tx_calloc(1, sizeof *e);
    if (!e) return snprintf(err, cap, "out of memory"), false;
    snprintf(e->server, sizeof e->server, "%s", name);
    const cJSON *v;
    int i = 0;
    cJSON_ArrayForEach(v, list)
    {
        char host[256], why[400];
        int port;
        bool ok = cJSON_IsString(v) ? parse_entry(v->valuestring, host, sizeof host, &port, why, sizeof why) &&
                                          add_allowed(e, host, port, why, sizeof why)
                                    : (snprintf(why, sizeof why, "is not a string: write HOST:PORT, like "
                                                                 "\"api.example.com:443\""), false);
        if (!ok) {
            snprintf(err, cap, "mcp_servers.%s.network%s[%d] (\"%.80s\") %s; " WHERE_SET "; nothing was started",
                     name, cJSON_IsObject(net) ? ".allow" : "", i, cJSON_IsString(v) ? v->valuestring : "",
                     why);
            tx_free(e);
            return false;
        }
        i++;
    }
    char hex[13];
    if (!br_docker_env_append(&e->envp) || !hl_random_hex(hex, 6)) {
        br_egress_free(e);
        return snprintf(err, cap, "mcp_servers.%s: cannot make the name of its network", name), false;
    }
    snprintf(e->id, sizeof e->id, "%s", hex);
    snprintf(e->net, sizeof e->net, "tactus-mcp-%s", hex);
    owner_of(getpid(), e->owner, sizeof e->owner);
    *out = e;
    return true;
}

void br_egress_docker_args(const br_egress *e, cJSON *argv)
{
    char label[300];
    cJSON_AddItemToArray(argv, cJSON_CreateString("--network"));
    cJSON_AddItemToArray(argv, cJSON_CreateString(e->net));
    cJSON_AddItemToArray(argv, cJSON_CreateString("--dns"));
    cJSON_AddItemToArray(argv, cJSON_CreateString(UNROUTABLE_DNS));
    snprintf(label, sizeof label, LABEL_EGRESS "=%s", e->id);
    cJSON_AddItemToArray(argv, cJSON_CreateString("--label"));
    cJSON_AddItemToArray(argv, cJSON_CreateString(label));
    snprintf(label, sizeof label, LABEL_OWNER "=%s", e->owner);
    cJSON_AddItemToArray(argv, cJSON_CreateString("--label"));
    cJSON_AddItemToArray(argv, cJSON_CreateString(label));
}

/* ---- docker ------------------------------------------------------------------------------------ */

/* docker ARGS..., its stdout in out (may be NULL); 0 when it succeeded,
 * else its status with its stderr in err. */
static int docker(const br_egress *e, char *const *argv, tx_buf *out, char *err, size_t cap)
{
    tx_buf eb;
    tx_buf_init(&eb, 64 * 1024);
    int rc = hl_run_capture(argv, e->envp, NULL, out, &eb, 120000);
    if (rc != 0 && err) {
        size_t n = eb.len;
        while (n && (eb.data[n - 1] == '\n' || eb.data[n - 1] == '\r')) n--;
        snprintf(err, cap, "%s %s failed (%d): %.*s", argv[0], argv[1], rc, (int)(n > 400 ? 400 : n),
                 eb.data ? eb.data : "");
    }
    tx_buf_free(&eb);
    return rc;
}

/* Whether OWNER ("hostname/pid/start") names a process of this machine
 * that is gone: only then are its networks and containers left-overs. */
static bool owner_gone(const char *owner)
{
    char host[128] = "", mine[200];
    gethostname(host, sizeof host - 1);
    const char *slash = strchr(owner, '/');
    if (!slash || (size_t)(slash - owner) != strlen(host) || strncmp(owner, host, strlen(host)) != 0)
        return false; /* another machine's (a shared dockerd): not ours to judge */
    long pid = strtol(slash + 1, NULL, 10);
    if (pid <= 0) return false;
    if (kill((pid_t)pid, 0) != 0 && errno == ESRCH) return true;
    owner_of((pid_t)pid, mine, sizeof mine);
    return strcmp(mine, owner) != 0; /* the pid is another process's now */
}

/* Removes what a broker that died left (`docker ps|network ls` by label). */
static void sweep_left_overs(const br_egress *e)
{
    for (size_t k = 0; k < 2; k++) {
        tx_buf out;
        tx_buf_init(&out, 1u << 20);
        char *ps[] = {"docker", "ps", "-a", "--filter", "label=" LABEL_EGRESS, "--format",
                      "{{.ID}} {{.Label \"" LABEL_OWNER "\"}}", NULL};
        char *ls[] = {"docker", "network", "ls", "--filter", "label=" LABEL_EGRESS, "--format",
                      "{{.ID}} {{.Label \"" LABEL_OWNER "\"}}", NULL};
        if (docker(e, k == 0 ? ps : ls, &out, NULL, 0) == 0) {
            for (char *line = out.data, *next; line && *line; line = next) {
                next = strchr(line, '\n');
                if (next) *next++ = '\0';
                char *sp = strchr(line, ' ');
                if (!sp || !owner_gone(sp + 1)) continue;
                *sp = '\0';
                char *rm_c[] = {"docker", "rm", "-f", line, NULL};
                char *rm_n[] = {"docker", "network", "rm", line, NULL};
                docker(e, k == 0 ? rm_c : rm_n, NULL, NULL, 0);
            }
        }
        tx_buf_free(&out);
    }
}

/* ---- the forwarder's image ---------------------------------------------------------------------- */

/* tactus-mcp-forward beside this executable, and the name of its image:
 * tactus-mcp-forward:VERSION-<first 12 hex of its SHA-256>, so a rebuilt
 * forwarder gets an image of its own and two builds on one dockerd do not
 * replace each other's. */
static bool forwarder_exe(char *exe, size_t cap, char hex[65], char *err, size_t ecap)
{
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    char *slash = n > 0 ? (self[n] = '\0', strrchr(self, '/')) : NULL;
    if (slash) *slash = '\0';
    if (!slash || (size_t)snprintf(exe, cap, "%s/tactus-mcp-forward", self) >= cap || access(exe, X_OK) != 0 ||
        hl_sha256_file(exe, hex) != TX_OK) {
        snprintf(err, ecap, "tactus-mcp-forward is not beside tactus (%.300s): it is built with tactus; "
                            "network: allow-lists need it", slash ? self : "?");
        return false;
    }
    return true;
}

/* After a build: the images of the forwarder that was at the same path
 * before (superseded by this build) go at once instead of piling up, one
 * per rebuild; not forced (one a container uses stays). */
static void remove_superseded(const br_egress *e, const char *real, const char *image)
{
    char filter[PATH_MAX + 64];
    snprintf(filter, sizeof filter, "label=tactus.mcp_forward_path=%s", real);
    tx_buf names;
    tx_buf_init(&names, 1u << 16);
    char *ls[] = {"docker", "image", "ls", "--filter", filter, "--format", "{{.Repository}}:{{.Tag}}", NULL};
    if (docker(e, ls, &names, NULL, 0) == 0 && names.data)
        for (char *save = NULL, *n = strtok_r(names.data, "\n", &save); n; n = strtok_r(NULL, "\n", &save)) {
            if (strcmp(n, image) == 0 || strstr(n, "<none>")) continue;
            char *rm[] = {"docker", "image", "rm", n, NULL};
            docker(e, rm, NULL, NULL, 0);
        }
    tx_buf_free(&names);
}

/* The image, built here FROM scratch (the static forwarder and nothing
 * else) when dockerd does not have it; never pulled. */
static bool forwarder_image(const br_egress *e, char *image, size_t icap, char *err, size_t cap)
{
    char exe[PATH_MAX], hex[65];
    if (!forwarder_exe(exe, sizeof exe, hex, err, cap)) return false;
    snprintf(image, icap, "tactus-mcp-forward:%s-%.12s", TACTUS_VERSION, hex);
    char *inspect[] = {"docker", "image", "inspect", "--format", "{{.Id}}", image, NULL};
    if (docker(e, inspect, NULL, NULL, 0) == 0) return true;
    char ctx[] = "/tmp/tactus-forward-image-XXXXXX", path[PATH_MAX + 64], real[PATH_MAX];
    /* The path goes into a Dockerfile line: one that could change the
     * file is not recorded (its images are then not removed below). */
    if (!realpath(exe, real) || strpbrk(real, "\"\\\n\r$")) real[0] = '\0';
    if (!mkdtemp(ctx)) return snprintf(err, cap, "cannot make a folder for the forwarder's image: %s", strerror(errno)), false;
    char *data = NULL;
    size_t len = 0;
    int eno;
    bool ok = tx_read_file(exe, 64u << 20, &data, &len, &eno) == TX_OK;
    snprintf(path, sizeof path, "%s/forward", ctx);
    int fd = ok ? open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0755) : -1;
    ok = fd >= 0 && write(fd, data, len) == (ssize_t)len;
    if (fd >= 0) close(fd);
    tx_free(data);
    snprintf(path, sizeof path, "%s/Dockerfile", ctx);
    FILE *df = ok ? fopen(path, "w") : NULL;
    if (df) {
        fprintf(df, "# Generated by tactus: the MCP egress forwarder, nothing else.\nFROM scratch\n"
                    "COPY forward /forward\nLABEL tactus.mcp_forward_sha256=\"%s\" tactus.mcp_forward_path=\"%s\"\n"
                    "USER 65534:65534\nENTRYPOINT [\"/forward\"]\n", hex, real);
        ok = fclose(df) == 0;
    } else {
        ok = false;
    }
    char *build[] = {"docker", "build", "-q", "-t", image, ctx, NULL};
    if (!ok)
        snprintf(err, cap, "cannot write the forwarder's image in %s", ctx);
    else
        ok = docker(e, build, NULL, err, cap) == 0;
    if (ok && real[0]) remove_superseded(e, real, image);
    snprintf(path, sizeof path, "%s/forward", ctx);
    unlink(path);
    snprintf(path, sizeof path, "%s/Dockerfile", ctx);
    unlink(path);
    rmdir(ctx);
    return ok;
}

/* ---- up and down --------------------------------------------------------------------------------- */

/* Reads the forwarder's first line ("ready") within READY_TIMEOUT; false
 * with what it said on stderr when it ended instead. */
static bool forwarder_ready(allowed_host *h, char *why, size_t cap)
{
    tx_buf out, errs;
    tx_buf_init(&out, 4096);
    tx_buf_init(&errs, 8192);
    long long until = hl_now_ms() + READY_TIMEOUT;
    bool ready = false, open_out = true;
    char buf[1024];
    while (!ready && open_out && hl_now_ms() < until) {
        struct pollfd p[2] = {{h->fwd.out, POLLIN, 0}, {h->fwd.err, POLLIN, 0}};
        if (poll(p, 2, 200) <= 0) continue;
        if (p[1].revents) {
            ssize_t k = read(h->fwd.err, buf, sizeof buf);
            if (k > 0) tx_buf_append(&errs, buf, (size_t)k);
        }
        if (p[0].revents) {
            ssize_t k = read(h->fwd.out, buf, sizeof buf);
            if (k > 0) tx_buf_append(&out, buf, (size_t)k);
            open_out = k > 0 || (k < 0 && errno == EINTR);
            ready = out.data && strstr(out.data, "ready\n");
        }
    }
    if (!ready) {
        for (int i = 0; i < 10; i++) { /* the rest of why it ended */
            struct pollfd p = {h->fwd.err, POLLIN, 0};
            if (poll(&p, 1, 50) <= 0) break;
            ssize_t k = read(h->fwd.err, buf, sizeof buf);
            if (k <= 0) break;
            tx_buf_append(&errs, buf, (size_t)k);
        }
        size_t n = errs.len;
        while (n && (errs.data[n - 1] == '\n' || errs.data[n - 1] == '\r')) n--;
        snprintf(why, cap, "%s%.*s", open_out ? "it was not ready in time" : "it ended: ",
                 open_out ? 0 : (int)(n > 400 ? 400 : n), errs.data ? errs.data : "");
    }
    tx_buf_free(&out);
    tx_buf_free(&errs);
    return ready;
}

/* Starts the forwarder of one allowed host on the default bridge, waits
 * for it to listen, then joins it to the server's network under the
 * host's name. */
static bool start_forwarder(br_egress *e, allowed_host *h, size_t index, const char *image, const char *subnet,
                            char *err, size_t cap)
{
    char name[96], label_e[300], label_o[300], ports[MAX_PORTS][8];
    snprintf(name, sizeof name, "%s-f%zu", e->net, index);
    snprintf(label_e, sizeof label_e, LABEL_EGRESS "=%s", e->id);
    snprintf(label_o, sizeof label_o, LABEL_OWNER "=%s", e->owner);
    /* Holds no secret (no -e at all); read-only, nobody, no capabilities;
     * the sysctl lets nobody listen on a port under 1024 (443) in its own
     * network namespace only. */
    char *argv[64] = {"docker", "run", "--rm", "-i", "--pull", "never", "--name", name, "--label", label_e,
                      "--label", label_o, "--network", "bridge", "--read-only", "--cap-drop", "ALL",
                      "--security-opt", "no-new-privileges", "--user", "65534:65534", "--pids-limit", "16",
                      "--memory", "64m", "--ulimit", "nofile=256:256", "--sysctl",
                      "net.ipv4.ip_unprivileged_port_start=0"};
    size_t n = 0;
    while (argv[n]) n++;
    if (strcmp(h->host, "host.docker.internal") == 0) {
        argv[n++] = "--add-host";
        argv[n++] = "host.docker.internal:host-gateway";
    }
    argv[n++] = (char *)image;
    argv[n++] = "--from";
    argv[n++] = (char *)subnet;
    argv[n++] = h->host;
    for (size_t i = 0; i < h->n_ports; i++) {
        snprintf(ports[i], sizeof ports[i], "%d", h->ports[i]);
        argv[n++] = ports[i];
    }
    argv[n] = NULL;
    char why[600];
    if (hl_spawn(argv, e->envp, NULL, HL_SPAWN_GROUP, &h->fwd) != TX_OK) {
        h->fwd.pid = -1;
        return snprintf(err, cap, "the docker CLI could not be started: %s", strerror(errno)), false;
    }
    if (!forwarder_ready(h, why, sizeof why))
        return snprintf(err, cap, "the forwarder to %s could not start: %s", h->host, why), false;
    char *connect[] = {"docker", "network", "connect", "--alias", h->host, e->net, name, NULL};
    return docker(e, connect, NULL, err, cap) == 0;
}

bool br_egress_up(void *ud, char *err, size_t cap)
{
    br_egress *e = ud;
    if (e->up) br_egress_down(e);
    sweep_left_overs(e);
    char image[128], subnet[64] = "", label_e[300], label_o[300], label_s[120];
    snprintf(label_e, sizeof label_e, LABEL_EGRESS "=%s", e->id);
    snprintf(label_o, sizeof label_o, LABEL_OWNER "=%s", e->owner);
    snprintf(label_s, sizeof label_s, "tactus.mcp.server=%s", e->server);
    char derr[700] = "";
    e->up = true; /* from here on, down removes what was made */
    if (!forwarder_image(e, image, sizeof image, derr, sizeof derr)) goto failed;
    char *create[] = {"docker", "network", "create", "--internal", "--label", label_e, "--label", label_o,
                      "--label", label_s, "-o", "com.docker.network.bridge.inhibit_ipv4=true", e->net, NULL};
    if (docker(e, create, NULL, derr, sizeof derr) != 0) goto failed;
    tx_buf out;
    tx_buf_init(&out, 4096);
    char *inspect[] = {"docker", "network", "inspect", "--format", "{{range .IPAM.Config}}{{.Subnet}} {{end}}",
                       e->net, NULL};
    if (docker(e, inspect, &out, derr, sizeof derr) == 0 && out.data)
        snprintf(subnet, sizeof subnet, "%.*s", (int)strcspn(out.data, " \n"), out.data);
    tx_buf_free(&out);
    if (!subnet[0] || strchr(subnet, ':')) {
        if (!derr[0]) snprintf(derr, sizeof derr, "its network %s has no IPv4 subnet", e->net);
        goto failed;
    }
    for (size_t i = 0; i < e->n_hosts; i++)
        if (!start_forwarder(e, &e->hosts[i], i, image, subnet, derr, sizeof derr)) goto failed;
    return true;
failed:
    snprintf(err, cap, "its network (mcp_servers.%s.network) could not be set up: %s", e->server, derr);
    br_egress_down(e);
    return false;
}

/* Waits up to ms for pid to end. */
static bool ended_within(pid_t pid, int ms)
{
    for (int i = 0; i <= ms / 10; i++) {
        if (waitpid(pid, NULL, WNOHANG) != 0) return true;
        struct timespec ts = {0, 10000000};
        nanosleep(&ts, NULL);
    }
    return false;
}

void br_egress_down(void *ud)
{
    br_egress *e = ud;
    if (!e || !e->up) return;
    /* The forwarders' input ends: they exit, and --rm removes them. */
    for (size_t i = 0; i < e->n_hosts; i++)
        if (e->hosts[i].fwd.in >= 0) {
            close(e->hosts[i].fwd.in);
            e->hosts[i].fwd.in = -1;
        }
    /* Whatever of ours still stands (the server's container when its CLI
     * was killed, a forwarder that did not exit), by this start's label. */
    char filter[80];
    snprintf(filter, sizeof filter, "label=" LABEL_EGRESS "=%s", e->id);
    tx_buf ids;
    tx_buf_init(&ids, 1u << 16);
    char *ps[] = {"docker", "ps", "-aq", "--filter", filter, NULL};
    if (docker(e, ps, &ids, NULL, 0) == 0 && ids.data && *ids.data) {
        char *rm[MAX_HOSTS + 8] = {"docker", "rm", "-f"};
        size_t n = 3;
        for (char *save = NULL, *id = strtok_r(ids.data, "\n", &save); id && n < MAX_HOSTS + 7;
             id = strtok_r(NULL, "\n", &save))
            rm[n++] = id;
        rm[n] = NULL;
        docker(e, rm, NULL, NULL, 0);
    }
    tx_buf_free(&ids);
    for (size_t i = 0; i < e->n_hosts; i++) {
        hl_child *c = &e->hosts[i].fwd;
        if (c->pid > 0 && !ended_within(c->pid, 3000)) hl_kill_group(c);
        if (c->out >= 0) close(c->out);
        if (c->err >= 0) close(c->err);
        *c = (hl_child){-1, -1, -1, -1};
    }
    /* A container being removed still holds its endpoint for a moment. */
    char *rm_net[] = {"docker", "network", "rm", e->net, NULL};
    for (int i = 0; i < 50 && docker(e, rm_net, NULL, NULL, 0) != 0; i++) {
        char *inspect[] = {"docker", "network", "inspect", "--format", "{{.Id}}", e->net, NULL};
        if (docker(e, inspect, NULL, NULL, 0) != 0) break; /* not there (never made) */
        struct timespec ts = {0, 100000000};
        nanosleep(&ts, NULL);
    }
    e->up = false;
}

void br_egress_free(br_egress *e)
{
    if (!e) return;
    br_egress_down(e);
    for (size_t i = 0; e->envp && e->envp[i]; i++) tx_free(e->envp[i]);
    tx_free(e->envp);
    tx_free(e);
}
