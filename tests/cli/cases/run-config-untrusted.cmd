run --no-sandbox --input name=Ada config-untrusted/run.tac
