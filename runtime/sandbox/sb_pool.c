/*
 * sb_pool.c - containers that serve many runs of one project (sandbox.h,
 * "pooled containers"): one per worker of `tactus test` / `tactus eval`.
 *
 * A container is reused only for a plan equal to the one that started it
 * (every flag, mount and limit; only the name differs), and only after a
 * run that finished cleanly; anything else retires it. The pool holds no
 * secret: the plans are the ones sb_launch_docker_pooled makes.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sb_internal.h"

typedef struct slot {
    char **argv; /* the plan's argv, names aside: the key */
    size_t argc;
    hl_child io;
    char container[SB_NAME_CAP];
    bool busy;
    struct slot *next;
} slot;

struct sb_pool {
    pthread_mutex_t lock;
    slot *slots;
};

sb_pool *sb_pool_new(void)
{
    sb_pool *p = tx_calloc(1, sizeof *p);
    if (p) pthread_mutex_init(&p->lock, NULL);
    return p;
}

static bool is_name(const char *arg)
{
    return strncmp(arg, "--name=", 7) == 0;
}

static bool same_plan(const slot *s, const sb_launch *plan)
{
    if (s->argc != plan->argc) return false;
    for (size_t i = 0; i < plan->argc; i++) {
        if (is_name(plan->argv[i]) && is_name(s->argv[i])) continue;
        if (strcmp(plan->argv[i], s->argv[i]) != 0) return false;
    }
    return true;
}

static void slot_free(slot *s)
{
    for (size_t i = 0; i < s->argc; i++) tx_free(s->argv[i]);
    tx_free(s->argv);
    tx_free(s);
}

static void close_io(hl_child *io)
{
    if (io->in >= 0) close(io->in);
    if (io->out >= 0) close(io->out);
    if (io->err >= 0) close(io->err);
    io->in = io->out = io->err = -1;
}

/* Kills the container (docker kill) and its docker CLI process. */
static void retire(slot *s)
{
    char *argv[] = {"docker", "kill", s->container, NULL};
    sb_docker_run(argv, NULL, NULL, NULL, 10000);
    close_io(&s->io);
    if (s->io.pid > 0) {
        kill(s->io.pid, SIGKILL);
        waitpid(s->io.pid, NULL, 0);
    }
    slot_free(s);
}

tx_status sb_pool_take(sb_pool *p, const sb_launch *plan, sb_pooled *r, char *err, size_t cap)
{
    memset(r, 0, sizeof *r);
    pthread_mutex_lock(&p->lock);
    for (slot **pp = &p->slots, *s; (s = *pp) != NULL; pp = &s->next) {
        if (s->busy || !same_plan(s, plan)) continue;
        if (waitpid(s->io.pid, NULL, WNOHANG) != 0) {
            /* Its container ended while idle (docker kill, dockerd
             * restarted, the pool's idle limit): a new one instead. */
            *pp = s->next;
            s->io.pid = -1;
            pthread_mutex_unlock(&p->lock);
            retire(s);
            return sb_pool_take(p, plan, r, err, cap);
        }
        s->busy = true;
        pthread_mutex_unlock(&p->lock);
        r->io = s->io;
        snprintf(r->container, sizeof r->container, "%s", s->container);
        r->slot = s;
        return TX_OK;
    }
    pthread_mutex_unlock(&p->lock);
    /* A new container: started outside the lock (docker takes a while). */
    slot *s = tx_calloc(1, sizeof *s);
    char **argv = s ? tx_calloc(plan->argc + 1, sizeof *argv) : NULL;
    if (!s || !argv) {
        tx_free(s);
        tx_free(argv);
        snprintf(err, cap, "out of memory");
        return TX_ENOMEM;
    }
    s->argv = argv;
    for (size_t i = 0; i < plan->argc; i++) {
        argv[i] = tx_strdup(plan->argv[i]);
        if (!argv[i]) {
            slot_free(s);
            snprintf(err, cap, "out of memory");
            return TX_ENOMEM;
        }
        s->argc = i + 1;
    }
    snprintf(s->container, sizeof s->container, "%s", plan->container);
    /* Any worker may use the container after this one's thread has ended:
     * no parent-death signal (it killed the docker CLI mid-run, losing the
     * run's last frames). Should the host die, its pipes close, the pool
     * ends on its input's end and the container with it. */
    if (hl_spawn(plan->argv, plan->envp, plan->cwd, HL_SPAWN_ANY_THREAD, &s->io) != TX_OK) {
        slot_free(s);
        snprintf(err, cap, "cannot start docker for a pooled container");
        return TX_EIO;
    }
    s->busy = true;
    pthread_mutex_lock(&p->lock);
    s->next = p->slots;
    p->slots = s;
    pthread_mutex_unlock(&p->lock);
    r->io = s->io;
    snprintf(r->container, sizeof r->container, "%s", s->container);
    r->slot = s;
    return TX_OK;
}

void sb_pool_give(sb_pool *p, sb_pooled *r, bool reusable)
{
    slot *s = r->slot;
    if (!s) return;
    pthread_mutex_lock(&p->lock);
    if (reusable) {
        s->busy = false;
    } else {
        for (slot **pp = &p->slots; *pp; pp = &(*pp)->next) {
            if (*pp == s) {
                *pp = s->next;
                break;
            }
        }
    }
    pthread_mutex_unlock(&p->lock);
    if (!reusable) retire(s);
    memset(r, 0, sizeof *r);
}

void sb_pool_free(sb_pool *p)
{
    if (!p) return;
    for (slot *s = p->slots, *next; s; s = next) {
        next = s->next;
        /* The server ends when its input closes: the container with it. */
        if (s->io.in >= 0) close(s->io.in);
        s->io.in = -1;
        pid_t w = 0;
        for (int i = 0; i < 200 && (w = waitpid(s->io.pid, NULL, WNOHANG)) == 0; i++) {
            struct timespec ts = {0, 10000000};
            nanosleep(&ts, NULL);
        }
        if (w > 0) s->io.pid = -1;
        retire(s); /* kills what is still there, frees the slot */
    }
    pthread_mutex_destroy(&p->lock);
    tx_free(p);
}

bool sb_pool_header(char nonce[SB_POOL_NONCE_HEX + 1], char header[SB_POOL_HEADER_LEN + 1])
{
    if (!hl_random_hex(nonce, SB_POOL_NONCE_HEX / 2)) return false;
    snprintf(header, SB_POOL_HEADER_LEN + 1, "run %s\n", nonce);
    return true;
}
