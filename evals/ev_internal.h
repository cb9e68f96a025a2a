/* ev_internal.h - shared by the evals module's files only. */
#ifndef TACTUS_EV_INTERNAL_H
#define TACTUS_EV_INTERNAL_H

#include <stdint.h>

#include "evals.h"
#include "evstats.h"

#define EV_TEXT_MAX (1u << 20)
/* The k of pass@k and pass^k an evaluation may ask for. */
#define EV_MAX_K 16
/* What one judge call may cost us in text: the rubric, the input, the
 * expected and the actual output, each cut at this many bytes. */
#define EV_JUDGE_PART_MAX (64u << 10)

/* ---- one run and its verdicts --------------------------------------------------------- */

typedef enum { EV_PASS = 0, EV_FAIL = 1, EV_ERROR = 2 } ev_verdict;

typedef enum {
    EV_RUN_NOT_RUN = 0, /* interrupted before it ran: counted as failed */
    EV_RUN_PASSED,
    EV_RUN_FAILED,
    EV_RUN_ERROR, /* infrastructure or an evaluator's error: apart, not counted */
} ev_outcome;

typedef struct {
    ev_outcome outcome;
    double ms;
    br_usage usage;       /* the procedure's model calls, counted by the host */
    br_usage judge;       /* the llm_judge evaluators' calls, apart */
    char *reason;         /* why it failed or errored (owned), or NULL */
    ev_verdict *verdicts; /* per evaluator */
    double *agreement;    /* per evaluator: an llm_judge's samples' agreement, else NAN */
    uint64_t signature;   /* verdicts and canonical output: consistency */
} ev_run;

typedef struct {
    char *name;
    char *where; /* "file:line" of a dataset file's case, or the .tac's position */
    cJSON *inputs, *expected;
    char inputs_sha256[65];
    ev_run *runs;
} ev_case;

typedef struct {
    const fe_file *f;
    const cJSON *config;
    cJSON *mocks; /* the file's Mocks as JSON: what mocks a judge */
    char *workspace;
    tx_line_col at;
    int index; /* of this Evaluation among its file's, from 1 */
    int runs;
    double confidence;
    unsigned pass_k[EV_MAX_K];
    size_t n_pass_k;
    cJSON *evaluators; /* array of {type, ...} */
    size_t n_evaluators;
    bool has_judge;
    cJSON *thresholds; /* object, checked by the checker (TAC805, TAC806) */
    ev_case *cases;
    size_t n_cases;
} ev_eval;

struct ev_suite {
    ev_eval *evals;
    size_t n;
};

/* What an evaluator sees of one run. */
typedef struct ev_judge_ctx ev_judge_ctx;
typedef struct {
    const cJSON *output;   /* the procedure's result, may be NULL */
    const cJSON *expected; /* the case's expected output, may be NULL */
    const cJSON *inputs;   /* the case's inputs */
    const cJSON *report;   /* the runtime's facts (tools, state, turns), may be NULL */
    const br_usage *usage; /* the host's count of the procedure's model calls */
    ev_judge_ctx *judge;   /* for llm_judge, may be NULL */
} ev_facts;

/* ---- evaluators (ev_evaluators.c) ---------------------------------------------------- */

/* Checks an evaluator's configuration ({type, field, value, ...}); false
 * with a message naming what is missing or unknown. */
bool ev_evaluator_valid(const cJSON *cfg, char *err, size_t cap);
/* Whether every kind the evaluator catalogue (ck_evaluator_kinds) marks
 * implemented has a judge here, and every judge a kind there; false with
 * the first difference (test_evals). */
bool ev_judges_match_catalogue(char *why, size_t cap);
/* A short name for reports: "contains(greeting)". */
void ev_evaluator_label(const cJSON *cfg, char *out, size_t cap);
/* Judges one run: pass, fail, or an evaluator error (never a pass when it
 * cannot tell), with the reason in why. `agreement` (may be NULL) gets an
 * llm_judge's samples' agreement, else NAN. */
ev_verdict ev_evaluate(const cJSON *cfg, const ev_facts *f, tx_buf *why, double *agreement);

/* ---- JSON Schema (ev_schema.c) -------------------------------------------------------- */

/* Whether `schema` uses only the supported keywords, each well typed;
 * false with the first problem. */
bool ev_schema_valid(const cJSON *schema, char *err, size_t cap);
/* Whether `v` satisfies `schema`; false with the first violation, named by
 * its path ("$.items[2].name: ..."). */
bool ev_schema_check(const cJSON *schema, const cJSON *v, tx_buf *why);

/* ---- llm_judge (ev_judge.c) ----------------------------------------------------------- */

/* One run's judge: a broker of the host (the same providers, keys and
 * mocks as the procedure's calls; never the sandbox), made at first use. */
ev_judge_ctx *ev_judge_new(const cJSON *config, const cJSON *mocks, bool mock_all,
                           long long deadline_ms);
/* What the judge's calls used so far. */
void ev_judge_usage(const ev_judge_ctx *j, br_usage *out);
void ev_judge_free(ev_judge_ctx *j);
bool ev_judge_valid(const cJSON *cfg, char *err, size_t cap);
ev_verdict ev_judge(const cJSON *cfg, const ev_facts *f, tx_buf *why, double *agreement);

/* ---- scoring and the results document (ev_score.c) ----------------------------------- */

/* Builds {schema_version, tool, mode, evaluations: [...], passed} (the
 * schema of docs/evaluations.md), with the comparison to `baseline` (a
 * checked --save document, may be NULL). NULL when out of memory. */
cJSON *ev_score_suite(const ev_suite *s, const ev_options *o, const cJSON *baseline);
/* Adds the comparison of one evaluation with its baseline (ev_compare.c). */
tx_status ev_compare_evaluation(cJSON *now, const cJSON *before, double alpha);
/* A JSON number, or null for NAN (unknown). */
cJSON *ev_number(double v);
/* {low, high, confidence, method}. */
cJSON *ev_interval_json(es_interval iv, double confidence, const char *method);

/* ---- reports (ev_report.c, ev_html.c) -------------------------------------------------- */

void ev_write_pretty(const cJSON *doc, FILE *out, bool color, bool timings);
void ev_write_junit(const cJSON *doc, FILE *out, bool timings);
void ev_write_html(const cJSON *doc, FILE *out);

#endif
