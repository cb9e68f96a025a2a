/*
 * journal.h - durable runs: the record of every effect of a run, so that a
 * resumed run is answered from storage and never performs an effect twice.
 *
 * Storage is one SQLite file in WAL mode with synchronous=FULL, or a
 * PostgreSQL database (`postgres://` URL, libpq) that many machines share:
 * when a function here returns TX_OK after a write, the record is durable.
 * Every run, human request, queue entry and audit record belongs to a
 * tenant; every function that reads or writes a run takes the tenant and
 * every query is scoped by it, so one tenant can neither see nor answer
 * another's.
 *
 * Model (docs/durability.md):
 *   runs            id, tenant, procedure path and sha256, source, inputs,
 *                   status running|waiting|completed|failed, output, error, times
 *   effects         (run, position) -> kind, fingerprint, request, result, duration
 *   human_requests  id, run, position, kind, message, options, deadline,
 *                   default, status pending|answered|timed_out, answer, who,
 *                   when, and the hash of the request the answer was given to
 *   run_notes       (run, seq) -> kind, detail: decisions such as resuming
 *                   with a changed source
 *   run_queue       run -> ready|leased|parked|done|cancelled, the worker,
 *                   its lease and epoch (tactus submit / worker; tj_queue_*)
 *   audit_log       (tenant, run, seq) -> one brokered call or answer
 *   run_deltas      (run, seq) -> the model's streamed text while the run
 *                   runs (not the journal: never replayed; tj_delta_*)
 *   schema_version  the migrations applied (tj_schema_*)
 *
 * Errors: tx_status; TX_EIO with a message for SQLite failures, TX_ENOENT for
 * a run or request that does not exist (for this tenant).
 */
#ifndef TACTUS_JOURNAL_H
#define TACTUS_JOURNAL_H

#include <cjson/cJSON.h>

#include "base.h"

typedef struct tj_journal tj_journal;

/* Opens the journal at `where`: a `postgres://` or `postgresql://` URL
 * (libpq), else a SQLite file (created if needed). A SQLite file is brought
 * to the current schema version; a PostgreSQL store must be at it already
 * (tj_migrate). A store of a newer version is refused (TX_EINVAL). */
tx_status tj_open(const char *where, tj_journal **out, char *err, size_t errlen);
void tj_close(tj_journal *j);
/* Opens the store at `where` and brings its schema to the current version
 * (`tactus store migrate`); *from is the version it had. Safe to run while
 * others use the store, and twice at once. */
tx_status tj_migrate(const char *where, int *from, char *err, size_t errlen);
/* The schema version this tactus writes. */
int tj_schema_latest(void);
/* The migrations a store has applied: [{version, description, applied_ms}]. */
tx_status tj_schema_list(tj_journal *j, cJSON **out);
/* Whether `where` names a PostgreSQL store rather than a SQLite file. */
bool tj_store_is_url(const char *where);
/* `where` as it may be shown: a URL's password (user:PASSWORD@, and
 * password=... among its parameters) replaced by "***". */
void tj_store_display(const char *where, char *out, size_t cap);
/* The name of the store's backend: "sqlite" or "postgresql". */
const char *tj_backend_name(const tj_journal *j);
/* How many times the store failed a statement since it was opened (a
 * worker hands a run back rather than marking it failed when the store,
 * not the procedure, failed it). */
long tj_store_failures(const tj_journal *j);
/* The default location: $TACTUS_STORE, else $XDG_DATA_HOME/tactus/journal.db,
 * else ~/.local/share/tactus/journal.db. */
void tj_default_path(char *out, size_t cap);
/* The host key sealing every run's rows (HMAC-SHA256 chain, see
 * docs/durability.md): $TACTUS_JOURNAL_KEY (a file: every machine sharing
 * a PostgreSQL store needs the same key), else
 * $XDG_DATA_HOME/tactus/journal.key, else ~/.local/share/tactus/journal.key;
 * made (0600) on first use, refused by tj_open when others can read it or
 * it is not the user's. */
void tj_key_path(char *out, size_t cap);

/* ---- runs ------------------------------------------------------------------------------ */

