test --mock --no-sandbox test-pretty.tac
