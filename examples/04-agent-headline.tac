-- 04-agent-headline.tac
--
-- A single agent with a Lua tool and the stdlib `done` tool.
--   * `writer = Agent {...}` declares the agent; the variable name is its name.
--   * `{input.topic}` in the system prompt is filled from the procedure input.
--   * `writer({message = ...})` runs one agent turn; `.output` is its reply.
--   * `done.called()` / `done.last_call()` tell whether (and why) it finished.
--   * `word_count({text = ...})` calls the same tool directly from Lua.
-- Scenarios mock the agent inline, so `tactus test` makes no model calls;
-- the Mocks block answers `tactus run --mock` (scripts/demo.sh) the same way.

local done = require("tactus.tools.done")

word_count = Tool {
  description = "Count the words in a piece of text",
  input = {
    text = field.string{required = true, description = "Text to measure"},
  },
  function(args)
    local n = 0
    for _ in args.text:gmatch("%S+") do
      n = n + 1
    end
    return {words = n}
  end,
}

writer = Agent {
  model = "openai/gpt-4o-mini",
  system_prompt = [[
You write one news headline about {input.topic}, at most {input.max_words} words.
Check the length with word_count. Reply with the headline only, then call done.]],
  tools = {word_count, done},
  max_turns = 4,
}

-- Under `tactus run --mock`: the writer replies with a headline and calls
-- done, as a model would (never used in a normal run).
Mocks {
  writer = {
    message = "Tide pools hide a world of life at low tide",
    tool_calls = {{tool = "done", args = {reason = "headline ready"}}},
  },
}

Procedure {
  input = {
    topic = field.string{required = true, description = "What the headline is about"},
    max_words = field.integer{default = 10, description = "Upper bound on headline length"},
  },
  output = {
    headline = field.string{required = true},
    words = field.integer{required = true},
    fits = field.boolean{required = true, description = "Headline is within max_words"},
    finished = field.boolean{required = true, description = "The agent called done"},
  },
  function(input)
    local result = writer({message = "Write the headline about " .. input.topic .. "."})
    local headline = result.output or ""

    -- Verify the length ourselves instead of trusting the model.
    local measured = word_count({text = headline})

    if done.called() then
      Log.info("writer finished", {reason = done.last_call().args.reason})
    else
      Log.warn("writer replied without calling done")
    end

    return {
      headline = headline,
      words = measured.words,
      fits = measured.words <= input.max_words,
      finished = done.called(),
    }
  end,
}

Specifications([[
@agents
Feature: Headline writer
  The procedure checks the agent's headline itself, whatever the model claims.

  Scenario: The writer finishes with a short headline
    Given the input topic is "urban beekeeping"
    And the agent "writer" responds with "Rooftop hives bring honey back to the city"
    And the agent "writer" calls tool "done" with args {"reason": "headline ready"}
    When the procedure runs
    Then the output headline should be "Rooftop hives bring honey back to the city"
    And the output words should be 8
    And the output fits should be true
    And the output finished should be true
    And the done tool should be called exactly 1 time
    And the word_count tool should be called

  Scenario: A headline that is too long and never finished
    Given the input topic is "tide pools"
    And the input max_words is 5
    And the agent "writer" responds with "Small rock pools along the coast hide a surprising variety of life"
    When the procedure runs
    Then the output fits should be false
    And the output finished should be false
    But the done tool should not be called
]])
