/* Unit tests of checker/: one bad and one fixed source per rule (the same
 * pairs docs/diagnostics.md shows), the step library, and allocation
 * failure during a check. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "checker.h"

static fe_context *fe;
static ck_checker *ck;
/* A folder with a .tactus/mcp-tools.json (as `tactus mcp refresh` writes
 * it) in with/, and without/ beside it, for TAC305-TAC307. */
static char mcp_dir[64];

static const char mcp_cache[] =
    "{\"version\": 1, \"servers\": {\"files\": {\"protocol_version\": \"2025-11-25\", \"tools\": [\n"
    "  {\"name\": \"read_text_file\", \"description\": \"Reads a file\", \"input_schema\": {\"type\": \"object\",\n"
    "   \"properties\": {\"path\": {\"type\": \"string\"}}, \"required\": [\"path\"]}}]}}}\n";

static const char odd_cache[] =
    "{\"servers\": {\"files\": {\"tools\": [7, {\"name\": 3}, {\"name\": \"t\", \"input_schema\": {\"type\": 5,\n"
    "  \"properties\": [\"x\", 1], \"required\": [42, {\"a\": 1}], \"additionalProperties\": false}},\n"
    "  {\"name\": \"u\", \"input_schema\": {\"properties\": {\"x\": {\"type\": [1]}}, \"required\": {\"a\": \"x\"}}}]},\n"
    "  \"other\": [1, 2]}}\n";

static int setup(void **state)
{
    (void)state;
    fe = fe_context_new();
    ck = ck_checker_new();
    snprintf(mcp_dir, sizeof mcp_dir, "/tmp/tactus-unit-checker-XXXXXX");
    if (!mkdtemp(mcp_dir)) return -1;
    char p[128];
    snprintf(p, sizeof p, "%s/with", mcp_dir);
    mkdir(p, 0700);
    snprintf(p, sizeof p, "%s/without", mcp_dir);
    mkdir(p, 0700);
    snprintf(p, sizeof p, "%s/with/.tactus", mcp_dir);
    mkdir(p, 0700);
    snprintf(p, sizeof p, "%s/with/.tactus/mcp-tools.json", mcp_dir);
    FILE *f = fopen(p, "w");
    if (!f || fputs(mcp_cache, f) < 0 || fclose(f) != 0) return -1;
    /* odd/: a cache of the wrong shapes, as a repository could bring. */
    snprintf(p, sizeof p, "%s/odd", mcp_dir);
    mkdir(p, 0700);
    snprintf(p, sizeof p, "%s/odd/.tactus", mcp_dir);
    mkdir(p, 0700);
    snprintf(p, sizeof p, "%s/odd/.tactus/mcp-tools.json", mcp_dir);
    f = fopen(p, "w");
    if (!f || fputs(odd_cache, f) < 0 || fclose(f) != 0) return -1;
    return fe && ck ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    ck_checker_free(ck);
    fe_context_free(fe);
    const char *parts[] = {"with/.tactus/mcp-tools.json", "with/.tactus", "with", "without",
                           "odd/.tactus/mcp-tools.json",  "odd/.tactus",  "odd",  ""};
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++) {
        char p[128];
        snprintf(p, sizeof p, "%s/%s", mcp_dir, parts[i]);
        remove(p);
    }
    return 0;
}

/* Codes reported for `src` as the file `path`, space-separated, in
 * position order; with severities "CODE:severity". */
static void findings_at(const char *path, const char *src, bool severities, char *out, size_t cap)
{
    fe_file *f = NULL;
    tx_diag_list l;
    tx_diag_list_init(&l);
    assert_int_equal(fe_parse(fe, path, src, strlen(src), &f), TX_OK);
    assert_int_equal(ck_check(ck, f, &l), TX_OK);
    out[0] = '\0';
    for (size_t i = 0; i < l.len; i++) {
        size_t n = strlen(out);
        snprintf(out + n, cap - n, "%s%s%s%s", n ? " " : "", l.items[i].code,
                 severities ? ":" : "", severities ? tx_severity_str(l.items[i].severity) : "");
    }
    tx_diag_list_free(&l);
    fe_file_free(f);
}

static void codes_at(const char *path, const char *src, char *out, size_t cap)
{
    findings_at(path, src, false, out, cap);
}

static void findings(const char *src, bool severities, char *out, size_t cap)
{
    findings_at("unit/t.tac", src, severities, out, cap);
}

static void codes_of(const char *src, char *out, size_t cap)
{
    findings_at("unit/t.tac", src, false, out, cap);
}

#define MAIN "Procedure { function() return 1 end }\n"
#define DONE "local done = require(\"tactus.tools.done\")\n"

typedef struct {
    const char *code;
    const char *bad;
    const char *fixed;
} rule_case;

