/*
 * lsp_dsl.c - what the DSL offers, for hover, completion and signature help.
 *
 * One table, read like linit.c: every global the runtime publishes
 * (stdlib/dsl, dsl.exports; vm_sandbox.c for Json and File), each
 * builder of `field`, and the keys their tables take (inventory A.2-A.16,
 * D, E.2). The checker's own lists (ck_schema.c, ck_human.c) decide what is
 * an error; this table only describes.
 */
#include <stdio.h>
#include <string.h>

#include "lsp_internal.h"

#define END                                                                                        \
    {                                                                                              \
        NULL, NULL                                                                                 \
    }

static const lsp_dsl_key procedure_keys[] = {
    {"input", "the input schema: {name = field.string{required = true}, ...}"},
    {"output", "the output schema; a literal return is checked against it"},
    {"state", "durable state with defaults: {count = field.integer{default = 0}}"},
    {"description", "what the procedure does (shown to callers and in MCP)"},
    {"name", "the procedure's name (default: the variable it is assigned to)"},
    {"message_history", "{mode = \"isolated\" | \"shared\", max_tokens, filter}"},
    {"return_prompt", "prompt used to summarise the result"},
    {"error_prompt", "prompt used when the procedure fails"},
    {"status_prompt", "prompt used for status updates"},
    {"dependencies", "resources the procedure needs (http_client, postgres, redis)"},
    {"run", "legacy: the function to run (write it as the last entry instead)"},
    END,
};

static const lsp_dsl_key agent_keys[] = {
    {"model",
     "\"provider/model\", e.g. \"openai/gpt-4o-mini\" (or {name, temperature, max_tokens})"},
    {"system_prompt",
     "the system prompt; {input.x}, {state.x}, {params.x} are filled in every turn"},
    {"tools", "the tools this agent may call: {search, done} (declared Tools/Toolsets; denied "
              "unless granted)"},
    {"toolsets", "names of MCP or configured toolsets"},
    {"initial_message", "the first user message when a turn is called without one"},
    {"provider", "the provider when model names only the model (openai, anthropic, ...)"},
    {"temperature", "sampling temperature (0-2)"},
    {"max_tokens", "most tokens in one reply"},
    {"max_turns", "most turns in one call of the agent"},
    {"output", "a schema for structured output"},
    {"output_type", "legacy name of output"},
    {"inline_tools", "tools declared inside the agent: {{name, description, input, handler}}"},
    {"tool_choice", "\"auto\", \"required\" or \"none\""},
    {"retry", "{attempts, delay_seconds, backoff = \"exponential\", max_delay_seconds}"},
    {"prepare", "function() returning {key = value} for {prepared.key} in prompts"},
    {"message_history", "{source = \"shared\", filter = filters.last_n(10)}"},
    {"name", "the agent's name (default: the variable it is assigned to)"},
    {"description", "what the agent does"},
    END,
};

static const lsp_dsl_key tool_keys[] = {
    {"description", "what the tool does (shown to the model)"},
    {"input", "the argument schema: {id = field.string{required = true}}"},
    {"parameters", "legacy name of input"},
    {"use", "a brokered host tool instead of Lua code: \"broker.host.NAME\""},
    {"name", "the tool's name (default: the variable it is assigned to)"},
    {"handler", "the function(args) to run (or write it as the last entry)"},
    END,
};

static const lsp_dsl_key toolset_keys[] = {
    {"description", "what the tools are for"},
    {"tools", "the tools: {{name, description, input, handler}, ...} or declared Tools"},
    {"type", "\"lua\" (tools written here), \"mcp\", \"plugin\""},
    {"use", "an MCP server's tools: \"mcp.SERVER\""},
    {"include", "only these tool names"},
    {"exclude", "all but these tool names"},
    {"prefix", "prefix added to each tool's name"},
    END,
};

