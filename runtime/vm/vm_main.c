/*
 * vm_main.c - the tactus-runtime process. Started by the host (tactus run)
 * with an empty environment, inside the sandbox; speaks frames on its
 * standard input and output (docs/protocol.md), free text on stderr.
 *
 * Before anything else the protocol streams move to private descriptors and
 * fd 1 is pointed at stderr (fd 0 at /dev/null): whatever a library might
 * print can never corrupt the frame stream, and nothing can read the host's
 * frames behind the protocol client's back.
 */
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include "vm.h"

int main(int argc, char **argv)
{
    (void)argv;
    if (argc > 1 || isatty(0)) {
        fputs("tactus-runtime " TACTUS_VERSION ": the sandboxed side of `tactus run`.\n"
              "It takes no arguments and speaks length-prefixed JSON frames on stdin/stdout\n"
              "(docs/protocol.md); run procedures with `tactus run FILE` instead.\n",
              stderr);
        return VM_EXIT_USAGE;
    }
    int in = fcntl(0, F_DUPFD_CLOEXEC, 3);
    int out = fcntl(1, F_DUPFD_CLOEXEC, 3);
    if (in < 0 || out < 0) {
        perror("tactus-runtime: dup");
        return VM_EXIT_PROTOCOL;
    }
    int null_in = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (null_in >= 0) {
        dup2(null_in, 0);
        if (null_in != 0) close(null_in);
    }
    if (dup2(2, 1) < 0) {
        int null_out = open("/dev/null", O_WRONLY | O_CLOEXEC);
        if (null_out >= 0) {
            dup2(null_out, 1);
            if (null_out != 1) close(null_out);
        }
    }
    int rc = vm_main(in, out);
    close(in);
    close(out);
    return rc;
}
