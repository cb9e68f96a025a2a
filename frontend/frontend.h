/*
 * frontend.h - parse a .tac file into a declaration model with source spans.
 *
 * A .tac file is compiled by Lua (load without running: the judge of syntax,
 * so errors say exactly what Lua expected), parsed by our own Lua 5.4 parser
 * into a tree of the `tactus` grammar's shape (fe_lparse.c), and each
 * Specifications([[...]]) string is parsed with the `gherkin` tree-sitter
 * grammar restricted to the string's bytes (included ranges), so every span
 * in the model is a span of the .tac file.
 *
 * The model describes declarations statically: it never runs user code.
 * Values of DSL tables are kept as fe_value trees (literals, names, calls);
 * anything dynamic is FE_OTHER.
 *
 * Ownership: fe_parse returns an fe_file that owns everything reachable from
 * it (one arena, two trees, the diagnostics); fe_file_free releases it. The
 * source buffer is borrowed and must outlive the fe_file.
 *
 * Errors: fe_parse returns TX_OK (syntax errors are diagnostics, not
 * failures), TX_ENOMEM, or TX_ELIMIT (file too large for 32-bit offsets).
 */
#ifndef TACTUS_FRONTEND_H
#define TACTUS_FRONTEND_H

#include <stdbool.h>
#include <stddef.h>
#include <tree_sitter/api.h>

#include "base.h"

/* Largest source accepted: offsets are 32-bit in tree-sitter. */
#define FE_MAX_SOURCE (256u * 1024u * 1024u)
/* The largest source a run takes (`tactus run`, `test`, `eval`, a required
 * module): it travels in the run's first frame (TP_MAX_FRAME, 16 MiB) with
 * the inputs. A larger file is still parsed, with a TAC006 warning. */
#define FE_MAX_RUN_SOURCE (8u << 20)
/* Expression nesting the model follows; Lua 5.4 itself stops at 200 levels
 * ("too many C levels"), so nothing valid is lost. */
#define FE_MAX_DEPTH 200

/* ---- static values ------------------------------------------------------------ */

typedef enum {
    FE_NIL,
    FE_BOOL,
    FE_NUMBER,
    FE_STRING,
    FE_TABLE,
    FE_FUNCTION,
    FE_NAME, /* identifier or dotted chain: str = "field.string" */
    FE_CALL, /* str = callee's dotted name or NULL; entries = arguments */
    FE_OTHER
} fe_value_kind;

typedef struct fe_value fe_value;

typedef struct fe_entry {
    const char *key; /* `key = v`; "[\"k\"] = v" is also a key; NULL if positional */
    tx_span key_span;
    fe_value *value;
    struct fe_entry *next;
} fe_entry;

struct fe_value {
    fe_value_kind kind;
    tx_span span;
    const struct fe_node *node; /* its syntax node; valid while the fe_file lives */
    bool boolean;
    bool is_integer;
    double number;
    const char *str; /* FE_STRING: decoded bytes; FE_NAME/FE_CALL: dotted name */
    size_t str_len;
    bool long_string;   /* FE_STRING written [[...]] */
    tx_span content;    /* FE_STRING: the bytes between the delimiters */
    fe_entry *entries;  /* FE_TABLE fields in order; FE_CALL arguments */
    size_t n_entries;
    size_t n_positional;
};

/* Entry `key` of a table value, or NULL. */
const fe_value *fe_value_get(const fe_value *table, const char *key);
const fe_entry *fe_value_entry(const fe_value *table, const char *key);
/* Positional entry i (0-based) of a table or argument i of a call, or NULL. */
const fe_value *fe_value_at(const fe_value *v, size_t i);
/* A literal value as JSON: tables of positional entries become arrays,
 * keyed ones objects; names, calls and functions become null. */
struct cJSON *fe_value_to_json(const fe_value *v);
/* Human name of a value's kind for messages: "a string", "a table", ... */
const char *fe_value_kind_name(const fe_value *v);

/* ---- schemas (field.* builders) ------------------------------------------------ */

typedef enum {
    FE_TYPE_UNKNOWN = 0,
    FE_TYPE_STRING,
    FE_TYPE_NUMBER,
    FE_TYPE_INTEGER,
    FE_TYPE_BOOLEAN,
    FE_TYPE_ARRAY,
    FE_TYPE_OBJECT,
    FE_TYPE_ANY
} fe_type;

const char *fe_type_name(fe_type t);