static const rule_case cases[] = {
    {"TAC001", "Procedure { function() return 1 }\n", MAIN},
    {"TAC002", "-- caf\xe9\n" MAIN, "-- caf\xc3\xa9\n" MAIN},
    {"TAC003", "x\0y", MAIN},
    {"TAC004", "", MAIN},
    {"TAC101", "Procedure { input = { a = field.strin{} }, function() end }\n",
     "Procedure { input = { a = field.string{} }, function() end }\n"},
    {"TAC102", "Procedure { input = { a = field.string{requird = true} }, function() end }\n",
     "Procedure { input = { a = field.string{required = true} }, function() end }\n"},
    {"TAC103", "Procedure { input = { n = field.number{default = \"5\"} }, function() end }\n",
     "Procedure { input = { n = field.number{default = 5} }, function() end }\n"},
    {"TAC104",
     "Procedure { input = { m = field.string{enum = {\"a\", \"b\"}, default = \"c\"} }, function() end }\n",
     "Procedure { input = { m = field.string{enum = {\"a\", \"b\"}, default = \"a\"} }, function() end }\n"},
    {"TAC105",
     "Procedure { input = { m = field.string{required = true, default = \"a\"} }, function() end }\n",
     "Procedure { input = { m = field.string{required = true} }, function() end }\n"},
    {"TAC106", "Procedure { input = { m = field.string{enum = \"a\"} }, function() end }\n",
     "Procedure { input = { m = field.string{enum = {\"a\"}} }, function() end }\n"},
    {"TAC201", "Procedure { input = {} }\n", "Procedure { input = {}, function() end }\n"},
    {"TAC202", MAIN MAIN, MAIN "helper = Procedure { function() return 2 end }\nprint(helper)\n"},
    {"TAC203", MAIN "Procedure \"h\" { function() end }\nProcedure \"h\" { function() end }\n",
     MAIN "Procedure \"h\" { function() end }\nProcedure \"g\" { function() end }\n"},
    {"TAC301", DONE "w = Agent { model = \"openai/x\", tools = {serch, done} }\n" MAIN,
     DONE "search = Tool { function() end }\nw = Agent { model = \"openai/x\", tools = {search, done} }\n" MAIN},
    {"TAC302",
     DONE "t = Tool { function() end }\nw = Agent { model = \"openai/x\", tools = {done} }\n"
          "Procedure { function() w({tools = {t}}) t() end }\n",
     DONE "t = Tool { function() end }\nw = Agent { model = \"openai/x\", tools = {done, t} }\n"
          "Procedure { function() w({tools = {t}}) end }\n"},
    {"TAC303", "t = Tool { function() end }\n" MAIN,
     "t = Tool { function() end }\nProcedure { function() return t() end }\n"},
    {"TAC304", "t = Tool { use = \"host.ping\" }\nProcedure { function() return t() end }\n",
     "t = Tool { use = \"broker.host.ping\" }\nProcedure { function() return t() end }\n"},
    {"TAC401", "Procedure { function() return os.getenv(\"HOME\") end }\n",
     "Procedure { function() return os.time() end }\n"},
    {"TAC401", "Procedure { function() return io.open(\"x\") end }\n",
     "Procedure { function() return File.read(\"x\") end }\n"},
    {"TAC401", "Procedure { function() return load(\"return 1\")() end }\n",
     "local io = {}\nProcedure { function() return io end }\n"},
    {"TAC401", "Procedure { function() return string.dump(print) end }\n", MAIN},
    {"TAC401", "Procedure { function() return debug.traceback() end }\n", MAIN},
    {"TAC401", "Procedure { function() package.path = \"x\" end }\n", MAIN},
    {"TAC402", "local m = require(\"socket\")\nProcedure { function() return m end }\n",
     "local m = require(\"tactus.io.json\")\nProcedure { function() return m end }\n"},
    {"TAC403", "triager = Agent { model = \"openai/x\" }\nProcedure { function() return triagr({}) end }\n",
     "triager = Agent { model = \"openai/x\" }\nProcedure { function() return triager({}) end }\n"},
    /* a global assigned anywhere (even after its use, even in a function) is defined */
    {"TAC403", "Procedure { function() return helpr() end }\nfunction helper() return 1 end\n",
     "Procedure { function() return helper() end }\nfunction helper() return 1 end\n"},
    {"TAC403", "Procedure { function() local t = {} return CONFIG.x end }\n",
     "Procedure { function() CONFIG = {x = 1} return CONFIG.x end }\n"},
    {"TAC404", "Procedure { function() return Human.aprove({message = \"ok?\"}) end }\n",
     "Procedure { function() return Human.approve({message = \"ok?\"}) end }\n"},
    {"TAC404", "Procedure { function() State.incremnt(\"n\") return 1 end }\n",
     "Procedure { function() State.increment(\"n\") return 1 end }\n"},
    {"TAC404", "Procedure { function() File.wirte(\"a\", \"b\") return 1 end }\n",
     "Procedure { function() File.write(\"a\", \"b\") return 1 end }\n"},
    /* a member the file assigns is its own */
    {"TAC404", "Procedure { function() return Log.custom(\"x\") end }\n",
     "Log.custom = function(m) return m end\nProcedure { function() return Log.custom(\"x\") end }\n"},
    {"TAC411", "Procedure { function() Sleep(\"soon\") return {} end }\n",
     "Procedure { function() Sleep(5) return {} end }\n"},
    {"TAC411", "Procedure { function() System.alert({message = \"x\", level = \"panic\"}) end }\n",
     "Procedure { function() System.alert({message = \"x\", level = \"error\"}) end }\n"},
    {"TAC411", "c = Classify {name = \"c\", method = \"llm\", classes = {\"a\"}, algorithm = \"ratio\"}\nProcedure { function() return c(\"a\") end }\n",
     "c = Classify {name = \"c\", method = \"fuzzy\", classes = {\"a\"}, algorithm = \"ratio\"}\nProcedure { function() return c(\"a\") end }\n"},
    {"TAC411", "Model \"m\" { type = \"pytorch\", path = \"m.pt\" }\nProcedure { function() return Model(\"m\")({}) end }\n",
     "Model \"m\" { type = \"http\", endpoint = \"https://m/x\" }\nProcedure { function() return Model(\"m\")({}) end }\n"},
    {"TAC411", "Stages({\"a\", \"b\"})\nProcedure { function() Stage.set(\"c\") return {} end }\n",
     "Stages({\"a\", \"b\"})\nProcedure { function() Stage.set(\"b\") return {} end }\n"},
    {"TAC411", "Procedure { function() MessageHistory.append({role = \"robot\", content = \"x\"}) end }\n",
     "Procedure { function() MessageHistory.append({role = \"user\", content = \"x\"}) end }\n"},
    {"TAC411", "local f = filters.last_n(-1)\nProcedure { function() return {} end }\n",
     "local f = filters.last_n(3)\nProcedure { function() return {} end }\n"},
    {"TAC501", "Procedure { function() return Human.approve({message = 1}) end }\n",
     "Procedure { function() return Human.approve({message = \"ok?\"}) end }\n"},
    {"TAC502", "Procedure { function() return Human.input({message = \"?\", timeout = 0}) end }\n",
     "Procedure { function() return Human.input({message = \"?\", timeout = 60}) end }\n"},
    {"TAC503", "Procedure { function() return Human.approve({message = \"?\", default = \"no\"}) end }\n",
     "Procedure { function() return Human.approve({message = \"?\", default = false}) end }\n"},
    {"TAC504", "Procedure { function() return Human.approve({timeout = 5}) end }\n",
     "Procedure { function() return Human.approve(\"Ship it?\") end }\n"},
    {"TAC601",
     "Procedure { output = { a = field.string{required = true} }, function() return {} end }\n",
     "Procedure { output = { a = field.string{required = true} }, function() return {a = \"x\"} end }\n"},
    {"TAC602", "Procedure { output = { a = field.string{} }, function() return {b = 1} end }\n",
     "Procedure { output = { a = field.string{} }, function() return {a = \"1\"} end }\n"},
    {"TAC603", "Procedure { output = { a = field.boolean{} }, function() return {a = \"yes\"} end }\n",
     "Procedure { output = { a = field.boolean{} }, function() return {a = true} end }\n"},
    {"TAC701", MAIN "Specifications([[\nFeature: f\n  Given a step outside a scenario\n]])\n",
     MAIN "Specifications([[\nFeature: f\n  Scenario: s\n    Given the procedure has started\n]])\n"},
    {"TAC702", MAIN "Specifications({})\n",
     MAIN "Specifications([[\nFeature: f\n  Scenario: s\n    When the procedure runs\n]])\n"},
    {"TAC703", MAIN "Specifications([[\nFeature: f\n  Scenario: s\n    Then the outptu should exist\n]])\n",
     MAIN "Specifications([[\nFeature: f\n  Scenario: s\n    Then the output should exist\n]])\n"},
    {"TAC704",
     MAIN "Specifications([[\nFeature: f\n  Scenario: s\n    Given the agent \"ghost\" responds with \"hi\"\n]])\n",
     "w = Agent { model = \"openai/x\" }\nProcedure { function() return w().output end }\n"
     "Specifications([[\nFeature: f\n  Scenario: s\n    Given the agent \"w\" responds with \"hi\"\n]])\n"},
    {"TAC704",
     "w = Agent { model = \"openai/x\" }\nProcedure { function() return w().output end }\n"
     "Specifications([[\nFeature: f\n  Scenario: s\n    When the x agent takes turn\n]])\n",
     "w = Agent { model = \"openai/x\" }\nProcedure { function() return w().output end }\n"
     "Specifications([[\nFeature: f\n  Scenario: s\n    When the w agent takes turn\n]])\n"},
    {"TAC705",
     "Procedure { input = { email = field.string{} }, function(i) return i.email end }\n"
     "Specifications([[\nFeature: f\n  Scenario: s\n    Given the input emial is \"x\"\n]])\n",
     "Procedure { input = { email = field.string{} }, function(i) return i.email end }\n"
     "Specifications([[\nFeature: f\n  Scenario: s\n    Given the input email is \"x\"\n]])\n"},
    {"TAC705",
     "Procedure { output = { sum = field.integer{} }, function() return {sum = 1} end }\n"
     "Specifications([[\nFeature: f\n  Scenario: s\n    Then the output summ should be 1\n]])\n",
     "Procedure { output = { sum = field.integer{} }, function() return {sum = 1} end }\n"
     "Specifications([[\nFeature: f\n  Scenario: s\n    Then the output sum should be 1\n]])\n"},
    {"TAC705",
     "Procedure { function() State.set(\"count\", 1) state.seen = true return 1 end }\n"
     "Specifications([[\nFeature: f\n  Scenario: s\n    Then the state cuont should be 1\n]])\n",
     "Procedure { function() State.set(\"count\", 1) state.seen = true return 1 end }\n"
     "Specifications([[\nFeature: f\n  Scenario: s\n    Then the state count should be 1\n"
     "    And the state seen should exist\n]])\n"},
    {"TAC705",
     "search = Tool { function() return 1 end }\nProcedure { function() return search() end }\n"
     "Specifications([[\nFeature: f\n  Scenario: s\n    Then the serach tool should be called\n]])\n",
     "search = Tool { function() return 1 end }\nProcedure { function() return search() end }\n"
     "Specifications([[\nFeature: f\n  Scenario: s\n    Then the search tool should be called\n"
     "    And the done tool should not be called\n]])\n"},
    /* a state key set dynamically leaves the state's keys open */
    {"TAC705",
     "Procedure { function() State.set(\"a\", 1) return 1 end }\n"
     "Specifications([[\nFeature: f\n  Scenario: s\n    Then the state b should exist\n]])\n",
     "Procedure { function() local k = \"b\" State.set(k, 1) return 1 end }\n"
     "Specifications([[\nFeature: f\n  Scenario: s\n    Then the state b should exist\n]])\n"},
    {"TAC801", MAIN "Mocks { ghost = { returns = 1 } }\n",
     "t = Tool { function() end }\nProcedure { function() return t() end }\nMocks { t = { returns = 1 } }\n"},
    {"TAC802",
     "Procedure { input = { a = field.string{} }, function() end }\n"
     "Evaluation({ dataset = { {name = \"c\", inputs = {b = \"x\"}} } })\n",
     "Procedure { input = { a = field.string{} }, function() end }\n"
     "Evaluation({ dataset = { {name = \"c\", inputs = {a = \"x\"}} } })\n"},
    {"TAC803",
     "Procedure { input = { a = field.string{required = true} }, function() end }\n"
     "Evaluation({ dataset = { {name = \"c\", inputs = {}} } })\n",
     "Procedure { input = { a = field.string{required = true} }, function() end }\n"
     "Evaluation({ dataset = { {name = \"c\", inputs = {a = \"x\"}} } })\n"},
    {"TAC804",
     "Procedure { input = { a = field.integer{} }, function() end }\n"
     "Evaluation({ dataset = { {name = \"c\", inputs = {a = 1.5}} } })\n",
     "Procedure { input = { a = field.integer{} }, function() end }\n"
     "Evaluation({ dataset = { {name = \"c\", inputs = {a = 2}} } })\n"},
#define EVAL_WITH(x) "Procedure { function() end }\nEvaluation({ dataset = { {name = \"c\", inputs = {}} }, " x " })\n"
    {"TAC805", EVAL_WITH("evaluators = {{type = \"equal_expected\"}}"),
     EVAL_WITH("evaluators = {field.equals_expected{}}")},
    {"TAC805", EVAL_WITH("evaluators = {field.llm_judge{}}"),
     EVAL_WITH("evaluators = {field.llm_judge{rubric = \"r\"}}")},
    {"TAC805", EVAL_WITH("evaluators = {field.contains{}}"),
     EVAL_WITH("evaluators = {field.contains{value = \"1\"}}")},
    {"TAC805", EVAL_WITH("evaluators = {{type = \"json_schema\"}}"),
     EVAL_WITH("evaluators = {{type = \"json_schema\", value = {type = \"object\"}}}")},
    {"TAC806", EVAL_WITH("thresholds = {max_tokens = 10}"),
     EVAL_WITH("thresholds = {max_tokens_per_run = 10}")},
    {"TAC806", EVAL_WITH("thresholds = {min_sucess_rate = 0.9}"),
     EVAL_WITH("thresholds = {min_success_rate = 0.9, max_cost_per_run = 1}")},
    {"TAC807", EVAL_WITH("runs = 1001"), EVAL_WITH("runs = 1000")},
    {"TAC808", EVAL_WITH("runs = 3, pass_k = {4}"), EVAL_WITH("runs = 4, pass_k = {4}")},
    {"TAC809",
     "Procedure { function() end }\nEvaluation({ dataset = { {name = \"c\"} } })\n",
     "Procedure { function() end }\nEvaluation({ dataset = { {name = \"c\", inputs = {}} } })\n"},
    {"TAC810", EVAL_WITH("thresholds = {min_pass_k = 3}"),
     EVAL_WITH("runs = 3, thresholds = {min_pass_k = {k = 3, value = 0.5}}")},
    {"TAC810", EVAL_WITH("thresholds = {max_duration = 0}"),
     EVAL_WITH("thresholds = {max_duration = 1.5}")},
#undef EVAL_WITH
    {"TAC901", "stages({\"a\", \"b\"})\n" MAIN, "Stages({\"a\", \"b\"})\n" MAIN},
};

