/*
 * sb_image.c - the sandbox image: its name, whether it matches this
 * tactus-runtime (a label with the runtime's SHA-256), and its build FROM
 * scratch with the runtime and only the shared objects it loads.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sb_internal.h"

void sb_image_name(const cJSON *config, char *out, size_t cap)
{
    const cJSON *img = cf_get(config, "sandbox.image");
    if (cJSON_IsString(img) && *img->valuestring)
        snprintf(out, cap, "%s", img->valuestring);
    else
        snprintf(out, cap, "tactus-sandbox:%s", TACTUS_VERSION);
}

sb_image_status sb_image_state(const char *image, const char *runtime_exe, char *detail,
                                      size_t cap)
{
    char hex[65];
    if (hl_sha256_file(runtime_exe, hex) != TX_OK) {
        snprintf(detail, cap, "cannot read %s", runtime_exe);
        return SB_IMAGE_MISSING;
    }
    char path[512];
    snprintf(path, sizeof path, "/images/%s/json", image);
    tx_buf body;
    tx_buf_init(&body, 4u << 20);
    int e;
    int status = sb_docker_api_get(path, &body, &e);
    if (status == 404 || status == 200) {
        sb_image_status s = SB_IMAGE_MISSING;
        cJSON *j = status == 200 && body.data ? cJSON_Parse(body.data) : NULL;
        const char *label = hl_json_str(
            cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(j, "Config"), "Labels"),
            "tactus.runtime_sha256");
        if (status == 404) {
            snprintf(detail, cap, "image %s is not present", image);
        } else if (label && strncmp(label, hex, 64) == 0) {
            snprintf(detail, cap, "image %s is current (runtime sha256 %.12s)", image, hex);
            s = SB_IMAGE_CURRENT;
        } else {
            snprintf(detail, cap, "image %s is stale (built from runtime %.12s, current %.12s)", image,
                     label ? label : "?", hex);
            s = SB_IMAGE_STALE;
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
    int rc = sb_docker_run(argv, NULL, &out, NULL, 10000);
    sb_image_status s;
    if (rc != 0) {
        snprintf(detail, cap, "image %s is not present", image);
        s = SB_IMAGE_MISSING;
    } else if (out.data && strncmp(out.data, hex, 64) == 0) {
        snprintf(detail, cap, "image %s is current (runtime sha256 %.12s)", image, hex);
        s = SB_IMAGE_CURRENT;
    } else {
        snprintf(detail, cap, "image %s is stale (built from runtime %.12s, current %.12s)", image,
                 out.data ? out.data : "?", hex);
        s = SB_IMAGE_STALE;
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

tx_status sb_build_image(const char *image, const char *runtime_exe, const char *probe_exe,
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
    if (st == TX_OK && sb_docker_run(ldd, NULL, &out, NULL, 10000) != 0) st = TX_EIO;
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
        int rc = sb_docker_run(build, NULL, NULL, &berr, 600000);
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