typedef struct fe_field {
    const char *name;
    tx_span name_span;
    const fe_value *decl;    /* the field.x{...} call, a v0.10 table, or a type string */
    const char *builder;     /* "string", "list", ... as written; NULL when not a builder */
    tx_span builder_span;
    const fe_value *options; /* the option table, or NULL */
    fe_type type;
    bool required;
    const fe_value *default_value;
    const fe_value *enum_values;
    struct fe_field *next;
} fe_field;

typedef struct {
    bool present;
    const fe_value *value; /* the schema table */
    fe_field *fields;
    size_t n_fields;
} fe_schema;

const fe_field *fe_schema_find(const fe_schema *s, const char *name);

/* ---- declarations ------------------------------------------------------------------ */

typedef struct fe_return {
    const fe_value *value; /* first returned expression, or NULL for a bare return */
    tx_span span;
    struct fe_return *next;
} fe_return;

typedef struct fe_procedure {
    const char *name; /* "main" for the unnamed procedure */
    bool named;
    bool script_mode;  /* implicit main built from top-level code */
    bool plain_main;   /* function main() ... end */
    tx_span span, name_span;
    const fe_value *config;
    const fe_value *function; /* FE_FUNCTION, or NULL when missing */
    fe_schema input, output, state;
    fe_return *returns; /* literal returns of the function body itself */
    struct fe_procedure *next;
} fe_procedure;

typedef struct fe_agent {
    const char *name;
    tx_span span, name_span;
    const fe_value *config;
    const char *model; /* "provider/model" when literal */
    const fe_value *tools; /* the grants table, or NULL */
    const fe_value *toolsets; /* toolsets = {...} (grants by name), or NULL */
    struct fe_agent *next;
} fe_agent;

typedef enum { FE_TOOL_LUA, FE_TOOL_BROKER, FE_TOOL_STDLIB, FE_TOOL_TOOLSET } fe_tool_kind;

typedef struct fe_tool {
    const char *name; /* variable or declared name */
    fe_tool_kind kind;
    tx_span span, name_span;
    const fe_value *config;
    const char *use; /* Tool { use = "broker.host.X" } */
    fe_schema input;
    struct fe_tool *next;
} fe_tool;

typedef enum { FE_MODEL_MODEL, FE_MODEL_CLASSIFY } fe_model_kind;

typedef struct fe_model {
    const char *name;
    fe_model_kind kind;
    tx_span span, name_span;
    const fe_value *config;
    struct fe_model *next;
} fe_model;

typedef struct fe_custom_step {
    const char *text;
    tx_span span;
    struct fe_custom_step *next;
} fe_custom_step;

typedef struct fe_mocks {
    const fe_value *table;
    tx_span span;
    struct fe_mocks *next;
} fe_mocks;

typedef struct fe_evaluation {
    const fe_value *config;
    tx_span span;
    struct fe_evaluation *next;
} fe_evaluation;

/* ---- specifications --------------------------------------------------------------- */

typedef struct fe_example_row {
    const char **cells;
    size_t n_cells;
    tx_span span;
    struct fe_example_row *next;
} fe_example_row;

typedef struct fe_step {
    const char *keyword; /* Given, When, Then, And, But or "*" */
    const char *text;    /* as written, placeholders kept */
    tx_span span;        /* the step text */
    tx_span keyword_span;
    const char *doc_string; /* decoded content, or NULL */
    size_t table_rows;      /* data table rows, 0 if none */
    fe_example_row *table;  /* the data table's rows (the first is its header), or NULL */
    struct fe_step *next;
} fe_step;

typedef enum { FE_SCENARIO, FE_OUTLINE, FE_BACKGROUND } fe_scenario_kind;

typedef struct fe_scenario {
    fe_scenario_kind kind;
    const char *name;
    const char *rule; /* enclosing Rule's name, or NULL */
    tx_span span, name_span;
    const char **tags;
    size_t n_tags;
    fe_step *steps;
    size_t n_steps;
    /* Scenario Outline: the header and rows of all Examples tables. */
    const char **example_header;
    size_t n_header;
    fe_example_row *example_rows;
    size_t n_example_rows;
    struct fe_scenario *next;
} fe_scenario;