static const lsp_dsl_key model_keys[] = {
    {"type", "\"mock\", \"http\" or \"llm\" (\"registry\" under Mocks)"},
    {"value", "mock: the prediction returned"},
    {"input", "the input schema: {text = \"string\"}"},
    {"output", "the output schema: {label = \"string\", confidence = \"float\"}"},
    {"endpoint", "http: the URL the broker calls"},
    {"timeout", "http: seconds to wait"},
    {"name", "registry: the model's name"},
    {"version", "registry: the version (\"latest\")"},
    END,
};

static const lsp_dsl_key classify_keys[] = {
    {"name", "the classifier's name (Mocks use it)"},
    {"method", "\"llm\" or \"fuzzy\""},
    {"classes", "the classes: {\"billing\", \"bug\", \"other\"}"},
    {"prompt", "llm: what to classify and how"},
    {"model", "llm: \"provider/model\""},
    {"temperature", "llm: sampling temperature"},
    {"max_retries", "llm: retries while the answer is not a class"},
    {"threshold", "fuzzy: the least similarity, 0-1"},
    {"algorithm", "fuzzy: ratio, partial_ratio, token_sort_ratio or token_set_ratio"},
    END,
};

static const lsp_dsl_key evaluation_keys[] = {
    {"dataset", "the cases: {{name, inputs = {...}, expected_output = {...}}, ...}"},
    {"dataset_file", "cases from a .jsonl, .json or .csv file beside this one"},
    {"evaluators", "how each run is judged: {field.equals_expected{}, field.contains{...}}"},
    {"runs", "runs per case (default 1)"},
    {"parallel", "run cases in parallel"},
    {"thresholds", "{min_success_rate = 0.8, max_cost_per_run, max_duration, max_tokens_per_run}"},
    END,
};

static const lsp_dsl_key mock_keys[] = {
    {"returns", "a fixed result for every call"},
    {"temporal", "call N gets item N; the last then repeats: {{...}, {...}}"},
    {"conditional", "per-argument rules: {{when = {...}, returns = {...}}}"},
    {"tool_calls", "agents: the tool calls the agent makes: {{tool = \"done\", args = {...}}}"},
    {"message", "agents: the reply"},
    {"data", "agents: structured output"},
    END,
};

static const lsp_dsl_key field_keys[] = {
    {"required", "true: callers must give it"},
    {"default", "the value when it is not given (of the field's type)"},
    {"description", "what it means (shown to models and people)"},
    {"enum", "the allowed values: {\"low\", \"high\"}"},
    END,
};

static const lsp_dsl_key array_keys[] = {
    {"required", "true: callers must give it"}, {"default", "the value when it is not given"},
    {"description", "what it means"},           {"enum", "the allowed values"},
    {"items", "the schema of each item"},       END,
};

static const lsp_dsl_key object_keys[] = {
    {"required", "true: callers must give it"}, {"default", "the value when it is not given"},
    {"description", "what it means"},           {"enum", "the allowed values"},
    {"properties", "the schema of its keys"},   END,
};

static const lsp_dsl_key evaluator_keys[] = {
    {"field", "the output field judged (default: the whole output)"},
    {"value", "the value compared with"},
    {"check_expected", "compare with this key of expected_output"},
    {"rubric", "llm_judge: what a good answer is"},
    {"model", "llm_judge: the judging model"},
    {"pattern", "regex: the pattern"},
    {"case_sensitive", "regex, contains: letter case matters"},
    {"min_value", "range, tool_called: the least value"},
    {"max_value", "range, tool_called: the greatest value"},
    {"name", "the evaluator's name in reports"},
    END,
};

static const lsp_dsl_key human_common[] = {
    {"message", "what the person is asked"},
    {"timeout", "seconds to wait (nil: forever); then default is used"},
    {"default", "the answer when the timeout passes"},
    {"context", "a table shown with the request"},
    {"config_key", "a named Hitl {...} declaration to start from"},
    END,
};

