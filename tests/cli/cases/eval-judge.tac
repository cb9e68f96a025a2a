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
