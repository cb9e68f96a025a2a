/*
 * ck_internal.h - shared between the checker's rule files; not public.
 */
#ifndef TACTUS_CK_INTERNAL_H
#define TACTUS_CK_INTERNAL_H

#include "checker.h"

typedef struct ck_steps_compiled ck_steps_compiled;

struct ck_checker {
    ck_steps_compiled *steps;
};

ck_steps_compiled *ck_steps_compile(void);
void ck_steps_free(ck_steps_compiled *c);

/* One check of one file. */
typedef struct {
    ck_checker *ck;
    const fe_file *f;
    tx_diag_list *out;
} ck_run;

/* Rules, one file each. */
void ck_rule_fields(ck_run *r);
void ck_rule_procedures(ck_run *r);
void ck_rule_tools(ck_run *r);
void ck_rule_sandbox(ck_run *r);
void ck_rule_human(ck_run *r);
void ck_rule_primitives(ck_run *r);
void ck_rule_outputs(ck_run *r);
void ck_rule_specs(ck_run *r);
void ck_rule_mocks(ck_run *r);
void ck_rule_evaluations(ck_run *r);
void ck_rule_evaluation_settings(ck_run *r);

/* Whether `name` is what an llm_judge evaluator of the file answers to in
 * Mocks (its `name`, else "llm_judge"). */
bool ck_is_judge_name(const fe_file *f, const char *name);

/* Records a diagnostic with the rule's catalogued severity. */
void ck_report(ck_run *r, const char *code, tx_span span, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Attaches a second place to the finding reported just before (the
 * language server's relatedInformation; check's own output ignores it). */
void ck_relate(ck_run *r, tx_span span, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Whether a literal value fits a schema type; unknown (dynamic) values fit. */
bool ck_value_fits(const fe_value *v, fe_type t);
/* Short rendering of a literal for messages ("\"abc\"", "42", "a table"). */
const char *ck_value_repr(const fe_value *v, char *buf, size_t cap);
/* The closest of `names` to `word` within a small distance, or NULL. */
const char *ck_nearest_name(const char *word, const char *const *names, size_t n);
/* The declared field of `s` closest to `word`, for "did you mean", or NULL. */
const char *ck_nearest_field(const fe_schema *s, const char *word);

#endif
