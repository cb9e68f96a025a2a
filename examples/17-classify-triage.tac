-- 17-classify-triage.tac
--
-- Classify sorts text into one of a fixed set of classes.
--   * method = "llm": a model answers; while its answer is not one of the
--     classes it is asked again (up to max_retries), and r.retry_count says
--     how often that happened.
--   * method = "fuzzy": string similarity, no model at all; below the
--     threshold the value is "NO_MATCH".
-- Mocks answer a classifier by its name, attempt by attempt, like a tool.
--
--   tactus test --mock examples/17-classify-triage.tac
--   tactus run --mock examples/17-classify-triage.tac --input message='I was charged twice'

triage = Classify {
  name = "triage",
  method = "llm",
  classes = {"billing", "account", "bug", "other"},
  prompt = "Sort this customer support message by topic.",
  model = "openai/gpt-4o-mini",
  temperature = 0,
  max_retries = 2,
}

intent = Classify {
  name = "intent",
  method = "fuzzy",
  classes = {"refund request", "password reset", "delivery delay"},
  threshold = 0.7,
  algorithm = "token_set_ratio",
}

Mocks {
  -- The model first answers something that is not a class, then "billing".
  triage = {temporal = {{value = "Maybe?", confidence = 0.2}, {value = "billing", confidence = 0.91}}},
}

Procedure {
  input = {
    message = field.string{required = true, description = "The customer's message"},
  },
  output = {
    topic = field.string{required = true},
    confidence = field.number{required = true},
    retries = field.integer{required = true},
    intent = field.string{required = true, description = "A known intent, or NO_MATCH"},
  },
  function(input)
    local topic = triage(input.message)
    local known = intent({text = input.message})
    Log.info("classified", {topic = topic.value, intent = known.value})
    return {
      topic = topic.value,
      confidence = topic.confidence,
      retries = topic.retry_count,
      intent = known.value,
    }
  end,
}

Specifications([[
@classify
Feature: Sorting support messages

  Scenario: The model is asked again until it answers a class
    Given the input message is "I was charged twice for my refund request"
    When the procedure runs
    Then the output topic should be "billing"
    And the output retries should be 1
    And the output confidence should be 0.91
    And the output intent should be "refund request"

  Scenario: Nothing close enough is NO_MATCH
    Given the input message is "The weather is lovely today"
    When the procedure runs
    Then the output intent should be "NO_MATCH"
]])
