/*
 * br_internal.h - what the files of runtime/broker/ share (not a public
 * header): the broker's state, and the pieces broker.c puts together.
 */
#ifndef TACTUS_BR_INTERNAL_H
#define TACTUS_BR_INTERNAL_H

#include "broker.h"
#include "config.h"
#include "hostlib.h"
#include "mcp.h"
#include "proto.h"
#include "providers.h"

/* The largest text redaction works on (a reply, a held stream). */
#define BR_REDACT_CAP (64u * 1024u * 1024u)

#define BR_MAX_SECRETS 256
/* Streams held back at once: the text and each tool call of an answer. */
#define BR_MAX_HELD (1 + BR_ANSWER_MAX_CALLS)

typedef struct br_mcp br_mcp;
typedef struct br_egress br_egress;

struct br_broker {
    const cJSON *config;
    bool mock_all;
    /* Values of the host's secret-named variables: redacted from everything
     * sent back to the runtime, as a second line behind "keys never leave
     * the providers" (a provider may quote a rejected key in its error). */
    char *secrets[BR_MAX_SECRETS];
    size_t n_secrets;
    br_delta_fn user_delta;
    void *user_ud;
    char run_id[48];
    long position; /* of the effect being handled, for idempotency keys */
    char tenant[128];
    char audit_path[4096]; /* "" = no audit log */
    br_audit_sink audit_sink; /* instead of the file: the store's audit log */
    void *audit_sink_ud;
    /* Budgets of the run (0 = none) and what it has used. */
    double budget_tokens, budget_cost, budget_calls;
    br_usage usage; /* what it has used (br_get_usage) */
    br_mock *mock;
    /* `tactus test` (br_set_test): HITL answered at once, a fixed
     * clock, and the agents whose turns are mocked even without --mock. */
    const cJSON *test;
    long long fixed_now_ms, clock_calls;
    br_mcp *mcp; /* the run's MCP servers, started on first use */
    br_openai *openai;
    br_anthropic *anthropic;
    long long deadline_ms; /* br_set_deadline; 0: none */
    bool (*interrupted)(void *ud); /* br_set_interrupt; NULL: never */
    void *interrupted_ud;
    /* Streamed pieces not yet passed on, per stream (the text, each tool
     * call's arguments): a secret split over several deltas is only caught
     * if the last (longest secret - 1) bytes wait for the next piece. */
    struct held_stream {
        bool used;
        int index; /* -1 = text, else the tool call's index */
        tx_buf tail;
    } held[BR_MAX_HELD];
};

/* ---- events (broker.c) ---------------------------------------------------------------- */

/* {id, event: "done", data: {key: value}} (value is taken). */
cJSON *br_done_event(long id, const char *key, cJSON *value);
/* {id, event: "error", error: {type, message}}. */
cJSON *br_error_event(long id, const char *type, const char *message);
/* The final event of a call cut by the interrupt (br_set_interrupt):
 * {type: "Interrupted"}; `what` and `name` say which call ("host tool",
 * "host.fetch"). Never journaled (runtime/durable): it runs again on resume. */
cJSON *br_interrupted_event(long id, const char *what, const char *name);
/* Whether the run's interrupt is set (br_set_interrupt). */
bool br_is_interrupted(const br_broker *b);
/* A wait of `ms`, cut at the run's deadline (at least 1 ms). */
long long br_wait_ms(const br_broker *b, long long ms);

/* ---- host tools and models (br_tools.c) --------------------------------------------------- */

/* tool.call: the built-in tools, then host_tools from the configuration
 * (commands and HTTP tools); anything else is ToolNotAllowed. */
cJSON *br_tool_call(br_broker *b, long id, const cJSON *params);
/* model.predict of a Model { type = "http" }, called from here. */
cJSON *br_model_predict(br_broker *b, long id, const cJSON *params);

/* ---- MCP servers (br_mcp.c) ----------------------------------------------------------------- */

