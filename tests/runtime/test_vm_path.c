/*
 * test_vm_path.c - unit test of vm_path_join, the lexical half of the File
 * confinement (runtime/vm/vm_file.c): every path a procedure names is
 * joined onto its folder and normalised before any system call.
 */
#include <stdio.h>
#include <string.h>

#include "vm.h"

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
    if (failures == 0) printf("ok   vm_path_join: all cases\n");
    return failures ? 1 : 0;
}
