run --no-sandbox --input name=Ada --input colour=red run-inputs.tac
