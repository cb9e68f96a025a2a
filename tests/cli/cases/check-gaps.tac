-- What luacheck would catch, and what only the DSL knows (issue 17): each
-- finding names the nearest thing that exists.
local done = require("tactus.tools.done")

search = Tool {
  input = {query = field.string{required = true}},
  function(args) return {hits = 1} end,
}

triager = Agent { model = "openai/gpt-4o-mini", system_prompt = "Triage.", tools = {search, done} }

Procedure {
  input = {email = field.string{required = true}},
  output = {verdict = field.string{required = true}},
  function(input)
    local r = triagr({message = input.email})
    if Human.aprove({message = "Escalate?"}) then State.incremnt("escalations") end
    File.wirte("last.txt", r.output)
    return {verdict = r.output}
  end,
}

Specifications([[
Feature: Triage
  Scenario: an address
    Given the input emial is "ada@example.com"
    And the agent "triagr" responds with "spam"
    When the procedure runs
    Then the output verdikt should be "spam"
    And the serach tool should not be called
]])

Evaluation({
  dataset = {{name = "a", inputs = {email = "a@b.c"}, expected_output = {verdict = "spam"}}},
  evaluators = {field.equal_expected{}, field.llm_judge{rubrik = "Is it right?"}},
  thresholds = {min_sucess_rate = 0.9},
})
