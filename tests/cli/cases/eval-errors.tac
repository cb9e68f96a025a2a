Procedure {
  input = {word = field.string{required = true}},
  function(input) return {word = input.word} end,
}

local words = {"a", "b"}

Evaluation({
  dataset = {{name = "a", inputs = {word = words[1]}}},
  evaluators = {field.equals_expected{}},
})