static const lsp_dsl_key human_input_keys[] = {
    {"message", "what the person is asked"},
    {"placeholder", "hint shown in the input box"},
    {"timeout", "seconds to wait (nil: forever)"},
    {"default", "the answer when the timeout passes (a string)"},
    {"options", "choices: {{label = \"...\", value = \"...\"}}"},
    {"config_key", "a named Hitl {...} declaration to start from"},
    END,
};

static const lsp_dsl_key human_review_keys[] = {
    {"message", "what the person reviews"},
    {"artifact", "the thing under review"},
    {"artifact_type", "its kind (\"artifact\")"},
    {"options", "the decisions: {\"approve\", \"reject\"}"},
    {"timeout", "seconds to wait; then the decision is reject"},
    END,
};

static const lsp_dsl_key human_select_keys[] = {
    {"message", "what the person chooses"},
    {"options", "the choices: {\"a\", \"b\"} or {{label, value}}"},
    {"mode", "\"single\" or \"multiple\""},
    {"style", "radio, dropdown or checkbox"},
    {"min", "multiple: the fewest choices"},
    {"max", "multiple: the most choices"},
    {"default", "the choice when the timeout passes (one of the options)"},
    {"timeout", "seconds to wait"},
    END,
};

static const lsp_dsl_key human_upload_keys[] = {
    {"message", "what to upload"},     {"accept", "file types: \".pdf,.doc\" or a list"},
    {"max_size", "\"10MB\" or bytes"}, {"multiple", "several files"},
    {"timeout", "seconds to wait"},    END,
};

static const lsp_dsl_key human_escalate_keys[] = {
    {"message", "what went wrong"},
    {"context", "a table shown with it"},
    {"severity", "\"error\" (default), \"critical\", ..."},
    END,
};

static const lsp_dsl_key human_notify_keys[] = {
    {"message", "the notice"},
    {"level", "\"info\" (default), \"warning\", \"error\""},
    END,
};

static const lsp_dsl_key alert_keys[] = {
    {"message", "what happened"},
    {"level", "\"info\", \"warning\", \"error\" or \"critical\""},
    {"source", "where it comes from"},
    {"context", "a table of details"},
    END,
};

static const lsp_dsl_key retry_keys[] = {
    {"max_attempts", "tries in all (default 3)"},
    {"initial_delay", "seconds before the first retry (default 1)"},
    {"max_delay", "the longest wait (default 60)"},
    {"backoff_factor", "each wait is this times the last (default 2)"},
    {"on_error", "function(err) called on each failure"},
    END,
};

static const lsp_dsl_key message_keys[] = {
    {"role", "\"system\", \"user\", \"assistant\" or \"tool\""},
    {"content", "the text"},
    END,
};

static const char *const p_seconds[] = {"seconds", NULL};
static const char *const p_message_ctx[] = {"message", "context", NULL};
static const char *const p_key_default[] = {"key", "default", NULL};
static const char *const p_key_value[] = {"key", "value", NULL};
static const char *const p_key_amount[] = {"key", "amount", NULL};
static const char *const p_stage[] = {"stage", NULL};
static const char *const p_n[] = {"n", NULL};
static const char *const p_reason_success[] = {"reason", "success", NULL};
static const char *const p_value[] = {"value", NULL};
static const char *const p_text[] = {"text", NULL};
static const char *const p_path[] = {"path", NULL};
static const char *const p_path_content[] = {"path", "content", NULL};
static const char *const p_name_args[] = {"name", "args", NULL};
static const char *const p_module[] = {"module", NULL};
static const char *const p_step[] = {"text", "function(ctx)", NULL};
static const char *const p_stages[] = {"stages", NULL};
static const char *const p_opts[] = {"options", NULL};
static const char *const p_fn[] = {"fn", NULL};
static const char *const p_items[] = {"items", "options", NULL};

#define DECL(n, sig, doc, keys)                                                                    \
    {                                                                                              \
        n, LSP_DSL_DECLARATION, sig, doc, keys, NULL                                               \
    }
