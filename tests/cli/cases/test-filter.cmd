test --mock --no-sandbox --tags @golden --scenario Names test-pretty.tac
