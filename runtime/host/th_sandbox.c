/*
 * th_sandbox.c - how a run is launched: as a plain child process
 * (--no-sandbox) or in a Docker container, and the sandbox image.
 *
 * Like bubblewrap, it turns configuration into a plan (th_launch), validates
 * every field and combination first, and only then touches the system; any
 * doubt fails closed. Policy (what is mounted, which limits) comes from the
 * caller's configuration; this file only refuses what is unsafe: secrets in
 * sandbox.env, relative escapes in volume specs, transports that need a
 * network the container does not have.
 *
 * The docker CLI is used rather than the Engine API: it is what dockerd
 * ships with here, and a container started by `docker run` behaves exactly
 * as the user's own `docker run` does, which makes the sandbox auditable.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "host.h"

/* ---- argument vectors ------------------------------------------------------------------------ */

static tx_status argv_push(th_launch *l, const char *s)
{
    if (l->argc + 2 > l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 32;
        char **a = tx_realloc(l->argv, cap * sizeof *a);
        if (!a) return TX_ENOMEM;
        l->argv = a;
        l->cap = cap;
    }
    char *d = tx_strdup(s);
    if (!d) return TX_ENOMEM;
    l->argv[l->argc++] = d;
    l->argv[l->argc] = NULL;
    return TX_OK;
}

static tx_status argv_pushf(th_launch *l, const char *fmt, const char *a, const char *b)
{
    char buf[PATH_MAX * 2 + 64];
    snprintf(buf, sizeof buf, fmt, a, b ? b : "");
    return argv_push(l, buf);
}

void th_launch_free(th_launch *l)
{
    for (size_t i = 0; i < l->argc; i++) tx_free(l->argv[i]);
    tx_free(l->argv);
    for (size_t i = 0; l->envp && l->envp[i]; i++) tx_free(l->envp[i]);
    tx_free(l->envp);
    memset(l, 0, sizeof *l);
}

/* The docker CLI gets only what it needs to find the daemon: never the
 * host's keys (a container sees nothing of the CLI's environment unless
 * passed with --env, but the CLI itself need not hold them either). */
static tx_status docker_env(th_launch *l)
{
    static const char *const keep[] = {"PATH", "HOME", "DOCKER_HOST", "DOCKER_CONFIG",
                                       "DOCKER_CONTEXT", "DOCKER_CERT_PATH", "DOCKER_TLS_VERIFY"};
    size_t n = sizeof keep / sizeof keep[0];
    l->envp = tx_calloc(n + 2, sizeof *l->envp);
    if (!l->envp) return TX_ENOMEM;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        const char *v = getenv(keep[i]);
        if (!v && strcmp(keep[i], "PATH") == 0) v = "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin";
        if (!v) continue;
        size_t len = strlen(keep[i]) + strlen(v) + 2;
        char *e = tx_malloc(len);
        if (!e) return TX_ENOMEM;
        snprintf(e, len, "%s=%s", keep[i], v);
        l->envp[k++] = e;
    }
    return TX_OK;
}

tx_status th_launch_plain(const char *runtime_exe, const char *workspace, th_launch *l)
{
    memset(l, 0, sizeof *l);
    l->envp = tx_calloc(1, sizeof *l->envp); /* empty: the runtime inherits nothing */
    if (!l->envp || argv_push(l, runtime_exe) != TX_OK) {
        th_launch_free(l);
        return TX_ENOMEM;
    }
    snprintf(l->cwd, sizeof l->cwd, "%s", workspace);
    snprintf(l->workspace, sizeof l->workspace, "%s", workspace);
    return TX_OK;
}

/* ---- running docker ----------------------------------------------------------------------------- */

/* Runs a docker command with the docker CLI's environment (docker_env). */
static int run_capture(char *const argv[], const char *stdin_text, tx_buf *out, tx_buf *err,
                       int timeout_ms)
{
    th_launch env = {0};
    if (docker_env(&env) != TX_OK) {
        th_launch_free(&env);
        return -2;
    }
    int rc = hl_run_capture(argv, env.envp, stdin_text, out, err, timeout_ms);
    th_launch_free(&env);
    return rc;
}

static bool docker_on_path(void)
{
    const char *path = getenv("PATH");
    if (!path) path = "/usr/local/bin:/usr/bin:/bin";
    char dir[PATH_MAX];
    for (const char *p = path; *p;) {
        size_t n = strcspn(p, ":");
        snprintf(dir, sizeof dir, "%.*s/docker", (int)n, p);
        if (access(dir, X_OK) == 0) return true;
        p += n;
        if (*p == ':') p++;
    }
    return false;
}

static bool th_docker_available_cli(char *reason, size_t cap);

/* ---- the daemon's API, directly ------------------------------------------------------------ */

/* Each `docker` CLI call costs 10-25 ms of client start-up; asking the
 * daemon over its unix socket costs about 1 ms. Used for the two questions
 * asked before every run (is the daemon there, is the image current); runs
 * themselves still go through `docker run`, so they stay auditable.
 * Returns the HTTP status, 0 when the socket cannot be used (no unix
 * DOCKER_HOST, or no such socket: *err_no tells which), -1 on other errors. */
