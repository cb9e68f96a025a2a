/*
 * supervisor.c - start tactus-runtime, feed it, answer it, stop it.
 *
 * The runtime is a child process with an empty environment, its own stdin,
 * stdout and stderr as pipes, and the procedure's folder as working
 * directory. One poll loop reads its frames (stdout) and its log text
 * (stderr) so neither pipe can fill and deadlock the pair, and enforces the
 * wall-clock limit by killing the child. Anything unexpected on the wire
 * fails the run closed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "broker.h"
#include "config.h"
#include "durable.h"
#include "hostlib.h"
#include "sup_internal.h"
#include "proto.h"

/* Runtime stderr kept for a failure report; more is dropped (capped). */
#define STDERR_KEEP (64u * 1024u)

/* Set by SIGINT/SIGTERM while a run is supervised: the run is stopped (its
 * container too) rather than left behind. Process-wide by necessity: a
 * signal handler has no context. */
static volatile sig_atomic_t interrupted;

static void on_interrupt(int sig)
{
    interrupted = sig;
}

void sup_catch_interrupts(struct sigaction *old_int, struct sigaction *old_term)
{
    interrupted = 0;
    struct sigaction sa = {0};
    sa.sa_handler = on_interrupt;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, old_int);
    sigaction(SIGTERM, &sa, old_term);
}

void sup_release_interrupts(const struct sigaction *old_int, const struct sigaction *old_term)
{
    sigaction(SIGINT, old_int, NULL);
    sigaction(SIGTERM, old_term, NULL);
}

bool sup_interrupted(void)
{
    return interrupted != 0;
}

/* The broker asks this while it waits (Sleep): Ctrl-C ends the wait. */
static bool broker_interrupted(void *ud)
{
    const sup_run_options *opt = ud;
    return interrupted != 0 || (opt && opt->stop && *opt->stop);
}

/* br_audit_sink: the record into the store's audit log. */
static void audit_to_store(void *ud, const cJSON *record)
{
    const sup_run_options *opt = ud;
    tj_audit_append(opt->journal, opt->tenant, record);
}

/* Ctrl-C, or this run's own stop (a worker's lease was lost, a drain). */
static bool stopped(const sup_run_options *opt)
{
    return interrupted != 0 || (opt->stop && *opt->stop);
}

void sup_run_result_free(sup_run_result *res)
{
    cJSON_Delete(res->output);
    cJSON_Delete(res->error);
    cJSON_Delete(res->pending);
    cJSON_Delete(res->report);
    res->output = res->error = res->pending = res->report = NULL;
}

/* ---- child process ------------------------------------------------------------------------ */

static void close_fd(int *fd)
{
    if (*fd >= 0) close(*fd);
    *fd = -1;
}

/* Waits up to ms for the child to exit: its pid, or 0 when it still runs.
 * A pidfd wakes us the moment it exits (polling in 5 ms sleeps cost a
 * hello-world run 4-5 ms); without pidfds, the sleeps remain. */
static pid_t wait_child(pid_t pid, int *wstatus, int ms)
{
    int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
    if (pidfd >= 0) {
        struct pollfd pfd = {pidfd, POLLIN, 0};
        while (poll(&pfd, 1, ms) < 0 && errno == EINTR) {
        }
        close(pidfd);
        return waitpid(pid, wstatus, WNOHANG);
    }
    pid_t w = 0;
    for (int i = 0; i < ms / 5 && (w = waitpid(pid, wstatus, WNOHANG)) == 0; i++) {
        struct timespec ts = {0, 5000000};
        nanosleep(&ts, NULL);
    }
    return w;
}

/* budgets.journal_bytes (default 256 MiB): what one run may record. */
#define JOURNAL_BYTES_DEFAULT (256.0 * 1024 * 1024)
static long long journal_byte_cap(const cJSON *config)
{
    const cJSON *v = cf_get(config, "budgets.journal_bytes");
    return (long long)(cJSON_IsNumber(v) && v->valuedouble > 0 ? v->valuedouble : JOURNAL_BYTES_DEFAULT);
}

/* Writes a frame to the runtime without ever blocking past the run's
 * deadline (plus the 2 s the host gives a runtime to stop): a runtime that
 * stops reading its stdin must not hang the host in write(). TX_ELIMIT for
 * a frame over the cap, TX_EINVAL when the time ran out, TX_EIO when the
 * runtime is gone. */
