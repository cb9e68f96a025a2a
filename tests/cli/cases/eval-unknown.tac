Procedure {
  input = {word = field.string{required = true}},
  function(input) return {word = input.word} end,
}

Evaluation({
  dataset = {{name = "a", inputs = {word = "a"}}},
  evaluators = {field.equals_expected{}},
})

Evaluation({
  dataset = {{name = "a", inputs = {word = "a"}}},
  evaluators = {{type = "equal_expected"}},
})
