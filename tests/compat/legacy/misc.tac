-- The v0.10 DSL with what its files relied on: Agent("name").turn(), the
-- python helper table, File writes that create folders, a returned key the
-- outputs do not declare (dropped with a warning, as v0.10 did), and a
-- scenario naming the agent by its capitalised global.
agent("scribe", {
  provider = "openai",
  model = "gpt-4o-mini",
  system_prompt = "You take notes.",
  tools = {"done"},
})

procedure({
  outputs = {
    words = {type = "number", required = true},
    saved = {type = "string", required = true},
  },
}, function()
  local reply = Agent("scribe").turn({inject = "take a note"})
  local words = 0
  for _ in python.iter({"a", "b", "c"}) do words = words + 1 end
  File.write("notes/2026/today.txt", reply.output)
  return {
    words = words + python.len(reply.output),
    saved = File.read("notes/2026/today.txt"),
    scratch = "dropped",
  }
end)

specifications([[
Feature: v0.10 habits

  Scenario: The scribe writes a note into a new folder
    Given the agent "Scribe" responds with "ok"
    When the Scribe agent takes turns
    Then the procedure should complete successfully
    And the output words should be 5
    And the output saved should be "ok"
    And the done tool should not be called
]])
