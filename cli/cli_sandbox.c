/*
 * cli_sandbox.c - `tactus sandbox status | rebuild [--force] | doctor | prune`.
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
#include <unistd.h>

#include "cli.h"
#include "supervisor.h"

static const char sandbox_usage[] =
    "usage: tactus sandbox status [--json]\n"
    "       tactus sandbox rebuild [--force]\n"
    "       tactus sandbox doctor [--json] [--pooled] [FILE|DIR]\n"
    "       tactus sandbox prune [--all] [--dry-run]\n"
    "\n"
    "status   whether Docker answers (and why not), which sandbox image is present,\n"
    "         and whether it matches this tactus-runtime\n"
    "rebuild  build the image FROM scratch: tactus-runtime and the shared objects it\n"
    "         loads, nothing else (skipped when current, unless --force)\n"
    "doctor   run a probe inside the real container configuration of FILE (or of a\n"
    "         procedure in DIR; default: the current folder) and report each check;\n"
    "         --pooled: the container tactus test and eval workers share\n"
    "prune    remove the sandbox images no build uses: each image is named after the\n"
    "         runtime it holds (tactus-sandbox:VERSION-HASH) and records where that\n"
    "         runtime was; an image is kept while it is this build's or a runtime\n"
    "         with its hash is still at that place. --all: also the images of older\n"
    "         tactus versions (named tactus-sandbox:VERSION); --dry-run: list only\n"
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
    bool docker = sb_docker_available(reason, sizeof reason);
    bool have_runtime = sb_find_runtime(runtime, sizeof runtime) == TX_OK;
    cJSON *config = NULL;
    char err[512];
    if (cf_load(".", &config, err, sizeof err) != TX_OK) {
        /* an untrusted project file with a privileged key, as for tactus run */
        cli_error("tactus sandbox status: configuration error: %s\n", err);
        return CLI_EXIT_USAGE;
    }
    sb_image_name(config, have_runtime ? runtime : NULL, image, sizeof image);
    sb_image_status st = SB_IMAGE_MISSING;
    if (docker && have_runtime) st = sb_image_state(image, runtime, detail, sizeof detail);
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
    if (!sb_docker_available(reason, sizeof reason)) {
        cli_error("tactus sandbox rebuild: Docker not available: %s\n", reason);
        return EXIT_NO_DOCKER;
    }
    if (sb_find_runtime(runtime, sizeof runtime) != TX_OK) {
        cli_error("tactus sandbox rebuild: tactus-runtime not found beside tactus\n");
        return CLI_EXIT_FAILED;
    }
    cJSON *config = NULL;
    if (cf_load(".", &config, err, sizeof err) != TX_OK) {
        cli_error("tactus sandbox rebuild: configuration error: %s\n", err);
        return CLI_EXIT_USAGE;
    }
    sb_image_name(config, runtime, image, sizeof image);
    cJSON_Delete(config);
    if (!force && sb_image_state(image, runtime, detail, sizeof detail) == SB_IMAGE_CURRENT) {
        printf("%s; nothing to do (use --force to rebuild anyway)\n", detail);
        return CLI_EXIT_OK;
    }
    if (sb_build_image(image, runtime, NULL, stdout, err, sizeof err) != TX_OK) {
        cli_error("tactus sandbox rebuild: %s\n", err);
        return CLI_EXIT_FAILED;
    }
    sb_image_state(image, runtime, detail, sizeof detail);
    printf("built: %s\n", detail);
    return CLI_EXIT_OK;
}

