-- 20-message-history.tac
--
-- Conversations. Each agent keeps its own history unless it is declared
-- with message_history = {source = "shared"}: shared agents read and write
-- one conversation, the procedure's, which MessageHistory (alias Session)
-- manages: append, inject_system, clear, get/history, count.
-- A filter shapes what each model call sees without cutting the stored
-- history: filters.last_n, first_n, by_role, token_budget, head_tokens,
-- system_prefix, and filters.compose(...) to chain them.
--
--   tactus test --mock examples/20-message-history.tac

interviewer = Agent {
  model = "openai/gpt-4o-mini",
  system_prompt = "Ask one question about the candidate's project.",
  message_history = {source = "shared"},
}

summarizer = Agent {
  model = "openai/gpt-4o-mini",
  system_prompt = "Summarize the interview in one sentence.",
  message_history = {
    source = "shared",
    filter = filters.compose(filters.by_role("user", "assistant", "system"), filters.last_n(6)),
  },
}

notes = Agent {
  model = "openai/gpt-4o-mini",
  system_prompt = "Keep private notes.",
  -- isolated (the default): sees only its own calls
}

Mocks {
  interviewer = {message = "What was the hardest bug in the project?"},
  summarizer = {message = "The candidate explained a race in the cache layer."},
  notes = {message = "noted"},
}

Procedure {
  input = {candidate = field.string{required = true}},
  output = {
    question = field.string{required = true},
    summary = field.string{required = true},
    shared_messages = field.integer{required = true},
    notes_saw_interview = field.boolean{required = true},
    after_clear = field.integer{required = true},
  },
  function(input)
    MessageHistory.inject_system("The candidate is " .. input.candidate .. ".")
    local q = interviewer({message = "Start the interview."})
    Session.append({role = "user", content = "A race between two cache writers, found with logs."})
    local s = summarizer({message = "Summarize now."})
    notes({message = "Anything to note?"})
    local shared_messages = MessageHistory.count()
    local saw = false
    for _, m in ipairs(notes.messages) do
      if m.content:find("cache writers", 1, true) then saw = true end
    end
    MessageHistory.clear()
    return {
      question = q.output,
      summary = s.output,
      shared_messages = shared_messages,
      notes_saw_interview = saw,
      after_clear = #MessageHistory.get(),
    }
  end,
}

Specifications([[
@history
Feature: A shared interview transcript

  Scenario: Shared agents see one conversation, an isolated one does not
    Given the input candidate is "Ada"
    When the procedure runs
    Then the output question should be "What was the hardest bug in the project?"
    And the output summary should be "The candidate explained a race in the cache layer."
    And the output shared_messages should be 6
    And the output notes_saw_interview should be false
    And the output after_clear should be 0
    And the agent's context should include "The candidate is Ada."
    And the agent's context should include "A race between two cache writers"
]])