#define MCP_AGENT                                                                                  \
    "reader = Agent { model = \"openai/gpt-4o-mini\", tools = {t} }\n"                             \
    "Procedure { function() return reader({message = \"go\"}).output end }\n"

/* MCP rules: with a cache of the host's MCP tools beside the file
 * ("with") or none above it ("without"). */
static const struct {
    const char *code, *where, *bad, *fixed;
} mcp_cases[] = {
    {"TAC305", "with", "Procedure { function() return mcp.files.reed_text_file({path = \"/a\"}) end }\n",
     "Procedure { function() return mcp.files.read_text_file({path = \"/a\"}) end }\n"},
    {"TAC305", "with", "local t = Toolset { use = \"mcp.filez\" }\n" MCP_AGENT,
     "local t = Toolset { use = \"mcp.files\" }\n" MCP_AGENT},
    {"TAC306", "with", "Procedure { function() return mcp.files.read_text_file({path = 42}) end }\n",
     "Procedure { function() return mcp.files.read_text_file({path = \"/a\"}) end }\n"},
    {"TAC306", "with", "Procedure { function() return mcp.files.read_text_file({}) end }\n",
     "Procedure { function() return mcp.files.read_text_file({path = \"/a\"}) end }\n"},
    {"TAC307", "without", "Procedure { function() return mcp.files.read_text_file({path = \"/a\"}) end }\n", MAIN},
};

