/*
 * queue.c - the queue's public face over the store (see queue.h): submit,
 * list, cancel, claim, renew, release. The SQL and its locks are the
 * journal's (tj_queue.c); this file names the policy.
 */
#include <string.h>

#include "queue.h"

tx_status rq_submit(tj_journal *j, const tj_run *r, const cJSON *options)
{
    return tj_queue_submit(j, r, options);
}

tx_status rq_list(tj_journal *j, const char *tenant, cJSON **out)
{
    return tj_queue_list(j, tenant, out);
}

tx_status rq_cancel(tj_journal *j, const char *tenant, const char *run_id)
{
    return tj_queue_cancel(j, tenant, run_id);
}

tx_status rq_claim(tj_journal *j, const char *tenant, const char *worker, long long lease_ms,
                   tj_claim *out)
{
    return tj_queue_claim(j, tenant, worker, lease_ms > 0 ? lease_ms : RQ_DEFAULT_LEASE_MS, out);
}

tx_status rq_renew(tj_journal *j, const tj_claim *c, const char *worker, long long lease_ms)
{
    return tj_queue_renew(j, c->tenant, c->run_id, worker, c->epoch,
                          lease_ms > 0 ? lease_ms : RQ_DEFAULT_LEASE_MS);
}

tx_status rq_release(tj_journal *j, const tj_claim *c, rq_outcome how, long long wake_ms)
{
    static const char *const states[] = {"done", "parked", "ready"};
    if (how == RQ_LOST) return TX_OK; /* another worker holds it: nothing to write */
    return tj_queue_release(j, c->tenant, c->run_id, c->epoch, states[how], how == RQ_PARKED ? wake_ms : 0);
}
