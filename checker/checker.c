/*
 * checker.c - the rule catalogue, the driver, and helpers shared by rules.
 */
#include <stdio.h>
#include <string.h>

#include "ck_internal.h"

/* The catalogue. Append only: codes are stable and documented in
 * docs/diagnostics.md (a test checks that every code here is documented).
 * Retired codes (never reused): TAC005, "too-malformed", given when
 * tree-sitter's error recovery ran out of time; the frontend's own parser
 * is linear-time, so no file needs it. */
static const ck_rule_info rules[] = {
    {"TAC001", TX_SEV_ERROR, "syntax-error", "The file is not valid Lua 5.4."},
    {"TAC002", TX_SEV_ERROR, "invalid-utf8", "The file contains bytes that are not UTF-8."},
    {"TAC003", TX_SEV_ERROR, "binary-file", "The file is binary (contains NUL bytes), not source."},
    {"TAC004", TX_SEV_WARNING, "empty-file", "The file is empty."},
    {"TAC006", TX_SEV_WARNING, "too-large-to-run", "The file is larger than a run takes (8 MiB); it can be checked but not run or required."},
    {"TAC101", TX_SEV_ERROR, "unknown-field-builder", "field.X names no known field builder."},
    {"TAC102", TX_SEV_ERROR, "unknown-field-option", "A field builder is given an option it does not take."},
    {"TAC103", TX_SEV_ERROR, "field-default-type", "A field's default is not of the field's type."},
    {"TAC104", TX_SEV_ERROR, "field-default-not-in-enum", "A field's default is not one of its enum values."},
    {"TAC105", TX_SEV_WARNING, "field-required-with-default", "A field is required and also has a default, which is never used."},
    {"TAC106", TX_SEV_ERROR, "field-enum-invalid", "A field's enum is not a list of literal values."},
    {"TAC201", TX_SEV_ERROR, "procedure-without-function", "A Procedure declares no function to run."},
    {"TAC202", TX_SEV_ERROR, "duplicate-main-procedure", "More than one unnamed Procedure in a file."},
    {"TAC203", TX_SEV_ERROR, "duplicate-procedure-name", "Two procedures share a name."},
    {"TAC301", TX_SEV_ERROR, "tool-not-declared", "An Agent grants a tool that is not declared (tools are denied by default)."},
    {"TAC302", TX_SEV_ERROR, "tool-not-granted", "A per-call tools list names a tool the agent was not granted."},
    {"TAC303", TX_SEV_WARNING, "tool-unused", "A declared tool is granted to no agent and called by no code."},
    {"TAC304", TX_SEV_ERROR, "host-tool-unknown", "Tool { use = ... } names no brokered host tool."},
    {"TAC305", TX_SEV_ERROR, "mcp-tool-unknown", "An MCP server or tool is not in the cached list of the host's MCP tools."},
    {"TAC306", TX_SEV_ERROR, "mcp-arguments", "A literal table of arguments does not fit the MCP tool's input schema."},
    {"TAC307", TX_SEV_INFO, "mcp-unchecked", "An MCP server's tools are unchecked: no cached list (tactus mcp refresh)."},
    {"TAC401", TX_SEV_ERROR, "not-in-sandbox", "Code uses something the sandbox does not provide."},
    {"TAC402", TX_SEV_ERROR, "module-not-found", "require names neither a stdlib module nor a .tac file beside this one."},
    {"TAC403", TX_SEV_ERROR, "undefined-global", "A global is read or called that nothing defines: not assigned in the file, not the DSL's, not the sandbox's."},
    {"TAC404", TX_SEV_ERROR, "unknown-member", "A member of a DSL or stdlib namespace that does not exist (Human.aprove, State.incremnt, File.wirte)."},
    {"TAC411", TX_SEV_ERROR, "primitive-argument", "A DSL primitive (Sleep, System.alert, Classify, Model) is given an argument of the wrong type or value."},
    {"TAC501", TX_SEV_ERROR, "human-message-type", "A Human request's message is not a string."},
    {"TAC502", TX_SEV_ERROR, "human-timeout-type", "A Human request's timeout is not a positive number."},
    {"TAC503", TX_SEV_ERROR, "human-default-type", "A Human request's default is not of the request's kind."},
    {"TAC504", TX_SEV_ERROR, "human-missing-message", "A Human request has no message."},
    {"TAC601", TX_SEV_ERROR, "output-missing-key", "A returned table lacks a required output field (a warning when other returns may have it)."},
    {"TAC602", TX_SEV_WARNING, "output-undeclared-key", "A returned table has a key the output schema does not declare; it is dropped at run time."},
    {"TAC603", TX_SEV_ERROR, "output-value-type", "A returned literal is not of the declared output type."},
    {"TAC701", TX_SEV_ERROR, "gherkin-syntax", "The Specifications text is not valid Gherkin."},
    {"TAC702", TX_SEV_ERROR, "specifications-not-string", "Specifications is given something other than a string."},
    {"TAC703", TX_SEV_ERROR, "undefined-step", "A step matches no built-in pattern and no custom Step."},
    {"TAC704", TX_SEV_ERROR, "spec-unknown-agent", "A step names an agent the file does not declare."},
    {"TAC705", TX_SEV_ERROR, "spec-unknown-name", "A step names an input, output, state key or tool the file does not declare."},
    {"TAC801", TX_SEV_ERROR, "mock-unknown-target", "Mocks names no declared agent, tool, model or classifier."},
    {"TAC802", TX_SEV_ERROR, "eval-input-undeclared", "An evaluation case passes an input the procedure does not declare."},
    {"TAC803", TX_SEV_ERROR, "eval-input-missing", "An evaluation case omits a required input."},
    {"TAC804", TX_SEV_ERROR, "eval-input-type", "An evaluation case input is not of the declared type."},
    {"TAC805", TX_SEV_ERROR, "eval-evaluator-unavailable", "An evaluator's kind is unknown or not implemented by tactus eval, or it lacks an option it needs."},
    {"TAC806", TX_SEV_ERROR, "eval-threshold-unavailable", "A threshold is unknown or not measured by tactus eval."},
    {"TAC807", TX_SEV_ERROR, "eval-runs", "An Evaluation's runs is not a whole number from 1 to 1000, or makes more than 100,000 runs."},
    {"TAC808", TX_SEV_ERROR, "eval-option-value", "An Evaluation's pass_k or confidence is malformed, or asks for k above runs."},
    {"TAC809", TX_SEV_ERROR, "eval-case-inputs", "An evaluation case written in the file has no inputs table."},
    {"TAC810", TX_SEV_ERROR, "eval-threshold-value", "An Evaluation's threshold has a value of the wrong type or range."},
    {"TAC901", TX_SEV_WARNING, "legacy-dsl", "A form of the v0.10 DSL: it runs, and tactus check --fix rewrites it to the current form."},
};

