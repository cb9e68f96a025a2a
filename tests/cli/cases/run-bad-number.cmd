run --no-sandbox --input name=Ada --input count=two run-inputs.tac
