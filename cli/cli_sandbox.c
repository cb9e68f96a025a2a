/*
 * cli_sandbox.c - `tactus sandbox status | rebuild [--force] | doctor`.
 *
 * doctor runs tactus-probe in the exact container configuration a run of
 * the given procedure (or folder) would get, and shows the user, check by
 * check, that network, secrets, root filesystem, capabilities, user, pids
 * and memory are as configured on their machine.
 */
#include <getopt.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "cli.h"
#include "host.h"

static const char sandbox_usage[] =
    "usage: tactus sandbox status [--json]\n"
    "       tactus sandbox rebuild [--force]\n"
    "       tactus sandbox doctor [--json] [FILE|DIR]\n"
    "\n"
    "status   whether Docker answers (and why not), which sandbox image is present,\n"
    "         and whether it matches this tactus-runtime\n"
    "rebuild  build the image FROM scratch: tactus-runtime and the shared objects it\n"
    "         loads, nothing else (skipped when current, unless --force)\n"
    "doctor   run a probe inside the real container configuration of FILE (or of a\n"
    "         procedure in DIR; default: the current folder) and report each check\n"
    "\n"
    "exit status: 0 ok, 1 a check failed or the build failed, 2 usage error,\n"
    "4 Docker unavailable.\n";

enum { EXIT_NO_DOCKER = 4 };

static bool sibling_exe(const char *name, char *out, size_t cap)
{
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0) return false;
    self[n] = '\0';
    char *slash = strrchr(self, '/');
    if (!slash) return false;
    *slash = '\0';
    if ((size_t)snprintf(out, cap, "%s/%s", self, name) >= cap) return false;
    return access(out, X_OK) == 0;
}

static int cmd_status(bool json)
{
    char reason[256] = "", runtime[PATH_MAX], image[256], detail[512] = "";
    bool docker = th_docker_available(reason, sizeof reason);
    bool have_runtime = th_find_runtime(runtime, sizeof runtime) == TX_OK;
    cJSON *config = NULL;
    char err[512];
    if (cf_load(".", &config, err, sizeof err) != TX_OK) {
        /* an untrusted project file with a privileged key, as for tactus run */
        fprintf(stderr, "tactus sandbox status: configuration error: %s\n", err);
        return CLI_EXIT_USAGE;
    }
    th_sandbox_image_name(config, image, sizeof image);
    th_image_state st = TH_IMAGE_MISSING;
    if (docker && have_runtime) st = th_sandbox_image_state(image, runtime, detail, sizeof detail);
    static const char *names[] = {"missing", "stale", "current"};
    if (json) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddBoolToObject(o, "docker", docker);
        if (!docker) cJSON_AddStringToObject(o, "reason", reason);
        cJSON_AddStringToObject(o, "image", image);
        cJSON_AddStringToObject(o, "image_state", docker ? names[st] : "unknown");
        cJSON_AddStringToObject(o, "runtime", have_runtime ? runtime : "");
        char *text = cJSON_PrintUnformatted(o);
        printf("%s\n", text ? text : "{}");
        cJSON_free(text);
        cJSON_Delete(o);
    } else {
        printf("Docker: %s%s%s\n", docker ? "available" : "not available - ", docker ? "" : reason, "");
        printf("Runtime: %s\n", have_runtime ? runtime : "tactus-runtime not found");
        if (docker) printf("Image: %s\n", detail);
    }
    cJSON_Delete(config);
    return docker ? CLI_EXIT_OK : EXIT_NO_DOCKER;
}

static int cmd_rebuild(bool force)
{
    char reason[256], runtime[PATH_MAX], image[256], detail[512], err[1024];
    if (!th_docker_available(reason, sizeof reason)) {
        fprintf(stderr, "tactus sandbox rebuild: Docker not available: %s\n", reason);
        return EXIT_NO_DOCKER;
    }
    if (th_find_runtime(runtime, sizeof runtime) != TX_OK) {
        fprintf(stderr, "tactus sandbox rebuild: tactus-runtime not found beside tactus\n");
        return CLI_EXIT_FAILED;
    }
    cJSON *config = NULL;
    if (cf_load(".", &config, err, sizeof err) != TX_OK) {
        fprintf(stderr, "tactus sandbox rebuild: configuration error: %s\n", err);
        return CLI_EXIT_USAGE;
    }
    th_sandbox_image_name(config, image, sizeof image);
    cJSON_Delete(config);
    if (!force && th_sandbox_image_state(image, runtime, detail, sizeof detail) == TH_IMAGE_CURRENT) {
        printf("%s; nothing to do (use --force to rebuild anyway)\n", detail);
        return CLI_EXIT_OK;
    }
    if (th_sandbox_build_image(image, runtime, NULL, stdout, err, sizeof err) != TX_OK) {
        fprintf(stderr, "tactus sandbox rebuild: %s\n", err);
        return CLI_EXIT_FAILED;
    }
    th_sandbox_image_state(image, runtime, detail, sizeof detail);
    printf("built: %s\n", detail);
    return CLI_EXIT_OK;
}