static void mcp_rules_fire_on_bad_and_not_on_fixed(void **state)
{
    (void)state;
    char got[4096], path[128];
    for (size_t i = 0; i < sizeof mcp_cases / sizeof mcp_cases[0]; i++) {
        snprintf(path, sizeof path, "%s/%s/t.tac", mcp_dir, mcp_cases[i].where);
        codes_at(path, mcp_cases[i].bad, got, sizeof got);
        if (!strstr(got, mcp_cases[i].code)) fail_msg("%s: bad source gave [%s]", mcp_cases[i].code, got);
        codes_at(path, mcp_cases[i].fixed, got, sizeof got);
        if (got[0]) fail_msg("%s: fixed source gave [%s]", mcp_cases[i].code, got);
    }
}

/* A cache of the wrong shapes is read without a crash (ASan watches). */
static void odd_mcp_cache_is_survived(void **state)
{
    (void)state;
    char got[4096], path[128];
    snprintf(path, sizeof path, "%s/odd/t.tac", mcp_dir);
    const char *srcs[] = {
        "Procedure { function() return mcp.files.t() end }\n",
        "Procedure { function() return mcp.files.t({x = 1, y = 2}) end }\n",
        "Procedure { function() return mcp.files.u() end }\n",
        "Procedure { function() return mcp.files.u({x = 1}) end }\n",
        "Procedure { function() return mcp.files.v({}) end }\n",
        "Procedure { function() return mcp.other.t({}) end }\n",
        "local t = Toolset { use = \"mcp.other\", include = {\"t\"} }\n" MCP_AGENT,
    };
    for (size_t i = 0; i < sizeof srcs / sizeof srcs[0]; i++) codes_at(path, srcs[i], got, sizeof got);
    codes_at(path, srcs[4], got, sizeof got);
    if (!strstr(got, "TAC305")) fail_msg("an unknown tool with an odd cache gave [%s]", got);
}

