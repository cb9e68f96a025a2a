/*
 * sup_internal.h - what the files of runtime/supervisor/ share (not a
 * public header): a run's state while it goes on, and the display.
 */
#ifndef TACTUS_SUP_INTERNAL_H
#define TACTUS_SUP_INTERNAL_H

#include "durable.h"
#include "hostlib.h"
#include "proto.h"
#include "sandbox.h"
#include "supervisor.h"

typedef struct sup_deltas sup_deltas;

typedef struct {
    const sup_run_options *opt;
    hl_child *c;
    du_durable *durable; /* NULL when the run is not journaled */
    sup_deltas *deltas;  /* its streamed output to the store; NULL when not journaled */
    bool streaming; /* a token stream is being printed: end it with a newline */
    bool write_failed;
    long long deadline_ms; /* CLOCK_MONOTONIC: the end of the run's --timeout, 0: none */
    long long shown;       /* bytes of the procedure's text shown on the terminal */
    bool exited;           /* pooled: the server's run.exit came (exit_status holds it) */
    char nonce[SB_POOL_NONCE_HEX + 1]; /* pooled: what the pool's run.exit must carry */
    int exit_status;       /* in waitpid's encoding */
} run_ctx;

/* ---- what the user sees (sup_show.c) ------------------------------------------------------ */

/* Whether n more bytes of the procedure's text may be shown (the per-run
 * cap; past it, one note and nothing more). */
bool sup_may_show(run_ctx *r, size_t n);
/* Ends a token stream being printed with a newline. */
void sup_end_stream(run_ctx *r);
/* A log.emit notification: print, or a log line with its level and context. */
void sup_show_log(run_ctx *r, const cJSON *params);
/* Deltas from the broker: tokens shown as they come. */
void sup_on_delta(void *ud, const cJSON *delta);
void sup_show_tool_call(run_ctx *r, const cJSON *params);
/* A brokered call as it ends (-v): what, its tokens or outcome, how long. */
void sup_show_call(run_ctx *r, const char *what, const char *detail, long long ms);
void sup_show_stage(run_ctx *r, const char *stage);

/* ---- a pooled container's run.exit (sup_pooled.c) ---------------------------------------- */

/* run.exit's {code, signal} in waitpid's encoding. */
int sup_exit_status_of(const cJSON *params);
/* Whether a run.exit's params carry the run's nonce (the pool's own). */
bool sup_run_exit_is_pools(const cJSON *params, const char *nonce);
/* After a pooled run: frames (the decoder's first) until run.exit, 2 s at
 * most; true only for the pool's own, clean one. */
bool sup_await_run_exit(tp_decoder *dec, int fd, const char *nonce, int *wstatus);

/* ---- effects through the broker, live deltas in the store (sup_effects.c) ------------------ */

/* How durable replay performs what the journal does not hold: through `b`;
 * the delta callback's data must be the run's run_ctx. */
du_effects sup_broker_effects(br_broker *b);

/* Records the streamed text of run `run_id` into `j` (borrowed). */
sup_deltas *sup_deltas_new(tj_journal *j, const char *tenant, const char *run_id);
/* Ends the call (sup_deltas_end_call), then frees. */
void sup_deltas_free(sup_deltas *d);
/* A model call at effect `position` begins (the one before ends). */
void sup_deltas_start_call(sup_deltas *d, long position);
/* A piece of text (redacted); written coalesced. */
void sup_deltas_add(sup_deltas *d, const char *text);
/* The call ended (before its effect is journaled): the rest of its text is
 * written if some was, else none of it (its effect carries it). */
void sup_deltas_end_call(sup_deltas *d);

/* ---- usage (sup_usage.c) ------------------------------------------------------------------- */

/* Counts a brokered tool call into res->usage; under -v shows any call
 * (`method`, its `params`) with its tokens, cost and the `ms` it took. */
void sup_account_call(run_ctx *r, sup_run_result *res, const char *method, const cJSON *params,
                      const cJSON *reply, long long ms);
/* At the run's end: the broker's count of its model calls into res->usage
 * (kept: the tool calls counted above). */
void sup_take_usage(sup_run_result *res, const br_broker *broker);

#endif
