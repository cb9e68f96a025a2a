/*
 * queue.h - the run queue and its workers (`tactus submit`, `tactus worker`,
 * and the HTTP service built on them): runs queued in the journal's store,
 * claimed by workers under leases (PostgreSQL: SELECT ... FOR UPDATE SKIP
 * LOCKED; leases expire on the database's clock), kept by a heartbeat,
 * taken over by replay when a worker dies, handed back when a run waits for
 * a person, woken by LISTEN/NOTIFY when someone answers (polling as the
 * fallback), drained on SIGTERM. docs/scaling.md.
 *
 * A claim carries an epoch, the fencing token: every write the worker makes
 * to the run afterwards is checked against it in the same transaction
 * (tj_fence), so a worker that stalled past its lease, or whose clock
 * jumped, cannot write once another worker holds the run.
 *
 * The queue's state lives in the store (runtime/journal's tj_queue_*): the
 * functions below are its public face, with the lease policy; nothing here
 * keeps state of its own between calls. Errors: tx_status, the message in
 * tj_last_error of the journal given.
 */
#ifndef TACTUS_QUEUE_H
#define TACTUS_QUEUE_H

#include <signal.h>
#include <stdio.h>

#include "journal.h"

/* The default lease and heartbeat: a worker renews every lease/3; a worker
 * that died is taken over one lease after its last renewal. */
#define RQ_DEFAULT_LEASE_MS 30000LL
#define RQ_DEFAULT_POLL_MS 1000L
#define RQ_DEFAULT_GRACE_MS 30000LL

/* ---- the queue (for submitters and services) ------------------------------------------- */

/* Records a run (its procedure, source and inputs, as tj_run_create) and
 * queues it for the workers of r->tenant; `options` ({mock}) say how to run
 * it. Workers listening on the store are woken. */
tx_status rq_submit(tj_journal *j, const tj_run *r, const cJSON *options);
/* The tenant's queue, oldest first (tj_queue_list's fields). */
tx_status rq_list(tj_journal *j, const char *tenant, cJSON **out);
/* Cancels a queued, parked or running run; a running one stops at its
 * worker's next write or heartbeat. */
tx_status rq_cancel(tj_journal *j, const char *tenant, const char *run_id);

/* ---- leases (for workers; rq_worker_run uses them) ---------------------------------------- */

/* Claims a run of `tenant` for `worker` (tj_queue_claim); TX_ENOENT: none. */
tx_status rq_claim(tj_journal *j, const char *tenant, const char *worker, long long lease_ms,
                   tj_claim *out);
/* The heartbeat: TX_EINVAL when the lease was taken over (stop the run). */
tx_status rq_renew(tj_journal *j, const tj_claim *c, const char *worker, long long lease_ms);
/* How a worker gives a run back. */
typedef enum {
    RQ_DONE,      /* completed or failed: its outcome is recorded */
    RQ_PARKED,    /* waiting for a person: woken by an answer, or at wake_ms */
    RQ_HAND_BACK, /* not finished (drain, store failure): another worker resumes it */
    RQ_LOST,      /* the lease was taken over: nothing more to write */
} rq_outcome;
tx_status rq_release(tj_journal *j, const tj_claim *c, rq_outcome how, long long wake_ms);

/* ---- the worker loop ------------------------------------------------------------------------ */

/* Runs one claimed run to its end, or until *stop is set (the lease was
 * lost, or the drain's grace period ran out). `j` is this slot's own
 * connection, fenced to the claim. *wake_ms: for RQ_PARKED, when its first
 * timeout passes (0: none). */
typedef rq_outcome (*rq_run_fn)(void *ud, tj_journal *j, const tj_claim *c,
                                volatile sig_atomic_t *stop, long long *wake_ms);

typedef struct {
    const char *store;           /* every thread opens its own connection */
    const char *const *tenants;  /* claimed in turn */
    size_t n_tenants;
    int concurrency;             /* runs at once (threads) */
    long long lease_ms;          /* 0: RQ_DEFAULT_LEASE_MS */
    long poll_ms;                /* the fallback when no notification comes; 0: default */
    long long grace_ms;          /* SIGTERM: how long running runs may finish; 0: default */
    bool exit_when_idle;         /* stop once nothing is left to claim or running (bench, tests) */
    const char *worker_id;       /* names the lease holder (host:pid when NULL) */
    rq_run_fn run;
    void *ud;
    FILE *log;                   /* one line per claim, release and lost lease; NULL: quiet */
} rq_worker_options;

/* Claims and runs until SIGTERM or SIGINT (then drains: no new claims,
 * running runs get grace_ms to finish, then are stopped and handed back),
 * or until idle with exit_when_idle. Installs its own handlers for SIGTERM
 * and SIGINT. TX_OK after a clean drain; TX_EIO with `err` when the store
 * could never be opened. *completed counts the runs it finished. */
tx_status rq_worker_run(const rq_worker_options *o, long *completed, char *err, size_t cap);

#endif