typedef struct {
    char id[40];
    char tenant[128];
    char *procedure_path; /* owned */
    char source_sha256[65];
    char *source;         /* owned */
    cJSON *inputs;        /* owned */
    char status[16];
    cJSON *output;        /* owned, may be NULL */
    cJSON *error;         /* owned, may be NULL */
    long long created_ms, updated_ms;
} tj_run;

void tj_run_free(tj_run *r);
tx_status tj_run_create(tj_journal *j, const tj_run *r);
tx_status tj_run_finish(tj_journal *j, const char *tenant, const char *run_id, const char *status,
                        const cJSON *output, const cJSON *error);
tx_status tj_run_get(tj_journal *j, const char *tenant, const char *run_id, tj_run *out);
/* Checks the seals of every row of a run, in journal order: TX_OK, or
 * TX_EINVAL with a message naming the run, the row and what failed
 * (tj_last_error); TX_ENOENT for no such run of this tenant. Writes to a run
 * whose seals do not hold are refused the same way. */
tx_status tj_run_verify(tj_journal *j, const char *tenant, const char *run_id);
/* Records a decision about a run in its sealed chain (kind
 * "allow_changed_source": resumed with a source that changed since it
 * started; detail: {path, old_sha256, new_sha256}). */
tx_status tj_run_note(tj_journal *j, const char *tenant, const char *run_id, const char *kind,
                      const cJSON *detail);
/* The notes of a run in order: [{seq, kind, detail, created_ms}]. */
tx_status tj_run_notes(tj_journal *j, const char *tenant, const char *run_id, cJSON **out);
/* Runs of a tenant, newest first, optionally with one status: a JSON array
 * of {run_id, status, procedure, created_ms, updated_ms}. */
tx_status tj_run_list(tj_journal *j, const char *tenant, const char *status, cJSON **out);

/* ---- effects ----------------------------------------------------------------------------- */

typedef struct {
    bool found;
    char kind[32];
    char fingerprint[65];
    cJSON *request; /* owned */
    cJSON *result;  /* owned: the final event the runtime got, {event, data|error} */
    long long duration_ms;
} tj_effect;

void tj_effect_free(tj_effect *e);
tx_status tj_effect_get(tj_journal *j, const char *tenant, const char *run_id, long position,
                        tj_effect *out);
/* Records an effect (in one durable transaction). Recording a position that
 * exists already is an error: history is never rewritten. */
tx_status tj_effect_put(tj_journal *j, const char *tenant, const char *run_id, long position,
                        const char *kind,
                        const char *fingerprint, const cJSON *request, const cJSON *result,
                        long long duration_ms);
/* Replaces the result of a recorded effect (a checkpoint's, once its
 * function has run: see checkpoint.commit in docs/protocol.md). */
tx_status tj_effect_set_result(tj_journal *j, const char *tenant, const char *run_id,
                               long position, const cJSON *result);
/* Number of recorded effects of a run. */
long tj_effect_count(tj_journal *j, const char *tenant, const char *run_id);
/* Bytes of the requests and results recorded for a run (-1 on error). */
long long tj_effect_bytes(tj_journal *j, const char *tenant, const char *run_id);
/* All effects of a run in order, as a JSON array (tactus show). */
tx_status tj_effect_list(tj_journal *j, const char *tenant, const char *run_id, cJSON **out);

/* The fingerprint of a request: sha256 of the method and the canonical JSON
 * (keys sorted) of its params, minus fields that carry no meaning for
 * replay (the source line). */
void tj_fingerprint(const char *method, const cJSON *params, char hex[65]);
/* Canonical JSON text (keys sorted, no spaces); the caller frees with tx_free. */
char *tj_canonical_json(const cJSON *v);

/* ---- human requests -------------------------------------------------------------------------- */

typedef struct {
    char id[48];
    char run_id[40];
    char tenant[128];
    long position;
    char kind[16];
    char *message;        /* owned */
    cJSON *request;       /* owned: the whole request params */
    long long deadline_ms; /* 0: none */
    cJSON *default_value; /* owned, may be NULL */
    char status[16];      /* pending, answered, timed_out */
    cJSON *answer;        /* owned, may be NULL */
    char answered_by[128];
    long long answered_ms, created_ms;
    char request_hash[65];
} tj_human;

