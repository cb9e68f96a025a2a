test --mock --no-sandbox --format json test-pretty.tac
