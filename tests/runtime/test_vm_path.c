/*
 * test_vm_path.c - unit tests of the File confinement (runtime/vm/vm_file.c):
 *   - vm_path_join, the lexical half: every path a procedure names is joined
 *     onto its folder and normalised before any system call;
 *   - vm_file_openat, the kernel half, in both of its modes: openat2 with
 *     RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS, and the O_NOFOLLOW component walk
 *     used where openat2 is missing (old kernels, strict seccomp profiles).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vm_int.h"

static int failures;

static void expect_ok(const char *base, const char *user, const char *want)
{
    char out[256];
    const char *why = NULL;
    tx_status st = vm_path_join(base, user, strlen(user), out, sizeof out, &why);
    if (st != TX_OK || strcmp(out, want) != 0) {
        printf("FAIL join(\"%s\", \"%s\") = %s \"%s\", want \"%s\"\n", base, user,
               tx_status_str(st), st == TX_OK ? out : (why ? why : ""), want);
        failures++;
    }
}

static void expect_refused(const char *base, const char *user, size_t len, const char *reason)
{
    char out[256];
    const char *why = NULL;
    tx_status st = vm_path_join(base, user, len, out, sizeof out, &why);
    if (st != TX_EINVAL || !why || !strstr(why, reason)) {
        printf("FAIL join(\"%s\", \"%s\") not refused with \"%s\" (%s)\n", base, user, reason,
               why ? why : tx_status_str(st));
        failures++;
    }
}

static void expect_open(vm_ctx *ctx, const char *rel, int flags, int want_errno, const char *mode)
{
    int fd = vm_file_openat(ctx, rel, flags, 0644);
    int got = fd >= 0 ? 0 : -fd;
    if (fd >= 0) close(fd);
    if (got != want_errno) {
        printf("FAIL [%s] open(\"%s\") gave errno %d (%s), want %d\n", mode, rel, got,
               got ? strerror(got) : "ok", want_errno);
        failures++;
    }
}

/* A workspace with a file, a folder, and links pointing out and around. */
static void test_openat(void)
{
    char root[] = "/tmp/tx-vmpath-XXXXXX";
    if (!mkdtemp(root)) {
        perror("mkdtemp");
        failures++;
        return;
    }
    char p[512];
    snprintf(p, sizeof p, "%s/ws", root);
    mkdir(p, 0755);
    snprintf(p, sizeof p, "%s/ws/d", root);
    mkdir(p, 0755);
    snprintf(p, sizeof p, "%s/ws/a.txt", root);
    fclose(fopen(p, "w"));
    snprintf(p, sizeof p, "%s/ws/d/b.txt", root);
    fclose(fopen(p, "w"));
    snprintf(p, sizeof p, "%s/secret.txt", root);
    fclose(fopen(p, "w"));
    snprintf(p, sizeof p, "%s/ws/out", root);
    if (symlink("../secret.txt", p) != 0) failures++;
    snprintf(p, sizeof p, "%s/ws/dl", root);
    if (symlink("d", p) != 0) failures++;
    snprintf(p, sizeof p, "%s/ws/up", root);
    if (symlink("..", p) != 0) failures++;

    vm_ctx ctx;
    memset(&ctx, 0, sizeof ctx);
    ctx.scratch_fd = -1;
    snprintf(p, sizeof p, "%s/ws", root);
    const char *why;
    if (vm_file_open_workspace(&ctx, p, &why) != TX_OK) {
        printf("FAIL cannot open the workspace: %s\n", why);
        failures++;
        return;
    }
    for (int mode = 0; mode < 2; mode++) {
        const char *name = mode == 0 ? "openat2" : "walk";
        vm_file_use_openat2(mode == 0);
        expect_open(&ctx, "a.txt", O_RDONLY, 0, name);
        expect_open(&ctx, "d/b.txt", O_RDONLY, 0, name);
        expect_open(&ctx, "", O_RDONLY | O_DIRECTORY, 0, name);
        expect_open(&ctx, "out", O_RDONLY, ELOOP, name);
        expect_open(&ctx, "out", O_WRONLY | O_TRUNC, ELOOP, name);
        expect_open(&ctx, "dl/b.txt", O_RDONLY, ELOOP, name);
        expect_open(&ctx, "up/secret.txt", O_RDONLY, ELOOP, name);
        expect_open(&ctx, "../secret.txt", O_RDONLY, EXDEV, name);
        expect_open(&ctx, "d/../../secret.txt", O_RDONLY, EXDEV, name);
        expect_open(&ctx, "nope.txt", O_RDONLY, ENOENT, name);
        expect_open(&ctx, "out", O_PATH, ELOOP, name);
    }
    /* Two roots (a pooled run): writes go to the scratch folder (the
     * folders a path needs are made there by File.write, make_parents in
     * vm_file.c, as d is here); reads look there first; links are refused
     * in both. */
    snprintf(p, sizeof p, "%s/scratch", root);
    mkdir(p, 0755);
    snprintf(p, sizeof p, "%s/scratch/d", root);
    mkdir(p, 0755);
    snprintf(p, sizeof p, "%s/scratch", root);
    if (vm_file_open_scratch(&ctx, p, &why) != TX_OK) {
        printf("FAIL cannot open the scratch folder: %s\n", why);
        failures++;
        return;
    }
    snprintf(p, sizeof p, "%s/scratch/up", root);
    if (symlink("..", p) != 0) failures++;
    for (int mode = 0; mode < 2; mode++) {
        const char *name = mode == 0 ? "openat2, two roots" : "walk, two roots";
        vm_file_use_openat2(mode == 0);
        expect_open(&ctx, "d/new.txt", O_WRONLY | O_CREAT | O_TRUNC, 0, name);
        expect_open(&ctx, "d/b.txt", O_RDONLY, 0, name);  /* the workspace's */
        expect_open(&ctx, "d/new.txt", O_RDONLY, 0, name); /* the scratch folder's */
        expect_open(&ctx, "nodir/x.txt", O_WRONLY | O_CREAT, ENOENT, name);
        expect_open(&ctx, "up/ws/a.txt", O_RDONLY, ELOOP, name);
        expect_open(&ctx, "up/x.txt", O_WRONLY | O_CREAT, ELOOP, name);
        expect_open(&ctx, "../x.txt", O_WRONLY | O_CREAT, EXDEV, name);
        expect_open(&ctx, "out", O_RDONLY, ELOOP, name);
    }
    char check[600];
    snprintf(check, sizeof check, "%s/scratch/d/new.txt", root);
    if (access(check, F_OK) != 0) {
        printf("FAIL the write did not land in the scratch folder\n");
        failures++;
    }
    snprintf(check, sizeof check, "%s/ws/d/new.txt", root);
    if (access(check, F_OK) == 0) {
        printf("FAIL the write landed in the workspace\n");
        failures++;
    }
    close(ctx.scratch_fd);
    vm_file_use_openat2(true);
    close(ctx.ws_fd);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
    if (system(cmd) != 0) printf("warning: could not remove %s\n", root);
}