void tj_human_free(tj_human *h);
tx_status tj_human_put(tj_journal *j, const tj_human *h);
/* The request of a run at a position, if any. */
tx_status tj_human_at(tj_journal *j, const char *tenant, const char *run_id, long position,
                      tj_human *out);
tx_status tj_human_get(tj_journal *j, const char *tenant, const char *request_id, tj_human *out);
/* Whether a person may no longer answer h: its deadline has passed. */
bool tj_human_late(const tj_human *h);
/* Whether h's run is finished (completed or failed, which includes
 * cancelled): its requests are over, unanswerable and not listed. */
bool tj_human_run_over(tj_journal *j, const tj_human *h);
/* Records an answer, bound to the hash of the request it answers: it is
 * refused (TX_EINVAL) when `request_hash` is not the stored one, or when the
 * request is not pending. A person's answer (status "answered") is refused
 * too once the request's deadline has passed (its default applies at the
 * next resume: tj_human_late) or its run is finished (completed, failed,
 * cancelled: tj_human_run_over). */
tx_status tj_human_answer(tj_journal *j, const char *tenant, const char *request_id,
                          const char *request_hash, const cJSON *answer, const char *who,
                          const char *status);
/* Pending requests of a tenant (all runs), oldest first, as a JSON array of
 * {request_id, run_id, position, kind, status, message, created_ms,
 * deadline_ms?, timed_out (its deadline has passed: the default applies at
 * the next resume), default, request_hash}. */
tx_status tj_human_pending(tj_journal *j, const char *tenant, cJSON **out);
/* One request as the two lists above show it (the caller owns it). */
cJSON *tj_human_json(const tj_human *h);
/* Every request of a run, in order, the same way; answered ones also with
 * answer, answered_by and answered_ms. */
tx_status tj_human_of_run(tj_journal *j, const char *tenant, const char *run_id, cJSON **out);

/* ---- runs of one process at a time, and leases ------------------------------------------ */

/* Holds run `run_id` for this process until tj_close (or its death, even by
 * SIGKILL): TX_OK, or TX_ELIMIT when another process holds it (a second
 * resume of one run would perform its next effect twice). SQLite: a lock
 * file beside the store; PostgreSQL: a session advisory lock. */
tx_status tj_run_hold(tj_journal *j, const char *run_id);
/* From now on every write to run `run_id` through this handle (effects,
 * requests, answers, notes, its outcome) first checks, in the same
 * transaction, that the run's queue entry is still leased with `epoch`:
 * a worker whose lease was taken over (it stalled, or its clock jumped)
 * writes nothing more and gets TX_EINVAL ("the lease ... was taken over").
 * 0 ends the fence. */
void tj_fence(tj_journal *j, const char *run_id, long long epoch);

/* ---- the run queue (tj_queue.c; runtime/queue's rq_ is the public face) ------------------ */

typedef struct {
    char run_id[40];
    char tenant[128];
    long long epoch;      /* the lease's fencing token: bumped by every claim */
    long long attempts;   /* claims so far, this one included */
    cJSON *options;       /* owned: how to run it ({no_sandbox, mock, ...}) */
    char state[16];       /* what it was before the claim: ready, parked or leased (taken over) */
} tj_claim;

void tj_claim_free(tj_claim *c);
/* Records run `r` (as tj_run_create) and queues it, in one transaction;
 * wakes listening workers. */
tx_status tj_queue_submit(tj_journal *j, const tj_run *r, const cJSON *options);
/* Claims the oldest run of `tenant` that is ready, parked past its wake
 * time (a timeout to apply), or leased by a worker whose lease ran out (on
 * the store's clock): leased to `worker` for lease_ms, epoch + 1 (and
 * `resumed` + 1 when it was taken over from such a worker). TX_OK
 * with *out filled, TX_ENOENT when none. */
tx_status tj_queue_claim(tj_journal *j, const char *tenant, const char *worker, long long lease_ms,
                         tj_claim *out);
/* Extends a lease (the heartbeat): TX_OK, or TX_EINVAL when it was taken
 * over or cancelled (the run must stop). */