/* Writes n bytes to the runtime, waiting (poll) while its pipe is full,
 * at most until the run's deadline and 2 s more: TX_EINVAL past it. */
static tx_status write_raw_until(run_ctx *r, const char *data, size_t n)
{
    size_t off = 0;
    tx_status st = TX_OK;
    while (st == TX_OK && off < n) {
        ssize_t w = write(r->c->in, data + off, n - off);
        if (w > 0) {
            off += (size_t)w;
            continue;
        }
        if (w < 0 && errno == EINTR) continue;
        if (w < 0 && errno != EAGAIN) {
            st = TX_EIO;
            break;
        }
        int wait = -1;
        if (r->deadline_ms) {
            long long left = r->deadline_ms + 2000 - hl_now_ms();
            if (left <= 0) {
                st = TX_EINVAL;
                break;
            }
            wait = left > INT_MAX ? INT_MAX : (int)left;
        }
        struct pollfd p = {r->c->in, POLLOUT, 0};
        if (poll(&p, 1, wait) == 0) st = TX_EINVAL;
    }
    return st;
}

static tx_status write_frame_until(run_ctx *r, const cJSON *reply)
{
    tx_buf b;
    tx_buf_init(&b, TP_MAX_FRAME + 4);
    tx_status st = tp_encode(reply, &b);
    if (st == TX_OK) st = write_raw_until(r, b.data, b.len);
    tx_buf_free(&b);
    return st;
}

/* ---- the loop ------------------------------------------------------------------------------------ */

static cJSON *start_frame(const sup_run_options *opt, const char *run_id)
{
    cJSON *s = cJSON_CreateObject();
    if (!s) return NULL;
    cJSON_AddStringToObject(s, "type", "start");
    cJSON_AddNumberToObject(s, "protocol", TP_PROTOCOL_VERSION);
    cJSON_AddStringToObject(s, "run_id", run_id);
    cJSON *proc = cJSON_AddObjectToObject(s, "procedure");
    if (proc) {
        cJSON_AddStringToObject(proc, "path", opt->path);
        char *src = tx_strndup(opt->source, opt->source_len);
        cJSON_AddStringToObject(proc, "source", src ? src : "");
        tx_free(src);
        cJSON_AddStringToObject(proc, "name", opt->procedure ? opt->procedure : "main");
    }
    cJSON_AddItemToObject(s, "inputs",
                          opt->inputs ? cJSON_Duplicate(opt->inputs, 1) : cJSON_CreateObject());
    cJSON_AddStringToObject(s, "workspace", opt->launch->workspace);
    if (opt->launch->scratch[0]) cJSON_AddStringToObject(s, "scratch", opt->launch->scratch);
    cJSON *lim = cJSON_AddObjectToObject(s, "limits");
    if (lim) {
        cJSON_AddNumberToObject(lim, "instructions", (double)opt->limits.instructions);
        cJSON_AddNumberToObject(lim, "memory_bytes", (double)opt->limits.memory_bytes);
        cJSON_AddNumberToObject(lim, "wall_ms", (double)opt->limits.wall_ms);
        /* File.write's cap on bytes written in the run (the runtime's default: 256 MiB). */
        double quota = sb_workspace_quota(opt->config);
        if (quota > 0) cJSON_AddNumberToObject(lim, "workspace_bytes", quota);
    }
    unsigned seed = 0;
    for (const char *p = run_id; *p; p++) seed = seed * 31u + (unsigned char)*p;
    cJSON_AddNumberToObject(s, "seed", seed & 0x7fffffff);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    double now = opt->fixed_now_ms ? (double)opt->fixed_now_ms
                                   : (double)ts.tv_sec * 1000.0 + ts.tv_nsec / 1000000;
    cJSON_AddNumberToObject(s, "now_ms", now);
    if (opt->test) cJSON_AddItemToObject(s, "test", cJSON_Duplicate(opt->test, 1));
    if (opt->mock_all) cJSON_AddTrueToObject(s, "mock"); /* Mocks {} answer tools and models too */
    return s;
}