int main(void)
{
    expect_ok("", "a.txt", "a.txt");
    expect_ok("", "./a.txt", "a.txt");
    expect_ok("", "dir//sub/./x", "dir/sub/x");
    expect_ok("examples", "data/x.json", "examples/data/x.json");
    expect_ok("examples", "../README.md", "README.md");
    expect_ok("a/b", "../../c", "c");
    expect_ok("", ".", "");
    expect_ok("", "dir/..", "");
    expect_ok("", "dir/", "dir");
    expect_refused("", "/etc/passwd", 11, "absolute");
    expect_refused("", "../outside.txt", 14, "leaves the workspace");
    expect_refused("examples", "../../etc/passwd", 16, "leaves the workspace");
    expect_refused("", "a/../../b", 9, "leaves the workspace");
    expect_refused("", "", 0, "empty");
    expect_refused("", "a\0b", 3, "NUL");
    char small[4];
    const char *why;
    if (vm_path_join("", "abcdef", 6, small, sizeof small, &why) != TX_ELIMIT) {
        printf("FAIL a path longer than the buffer is not TX_ELIMIT\n");
        failures++;
    }
    test_openat();
    if (failures == 0)
        printf("ok   vm_path_join and vm_file_openat (openat2 and walk): all cases\n");
    return failures ? 1 : 0;
}
