/* ev_internal.h - shared by the evals module's files only. */
#ifndef TACTUS_EV_INTERNAL_H
#define TACTUS_EV_INTERNAL_H

#include "evals.h"

#define EV_TEXT_MAX (1u << 20)

/* Checks an evaluator's configuration ({type, field, value, ...}); false
 * with a message naming what is missing or unknown. */
bool ev_evaluator_valid(const cJSON *cfg, char *err, size_t cap);
/* Whether every kind the evaluator catalogue (ck_evaluator_kinds) marks
 * implemented has a judge here, and every judge a kind there; false with
 * the first difference (test_evals). */
bool ev_judges_match_catalogue(char *why, size_t cap);
/* A short name for reports: "contains(greeting)". */
void ev_evaluator_label(const cJSON *cfg, char *out, size_t cap);
/* Judges one run: its output, the case's expected output (may be NULL) and
 * the runtime's facts (may be NULL). False with the reason. */
bool ev_evaluate(const cJSON *cfg, const cJSON *output, const cJSON *expected, const cJSON *report,
                 tx_buf *why);

#endif
