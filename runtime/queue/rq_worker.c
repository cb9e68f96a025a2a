/*
 * rq_worker.c - `tactus worker`'s loop (queue.h): `concurrency` slot
 * threads, each with its own connection, claim and run; one heartbeat
 * thread renews the leases of every running claim and stops a run whose
 * lease was taken over; the main thread listens for notifications (a
 * submit, an answer) and wakes idle slots, polls when none come, and turns
 * SIGTERM into a drain.
 *
 * Threads share only `rq_state` under its mutex. Each connection is used by
 * one thread (libpq connections are not shared between threads).
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "queue.h"

typedef struct rq_state rq_state;

typedef struct {
    rq_state *state;
    bool active;
    tj_claim claim;
    volatile sig_atomic_t stop; /* 1: stop and hand back (drain); 2: lease lost */
} rq_slot;

struct rq_state {
    const rq_worker_options *o;
    char worker[200];
    long long lease_ms, grace_ms;
    long poll_ms;
    pthread_mutex_t mu;
    pthread_cond_t wake;
    rq_slot *slots;
    int idle_slots;         /* slots that found nothing to claim on their last try */
    bool draining, stopping;
    long completed;
    unsigned long wakeups;  /* bumped on every notification */
    int threads_left;       /* slot threads still running */
};

static volatile sig_atomic_t got_signal;

static void on_signal(int sig)
{
    got_signal = sig;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static long long mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void say(rq_state *s, const char *fmt, const char *run, long long epoch, const char *more)
{
    if (!s->o->log) return;
    pthread_mutex_lock(&s->mu);
    fprintf(s->o->log, "tactus worker %s: ", s->worker);
    fprintf(s->o->log, fmt, run, epoch, more ? more : "");
    fputc('\n', s->o->log);
    fflush(s->o->log);
    pthread_mutex_unlock(&s->mu);
}

static tj_journal *open_store(rq_state *s)
{
    char err[2048];
    tj_journal *j = NULL;
    if (tj_open(s->o->store, &j, err, sizeof err) != TX_OK) say(s, "%s%lld%s", "", 0, err);
    return j;
}

/* Waits for a wake-up or poll_ms, whichever first (mutex held). */
static void wait_for_work(rq_state *s, unsigned long seen)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    long long ns = until.tv_nsec + (long long)s->poll_ms * 1000000LL;
    until.tv_sec += (time_t)(ns / 1000000000LL);
    until.tv_nsec = (long)(ns % 1000000000LL);
    while (!s->draining && s->wakeups == seen)
        if (pthread_cond_timedwait(&s->wake, &s->mu, &until) == ETIMEDOUT) break;
}

/* Gives the run back; the store may be down for a moment (a restart): a few
 * tries, then the lease runs out and another worker takes the run over. */
static void release(rq_state *s, tj_journal *j, const tj_claim *c, rq_outcome how, long long wake)
{
    static const char *const names[] = {"done", "parked for a person", "handed back", "lost"};
    for (int attempt = 0; attempt < 5; attempt++) {
        tx_status st = rq_release(j, c, how, wake);
        if (st == TX_OK) {
            say(s, "run %s (epoch %lld): %s", c->run_id, c->epoch, names[how]);
            return;
        }
        if (st == TX_EINVAL) break; /* not ours any more */
        sleep_ms(200);
    }
    say(s, "run %s (epoch %lld): not released (%s); its lease runs out and another worker resumes it",
        c->run_id, c->epoch, tj_last_error(j));
}

