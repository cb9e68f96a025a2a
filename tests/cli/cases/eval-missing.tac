Procedure {
  input = {word = field.string{required = true}},
  function(input) return {word = input.word} end,
}

Evaluation({
  dataset_file = "no-such-cases.jsonl",
  evaluators = {field.equals_expected{}},
})
