run --no-sandbox --input name=Ada --input loud=maybe run-inputs.tac