static void *slot_main(void *arg)
{
    rq_slot *slot = arg;
    rq_state *s = slot->state;
    size_t turn = (size_t)(slot - s->slots);
    tj_journal *j = NULL;
    unsigned long seen = 0;
    for (;;) {
        pthread_mutex_lock(&s->mu);
        bool draining = s->draining;
        seen = s->wakeups;
        pthread_mutex_unlock(&s->mu);
        if (draining) break;
        if (!j && !(j = open_store(s))) {
            pthread_mutex_lock(&s->mu);
            wait_for_work(s, seen);
            pthread_mutex_unlock(&s->mu);
            continue;
        }
        tj_claim c;
        tx_status st = TX_ENOENT;
        for (size_t k = 0; k < s->o->n_tenants && st == TX_ENOENT; k++) {
            const char *tenant = s->o->tenants[(turn + k) % s->o->n_tenants];
            st = rq_claim(j, tenant, s->worker, s->lease_ms, &c);
        }
        turn++;
        if (st != TX_OK) {
            if (st != TX_ENOENT) say(s, "%s%lld%s", "", 0, tj_last_error(j));
            pthread_mutex_lock(&s->mu);
            s->idle_slots++;
            pthread_cond_broadcast(&s->wake); /* the main thread counts idle slots */
            wait_for_work(s, seen);
            s->idle_slots--;
            pthread_mutex_unlock(&s->mu);
            continue;
        }
        pthread_mutex_lock(&s->mu);
        slot->claim = c;
        slot->stop = 0;
        slot->active = true;
        pthread_mutex_unlock(&s->mu);
        say(s, "run %s (epoch %lld): claimed%s", c.run_id, c.epoch,
            !strcmp(c.state, "leased") ? ", taken over from a worker whose lease ran out" : "");
        long failures = tj_store_failures(j);
        tj_fence(j, c.run_id, c.epoch);
        long long wake = 0;
        rq_outcome how = s->o->run(s->o->ud, j, &c, &slot->stop, &wake);
        tj_fence(j, NULL, 0);
        /* The store failed under the run (a restart): not the procedure's
         * doing. Another worker (or this one) resumes it by replay. */
        if (how == RQ_DONE && tj_store_failures(j) != failures && slot->stop == 0) how = RQ_HAND_BACK;
        if (slot->stop == 2) how = RQ_LOST;
        else if (how == RQ_LOST) /* its write was refused: the fence's message */
            say(s, "run %s (epoch %lld): %s", c.run_id, c.epoch, tj_last_error(j));
        release(s, j, &c, how, wake);
        pthread_mutex_lock(&s->mu);
        slot->active = false;
        if (how == RQ_DONE) s->completed++;
        pthread_mutex_unlock(&s->mu);
        tj_claim_free(&c);
    }
    tj_close(j);
    pthread_mutex_lock(&s->mu);
    s->threads_left--;
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

/* Renews every running claim each lease/3; a lease taken over stops its run. */
static void *heartbeat_main(void *arg)
{
    rq_state *s = arg;
    tj_journal *j = NULL;
    for (;;) {
        bool stopping = false;
        long long step = s->lease_ms / 3;
        for (long long slept = 0; slept < step && !stopping; slept += 50) {
            sleep_ms(50);
            pthread_mutex_lock(&s->mu);
            stopping = s->stopping;
            pthread_mutex_unlock(&s->mu);
        }
        if (stopping) break;
        if (!j && !(j = open_store(s))) continue;
        for (int i = 0; i < s->o->concurrency; i++) {
            pthread_mutex_lock(&s->mu);
            bool active = s->slots[i].active;
            tj_claim c = s->slots[i].claim; /* the fields renew reads; options unused */
            pthread_mutex_unlock(&s->mu);
            if (!active) continue;
            tx_status st = rq_renew(j, &c, s->worker, s->lease_ms);
            if (st == TX_EINVAL) {
                s->slots[i].stop = 2; /* lost: write nothing more */
                say(s, "run %s (epoch %lld): lease lost (%s); stopping it", c.run_id, c.epoch,
                    tj_last_error(j));
            }
        }
    }
    tj_close(j);
    return NULL;
}

tx_status rq_worker_run(const rq_worker_options *o, long *completed, char *err, size_t cap)
{
    rq_state s;
    memset(&s, 0, sizeof s);
    s.o = o;
    s.lease_ms = o->lease_ms > 0 ? o->lease_ms : RQ_DEFAULT_LEASE_MS;
    s.poll_ms = o->poll_ms > 0 ? o->poll_ms : RQ_DEFAULT_POLL_MS;
    s.grace_ms = o->grace_ms > 0 ? o->grace_ms : RQ_DEFAULT_GRACE_MS;
    if (o->worker_id) {
        snprintf(s.worker, sizeof s.worker, "%s", o->worker_id);
    } else {
        char host[128] = "host";
        gethostname(host, sizeof host - 1);
        snprintf(s.worker, sizeof s.worker, "%s:%ld", host, (long)getpid());
    }
    *completed = 0;
    tj_journal *listener = NULL;
    char e[2048];
    if (tj_open(o->store, &listener, e, sizeof e) != TX_OK) {
        snprintf(err, cap, "%s", e);
        return TX_EIO;
    }
    bool listening = tj_queue_listen(listener);
    pthread_mutex_init(&s.mu, NULL);
    pthread_cond_init(&s.wake, NULL);
    s.slots = tx_calloc((size_t)o->concurrency, sizeof *s.slots);
    for (int i = 0; i < o->concurrency; i++) s.slots[i].state = &s;
    s.threads_left = o->concurrency;
    /* Signals reach the main thread only: the others block them. */
    got_signal = 0;
    struct sigaction sa, old_term, old_int;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, &old_term);
    sigaction(SIGINT, &sa, &old_int);
    sigset_t block, old_mask;
    sigemptyset(&block);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGINT);
    pthread_sigmask(SIG_BLOCK, &block, &old_mask);
    pthread_t *threads = tx_calloc((size_t)o->concurrency, sizeof *threads);
    pthread_t hb;
    for (int i = 0; i < o->concurrency; i++) pthread_create(&threads[i], NULL, slot_main, &s.slots[i]);
    pthread_create(&hb, NULL, heartbeat_main, &s);
    pthread_sigmask(SIG_SETMASK, &old_mask, NULL);
    if (o->log)
        fprintf(o->log, "tactus worker %s: %d slot%s, lease %lld ms, %s\n", s.worker, o->concurrency,
                o->concurrency == 1 ? "" : "s", s.lease_ms,
                listening ? "woken by LISTEN/NOTIFY (and polling)" : "polling the store");
    long long drain_until = 0;
    bool stopped_runs = false;
    for (;;) {
        /* While draining, woken at the end of the grace period, not up to
         * 250 ms after it: the runs are cut on time. */
        long wait_ms = s.poll_ms > 250 ? 250 : s.poll_ms;
        if (drain_until && !stopped_runs) {
            long long to_end = drain_until - mono_ms();
            if (to_end < wait_ms) wait_ms = to_end > 1 ? (long)to_end : 1;
        }
        int w = listening ? tj_queue_wait(listener, wait_ms) : 0;
        if (!listening) sleep_ms(50);
        if (w < 0) {
            /* The store went away (a restart): reconnect and listen again;
             * the slots poll meanwhile. */
            tj_close(listener);
            listener = NULL;
            listening = false;
            if (tj_open(o->store, &listener, e, sizeof e) == TX_OK) listening = tj_queue_listen(listener);
        } else if (!listening && listener == NULL && tj_open(o->store, &listener, e, sizeof e) == TX_OK) {
            listening = tj_queue_listen(listener);
        }
        pthread_mutex_lock(&s.mu);
        if (w > 0) {
            s.wakeups++;
            pthread_cond_broadcast(&s.wake);
        }
        int active = 0;
        for (int i = 0; i < o->concurrency; i++) active += s.slots[i].active;
        if (got_signal && !s.draining) {
            s.draining = true;
            drain_until = mono_ms() + s.grace_ms;
            pthread_cond_broadcast(&s.wake);
            if (o->log)
                fprintf(o->log, "tactus worker %s: draining (signal %d): no new claims; %d running "
                        "run%s get %lld ms to finish\n", s.worker, (int)got_signal, active,
                        active == 1 ? "" : "s", s.grace_ms);
        }
        if (o->exit_when_idle && !s.draining && active == 0 && s.idle_slots == o->concurrency) {
            s.draining = true;
            drain_until = mono_ms() + s.grace_ms;
            pthread_cond_broadcast(&s.wake);
        }
        if (s.draining && !stopped_runs && mono_ms() >= drain_until) {
            /* The grace period is over: stop what still runs; each is handed back. */
            for (int i = 0; i < o->concurrency; i++)
                if (s.slots[i].active && !s.slots[i].stop) s.slots[i].stop = 1;
            stopped_runs = true;
        }
        bool done = s.draining && s.threads_left == 0;
        pthread_mutex_unlock(&s.mu);
        if (done) break;
    }
    for (int i = 0; i < o->concurrency; i++) pthread_join(threads[i], NULL);
    pthread_mutex_lock(&s.mu);
    s.stopping = true;
    pthread_mutex_unlock(&s.mu);
    pthread_join(hb, NULL);
    *completed = s.completed;
    sigaction(SIGTERM, &old_term, NULL);
    sigaction(SIGINT, &old_int, NULL);
    tj_close(listener);
    tx_free(threads);
    tx_free(s.slots);
    pthread_cond_destroy(&s.wake);
    pthread_mutex_destroy(&s.mu);
    if (o->log) fprintf(o->log, "tactus worker %s: drained; %ld run%s completed\n", s.worker, s.completed,
                        s.completed == 1 ? "" : "s");
    return TX_OK;
}