#define FN(n, sig, doc, params)                                                                    \
    {                                                                                              \
        n, LSP_DSL_FUNCTION, sig, doc, NULL, params                                                \
    }
#define FNT(n, sig, doc, keys)                                                                     \
    {                                                                                              \
        n, LSP_DSL_FUNCTION, sig, doc, keys, p_opts                                                \
    }
#define NS(n, doc)                                                                                 \
    {                                                                                              \
        n, LSP_DSL_NAMESPACE, n, doc, NULL, NULL                                                   \
    }
#define BUILD(n, doc, keys)                                                                        \
    {                                                                                              \
        "field." n, LSP_DSL_BUILDER, "field." n "{...}", doc, keys, NULL                           \
    }

static const lsp_dsl_entry entries[] = {
    /* declarations */
    DECL("Procedure",
         "Procedure { input = {...}, output = {...}, state = {...}, function(input) ... end }",
         "Declares a procedure. The unnamed one is the file's main; `name = Procedure {...}` is a "
         "sub-procedure, called as `name({...})`.",
         procedure_keys),
    DECL(
        "Agent", "Agent { model = \"provider/model\", system_prompt = \"...\", tools = {...} }",
        "Declares an LLM agent; `name = Agent {...}` names it. Call it as `name({message = ...})`; "
        "it may call only the tools it is granted.",
        agent_keys),
    DECL("Tool", "Tool { description = \"...\", input = {...}, function(args) ... end }",
         "Declares a tool agents can be granted and code can call (`t({...})`, `t.called()`, "
         "`t.last_result()`). `Tool { use = \"broker.host.NAME\" }` is a brokered host tool.",
         tool_keys),
    DECL("Toolset", "Toolset { description = \"...\", tools = {...} }",
         "Declares a group of tools granted together.", toolset_keys),
    DECL("Model", "Model \"name\" { type = \"mock\" | \"http\" | \"llm\", ... }",
         "Declares a stateless model: `local m = Model(\"name\"); m({text = ...})`.", model_keys),
    DECL("Classify", "Classify { name = \"...\", method = \"llm\" | \"fuzzy\", classes = {...} }",
         "Declares a classifier: `local c = Classify {...}; c(text).value`.", classify_keys),
    DECL("Mocks", "Mocks { name = { returns = ... | temporal = {...} | conditional = {...} } }",
         "Mocks agents, tools and models under `tactus test` and `tactus run --mock` (never in a "
         "normal run). Keys name declared agents, tools or models.",
         mock_keys),
    DECL("Specifications", "Specifications([[ Feature: ... ]])",
         "The procedure's Gherkin specifications, run by `tactus test`. Steps match the built-in "
         "step library or a custom Step.",
         NULL),
    DECL("Specification", "Specification([[ Feature: ... ]])", "Same as Specifications.", NULL),
    DECL("Evaluation", "Evaluation({ dataset = {...}, evaluators = {...}, thresholds = {...} })",
         "Scores the procedure over a dataset with `tactus eval`.", evaluation_keys),
    DECL("Evaluations", "Evaluations({ dataset = {...}, evaluators = {...}, thresholds = {...} })",
         "Same as Evaluation.", evaluation_keys),
    {"Step", LSP_DSL_DECLARATION, "Step(\"exact step text\", function(ctx) ... end)",
     "At the top level, declares a custom Gherkin step (matched exactly); `Step.checkpoint(fn)` "
     "runs fn once and replays its result on resume.",
     NULL, p_step},
    {"Stages", LSP_DSL_DECLARATION, "Stages({\"planning\", \"executing\", \"done\"})",
     "Declares the procedure's stages (Stage.set moves between them).", NULL, p_stages},
    {"input", LSP_DSL_VALUE, "input { name = field.string{...} } / input.name",
     "Script mode: declares the inputs; in code, the procedure's input values.", NULL, NULL},
    {"output", LSP_DSL_VALUE, "output { name = field.string{...} }",
     "Script mode: declares the outputs.", NULL, NULL},
    {"state", LSP_DSL_VALUE, "state.key",
     "The procedure's durable state: read and write its keys (survives checkpoints and resumes).",
     NULL, NULL},
    FN("default_provider", "default_provider(\"openai\")", "The provider of agents that name none.",
       p_value),
    FN("default_model", "default_model(\"gpt-4o-mini\")", "The model of agents that name none.",
       p_value),
    FN("max_turns", "max_turns(n)", "Most turns in one agent call, for every agent.", p_n),
    FN("max_depth", "max_depth(n)", "Deepest nesting of sub-procedure calls.", p_n),
    FN("return_prompt", "return_prompt(\"...\")", "Prompt used to summarise the result.", p_text),
    FN("error_prompt", "error_prompt(\"...\")", "Prompt used when the procedure fails.", p_text),
    FN("status_prompt", "status_prompt(\"...\")", "Prompt used for status updates.", p_text),
    FN("Prompt", "Prompt(\"name\", \"text\")", "A named prompt; Prompt(\"name\") reads it back.",
       p_name_args),
    FN("Hitl", "Hitl(\"name\", {...})",
       "Named defaults for Human requests (config_key = \"name\").", p_name_args),
    FN("require", "require(\"module\")",
       "Loads a stdlib module (tactus.tools.done, tactus.io.json, ...) or a .tac file beside this "
       "one (\"helpers.text\" is helpers/text.tac).",
       p_module),
    FN("checkpoint", "checkpoint(fn)", "Runs fn once; a resumed run gets its recorded result.",
       p_fn),
    /* Human (inventory E.2) */
    NS("Human", "Human-in-the-loop requests. Blocking ones suspend a durable run until answered."),
    FNT("Human.approve",
        "Human.approve({message = \"...\", timeout = 3600, default = false}) -> boolean",
        "Asks a yes/no question; returns the answer (default after the timeout).", human_common),
    FNT("Human.input",
        "Human.input({message = \"...\", placeholder = \"\", default = nil}) -> string|nil",
        "Asks for text.", human_input_keys),
    FNT("Human.review",
        "Human.review({message, artifact, options = {\"approve\", \"reject\"}}) -> {decision, "
        "edited_artifact, feedback}",
        "Asks for a review of an artifact.", human_review_keys),
    FNT("Human.select", "Human.select({message, options = {...}, mode = \"single\"}) -> value|list",
        "Asks for a choice.", human_select_keys),
    FNT("Human.upload",
        "Human.upload({message, accept = \".pdf\", max_size = \"10MB\"}) -> {path, name, size, "
        "mime_type}",
        "Asks for a file.", human_upload_keys),
    {"Human.multiple", LSP_DSL_FUNCTION,
     "Human.multiple({{id, label, type, message}, ...}) -> {id = answer}",
     "Asks several questions at once.", NULL, p_items},
    {"Human.inputs", LSP_DSL_FUNCTION, "Human.inputs({{id, label, type, message}, ...})",
     "Deprecated name of Human.multiple.", NULL, p_items},
    FNT("Human.escalate", "Human.escalate({message, context, severity = \"error\"})",
        "Hands the run to a person; waits without a timeout.", human_escalate_keys),
    FNT("Human.notify", "Human.notify({message, level = \"info\"})",
        "Tells people something; does not wait.", human_notify_keys),
    FNT("Human.custom", "Human.custom({...})", "A request of a custom kind.", human_common),
    /* State, stages, iterations, stop */
    NS("State", "The procedure's durable state (also `state.key`)."),
    FN("State.get", "State.get(key, default)", "Reads a state key.", p_key_default),
    FN("State.set", "State.set(key, value)", "Writes a state key.", p_key_value),
    FN("State.increment", "State.increment(key, amount = 1) -> number", "Adds to a counter.",
       p_key_amount),
    FN("State.append", "State.append(key, value)", "Appends to a list.", p_key_value),
    FN("State.all", "State.all() -> table", "All of the state.", NULL),
    FN("State.clear", "State.clear()", "Forgets the whole state.", NULL),
    NS("Stage", "The current stage among those declared with Stages({...})."),
    FN("Stage.set", "Stage.set(stage)", "Moves to a declared stage.", p_stage),
    FN("Stage.advance", "Stage.advance(stage?)", "Moves to the next (or the given) stage.",
       p_stage),
    FN("Stage.current", "Stage.current() -> string", "The current stage.", NULL),
    FN("Stage.is", "Stage.is(stage) -> boolean", "Whether the current stage is this one.", p_stage),
    FN("Stage.history", "Stage.history() -> list", "The stages passed through.", NULL),
    FN("Stage.count", "Stage.count() -> integer", "How many stage changes.", NULL),
    FN("Stage.clear_history", "Stage.clear_history()", "Forgets the history.", NULL),
    NS("Iterations", "Counts loop rounds of the procedure."),
    FN("Iterations.current", "Iterations.current() -> integer", "Rounds so far.", NULL),
    FN("Iterations.increment", "Iterations.increment()", "Counts one more round.", NULL),
    FN("Iterations.exceeded", "Iterations.exceeded(n) -> boolean",
       "Whether more than n rounds ran.", p_n),
    FN("Iterations.reset", "Iterations.reset()", "Back to 0.", NULL),
    NS("Stop", "Records why and how a loop ended."),
    FN("Stop.request", "Stop.request(reason, success = true)", "Asks the loop to stop.",
       p_reason_success),
    FN("Stop.requested", "Stop.requested() -> boolean", "Whether a stop was requested.", NULL),
    FN("Stop.reason", "Stop.reason() -> string", "Why.", NULL),
    FN("Stop.success", "Stop.success() -> boolean", "Whether it counts as success.", NULL),
    FN("Stop.reset", "Stop.reset()", "Forgets the request.", NULL),
    /* effects and utilities */
    NS("Log", "Structured log lines (recorded with the run)."),
    FN("Log.debug", "Log.debug(message, context?)", "A debug line.", p_message_ctx),
    FN("Log.info", "Log.info(message, context?)", "An info line.", p_message_ctx),
    FN("Log.warn", "Log.warn(message, context?)", "A warning line.", p_message_ctx),
    FN("Log.warning", "Log.warning(message, context?)", "Same as Log.warn.", p_message_ctx),
    FN("Log.error", "Log.error(message, context?)", "An error line.", p_message_ctx),
    NS("Json", "JSON text."),
    FN("Json.encode", "Json.encode(value) -> string", "Encodes a value as JSON.", p_value),
    FN("Json.decode", "Json.decode(text) -> value", "Decodes JSON text.", p_text),
    NS("File", "Files of the workspace (confined to it)."),
    FN("File.read", "File.read(path) -> string", "Reads a file.", p_path),
    FN("File.write", "File.write(path, content) -> true", "Writes a file.", p_path_content),
    FN("File.exists", "File.exists(path) -> boolean", "Whether the file exists.", p_path),
    FN("File.size", "File.size(path) -> integer", "The file's size in bytes.", p_path),
    FN("File.list", "File.list(dir) -> list", "The names in a folder.", p_path),
    NS("Retry", "Retrying a function with backoff."),
    FNT("Retry.with_backoff", "Retry.with_backoff(fn, {max_attempts = 3, initial_delay = 1, ...})",
        "Calls fn until it succeeds, waiting longer each time.", retry_keys),
    {"Sleep", LSP_DSL_FUNCTION, "Sleep(seconds)",
     "Waits (0 to 86400 seconds; bounded by --timeout).", NULL, p_seconds},
    NS("System", "Operational signals."),
    FNT("System.alert", "System.alert({message = \"...\", level = \"warning\"})",
        "Raises an operational alert; does not wait.", alert_keys),
    NS("Host", "Brokered host tools (allow-listed on the host)."),
    FN("Host.call", "Host.call(\"host.NAME\", args) -> result",
       "Calls an allow-listed host tool through the broker.", p_name_args),
    NS("MessageHistory", "The conversation shared by agents."),
    FNT("MessageHistory.append", "MessageHistory.append({role = \"user\", content = \"...\"})",
        "Appends a message.", message_keys),
    FN("MessageHistory.inject_system", "MessageHistory.inject_system(text)",
       "Adds a system message.", p_text),
    FN("MessageHistory.clear", "MessageHistory.clear()", "Forgets the history.", NULL),
    FN("MessageHistory.get", "MessageHistory.get() -> list", "The messages.", NULL),
    FN("MessageHistory.count", "MessageHistory.count() -> integer", "How many messages.", NULL),
    NS("Session", "Same as MessageHistory."),
    FNT("Session.append", "Session.append({role = \"user\", content = \"...\"})",
        "Appends a message.", message_keys),
    FN("Session.inject_system", "Session.inject_system(text)", "Adds a system message.", p_text),
    FN("Session.clear", "Session.clear()", "Forgets the history.", NULL),
    NS("filters", "Filters of the message history given to an agent."),
    FN("filters.last_n", "filters.last_n(n)", "The last n messages.", p_n),
    FN("filters.first_n", "filters.first_n(n)", "The first n messages.", p_n),
    FN("filters.token_budget", "filters.token_budget(n)", "The newest messages within n tokens.",
       p_n),
    FN("filters.head_tokens", "filters.head_tokens(n)", "The first n tokens.", p_n),
    FN("filters.tail_tokens", "filters.tail_tokens(n)", "The last n tokens.", p_n),
    FN("contains", "contains(\"text\")", "A matcher: the value contains the text.", p_text),
    FN("equals", "equals(value)", "A matcher: the value equals this.", p_value),
    FN("matches", "matches(\"^pattern\")", "A matcher: the value matches the Lua pattern.", p_text),
    FN("utf8_clean", "utf8_clean(s) -> string", "Replaces invalid UTF-8 with '?'.", p_text),
    /* field builders (inventory A.2, D) */
    NS("field",
       "Schema and evaluator builders: field.string{required = true}, field.contains{...}."),
    BUILD("string", "A string field.", field_keys),
    BUILD("number", "A number field.", field_keys),
    BUILD("integer", "A whole-number field.", field_keys),
    BUILD("boolean", "A boolean field.", field_keys),
    BUILD("array", "A list field (items: the schema of each item).", array_keys),
    BUILD("list", "Same as field.array.", array_keys),
    BUILD("object", "A table field (properties: its keys' schemas).", object_keys),
    BUILD("any", "A field of any type.", field_keys),
    BUILD("equals_expected", "Evaluator: the output equals expected_output (or one field of it).",
          evaluator_keys),
    BUILD("equals", "Evaluator: a field equals value.", evaluator_keys),
    BUILD("contains", "Evaluator: the output (or field) contains value.", evaluator_keys),
    BUILD("contains_any", "Evaluator: contains one of the values.", evaluator_keys),
    BUILD("exact_match", "Evaluator: exactly equal.", evaluator_keys),
    BUILD("is_instance", "Evaluator: of the type named by value.", evaluator_keys),
    BUILD("llm_judge", "Evaluator: a model judges by the rubric.", evaluator_keys),
    BUILD("min_length", "Evaluator: at least value long.", evaluator_keys),
    BUILD("max_length", "Evaluator: at most value long.", evaluator_keys),
    BUILD("max_iterations", "Evaluator: at most value iterations.", evaluator_keys),
    BUILD("max_cost", "Evaluator: cost at most value.", evaluator_keys),
    BUILD("max_tokens", "Evaluator: at most value tokens.", evaluator_keys),
    BUILD("tool_called",
          "Evaluator: the tool named by value was called (min_value..max_value times).",
          evaluator_keys),
    BUILD("state_check", "Evaluator: the state key field ends as value.", evaluator_keys),
    BUILD("agent_turns", "Evaluator: the agent's turns are within min_value..max_value.",
          evaluator_keys),
    BUILD("regex", "Evaluator: matches the pattern.", evaluator_keys),
    BUILD("json_schema", "Evaluator: valid against a JSON schema.", evaluator_keys),
    BUILD("range", "Evaluator: a number within min_value..max_value.", evaluator_keys),
    BUILD("pass_rate_threshold", "Evaluator: the pass rate is at least min_pass_rate.",
          evaluator_keys),
};

