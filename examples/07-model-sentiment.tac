-- 07-model-sentiment.tac
--
-- Model declares a stateless predictor (classifier, regressor, HTTP model...)
-- with typed input and output. `type = "mock"` always predicts `value`, which
-- makes it handy while the real model is being trained. Call it with
-- Model("name")({...}); each prediction is checkpointed like an agent turn.
--
-- The Mocks block refines the mock per input with `conditional` rules: the
-- first rule whose `when` matches wins ("contains:" matches a substring);
-- inputs that match no rule fall through to the model itself.

Model "review_sentiment" {
  type = "mock",
  value = {label = "neutral", confidence = 0.5},
  input = {text = "string"},
  output = {label = "string", confidence = "float"},
}

Mocks {
  review_sentiment = {
    conditional = {
      {when = {text = "contains:refund"}, returns = {label = "negative", confidence = 0.91}},
      {when = {text = "contains:love"}, returns = {label = "positive", confidence = 0.88}},
    },
  },
}

Procedure {
  input = {
    reviews = field.array{required = true, description = "Customer review texts"},
    min_confidence = field.number{default = 0.6, description = "Below this a label counts as neutral"},
  },
  output = {
    positive = field.integer{required = true},
    negative = field.integer{required = true},
    neutral = field.integer{required = true},
    mood = field.string{required = true, enum = {"happy", "unhappy", "mixed"}},
  },
  function(input)
    local classify = Model("review_sentiment")
    local counts = {positive = 0, negative = 0, neutral = 0}

    for _, text in ipairs(input.reviews) do
      local prediction = classify({text = text})
      local out = prediction.output or prediction
      local label = out.label
      if out.confidence < input.min_confidence or counts[label] == nil then
        label = "neutral"
      end
      counts[label] = counts[label] + 1
    end

    local mood = "mixed"
    if counts.positive > counts.negative then
      mood = "happy"
    elseif counts.negative > counts.positive then
      mood = "unhappy"
    end

    return {
      positive = counts.positive,
      negative = counts.negative,
      neutral = counts.neutral,
      mood = mood,
    }
  end,
}

Specifications([[
Feature: Summarising review sentiment

  Scenario: One of each
    Given the input reviews is ["I love this kettle", "I want a refund", "It boils water"]
    When the review_sentiment model predicts
    Then the output positive should be 1
    And the output negative should be 1
    And the output neutral should be 1
    And the output mood should be "mixed"

  Scenario: A strict confidence bar turns weak labels neutral
    Given the input reviews is ["I love it", "Love the colour"]
    And the input min_confidence is 0.9
    When the procedure runs
    Then the output positive should be 0
    And the output neutral should be 2
    But the output mood should not be "happy"
]])
