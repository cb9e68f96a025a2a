run --no-sandbox --input name=Ada run-remote.tac