static int docker_api_get(const char *path, tx_buf *body, int *err_no)
{
    *err_no = 0;
    const char *host = getenv("DOCKER_HOST");
    const char *sock = "/var/run/docker.sock";
    if (host && *host) {
        if (strncmp(host, "unix://", 7) != 0) return 0; /* tcp etc.: use the CLI */
        sock = host + 7;
    }
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    if (strlen(sock) >= sizeof addr.sun_path) return 0;
    strcpy(addr.sun_path, sock);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    struct timeval tv = {10, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    if (connect(fd, (struct sockaddr *)&addr, sizeof addr) != 0) {
        *err_no = errno;
        close(fd);
        return 0;
    }
    char req[1024];
    int n = snprintf(req, sizeof req, "GET %s HTTP/1.0\r\nHost: docker\r\n\r\n", path);
    if (n <= 0 || (size_t)n >= sizeof req || write(fd, req, (size_t)n) != n) {
        close(fd);
        return -1;
    }
    tx_buf resp;
    tx_buf_init(&resp, 4u << 20);
    char buf[8192];
    ssize_t k;
    while ((k = read(fd, buf, sizeof buf)) > 0)
        if (tx_buf_append(&resp, buf, (size_t)k) != TX_OK) break;
    close(fd);
    int status = -1;
    if (resp.data && sscanf(resp.data, "HTTP/%*s %d", &status) == 1) {
        const char *b = strstr(resp.data, "\r\n\r\n");
        if (b && body) tx_buf_puts(body, b + 4);
    }
    tx_buf_free(&resp);
    return status;
}

bool th_docker_available(char *reason, size_t cap)
{
    int e;
    int st = docker_api_get("/_ping", NULL, &e);
    if (st == 200) return true;
    if (st == 0 && e) {
        snprintf(reason, cap, e == EACCES ? "Permission denied accessing Docker (try: sudo usermod -aG docker $USER)"
                                          : "Docker daemon not running");
        return false;
    }
    return th_docker_available_cli(reason, cap);
}

static bool th_docker_available_cli(char *reason, size_t cap)
{
    if (!docker_on_path()) {
        snprintf(reason, cap, "Docker CLI not found in PATH");
        return false;
    }
    tx_buf out, err;
    tx_buf_init(&out, 4096);
    tx_buf_init(&err, 4096);
    char *argv[] = {"docker", "info", "--format", "{{.ServerVersion}}", NULL};
    int rc = run_capture(argv, NULL, &out, &err, 10000);
    bool ok = rc == 0 && out.len > 0 && strncmp(out.data, "<no value>", 10) != 0;
    if (!ok) {
        const char *e = err.data ? err.data : "";
        if (rc == -1)
            snprintf(reason, cap, "Docker daemon not responding (timeout after 10s)");
        else if (strstr(e, "permission denied"))
            snprintf(reason, cap, "Permission denied accessing Docker (try: sudo usermod -aG docker $USER)");
        else
            snprintf(reason, cap, "Docker daemon not running");
    }
    tx_buf_free(&out);
    tx_buf_free(&err);
    return ok;
}

/* ---- the image ------------------------------------------------------------------------------------ */

void th_sandbox_image_name(const cJSON *config, char *out, size_t cap)
{
    const cJSON *img = cf_get(config, "sandbox.image");
    if (cJSON_IsString(img) && *img->valuestring)
        snprintf(out, cap, "%s", img->valuestring);
    else
        snprintf(out, cap, "tactus-sandbox:%s", TACTUS_VERSION);
}

th_image_state th_sandbox_image_state(const char *image, const char *runtime_exe, char *detail,
                                      size_t cap)
{
    char hex[65];
    if (hl_sha256_file(runtime_exe, hex) != TX_OK) {
        snprintf(detail, cap, "cannot read %s", runtime_exe);
        return TH_IMAGE_MISSING;
    }
    char path[512];
    snprintf(path, sizeof path, "/images/%s/json", image);
    tx_buf body;
    tx_buf_init(&body, 4u << 20);
    int e;
    int status = docker_api_get(path, &body, &e);
    if (status == 404 || status == 200) {
        th_image_state s = TH_IMAGE_MISSING;
        cJSON *j = status == 200 && body.data ? cJSON_Parse(body.data) : NULL;
        const char *label = hl_json_str(
            cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(j, "Config"), "Labels"),
            "tactus.runtime_sha256");
        if (status == 404) {
            snprintf(detail, cap, "image %s is not present", image);
        } else if (label && strncmp(label, hex, 64) == 0) {
            snprintf(detail, cap, "image %s is current (runtime sha256 %.12s)", image, hex);
            s = TH_IMAGE_CURRENT;
        } else {
            snprintf(detail, cap, "image %s is stale (built from runtime %.12s, current %.12s)", image,
                     label ? label : "?", hex);
            s = TH_IMAGE_STALE;
        }
        cJSON_Delete(j);
        tx_buf_free(&body);
        return s;
    }
    tx_buf_free(&body);
    tx_buf out;
    tx_buf_init(&out, 4096);
    char *argv[] = {"docker", "image", "inspect", "--format",
                    "{{index .Config.Labels \"tactus.runtime_sha256\"}}", (char *)image, NULL};
    int rc = run_capture(argv, NULL, &out, NULL, 10000);
    th_image_state s;
    if (rc != 0) {
        snprintf(detail, cap, "image %s is not present", image);
        s = TH_IMAGE_MISSING;
    } else if (out.data && strncmp(out.data, hex, 64) == 0) {
        snprintf(detail, cap, "image %s is current (runtime sha256 %.12s)", image, hex);
        s = TH_IMAGE_CURRENT;
    } else {
        snprintf(detail, cap, "image %s is stale (built from runtime %.12s, current %.12s)", image,
                 out.data ? out.data : "?", hex);
        s = TH_IMAGE_STALE;
    }
    tx_buf_free(&out);
    return s;
}

