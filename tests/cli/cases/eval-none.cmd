eval --no-sandbox test-pretty.tac
