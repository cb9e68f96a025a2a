/*
 * lsp_internal.h - shared between the language server's own files; not public.
 *
 * One shared document model (lsp_doc) and small handlers over it, one file
 * per family of methods (clangd's shape):
 *   lsp_rpc.c            framing, JSON-RPC messages, the writer and the trace log
 *   lsp_server.c         replies, dispatch, cancellation, debounced pushes, stdio loop
 *   lsp_lifecycle.c      initialize (capabilities, encoding), initialized, shutdown, exit
 *   lsp_sync.c           didOpen/didChange/didClose/didSave, watched files
 *   lsp_text.c           line index and positions in utf-8/16/32, edits
 *   lsp_doc.c            documents: text, tree-sitter tree, analysis (fe_parse + ck_check)
 *   lsp_diag.c           diagnostics: push, pull, workspace pull
 *   lsp_nav.c            the navigation index (symbols, occurrences) and its lookups
 *   lsp_nav_model.c      ... its part from the declaration model
 *   lsp_nav_scopes.c     ... its part from the syntax tree (Lua scopes, uses)
 *   lsp_nav_requests.c   definition, references, rename, highlights
 *   lsp_dsl.c            what the DSL offers: globals, builders, table keys, signatures, docs
 *   lsp_hover.c          hover
 *   lsp_describe.c       the markdown describing a declaration or a DSL entry
 *   lsp_table_context.c  the table the cursor is in (hover, completion, signature help)
 *   lsp_signature.c      signature help
 *   lsp_complete.c       completion
 *   lsp_outline.c        document and workspace symbols, folding, selection ranges
 *   lsp_tokens.c         semantic tokens from the grammars' highlights queries
 *   lsp_actions.c        code actions
 *   lsp_workspace.c      the workspace index: background indexing, watched files, modules
 *   lsp_ws_extract.c     ... what it keeps of a file
 *   lsp_ws_queries.c     ... what it answers: symbols, cross-file locations, diagnostics
 *
 * Error model: handlers return a cJSON result, or NULL with an lsp_error
 * (JSON-RPC code and a message that says what was expected). Allocation
 * failures inside a handler become -32603 replies; the server goes on.
 */
#ifndef TACTUS_LSP_INTERNAL_H
#define TACTUS_LSP_INTERNAL_H

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>

#include <cjson/cJSON.h>
#include <tree_sitter/api.h>

#include "checker.h"
#include "lsp.h"

/* JSON-RPC and LSP error codes (LSP 3.17 "ErrorCodes"). */
enum {
    LSP_PARSE_ERROR = -32700,
    LSP_INVALID_REQUEST = -32600,
    LSP_METHOD_NOT_FOUND = -32601,
    LSP_INVALID_PARAMS = -32602,
    LSP_INTERNAL_ERROR = -32603,
    LSP_SERVER_NOT_INITIALIZED = -32002,
    LSP_REQUEST_FAILED = -32803,
    LSP_REQUEST_CANCELLED = -32800,
};

typedef struct {
    int code;
    char message[768];
} lsp_error;

