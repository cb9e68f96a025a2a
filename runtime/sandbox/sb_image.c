/*
 * sb_image.c - the sandbox image: its name, whether it matches this
 * tactus-runtime (a label with the runtime's SHA-256), its build FROM
 * scratch with the runtime and only the shared objects it loads, and the
 * pruning of images no build uses.
 *
 * The default name carries the runtime's content hash,
 * tactus-sandbox:<version>-<first 12 hex of its SHA-256>: two builds on one
 * dockerd (two worktrees, CI beside a developer) each find their own image
 * instead of rebuilding one shared tag in turn, which also left the
 * replaced image behind, dangling, at every turn. Each image records the
 * runtime it was built from (labels tactus.runtime_sha256 and
 * tactus.runtime_path), so `tactus sandbox prune` can tell which images a
 * build on this machine still uses.
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

void sb_image_name(const cJSON *config, const char *runtime_exe, char *out, size_t cap)
{
    const cJSON *img = cf_get(config, "sandbox.image");
    char hex[65];
    if (cJSON_IsString(img) && *img->valuestring)
        snprintf(out, cap, "%s", img->valuestring);
    else if (runtime_exe && hl_sha256_file(runtime_exe, hex) == TX_OK)
        snprintf(out, cap, "%s:%s-%.12s", SB_IMAGE_REPOSITORY, TACTUS_VERSION, hex);
    else
        snprintf(out, cap, "%s:%s", SB_IMAGE_REPOSITORY, TACTUS_VERSION);
}

sb_image_status sb_image_state(const char *image, const char *runtime_exe, char *detail, size_t cap)
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
        const char *label =
            hl_json_str(cJSON_GetObjectItemCaseSensitive(
                            cJSON_GetObjectItemCaseSensitive(j, "Config"), "Labels"),
                        "tactus.runtime_sha256");
        if (status == 404) {
            snprintf(detail, cap, "image %s is not present", image);
        } else if (label && strncmp(label, hex, 64) == 0) {
            snprintf(detail, cap, "image %s is current (runtime sha256 %.12s)", image, hex);
            s = SB_IMAGE_CURRENT;
        } else {
            snprintf(detail, cap, "image %s is stale (built from runtime %.12s, current %.12s)",
                     image, label ? label : "?", hex);
            s = SB_IMAGE_STALE;
        }
        cJSON_Delete(j);
        tx_buf_free(&body);
        return s;
    }
    tx_buf_free(&body);
    tx_buf out;
    tx_buf_init(&out, 4096);
    char *argv[] = {"docker",
                    "image",
                    "inspect",
                    "--format",
                    "{{index .Config.Labels \"tactus.runtime_sha256\"}}",
                    (char *)image,
                    NULL};
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

/* After a build: the images an earlier runtime at the same path had (this
 * build tree's, superseded by the runtime just built) are used by no
 * build any more, so they go at once instead of piling up, one per
 * rebuild. Not forced: one a container still uses stays for prune. */
static void remove_superseded(const char *runtime_real, const char *hex)
{
    char filter[PATH_MAX + 64];
    snprintf(filter, sizeof filter, "label=tactus.runtime_path=%s", runtime_real);
    tx_buf ids;
    tx_buf_init(&ids, 1u << 20);
    char *ls[] = {"docker", "image", "ls", "-q", "--no-trunc", "--filter", filter, NULL};
    if (sb_docker_run(ls, NULL, &ids, NULL, 30000) != 0) {
        tx_buf_free(&ids);
        return;
    }
    for (char *line = ids.data, *next; line && *line; line = next) {
        next = strchr(line, '\n');
        if (next) *next++ = '\0';
        tx_buf sha;
        tx_buf_init(&sha, 4096);
        char *inspect[] = {
            "docker",
            "image",
            "inspect",
            "--format",
            "{{index .Config.Labels \"tactus.runtime_sha256\"}} {{join .RepoTags \" \"}}",
            line,
            NULL};
        if (sb_docker_run(inspect, NULL, &sha, NULL, 30000) == 0 && sha.data &&
            strncmp(sha.data, hex, 64) != 0) {
            /* by each name, then by id (a nameless one) */
            char *tags = strchr(sha.data, ' '), *save = NULL;
            bool named = false;
            for (char *t = tags ? strtok_r(tags + 1, " \n", &save) : NULL; t;
                 t = strtok_r(NULL, " \n", &save)) {
                char *rm[] = {"docker", "image", "rm", t, NULL};
                sb_docker_run(rm, NULL, NULL, NULL, 60000);
                named = true;
            }
            if (!named) {
                char *rm[] = {"docker", "image", "rm", line, NULL};
                sb_docker_run(rm, NULL, NULL, NULL, 60000);
            }
        }
        tx_buf_free(&sha);
    }
    tx_buf_free(&ids);
}

