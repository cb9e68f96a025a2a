/*
 * sup_effects.c - how a journaled run's effects are carried out: through
 * the broker (durable replay calls sup_broker_effects' functions for what
 * the journal does not hold), with the model's streamed text recorded in
 * the store as it comes (tj_delta_append), so that whoever follows the run
 * from elsewhere (tactus serve's run events) sees it live, whichever
 * process runs it.
 *
 * What is recorded is what the broker passed on: redacted already
 * (br_redacting_delta holds back the tail of a stream that could be the
 * start of a secret). Pieces are coalesced: written at most every
 * SUP_DELTA_PERIOD_MS (a piece that comes later than that after the last
 * write goes at once), or when SUP_DELTA_CHUNK bytes wait; nothing is
 * written in a call's first SUP_DELTA_PERIOD_MS, so a call that answers
 * within them records nothing (its text comes with its journaled effect
 * at once: a mocked or fast call costs no write). Once a call has
 * written, the rest of its text is written when it ends, before its
 * effect is journaled, so a follower gets all of a call's text and gets
 * it before the call's record. A run records at most SUP_DELTA_CAP
 * characters (the rest is in its result); a failed write ends the
 * recording (the run never fails for it).
 */
#include <string.h>

#include "hostlib.h"
#include "journal.h"
#include "sup_internal.h"

#define SUP_DELTA_PERIOD_MS 50
#define SUP_DELTA_CHUNK 1024
#define SUP_DELTA_CAP (256LL * 1024)

struct sup_deltas {
    tj_journal *j; /* borrowed: the run's journal */
    char tenant[128];
    char run_id[40];
    long position;       /* the model call the pieces come from */
    tx_buf pending;
    long long call_ms;   /* when the call began (0: outside a call) */
    long long last_ms;   /* the last write */
    bool call_wrote;     /* this call's text began reaching the store */
    long long next_seq;  /* 0: not read from the store yet */
    long long chars;     /* recorded so far, by every process that ran the run */
    bool off;
};

sup_deltas *sup_deltas_new(tj_journal *j, const char *tenant, const char *run_id)
{
    sup_deltas *d = tx_calloc(1, sizeof *d);
    if (!d) return NULL;
    d->j = j;
    snprintf(d->tenant, sizeof d->tenant, "%s", tenant);
    snprintf(d->run_id, sizeof d->run_id, "%s", run_id);
    tx_buf_init(&d->pending, SUP_DELTA_CAP);
    return d;
}

/* What is waiting, to the store. */
static void write_pending(sup_deltas *d)
{
    if (!d->off && !d->next_seq) {
        /* Another process may have run the run before (a resume, a
         * worker that took it over): go on after its pieces. */
        long long last = 0;
        if (tj_delta_tail(d->j, d->tenant, d->run_id, &last, &d->chars) != TX_OK) d->off = true;
        d->next_seq = last + 1;
    }
    if (!d->off && d->chars + (long long)d->pending.len > SUP_DELTA_CAP) d->off = true;
    if (!d->off) {
        if (tj_delta_append(d->j, d->tenant, d->run_id, d->next_seq, d->position, d->pending.data) == TX_OK) {
            d->next_seq++;
            d->chars += (long long)d->pending.len;
            d->call_wrote = true;
            d->last_ms = hl_now_ms();
        } else {
            d->off = true;
        }
    }
    tx_buf_clear(&d->pending);
}

void sup_deltas_add(sup_deltas *d, const char *text)
{
    if (!d || d->off || !*text) return;
    if (tx_buf_append(&d->pending, text, strlen(text)) != TX_OK) {
        d->off = true; /* past the cap */
        return;
    }
    long long now = hl_now_ms();
    if (d->pending.len >= SUP_DELTA_CHUNK ||
        (now - d->call_ms >= SUP_DELTA_PERIOD_MS && now - d->last_ms >= SUP_DELTA_PERIOD_MS))
        write_pending(d);
}

void sup_deltas_end_call(sup_deltas *d)
{
    if (!d) return;
    if (d->pending.len && d->call_wrote) write_pending(d);
    tx_buf_clear(&d->pending);
    d->call_wrote = false;
    d->call_ms = 0;
}

void sup_deltas_start_call(sup_deltas *d, long position)
{
    if (!d) return;
    sup_deltas_end_call(d);
    d->position = position;
    d->call_ms = hl_now_ms();
}

void sup_deltas_free(sup_deltas *d)
{
    if (!d) return;
    sup_deltas_end_call(d);
    tx_buf_free(&d->pending);
    tx_free(d);
}

/* ---- effects: durable replay performs through the broker ----------------------------------- */

static cJSON *broker_perform(void *ud, const char *run_id, long position, const cJSON *request,
                             du_delta_fn delta, void *delta_ud)
{
    br_broker *b = ud;
    br_set_effect(b, run_id, position);
    /* delta_ud is the run (du_handle passes on what the supervisor gave it). */
    run_ctx *r = delta_ud;
    sup_deltas_start_call(r->deltas, position);
    cJSON *reply = br_handle(b, request, delta, delta_ud);
    /* The call's last text reaches the store before its effect does. */
    sup_deltas_end_call(r->deltas);
    return reply;
}

static void broker_replayed(void *ud, const cJSON *result)
{
    br_count_replayed(ud, result);
}

static bool broker_needs_approval(void *ud, const char *tool)
{
    return br_tool_needs_approval(ud, tool);
}

du_effects sup_broker_effects(br_broker *b)
{
    du_effects fx = {broker_perform, broker_replayed, broker_needs_approval, b};
    return fx;
}
