/*
 * evals.h - `tactus eval`: how often is the procedure right, over a dataset,
 * and how sure can we be.
 *
 * An Evaluation({dataset = {...}, dataset_file = "cases.jsonl", evaluators
 * = {...}, runs = N, thresholds = {...}, pass_k = {1, 3}, confidence =
 * 0.95}) block (inventory D) is read statically from the file; every case
 * runs N times (as `tactus test` runs a scenario: mocks, people answered at
 * once, fixed clock, in the sandbox by default); every evaluator judges
 * every run; a run passes when all evaluators pass. A run that could not be
 * judged (the provider down after its retries, a malformed judge verdict)
 * is an error, reported apart and not counted. The statistics
 * (evals/stats/evstats.h) give each rate its interval, pass@k, pass^k,
 * flakiness and consistency; the thresholds decide the verdict; a baseline
 * (a --save file of an earlier evaluation) is compared case by case.
 *
 * Everything reported comes from one results document (ev_suite_results,
 * its schema in docs/evaluations.md): the pretty text, JSON, JUnit and the
 * HTML page render it, and --save writes it, so they cannot disagree.
 *
 * Ownership: the suite borrows the fe_files and configs given to it.
 */
#ifndef TACTUS_EVALS_H
#define TACTUS_EVALS_H

#include <stdbool.h>
#include <stdio.h>

#include "specs.h"

/* Every run has its own budgets, so `runs` multiplies what an evaluation
 * may spend: these bound it (docs/evaluations.md). */
#define EV_MAX_RUNS_PER_CASE       CK_EVAL_MAX_RUNS_PER_CASE
#define EV_MAX_RUNS_PER_EVALUATION CK_EVAL_MAX_RUNS_PER_EVALUATION
/* The results document's schema (docs/evaluations.md). */
#define EV_SCHEMA_VERSION 2

typedef enum { EV_PROGRESS_NONE, EV_PROGRESS_LINES, EV_PROGRESS_LIVE } ev_progress;

typedef struct {
    int runs;             /* > 0: runs per case instead of the file's `runs` */
    int jobs;             /* runs in flight */
    bool mock;            /* every agent's (and judge's) turns come from Mocks */
    bool timings;         /* durations in the pretty report */
    ev_progress progress; /* on stderr: a live line on a terminal, else a line now and then */
    double alpha;         /* significance of the comparison with a baseline (0.05) */
    bool fail_on_regression;
    sup_limits limits;
    sp_launch_fn launch;
    void *launch_ud;
    sb_pool *pool; /* containers serving many runs, or NULL (see sp_options) */
} ev_options;

typedef struct ev_suite ev_suite;

ev_suite *ev_suite_new(void);
/* Adds the evaluations of a file (checked without errors by the checker).
 * TX_EINVAL with "file:line:col: what, and the fix" in err when a
 * declaration cannot be used (a dynamic dataset, an unknown evaluator, an
 * unreadable or malformed dataset file, a case without inputs, k > runs
 * after --runs, too many runs...). */
tx_status ev_suite_add(ev_suite *s, const fe_file *f, const cJSON *config, const char *workspace,
                       const ev_options *o, char *err, size_t cap);
size_t ev_suite_count(const ev_suite *s); /* evaluations */
size_t ev_suite_total_runs(const ev_suite *s);
/* Runs every case `runs` times. TX_EIO when interrupted (runs not made
 * count as failed). */
tx_status ev_suite_run(ev_suite *s, const ev_options *o);
/* The results document: statistics, thresholds and, with a baseline (a
 * document ev_baseline_load accepted, may be NULL), the comparison. NULL
 * when out of memory. */
cJSON *ev_suite_results(const ev_suite *s, const ev_options *o, const cJSON *baseline);
/* The verdict of a results document: every evaluation met its thresholds
 * and, with --fail-on-regression, none regressed significantly. */
bool ev_results_passed(const cJSON *doc);
void ev_suite_free(ev_suite *s);

/* Reads a --save file as a baseline: TX_EINVAL with "file:line:column:
 * what" in err when it is not JSON, not written by tactus eval, or of a
 * schema this version does not read. */
tx_status ev_baseline_load(const char *path, cJSON **out, char *err, size_t cap);

typedef enum { EV_FORMAT_PRETTY, EV_FORMAT_JSON, EV_FORMAT_JUNIT, EV_FORMAT_HTML } ev_format;
/* Renders a results document. */
void ev_results_write(const cJSON *doc, ev_format format, FILE *out, bool color, bool timings);

#endif
