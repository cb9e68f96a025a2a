/*
 * cli.h - the tactus command: argument parsing and dispatch only. Each
 * subcommand lives in its own cli_*.c and returns the process exit code.
 */
#ifndef TACTUS_CLI_H
#define TACTUS_CLI_H

#include <stdbool.h>
#include <stdio.h>

#include <cjson/cJSON.h>

#include "checker.h"
#include "config.h"
#include "hostlib.h"
#include "sandbox.h"
#include "supervisor.h"

/* Exit codes shared by every subcommand (docs/cli.md). */
enum {
    CLI_EXIT_OK = 0,
    CLI_EXIT_FAILED = 1, /* check found errors, a run failed, a test failed */
    CLI_EXIT_USAGE = 2,  /* bad arguments, unreadable input */
    CLI_EXIT_WAITING = 3, /* a run waits for a person */
    CLI_EXIT_NO_SANDBOX = 4, /* the sandbox is required but unavailable */
};

/* A message on stderr, made inert for the terminal as a whole: paths,
 * names and values in it may come from a procedure (a file named with an
 * escape sequence), so control characters are shown, not sent
 * (tx_term_text). Every message of the CLI goes through here. */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

int cli_check(int argc, char **argv);
int cli_run(int argc, char **argv);
int cli_sandbox(int argc, char **argv);
/* runs, approvals, approve, resume, show: argv[0] names the command. */
int cli_runs(int argc, char **argv);

int cli_test(int argc, char **argv);
int cli_eval(int argc, char **argv);
int cli_broker(int argc, char **argv);
int cli_trust(int argc, char **argv);
int cli_config(int argc, char **argv);
int cli_lsp(int argc, char **argv);
/* mcp list|call|refresh|serve (cli_mcp.c, cli_mcp_serve.c). */
int cli_mcp(int argc, char **argv);
int cli_mcp_serve(int argc, char **argv);
/* tactus store migrate|status (cli_store.c). */
int cli_store(int argc, char **argv);
/* tactus submit FILE (cli_submit.c) and tactus worker (cli_worker.c). */
int cli_submit(int argc, char **argv);
int cli_worker(int argc, char **argv);
/* tactus queue [cancel RUN] (cli_worker.c). */
int cli_queue(int argc, char **argv);
/* tactus serve and tactus tokens (cli_serve.c). */
int cli_serve(int argc, char **argv);
int cli_tokens(int argc, char **argv);

/* ---- runs (cli_run.c) -------------------------------------------------------------------- */

/* The inputs of a run of `f`'s main procedure: --input KEY=VALUE (typed by
 * its input schema) over --input-json; a missing required input or a bad
 * value is reported as "cmd: ..." and NULL returned. */
cJSON *cli_run_inputs(const char *cmd, const fe_file *f, char **kv, size_t n_kv,
                      const char *json_text);
/* The file's Mocks blocks merged into one object (NULL when none). */
cJSON *cli_mocks_json(const fe_file *f);

/* ---- the store (cli_store.c) ------------------------------------------------------------ */

/* The journal's store: `flag` (--store), else $TACTUS_STORE, else the
 * trusted configuration's journal.url (the cascade of procedure_path, or of
 * the current folder when NULL), else the default file. false after
 * printing why. */
bool cli_store_resolve(const char *cmd, const char *flag, const char *procedure_path, char *out,
                       size_t cap);
/* Opens it, or prints "cmd: why" (never a password) and returns NULL. */
tj_journal *cli_store_open(const char *cmd, const char *store);
/* The folder of a SQLite store ("" for a URL): no workspace may hold it. */
void cli_store_dir(const char *store, char *out, size_t cap);

/* ---- files named on the command line (cli_paths.c) -------------------------------------- */

typedef struct {
    char **paths;
    size_t len, cap;
} cli_paths;

/* Adds a file, or a folder's .tac files (recursively, sorted); false after
 * printing why ("cmd: cannot read ..."). */
bool cli_paths_add_arg(cli_paths *l, const char *arg, const char *cmd);
void cli_paths_free(cli_paths *l);

