test --format yaml test-pretty.tac