/* The procedure folder and a path for the configuration cascade. */
static bool doctor_target(const char *arg, char *dir, char *cfg_path)
{
    /* Both outputs have PATH_MAX + 8 bytes. */
    char real[PATH_MAX];
    if (!realpath(arg ? arg : ".", real)) return false;
    struct stat sb;
    if (stat(real, &sb) != 0) return false;
    if (S_ISDIR(sb.st_mode)) {
        snprintf(dir, PATH_MAX + 8, "%s", real);
        snprintf(cfg_path, PATH_MAX + 8, "%s", real);
    } else {
        snprintf(cfg_path, PATH_MAX + 8, "%s", real);
        snprintf(dir, PATH_MAX + 8, "%s", real);
        char *slash = strrchr(dir, '/');
        if (slash && slash != dir) *slash = '\0';
    }
    return true;
}

/* ---- gVisor ------------------------------------------------------------------------ */

/* The kernel check: the probe reports the kernel it sees; only the host
 * knows whether that is its own. Under runsc it must not be (gVisor's
 * kernel answers instead); under runc it is, which is said, not failed. */
static void judge_kernel(cJSON *rep, bool runsc)
{
    cJSON *k = cJSON_GetObjectItemCaseSensitive(rep, "kernel");
    const char *seen = hl_json_str(k, "detail");
    struct utsname u;
    if (!k || !seen || uname(&u) != 0) return;
    char host[600], d[1400];
    snprintf(host, sizeof host, "%s %s", u.release, u.version);
    bool own = strcmp(seen, host) != 0;
    if (runsc)
        snprintf(d, sizeof d, "%s: %s (the host's is %s)",
                 own ? "gVisor (runsc), a kernel of its own" : "runsc was asked for, but this is the host's kernel",
                 seen, host);
    else
        snprintf(d, sizeof d, "the host's kernel, shared (runc): %s; sandbox.runtime: runsc puts gVisor's between them",
                 seen);
    cJSON_ReplaceItemInObjectCaseSensitive(k, "ok", cJSON_CreateBool(runsc ? own : true));
    cJSON_ReplaceItemInObjectCaseSensitive(k, "detail", cJSON_CreateString(d));
}

/* Under runsc the probe sees gVisor's view: no cgroup files, no
 * NoNewPrivs line. These limits are enforced by the host on the gVisor
 * sandbox itself, so they are read from what dockerd applied to the
 * container (docker inspect of the kept container). */