tx_status tj_queue_renew(tj_journal *j, const char *tenant, const char *run_id, const char *worker,
                         long long epoch, long long lease_ms);
/* Gives a leased run back: "ready" (another worker resumes it), "parked"
 * (it waits for a person; wake_ms: when its first timeout passes, 0 none),
 * or "done". TX_EINVAL when the lease is no longer this epoch's. */
tx_status tj_queue_release(tj_journal *j, const char *tenant, const char *run_id, long long epoch,
                           const char *state, long long wake_ms);
/* Cancels a queued, parked or leased run (a leased one stops at its next
 * write or heartbeat) and marks it failed. TX_ENOENT: no such queued run,
 * TX_EINVAL: it is done already. */
tx_status tj_queue_cancel(tj_journal *j, const char *tenant, const char *run_id);
/* The tenant's queue, oldest first: [{run_id, state, worker, epoch,
 * attempts (claims), resumed (claims that took the run over from a worker
 * that died or handed it back unfinished), lease_left_ms, wake_ms,
 * enqueued_ms, status}]. */
tx_status tj_queue_list(tj_journal *j, const char *tenant, cJSON **out);
/* The queue state of one run (ready, leased, parked, done, cancelled);
 * TX_ENOENT when it was never queued. */
tx_status tj_queue_state(tj_journal *j, const char *tenant, const char *run_id, char *state, size_t cap);
/* From now on tj_queue_wait can be woken (PostgreSQL LISTEN). false when
 * the store cannot notify (SQLite): then the caller polls. */
bool tj_queue_listen(tj_journal *j);
/* Waits at most timeout_ms for work (a submit, an answer; deltas after
 * tj_delta_listen): 1 woken, 0 the
 * time passed, -1 the connection failed (the caller reconnects). Without
 * tj_queue_listen, sleeps. */
int tj_queue_wait(tj_journal *j, long timeout_ms);

/* ---- the audit log in the store (tj_audit.c) ---------------------------------------------- */

/* Appends one record (an object naming "run") for `tenant`. */
tx_status tj_audit_append(tj_journal *j, const char *tenant, const cJSON *record);
/* The records of a run, in order, as a JSON array. */
tx_status tj_audit_list(tj_journal *j, const char *tenant, const char *run_id, cJSON **out);

/* ---- live deltas (tj_delta.c): a run's streamed output, outside its journal -------------- */

/* The channel told of each new delta (PostgreSQL NOTIFY, payload the run id). */
#define TJ_DELTA_CHANNEL "tactus_deltas"
/* How long a finished run's deltas are kept for those still reading them. */
#define TJ_DELTA_GRACE_MS 60000LL

/* Appends a piece of run `run_id`'s streamed output (redacted already) as
 * number `seq`, from the model call at effect `position`; wakes listeners.
 * Nothing is written for a run of another tenant. */
tx_status tj_delta_append(tj_journal *j, const char *tenant, const char *run_id, long long seq, long position,
                          const char *text);
/* The run's highest delta number and the characters its deltas hold (0, 0:
 * none): where a process that takes the run over goes on from. */
tx_status tj_delta_tail(tj_journal *j, const char *tenant, const char *run_id, long long *last_seq,
                        long long *chars);
/* The run's deltas numbered above `after`, in order, at most `limit`:
 * [{seq, position, text}]. */
tx_status tj_delta_list(tj_journal *j, const char *tenant, const char *run_id, long long after, int limit,
                        cJSON **out);
/* Deletes the deltas of runs that finished at least grace_ms ago (every
 * tenant's; tj_run_finish calls it with tj_delta_grace_ms()). */
tx_status tj_delta_prune(tj_journal *j, long long grace_ms);
/* TJ_DELTA_GRACE_MS, or $TACTUS_DELTA_GRACE_MS when set. */
long long tj_delta_grace_ms(void);
/* From now on tj_queue_wait also wakes for new deltas (PostgreSQL LISTEN);
 * false when the store cannot notify (SQLite: the reader polls). */
bool tj_delta_listen(tj_journal *j);

const char *tj_last_error(const tj_journal *j);

#endif
