test --mock --no-sandbox --tags @wip test-pretty.tac
