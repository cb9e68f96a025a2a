test --mock --no-sandbox --scenario Nothing test-pretty.tac
