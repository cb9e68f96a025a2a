/*
 * sb_docker.c - the Docker backend: the `docker run` of a run (network
 * none, read-only root, no capabilities, our seccomp profile, a non-root
 * user, limits, the procedure's folder with its protected files read-only,
 * volumes and env checked), and whether a daemon answers.
 *
 * The docker CLI is used rather than the Engine API to start runs: a
 * container started by `docker run` behaves exactly as the user's own
 * `docker run` does, which makes the sandbox auditable. The two questions
 * asked before every run (is the daemon there, is the image current) go to
 * the daemon's socket directly: each CLI call costs 10-25 ms.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "sb_internal.h"

/* The docker CLI gets only what it needs to find the daemon: never the
 * host's keys (a container sees nothing of the CLI's environment unless
 * passed with --env, but the CLI itself need not hold them either). */
tx_status sb_docker_env(sb_launch *l)
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

/* Runs a docker command with the docker CLI's environment (docker_env). */
int sb_docker_run(char *const argv[], const char *stdin_text, tx_buf *out, tx_buf *err,
                       int timeout_ms)
{
    sb_launch env = {0};
    if (sb_docker_env(&env) != TX_OK) {
        sb_launch_free(&env);
        return -2;
    }
    int rc = hl_run_capture(argv, env.envp, stdin_text, out, err, timeout_ms);
    sb_launch_free(&env);
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

/* Each `docker` CLI call costs 10-25 ms of client start-up; asking the
 * daemon over its unix socket costs about 1 ms. Used for the two questions
 * asked before every run (is the daemon there, is the image current); runs
 * themselves still go through `docker run`, so they stay auditable.
 * Returns the HTTP status, 0 when the socket cannot be used (no unix
 * DOCKER_HOST, or no such socket: *err_no tells which), -1 on other errors. */
int sb_docker_api_get(const char *path, tx_buf *body, int *err_no)
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

static bool docker_available_cli(char *reason, size_t cap);

bool sb_docker_available(char *reason, size_t cap)
{
    int e;
    int st = sb_docker_api_get("/_ping", NULL, &e);
    if (st == 200) return true;
    if (st == 0 && e) {
        snprintf(reason, cap, e == EACCES ? "Permission denied accessing Docker (try: sudo usermod -aG docker $USER)"
                                          : "Docker daemon not running");
        return false;
    }
    return docker_available_cli(reason, cap);
}

static bool docker_available_cli(char *reason, size_t cap)
{
    if (!docker_on_path()) {
        snprintf(reason, cap, "Docker CLI not found in PATH");
        return false;
    }
    tx_buf out, err;
    tx_buf_init(&out, 4096);
    tx_buf_init(&err, 4096);
    char *argv[] = {"docker", "info", "--format", "{{.ServerVersion}}", NULL};
    int rc = sb_docker_run(argv, NULL, &out, &err, 10000);
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

bool sb_valid_size(const char *s)
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

/* Whether dockerd has an OCI runtime of this name registered. */
/* Whether dockerd has the OCI runtime `name` registered: 1 yes, 0 no, -1
 * dockerd did not answer (`why` says what docker printed). A yes is kept
 * for the process: `tactus test` plans a container for every scenario,
 * and registrations do not vanish mid-suite (a container that cannot
 * start fails on its own). */
static int docker_has_runtime(const char *name, char *why, size_t whycap)
{
    static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
    static char known[16];
    pthread_mutex_lock(&lock);
    bool cached = strcmp(known, name) == 0;
    pthread_mutex_unlock(&lock);
    if (cached) return 1;
    char *argv[] = {"docker", "info", "--format", "{{json .Runtimes}}", NULL};
    tx_buf out, errb;
    tx_buf_init(&out, 1u << 16);
    tx_buf_init(&errb, 4096);
    int rc = hl_run_command(argv, "", &out, &errb, 20000);
    cJSON *rt = rc == 0 && out.data ? cJSON_Parse(out.data) : NULL;
    int has = rt ? cJSON_HasObjectItem(rt, name) : -1;
    if (has < 0) {
        size_t n = errb.data ? strcspn(errb.data, "\n") : 0;
        snprintf(why, whycap, "%.*s", (int)(n > 300 ? 300 : n), n ? errb.data : "no answer");
    }
    cJSON_Delete(rt);
    tx_buf_free(&out);
    tx_buf_free(&errb);
    if (has == 1) {
        pthread_mutex_lock(&lock);
        snprintf(known, sizeof known, "%s", name);
        pthread_mutex_unlock(&lock);
    }
    return has;
}

static tx_status launch_docker(const cJSON *config, const char *image, const char *proc_dir,
                               const char *run_id, const char *probe_exe,
                               const char *const *probe_args, const sb_remote *remote,
                               const char *pool_exe, sb_launch *l, FILE *warn, char *err,
                               size_t errlen)
{
    memset(l, 0, sizeof *l);
    bool pooled = pool_exe != NULL;
    const cJSON *sb = cf_get(config, "sandbox");
    const char *network = hl_json_str(sb, "network");
    if (!network) network = "none";
    sb_remote checked;
    bool is_remote = false;
    if (!remote && sb_remote_config(config, true, &checked, &is_remote, err, errlen) != TX_OK)
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
    if (!sb_valid_size(memory)) {
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
    int has_runsc = 1;
    char why[320] = "";
    if (oci_runtime && strcmp(oci_runtime, "runsc") == 0) has_runsc = docker_has_runtime("runsc", why, sizeof why);
    if (has_runsc < 0) {
        snprintf(err, errlen,
                 "sandbox.runtime is runsc, but `docker info` did not answer (%s): is dockerd "
                 "running (scripts/start-dockerd.sh)? nothing was run",
                 why);
        return TX_EIO;
    }
    if (!has_runsc) {
        snprintf(err, errlen,
                 "sandbox.runtime is runsc, but dockerd has no runtime named runsc: install gVisor "
                 "(apt-get install runsc) and register it in /etc/docker/daemon.json "
                 "(\"runtimes\": {\"runsc\": {\"path\": \"/usr/bin/runsc\", \"runtimeArgs\": "
                 "[\"--network=none\", \"--oci-seccomp\"]}}), then reload dockerd; nothing was "
                 "run (see docs/sandbox.md)");
        return TX_EINVAL;
    }
    /* limits.pids: the processes of the sandbox. Under runc, the
     * container's pids cgroup. Under gVisor the host's cgroup counts the
     * threads of gVisor's kernel too and, on the ptrace platform, a stub
     * process per address space: ~85 for an idle sandbox, above 128 under
     * load, and gVisor's kernel panics when it cannot start one ("error
     * initializing first thread"). So there the limit holds inside, as
     * RLIMIT_NPROC, which gVisor's kernel enforces on its own processes
     * (a fork bomb is refused with EAGAIN), and the host's cgroup gets
     * room for gVisor's kernel on top: measured, a fork bomb of N
     * processes needed 4 to 5 host tasks each beyond the idle ~85.
     * RLIMIT_NPROC is never used under runc: there it counts every
     * process of the uid on the host. */
    bool gvisor = oci_runtime && strcmp(oci_runtime, "runsc") == 0;
    int pids_n = SB_PIDS_DEFAULT;
    const cJSON *p = cJSON_GetObjectItemCaseSensitive(lim, "pids");
    if (cJSON_IsNumber(p) && p->valueint > 0) pids_n = p->valueint;
    char pids[32], nproc[48] = "";
    snprintf(pids, sizeof pids, "%d", gvisor ? SB_PIDS_GVISOR_KERNEL + SB_PIDS_GVISOR_EACH * pids_n : pids_n);
    if (gvisor) snprintf(nproc, sizeof nproc, "nproc=%d:%d", pids_n, pids_n);
    snprintf(l->memory, sizeof l->memory, "%s", memory);

    tx_status st = sb_docker_env(l);
    char suffix[9] = "";
    if (st == TX_OK && !hl_random_hex(suffix, 4)) st = TX_EIO;
    snprintf(l->container, sizeof l->container, "tactus-%.100s-%s", run_id, suffix);
    snprintf(l->workspace, sizeof l->workspace, "/workspace");
#define PUSH(s)                                                                                    \
    do {                                                                                           \
        if (st == TX_OK) st = sb_argv_push(l, (s));                                                   \
    } while (0)
#define PUSHF(f, a, b)                                                                             \
    do {                                                                                           \
        if (st == TX_OK) st = sb_argv_pushf(l, (f), (a), (b));                                        \
    } while (0)
    PUSH("docker");
    PUSH("run");
    PUSH("--rm");
    PUSH("-i");
    PUSHF("--name=%s%s", l->container, NULL);
    PUSHF("--network=%s%s", network, NULL);
    if (oci_runtime) PUSHF("--runtime=%s%s", oci_runtime, NULL);
    PUSH("--read-only");
    /* nr_inodes: empty files cost no bytes, only inodes (kernel memory). */
    PUSH("--tmpfs=/tmp:rw,noexec,nosuid,nodev,size=64m,nr_inodes=16384,mode=1777");
    PUSH("--cap-drop=ALL");
    PUSH("--security-opt=no-new-privileges");
    char profile[PATH_MAX];
    if (st == TX_OK) st = sb_seccomp_file(remote != NULL, profile, sizeof profile, err, errlen);
    PUSHF("--security-opt=seccomp=%s%s", profile, NULL);
    PUSHF("--pids-limit=%s%s", pids, NULL);
    if (nproc[0]) PUSHF("--ulimit=%s%s", nproc, NULL);
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
        /* A pooled container serves many runs: none may leave files for
         * the next, so the folder is read-only and each run writes to the
         * scratch tmpfs below, wiped between runs (vm_serve.c). */
        PUSHF("--volume=%s:/workspace:%s", proc_dir, pooled ? "ro" : "rw");
        /* Layered over it: what the host reads is read-only, .env* invisible. */
        int count = 0;
        tx_buf ids;
        tx_buf_init(&ids, (size_t)SB_PROTECT_MAX * 48);
        if (st == TX_OK)
            st = sb_protect_tree(l, proc_dir, "/workspace", 0, &count, &ids, err, errlen);
        /* A bind mount holds the file it was made from: a protected file
         * replaced on the host (an editor's save renames a new file over
         * it) would stay the old one in a pooled or warm container. The
         * files' identities in a label make such a plan a different one. */
        char hex[65];
        hl_sha256_hex(ids.data ? ids.data : "", ids.len, hex);
        tx_buf_free(&ids);
        PUSHF("--label=tactus.protected=%s%s", hex, NULL);
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
    if (pooled) {
        /* tactus-pool serves the runs; doctor puts its probe there instead
         * (the same container, seen from inside). */
        if (!probe_exe) {
            PUSHF("--volume=%s:/pool:ro%s", pool_exe, NULL);
            PUSH("--entrypoint=/pool");
        }
        char scratch[160];
        double quota = sb_workspace_quota(config) > 0 ? sb_workspace_quota(config) : 268435456.0;
        /* As many files and folders as File.write can pay for (it counts
         * 4096 bytes for each it creates), and some room. */
        snprintf(scratch, sizeof scratch,
                 "--tmpfs=%s:rw,noexec,nosuid,nodev,size=%.0f,nr_inodes=%.0f,mode=1777", SB_SCRATCH,
                 quota, quota / 4096.0 + 1024.0);
        PUSH(scratch);
        snprintf(l->scratch, sizeof l->scratch, "%s", SB_SCRATCH);
    }
    PUSH(image);
    for (size_t i = 0; probe_args && probe_args[i]; i++) PUSH(probe_args[i]);
    if (pooled && !probe_exe) {
        /* tactus-pool RUNTIME DIR...: the folders it empties after each run. */
        PUSH("/usr/local/bin/tactus-runtime");
        PUSH(SB_SCRATCH);
        PUSH("/tmp");
    }
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
        sb_launch_free(l);
    }
    return st;
}

tx_status sb_launch_docker(const cJSON *config, const char *image, const char *proc_dir,
                           const char *run_id, sb_launch *l, FILE *warn, char *err, size_t errlen)
{
    return launch_docker(config, image, proc_dir, run_id, NULL, NULL, NULL, NULL, l, warn, err, errlen);
}

tx_status sb_launch_docker_remote(const cJSON *config, const char *image, const char *proc_dir,
                                  const char *run_id, const sb_remote *r, sb_launch *l, FILE *warn,
                                  char *err, size_t errlen)
{
    return launch_docker(config, image, proc_dir, run_id, NULL, NULL, r, NULL, l, warn, err, errlen);
}

tx_status sb_launch_docker_probe(const cJSON *config, const char *image, const char *proc_dir,
                                 const char *run_id, const char *probe_exe,
                                 const char *const *args, bool pooled, sb_launch *l, FILE *warn,
                                 char *err, size_t errlen)
{
    return launch_docker(config, image, proc_dir, run_id, probe_exe, args, NULL, pooled ? "" : NULL,
                         l, warn, err, errlen);
}

tx_status sb_launch_docker_pooled(const cJSON *config, const char *image, const char *proc_dir,
                                  const char *name, const char *pool_exe, sb_launch *l, FILE *warn,
                                  char *err, size_t errlen)
{
    return launch_docker(config, image, proc_dir, name, NULL, NULL, NULL, pool_exe, l, warn, err,
                         errlen);
}
