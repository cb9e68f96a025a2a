test --tags (@a test-pretty.tac