static void judge_runsc_limits(cJSON *rep, const char *container)
{
    char fmt[] = "{{json .HostConfig}}";
    char *argv[] = {"docker", "inspect", "--format", fmt, (char *)container, NULL};
    tx_buf out, errb;
    tx_buf_init(&out, 1u << 20);
    tx_buf_init(&errb, 4096);
    cJSON *hc = hl_run_command(argv, "", &out, &errb, 20000) == 0 && out.data ? cJSON_Parse(out.data) : NULL;
    const cJSON *pids = cJSON_GetObjectItemCaseSensitive(hc, "PidsLimit");
    const cJSON *mem = cJSON_GetObjectItemCaseSensitive(hc, "Memory");
    const cJSON *rt = cJSON_GetObjectItemCaseSensitive(hc, "Runtime");
    bool nnp = false;
    const cJSON *o;
    cJSON_ArrayForEach(o, cJSON_GetObjectItemCaseSensitive(hc, "SecurityOpt"))
        if (cJSON_IsString(o) && strcmp(o->valuestring, "no-new-privileges") == 0) nnp = true;
    bool is_runsc = cJSON_IsString(rt) && strcmp(rt->valuestring, "runsc") == 0;
    char d[300];
    cJSON *c;
    if ((c = cJSON_GetObjectItemCaseSensitive(rep, "pids"))) {
        bool ok = is_runsc && cJSON_IsNumber(pids) && pids->valuedouble > 0;
        snprintf(d, sizeof d, "pids limit %.0f on the gVisor sandbox (host side, docker inspect)",
                 cJSON_IsNumber(pids) ? pids->valuedouble : 0);
        cJSON_ReplaceItemInObjectCaseSensitive(c, "ok", cJSON_CreateBool(ok));
        cJSON_ReplaceItemInObjectCaseSensitive(c, "detail", cJSON_CreateString(d));
    }
    if ((c = cJSON_GetObjectItemCaseSensitive(rep, "memory"))) {
        bool ok = is_runsc && cJSON_IsNumber(mem) && mem->valuedouble > 0;
        snprintf(d, sizeof d, "memory limit %.0f bytes on the gVisor sandbox (host side, docker inspect)",
                 cJSON_IsNumber(mem) ? mem->valuedouble : 0);
        cJSON_ReplaceItemInObjectCaseSensitive(c, "ok", cJSON_CreateBool(ok));
        cJSON_ReplaceItemInObjectCaseSensitive(c, "detail", cJSON_CreateString(d));
    }
    if ((c = cJSON_GetObjectItemCaseSensitive(rep, "no_new_privileges"))) {
        snprintf(d, sizeof d, "no-new-privileges %s on the gVisor sandbox (host side, docker inspect)",
                 nnp ? "set" : "NOT set");
        cJSON_ReplaceItemInObjectCaseSensitive(c, "ok", cJSON_CreateBool(is_runsc && nnp));
        cJSON_ReplaceItemInObjectCaseSensitive(c, "detail", cJSON_CreateString(d));
    }
    cJSON_Delete(hc);
    tx_buf_free(&out);
    tx_buf_free(&errb);
}

/* Drops --rm from a launch plan: the container stays for docker inspect. */
static void keep_container(th_launch *l)
{
    for (size_t i = 0; i < l->argc; i++) {
        if (l->argv[i] && strcmp(l->argv[i], "--rm") == 0) {
            tx_free(l->argv[i]);
            memmove(&l->argv[i], &l->argv[i + 1], (l->argc - i) * sizeof *l->argv); /* with the NULL */
            l->argc--;
            return;
        }
    }
}

static void remove_container(const char *container)
{
    char *argv[] = {"docker", "rm", "-f", (char *)container, NULL};
    tx_buf out, errb;
    tx_buf_init(&out, 4096);
    tx_buf_init(&errb, 4096);
    hl_run_command(argv, "", &out, &errb, 20000);
    tx_buf_free(&out);
    tx_buf_free(&errb);
}