static void each_rule_fires_on_bad_and_not_on_fixed(void **state)
{
    (void)state;
    char got[4096];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const rule_case *c = &cases[i];
        /* TAC003's bad source has a NUL inside: pass its real length. */
        if (strcmp(c->code, "TAC003") == 0) {
            fe_file *f = NULL;
            tx_diag_list l;
            tx_diag_list_init(&l);
            assert_int_equal(fe_parse(fe, "t.tac", c->bad, 3, &f), TX_OK);
            assert_int_equal(ck_check(ck, f, &l), TX_OK);
            assert_int_equal(l.len, 1);
            assert_string_equal(l.items[0].code, "TAC003");
            tx_diag_list_free(&l);
            fe_file_free(f);
        } else {
            codes_of(c->bad, got, sizeof got);
            if (!strstr(got, c->code)) fail_msg("%s: bad source gave [%s]", c->code, got);
        }
        codes_of(c->fixed, got, sizeof got);
        if (got[0]) fail_msg("%s: fixed source gave [%s]", c->code, got);
    }
}

/* TAC006's bad source is over 8 MiB, so it is made here: a procedure padded
 * with a comment to just over the run limit, and to exactly the limit. */
static char *padded_source(size_t len)
{
    char *src = malloc(len + 1);
    assert_non_null(src);
    size_t n = strlen(MAIN);
    memcpy(src, MAIN "--", n + 2);
    memset(src + n + 2, 'x', len - n - 3);
    src[len - 1] = '\n';
    src[len] = '\0';
    return src;
}

