-- The current DSL, with what peers of the original rely on: a Classify
-- built inside the procedure and mocked by its name, a toolset fetched with
-- Toolset.get, the python helper table, File writes that create folders,
-- and an output key the schema does not declare (dropped, with a warning).
local csv = require("tactus.io.csv")
local json = require("tactus.io.json")

Toolset "text" {
  tools = {
    {name = "shout", input = { s = field.string{} }, handler = function(a) return string.upper(a.s) end},
  },
}

Procedure {
  input = { ticket = field.string{default = "My invoice is wrong"} },
  output = {
    label = field.string{required = true},
    count = field.integer{required = true},
    firsts = field.string{required = true},
    files = field.string{required = true},
    shout = field.string{required = true},
  },
  function(input)
    local triage = Classify {
      name = "triage_llm",
      method = "llm",
      classes = {"billing", "account", "other"},
      model = "openai/gpt-4o-mini",
    }
    local label = triage(input.ticket).value

    MessageHistory.append({role = "user", content = "first"})
    MessageHistory.append({role = "assistant", content = "second"})
    local seen = {}
    for i, m in python.enumerate(MessageHistory.get()) do
      seen[#seen + 1] = i .. ":" .. m.content
    end
    for m in python.iter(MessageHistory.get()) do seen[#seen + 1] = m.role end

    csv.write("reports/2026/q1.csv", {{label = label, n = 1}})
    json.write("reports/2026/q1.json", {label = label})
    File.write("notes/deep/er/note.txt", "kept")

    local text = Toolset.get("text")
    return {
      label = label,
      count = python.len(MessageHistory.get()),
      firsts = table.concat(seen, ","),
      files = File.read("notes/deep/er/note.txt") .. "," .. json.read("reports/2026/q1.json").label,
      shout = text.get("shout")({s = "hi"}),
      debug = "not declared: dropped",
    }
  end,
}

Mocks {
  triage_llm = { returns = {value = "billing", confidence = 0.9} },
}

Specifications([[
Feature: What peers of the original rely on

  Scenario: Classified, iterated, written and kept
    When the procedure runs
    Then the procedure should complete successfully
    And the output label should be "billing"
    And the output count should be 2
    And the output firsts should be "0:first,1:second,user,assistant"
    And the output files should be "kept,billing"
    And the output shout should be "HI"
    And the output debug should not be "not declared: dropped"
]])
