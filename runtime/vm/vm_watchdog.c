/*
 * vm_watchdog.c - the last line of the wall-clock budget.
 *
 * The budget hook (vm_budget.c) only runs between Lua instructions. A single
 * long C call never reaches it: a backtracking string pattern such as
 * ("a"):rep(40):find(("a*"):rep(40) .. "b") runs for hours inside
 * string.find. So a SIGALRM timer fires at wall_ms + VM_WATCHDOG_GRACE_MS and
 * its handler writes a prebuilt run.finish ("timed out after N s")
 * and exits at once. The handler is async-signal-safe: no allocation, no
 * stdio, only write() and _exit(). It never cuts a frame in half: while the
 * protocol client writes one (vm_watchdog_enter_write), it only marks the
 * alarm, and the writer finishes the job when its frame is out.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include "vm_int.h"

/* Process-wide on purpose: a signal handler carries no user data. */
static vm_ctx *watched;

static volatile sig_atomic_t in_write, alarm_pending;
/* "N s", formatted when the watchdog starts: the handler cannot format. */
static char limit_text[48];
static char watchdog_frame[4 + 2 * VM_PATH_MAX + 1024];

/* Async-signal-safe: no allocation, no stdio; appends into watchdog_frame. */
static size_t put(size_t at, const char *s)
{
    while (*s && at < sizeof watchdog_frame - 1)
        watchdog_frame[at++] = *s++;
    return at;
}

static size_t put_json_escaped(size_t at, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    for (; *s && at < sizeof watchdog_frame - 8; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') {
            watchdog_frame[at++] = '\\';
            watchdog_frame[at++] = (char)c;
        } else if (c < 0x20) {
            at = put(at, "\\u00");
            watchdog_frame[at++] = hex[c >> 4];
            watchdog_frame[at++] = hex[c & 15];
        } else {
            watchdog_frame[at++] = (char)c;
        }
    }
    return at;
}

static size_t put_int(size_t at, long long v)
{
    char digits[24];
    int n = 0;
    if (v < 0) v = 0;
    do {
        digits[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v > 0);
    while (n > 0 && at < sizeof watchdog_frame - 1)
        watchdog_frame[at++] = digits[--n];
    return at;
}

static void watchdog_fire(void)
{
    vm_ctx *ctx = watched;
    if (!ctx || ctx->finished) _exit(VM_EXIT_OK);
    size_t at = 4;
    at = put(at, "{\"method\":\"run.finish\",\"params\":{\"status\":\"failed\",\"output\":null,"
                 "\"error\":{\"message\":\"timed out after ");
    at = put(at, limit_text);
    const char *c_call = ctx->c_call;
    if (c_call) {
        /* Said for people: the call, why no budget check stopped it, the fix. */
        at = put(at, " (the run's time limit) in ");
        at = put(at, c_call);
        at = put(at, ", one call into C that no budget check can interrupt, so the watchdog "
                     "stopped the run; a pattern that backtracks (such as a* repeated) takes "
                     "exponential time: anchor it or match in steps");
    } else {
        at = put(at, " (the run's time limit; raise it with --timeout)");
    }
    at = put(at, "\",\"file\":");
    if (!ctx->sample_writing && ctx->sample_line > 0) {
        at = put(at, "\"");
        at = put_json_escaped(at, ctx->sample_file);
        at = put(at, "\",\"line\":");
        at = put_int(at, ctx->sample_line);
    } else {
        at = put(at, "null,\"line\":null");
    }
    at = put(at, ",\"traceback\":\"\"},\"pending\":[]}}");
    size_t n = at - 4;
    watchdog_frame[0] = (char)(n >> 24);
    watchdog_frame[1] = (char)(n >> 16);
    watchdog_frame[2] = (char)(n >> 8);
    watchdog_frame[3] = (char)n;
    const char *p = watchdog_frame;
    while (at > 0) {
        ssize_t w = write(ctx->out_fd, p, at);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) break;
        p += w;
        at -= (size_t)w;
    }
    _exit(VM_EXIT_OK);
}

static void on_alarm(int sig)
{
    (void)sig;
    if (in_write) {
        alarm_pending = 1; /* finish the frame being written first */
        return;
    }
    watchdog_fire();
}

/* How long past wall_ms a C call may run before the watchdog ends the run:
 * in Lua code the hook stops it first, within a tick. */
#define VM_WATCHDOG_GRACE_MS 1000

void vm_watchdog_start(vm_ctx *ctx)
{
    watched = ctx;
    snprintf(limit_text, sizeof limit_text, "%g s", (double)ctx->budget.wall_ms / 1000.0);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_alarm;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGALRM, &sa, NULL);
    long long ms = ctx->budget.wall_ms + VM_WATCHDOG_GRACE_MS;
    struct itimerval it;
    memset(&it, 0, sizeof it);
    it.it_value.tv_sec = (time_t)(ms / 1000);
    it.it_value.tv_usec = (suseconds_t)(ms % 1000) * 1000;
    setitimer(ITIMER_REAL, &it, NULL);
}

void vm_watchdog_stop(void)
{
    struct itimerval it;
    memset(&it, 0, sizeof it);
    setitimer(ITIMER_REAL, &it, NULL);
    signal(SIGALRM, SIG_IGN);
}

void vm_watchdog_enter_write(void)
{
    in_write = 1;
}

void vm_watchdog_leave_write(void)
{
    in_write = 0;
    if (alarm_pending) watchdog_fire();
}