static void fail(sup_run_result *res, const char *message, const char *path)
{
    if (res->status == SUP_FAILED && res->error) return; /* keep the first cause */
    res->status = SUP_FAILED;
    cJSON_Delete(res->error);
    res->error = cJSON_CreateObject();
    if (!res->error) return;
    cJSON_AddStringToObject(res->error, "message", message);
    cJSON_AddStringToObject(res->error, "file", path);
    cJSON_AddNullToObject(res->error, "line");
}

/* The run's --timeout ran out at a request: "timed out after N s (...)",
 * `what` says what was waiting, at the request's line. */
/* The run stops at a request: the message, at the request's line. */
static void fail_at_request(run_ctx *r, sup_run_result *res, const cJSON *params, const char *message)
{
    sup_end_stream(r);
    fail(res, message, r->opt->path);
    const cJSON *line = cJSON_GetObjectItemCaseSensitive(params, "line");
    if (res->error && cJSON_IsNumber(line))
        cJSON_ReplaceItemInObjectCaseSensitive(res->error, "line", cJSON_CreateNumber(line->valuedouble));
}

static void fail_timed_out(run_ctx *r, sup_run_result *res, const cJSON *params, const char *what)
{
    char m[400];
    double limit = (double)r->opt->limits.wall_ms / 1000.0;
    snprintf(m, sizeof m, "timed out after %g s (the run's time limit, --timeout %g): %s", limit,
             limit, what);
    fail_at_request(r, res, params, m);
}

static void take_finish(sup_run_result *res, const cJSON *params)
{
    const char *status = hl_json_str(params, "status");
    if (status && strcmp(status, "completed") == 0)
        res->status = SUP_COMPLETED;
    else if (status && strcmp(status, "waiting") == 0)
        res->status = SUP_WAITING;
    else
        res->status = SUP_FAILED;
    const cJSON *o = cJSON_GetObjectItemCaseSensitive(params, "output");
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(params, "error");
    const cJSON *p = cJSON_GetObjectItemCaseSensitive(params, "pending");
    res->output = o ? cJSON_Duplicate(o, 1) : NULL;
    res->error = e && !cJSON_IsNull(e) ? cJSON_Duplicate(e, 1) : NULL;
    res->pending = p && !cJSON_IsNull(p) ? cJSON_Duplicate(p, 1) : NULL;
    const cJSON *rep = cJSON_GetObjectItemCaseSensitive(params, "report");
    res->report = cJSON_IsObject(rep) ? cJSON_Duplicate(rep, 1) : NULL;
    if (res->status == SUP_FAILED && !res->error) fail(res, "the procedure failed", "");
}