br_mcp *br_mcp_new(void);
/* Stops every server the run started. */
void br_mcp_free(br_mcp *m);
/* mcp.tools {server}: the server's permitted tools, names and schemas. */
cJSON *br_mcp_tools(br_broker *b, long id, const cJSON *params);
/* tool.call of "mcp.SERVER.TOOL". */
cJSON *br_mcp_call(br_broker *b, long id, const char *name, const cJSON *args);
/* Whether mcp_servers.SERVER.requires_approval covers the tool. */
bool br_mcp_needs_approval(const br_broker *b, const char *name);
/* Whether a list of strings holds NAME. */
bool br_mcp_in_list(const cJSON *list, const char *name);
/* A client for mcp_servers.NAME, checked and expanded, not started
 * (br_mcp_start.c); NULL with the reason in ERR. *egress: its network's
 * allow-list (isolate: docker with network:), set up at each start of the
 * server and torn down at each stop; the caller frees it (br_egress_free)
 * after the client; NULL when it has none. */
mcp_client *br_mcp_client_new(br_broker *b, const char *name, const cJSON *spec, br_egress **egress,
                              char *err, size_t cap);

/* ---- the egress allow-list of an isolate: docker server (br_mcp_net.c) ---------------------- */

/* Appends PATH, HOME and DOCKER_HOST (those set) to the NULL-terminated
 * environment *env (NULL: an empty one): what the docker CLI needs to find
 * dockerd, nothing more. false when out of memory (*env unchanged). */
bool br_docker_env_append(char ***env);

/* mcp_servers.NAME.network checked: absent or "none" -> true, *out NULL;
 * an allow-list ({allow: ["HOST:PORT", ...]} or the plain list) -> true,
 * *out a br_egress, nothing made yet; false with the reason in err. */
bool br_egress_new(const char *name, const cJSON *network, br_egress **out, char *err, size_t cap);
/* The `docker run` options that put the server's container on its network
 * (--network, --dns, the labels by which it is removed). */
void br_egress_docker_args(const br_egress *e, cJSON *argv);
/* Before each start of the server: its internal network and one forwarder
 * per allowed host (false, and nothing left, with the reason). UD: br_egress. */
bool br_egress_up(void *ud, char *err, size_t cap);
/* After each stop: its containers and network removed. UD: br_egress. */
void br_egress_down(void *ud);
void br_egress_free(br_egress *e);

/* ---- secrets and redaction (br_redact.c) -------------------------------------------------- */

/* Keeps a value (6 bytes or more) to redact from now on. */
void br_remember_secret(br_broker *b, const char *value);
/* Every api_key_env and ${secret:NAME} of the configuration, and every
 * secret-named variable of the environment (config first: a crowded
 * environment cannot push them out). */
void br_remember_secrets(br_broker *b);
/* Replaces every known secret in every string of v with [REDACTED]. */
void br_redact(const br_broker *b, cJSON *v, int depth);
/* The delta callback handed to providers: redacts across piece boundaries
 * (holding back a tail per stream) and passes on to the request's own. */
void br_redacting_delta(void *ud, const cJSON *delta);
/* At the end of a streamed call: what each stream still holds, redacted. */
void br_flush_streams(br_broker *b);

/* ---- budgets and audit (br_audit.c) ------------------------------------------------------ */

/* Counts one model call into `u` (br_usage.c): `cost` NAN when its model
 * has no price, `unknown` when its provider reported no usage. */
void br_usage_count(br_usage *u, double in, double out, double cost, const char *model,
                    bool unknown);
/* The budget an llm.chat would exceed, as a message in msg, or NULL. */
const char *br_budget_exceeded(const br_broker *b, char *msg, size_t cap);
/* The price of a model per million tokens (configuration, then the
 * built-in table, snapshots "-YYYYMMDD" of a listed model included); false
 * when unknown (0, 0). */
bool br_price_of(const br_broker *b, const char *model, double *in, double *out);
/* One JSON line per brokered call (redacted), when an audit log is set;
 * tokens < 0: the provider reported none (recorded as null, unknown). */
void br_audit_write(br_broker *b, const cJSON *request, const cJSON *reply, long long ms,
                    double tokens, double cost, bool priced);

#endif
