/*
 * specs.h - `tactus test`: runs the Gherkin Specifications of .tac files.
 *
 * A suite collects the scenarios of one or more parsed files (Background
 * steps prepended, Scenario Outlines expanded per Examples row, filtered by
 * name and tag expression), runs each scenario as one run of the procedure
 * (N times with --runs) on a pool of threads, and judges its steps:
 *
 *   - setup steps (inputs, inline mocks, human answers) shape the run;
 *   - custom Step("text", fn) steps run inside the runtime, Given steps
 *     before the procedure and the rest after it;
 *   - built-in assertions are judged here, on the run's output and on the
 *     facts the runtime reports (state, tool calls, stages, iterations...).
 *
 * Mocked model turns are served by the broker's mock provider, exactly as a
 * real provider would be reached; human requests are answered at once;
 * the clock and the random seed are fixed per scenario, so results are the
 * same run after run, serially or in parallel.
 *
 * Ownership: the suite borrows the fe_files, configs and checker given to
 * it; they must outlive it.
 */
#ifndef TACTUS_SPECS_H
#define TACTUS_SPECS_H

#include <stdbool.h>
#include <stdio.h>

#include "checker.h"
#include "frontend.h"
#include "config.h"
#include "hostlib.h"
#include "supervisor.h"

/* Makes the launch plan of one run (plain child or container). */
typedef tx_status (*sp_launch_fn)(void *ud, const cJSON *config, const char *workspace,
                                  const char *run_id, sb_launch *l, char *err, size_t cap);

typedef enum { SP_FORMAT_PRETTY, SP_FORMAT_JSON, SP_FORMAT_JUNIT } sp_format;

typedef struct {
    const char *scenario; /* run only scenarios of this name (outline rows too), or NULL */
    const char *tags;     /* Cucumber tag expression, or NULL */
    int runs;             /* each scenario this many times (consistency), >= 1 */
    int jobs;             /* threads, >= 1 */
    bool mock;            /* every agent's turns come from mocks (--mock) */
    bool timings;         /* durations in the output (off: byte-identical output) */
    bool progress;        /* a progress line on stderr */
    sup_limits limits;
    sp_launch_fn launch;
    void *launch_ud;
    sb_pool *pool; /* containers serving many runs (pooled plans), or NULL */
} sp_options;

typedef struct sp_suite sp_suite;

sp_suite *sp_suite_new(const ck_checker *ck);
/* Adds the scenarios of a file (parsed and checked without errors), with
 * its configuration, the folder mounted as its workspace, and the inputs
 * every scenario starts from (--param; an object, or NULL), which the
 * scenario's own "the input ... is" steps override. */
tx_status sp_suite_add(sp_suite *s, const fe_file *f, const cJSON *config, const char *workspace,
                       const cJSON *params, const sp_options *o);
size_t sp_suite_count(const sp_suite *s);
/* Runs every scenario. TX_OK even when scenarios fail (that is a result). */
tx_status sp_suite_run(sp_suite *s, const sp_options *o);
void sp_suite_write(const sp_suite *s, const sp_options *o, sp_format format, FILE *out,
                    bool color);
/* Whether every scenario passed (in every run). */
bool sp_suite_passed(const sp_suite *s);
void sp_suite_free(sp_suite *s);

/* ---- one run, as tests and evaluations make it ---------------------------------------- */

/* A run of a file's main procedure with `tactus test`'s hooks: the file's
 * Mocks (plus `agent_turns`, agent -> [turn...], over them), `test` sent as
 * start.test, the fixed clock, people answered at once, no journal. */
typedef struct {
    const fe_file *f;
    const cJSON *config;
    const char *workspace;
    const cJSON *inputs;      /* object */
    const cJSON *test;        /* start.test */
    const cJSON *agent_turns; /* may be NULL */
    const char *run_id;
    bool mock;
    sup_limits limits;
    sp_launch_fn launch;
    void *launch_ud;
    sb_pool *pool; /* when the plan is pooled (its scratch set): the container comes from here */
} sp_run_request;

/* Always fills res (a failure to start is a failed run with a message);
 * false when the runtime could not be started at all (the sandbox could
 * not be prepared: a failure of the machine, not of the procedure). */
bool sp_run_procedure(const sp_run_request *rq, sup_run_result *res);
/* The file's Mocks blocks as one JSON object (literal values), with
 * `agent_turns` (agent -> [turn...], may be NULL) over them. */
cJSON *sp_mocks_json(const fe_file *f, const cJSON *agent_turns);
/* "test-" and 16 hex digits of the hash of `key`: a run id that is the
 * same for the same scenario (or case) and run number every time. */
void sp_stable_run_id(const char *key, size_t len, char out[40]);

/* Calls job(ud, i) for i in [0, total) on `jobs` threads, in order of i
 * (results belong in slots fixed by i, so output does not depend on which
 * thread finished first); a progress line on stderr if asked; stops taking
 * jobs after SIGINT/SIGTERM (which also stop the runs in flight). Returns
 * how many jobs ran. */
size_t sp_parallel(size_t total, int jobs, const char *what, bool progress,
                   void (*job)(void *ud, size_t i), void *ud);

/* Validates a tag expression; false with a message naming the column. */
bool sp_tags_valid(const char *expr, char *err, size_t cap);

#endif