static int cmd_prune(bool all, bool dry_run)
{
    char reason[256], runtime[PATH_MAX], image[256] = "", err[1024];
    if (!sb_docker_available(reason, sizeof reason)) {
        cli_error("tactus sandbox prune: Docker not available: %s\n", reason);
        return EXIT_NO_DOCKER;
    }
    /* This build's image is kept whatever the configuration names. */
    if (sb_find_runtime(runtime, sizeof runtime) == TX_OK)
        sb_image_name(NULL, runtime, image, sizeof image);
    if (sb_image_prune(image[0] ? image : NULL, all, dry_run, stdout, err, sizeof err) != TX_OK) {
        cli_error("tactus sandbox prune: %s\n", err);
        return CLI_EXIT_FAILED;
    }
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

static int cmd_doctor(bool json, const char *target, const char *const *probe_args, bool pooled)
{
    char reason[256], runtime[PATH_MAX], probe[PATH_MAX], image[256], detail[512], err[1024];
    char dir[PATH_MAX + 8], cfg_path[PATH_MAX + 8];
    if (!sb_docker_available(reason, sizeof reason)) {
        cli_error("tactus sandbox doctor: Docker not available: %s\n", reason);
        return EXIT_NO_DOCKER;
    }
    if (sb_find_runtime(runtime, sizeof runtime) != TX_OK || !sibling_exe("tactus-probe", probe, sizeof probe)) {
        cli_error("tactus sandbox doctor: tactus-runtime or tactus-probe not found beside tactus\n");
        return CLI_EXIT_FAILED;
    }
    if (!doctor_target(target, dir, cfg_path)) {
        cli_error("tactus sandbox doctor: cannot read %s\n", target ? target : ".");
        return CLI_EXIT_USAGE;
    }
    cJSON *config = NULL;
    if (cf_load(cfg_path, &config, err, sizeof err) != TX_OK) {
        cli_error("tactus sandbox doctor: configuration error: %s\n", err);
        return CLI_EXIT_USAGE;
    }
    sb_image_name(config, runtime, image, sizeof image);
    if (sb_image_state(image, runtime, detail, sizeof detail) != SB_IMAGE_CURRENT &&
        sb_build_image(image, runtime, NULL, NULL, err, sizeof err) != TX_OK) {
        cli_error("tactus sandbox doctor: cannot build %s: %s\n", image, err);
        cJSON_Delete(config);
        return CLI_EXIT_FAILED;
    }
    sb_doctor_result r;
    if (sb_doctor(config, image, dir, probe, probe_args, pooled, &r, stderr, err, sizeof err) != TX_OK) {
        cli_error("tactus sandbox doctor: sandbox configuration error: %s\n", err);
        cJSON_Delete(config);
        return CLI_EXIT_USAGE;
    }
    int status = CLI_EXIT_OK;
    if (probe_args) {
        /* Test mode: the probe's own output and outcome, plus how it ended. */
        printf("%s", r.output.data ? r.output.data : "");
        printf("{\"exit\": %d, \"timed_out\": %s, \"memory_limit\": \"%s\"}\n", r.exit_status,
               r.exit_status == -1 ? "true" : "false", r.memory);
    } else if (!r.report) {
        cli_error("tactus sandbox doctor: the probe gave no report (exit %d): %.300s\n",
                r.exit_status, r.errors.data ? r.errors.data : "");
        status = CLI_EXIT_FAILED;
    } else {
        if (json) {
            cJSON_AddStringToObject(r.report, "image", image);
            char *text = cJSON_PrintUnformatted(r.report);
            printf("%s\n", text ? text : "{}");
            cJSON_free(text);
        } else {
            printf("Sandbox checks for %s (image %s):\n", dir, image);
        }
        const cJSON *c;
        cJSON_ArrayForEach(c, r.report)
        {
            const cJSON *ok = cJSON_GetObjectItemCaseSensitive(c, "ok");
            if (!cJSON_IsObject(c)) continue;
            if (!cJSON_IsTrue(ok)) status = CLI_EXIT_FAILED;
            if (!json)
                printf("  %s %-18s %s\n", cJSON_IsTrue(ok) ? "ok  " : "FAIL", c->string,
                       hl_json_str(c, "detail") ? hl_json_str(c, "detail") : "");
        }
        if (!json)
            printf(status == CLI_EXIT_OK ? "All checks passed.\n"
                                         : "Some checks failed: the sandbox is not as configured.\n");
    }
    sb_doctor_result_free(&r);
    cJSON_Delete(config);
    return status;
}

/* `tactus sandbox __keep DIR HASH IDLE NAME ENV... -- ARGV...`: the keeper
 * of one warm container (runtime/sandbox/sb_warm.c). Started detached by
 * `tactus run` with sandbox.warm; not for people. */
static int cmd_keep(int argc, char **argv)
{
    if (argc < 6) return CLI_EXIT_USAGE;
    int dash = -1;
    for (int i = 4; i < argc; i++)
        if (strcmp(argv[i], "--") == 0) {
            dash = i;
            break;
        }
    if (dash < 0 || dash + 1 >= argc) return CLI_EXIT_USAGE;
    char *env_end = argv[dash];
    argv[dash] = NULL; /* argv[4..dash) is the docker CLI's environment */
    int rc = sb_warm_keep(argv[0], argv[1], atoi(argv[2]), argv + dash + 1, argv + 4, argv[3]);
    argv[dash] = env_end;
    return rc;
}

int cli_sandbox(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        fputs(sandbox_usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? CLI_EXIT_USAGE : CLI_EXIT_OK;
    }
    const char *sub = argv[1];
    if (strcmp(sub, "__keep") == 0) return cmd_keep(argc - 2, argv + 2);
    bool json = false, force = false, pooled = false, all = false, dry_run = false;
    const char *target = NULL;
    const char *const *probe_args = NULL;
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0) {
            json = true;
        } else if (strcmp(argv[i], "--force") == 0 || strcmp(argv[i], "-f") == 0) {
            force = true;
        } else if (strcmp(argv[i], "--pooled") == 0 && strcmp(sub, "doctor") == 0) {
            pooled = true;
        } else if (strcmp(argv[i], "--all") == 0 && strcmp(sub, "prune") == 0) {
            all = true;
        } else if (strcmp(argv[i], "--dry-run") == 0 && strcmp(sub, "prune") == 0) {
            dry_run = true;
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
            cli_error("tactus sandbox: unknown option '%s'\n\n%s", argv[i], sandbox_usage);
            return CLI_EXIT_USAGE;
        }
    }
    if (strcmp(sub, "status") == 0) return cmd_status(json);
    if (strcmp(sub, "rebuild") == 0) return cmd_rebuild(force);
    if (strcmp(sub, "doctor") == 0) return cmd_doctor(json, target, probe_args, pooled);
    if (strcmp(sub, "prune") == 0) return cmd_prune(all, dry_run);
    cli_error("tactus sandbox: unknown subcommand '%s'\n\n%s", sub, sandbox_usage);
    return CLI_EXIT_USAGE;
}