static void too_large_to_run_is_a_warning(void **state)
{
    (void)state;
    char got[4096];
    char *src = padded_source(FE_MAX_RUN_SOURCE + 1);
    findings(src, true, got, sizeof got);
    if (strcmp(got, "TAC006:warning") != 0) fail_msg("a source one byte over the limit gave [%s]", got);
    free(src);
    src = padded_source(FE_MAX_RUN_SOURCE);
    codes_of(src, got, sizeof got);
    if (got[0]) fail_msg("a source of exactly the limit gave [%s]", got);
    free(src);
}

static const char *const generated_cases[] = {"TAC006"};

static void every_catalogued_rule_has_a_case(void **state)
{
    (void)state;
    size_t n;
    const ck_rule_info *rules = ck_rules(&n);
    for (size_t i = 0; i < n; i++) {
        bool found = false;
        for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++)
            if (strcmp(cases[k].code, rules[i].code) == 0) found = true;
        for (size_t k = 0; k < sizeof mcp_cases / sizeof mcp_cases[0]; k++)
            if (strcmp(mcp_cases[k].code, rules[i].code) == 0) found = true;
        for (size_t k = 0; k < sizeof generated_cases / sizeof generated_cases[0]; k++)
            if (strcmp(generated_cases[k], rules[i].code) == 0) found = true;
        if (!found) fail_msg("rule %s has no test case", rules[i].code);
    }
}

static void steps_match_full_string_case_insensitively(void **state)
{
    (void)state;
    ck_step_match_result m;
    assert_true(ck_step_match(ck, "THE done TOOL SHOULD BE CALLED", 30, &m));
    assert_int_equal(m.index, 0);
    /* Full-string: pattern 1 must not swallow pattern 3's text. */
    const char *t3 = "the done tool should be called at least 2 times";
    assert_true(ck_step_match(ck, t3, strlen(t3), &m));
    assert_int_equal(m.index, 2);
    assert_int_equal(m.n_groups, 2);
    const char *t = "the output greeting should be \"Hello\"";
    assert_true(ck_step_match(ck, t, strlen(t), &m));
    size_t n;
    const ck_step_info *steps = ck_steps(&n);
    assert_string_equal(steps[m.index].template, "the output {key} should be {value}");
    assert_false(ck_step_match(ck, "the procedure runs fast", 23, &m));
    assert_string_equal(ck_step_nearest(ck, "the procedure run fast"), "the procedure runs");
}

/* The rule knows a second place: it travels with the diagnostic as its
 * related location (the language server's relatedInformation). */
static void findings_carry_their_related_place(void **state)
{
    (void)state;
    const char *src = "search = Tool { function() end }\n"
                      "other = Tool { function() end }\n"
                      "w = Agent { model = 'openai/x', tools = {search} }\n"
                      "Procedure { output = { a = field.string{required = true} },\n"
                      "  function() w({tools = {other}}) return {b = 1} end }\n";
    fe_file *f = NULL;
    tx_diag_list l;
    tx_diag_list_init(&l);
    assert_int_equal(fe_parse(fe, "t.tac", src, strlen(src), &f), TX_OK);
    assert_int_equal(ck_check(ck, f, &l), TX_OK);
    size_t seen = 0;
    for (size_t i = 0; i < l.len; i++) {
        const tx_diag *d = &l.items[i];
        if (strcmp(d->code, "TAC302") == 0) {
            assert_true(d->has_related);
            /* the agent's grant list {search} */
            assert_memory_equal(src + d->related.start_byte, "{search}", 8);
            assert_string_equal(d->related_message, "the tools agent 'w' was granted");
            seen++;
        } else if (strcmp(d->code, "TAC601") == 0) {
            assert_true(d->has_related);
            assert_memory_equal(src + d->related.start_byte, "a = ", 2);
            seen++;
        } else if (strcmp(d->code, "TAC303") == 0) {
            assert_false(d->has_related);
        }
    }
    assert_int_equal(seen, 2);
    tx_diag_list_free(&l);
    fe_file_free(f);
}

