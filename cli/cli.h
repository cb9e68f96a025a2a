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

/* Exit codes shared by every subcommand (docs/cli.md). */
enum {
    CLI_EXIT_OK = 0,
    CLI_EXIT_FAILED = 1, /* check found errors, a run failed, a test failed */
    CLI_EXIT_USAGE = 2,  /* bad arguments, unreadable input */
};

int cli_check(int argc, char **argv);
int cli_run(int argc, char **argv);
int cli_sandbox(int argc, char **argv);
/* runs, approvals, approve, resume, show: argv[0] names the command. */
int cli_runs(int argc, char **argv);

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
