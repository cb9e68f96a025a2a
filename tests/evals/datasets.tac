-- datasets.tac - dataset files in each format, relative to this file.
Procedure {
  input = {a = field.number{required = true}, b = field.number{default = 0}},
  function(input) return {sum = input.a + input.b} end,
}

Evaluation({
  dataset_file = "cases.json",
  evaluators = {field.equals_expected{field = "sum"}},
})

Evaluation({
  dataset_file = "cases.csv",
  evaluators = {field.equals_expected{field = "sum"}},
})