static tx_status copy_file(const char *from, const char *to, mode_t mode)
{
    char *data;
    size_t len;
    int e;
    tx_status st = tx_read_file(from, 512u << 20, &data, &len, &e);
    if (st != TX_OK) return st;
    int fd = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    if (fd < 0) {
        tx_free(data);
        return TX_EIO;
    }
    size_t off = 0;
    while (off < len) {
        ssize_t w = write(fd, data + off, len - off);
        if (w <= 0) break;
        off += (size_t)w;
    }
    close(fd);
    tx_free(data);
    return off == len ? TX_OK : TX_EIO;
}

static tx_status mkdirs(const char *path)
{
    char buf[PATH_MAX];
    snprintf(buf, sizeof buf, "%s", path);
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/') continue;
        *p = '\0';
        if (mkdir(buf, 0755) != 0 && errno != EEXIST) return TX_EIO;
        *p = '/';
    }
    if (mkdir(buf, 0755) != 0 && errno != EEXIST) return TX_EIO;
    return TX_OK;
}

/* Copies `lib` (an absolute path) into root/, keeping its path. */
static tx_status copy_into_root(const char *root, const char *lib)
{
    char dst[PATH_MAX * 2];
    snprintf(dst, sizeof dst, "%s%s", root, lib);
    char *slash = strrchr(dst, '/');
    *slash = '\0';
    if (mkdirs(dst) != TX_OK) return TX_EIO;
    *slash = '/';
    char real[PATH_MAX];
    if (!realpath(lib, real)) return TX_ENOENT;
    return copy_file(real, dst, 0755);
}

static void remove_tree(const char *dir)
{
    char *argv[] = {"rm", "-rf", (char *)dir, NULL};
    pid_t pid = fork();
    if (pid == 0) {
        execvp("rm", argv);
        _exit(127);
    }
    if (pid > 0) waitpid(pid, NULL, 0);
}

tx_status th_sandbox_build_image(const char *image, const char *runtime_exe, const char *probe_exe,
                                 FILE *log, char *err, size_t errlen)
{
    char hex[65];
    if (hl_sha256_file(runtime_exe, hex) != TX_OK) {
        snprintf(err, errlen, "cannot read %s", runtime_exe);
        return TX_EIO;
    }
    char ctx[] = "/tmp/tactus-image-XXXXXX";
    if (!mkdtemp(ctx)) {
        snprintf(err, errlen, "cannot create a build folder: %s", strerror(errno));
        return TX_EIO;
    }
    char root[PATH_MAX], path[PATH_MAX * 2];
    snprintf(root, sizeof root, "%s/root", ctx);
    tx_status st = mkdirs(root);
    /* The runtime and exactly the shared objects the dynamic linker names. */
    snprintf(path, sizeof path, "%s/usr/local/bin", root);
    if (st == TX_OK) st = mkdirs(path);
    snprintf(path, sizeof path, "%s/usr/local/bin/tactus-runtime", root);
    if (st == TX_OK) st = copy_file(runtime_exe, path, 0755);
    tx_buf out;
    tx_buf_init(&out, 1 << 16);
    char *ldd[] = {"ldd", (char *)runtime_exe, NULL};
    if (st == TX_OK && run_capture(ldd, NULL, &out, NULL, 10000) != 0) st = TX_EIO;
    for (char *line = out.data; st == TX_OK && line && *line;) {
        char *next = strchr(line, '\n');
        if (next) *next++ = '\0';
        char *lib = strstr(line, "=> ");
        lib = lib ? lib + 3 : line;
        while (*lib == ' ' || *lib == '\t') lib++;
        if (*lib == '/') {
            char *sp = strchr(lib, ' ');
            if (sp) *sp = '\0';
            st = copy_into_root(root, lib);
        }
        line = next;
    }
    tx_buf_free(&out);
    if (st == TX_OK && probe_exe) {
        /* The doctor's probe: mounted at run time, not part of the image. */
        (void)probe_exe;
    }
    /* /workspace and /tmp are mount points; /etc/passwd names the unprivileged user. */
    snprintf(path, sizeof path, "%s/workspace", root);
    if (st == TX_OK) st = mkdirs(path);
    snprintf(path, sizeof path, "%s/tmp", root);
    if (st == TX_OK) st = mkdirs(path);
    /* Docker gives the tmpfs at /tmp the mode of the image's /tmp. */
    if (st == TX_OK && chmod(path, 01777) != 0) st = TX_EIO;
    snprintf(path, sizeof path, "%s/Dockerfile", ctx);
    FILE *df = st == TX_OK ? fopen(path, "w") : NULL;
    if (df) {
        fprintf(df,
                "# Generated by tactus sandbox rebuild: the runtime and its shared objects, "
                "nothing else.\nFROM scratch\nCOPY root/ /\n"
                "LABEL tactus.version=\"%s\" tactus.runtime_sha256=\"%s\"\n"
                "USER 65534:65534\nWORKDIR /workspace\n"
                "ENTRYPOINT [\"/usr/local/bin/tactus-runtime\"]\n",
                TACTUS_VERSION, hex);
        fclose(df);
    } else if (st == TX_OK) {
        st = TX_EIO;
    }
    if (st == TX_OK) {
        tx_buf berr;
        tx_buf_init(&berr, 1 << 16);
        char *build[] = {"docker", "build", "-q", "-t", (char *)image, ctx, NULL};
        if (log) fprintf(log, "building %s from %s\n", image, runtime_exe);
        int rc = run_capture(build, NULL, NULL, &berr, 600000);
        if (rc != 0) {
            snprintf(err, errlen, "docker build failed (%d): %.300s", rc, berr.data ? berr.data : "");
            st = TX_EIO;
        }
        tx_buf_free(&berr);
    } else {
        snprintf(err, errlen, "cannot prepare the image contents in %s", ctx);
    }
    remove_tree(ctx);
    return st;
}