/* KEY=VALUE arguments (`flag` says which: --input, --param) into inputs,
 * each typed by its field of `schema` (none: text); a key the schema does
 * not declare is refused. `where` (a file, or NULL) prefixes messages.
 * False after printing why as "cmd: ...". kv is not changed. */
bool cli_typed_inputs(const fe_schema *schema, char *const *kv, size_t n_kv, const char *cmd,
                      const char *flag, const char *where, cJSON *inputs);

/* The largest procedure source a run takes (frontend.h explains why);
 * `tactus check` reads larger files and warns (TAC006). */
#define CLI_MAX_RUN_SOURCE FE_MAX_RUN_SOURCE
/* Reads a procedure to run (at most CLI_MAX_RUN_SOURCE); false after
 * printing why on stderr, as "cmd: ...". */
bool cli_read_run_source(const char *cmd, const char *path, char **src, size_t *len);

/* Every file of the arguments read, parsed, checked, with its configuration. */
typedef struct {
    char *src;
    size_t len;
    fe_file *f;
    cJSON *config;
} cli_file;

typedef struct {
    cli_paths paths;
    cli_file *files; /* one per path */
    fe_context *fe;
    ck_checker *ck;
} cli_inputs;

/* Loads the files named by argv[0..argc) (files or folders). Files with
 * errors get their diagnostics printed on stderr; then CLI_EXIT_USAGE is
 * returned and nothing should run. CLI_EXIT_OK when all are usable. */
int cli_inputs_load(cli_inputs *in, int argc, char **argv, const char *cmd);
void cli_inputs_free(cli_inputs *in);

/* ---- starting the runtime (cli_launch.c) ------------------------------------------------- */

typedef struct {
    bool sandbox;        /* Docker; false: a plain child process */
    char runtime[4096];  /* tactus-runtime */
    char image[256];     /* the sandbox image, current */
    bool remote;         /* a remote broker (sandbox.broker_transport tcp|tls) */
    sb_remote broker;
    char store[4096];    /* the journal's file, "" for none: no workspace may hold it */
    sb_pool *pool;       /* test/eval in Docker: a worker's container serves many runs */
    char pool_exe[4096]; /* tactus-pool, beside tactus */
} cli_launcher;

/* test and eval: from now on, runs of the launcher share worker containers
 * (a no-op without Docker or with a remote broker). Freed by
 * cli_launcher_close. */
void cli_launcher_pool(cli_launcher *l);
/* sandbox.warm (true: 1, at most 8): how many spare containers `tactus run`
 * keeps started for a procedure's plan; 0 without Docker or with a remote
 * broker. */
int cli_warm_wanted(const cli_launcher *l, const cJSON *config);
/* Starts keepers until `want` wait for `plan` (sandbox.warm_idle: how long
 * an unclaimed one lives, default 300 s). */
void cli_warm_refill(const sb_launch *plan, const cJSON *config, int want);
void cli_launcher_close(cli_launcher *l);

/* Decides how runs start: Docker unless no_sandbox or sandbox.enabled:
 * false (then prints the security warning unless quiet). With Docker,
 * fails closed (the F.2 message, CLI_EXIT_NO_SANDBOX) when no daemon
 * answers, and rebuilds a missing or stale image. 0 when ready. */
int cli_launcher_prepare(cli_launcher *l, const char *cmd, const cJSON *config, bool no_sandbox,
                         bool quiet);
/* For `tactus run`, before cli_launcher_prepare (a configuration error is
 * reported whether or not Docker answers): sandbox.broker_transport
 * tcp|tls, whose runs are registered with `tactus broker serve`. Fills
 * l->remote and l->broker; CLI_EXIT_USAGE with the F.1 message. */
int cli_launcher_check_remote(cli_launcher *l, const char *cmd, const cJSON *config,
                              bool no_sandbox);
/* The launch plan of one run (container named after run_id), after
 * refusing a workspace that holds the host's own files (sb_check_workspace). */
tx_status cli_launcher_make(const cli_launcher *l, const cJSON *config, const char *workspace,
                            const char *run_id, FILE *warn, sb_launch *out, char *err, size_t cap);
/* cli_launcher_make as a test/eval launch callback (ud: the launcher). */
tx_status cli_launcher_for_runs(void *launcher, const cJSON *config, const char *workspace,
                                const char *run_id, sb_launch *l, char *err, size_t cap);
