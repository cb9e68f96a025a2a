/*
 * evals.h - `tactus eval`: how often is the procedure right, over a dataset.
 *
 * An Evaluation({dataset = {...}, dataset_file = "cases.jsonl", evaluators
 * = {...}, runs = N, thresholds = {...}}) block (inventory D) is read
 * statically from the file; every case runs N times (as `tactus test`
 * runs a scenario: mocks, people answered at once, fixed clock, in the
 * sandbox by default); every evaluator judges every run; a case's run
 * passes when all evaluators pass; the thresholds decide the verdict.
 *
 * Ownership: the suite borrows the fe_files and configs given to it.
 */
#ifndef TACTUS_EVALS_H
#define TACTUS_EVALS_H

#include <stdbool.h>
#include <stdio.h>

#include "specs.h"

typedef struct {
    int runs;      /* > 0: runs per case instead of the file's `runs` */
    int jobs;      /* threads */
    bool mock;     /* every agent's turns come from Mocks */
    bool timings;  /* durations in the report */
    bool progress; /* a progress line on stderr */
    sup_limits limits;
    sp_launch_fn launch;
    void *launch_ud;
    sb_pool *pool; /* containers serving many runs, or NULL (see sp_options) */
} ev_options;

typedef struct ev_suite ev_suite;

ev_suite *ev_suite_new(void);
/* Adds the evaluations of a file. TX_EINVAL with "file:line:col: what" in
 * err when a declaration cannot be used (a dynamic dataset, an unknown
 * evaluator, an unreadable dataset file...). */
tx_status ev_suite_add(ev_suite *s, const fe_file *f, const cJSON *config, const char *workspace,
                       const ev_options *o, char *err, size_t cap);
size_t ev_suite_count(const ev_suite *s); /* evaluations */
tx_status ev_suite_run(ev_suite *s, const ev_options *o);
void ev_suite_write(const ev_suite *s, const ev_options *o, bool json, FILE *out, bool color);
/* Every evaluation met its thresholds (without thresholds: every run passed). */
bool ev_suite_passed(const ev_suite *s);
void ev_suite_free(ev_suite *s);

#endif