/* Handles one frame from the runtime. Returns false when the run is over. */
static bool handle_frame(run_ctx *r, br_broker *broker, cJSON *msg, sup_run_result *res,
                         bool *finished)
{
    const char *method = hl_json_str(msg, "method");
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(msg, "id");
    const cJSON *params = cJSON_GetObjectItemCaseSensitive(msg, "params");
    if (!method) {
        fail(res, "protocol error: the runtime sent a frame without a method", r->opt->path);
        return false;
    }
    if (!id) {
        if (strcmp(method, "log.emit") == 0) {
            sup_show_log(r, params);
        } else if (strcmp(method, "delta") == 0) {
            sup_on_delta(r, params); /* a remote broker's stream, shown as it comes */
        } else if (strcmp(method, "stage.set") == 0) {
            sup_show_stage(r, hl_json_str(params, "stage"));
        } else if (strcmp(method, "run.finish") == 0) {
            sup_end_stream(r);
            take_finish(res, params);
            *finished = true;
            return false;
        } else if (strcmp(method, "run.exit") == 0 && r->opt->pooled) {
            sup_end_stream(r);
            if (!sup_run_exit_is_pools(params, r->nonce)) {
                /* Only the container's server knows the run's nonce: this
                 * one came from the runtime itself (taken over?). */
                fail(res, "protocol error: the runtime sent a run.exit of its own (only the container's "
                          "server may); the container is retired", r->opt->path);
                return false;
            }
            /* The runtime process ended before run.finish (killed by the
             * kernel, or crashed). */
            r->exited = true;
            r->exit_status = sup_exit_status_of(params);
            return false;
        }
        return true; /* unknown notifications are ignored, by design */
    }
    if (!cJSON_IsNumber(id)) {
        fail(res, "protocol error: a request id must be a number", r->opt->path);
        return false;
    }
    /* A host wait the run's time limit cannot hold is never started: the
     * run ends now, at once, instead of after the wait (Sleep(3600) under
     * --timeout 2). Checked before the broker and the journal, so nothing is
     * performed or recorded. Under `tactus test` the fixed clock moves
     * instead of waiting, so no wait is refused there. */
    if (strcmp(method, "timer.sleep") == 0 && r->deadline_ms && !r->opt->fixed_now_ms) {
        const cJSON *s = cJSON_GetObjectItemCaseSensitive(params, "seconds");
        long long left = r->deadline_ms - hl_now_ms();
        if (cJSON_IsNumber(s) && s->valuedouble * 1000.0 > (double)left) {
            char what[200];
            snprintf(what, sizeof what,
                     "Sleep(%g) cannot finish in the %.1f s left, so the run ends now without "
                     "waiting; raise --timeout or sleep less",
                     s->valuedouble, left > 0 ? (double)left / 1000.0 : 0.0);
            fail_timed_out(r, res, params, what);
            return false;
        }
    }
    if (strcmp(method, "tool.call") == 0) sup_show_tool_call(r, params);
    char fail_msg[1024] = "";
    bool fatal = false;
    du_effects fx = sup_broker_effects(broker);
    long long started = hl_now_ms();
    cJSON *reply = r->durable ? du_handle(r->durable, &fx, msg, sup_on_delta, r, fail_msg, sizeof fail_msg,
                                          &fatal)
                              : br_handle(broker, msg, sup_on_delta, r);
    if (!reply) {
        fail(res, "out of memory in the broker", r->opt->path);
        return false;
    }
    sup_account_call(r, res, method, params, reply, hl_now_ms() - started);
    /* Every wait the broker started was cut at the deadline (see
     * br_set_deadline): a request that ran into it ends the run. */
    if (r->deadline_ms && hl_now_ms() >= r->deadline_ms) {
        cJSON_Delete(reply);
        char what[200];
        snprintf(what, sizeof what, "the run was waiting for %.60s; raise --timeout", method);
        fail_timed_out(r, res, params, what);
        return false;
    }
    if (fatal) {
        /* The journal cannot vouch for what comes next: stop here. */
        cJSON_Delete(reply);
        fail_at_request(r, res, params, fail_msg);
        return false;
    }
    /* A runtime gone mid-effect: how it ended is told after the loop. */
    tx_status ws = write_frame_until(r, reply);
    if (ws == TX_EINVAL) {
        cJSON_Delete(reply);
        fail_at_request(r, res, params,
                        "the runtime stopped reading its input: the host's reply could not be "
                        "delivered before the run's time limit, so the run was stopped");
        return false;
    }
    if (ws != TX_OK) r->write_failed = true;
    cJSON_Delete(reply);
    return !r->write_failed;
}

/* Registers the run at a `tactus broker serve` control socket: the socket
 * (for the run's notifications) and the run's one-time token, or -1 with why. */
static int remote_register(const sup_run_options *opt, const cJSON *start, char *token, size_t cap,
                           char *why, size_t whycap)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    snprintf(sa.sun_path, sizeof sa.sun_path, "%s", opt->remote_control);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        snprintf(why, whycap,
                 "cannot reach the broker's control socket %s: %s (start it with `tactus broker "
                 "serve`, or set sandbox.broker_control)",
                 opt->remote_control, strerror(errno));
        if (fd >= 0) close(fd);
        return -1;
    }
    cJSON *reg = cJSON_CreateObject();
    cJSON_AddStringToObject(reg, "type", "register");
    cJSON_AddItemToObject(reg, "start", cJSON_Duplicate(start, 1));
    if (opt->mocks) cJSON_AddItemToObject(reg, "mocks", cJSON_Duplicate(opt->mocks, 1));
    cJSON_AddBoolToObject(reg, "mock_all", opt->mock_all);
    cJSON *reply = NULL;
    tx_status st = tp_write_frame(fd, reg);
    if (st == TX_OK) st = tp_read_frame(fd, TP_MAX_FRAME, &reply);
    cJSON_Delete(reg);
    const char *type = hl_json_str(reply, "type"), *t = hl_json_str(reply, "token");
    if (st != TX_OK || !type || strcmp(type, "registered") != 0 || !t || strlen(t) >= cap) {
        snprintf(why, whycap, "the broker at %s did not register the run: %s", opt->remote_control,
                 hl_json_str(reply, "reason") ? hl_json_str(reply, "reason") : tx_status_str(st));
        cJSON_Delete(reply);
        close(fd);
        return -1;
    }
    snprintf(token, cap, "%s", t);
    cJSON_Delete(reply);
    return fd;
}