/* ---- configuration checks ------------------------------------------------------------------------ */

static bool valid_size(const char *s)
{
    char *end;
    double v = strtod(s, &end);
    if (end == s || v <= 0) return false;
    if (*end && strchr("bkmgBKMG", *end)) end++;
    return *end == '\0';
}

/* A volume "host:container[:ro|rw]"; relative host paths are from the
 * procedure's folder. Named volumes are refused: they outlive the run. */
static tx_status volume_arg(const char *spec, const char *proc_dir, char *out, size_t cap,
                            char *err, size_t errlen)
{
    char host[PATH_MAX], container[PATH_MAX], mode[8] = "rw";
    const char *c1 = strchr(spec, ':');
    if (!c1) {
        snprintf(err, errlen, "sandbox.volumes: '%s' must be HOST:CONTAINER[:ro|rw]", spec);
        return TX_EINVAL;
    }
    snprintf(host, sizeof host, "%.*s", (int)(c1 - spec), spec);
    const char *c2 = strchr(c1 + 1, ':');
    if (c2) {
        snprintf(container, sizeof container, "%.*s", (int)(c2 - c1 - 1), c1 + 1);
        snprintf(mode, sizeof mode, "%s", c2 + 1);
    } else {
        snprintf(container, sizeof container, "%s", c1 + 1);
    }
    if (strcmp(mode, "ro") && strcmp(mode, "rw")) {
        snprintf(err, errlen, "sandbox.volumes: '%s': the mode must be ro or rw", spec);
        return TX_EINVAL;
    }
    if (container[0] != '/' || strstr(container, "..")) {
        snprintf(err, errlen, "sandbox.volumes: '%s': the container path must be absolute", spec);
        return TX_EINVAL;
    }
    char resolved[PATH_MAX * 2];
    if (host[0] == '/') {
        snprintf(resolved, sizeof resolved, "%s", host);
    } else if (host[0] == '.' || host[0] == '~') {
        if (host[0] == '~') {
            const char *home = getenv("HOME");
            snprintf(resolved, sizeof resolved, "%s%s", home ? home : "", host + 1);
        } else {
            snprintf(resolved, sizeof resolved, "%s/%s", proc_dir, host);
        }
    } else {
        snprintf(err, errlen,
                 "sandbox.volumes: '%s': named volumes are not allowed (they outlive the run); use "
                 "a path",
                 spec);
        return TX_EINVAL;
    }
    char real[PATH_MAX];
    if (!realpath(resolved, real)) {
        snprintf(err, errlen, "sandbox.volumes: '%s': %s: %s", spec, resolved, strerror(errno));
        return TX_EINVAL;
    }
    snprintf(out, cap, "%s:%s:%s", real, container, mode);
    return TX_OK;
}

