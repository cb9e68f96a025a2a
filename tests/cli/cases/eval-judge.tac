-- An llm_judge without a mocked verdict under --mock: the mock provider
-- answers with no text, which is a malformed verdict: an evaluator error,
-- never a pass (the run is not counted, and nothing passes).
Procedure {
  input = {word = field.string{required = true}},
  function(input) return {word = input.word} end,
}

Evaluation({
  dataset = {{name = "a", inputs = {word = "a"}}},
  evaluators = {
    field.equals_expected{},
    field.llm_judge{rubric = "Is it a word?"},
  },
})
