run --input name=Ada run-inputs.tac