/* What a required .tac module beside the file assigns is defined (the
 * runtime runs modules in the same globals), and so are the names the user
 * declares (--globals, check.globals). */
static void globals_of_modules_and_declared_names(void **state)
{
    (void)state;
    char dir[] = "/tmp/tactus-unit-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[256], main_path[256];
    snprintf(path, sizeof path, "%s/helpers", dir);
    assert_int_equal(mkdir(path, 0700), 0);
    snprintf(path, sizeof path, "%s/helpers/text.tac", dir);
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fputs("require(\"helpers.more\")\ncount_words = Procedure { function() return 1 end }\n", fp);
    fclose(fp);
    snprintf(path, sizeof path, "%s/helpers/more.tac", dir);
    fp = fopen(path, "w");
    assert_non_null(fp);
    fputs("function shout(s) return s end\n", fp);
    fclose(fp);
    snprintf(main_path, sizeof main_path, "%s/main.tac", dir);
    const char *src = "require(\"helpers.text\")\n"
                      "Procedure { function() return count_words() .. shout(\"x\") .. PROJECT_NAME end }\n";
    fe_file *f = NULL;
    tx_diag_list l;
    tx_diag_list_init(&l);
    assert_int_equal(fe_parse(fe, main_path, src, strlen(src), &f), TX_OK);
    assert_int_equal(ck_check(ck, f, &l), TX_OK);
    /* only PROJECT_NAME is undefined */
    assert_int_equal(l.len, 1);
    assert_string_equal(l.items[0].code, "TAC403");
    assert_non_null(strstr(l.items[0].message, "'PROJECT_NAME' is not defined"));
    tx_diag_list_free(&l);
    const char *const known[] = {"PROJECT_NAME"};
    ck_set_known_globals(ck, known, 1);
    tx_diag_list_init(&l);
    assert_int_equal(ck_check(ck, f, &l), TX_OK);
    ck_set_known_globals(ck, NULL, 0);
    assert_int_equal(l.len, 0);
    tx_diag_list_free(&l);
    fe_file_free(f);
    snprintf(path, sizeof path, "rm -rf '%s'", dir);
    assert_int_equal(system(path), 0);
}

/* Issue #18: what the original runs must not be refused or flagged as a
 * mistake (each case was a false positive before). */
static void original_programs_are_not_flagged(void **state)
{
    (void)state;
    static const struct {
        const char *what, *src, *want;
    } originals[] = {
        {"an undeclared returned key is a warning (dropped at run time)",
         "Procedure { output = { a = field.string{} }, function() return {a = \"x\", extra = 1} end }\n",
         "TAC602:warning"},
        {"a required output missing on some paths is a warning",
         "Procedure { output = { a = field.string{required = true} },\n"
         "  function(input) if input.x then return {} end return {a = \"x\"} end }\n",
         "TAC601:warning"},
        {"a required output missing on every path is an error",
         "Procedure { output = { a = field.string{required = true} },\n"
         "  function(input) if input.x then return {} end return {b = 1} end }\n",
         "TAC601:error TAC601:error TAC602:warning"},
        {"a dynamic return may hold the output",
         "Procedure { output = { a = field.string{required = true} },\n"
         "  function(input) local r = {a = \"x\"} if input.x then return {} end return r end }\n",
         "TAC601:warning"},
        {"a required output with a default is never missing",
         "Procedure { output = { a = field.string{required = true, default = \"d\"} },\n"
         "  function() return {} end }\n",
         "TAC105:warning"},
        {"Mocks may name a Classify built inside a function",
         "Procedure { function(input)\n"
         "  local triage = Classify { name = \"triage_llm\", classes = {\"a\", \"b\"} }\n"
         "  return triage(input.text) end }\n"
         "Mocks { triage_llm = { returns = {value = \"a\"} } }\n",
         ""},
        {"Mocks may name an agent declared in a function, or a toolset's tool",
         "orders = Toolset { tools = {{name = \"lookup\", handler = function() return 1 end}} }\n"
         "Procedure { function() local w = Agent \"worker\" { model = \"openai/x\", tools = {orders} }\n"
         "  return w().output end }\n"
         "Mocks { worker = { message = \"hi\" }, orders_lookup = { returns = 1 }, lookup = { returns = 2 } }\n",
         ""},
        {"a toolset granted by its name is used",
         "Toolset \"math\" { tools = {{name = \"add\", handler = function() return 1 end}} }\n"
         "w = Agent { model = \"openai/x\", tools = {\"math\", \"done\"} }\n"
         "Procedure { function() return w().output end }\n",
         ""},
        {"a toolset fetched with Toolset.get is used",
         "Toolset \"math\" { tools = {{name = \"add\", handler = function() return 1 end}} }\n"
         "Procedure { function() local w = Agent { model = \"openai/x\", tools = {Toolset.get(\"math\")} }\n"
         "  return w().output end }\n",
         ""},
        {"a toolset's tool may be granted by its short name",
         "ts = Toolset { tools = {{name = \"add\", handler = function() return 1 end}} }\n"
         "w = Agent { model = \"openai/x\", tools = {\"add\", \"ts_add\"} }\n"
         "Procedure { function() return w().output end }\n",
         ""},
        {"v0.10's capitalised agent names in steps resolve",
         "w = Agent { model = \"openai/x\" }\nProcedure { function() return w().output end }\n"
         "Specifications([[\nFeature: f\n  Scenario: s\n    Given the agent \"W\" responds with \"hi\"\n"
         "    When the W agent takes turns\n]])\n",
         ""},
        {"a v0.10 agent that names no tools gets them all",
         "agent(\"w\", { provider = \"openai\", system_prompt = \"x\" })\n"
         "tool(\"t\", { description = \"d\" }, function() return 1 end)\n"
         "procedure(function() return W.turn().output end)\n",
         "TAC901:warning TAC901:warning TAC901:warning TAC901:warning"},
    };
    char got[4096];
    for (size_t i = 0; i < sizeof originals / sizeof originals[0]; i++) {
        findings(originals[i].src, true, got, sizeof got);
        if (strcmp(got, originals[i].want) != 0)
            fail_msg("%s: got [%s], expected [%s]", originals[i].what, got, originals[i].want);
    }
}

