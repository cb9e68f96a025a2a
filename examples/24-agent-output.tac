-- 24-agent-output.tac
--
-- Typed agent output: `output = {...}` on an Agent (docs/dsl/agent-output.md).
--   * The schema travels with every model call; OpenAI-compatible servers
--     are asked for a JSON object of that shape (response_format).
--   * The answer is checked like a procedure's output: required fields,
--     types, enums; defaults fill what is missing; unknown keys are dropped.
--   * `r.output` is then a table, not text: use its fields directly.
-- Scenarios mock the agent's structured answer with `returns data {...}`.

triager = Agent {
  model = "openai/gpt-4o-mini",
  system_prompt = [[
Classify the support ticket. Answer with a JSON object only:
category (billing, bug or other), urgent (true or false), and a one-line summary.]],
  output = {
    category = field.string{required = true, enum = {"billing", "bug", "other"}},
    urgent = field.boolean{required = true},
    summary = field.string{default = "(no summary)"},
  },
}

Procedure {
  input = {
    ticket = field.string{required = true, description = "The customer's message"},
  },
  output = {
    queue = field.string{required = true},
    summary = field.string{required = true},
  },
  function(input)
    local r = triager({message = input.ticket})
    local t = r.output -- a table checked against the schema above
    local queue = t.category .. (t.urgent and "-urgent" or "")
    return {queue = queue, summary = t.summary}
  end,
}

-- Under `tactus run --mock`: a structured answer, as a model would give.
Mocks {
  triager = {data = {category = "billing", urgent = true, summary = "Charged twice for one order"}},
}

Specifications([[
Feature: Routing tickets by the agent's typed answer
  Scenario: An urgent billing ticket
    Given the input ticket is "I was charged twice, please refund today"
    And the agent "triager" returns data {"category": "billing", "urgent": true, "summary": "Double charge", "mood": "angry"}
    When the procedure runs
    Then the output queue should be "billing-urgent"
    And the output summary should be "Double charge"

  Scenario: A missing summary takes its default
    Given the input ticket is "The export button does nothing"
    And the agent "triager" returns data {"category": "bug", "urgent": false}
    When the procedure runs
    Then the output queue should be "bug"
    And the output summary should be "(no summary)"

  Scenario: An answer outside the schema fails the run
    Given the input ticket is "hello"
    And the agent "triager" returns data {"category": "spam", "urgent": false}
    When the procedure runs
    Then the procedure should fail
]])