tx_status sb_build_image(const char *image, const char *runtime_exe, const char *probe_exe,
                         FILE *log, char *err, size_t errlen)
{
    char hex[65], runtime_real[PATH_MAX];
    if (hl_sha256_file(runtime_exe, hex) != TX_OK || !realpath(runtime_exe, runtime_real)) {
        snprintf(err, errlen, "cannot read %s", runtime_exe);
        return TX_EIO;
    }
    /* The path goes into a Dockerfile line: a quote or a line break in it
     * would change the file, so such a path is not recorded. */
    if (strpbrk(runtime_real, "\"\\\n\r$")) runtime_real[0] = '\0';
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
        while (*lib == ' ' || *lib == '\t')
            lib++;
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
                "LABEL tactus.version=\"%s\" tactus.runtime_sha256=\"%s\" "
                "tactus.runtime_path=\"%s\"\n"
                "USER 65534:65534\nWORKDIR /workspace\n"
                "ENTRYPOINT [\"/usr/local/bin/tactus-runtime\"]\n",
                TACTUS_VERSION, hex, runtime_real);
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
            snprintf(err, errlen, "docker build failed (%d): %.300s", rc,
                     berr.data ? berr.data : "");
            st = TX_EIO;
        } else if (runtime_real[0]) {
            remove_superseded(runtime_real, hex);
        }
        tx_buf_free(&berr);
    } else {
        snprintf(err, errlen, "cannot prepare the image contents in %s", ctx);
    }
    remove_tree(ctx);
    return st;
}

/* ---- prune -------------------------------------------------------------------------------- */

/* Why the image with these labels is still used, or NULL: the current
 * build's (its name), or a build on this machine whose runtime, at the path
 * the image recorded, still has the image's hash. */
static const char *image_use(const cJSON *labels, const char *const *tags, size_t n_tags,
                             const char *current, char *why, size_t cap, bool *old_style)
{
    const char *sha = hl_json_str(labels, "tactus.runtime_sha256");
    const char *path = hl_json_str(labels, "tactus.runtime_path");
    *old_style = !path || !*path;
    for (size_t i = 0; i < n_tags; i++)
        if (current && strcmp(tags[i], current) == 0) {
            snprintf(why, cap, "this build's image");
            return why;
        }
    char hex[65];
    if (path && *path && sha && hl_sha256_file(path, hex) == TX_OK && strncmp(hex, sha, 64) == 0) {
        snprintf(why, cap, "used by the build at %s", path);
        return why;
    }
    return NULL;
}

