/*
 * checker.h - static rules over the frontend's declaration model.
 *
 * Diagnostics are data (tx_diag: code, severity, span, message); the CLI and
 * the language server only render them. Every code is stable and documented
 * in docs/diagnostics.md with a bad and a fixed example.
 *
 * The checker also owns the library of built-in Gherkin step patterns
 * (inventory C.2), because both the undefined-step rule and the test runner
 * match against it.
 *
 * Errors: functions return tx_status; TX_ENOMEM is the only failure of a
 * check (findings are diagnostics, not failures).
 */
#ifndef TACTUS_CHECKER_H
#define TACTUS_CHECKER_H

#include "frontend.h"

typedef struct ck_checker ck_checker;

/* Compiles the step patterns once. NULL on allocation failure. */
ck_checker *ck_checker_new(void);
void ck_checker_free(ck_checker *ck);

/* Runs every rule over `f`, appending to `out` the frontend's syntax
 * diagnostics followed by the rules' own, sorted by position. */
tx_status ck_check(ck_checker *ck, const fe_file *f, tx_diag_list *out);

/* Every run of an evaluation has its own budgets, so `runs` multiplies what
 * it may spend: `tactus check` (TAC807) and `tactus eval` hold it to these. */
#define CK_EVAL_MAX_RUNS_PER_CASE       1000
#define CK_EVAL_MAX_RUNS_PER_EVALUATION 100000

/* ---- rewriting the v0.10 DSL (`tactus check --fix`, the language server) ------------------ */

/* Replace bytes [start, end) of the source with text (start == end: insert). */
typedef struct {
    uint32_t start, end;
    char *text;   /* owned */
    uint32_t seq; /* order of making: inserts at one place keep it */
} ck_edit;

typedef struct {
    ck_edit *items;
    size_t len, cap;
    bool oom;
} ck_edits;

void ck_edits_init(ck_edits *e);
void ck_edits_free(ck_edits *e);
/* The edits that rewrite the v0.10 forms of f (those TAC901 names) to the
 * current DSL, keeping what the file does: v0.10's defaults are written
 * out (model = "gpt-4o", the tools an agent got without naming any). Sorted
 * by position, never overlapping. TX_ENOMEM is the only failure. */
tx_status ck_fix_legacy(const fe_file *f, ck_edits *out);
/* src with the edits applied: an owned, NUL-terminated buffer (length in
 * *out_len), or NULL when out of memory. */
char *ck_edits_apply(const char *src, size_t len, const ck_edits *e, size_t *out_len);

/* ---- rule catalogue (for docs, SARIF rule metadata, tests) ---------------------------- */

typedef struct {
    const char *code;
    tx_severity severity;
    const char *name;    /* kebab-case, e.g. "tool-not-granted" */
    const char *summary; /* one sentence */
} ck_rule_info;

const ck_rule_info *ck_rules(size_t *count);
const ck_rule_info *ck_rule_find(const char *code);

/* ---- globals ------------------------------------------------------------------------------ */

/* Globals defined outside the file (by a project's own convention, a
 * harness): reads and calls of them are not TAC403. Borrowed until the next
 * call; applies to the following ck_check calls. */
void ck_set_known_globals(ck_checker *ck, const char *const *names, size_t n);
/* The runtime's global surface the checker knows: globals and "ns.member"
 * names (`tactus check --list-globals`; held equal to tactus-runtime's own
 * by the test cli_globals_parity). */
const char *const *ck_runtime_globals(size_t *count);

/* ---- evaluations: the one catalogue of what `tactus eval` runs (ck_evals.c) ------------------ */

typedef struct {
    const char *kind;        /* field.KIND{...} or {type = "KIND", ...} */
    const char *needs;       /* an option it cannot do without ("a|b": either), or NULL */
    const char *unavailable; /* why `tactus eval` cannot run it yet, or NULL: implemented */
} ck_evaluator_kind;

/* What a threshold's limit is, so that its value can be judged (TAC810). */
typedef enum {
    CK_LIMIT_SHARE,   /* a share of runs, 0 to 1 */
    CK_LIMIT_PASS_K,  /* {k = K, value = V}: K whole, 1 to runs; V a share */
    CK_LIMIT_CASES,   /* a whole number of cases, 0 or more */
    CK_LIMIT_DOLLARS, /* US dollars per run, 0 or more */
    CK_LIMIT_SECONDS, /* seconds per run, above 0 */
    CK_LIMIT_TOKENS,  /* tokens per run, 0 or more */
} ck_limit_kind;

typedef struct {
    const char *name;        /* thresholds = {NAME = limit} */
    ck_limit_kind limit;     /* what the limit is */
    const char *unavailable; /* why it is not measured yet, or NULL */
} ck_eval_threshold;

const ck_evaluator_kind *ck_evaluator_kinds(size_t *count);
const ck_evaluator_kind *ck_evaluator_find(const char *kind);
const ck_eval_threshold *ck_eval_thresholds(size_t *count);
const ck_eval_threshold *ck_eval_threshold_find(const char *name);
/* Whether an evaluator of `kind` (NULL: none given) cannot run: unknown,
 * not implemented, or lacking its needed option (has_needed(key, ud)
 * says whether it is given). True with the reason in why (TAC805's text,
 * and `tactus eval`'s). */
bool ck_evaluator_problem(const char *kind, bool has_needed(const char *key, void *ud), void *ud,
                          char *why, size_t cap);
/* Whether threshold `name` cannot be judged; true with the reason (TAC806). */
bool ck_threshold_problem(const char *name, char *why, size_t cap);

/* ---- step library ----------------------------------------------------------------------- */

typedef enum {
    CK_STEP_BUILTIN, /* inventory C.2, newest builtin set */
    CK_STEP_MOCK,    /* mock and dependency steps */
    CK_STEP_STAGE,   /* stage steps of the older set */
} ck_step_group;

typedef struct {
    const char *pattern;  /* PCRE2, matched full-string and case-insensitively */
    const char *template; /* human form shown in suggestions: the {tool} tool should be called */
    ck_step_group group;
} ck_step_info;

const ck_step_info *ck_steps(size_t *count);

#define CK_STEP_MAX_GROUPS 8

typedef struct {
    int index; /* into ck_steps(), or -1 */
    size_t n_groups;
    struct {
        const char *name;  /* group name from the pattern (static) */
        size_t start, len; /* within the matched text */
    } groups[CK_STEP_MAX_GROUPS];
} ck_step_match_result;

/* First pattern (registration order) matching all of `text`. */
bool ck_step_match(const ck_checker *ck, const char *text, size_t len, ck_step_match_result *m);
/* The template closest to `text` (edit distance over a lower-cased form). */
const char *ck_step_nearest(const ck_checker *ck, const char *text);

#endif