/* Options `tactus test` and `tactus eval` share (many runs of procedures). */
typedef struct {
    bool mock, timings, no_sandbox;
    const char *sandbox; /* --sandbox BACKEND, or NULL */
    int runs; /* 0: not given */
    int jobs;
    const char *output;
    sup_limits limits;
} cli_batch;

#define CLI_BATCH_LONGOPTS                                                                         \
    {"mock", no_argument, NULL, 'm'}, {"runs", required_argument, NULL, 'r'},                      \
        {"jobs", required_argument, NULL, 'j'}, {"output", required_argument, NULL, 'o'},          \
        {"timings", no_argument, NULL, 'T'}, {"no-sandbox", no_argument, NULL, 'N'},               \
        {"max-instructions", required_argument, NULL, 'I'},                                        \
        {"timeout", required_argument, NULL, 'W'}, {"sandbox", required_argument, NULL, 'S'}

/* --sandbox BACKEND (or the trusted key sandbox.backend): docker (the
 * default), runsc (Docker with gVisor: sets sandbox.runtime) or process
 * (no container, as --no-sandbox, with its warning). Applied to the merged
 * configuration; false after "cmd: ..." for another value. */
bool cli_sandbox_backend(cJSON *config, const char *flag, const char *cmd, bool *no_sandbox);

/* Defaults: one job per CPU, the run budgets of `tactus run`. */
void cli_batch_init(cli_batch *b);
/* Applies one of the shared options: 1 done, 0 not a shared option, -1 a
 * bad value (reported as "cmd: ..."). */
int cli_batch_option(cli_batch *b, const char *cmd, int opt, const char *arg);

/* Parses a count from 1 to max; false after "cmd: what takes a number...". */
bool cli_positive(const char *cmd, const char *arg, const char *what, long max, long *out);
/* The folder of a procedure file, absolute: its workspace. */
bool cli_workspace_of(const char *path, char *out, size_t cap);
/* Prints the file's syntax errors (file:line:col); true if there were any. */
bool cli_report_syntax_errors(const fe_file *f);
/* .env.local and .env of the working folder and of the file's folder, into
 * the host's environment (never the runtime's). */
void cli_load_env_files(const char *path);

/* ---- report files, written whole or not at all (cli_paths.c) ----------------------------- */

/* A report goes to a temporary file beside its path and is renamed over it
 * only when complete, so an error, an interrupt or a full disk never
 * leaves a half-written report where the old one was. */
typedef struct {
    FILE *f;
    char path[4096];
    char tmp[4400]; /* "" for standard output */
} cli_out;

/* Whether a report can be written at `path` (its folder exists and is
 * writable; an existing file is a regular one): checked before any run,
 * so a typo in a path fails at once. False after "cmd: ..." on stderr. */
bool cli_out_check(const char *cmd, const char *what, const char *path);
/* Opens `path` (NULL: standard output). False after "cmd: ..." on stderr. */
bool cli_out_open(cli_out *o, const char *cmd, const char *path);
/* Closes and renames into place; false after "cmd: ..." (nothing replaced). */
bool cli_out_commit(cli_out *o, const char *cmd);
/* Closes and removes the temporary file: nothing is written. */
void cli_out_abort(cli_out *o);

/* ---- rendering (cli_render.c) ---------------------------------------------------------- */

typedef enum { CLI_FORMAT_TEXT, CLI_FORMAT_JSON, CLI_FORMAT_SARIF } cli_format;

typedef struct cli_report cli_report;

/* Collects diagnostics of many files and writes them in one format. Text is
 * written as it comes; JSON and SARIF are one document written at the end. */
cli_report *cli_report_new(cli_format format, FILE *out, bool color);
void cli_report_file(cli_report *r, const char *path, const char *src, size_t len,
                     const tx_diag_list *diags);
/* Writes the document (JSON/SARIF) for `files` checked files. */
int cli_report_finish(cli_report *r, size_t files);
void cli_report_free(cli_report *r);

/* A JSON value for people: two-space indentation, keys in their order. */
void cli_print_json(FILE *out, const cJSON *v);

#endif
