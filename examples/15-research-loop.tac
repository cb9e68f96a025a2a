-- 15-research-loop.tac
--
-- An agent loop with a budget, and a final turn with fewer tools.
--   * `max_turns` caps the model/tool round trips inside one agent call.
--   * The procedure loops over agent calls until the agent calls done or the
--     round budget is spent (Iterations counts the rounds).
--   * The last call passes `tools = {done}`, a subset of the agent's grants:
--     the answer turn may not search any more.
--   * Stages mark where a long run is, for `tactus runs` and the logs.
-- Scenarios mock each agent turn in order with inline steps.

local done = require("tactus.tools.done")

local NOTES = {
  {topic = "onboarding", text = "Shorter welcome emails raised week-one activation by 9%."},
  {topic = "churn", text = "Churn fell from 4.1% to 3.2% after the onboarding change."},
  {topic = "pricing", text = "The annual plan discount had no measurable effect on churn."},
}

search_notes = Tool {
  description = "Search the team's research notes by keyword",
  input = {query = field.string{required = true}},
  function(args)
    local hits = {}
    for _, note in ipairs(NOTES) do
      if note.text:lower():find(args.query:lower(), 1, true) or note.topic == args.query then
        hits[#hits + 1] = note.text
      end
    end
    return {hits = hits}
  end,
}

save_finding = Tool {
  description = "Record a finding that the final answer relies on",
  input = {finding = field.string{required = true}},
  function(args)
    State.append("findings", args.finding)
    return {saved = true}
  end,
}

researcher = Agent {
  model = "openai/gpt-4o-mini",
  system_prompt = [[
Answer the question: {input.question}. Search the notes, save each finding you rely
on, and call done once the evidence is enough.]],
  tools = {search_notes, save_finding, done},
  max_turns = 6,
}

Stages({"researching", "answering"})

Procedure {
  input = {
    question = field.string{required = true},
    max_rounds = field.integer{default = 3, description = "Research rounds before answering anyway"},
  },
  output = {
    answer = field.string{required = true},
    rounds = field.integer{required = true},
    confident = field.boolean{required = true, description = "The agent finished researching"},
  },
  function(input)
    Stage.set("researching")
    repeat
      Iterations.increment()
      researcher({message = "Keep researching: " .. input.question})
    until done.called() or Iterations.current() >= input.max_rounds

    local confident = done.called()
    if not confident then
      Log.warn("round budget spent before the agent finished", {rounds = Iterations.current()})
    end

    Stage.set("answering")
    local final = researcher({
      message = "Answer the question in at most two sentences.",
      tools = {done},
    })

    return {answer = final.output, rounds = Iterations.current(), confident = confident}
  end,
}

Specifications([[
@agents @loop
Feature: Research loop with a round budget

  Scenario: The agent finishes in the second round
    Given the input question is "Did the onboarding change reduce churn?"
    And the agent "researcher" responds with "Searching the notes."
    And the agent "researcher" calls tool "search_notes" with args {"query": "churn"}
    And the agent "researcher" responds with "The notes are conclusive."
    And the agent "researcher" calls tool "done" with args {"reason": "enough evidence"}
    And the agent "researcher" responds with "Yes: churn fell from 4.1% to 3.2% after onboarding emails were shortened."
    When the procedure runs
    Then the output rounds should be 2
    And the output confident should be true
    And the output answer should match pattern "churn fell"
    And the search_notes tool should be called with query=churn
    And the save_finding tool should not be called
    And the total iterations should be less than 5

  Scenario: The budget runs out first
    Given the input question is "What drives churn?"
    And the input max_rounds is 2
    And the agent "researcher" responds with "Still searching."
    And the agent "researcher" responds with "Still searching."
    And the agent "researcher" responds with "Pricing did not matter; onboarding did."
    When the procedure runs
    Then the output rounds should be 2
    And the output confident should be false
    But the output answer should be "Pricing did not matter; onboarding did."
]])
