/* sp_internal.h - shared by the specs module's files only. */
#ifndef TACTUS_SP_INTERNAL_H
#define TACTUS_SP_INTERNAL_H

#include <stdint.h>

#include "evstats.h"
#include "specs.h"

/* Largest text a step value, a message or a rendered value may grow to. */
#define SP_TEXT_MAX (4u << 20)

/* ---- values (sp_values.c) ---- */
/* A JSON or Python literal (dict, list, string, number, True/False/None),
 * the whole text; NULL if it is none. */
cJSON *sp_literal_parse(const char *text);
/* sp_literal_parse, and when that is a quoted text holding a dict or a
 * list ("{'a': 1}"), the dict or list. */
cJSON *sp_literal_parse_unquoted(const char *text);
/* The content of "..." or '...' with escapes decoded; NULL if not quoted. */
char *sp_unquote(const char *text);
/* A literal, else the text as a string. Never NULL unless out of memory. */
cJSON *sp_value_parse(const char *text);
/* Shortest text that reads back as d; integers without a fraction. */
void sp_format_number(double d, char *buf, size_t cap);
/* Python's str(): None, True, 2.5, text as is, containers as JSON. */
void sp_render_py(const cJSON *v, tx_buf *out);
/* For messages: strings quoted, nil for nothing. */
void sp_render_value(const cJSON *v, tx_buf *out);
/* Whether `actual` equals the step's `expected` text (inventory C.2 rules). */
bool sp_value_equals(const cJSON *actual, const char *expected);

/* ---- similarity (sp_similar.c) ---- */
#define SP_SIMILAR_MAX 4000
double sp_sequence_ratio(const char *a, const char *b); /* 0..1 */
double sp_indel_ratio(const char *a, const char *b);    /* 0..100 */
char *sp_fuzzy_normalize(const char *s);

/* ---- tags (sp_tags.c) ---- */
bool sp_tags_match(const char *expr, const char *const *tags, size_t n);

#endif

/* ---- the suite's model (sp_suite.c) ---- */

typedef enum { SP_PASSED, SP_FAILED, SP_SKIPPED } sp_status;

typedef enum {
    SP_ROLE_SETUP,   /* shapes the run: inputs, mocks, answers */
    SP_ROLE_TRIGGER, /* "When the procedure runs" */
    SP_ROLE_ASSERT,  /* judged on the run's result */
    SP_ROLE_NOOP,    /* "Given the procedure has started" */
    SP_ROLE_CUSTOM,  /* Step("text", fn): runs inside the runtime */
} sp_role;

typedef struct sp_handler sp_handler;

typedef struct {
    const fe_step *step;
    char *text; /* Outline values substituted */
    sp_role role;
    const sp_handler *handler; /* built-in steps */
    const char *template;      /* the built-in step matched (static), or NULL */
    size_t n_args;
    struct {
        const char *name; /* the pattern's group name (static) */
        char *value;
    } args[CK_STEP_MAX_GROUPS];
} sp_step;

typedef struct {
    sp_status status;
    char *error; /* owned; failed steps */
} sp_step_result;

typedef struct {
    sp_status status;
    sp_step_result *steps;
    double ms;
    int llm_calls, iterations, tools_used;
    /* The procedure's own error when the run failed and the scenario did
     * not expect it: {message, file, line, traceback} (owned), reported
     * before the step that noticed it. */
    cJSON *error;
} sp_outcome;

typedef struct {
    const fe_file *f;
    const cJSON *config;
    char *workspace;
    cJSON *params; /* inputs of every scenario (--param), owned */
} sp_file;

typedef struct {
    const sp_file *file;
    const fe_spec *spec;
    const fe_scenario *sc;
    const fe_example_row *row; /* Scenario Outline row, or NULL */
    int example;               /* 1-based row number, 0 when not an outline */
    char *name;
    const char **tags; /* feature's, then scenario's */
    size_t n_tags;
    sp_step *steps;
    size_t n_steps;
    sp_outcome *outcomes; /* one per run */
    int runs;
} sp_case;

/* The value of a step's pattern group, or "" */
const char *sp_arg(const sp_step *st, const char *name);

/* ---- judging (sp_judge.c) ---- */

/* What a scenario's setup steps make of its run. */
typedef struct {
    cJSON *inputs;      /* object */
    cJSON *tool_mocks;  /* name -> {returns|conditional|...} */
    cJSON *agent_turns; /* agent -> [turn, ...] */
    cJSON *human;       /* {kinds: {...}, prefixes: [...]} */
    char *when_message; /* from "the message is ..." */
} sp_setup;

/* What a run produced, for the assertions. */
typedef struct {
    const sup_run_result *res;
    const cJSON *report; /* the runtime's facts, may be NULL */
} sp_facts;

/* Finds the handler of built-in step `template`; NULL if none. */
const sp_handler *sp_handler_for(const char *template, sp_role *role);
/* Applies a setup step; false with a message. */
bool sp_apply_setup(const sp_step *st, sp_setup *s, tx_buf *why);
/* Judges an assertion (or a trigger) step; false with a message. */
bool sp_judge(const sp_step *st, const sp_facts *f, bool expects_failure, tx_buf *why);

/* ---- output (sp_report.c) ---- */
void sp_write_pretty(const sp_case *cases, size_t n, const sp_options *o, FILE *out, bool color);
void sp_write_json(const sp_case *cases, size_t n, const sp_options *o, FILE *out);
void sp_write_junit(const sp_case *cases, size_t n, const sp_options *o, FILE *out);
/* Runs of a scenario that passed, and the share of runs whose step results
 * equal the most common pattern (inventory C.4), as evals/stats computes
 * them for `tactus eval` too; the Wilson interval of the success rate at
 * SP_CONFIDENCE. */
#define SP_CONFIDENCE 0.95
int sp_case_passed_runs(const sp_case *c);
double sp_case_consistency(const sp_case *c);
es_interval sp_case_interval(const sp_case *c);
/* The outcome shown for a case: its first failing run, else its first. */
const sp_outcome *sp_case_shown(const sp_case *c);