static int cmd_doctor(bool json, const char *target, const char *const *probe_args)
{
    char reason[256], runtime[PATH_MAX], probe[PATH_MAX], image[256], detail[512], err[1024];
    char dir[PATH_MAX + 8], cfg_path[PATH_MAX + 8];
    if (!th_docker_available(reason, sizeof reason)) {
        fprintf(stderr, "tactus sandbox doctor: Docker not available: %s\n", reason);
        return EXIT_NO_DOCKER;
    }
    if (th_find_runtime(runtime, sizeof runtime) != TX_OK || !sibling_exe("tactus-probe", probe, sizeof probe)) {
        fprintf(stderr, "tactus sandbox doctor: tactus-runtime or tactus-probe not found beside tactus\n");
        return CLI_EXIT_FAILED;
    }
    if (!doctor_target(target, dir, cfg_path)) {
        fprintf(stderr, "tactus sandbox doctor: cannot read %s\n", target ? target : ".");
        return CLI_EXIT_USAGE;
    }
    cJSON *config = NULL;
    if (cf_load(cfg_path, &config, err, sizeof err) != TX_OK) {
        fprintf(stderr, "tactus sandbox doctor: configuration error: %s\n", err);
        return CLI_EXIT_USAGE;
    }
    th_sandbox_image_name(config, image, sizeof image);
    if (th_sandbox_image_state(image, runtime, detail, sizeof detail) != TH_IMAGE_CURRENT &&
        th_sandbox_build_image(image, runtime, NULL, NULL, err, sizeof err) != TX_OK) {
        fprintf(stderr, "tactus sandbox doctor: cannot build %s: %s\n", image, err);
        cJSON_Delete(config);
        return CLI_EXIT_FAILED;
    }
    static const char *const report[] = {"report", NULL};
    char run_id[40];
    hl_new_run_id(run_id);
    th_launch l;
    if (th_launch_docker_probe(config, image, dir, run_id, probe, probe_args ? probe_args : report, &l,
                               stderr, err, sizeof err) != TX_OK) {
        fprintf(stderr, "tactus sandbox doctor: sandbox configuration error: %s\n", err);
        cJSON_Delete(config);
        return CLI_EXIT_USAGE;
    }
    const char *oci = hl_json_str(cf_get(config, "sandbox"), "runtime");
    bool runsc = oci && strcmp(oci, "runsc") == 0;
    if (runsc && !probe_args) keep_container(&l);
    const cJSON *timeout = cf_get(config, "sandbox.timeout");
    int timeout_ms = cJSON_IsNumber(timeout) ? (int)(timeout->valuedouble * 1000) : 60000;
    if (timeout_ms > 600000) timeout_ms = 600000;
    tx_buf out, errb;
    tx_buf_init(&out, 1 << 20);
    tx_buf_init(&errb, 1 << 16);
    int rc = th_launch_capture(&l, &out, &errb, timeout_ms);
    int status = CLI_EXIT_OK;
    if (probe_args) {
        /* Test mode: the probe's own output and outcome, plus how it ended. */
        printf("%s", out.data ? out.data : "");
        printf("{\"exit\": %d, \"timed_out\": %s, \"memory_limit\": \"%s\"}\n", rc,
               rc == -1 ? "true" : "false", l.memory);
        status = CLI_EXIT_OK;
    } else {
        cJSON *rep = out.data ? cJSON_Parse(out.data) : NULL;
        judge_kernel(rep, runsc);
        if (runsc) {
            judge_runsc_limits(rep, l.container);
            remove_container(l.container);
        }
        if (!rep) {
            fprintf(stderr, "tactus sandbox doctor: the probe gave no report (exit %d): %.300s\n", rc,
                    errb.data ? errb.data : "");
            status = CLI_EXIT_FAILED;
        } else if (json) {
            cJSON_AddStringToObject(rep, "image", image);
            char *text = cJSON_PrintUnformatted(rep);
            printf("%s\n", text ? text : "{}");
            cJSON_free(text);
        } else {
            printf("Sandbox checks for %s (image %s):\n", dir, image);
        }
        const cJSON *c;
        cJSON_ArrayForEach(c, rep)
        {
            const cJSON *ok = cJSON_GetObjectItemCaseSensitive(c, "ok");
            if (!cJSON_IsObject(c)) continue;
            if (!cJSON_IsTrue(ok)) status = CLI_EXIT_FAILED;
            if (!json)
                printf("  %s %-18s %s\n", cJSON_IsTrue(ok) ? "ok  " : "FAIL", c->string,
                       hl_json_str(c, "detail") ? hl_json_str(c, "detail") : "");
        }
        if (!json && rep)
            printf(status == CLI_EXIT_OK ? "All checks passed.\n"
                                         : "Some checks failed: the sandbox is not as configured.\n");
        cJSON_Delete(rep);
    }
    tx_buf_free(&out);
    tx_buf_free(&errb);
    th_launch_free(&l);
    cJSON_Delete(config);
    return status;
}

int cli_sandbox(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        fputs(sandbox_usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? CLI_EXIT_USAGE : CLI_EXIT_OK;
    }
    const char *sub = argv[1];
    bool json = false, force = false;
    const char *target = NULL;
    const char *const *probe_args = NULL;
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0) {
            json = true;
        } else if (strcmp(argv[i], "--force") == 0 || strcmp(argv[i], "-f") == 0) {
            force = true;
        } else if (strcmp(argv[i], "--probe") == 0 && strcmp(sub, "doctor") == 0 && i + 1 < argc) {
            /* For the OS-level escape tests: run a probe mode instead of the report. */
            probe_args = (const char *const *)&argv[i + 1];
            break;
        } else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            fputs(sandbox_usage, stdout);
            return CLI_EXIT_OK;
        } else if (argv[i][0] != '-' && !target) {
            target = argv[i];
        } else {
            fprintf(stderr, "tactus sandbox: unknown option '%s'\n\n%s", argv[i], sandbox_usage);
            return CLI_EXIT_USAGE;
        }
    }
    if (strcmp(sub, "status") == 0) return cmd_status(json);
    if (strcmp(sub, "rebuild") == 0) return cmd_rebuild(force);
    if (strcmp(sub, "doctor") == 0) return cmd_doctor(json, target, probe_args);
    fprintf(stderr, "tactus sandbox: unknown subcommand '%s'\n\n%s", sub, sandbox_usage);
    return CLI_EXIT_USAGE;
}