const lsp_dsl_entry *lsp_dsl_all(size_t *count)
{
    *count = sizeof entries / sizeof entries[0];
    return entries;
}

const lsp_dsl_entry *lsp_dsl_find(const char *name, size_t len)
{
    for (size_t i = 0; i < sizeof entries / sizeof entries[0]; i++)
        if (strlen(entries[i].name) == len && memcmp(entries[i].name, name, len) == 0)
            return &entries[i];
    /* Lower-case declaration forms (v0.10): agent(...), tool(...), ... */
    static const char *const lower[] = {
        "procedure",      "agent",         "tool",       "toolset",     "model",
        "specifications", "specification", "evaluation", "evaluations", "stages",
        "step",           "mocks",         "hitl",       "prompt"};
    for (size_t i = 0; i < sizeof lower / sizeof lower[0]; i++)
        if (strlen(lower[i]) == len && memcmp(lower[i], name, len) == 0) {
            char up[32];
            snprintf(up, sizeof up, "%s", lower[i]);
            up[0] = (char)(up[0] - 'a' + 'A');
            return lsp_dsl_find(up, len);
        }
    return NULL;
}

const char *lsp_dsl_key_doc(const lsp_dsl_entry *owner, const char *key, size_t len)
{
    if (!owner || !owner->keys) return NULL;
    for (const lsp_dsl_key *k = owner->keys; k->key; k++)
        if (strlen(k->key) == len && memcmp(k->key, key, len) == 0) return k->doc;
    return NULL;
}

