-- The v0.10 lowercase DSL is read into the same model as the current one:
-- a misspelt grant and an undeclared output are found in either syntax.
agent("writer", {
    provider = "openai",
    model = "gpt-4o-mini",
    system_prompt = "Write about {params.topic}.",
    tools = {"done", "serach"},
})

search = tool("search", {
    description = "Search",
    parameters = { query = {type = "string", required = true} },
}, function(args) return {} end)

main = procedure("main", {
    params = { topic = {type = "string", required = true} },
    outputs = { text = {type = "string", required = true} },
}, function()
    Writer.turn()
    return { txt = "..." }
end)

specifications([[
Feature: Old syntax
  Scenario: runs
    Given the procedure has started
    When the writer agent takes turns
    Then the procedure should complete successfully
]])
