run --no-sandbox run-inputs.tac
