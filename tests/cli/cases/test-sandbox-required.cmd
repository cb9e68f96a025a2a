test --mock test-pretty.tac