tx_status th_remote_config(const cJSON *config, bool docker, th_remote *r, bool *remote, char *err,
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
    else
        cf_default_broker_control(r->control, sizeof r->control);
    char runtime[sizeof r->connect_exe];
    if (th_find_runtime(runtime, sizeof runtime) == TX_OK) {
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

tx_status th_launch_plain_remote(const th_remote *r, const char *runtime_exe, const char *workspace,
                                 th_launch *l)
{
    tx_status st = th_launch_plain(r->connect_exe, workspace, l);
    if (st != TX_OK) return st;
    /* argv is [tactus-connect]; the endpoint, the checks, then the runtime */
    if ((st = argv_push(l, r->endpoint)) != TX_OK) return st;
    if (r->ca[0] && ((st = argv_push(l, "--ca")) != TX_OK || (st = argv_push(l, r->ca)) != TX_OK))
        return st;
    if (r->server_name[0] && ((st = argv_push(l, "--server-name")) != TX_OK ||
                              (st = argv_push(l, r->server_name)) != TX_OK))
        return st;
    return argv_push(l, runtime_exe);
}

/* ---- the seccomp profile ------------------------------------------------------------------------- */

/* Our own allow-list, in place of Docker's default profile (which it
 * replaces): the system calls tactus-runtime and tactus-probe were seen to
 * make (strace -f over every example, `tactus test`, the probe's modes),
 * the ones glibc and runc's last steps before execve need, and nothing
 * else. Everything not listed fails with EPERM: socket, ptrace, mount,
 * bpf, keyctl, unshare, setns, io_uring_*, perf_event_open, userfaultfd,
 * kexec_*, personality, chroot, pivot_root... clone is allowed only
 * without namespace flags; clone3 fails with ENOSYS so glibc falls back to
 * clone, whose flags the filter can see. With a remote broker, tactus-connect
 * also needs sockets: only then are AF_UNIX, AF_INET and AF_INET6 sockets and
 * their calls allowed (docs/sandbox.md "Seccomp"). */
static const char *const seccomp_base[] = {
    "read", "write", "readv", "writev", "pread64", "pwrite64", "open", "openat", "openat2",
    "close", "close_range", "fstat", "newfstatat", "statx", "stat", "lstat", "lseek", "access",
    "faccessat", "faccessat2", "readlink", "readlinkat", "getdents64", "fcntl", "ioctl", "dup",
    "dup2", "dup3", "mmap", "munmap", "mprotect", "mremap", "madvise", "brk", "rt_sigaction",
    "rt_sigprocmask", "rt_sigreturn", "sigaltstack", "setitimer", "getitimer", "alarm",
    "clock_gettime", "clock_getres", "clock_nanosleep", "nanosleep", "gettimeofday", "time",
    "getrandom", "futex", "set_robust_list", "get_robust_list", "set_tid_address", "rseq",
    "arch_prctl", "prlimit64", "getrlimit", "exit", "exit_group", "getpid", "getppid", "gettid",
    "getuid", "geteuid", "getgid", "getegid", "getgroups", "getresuid", "getresgid", "uname",
    "sysinfo", "sched_getaffinity", "sched_yield", "execve", "poll", "ppoll", "select",
    "pselect6", "pipe2", "unlink", "unlinkat", "rename", "renameat", "renameat2", "link",
    "linkat", "kill", "tgkill", "tkill", "wait4", "waitid", "capget", "getcwd", "umask",
    "fsync", "fdatasync", "ftruncate", "epoll_create1", "epoll_ctl", "epoll_pwait",
    "epoll_wait", "fstatfs", "statfs", "fchdir", "chdir", "prctl", NULL};
static const char *const seccomp_net[] = {"connect", "setsockopt", "getsockopt", "getsockname",
                                          "getpeername", "sendto", "recvfrom", "sendmsg",
                                          "recvmsg", "shutdown", NULL};

#define TH_CLONE_NS_FLAGS 0x7E020000u /* CLONE_NEWNS|NEWCGROUP|NEWUTS|NEWIPC|NEWUSER|NEWPID|NEWNET */

static void seccomp_names(cJSON *rule, const char *const *names)
{
    cJSON *a = cJSON_AddArrayToObject(rule, "names");
    for (size_t i = 0; a && names[i]; i++)
        cJSON_AddItemToArray(a, cJSON_CreateString(names[i]));
}

static cJSON *seccomp_rule(cJSON *syscalls, const char *action)
{
    cJSON *r = cJSON_CreateObject();
    cJSON_AddItemToArray(syscalls, r);
    cJSON_AddStringToObject(r, "action", action);
    return r;
}

static void seccomp_arg(cJSON *rule, int index, double value, double value2, const char *op)
{
    cJSON *args = cJSON_GetObjectItemCaseSensitive(rule, "args");
    if (!args) args = cJSON_AddArrayToObject(rule, "args");
    cJSON *a = cJSON_CreateObject();
    cJSON_AddItemToArray(args, a);
    cJSON_AddNumberToObject(a, "index", index);
    cJSON_AddNumberToObject(a, "value", value);
    cJSON_AddNumberToObject(a, "valueTwo", value2);
    cJSON_AddStringToObject(a, "op", op);
}

/* The profile as JSON text (caller frees with cJSON_free), or NULL. */
char *th_seccomp_profile(bool network)
{
    cJSON *p = cJSON_CreateObject();
    if (!p) return NULL;
    cJSON_AddStringToObject(p, "defaultAction", "SCMP_ACT_ERRNO");
    cJSON_AddNumberToObject(p, "defaultErrnoRet", EPERM);
    cJSON *arch = cJSON_AddArrayToObject(p, "architectures");
    cJSON_AddItemToArray(arch, cJSON_CreateString("SCMP_ARCH_X86_64"));
    cJSON *sc = cJSON_AddArrayToObject(p, "syscalls");
    seccomp_names(seccomp_rule(sc, "SCMP_ACT_ALLOW"), seccomp_base);
    /* clone: threads and fork only, never a new namespace */
    cJSON *clone = seccomp_rule(sc, "SCMP_ACT_ALLOW");
    const char *const clone_name[] = {"clone", NULL};
    seccomp_names(clone, clone_name);
    seccomp_arg(clone, 0, TH_CLONE_NS_FLAGS, 0, "SCMP_CMP_MASKED_EQ");
    cJSON *clone3 = seccomp_rule(sc, "SCMP_ACT_ERRNO");
    const char *const clone3_name[] = {"clone3", NULL};
    seccomp_names(clone3, clone3_name);
    cJSON_AddNumberToObject(clone3, "errnoRet", ENOSYS);
    if (network) {
        seccomp_names(seccomp_rule(sc, "SCMP_ACT_ALLOW"), seccomp_net);
        const int families[] = {1 /* AF_UNIX */, 2 /* AF_INET */, 10 /* AF_INET6 */};
        for (size_t i = 0; i < sizeof families / sizeof *families; i++) {
            cJSON *sock = seccomp_rule(sc, "SCMP_ACT_ALLOW");
            const char *const socket_name[] = {"socket", NULL};
            seccomp_names(sock, socket_name);
            seccomp_arg(sock, 0, families[i], 0, "SCMP_CMP_EQ");
        }
    }
    char *text = cJSON_Print(p);
    cJSON_Delete(p);
    return text;
}

/* Writes the profile into a private folder ($TMPDIR/tactus-seccomp-UID,
 * 0700, ours, not a link: checked, else fail closed), named by its hash so
 * concurrent runs share one file, written to a temporary name and renamed. */
static tx_status seccomp_file(bool network, char *out, size_t cap, char *err, size_t errlen)
{
    char *text = th_seccomp_profile(network);
    if (!text) return TX_ENOMEM;
    const char *tmp = getenv("TMPDIR");
    if (!tmp || tmp[0] != '/') tmp = "/tmp";
    char dir[PATH_MAX - 64];
    snprintf(dir, sizeof dir, "%s/tactus-seccomp-%u", tmp, (unsigned)getuid());
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        snprintf(err, errlen, "%s: cannot create the seccomp profile folder: %s", dir, strerror(errno));
        cJSON_free(text);
        return TX_EIO;
    }
    struct stat sb;
    if (lstat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode) || sb.st_uid != getuid() ||
        (sb.st_mode & 077)) {
        snprintf(err, errlen,
                 "%s: the seccomp profile folder is not a private folder of this user (mode 0700); "
                 "remove it and run again",
                 dir);
        cJSON_free(text);
        return TX_EINVAL;
    }
    char hex[65];
    hl_sha256_hex(text, strlen(text), hex);
    snprintf(out, cap, "%s/profile-%.16s.json", dir, hex);
    tx_status st = TX_OK;
    if (lstat(out, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        char part[PATH_MAX + 32];
        snprintf(part, sizeof part, "%s.%d", out, (int)getpid());
        int fd = open(part, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
        size_t n = strlen(text);
        if (fd < 0 || write(fd, text, n) != (ssize_t)n || close(fd) != 0 || rename(part, out) != 0) {
            snprintf(err, errlen, "%s: cannot write the seccomp profile: %s", out, strerror(errno));
            unlink(part);
            st = TX_EIO;
        }
    }
    cJSON_free(text);
    return st;
}

/* ---- files the host reads, closed to the container ------------------------------------------------ */

#define TH_PROTECT_MAX   512 /* mounts; more fails closed */
#define TH_PROTECT_DEPTH 8

double th_workspace_quota(const cJSON *config)
{
    const cJSON *q = cJSON_GetObjectItemCaseSensitive(cf_get(config, "sandbox"),
                                                      "workspace_quota");
    if (cJSON_IsNumber(q) && q->valuedouble > 0) return q->valuedouble;
    if (!cJSON_IsString(q) || !valid_size(q->valuestring)) return 0; /* the runtime's default */
    char *end;
    double v = strtod(q->valuestring, &end);
    switch (*end) {
    case 'k': case 'K': v *= 1024.0; break;
    case 'm': case 'M': v *= 1024.0 * 1024.0; break;
    case 'g': case 'G': v *= 1024.0 * 1024.0 * 1024.0; break;
    default: break;
    }
    return v;
}

static bool name_ends(const char *s, const char *suf)
{
    size_t n = strlen(s), k = strlen(suf);
    return n >= k && strcmp(s + n - k, suf) == 0;
}

/* Is NAME in folder DIR one the host reads? 1: read-only, 2: masked (.env*). */
static int protected_kind(const char *dir, const char *name, bool is_dir)
{
    if (strncmp(name, ".env", 4) == 0) return 2;
    if (is_dir) return strcmp(name, ".tactus") == 0 ? 1 : 0;
    if (name_ends(name, ".tac") || name_ends(name, ".tac.yml")) return 1;
    if (name_ends(name, ".yml")) {
        char tac[PATH_MAX];
        struct stat sb;
        snprintf(tac, sizeof tac, "%s/%.*s.tac", dir, (int)(strlen(name) - 4), name);
        if (stat(tac, &sb) == 0) return 1;
    }
    return 0;
}

/* Adds a read-only bind (or a /dev/null / empty tmpfs mask) over every
 * protected file under `dir` (the folder mounted at `target`), the same rule
 * by name as the runtime's File layer (vm_file_protected): .tactus folders,
 * *.tac, *.tac.yml, FILE.yml beside FILE.tac, .env*. Symbolic links are left
 * alone (never followed; the runtime refuses them). Fails closed on a name the
 * --mount syntax cannot carry or on more than TH_PROTECT_MAX files. */
static tx_status protect_tree(th_launch *l, const char *dir, const char *target, int depth,
                              int *count, char *err, size_t errlen)
{
    DIR *d = opendir(dir);
    if (!d) return TX_OK; /* nothing readable to protect */
    tx_status st = TX_OK;
    struct dirent *de;
    while (st == TX_OK && (de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0) continue;
        char host[PATH_MAX], inside[PATH_MAX];
        snprintf(host, sizeof host, "%s/%s", dir, de->d_name);
        snprintf(inside, sizeof inside, "%s/%s", target, de->d_name);
        struct stat sb;
        if (lstat(host, &sb) != 0 || S_ISLNK(sb.st_mode)) continue;
        bool is_dir = S_ISDIR(sb.st_mode);
        int kind = protected_kind(dir, de->d_name, is_dir);
        if (kind == 0) {
            if (is_dir && depth < TH_PROTECT_DEPTH)
                st = protect_tree(l, host, inside, depth + 1, count, err, errlen);
            continue;
        }
        if (strpbrk(host, ",\"\n")) {
            snprintf(err, errlen,
                     "%s: a protected file's name contains ',', '\"' or a newline, which a "
                     "read-only mount cannot name; rename it",
                     host);
            st = TX_EINVAL;
            break;
        }
        if (++*count > TH_PROTECT_MAX) {
            snprintf(err, errlen,
                     "%s: more than %d protected files (.tac, sidecars, .tactus, .env*) under the "
                     "procedure's folder to mount read-only; run from a smaller folder",
                     dir, TH_PROTECT_MAX);
            st = TX_EINVAL;
            break;
        }
        char arg[PATH_MAX * 2 + 64];
        if (kind == 2 && is_dir)
            snprintf(arg, sizeof arg, "--mount=type=tmpfs,target=%s,tmpfs-size=4096,tmpfs-mode=0500",
                     inside);
        else if (kind == 2)
            snprintf(arg, sizeof arg, "--mount=type=bind,source=/dev/null,target=%s,readonly",
                     inside);
        else
            snprintf(arg, sizeof arg, "--mount=type=bind,source=%s,target=%s,readonly", host,
                     inside);
        st = argv_push(l, arg);
    }
    closedir(d);
    return st;
}

/* Whether dockerd has an OCI runtime of this name registered. */
static bool docker_has_runtime(const char *name)
{
    char *argv[] = {"docker", "info", "--format", "{{json .Runtimes}}", NULL};
    tx_buf out, errb;
    tx_buf_init(&out, 1u << 16);
    tx_buf_init(&errb, 4096);
    int rc = hl_run_command(argv, "", &out, &errb, 20000);
    cJSON *rt = rc == 0 && out.data ? cJSON_Parse(out.data) : NULL;
    bool has = cJSON_HasObjectItem(rt, name);
    cJSON_Delete(rt);
    tx_buf_free(&out);
    tx_buf_free(&errb);
    return has;
}

static tx_status launch_docker(const cJSON *config, const char *image, const char *proc_dir,
                               const char *run_id, const char *probe_exe,
                               const char *const *probe_args, const th_remote *remote,
                               th_launch *l, FILE *warn, char *err, size_t errlen)
{
    memset(l, 0, sizeof *l);
    const cJSON *sb = cf_get(config, "sandbox");
    const char *network = hl_json_str(sb, "network");
    if (!network) network = "none";
    th_remote checked;
    bool is_remote = false;
    if (!remote && th_remote_config(config, true, &checked, &is_remote, err, errlen) != TX_OK)
        return TX_EINVAL;
    if (is_remote) {
        snprintf(err, errlen, "sandbox.broker_transport is tcp/tls: this run must be registered "
                              "with the broker (internal error: no remote plan)");
        return TX_EINVAL;
    }
    const char *memory = "2g", *cpus = "2";
    const cJSON *lim = cJSON_GetObjectItemCaseSensitive(sb, "limits");
    const char *m = hl_json_str(lim, "memory");
    if (m) memory = m;
    char cpus_buf[32];
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(lim, "cpus");
    if (cJSON_IsString(c)) cpus = c->valuestring;
    if (cJSON_IsNumber(c)) {
        snprintf(cpus_buf, sizeof cpus_buf, "%g", c->valuedouble);
        cpus = cpus_buf;
    }
    if (!valid_size(memory)) {
        snprintf(err, errlen, "sandbox.limits.memory: '%s' is not a size like 512m or 2g", memory);
        return TX_EINVAL;
    }
    char *end;
    double cv = strtod(cpus, &end);
    if (*end || cv <= 0) {
        snprintf(err, errlen, "sandbox.limits.cpus: '%s' is not a positive number", cpus);
        return TX_EINVAL;
    }
    /* sandbox.runtime: the OCI runtime dockerd starts the container with.
     * runsc (gVisor) puts a second kernel between the procedure and the
     * host's; it must be registered with dockerd (docs/sandbox.md). */
    const char *oci_runtime = hl_json_str(sb, "runtime");
    if (oci_runtime && strcmp(oci_runtime, "runc") != 0 && strcmp(oci_runtime, "runsc") != 0) {
        snprintf(err, errlen, "sandbox.runtime: '%.60s' is not runc or runsc", oci_runtime);
        return TX_EINVAL;
    }
    if (oci_runtime && strcmp(oci_runtime, "runsc") == 0 && !docker_has_runtime("runsc")) {
        snprintf(err, errlen,
                 "sandbox.runtime is runsc, but dockerd has no runtime named runsc: install gVisor "
                 "(apt-get install runsc) and register it in /etc/docker/daemon.json "
                 "(\"runtimes\": {\"runsc\": {\"path\": \"/usr/bin/runsc\", \"runtimeArgs\": "
                 "[\"--network=none\", \"--oci-seccomp\"]}}), then reload dockerd; nothing was "
                 "run (see docs/sandbox.md)");
        return TX_EINVAL;
    }
    char pids[32] = "128";
    const cJSON *p = cJSON_GetObjectItemCaseSensitive(lim, "pids");
    if (cJSON_IsNumber(p) && p->valueint > 0) snprintf(pids, sizeof pids, "%d", p->valueint);
    snprintf(l->memory, sizeof l->memory, "%s", memory);

    tx_status st = docker_env(l);
    snprintf(l->container, sizeof l->container, "tactus-%s", run_id);
    snprintf(l->workspace, sizeof l->workspace, "/workspace");
#define PUSH(s)                                                                                    \
    do {                                                                                           \
        if (st == TX_OK) st = argv_push(l, (s));                                                   \
    } while (0)
#define PUSHF(f, a, b)                                                                             \
    do {                                                                                           \
        if (st == TX_OK) st = argv_pushf(l, (f), (a), (b));                                        \
    } while (0)
    PUSH("docker");
    PUSH("run");
    PUSH("--rm");
    PUSH("-i");
    PUSHF("--name=%s%s", l->container, NULL);
    PUSHF("--network=%s%s", network, NULL);
    if (oci_runtime) PUSHF("--runtime=%s%s", oci_runtime, NULL);
    PUSH("--read-only");
    PUSH("--tmpfs=/tmp:rw,noexec,nosuid,nodev,size=64m,mode=1777");
    PUSH("--cap-drop=ALL");
    PUSH("--security-opt=no-new-privileges");
    char profile[PATH_MAX];
    if (st == TX_OK) st = seccomp_file(remote != NULL, profile, sizeof profile, err, errlen);
    PUSHF("--security-opt=seccomp=%s%s", profile, NULL);
    PUSHF("--pids-limit=%s%s", pids, NULL);
    PUSHF("--memory=%s%s", memory, NULL);
    PUSHF("--memory-swap=%s%s", memory, NULL); /* no swap beyond the limit */
    PUSHF("--cpus=%s%s", cpus, NULL);
    /* Never root inside. The owner of the procedure's folder, so that files
     * the procedure writes belong to whoever owns the project; nobody
     * (65534) when that owner is root. */
    char user[64] = "65534:65534";
    struct stat dsb;
    if (stat(proc_dir, &dsb) == 0 && dsb.st_uid != 0)
        snprintf(user, sizeof user, "%u:%u", (unsigned)dsb.st_uid,
                 (unsigned)(dsb.st_gid ? dsb.st_gid : dsb.st_uid));
    PUSHF("--user=%s%s", user, NULL);
    PUSH("--log-driver=none");
    const cJSON *mount = cJSON_GetObjectItemCaseSensitive(sb, "mount_current_dir");
    if (!cJSON_IsFalse(mount)) {
        PUSHF("--volume=%s:/workspace:rw%s", proc_dir, NULL);
        /* Layered over it: what the host reads is read-only, .env* invisible. */
        int count = 0;
        if (st == TX_OK) st = protect_tree(l, proc_dir, "/workspace", 0, &count, err, errlen);
    }
    const cJSON *vol;
    cJSON_ArrayForEach(vol, cJSON_GetObjectItemCaseSensitive(sb, "volumes"))
    {
        char arg[PATH_MAX * 2 + 16];
        if (!cJSON_IsString(vol)) {
            snprintf(err, errlen, "sandbox.volumes must be a list of strings");
            st = TX_EINVAL;
            break;
        }
        if (st == TX_OK) st = volume_arg(vol->valuestring, proc_dir, arg, sizeof arg, err, errlen);
        PUSHF("--volume=%s%s", arg, NULL);
    }
    const cJSON *env;
    cJSON_ArrayForEach(env, cJSON_GetObjectItemCaseSensitive(sb, "env"))
    {
        if (tx_env_name_is_secret(env->string)) {
            if (warn)
                fprintf(warn, "[SANDBOX] Refusing to pass secret env var into container: %s\n",
                        env->string);
            continue;
        }
        if (!cJSON_IsString(env) && !cJSON_IsNumber(env) && !cJSON_IsBool(env)) continue;
        char *val = cJSON_IsString(env) ? tx_strdup(env->valuestring) : cJSON_PrintUnformatted(env);
        PUSHF("--env=%s=%s", env->string, val);
        if (cJSON_IsString(env))
            tx_free(val);
        else
            cJSON_free(val);
    }
    if (probe_exe) {
        PUSHF("--volume=%s:/probe:ro%s", probe_exe, NULL);
        PUSH("--entrypoint=/probe");
    }
    if (remote) {
        /* The connector is static, so it runs in the FROM-scratch image;
         * host.docker.internal names the host from inside the container. */
        PUSHF("--volume=%s:/connect:ro%s", remote->connect_exe, NULL);
        if (remote->ca[0]) PUSHF("--volume=%s:/connect-ca.pem:ro%s", remote->ca, NULL);
        PUSH("--add-host=host.docker.internal:host-gateway");
        PUSH("--entrypoint=/connect");
    }
    PUSH(image);
    for (size_t i = 0; probe_args && probe_args[i]; i++) PUSH(probe_args[i]);
    if (remote) {
        PUSH(remote->endpoint);
        if (remote->ca[0]) {
            PUSH("--ca");
            PUSH("/connect-ca.pem");
        }
        if (remote->server_name[0]) {
            PUSH("--server-name");
            PUSH(remote->server_name);
        }
        PUSH("/usr/local/bin/tactus-runtime");
    }
#undef PUSH
#undef PUSHF
    if (st != TX_OK) {
        if (st == TX_ENOMEM) snprintf(err, errlen, "out of memory");
        th_launch_free(l);
    }
    return st;
}

tx_status th_launch_docker(const cJSON *config, const char *image, const char *proc_dir,
                           const char *run_id, th_launch *l, FILE *warn, char *err, size_t errlen)
{
    return launch_docker(config, image, proc_dir, run_id, NULL, NULL, NULL, l, warn, err, errlen);
}

tx_status th_launch_docker_remote(const cJSON *config, const char *image, const char *proc_dir,
                                  const char *run_id, const th_remote *r, th_launch *l, FILE *warn,
                                  char *err, size_t errlen)
{
    return launch_docker(config, image, proc_dir, run_id, NULL, NULL, r, l, warn, err, errlen);
}

tx_status th_launch_docker_probe(const cJSON *config, const char *image, const char *proc_dir,
                                 const char *run_id, const char *probe_exe,
                                 const char *const *args, th_launch *l, FILE *warn, char *err,
                                 size_t errlen)
{
    return launch_docker(config, image, proc_dir, run_id, probe_exe, args, NULL, l, warn, err, errlen);
}

int th_launch_capture(const th_launch *l, tx_buf *out, tx_buf *err, int timeout_ms)
{
    int rc = hl_run_capture(l->argv, l->envp, NULL, out, err, timeout_ms);
    if (rc == -1) th_launch_stop(l);
    return rc;
}

void th_launch_stop(const th_launch *l)
{
    if (!l->container[0]) return;
    char *argv[] = {"docker", "kill", (char *)l->container, NULL};
    run_capture(argv, NULL, NULL, NULL, 10000);
}