/* check --fix: the rewrite of a v0.10 file is the current DSL, and checks
 * without a legacy warning. */
static void legacy_file_is_rewritten(void **state)
{
    (void)state;
    const char *src = "agent(\"greeter\", { provider = \"openai\", system_prompt = \"Hi\" })\n"
                      "tool(\"shout\", { parameters = { text = {type = \"string\", required = true} } },\n"
                      "  function(args) return args.text end)\n"
                      "main = procedure(\"main\", { outputs = { text = {type = \"string\"} } }, function()\n"
                      "  return {text = Greeter.turn({inject = \"go\"}).output}\n"
                      "end)\n"
                      "stages(\"a\", \"b\")\n";
    const char *want = "greeter = Agent { model = \"gpt-4o\", tools = {\"shout\", \"done\"}, "
                       "provider = \"openai\", system_prompt = \"Hi\" }\n"
                       "shout = Tool { input = { text = field.string{required = true} },\n"
                       "  function(args) return args.text end,\n}\n"
                       "Procedure { output = { text = field.string{} },\n"
                       "  function()\n"
                       "  return {text = greeter({message = \"go\"}).output}\n"
                       "end,\n}\n"
                       "Stages({\"a\", \"b\"})\n";
    fe_file *f = NULL;
    ck_edits e;
    ck_edits_init(&e);
    assert_int_equal(fe_parse(fe, "t.tac", src, strlen(src), &f), TX_OK);
    assert_int_equal(ck_fix_legacy(f, &e), TX_OK);
    size_t n;
    char *out = ck_edits_apply(src, strlen(src), &e, &n);
    assert_non_null(out);
    assert_string_equal(out, want);
    char got[4096];
    codes_of(out, got, sizeof got);
    assert_string_equal(got, "");
    tx_free(out);
    ck_edits_free(&e);
    fe_file_free(f);
}

static void check_survives_allocation_failure(void **state)
{
    (void)state;
    const char *src = DONE "w = Agent { model = 'openai/x', tools = {done, nope} }\n"
                           "Procedure { output = { a = field.string{required = true} }, "
                           "function() os.exit() return {} end }\n"
                           "Specifications([[\nFeature: f\n  Scenario: s\n    When it flies\n]])\n";
    fe_file *f = NULL;
    assert_int_equal(fe_parse(fe, "t.tac", src, strlen(src), &f), TX_OK);
    size_t oom = 0;
    for (long n = 0; n < 300; n++) {
        tx_diag_list l;
        tx_diag_list_init(&l);
        tx_alloc_fail_after(n);
        tx_status st = ck_check(ck, f, &l);
        tx_alloc_fail_after(-1);
        assert_true(st == TX_OK || st == TX_ENOMEM);
        if (st == TX_ENOMEM) oom++;
        tx_diag_list_free(&l);
    }
    assert_true(oom > 0);
    fe_file_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(each_rule_fires_on_bad_and_not_on_fixed),
        cmocka_unit_test(mcp_rules_fire_on_bad_and_not_on_fixed),
        cmocka_unit_test(odd_mcp_cache_is_survived),
        cmocka_unit_test(too_large_to_run_is_a_warning),
        cmocka_unit_test(every_catalogued_rule_has_a_case),
        cmocka_unit_test(steps_match_full_string_case_insensitively),
        cmocka_unit_test(findings_carry_their_related_place),
        cmocka_unit_test(globals_of_modules_and_declared_names),
        cmocka_unit_test(original_programs_are_not_flagged),
        cmocka_unit_test(legacy_file_is_rewritten),
        cmocka_unit_test(check_survives_allocation_failure),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