const ck_rule_info *ck_rules(size_t *count)
{
    *count = sizeof rules / sizeof rules[0];
    return rules;
}

const ck_rule_info *ck_rule_find(const char *code)
{
    for (size_t i = 0; i < sizeof rules / sizeof rules[0]; i++)
        if (strcmp(rules[i].code, code) == 0) return &rules[i];
    return NULL;
}

ck_checker *ck_checker_new(void)
{
    ck_checker *ck = tx_calloc(1, sizeof *ck);
    if (!ck) return NULL;
    ck->steps = ck_steps_compile();
    tx_map_init(&ck->namespaces);
    if (!ck->steps || ck_globals_index(ck) != TX_OK) {
        ck_checker_free(ck);
        return NULL;
    }
    return ck;
}

void ck_checker_free(ck_checker *ck)
{
    if (!ck) return;
    if (ck->steps) ck_steps_free(ck->steps);
    tx_map_free(&ck->runtime);
    tx_map_free(&ck->namespaces);
    ck_modules_free(ck->modules);
    ck_mcp_cache_free(ck->mcp);
    tx_free(ck);
}

void ck_report(ck_run *r, const char *code, tx_span span, const char *fmt, ...)
{
    const ck_rule_info *info = ck_rule_find(code);
    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    tx_diag_add(r->out, info ? info->code : code, info ? info->severity : TX_SEV_ERROR, span,
                "%s", msg);
}

void ck_report_as(ck_run *r, const char *code, tx_severity sev, tx_span span, const char *fmt, ...)
{
    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    tx_diag_add(r->out, code, sev, span, "%s", msg);
}