typedef struct fe_spec {
    tx_span span;    /* the whole Specifications(...) call */
    tx_span content; /* the Gherkin text */
    const char *feature_name;
    tx_span feature_span;
    const char **feature_tags;
    size_t n_feature_tags;
    fe_scenario *scenarios; /* backgrounds first within each feature/rule */
    size_t n_scenarios;
    struct fe_spec *next;
} fe_spec;

/* A Scenario Outline step's text with the <header> placeholders replaced by
 * the cells of an Examples row (row NULL: the text unchanged), into out. */
void fe_outline_substitute(const fe_scenario *sc, const fe_example_row *row, const char *text,
                           tx_buf *out);

/* ---- references in code -------------------------------------------------------------- */

/* A use of a global name (not shadowed by a local): `os.execute`, `Human.approve`,
 * `greeter`. `name` is the longest static dotted chain. Calls carry arguments. */
typedef struct fe_ref {
    const char *name;
    tx_span span;
    bool is_call;
    bool is_method; /* a:b() : name is "a.b" */
    /* The target of an assignment (`M.x = v`, `function M.f()`): it defines
     * the member x and reads only M. */
    bool is_assignment;
    const fe_value *call; /* FE_CALL with the arguments: kept for require, Human.*, State.* and agent calls */
    struct fe_ref *next;
} fe_ref;

/* A global defined by the file: `name = v` or `function name()` where no
 * local `name` is visible, anywhere in the file (`tactus check` treats a
 * global assigned anywhere as defined, as luacheck does by default), and
 * dotted targets `M.x = v`, `function M.f()` (name "M.x"). */
typedef struct fe_def {
    const char *name;
    tx_span span;
    struct fe_def *next;
} fe_def;

/* ---- the file ------------------------------------------------------------------------- */

typedef struct fe_file {
    const char *path;
    const char *src;
    size_t len;
    const struct fe_node *root; /* the syntax tree; NULL when the file does not parse */
    tx_diag_list diags; /* syntax-level diagnostics (TAC0xx) */
    bool lua_ok;        /* Lua's compiler accepted the file */

    fe_procedure *procedures;
    size_t n_procedures;
    fe_agent *agents;
    fe_tool *tools; /* tools, toolsets and stdlib tool bindings */
    fe_model *models;
    fe_custom_step *custom_steps;
    fe_mocks *mocks;
    fe_evaluation *evaluations;
    fe_spec *specs;
    fe_ref *refs;
    fe_def *defs; /* globals the file assigns, in order */
    fe_schema script_input, script_output; /* script mode input {...} / output {...} */

    tx_arena arena;
} fe_file;

/* A reusable parsing context (parsers and a Lua state for syntax checks).
 * Not thread-safe; use one per thread. */
typedef struct fe_context fe_context;

fe_context *fe_context_new(void);
void fe_context_free(fe_context *ctx);


tx_status fe_parse(fe_context *ctx, const char *path, const char *src, size_t len,
                   fe_file **out);
void fe_file_free(fe_file *f);

/* Parsing successive versions of one document (the language server): the
 * same result as fe_parse, cheaper when the text changed a little. The
 * reuse keeps the last text Lua's compiler accepted with its top-level
 * statement ranges (an edit inside ordinary statements is compiled alone,
 * behind a prologue declaring the same top-level locals), and the Gherkin
 * trees of the Specifications strings (an unchanged string reuses its tree,
 * shifted). fe_reuse.c explains when each applies; otherwise the full work
 * is done, so every message is the same. One fe_reuse per document, used
 * with one fe_context at a time; the fe_file does not depend on it. */
typedef struct fe_reuse fe_reuse;

fe_reuse *fe_reuse_new(void);
void fe_reuse_free(fe_reuse *r);
tx_status fe_parse_again(fe_context *ctx, fe_reuse *r, const char *path, const char *src,
                         size_t len, fe_file **out);

const TSLanguage *tree_sitter_tactus(void);
const TSLanguage *tree_sitter_gherkin(void);

/* Built-in and stdlib knowledge shared by the checker, the test runner and the LSP. */
bool fe_is_stdlib_module(const char *name);
/* Whether the arguments of calls to `name` are kept in fe_ref.call for the
 * checker (DSL primitives with argument rules). */
bool fe_is_checked_primitive(const char *name);
/* Appends Python's str.capitalize of name (ASCII): the global v0.10 gave
 * the agent "greeter" (Greeter). */
void fe_capitalize(const char *name, tx_buf *out);
/* NULL-terminated list of stdlib module names, for messages. */
extern const char *const fe_stdlib_modules[];

#endif