/* Sets err and returns NULL, so handlers can `return lsp_fail(...)`. */
cJSON *lsp_fail(lsp_error *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* cJSON_AddItemToObject / ToArray that free the item when it cannot be
 * added (the parent's allocation failed): under memory pressure a reply is
 * smaller, never leaked. Every handler builds its JSON with these. */
static inline void lsp_add(cJSON *o, const char *key, cJSON *item)
{
    if (!cJSON_AddItemToObject(o, key, item)) cJSON_Delete(item);
}
static inline void lsp_push(cJSON *arr, cJSON *item)
{
    if (!cJSON_AddItemToArray(arr, item)) cJSON_Delete(item);
}

/* ---- text and positions (lsp_text.c) ------------------------------------------------------ */

typedef enum { LSP_ENC_UTF16 = 0, LSP_ENC_UTF8, LSP_ENC_UTF32 } lsp_encoding;

const char *lsp_encoding_name(lsp_encoding e);

typedef struct {
    uint32_t line, character;
} lsp_pos;

/* Byte offsets where each line starts. LSP lines end at \n, \r\n or a
 * lone \r; starts[0] is 0. */
typedef struct {
    uint32_t *starts;
    size_t n, cap;
    bool bare_cr; /* some line ends in a lone \r (tree-sitter rows then differ) */
} lsp_lines;

tx_status lsp_lines_build(lsp_lines *l, const char *s, size_t n);
void lsp_lines_free(lsp_lines *l);

/* A text with its line index, in the client's position encoding. */
typedef struct {
    const char *src;
    size_t len;
    const lsp_lines *lines;
    lsp_encoding enc;
} lsp_view;

/* Length of the UTF-8 sequence at s (1 for an invalid byte) and its code point. */
size_t lsp_utf8_next(const char *s, size_t n, uint32_t *cp);
lsp_pos lsp_pos_of(const lsp_view *v, size_t byte);
/* Byte offset of a position; characters past the end of a line (or a line
 * past the last) clamp to its end, a position inside a character to its start. */
size_t lsp_byte_of(const lsp_view *v, lsp_pos p);
/* 0-based line holding `byte`. */
uint32_t lsp_line_of(const lsp_view *v, size_t byte);
/* End of line `line` (before its terminator). */
size_t lsp_line_end(const lsp_view *v, uint32_t line);
/* tree-sitter's point (row by \n only, byte column) of a byte offset. */
TSPoint lsp_ts_point(const char *s, size_t n, const lsp_lines *l, size_t byte);

cJSON *lsp_json_pos(const lsp_view *v, size_t byte);
cJSON *lsp_json_range(const lsp_view *v, size_t start, size_t end);
/* Reads {line, character}; false when malformed. */
bool lsp_parse_pos(const cJSON *j, lsp_pos *p);
bool lsp_parse_range(const cJSON *j, lsp_pos *start, lsp_pos *end);

/* Whether s[0..n) is a Lua identifier (and not a keyword). */
bool lsp_is_identifier(const char *s, size_t n);

/* ---- messages and the writer (lsp_rpc.c) ---------------------------------------------------- */

/* One item decoded from the input stream: a parsed body, or a framing/JSON
 * error to answer in its turn. */
typedef struct {
    cJSON *json;      /* NULL for an error item */
    int error_code;   /* LSP_PARSE_ERROR / LSP_INVALID_REQUEST for error items */
    char *error_text; /* owned */
} lsp_inbound;

typedef struct {
    enum { LSP_RD_HEADER, LSP_RD_BODY, LSP_RD_SKIP, LSP_RD_RESYNC } state;
    tx_buf buf;         /* the header section, then the body */
    size_t body_len;    /* Content-Length of the body being read */
    size_t skip_left;   /* bytes of a refused body still to discard */
    uint32_t tail;      /* RESYNC: last bytes seen, to find \r\n\r\n */
    lsp_inbound *items; /* decoded, not yet handled */
    size_t n_items, cap_items, first_item;
} lsp_reader;

void lsp_reader_init(lsp_reader *r);
void lsp_reader_free(lsp_reader *r);
/* Consumes bytes; complete messages are appended to r->items. */
tx_status lsp_reader_feed(lsp_reader *r, const char *data, size_t n);

typedef struct {
    lsp_write_fn write;
    void *ud;
    FILE *log;
    bool broken; /* the peer is gone: writes are dropped */
    pthread_mutex_t mu;
} lsp_writer;

/* Sends one message (any UTF-8 damage in strings becomes U+FFFD). Takes
 * nothing: the caller still owns msg. Thread-safe. */
void lsp_send(lsp_writer *w, const cJSON *msg);
/* Sends the notification `method` with params (taken: freed here). */
void lsp_notify(lsp_writer *w, const char *method, cJSON *params);
void lsp_log(lsp_writer *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void lsp_log_message(lsp_writer *w, const char *dir, const char *body, size_t n);

/* ---- documents (lsp_doc.c) ------------------------------------------------------------------- */

typedef struct lsp_nav lsp_nav;

/* One run of the frontend and the checker over one version of a text. */
typedef struct {
    char *src; /* the text analysed (the fe_file borrows it) */
    size_t len;
    lsp_lines lines;
    fe_file *file;       /* NULL when the text was not analysed (too large) */
    tx_diag_list diags;  /* ck_check's findings, exactly */
    uint64_t generation; /* of the document text analysed */
    uint64_t result_id;  /* unique across the server: pull diagnostics' resultId */
    /* Top-level statement ranges when Lua's compiler accepted the text; they
     * let the next analysis skip recompiling what did not change (lsp_doc.c). */
    bool lua_ok;
    uint32_t *stmts; /* pairs start,end */
    size_t n_stmts;
    uint16_t *stmt_flags;
} lsp_analysis;

/* A byte edit: [start, old_end) became [start, new_end). */
typedef struct {
    uint32_t start, old_end, new_end;
} lsp_edit;

typedef struct lsp_doc {
    char *uri;
    char *path; /* file path (for require and TAC402), or the URI when not a file */
    int64_t version;
    char *text;
    size_t len, cap;
    lsp_lines lines;
    uint64_t generation;  /* bumped on every change */
    TSTree *tree;         /* the tactus tree of `text`, or NULL (too large, guarded, timed out) */
    bool tree_stale;      /* text changed since `tree` was parsed (edits applied to it) */
    size_t bracket_bound; /* >= the deepest unclosed-bracket count of text (see lsp_doc_tree) */
    bool too_large;       /* over LSP_MAX_DOCUMENT: not analysed */
    bool too_large_told;
    fe_reuse *reuse;    /* what the last parse keeps for the next (fe_parse_again) */
    lsp_analysis *an;   /* latest analysis (maybe of an older generation) */
    lsp_analysis *good; /* latest analysis with a syntax tree (for navigation) */
    lsp_edit *edits;    /* edits since `good`, to map its positions */
    size_t n_edits, cap_edits;
    bool edits_lost; /* too many edits: `good`'s positions cannot be mapped */
    lsp_nav *nav;    /* symbols and occurrences of the current text, built on first use */
    uint64_t nav_generation;
    int64_t publish_due; /* monotonic ms; 0 when no push is pending */
    uint64_t published;  /* generation last pushed */
    struct lsp_doc *next;
} lsp_doc;

typedef struct lsp_workspace lsp_workspace;

typedef struct {
    bool push_diagnostics; /* the client gets publishDiagnostics (it has no pull support) */
    bool pull_support;
    bool work_done_progress;
    bool watch_registration;
    bool snippets;
    bool markdown_hover;
    bool hierarchical_symbols;
    bool related_information;
    bool code_description;
    bool diagnostic_version;
} lsp_client_caps;

struct lsp_server {
    lsp_options opts;
    lsp_writer out;
    lsp_reader in;
    enum { LSP_NEW, LSP_RUNNING, LSP_SHUTDOWN, LSP_EXITED } state;
    int exit_status;
    lsp_encoding enc;
    lsp_client_caps caps;
    int debounce_ms;
    fe_context *fe;
    ck_checker *ck;
    TSParser *ts;
    lsp_doc *docs;
    lsp_workspace *ws;
    uint64_t next_result_id;
    int64_t next_request_id; /* of requests the server sends */
    cJSON *cancelled;        /* ids cancelled before their turn */
    /* Reads more input without blocking between messages (stdio mode), so a
     * $/cancelRequest behind a queued request is seen in time. */
    void (*drain)(struct lsp_server *s);
    int drain_fd;
    char **folders; /* workspace folder paths */
    size_t n_folders;
    /* Compiled queries (lsp_tokens.c), made on first use. */
    TSQuery *q_tactus, *q_gherkin, *q_inject;
    void *q_regex; /* compiled #match? patterns */
    struct lsp_ts_ids *ids;
};

/* Node and field ids of the tactus grammar, looked up once. */
typedef struct lsp_ts_ids {
    TSSymbol identifier, chunk, block, function_declaration, function_definition, parameters,
        variable_declaration, variable_list, expression_list, assignment_statement, for_statement,
        for_numeric_clause, for_generic_clause, repeat_statement, dot_index_expression,
        method_index_expression, bracket_index_expression, function_call, arguments, field,
        table_constructor, string, string_content, label_statement, goto_statement, attribute,
        comment, do_statement, while_statement, if_statement, return_statement, error;
    TSFieldId f_name, f_table, f_field, f_method, f_body, f_parameters, f_clause, f_value, f_key,
        f_arguments, f_content, f_condition;
} lsp_ts_ids;

lsp_ts_ids *lsp_ts_ids_new(void);

typedef struct lsp_server lsp_server;

lsp_doc *lsp_doc_find(lsp_server *s, const char *uri);
lsp_doc *lsp_doc_open(lsp_server *s, const char *uri, int64_t version, const char *text, size_t n);
void lsp_doc_close(lsp_server *s, const char *uri);
void lsp_doc_free(lsp_doc *d);
/* Applies one content change: range NULL replaces the whole text. */
tx_status lsp_doc_change(lsp_server *s, lsp_doc *d, const cJSON *range, const char *text, size_t n,
                         lsp_error *err);
/* The analysis of the current text, made now if stale; NULL only when out of memory. */
lsp_analysis *lsp_doc_analysis(lsp_server *s, lsp_doc *d);
/* The latest analysis with a syntax tree (NULL if there never was one); its
 * byte offsets are mapped to the current text with lsp_doc_map. */
lsp_analysis *lsp_doc_good(lsp_server *s, lsp_doc *d);
/* Maps a byte range of `good` to the current text; false when the text
 * there was edited since. */
bool lsp_doc_map(const lsp_doc *d, uint32_t *start, uint32_t *end);
/* The reverse: a current offset to `good`'s text; false inside an edit. */
bool lsp_doc_unmap(const lsp_doc *d, uint32_t *pos);
/* The tree-sitter tree of the current text, reparsed incrementally if stale. */
TSTree *lsp_doc_tree(lsp_server *s, lsp_doc *d);
void lsp_analysis_free(lsp_analysis *a);
lsp_view lsp_doc_view(const lsp_server *s, const lsp_doc *d);
lsp_view lsp_analysis_view(const lsp_server *s, const lsp_analysis *a);
/* Analyses a text that no editor owns (workspace files); caller frees. */
lsp_analysis *lsp_analyse_text(fe_context *fe, ck_checker *ck, fe_reuse *reuse, const char *path,
                               char *src, size_t len);
/* file:// URI <-> path (percent-decoding); NULL when not a file URI. */
char *lsp_uri_to_path(const char *uri);
char *lsp_path_to_uri(const char *path);

/* ---- replies and common parameter readers (lsp_server.c) ----------------------------------------
 */

/* window/showMessage (1 error, 2 warning, 3 info). */
void lsp_show_message(lsp_server *s, int type, const char *text);

/* Lifecycle (lsp_lifecycle.c) and text synchronisation (lsp_sync.c). */
cJSON *lsp_on_initialize(lsp_server *s, const cJSON *params, lsp_error *err);
cJSON *lsp_on_shutdown(lsp_server *s, const cJSON *params, lsp_error *err);
void lsp_on_initialized(lsp_server *s, const cJSON *params);
void lsp_on_exit(lsp_server *s, const cJSON *params);
void lsp_on_did_open(lsp_server *s, const cJSON *params);
void lsp_on_did_change(lsp_server *s, const cJSON *params);
void lsp_on_did_close(lsp_server *s, const cJSON *params);
void lsp_on_did_save(lsp_server *s, const cJSON *params);
void lsp_on_watched(lsp_server *s, const cJSON *params);

/* params.textDocument.uri of an open document, else an error. */
lsp_doc *lsp_param_doc(lsp_server *s, const cJSON *params, lsp_error *err);
/* params.position as a byte offset of the document's current text. */
bool lsp_param_offset(lsp_server *s, lsp_doc *d, const cJSON *params, size_t *out, lsp_error *err);

/* ---- diagnostics (lsp_diag.c) --------------------------------------------------------------- */

/* codeDescription.href of a code: its section of docs/diagnostics.md. */
void lsp_diag_href(const char *code, char *buf, size_t cap);
cJSON *lsp_diag_json(const lsp_server *s, const lsp_analysis *a, const char *uri, const tx_diag *d);
/* One Diagnostic object from its parts (ranges taken); related_range NULL: none. */
cJSON *lsp_diag_object(cJSON *range, int severity, const char *code, const char *message,
                       const char *related_uri, cJSON *related_range, const char *related_message);
cJSON *lsp_diag_array(const lsp_server *s, const lsp_analysis *a, const char *uri);
void lsp_diag_publish(lsp_server *s, lsp_doc *d);
void lsp_diag_publish_empty(lsp_server *s, const char *uri);
cJSON *lsp_on_diagnostic(lsp_server *s, const cJSON *params, lsp_error *err);
cJSON *lsp_on_workspace_diagnostic(lsp_server *s, const cJSON *params, lsp_error *err);
/* Tells the client once that a document is too large to analyse. */
void lsp_diag_too_large(lsp_server *s, lsp_doc *d);

/* ---- navigation (lsp_nav.c) -------------------------------------------------------------------
 */

typedef enum {
    LSP_SYM_PROCEDURE,
    LSP_SYM_AGENT,
    LSP_SYM_TOOL,
    LSP_SYM_TOOLSET,
    LSP_SYM_STDLIB_TOOL,
    LSP_SYM_MODEL,
    LSP_SYM_FIELD,
    LSP_SYM_STEP,
    LSP_SYM_LOCAL,
    LSP_SYM_GLOBAL,   /* a global function or value the file assigns (function helper() end) */
    LSP_SYM_SCENARIO, /* workspace symbols only: a Gherkin scenario */
} lsp_sym_kind;

typedef enum { LSP_OCC_DECL, LSP_OCC_READ, LSP_OCC_WRITE, LSP_OCC_TEXT } lsp_occ_role;

typedef struct {
    lsp_sym_kind kind;
    const char *name;
    uint32_t name_start, name_end; /* where the name is written (inside quotes for strings) */
    uint32_t start, end;           /* the whole declaration */
    int owner;                     /* fields: the procedure or tool; else -1 */
    const char *schema;            /* fields: "input", "output" or "state" */
    const void *decl; /* fe_procedure, fe_agent, fe_tool, fe_model, fe_field, fe_custom_step */
    bool renamable;
    bool has_decl; /* name_start/end are valid in the current text */
    int fields_of; /* locals: the parameter whose .x are fields of this procedure/tool, or -1 */
    const char *fields_schema;
} lsp_symbol;

typedef struct {
    uint32_t start, end;
    int sym;
    lsp_occ_role role;
} lsp_occurrence;

struct lsp_nav {
    const lsp_analysis *model; /* the analysis the declarations come from, or NULL */
    lsp_symbol *syms;
    size_t n_syms, cap_syms;
    lsp_occurrence *occs; /* sorted by start */
    size_t n_occs, cap_occs;
    tx_arena arena;
};

/* Symbols and occurrences of the document's current text: declarations
 * from the latest parseable analysis (mapped through later edits), uses
 * and locals from the current tree-sitter tree. NULL when out of memory. */
lsp_nav *lsp_nav_get(lsp_server *s, lsp_doc *d);
void lsp_nav_free(lsp_nav *n);
/* The occurrence at byte `pos` of the current text, or NULL. */
const lsp_occurrence *lsp_nav_at(const lsp_nav *n, uint32_t pos);
/* The symbol declared in the file with `name`, or -1. */
int lsp_nav_find(const lsp_nav *n, const char *name, size_t len);
/* The procedure symbol whose declaration contains `pos`, or -1. */
int lsp_nav_enclosing(const lsp_nav *n, uint32_t pos, lsp_sym_kind kind);

/* Building the index (lsp_nav.c, with lsp_nav_model.c and lsp_nav_scopes.c). */
typedef struct {
    lsp_server *s;
    lsp_doc *d;
    lsp_nav *n;
    const lsp_analysis *a; /* model source, or NULL */
    const lsp_ts_ids *id;
    tx_map by_name; /* model declaration name -> sym index + 1 */
    tx_map globals; /* assigned globals -> sym index + 1 */
    bool oom;
    /* Lua scopes of the syntax walk: visible locals, innermost last. */
    struct {
        const char *name;
        uint32_t len;
        int sym;
    } * locals;
    size_t n_locals, cap_locals;
} lsp_nav_build;

/* A new symbol (index), or -1 when out of memory (b->oom). */
int lsp_nav_add_sym(lsp_nav_build *b, lsp_sym_kind kind, const char *name, size_t len);
void lsp_nav_add_occ(lsp_nav_build *b, uint32_t start, uint32_t end, int sym, lsp_occ_role role);
/* The model declaration named `name`, or -1. */
int lsp_nav_by_name(lsp_nav_build *b, const char *name, size_t len);
/* The field symbol `name` of owner's schema, or -1. */
int lsp_nav_field_of(lsp_nav_build *b, int owner, const char *schema, const char *name, size_t len);
/* Declarations and textual mentions from the model (b->a). */
void lsp_nav_model_part(lsp_nav_build *b);
/* Locals, globals and uses from the tree rooted at `root`. */
void lsp_nav_scopes_part(lsp_nav_build *b, TSNode root);

/* Requests (lsp_nav_requests.c). */
cJSON *lsp_on_definition(lsp_server *s, const cJSON *params, lsp_error *err);
cJSON *lsp_on_references(lsp_server *s, const cJSON *params, lsp_error *err);
cJSON *lsp_on_prepare_rename(lsp_server *s, const cJSON *params, lsp_error *err);
cJSON *lsp_on_rename(lsp_server *s, const cJSON *params, lsp_error *err);
cJSON *lsp_on_highlight(lsp_server *s, const cJSON *params, lsp_error *err);

/* ---- the DSL's vocabulary (lsp_dsl.c) ---------------------------------------------------------
 */

typedef struct {
    const char *key;
    const char *doc;
} lsp_dsl_key;

typedef enum {
    LSP_DSL_DECLARATION, /* Agent, Procedure, Tool ... (top level) */
    LSP_DSL_FUNCTION,    /* Sleep, Human.approve, State.get ... */
    LSP_DSL_NAMESPACE,   /* Human, State, field ... */
    LSP_DSL_BUILDER,     /* field.string ... */
    LSP_DSL_VALUE,       /* state, input (tables) */
} lsp_dsl_kind;

typedef struct {
    const char *name; /* "Agent", "field.string", "Human.approve", "require" */
    lsp_dsl_kind kind;
    const char *signature;     /* as shown: "Agent { model = ..., tools = {...}, ... }" */
    const char *doc;           /* one or two sentences */
    const lsp_dsl_key *keys;   /* keys of its table argument ({NULL} ends), or NULL */
    const char *const *params; /* positional parameters for signature help, or NULL */
} lsp_dsl_entry;

const lsp_dsl_entry *lsp_dsl_find(const char *name, size_t len);
const lsp_dsl_entry *lsp_dsl_all(size_t *count);
/* The documentation of a table key of `owner` (e.g. Agent's "tools"), or NULL. */
const char *lsp_dsl_key_doc(const lsp_dsl_entry *owner, const char *key, size_t len);
/* Lua's own globals (print, pairs, string ...) for completion. */
extern const char *const lsp_lua_globals[];
/* Stdlib module one-line docs. */
const char *lsp_dsl_module_doc(const char *module);

/* ---- where the cursor is (lsp_table_context.c)
 * ------------------------------------------------------------ */

/* The table the cursor is in, the call it is an argument of, and the key
 * it is the value of in an enclosing table (tools = {...} of an Agent). */
typedef struct {
    bool in_table;
    char callee[128];       /* "Agent", "field.string", "Human.approve", a declared name; or "" */
    int arg_index;          /* which argument of callee the table is */
    char key[64];           /* the table is the value of key = {...}, or "" */
    char outer_callee[128]; /* ... in a table passed to this call */
    bool at_key;            /* the cursor is where a key is written */
    uint32_t table_start;
} lsp_table_ctx;

bool lsp_table_context(lsp_server *s, lsp_doc *d, size_t pos, lsp_table_ctx *ctx);
/* The callee name of a function_call node ("Agent" also for Agent "x" {...}). */
bool lsp_call_name(const lsp_doc *d, TSNode call, char *buf, size_t cap);

/* ---- describing for hover (lsp_describe.c) ----------------------------------------------------
 */

/* Markdown of symbol k of the navigation index: what the model knows of it. */
void lsp_describe_symbol(lsp_server *s, lsp_doc *d, const lsp_nav *n, int k, tx_buf *b);
/* Markdown of a DSL entry: its signature, doc and table keys. */
void lsp_describe_dsl(const lsp_dsl_entry *e, tx_buf *b);

/* ---- the rest of the methods ---------------------------------------------------------------- */

cJSON *lsp_on_hover(lsp_server *s, const cJSON *params, lsp_error *err);
cJSON *lsp_on_signature_help(lsp_server *s, const cJSON *params, lsp_error *err);
cJSON *lsp_on_completion(lsp_server *s, const cJSON *params, lsp_error *err);
cJSON *lsp_on_document_symbol(lsp_server *s, const cJSON *params, lsp_error *err);
cJSON *lsp_on_workspace_symbol(lsp_server *s, const cJSON *params, lsp_error *err);
cJSON *lsp_on_folding_range(lsp_server *s, const cJSON *params, lsp_error *err);
cJSON *lsp_on_selection_range(lsp_server *s, const cJSON *params, lsp_error *err);
cJSON *lsp_on_semantic_tokens_full(lsp_server *s, const cJSON *params, lsp_error *err);
cJSON *lsp_on_semantic_tokens_range(lsp_server *s, const cJSON *params, lsp_error *err);
cJSON *lsp_on_code_action(lsp_server *s, const cJSON *params, lsp_error *err);
/* The legend advertised in initialize. */
cJSON *lsp_tokens_legend(void);
void lsp_tokens_free(lsp_server *s);

/* Shared small helpers of the feature files. */
/* The innermost named node of `tree` covering [start, end). */
TSNode lsp_node_at(TSTree *tree, uint32_t start, uint32_t end);
/* A node's text (not NUL-terminated) and its length. */
const char *lsp_node_text(const lsp_doc *d, TSNode n, size_t *len);
bool lsp_node_is(TSNode n, const char *type);
/* The static dotted name of an identifier / a.b / a:b node into buf; false if dynamic. */
bool lsp_node_dotted(const lsp_doc *d, TSNode n, char *buf, size_t cap);
/* Calls fn for each identifier that the statements of block `blk` starting
 * before `before` declare as locals (local a, b = ...; local function f),
 * in order; stmt is the declaring statement. */
void lsp_block_locals(const lsp_doc *d, TSNode blk, uint32_t before,
                      void (*fn)(void *ud, TSNode id, TSNode stmt), void *ud);
/* Calls fn for each identifier parameter of a function node. */
void lsp_function_params(TSNode fn_node, void (*fn)(void *ud, TSNode id, uint32_t index), void *ud);
/* MarkupContent for hover and documentation: the markdown as it is when the
 * client's hover.contentFormat includes markdown, else plaintext without
 * markdown syntax (no ** or backticks, code fences' lines dropped). */
cJSON *lsp_markup(const lsp_server *s, const char *markdown);

/* ---- workspace (lsp_workspace.c) --------------------------------------------------------------
 */

/* The index (lsp_workspace.c, lsp_ws_extract.c, lsp_ws_queries.c). */
typedef struct {
    uint32_t sl, sc, el, ec; /* line/character in the client's encoding */
} lsp_ws_range;

typedef struct {
    const char *name;
    const char *container; /* fields: their procedure or tool; else NULL */
    uint8_t kind;          /* lsp_sym_kind */
    lsp_ws_range at;       /* the name */
    lsp_ws_range full;     /* the declaration */
} lsp_ws_symbol;

typedef struct {
    const char *name; /* a global name's root (`helper` of helper.run) */
    lsp_ws_range at;
} lsp_ws_ref;

typedef struct {
    const char *code;
    const char *message;
    const char *related_message; /* or NULL */
    uint8_t severity;
    lsp_ws_range at, related;
} lsp_ws_diag;

typedef struct {
    char *path;
    const char **requires; /* resolved paths of required .tac modules */
    size_t n_requires;
    lsp_ws_symbol *syms;
    size_t n_syms;
    lsp_ws_ref *refs;
    size_t n_refs;
    lsp_ws_diag *diags;
    size_t n_diags;
    uint64_t result_id;
    tx_arena arena;
} lsp_ws_file;

struct lsp_workspace {
    lsp_server *s;
    pthread_mutex_t mu;
    pthread_cond_t cond;
    pthread_t thread;
    bool thread_started;
    bool stop;
    lsp_ws_file **files;
    size_t n_files, cap_files;
    tx_map by_path; /* path -> lsp_ws_file */
    char **open;    /* paths the editor owns (a few: a linear list) */
    size_t n_open;
    /* progress: the id of our window/workDoneProgress/create, and its answer */
    int64_t progress_request;
    int progress_state; /* 0 waiting, 1 ready, -1 refused */
    uint64_t next_result_id;
    bool done;
    size_t indexed;
};

void lsp_ws_file_free(lsp_ws_file *f);
/* Reads, analyses and extracts one file (any thread, its own fe/ck); NULL
 * when it cannot be read or out of memory. */
lsp_ws_file *lsp_ws_index_one(lsp_server *s, fe_context *fe, ck_checker *ck, const char *path,
                              uint64_t id);
/* Whether the editor owns `path`. Caller holds ws->mu. */
bool lsp_ws_is_open(const lsp_workspace *ws, const char *path);

lsp_workspace *lsp_ws_new(lsp_server *s);
void lsp_ws_free(lsp_workspace *ws);
/* Starts the background indexing of the folders (after `initialized`). */
void lsp_ws_start(lsp_server *s);
void lsp_ws_on_watched(lsp_server *s, const cJSON *params);
/* The client answered one of our requests (progress token creation). */
void lsp_ws_on_response(lsp_server *s, const cJSON *id, bool ok);
/* The editor opened (owns) or closed a file. */
void lsp_ws_set_open(lsp_server *s, const char *path, bool open);
/* Whether the first indexing finished, and how many files are indexed. */
bool lsp_ws_indexing_done(lsp_server *s, size_t *files);
/* SymbolKind number of a symbol kind (lsp_outline.c). */
int lsp_symbol_kind_number(lsp_sym_kind k);
/* A file the editor stopped owning: index it from disk again. */
void lsp_ws_reindex(lsp_server *s, const char *path);
/* Appends workspace symbols matching query to arr. */
void lsp_ws_symbols(lsp_server *s, const char *query, cJSON *arr, size_t cap);
/* Locations, in the closed files that share the global `name` with
 * `except_path` (see shared_files), of its declarations (decls) and uses
 * (refs); appended to arr. declared_there: except_path declares it. */
void lsp_ws_locations(lsp_server *s, const char *name, bool decls, bool refs,
                      const char *except_path, bool declared_there, cJSON *arr);
/* The path of the .tac module `module` required from `from_path`, or NULL (tx_free it). */
char *lsp_ws_module_path(const char *from_path, const char *module, size_t len);
/* Module names of the .tac files beside `from_path` (for require completion). */
void lsp_ws_module_names(lsp_server *s, const char *from_path, cJSON *items);
/* Workspace diagnostics of files not open in the editor. */
void lsp_ws_diagnostics(lsp_server *s, const cJSON *previous, cJSON *items);
/* Text edits renaming global `name` in closed workspace files into `changes`. */
void lsp_ws_rename(lsp_server *s, const char *name, const char *new_name, const char *except_path,
                   cJSON *changes);

int64_t lsp_now_ms(void);

#endif
