/*
 * ck_internal.h - shared between the checker's rule files; not public.
 */
#ifndef TACTUS_CK_INTERNAL_H
#define TACTUS_CK_INTERNAL_H

#include "checker.h"

typedef struct ck_steps_compiled ck_steps_compiled;

struct ck_checker {
    ck_steps_compiled *steps;
    tx_map runtime;    /* every name of runtime_names (ck_globals.c) */
    tx_map namespaces; /* the roots of its dotted names */
    const char *const *extra; /* ck_set_known_globals (borrowed) */
    size_t n_extra;
    struct ck_module_cache *modules; /* globals of required .tac modules (ck_globals.c) */
    struct ck_mcp_cache *mcp;        /* .tactus/mcp-tools.json (ck_mcp.c) */
};

void ck_modules_free(struct ck_module_cache *c);
void ck_mcp_cache_free(struct ck_mcp_cache *c);

/* The file a require("a.b") of a .tac module beside file_path loads
 * (DIR/a/b.tac or DIR/a/b/init.tac); false when there is none. */
bool ck_module_path(const char *file_path, const char *name, char *path, size_t cap);

/* Fills ck->runtime and ck->namespaces. */
tx_status ck_globals_index(ck_checker *ck);

ck_steps_compiled *ck_steps_compile(void);
void ck_steps_free(ck_steps_compiled *c);

/* ---- names (ck_names.c) ------------------------------------------------------------------ */

typedef enum { CK_NAME_AGENT, CK_NAME_TOOL, CK_NAME_TOOLSET, CK_NAME_MODEL } ck_name_kind;

typedef struct {
    ck_name_kind kind;
    tx_span span; /* where the name is written */
    const char *name;
} ck_name;

/* Every name the file gives an agent, tool, toolset, model or classifier,
 * wherever it is declared (inside functions too, v0.10 forms too), and the
 * tools of toolsets and inline_tools by full and short name. */
typedef struct {
    tx_map map; /* name -> ck_name */
    tx_arena arena;
    bool oom;
} ck_names;

void ck_names_collect(const fe_file *f, ck_names *out);
const ck_name *ck_names_get(const ck_names *n, const char *name);
void ck_names_free(ck_names *n);
/* Whether written[0..len) is v0.10's capitalised global of name (Greeter
 * for greeter), and not name itself. */
bool ck_capitalized_as(const char *name, const char *written, size_t len);

/* The capitalised globals the runtime publishes, as v0.10 named them
 * (str.capitalize: Greeter for the agent "greeter"): one for every agent
 * of the file (stdlib/dsl/globals.lua, agent.lua) and every Model
 * (compat.lua), unless that is the name itself. */
typedef struct {
    tx_map agents; /* "Greeter" -> const fe_agent * */
    tx_map models; /* "Sentiment" -> const fe_model * */
    tx_arena arena;
    bool oom;
} ck_capitals;

void ck_capitals_index(const fe_file *f, ck_capitals *out);
void ck_capitals_free(ck_capitals *c);

/* One check of one file. */
typedef struct {
    ck_checker *ck;
    const fe_file *f;
    tx_diag_list *out;
    ck_names names;
} ck_run;

/* Rules, one file each. */
void ck_rule_fields(ck_run *r);
void ck_rule_procedures(ck_run *r);
void ck_rule_tools(ck_run *r);
void ck_rule_mcp(ck_run *r);
/* Whether `name` is SERVER_TOOL of an MCP server the file uses (a Toolset
 * { use = "mcp.SERVER" } or an mcp.SERVER reference): a mock or step may name it. */
bool ck_mcp_tool_name(const fe_file *f, const char *name);
void ck_rule_sandbox(ck_run *r);
void ck_rule_human(ck_run *r);
void ck_rule_primitives(ck_run *r);
void ck_rule_outputs(ck_run *r);
void ck_rule_specs(ck_run *r);
void ck_rule_mocks(ck_run *r);
void ck_rule_evaluations(ck_run *r);
void ck_rule_globals(ck_run *r);
void ck_rule_legacy(ck_run *r);
/* Evaluations against the evaluator and threshold catalogue, and their own
 * settings (ck_evals.c: TAC805-TAC810). */
void ck_rule_evaluation_settings(ck_run *r);

/* Whether `name` is what an llm_judge evaluator of the file answers to in
 * Mocks (its `name`, else "llm_judge"). */
bool ck_is_judge_name(const fe_file *f, const char *name);

/* Records a diagnostic with the rule's catalogued severity. */
void ck_report(ck_run *r, const char *code, tx_span span, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* The same with another severity, for a rule whose findings are errors when
 * certain and warnings when they hold on some paths only (TAC601). */
void ck_report_as(ck_run *r, const char *code, tx_severity sev, tx_span span, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

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
