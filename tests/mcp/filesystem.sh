#!/usr/bin/env bash
# The reference server @modelcontextprotocol/server-filesystem (npm),
# confined to a temporary folder, as an agent's Toolset: reads inside, a
# refusal outside, a tool the host excluded never sent; Mocks and the tool
# steps of `tactus test` with MCP tools (and --mock, where no server
# starts); `tactus mcp refresh` and what `tactus check` then knows.
#   filesystem.sh TACTUS
source "$(dirname "$0")/lib.sh"
data=$work/files
mkdir -p "$data"
echo "the quarterly numbers are up" >"$data/report.txt"
cat >"$config" <<YML
mcp_servers:
  files:
    command: ["node", "$filesystem", "$data"]
    tools: { exclude: [write_file, move_file, edit_file] }
    timeout: 20
YML

cat >"$proj/read.tac" <<TAC
local files = Toolset "files" { use = "mcp.files" }
local done = require("tactus.tools.done")

reader = Agent {
  model = "mock/reader",
  system_prompt = "Read the report and summarise it.",
  tools = {files, done},
}

Mocks {
  reader = {
    tool_calls = {
      {tool = "files_read_text_file", args = {path = "$data/report.txt"}},
      {tool = "files_read_text_file", args = {path = "/etc/hostname"}},
      {tool = "files_write_file", args = {path = "$data/evil.txt", content = "x"}},
      {tool = "done", args = {reason = "read"}},
    },
    message = "The numbers are up.",
  },
}

Procedure {
  function()
    local r = reader({message = "go"})
    local listing = mcp.files.list_directory({path = "$data"})
    return {out = r.output, calls = r.tool_calls, listing = listing, n = #files.tools}
  end
}

Specifications([[
Feature: an agent with an MCP toolset
  Scenario: the agent reads the report
    When the procedure runs
    Then the files_read_text_file tool should be called
    And the files_read_text_file tool should be called with path=$data/report.txt
    And the done tool should be called
    And the procedure should complete successfully
]])
TAC

# A real run: the agent's model is scripted (mock/), its tool calls go to
# the server through the broker.
t run --no-sandbox read.tac --json
expect_rc 0 "run read.tac"
calls='d["output"]["calls"]'
[ "$(json "$calls[0]['result']['content']")" = "the quarterly numbers are up" ] || fail "reading inside the folder"
json "$calls[1]['error']" | grep -q "ToolError: MCP tool files.read_text_file failed: Access denied" ||
    fail "reading outside the folder is the server's refusal"
json "$calls[2]['error']" | grep -q "is not available to this agent" || fail "write_file is not offered to the agent"
[ ! -e "$data/evil.txt" ] || fail "an excluded tool wrote a file"
json 'd["output"]["listing"]' | grep -q "report.txt" || fail "list_directory"
[ "$(json 'd["output"]["n"]')" = 11 ] || fail "14 tools less 3 excluded: $(json 'd["output"]["n"]')"
note "an agent's Toolset { use = \"mcp.files\" }: reads inside, refusals outside and of excluded tools"

# tactus test: the tool steps see MCP tools by their names.
t test --no-sandbox read.tac
expect_rc 0 "tactus test read.tac"
# ... and with --mock no server starts: a Mocks entry answers the tool.
cat >"$proj/mocked.tac" <<'TAC'
local files = Toolset "files" { use = "mcp.files" }
local done = require("tactus.tools.done")
reader = Agent { model = "openai/gpt-4o-mini", tools = {files, done} }
Mocks {
  reader = {
    tool_calls = {{tool = "files_read_text_file", args = {path = "/data/x.txt"}}, {tool = "done", args = {}}},
    message = "ok",
  },
  files_read_text_file = {returns = {content = "mocked"}},
}
Procedure {
  function()
    reader({message = "go"})
    return mcp.files.read_text_file({path = "/data/y.txt"})
  end
}
Specifications([[
Feature: mocked MCP tools
  Scenario: nothing is started
    When the procedure runs
    Then the files_read_text_file tool should be called exactly 2 times
    And the files_read_text_file tool should be called with path=/data/y.txt
    And the procedure should complete successfully
]])
TAC
t test --mock --no-sandbox mocked.tac
expect_rc 0 "tactus test --mock mocked.tac"
note "Mocks and tool steps with MCP tools (real and --mock)"

# tactus check: a note without the cache; errors with it.
cat >"$proj/typo.tac" <<'TAC'
local files = Toolset "files" { use = "mcp.files", include = {"read_text_fil"} }
Procedure {
  function()
    mcp.files.reed_file({path = "x"})
    mcp.files.read_text_file({pth = "x"})
    mcp.files.read_text_file({path = 42})
    return #files.tools
  end
}
TAC
t check --format json typo.tac
json '[x["code"] for x in d["diagnostics"]]' | grep -q "TAC307" || fail "without a cache: TAC307"
t mcp refresh
expect_rc 0 "mcp refresh"
[ -s "$proj/.tactus/mcp-tools.json" ] || fail "mcp refresh wrote no cache"
t check --format json typo.tac
codes=$(json '" ".join(x["code"] + ":" + str(x["line"]) for x in d["diagnostics"])')
for want in TAC305:1 TAC305:4 TAC306:5 TAC306:6; do
    case " $codes " in *" $want "*) ;; *) fail "check with the cache: $want missing in: $codes" ;; esac
done
t check read.tac
expect_rc 0 "read.tac checks clean with the cache"
note "tactus check: TAC305/306 with .tactus/mcp-tools.json, TAC307 without"
note "ok"