tx_status sup_run(const sup_run_options *opt, sup_run_result *res)
{
    memset(res, 0, sizeof *res);
    res->status = SUP_FAILED;
    if (opt->run_id)
        snprintf(res->run_id, sizeof res->run_id, "%s", opt->run_id);
    else
        hl_new_run_id(res->run_id);
    br_broker *broker = br_broker_new(opt->config, opt->mocks, opt->mock_all);
    if (!broker) return TX_ENOMEM;
    br_set_audit(broker, opt->audit_path, opt->tenant);
    /* A shared store keeps the audit log of every worker in one place. */
    if (opt->journal && strcmp(tj_backend_name(opt->journal), "postgresql") == 0)
        br_set_audit_sink(broker, audit_to_store, (void *)opt);
    br_set_interrupt(broker, broker_interrupted, (void *)opt);
    if (opt->test) br_set_test(broker, opt->test, opt->fixed_now_ms);
    br_set_effect(broker, res->run_id, -1);
    hl_child c = {-1, -1, -1, -1};
    const sb_launch *l = opt->launch;
    tx_status st = TX_OK;
    if (opt->pooled)
        c = opt->pooled->io; /* a container's server: its streams outlive the run */
    else if (opt->warm)
        c = opt->warm->io; /* started in advance: its runtime waits for us */
    else
        st = sb_launch_start(l, &c);
    if (st != TX_OK) {
        br_broker_free(broker);
        return st;
    }
    /* Frames to the runtime are written against the deadline. */
    if (c.in >= 0) fcntl(c.in, F_SETFL, fcntl(c.in, F_GETFL) | O_NONBLOCK);
    run_ctx r = {.opt = opt, .c = &c};
    if (opt->limits.wall_ms > 0) r.deadline_ms = hl_now_ms() + opt->limits.wall_ms;
    /* Real waits (a model's answer, its retries, a host command) end at the
     * deadline under the fixed clock of `tactus test` too; only Sleep
     * moves the fixed clock instead of waiting. */
    br_set_deadline(broker, r.deadline_ms);
    if (opt->journal) {
        r.durable = du_durable_new(opt->journal, res->run_id, opt->tenant ? opt->tenant : "default");
        if (!r.durable)
            fail(res, "out of memory", opt->path);
        else if (du_set_byte_cap(r.durable, journal_byte_cap(opt->config)) != TX_OK)
            fail(res, "the journal cannot be read to count the run's recorded bytes", opt->path);
        r.deltas = sup_deltas_new(opt->journal, opt->tenant ? opt->tenant : "default", res->run_id);
    }
    cJSON *start = start_frame(opt, res->run_id);
    if (opt->pooled && !res->error) {
        /* The pool's header before the start frame: the nonce its run.exit
         * will carry, which the runtime never sees. */
        char header[SB_POOL_HEADER_LEN + 1];
        if (!sb_pool_header(r.nonce, header))
            fail(res, "the kernel's random source cannot be read: no nonce for the pooled run", opt->path);
        else if (write_raw_until(&r, header, SB_POOL_HEADER_LEN) != TX_OK)
            fail(res, "could not start the run in its pooled container (it ended)", opt->path);
    }
    if (opt->remote_control) {
        /* The broker sends the start frame; the connector gets the token,
         * and the run's notifications come back on the control socket. */
        char token[128], why[512];
        int ctl = start ? remote_register(opt, start, token, sizeof token, why, sizeof why) : -1;
        if (ctl < 0) {
            fail(res, why, opt->path);
        } else {
            size_t tl = strlen(token);
            token[tl++] = '\n';
            if (write(c.in, token, tl) != (ssize_t)tl)
                fail(res, "could not start tactus-connect (it exited at once)", opt->path);
            explicit_bzero(token, sizeof token);
            close_fd(&c.in);
            close_fd(&c.out);
            c.out = ctl;
        }
    } else if (!start) {
        fail(res, "out of memory", opt->path);
    } else if ((st = write_frame_until(&r, start)) == TX_ELIMIT) {
        char m[400];
        snprintf(m, sizeof m,
                 "the run's first message (the source, %zu bytes, and the inputs) is over the "
                 "%u MiB limit of a frame, so nothing was run: pass large data as files in the "
                 "procedure's folder instead of inputs",
                 opt->source_len, TP_MAX_FRAME >> 20);
        fail(res, m, opt->path);
    } else if (st != TX_OK) {
        /* It died before reading its first message: a runtime killed at
         * start-up is told apart from one that could not start. */
        int ws = 0;
        char m[200] = "could not start tactus-runtime (it exited at once)";
        if (!opt->warm && !opt->pooled && !opt->launch->container[0] &&
            wait_child(c.pid, &ws, 1000) == c.pid && WIFSIGNALED(ws))
            snprintf(m, sizeof m, "tactus-runtime was killed by signal %d before it started",
                     WTERMSIG(ws));
        fail(res, m, opt->path);
    }
    cJSON_Delete(start);

    tp_decoder dec;
    tp_decoder_init(&dec, TP_MAX_FRAME);
    tx_buf errtext;
    tx_buf_init(&errtext, STDERR_KEEP);
    /* The host's own deadline: the runtime enforces its budget too, this one
     * catches a runtime that does not (a blocked or hostile process). */
    long long deadline = opt->limits.wall_ms > 0 ? hl_now_ms() + opt->limits.wall_ms + 2000 : 0;
    struct sigaction old_int, old_term;
    if (!opt->quiet_signals) sup_catch_interrupts(&old_int, &old_term);
    bool finished = false, running = res->error == NULL, killed_for_time = false;
    bool connector_gone = false; /* remote: tactus-connect exited */
    char buf[65536];
    while (running && (c.out >= 0 || c.err >= 0)) {
        struct pollfd fds[2] = {{c.out, POLLIN, 0}, {c.err, POLLIN, 0}};
        int timeout = -1;
        if (opt->stop) timeout = 200; /* the stop flag is looked at this often */
        if (deadline) {
            long long left = deadline - hl_now_ms();
            if (left <= 0) {
                killed_for_time = true;
                break;
            }
            if (timeout < 0 || left < timeout) timeout = left > INT_MAX ? INT_MAX : (int)left;
        }
        int n = poll(fds, 2, timeout);
        if (stopped(opt)) break;
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) break;
        if (fds[1].revents) {
            ssize_t k = read(c.err, buf, sizeof buf);
            if (k <= 0) {
                close_fd(&c.err);
                if (opt->remote_control && !finished) {
                    /* The connector is gone; the broker may still be
                     * forwarding the last frames. A moment, then give up. */
                    connector_gone = true;
                    long long grace = hl_now_ms() + 3000;
                    if (!deadline || grace < deadline) deadline = grace;
                }
            } else {
                if (opt->progress.verbose && opt->progress.out) fwrite(buf, 1, (size_t)k, opt->progress.out);
                tx_buf_append(&errtext, buf, (size_t)k); /* past the cap: dropped */
            }
        }
        if (fds[0].revents) {
            ssize_t k = read(c.out, buf, sizeof buf);
            if (k <= 0) {
                close_fd(&c.out);
                continue;
            }
            if (tp_decoder_feed(&dec, buf, (size_t)k) != TX_OK) {
                fail(res, "protocol error: the runtime sent an oversized frame", opt->path);
                break;
            }
            cJSON *msg;
            tx_status ds;
            while ((ds = tp_decoder_next(&dec, &msg)) == TX_OK && msg) {
                bool more = handle_frame(&r, broker, msg, res, &finished);
                cJSON_Delete(msg);
                if (!more) {
                    running = false;
                    break;
                }
            }
            if (ds != TX_OK) {
                fail(res, "protocol error: the runtime sent a malformed frame", opt->path);
                break;
            }
        }
    }
    sup_end_stream(&r);
    int wstatus = 0;
    pid_t w = 0;
    if (opt->pooled) {
        /* The container's server says how the run's process ended; the
         * streams stay open for the next run. Anything but a clean end
         * leaves the container to be retired (res->reusable false). */
        if (r.exited)
            wstatus = r.exit_status; /* ended without run.finish: retired */
        else if (!killed_for_time && !stopped(opt) && !r.write_failed)
            res->reusable = sup_await_run_exit(&dec, c.out, r.nonce, &wstatus) && finished;
        w = 1;
    } else if (opt->warm) {
        /* The keeper reports how the container ended: at once after a
         * finished run; else the container is stopped first. */
        close_fd(&c.in);
        if (!(finished && !killed_for_time && !stopped(opt) && sb_warm_wait(opt->warm, &wstatus, 5000))) {
            sb_warm_stop(opt->warm);
            if (!sb_warm_wait(opt->warm, &wstatus, 5000)) wstatus = 137 << 8;
        }
        w = 1;
    } else {
        close_fd(&c.in);
        /* A runtime that finished exits by itself; give it up to a second,
         * then kill. */
        w = waitpid(c.pid, &wstatus, WNOHANG);
        if (w == 0 && finished && !killed_for_time && !stopped(opt))
            w = wait_child(c.pid, &wstatus, 1000);
    }
    if (w == 0) {
        /* The container, if any: killing the CLI is not enough. `docker
         * run` ends once its container has stopped: wait for that (a few
         * seconds at most), so no container outlives the run. */
        sb_launch_stop(opt->launch);
        if (opt->launch->container[0]) w = wait_child(c.pid, &wstatus, 5000);
        if (w == 0) {
            kill(c.pid, SIGKILL);
            waitpid(c.pid, &wstatus, 0);
        }
    }
    if (!opt->pooled) {
        close_fd(&c.out);
        close_fd(&c.err);
    }
    if (opt->warm) opt->warm->io.in = opt->warm->io.out = opt->warm->io.err = -1; /* closed here */
    if (!opt->quiet_signals) sup_release_interrupts(&old_int, &old_term);
    if (stopped(opt) && !finished) {
        res->status = SUP_FAILED;
        cJSON_Delete(res->error);
        res->error = NULL;
        fail(res, "interrupted: the run was stopped", opt->path);
    } else if (connector_gone && !finished) {
        char m[700];
        snprintf(m, sizeof m, "tactus-connect ended before the run finished%s%.500s",
                 errtext.len ? ": " : "", errtext.data ? errtext.data : "");
        size_t ml = strlen(m);
        while (ml && m[ml - 1] == '\n') m[--ml] = '\0';
        res->status = SUP_FAILED;
        cJSON_Delete(res->error);
        res->error = NULL;
        fail(res, m, opt->path);
    } else if (killed_for_time) {
        char m[160];
        snprintf(m, sizeof m,
                 "timed out after %g s (the run's time limit, --timeout): the runtime was stopped",
                 (double)opt->limits.wall_ms / 1000.0);
        res->status = SUP_FAILED;
        cJSON_Delete(res->error);
        res->error = NULL;
        fail(res, m, opt->path);
    } else if (!finished && opt->launch->container[0] &&
               ((WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 137) ||
                (opt->pooled && WIFSIGNALED(wstatus) && WTERMSIG(wstatus) == SIGKILL))) {
        /* Docker reports a container the kernel killed (OOM) as exit 137. */
        char m[160];
        snprintf(m, sizeof m, "killed: out of memory (limit: %s)", opt->launch->memory);
        fail(res, m, opt->path);
    } else if (!finished) {
        char m[700];
        if (WIFSIGNALED(wstatus))
            snprintf(m, sizeof m, "tactus-runtime was killed by signal %d before finishing%s%.300s",
                     WTERMSIG(wstatus), errtext.len ? ": " : "", errtext.data ? errtext.data : "");
        else
            snprintf(m, sizeof m, "tactus-runtime exited (status %d) before finishing%s%.300s",
                     WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : -1, errtext.len ? ": " : "",
                     errtext.data ? errtext.data : "");
        if (opt->journal)
            snprintf(m + strlen(m), sizeof m - strlen(m),
                     " (every effect it got is journaled: `tactus resume %s` continues)", res->run_id);
        fail(res, m, opt->path);
    }
    tx_buf_free(&errtext);
    tp_decoder_free(&dec);
    sup_take_usage(res, broker);
    br_broker_free(broker);
    sup_deltas_free(r.deltas);
    du_durable_free(r.durable);
    return TX_OK;
}
