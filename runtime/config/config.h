/*
 * config.h - what the host obeys: configuration files merged in a cascade
 * (YAML), which of a project's own files the user trusts (`tactus trust`),
 * the host's .env files, and the default places of things.
 *
 * Every trusted module reads its settings from the merged document with
 * cf_get; none reads a configuration file itself. A project's files
 * (.tactus/config.yml, FILE.tac.yml, .env) travel with the procedure, so
 * only trusted sources may set privileged keys (docs/run.md, "Trusted and
 * untrusted configuration"; the allow-list is config_keys in config.c).
 *
 * Errors: tx_status with a message "file:line:column: what" in err.
 */
#ifndef TACTUS_CONFIG_H
#define TACTUS_CONFIG_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdio.h>

#include "base.h"

/* ---- the cascade (config.c) ---------------------------------------------------- */

/* Loads and merges, lowest priority first: /etc/tactus/config.yml,
 * ~/.config/tactus/config.yml or ~/.tactus/config.yml, ./.tactus/config.yml
 * (see below), the .tactus/config.yml of every folder from the filesystem
 * root down to the procedure's folder, then the sidecar FILE.tac.yml (or FILE.yml). Scalars
 * overwrite, lists extend, mappings merge deeply. On a YAML error returns
 * TX_EINVAL with a message "file:line:column: what" in err. */
tx_status cf_load(const char *procedure_path, cJSON **config, char *err, size_t errlen);
/* (procedure_path may also be a folder: its own .tactus/config.yml is then
 * the nearest, and there is no sidecar.) The current folder's
 * .tactus/config.yml is merged before the walk only when it is not one of
 * the walk's folders; when it is (the procedure's folder, or one above it,
 * also through a symbolic link), it is merged at its place in the walk. */

/* Where a merged configuration came from (`tactus config`). Both owned. */
typedef struct {
    cJSON *origins; /* {"dotted.key": "the file that set it", ...}; a list extended by
                     * several files names them all, comma-separated */
    cJSON *files;   /* [{path, source, trusted, trusted_by_tactus_trust?}], in merge order */
} cf_trace;

/* cf_load, also filling `trace` (freed with cf_trace_free; empty on error). */
tx_status cf_load_traced(const char *procedure_path, cJSON **config, cf_trace *trace, char *err,
                         size_t errlen);
void cf_trace_free(cf_trace *trace);
/* Parses one YAML document into JSON (mappings, sequences, typed scalars). */
tx_status cf_yaml_parse(const char *text, size_t len, const char *name, cJSON **out, char *err,
                        size_t errlen);
/* Deep merge of `over` into `base` (both objects): scalars overwrite, arrays
 * concatenate, objects merge. `over` is left untouched. */
void cf_merge(cJSON *base, const cJSON *over);
/* cf_merge, recording in `origins` ({"dotted.key": "file"}) `file` as the
 * origin of each leaf `over` sets (a list extended by another file names
 * both, comma-separated; a value of another shape drops the old leaves). */
void cf_merge_traced(cJSON *base, const cJSON *over, cJSON *origins, const char *file);
/* Value at a dotted path ("providers.openai.base_url"), or NULL. */
const cJSON *cf_get(const cJSON *config, const char *dotted);
/* Reads KEY=VALUE lines of a .env file into the host's environment without
 * overriding what is set. Only the host ever reads these. */
tx_status cf_dotenv_load(const char *path);
/* Applies KEY=VALUE lines already read (text is modified). */
void cf_dotenv_apply(char *text);

/* ---- trusted project files (cf_trust.c) ------------------------------------------------- */

/* The user's configuration folder: $XDG_CONFIG_HOME/tactus, else
 * ~/.config/tactus. False when neither variable is set. */
bool cf_user_dir(char *out, size_t cap);
/* Whether `tactus trust` recorded exactly these bytes for the file whose
 * realpath is `real` (SHA-256, in the user's trusted.json). */
bool cf_trust_matches(const char *real, const char *text, size_t len);
/* Records the current content of each file (realpaths), or forgets them
 * (revoke); trusted.json is written 0600 and atomically. */
tx_status cf_trust_update(const char *const *reals, size_t n, bool revoke, char *err, size_t cap);
/* The recorded entries: {"/path": "sha256hex", ...} (caller frees), or NULL. */
cJSON *cf_trust_entries(void);
/* The host's .env files: the user's ($CONFIG/.env.local, .env), then
 * .env.local/.env of the current folder and of the procedure's folder only
 * when trusted; an untrusted one is named in a one-line warning on `warn`
 * and its keys are not loaded. Never overrides the environment. */
void cf_env_files_load(const char *procedure_path, FILE *warn);

/* ---- default places (config.c) ---------------------------------------------------------- */

/* The control socket of `tactus broker serve`: $XDG_RUNTIME_DIR/tactus/broker.sock,
 * else ~/.local/state/tactus/broker.sock. */
/* false when neither $XDG_RUNTIME_DIR nor $HOME is set: the place would be
 * under /tmp, which other users can write first. */
bool cf_default_broker_control(char *out, size_t cap);

#endif
