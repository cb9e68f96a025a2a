test --mock --no-sandbox --format junit test-pretty.tac