tx_status sb_image_prune(const char *current, bool all, bool dry_run, FILE *out, char *err,
                         size_t errlen)
{
    tx_buf ids;
    tx_buf_init(&ids, 1u << 20);
    char *ls[] = {
        "docker", "image", "ls", "-q", "--no-trunc", "--filter", "label=tactus.runtime_sha256",
        NULL};
    if (sb_docker_run(ls, NULL, &ids, NULL, 30000) != 0) {
        tx_buf_free(&ids);
        snprintf(err, errlen, "docker image ls failed");
        return TX_EIO;
    }
    tx_status st = TX_OK;
    size_t removed = 0, kept = 0, failed = 0;
    char *seen = NULL; /* ids listed twice (an id is listed once per name) */
    for (char *line = ids.data, *next; line && *line; line = next) {
        next = strchr(line, '\n');
        if (next) *next++ = '\0';
        if (!*line || (seen && strstr(seen, line))) continue;
        size_t sl = seen ? strlen(seen) : 0;
        char *grown = tx_realloc(seen, sl + strlen(line) + 2);
        if (!grown) break;
        seen = grown;
        snprintf(seen + sl, strlen(line) + 2, "%s ", line);
        tx_buf info;
        tx_buf_init(&info, 1u << 20);
        char *inspect[] = {"docker",
                           "image",
                           "inspect",
                           "--format",
                           "{\"labels\": {{json .Config.Labels}}, \"tags\": {{json .RepoTags}}}",
                           line,
                           NULL};
        cJSON *j = sb_docker_run(inspect, NULL, &info, NULL, 30000) == 0 && info.data
                       ? cJSON_Parse(info.data)
                       : NULL;
        tx_buf_free(&info);
        const cJSON *labels = cJSON_GetObjectItemCaseSensitive(j, "labels");
        const cJSON *tag_list = cJSON_GetObjectItemCaseSensitive(j, "tags");
        const char *tags[32];
        size_t n_tags = 0;
        const cJSON *t;
        cJSON_ArrayForEach(t, tag_list) if (cJSON_IsString(t) && n_tags < 32) tags[n_tags++] =
            t->valuestring;
        char why[PATH_MAX + 64];
        bool old_style = false;
        const char *use = j ? image_use(labels, tags, n_tags, current, why, sizeof why, &old_style)
                            : "cannot be inspected";
        /* An image of a tactus from before tagged names (no recorded runtime)
         * may be the one a build of that version uses: only --all removes it
         * while it has a name. A nameless (dangling) one no build can name. */
        if (!use && old_style && n_tags > 0 && !all)
            use = "built by an older tactus (remove with --all)";
        const char *name = n_tags ? tags[0] : "<none>";
        if (use) {
            kept++;
            if (out)
                fprintf(out, "kept     %.12s %s (%s)\n",
                        line + (strncmp(line, "sha256:", 7) ? 0 : 7), name, use);
            cJSON_Delete(j);
            continue;
        }
        bool ok = true;
        if (!dry_run) {
            /* By name first (an id with several names needs them all gone),
             * then by id; never forced: an image a container still uses stays. */
            for (size_t i = 0; i < n_tags && ok; i++) {
                char *rm[] = {"docker", "image", "rm", (char *)tags[i], NULL};
                ok = sb_docker_run(rm, NULL, NULL, NULL, 60000) == 0;
            }
            if (ok && n_tags == 0) {
                char *rm[] = {"docker", "image", "rm", line, NULL};
                ok = sb_docker_run(rm, NULL, NULL, NULL, 60000) == 0;
            }
        }
        if (ok)
            removed++;
        else
            failed++;
        if (out)
            fprintf(out, "%s %.12s %s\n",
                    dry_run ? "would rm"
                    : ok    ? "removed "
                            : "in use  ",
                    line + (strncmp(line, "sha256:", 7) ? 0 : 7), name);
        cJSON_Delete(j);
    }
    tx_free(seen);
    tx_buf_free(&ids);
    if (out)
        fprintf(out, "%zu image%s %s, %zu kept%s\n", removed, removed == 1 ? "" : "s",
                dry_run ? "to remove" : "removed", kept,
                failed ? " (some could not be removed: a container still uses them)" : "");
    if (failed) {
        snprintf(err, errlen, "%zu image%s could not be removed (in use by a container)", failed,
                 failed == 1 ? "" : "s");
        st = TX_EIO;
    }
    return st;
}