void ck_relate(ck_run *r, tx_span span, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    tx_diag_relate(r->out, span, "%s", msg);
}

tx_status ck_check(ck_checker *ck, const fe_file *f, tx_diag_list *out)
{
    for (size_t i = 0; i < f->diags.len; i++) {
        const tx_diag *d = &f->diags.items[i];
        tx_diag_add(out, d->code, d->severity, d->span, "%s", d->message);
        if (d->has_related) tx_diag_relate(out, d->related, "%s", d->related_message);
    }
    /* A binary file, or one with no syntax tree, has no model worth checking. */
    bool binary = !f->root;
    for (size_t i = 0; i < f->diags.len; i++)
        if (strcmp(f->diags.items[i].code, "TAC003") == 0) binary = true;
    if (!binary) {
        ck_run r = {.ck = ck, .f = f, .out = out};
        ck_names_collect(f, &r.names);
        if (r.names.oom) out->oom = true;
        ck_rule_fields(&r);
        ck_rule_procedures(&r);
        ck_rule_outputs(&r);
        ck_rule_tools(&r);
        ck_rule_mcp(&r);
        ck_rule_sandbox(&r);
        ck_rule_human(&r);
        ck_rule_primitives(&r);
        ck_rule_specs(&r);
        ck_rule_mocks(&r);
        ck_rule_evaluations(&r);
        ck_rule_globals(&r);
        ck_rule_evaluation_settings(&r);
        ck_rule_legacy(&r);
        ck_names_free(&r.names);
    }
    tx_diag_sort(out);
    return out->oom ? TX_ENOMEM : TX_OK;
}

/* ---- helpers ---------------------------------------------------------------------------- */

bool ck_value_fits(const fe_value *v, fe_type t)
{
    if (!v) return true;
    switch (v->kind) {
    case FE_NAME:
    case FE_CALL:
    case FE_OTHER:
        return true; /* not known statically */
    case FE_NIL:
        return true; /* nil means "absent"; required-ness is checked apart */
    default:
        break;
    }
    switch (t) {
    case FE_TYPE_STRING: return v->kind == FE_STRING;
    case FE_TYPE_NUMBER: return v->kind == FE_NUMBER;
    case FE_TYPE_INTEGER: return v->kind == FE_NUMBER && v->is_integer;
    case FE_TYPE_BOOLEAN: return v->kind == FE_BOOL;
    case FE_TYPE_ARRAY: return v->kind == FE_TABLE && v->n_entries == v->n_positional;
    case FE_TYPE_OBJECT: return v->kind == FE_TABLE;
    case FE_TYPE_ANY:
    case FE_TYPE_UNKNOWN: return true;
    }
    return true;
}

const char *ck_value_repr(const fe_value *v, char *buf, size_t cap)
{
    if (!v) return "nothing";
    switch (v->kind) {
    case FE_STRING:
        snprintf(buf, cap, "\"%.40s%s\"", v->str, v->str_len > 40 ? "..." : "");
        return buf;
    case FE_NUMBER:
        if (v->is_integer)
            snprintf(buf, cap, "%.0f", v->number);
        else
            snprintf(buf, cap, "%g", v->number);
        return buf;
    case FE_BOOL: return v->boolean ? "true" : "false";
    case FE_NIL: return "nil";
    default: return fe_value_kind_name(v);
    }
}

const char *ck_nearest_field(const fe_schema *s, const char *word)
{
    const char *names[64];
    size_t n = 0;
    for (const fe_field *x = s->fields; x && n < 64; x = x->next) names[n++] = x->name;
    return ck_nearest_name(word, names, n);
}

const char *ck_nearest_name(const char *word, const char *const *names, size_t n)
{
    const char *best = NULL;
    size_t wl = strlen(word);
    size_t cap = wl < 4 ? 1 : wl < 8 ? 2 : 3;
    size_t best_d = cap + 1;
    for (size_t i = 0; i < n; i++) {
        if (!names[i]) continue;
        size_t d = tx_edit_distance(word, wl, names[i], strlen(names[i]), cap);
        if (d < best_d) {
            best_d = d;
            best = names[i];
        }
    }
    return best;
}
