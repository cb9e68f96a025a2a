/*
 * durable.h - checkpoint and replay over the journal: each effect a run
 * asks for is recorded by position and fingerprint before its result
 * reaches the runtime; a resumed run gets recorded effects back without
 * performing them again, and fails closed when a request differs from the
 * one recorded. Human requests with no answer suspend the run; their
 * answers and timeouts are read from the journal.
 *
 * Errors: every request gets one final event; a run that must stop (a
 * journal it cannot trust or write, a diverged replay) gets *fatal and a
 * message saying why.
 */
#ifndef TACTUS_DURABLE_H
#define TACTUS_DURABLE_H

#include <cjson/cJSON.h>
#include <stdbool.h>

#include "base.h"
#include "journal.h"

typedef struct du_durable du_durable;

/* Streaming output of a performed effect, passed through as it comes. */
typedef void (*du_delta_fn)(void *ud, const cJSON *delta);

/* The error type of an effect that was cut before it finished (the run is
 * stopping; the broker's BR_INTERRUPTED): never recorded, so the effect is
 * performed again when the run resumes. */
#define DU_INTERRUPTED "Interrupted"

/* How effects that are not in the journal are carried out (the broker's,
 * for the supervisor). */
typedef struct {
    /* Performs `request`, the effect at `position` of run `run_id`: its
     * final event (NULL only when out of memory). */
    cJSON *(*perform)(void *ud, const char *run_id, long position, const cJSON *request,
                      du_delta_fn on_delta, void *delta_ud);
    /* An llm.chat answered from the journal (budgets count it); may be NULL. */
    void (*replayed)(void *ud, const cJSON *result);
    /* Whether a host tool must be approved by a person before it runs. */
    bool (*needs_approval)(void *ud, const char *tool);
    void *ud;
} du_effects;

/* Journals the effects of run `run_id` (tenant-scoped); all borrowed. */
du_durable *du_durable_new(tj_journal *j, const char *run_id, const char *tenant);
void du_durable_free(du_durable *d);
/* The most bytes the run's recorded effects may hold, over its whole life
 * (what earlier processes recorded counts): an effect that would pass it
 * stops the run. 0: no cap. TX_EIO when the journal cannot be read. */
tx_status du_set_byte_cap(du_durable *d, long long cap);
/* Answers a request from the journal when it is recorded at this position
 * (failing closed if it differs), else performs it through `fx` and
 * records it before returning (an effect cut with DU_INTERRUPTED is not
 * recorded, and *fatal is set). *fatal is set when the run must stop;
 * fail_msg then says why. */
cJSON *du_handle(du_durable *d, const du_effects *fx, const cJSON *request, du_delta_fn on_delta,
                 void *ud, char *fail_msg, size_t cap, bool *fatal);

/* Whether `answer` fits the human request of kind `kind` whose params are
 * `request` (options, mode, min/max, items): false with `why` saying what
 * was expected. An approval's yes/no is the caller's to build. Shared by
 * `tactus approve` and `tactus serve` (du_answer.c). */
bool du_answer_fits(const char *kind, const cJSON *request, const cJSON *answer, char *why,
                    size_t cap);

#endif