const char *const lsp_lua_globals[] = {
    "assert",   "error",     "ipairs",   "next",   "pairs",  "pcall",        "print",
    "select",   "tonumber",  "tostring", "type",   "xpcall", "setmetatable", "getmetatable",
    "rawequal", "rawget",    "rawlen",   "rawset", "math",   "string",       "table",
    "utf8",     "coroutine", "os",       NULL,
};

const char *lsp_dsl_module_doc(const char *module)
{
    static const struct {
        const char *name, *doc;
    } docs[] = {
        {"tactus.tools.done", "The `done` tool: an agent calls it to say the task is finished "
                              "(`done.called()`, `done.last_result()`)."},
        {"tactus.io.file", "Plain files of the workspace: `read(path)`, `write(path, text)`."},
        {"tactus.io.json", "JSON files: `read(path)` -> value, `write(path, value)`."},
        {"tactus.io.csv",
         "CSV files: `read(path)` -> list of {header = value} rows, `write(path, rows)`."},
        {"tactus.io.tsv", "TSV files, like tactus.io.csv."},
        {"tactus.io.fs", "Folders: `list_dir`, `glob`, `mkdir`, `remove`, `isdir`, `size`."},
        {"tactus.io.parquet", "Not available in this runtime (no foreign data formats)."},
        {"tactus.io.hdf5", "Not available in this runtime (no foreign data formats)."},
        {"tactus.io.excel", "Not available in this runtime (no foreign data formats)."},
    };
    for (size_t i = 0; i < sizeof docs / sizeof docs[0]; i++)
        if (strcmp(docs[i].name, module) == 0) return docs[i].doc;
    return NULL;
}
