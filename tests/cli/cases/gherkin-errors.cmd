check gherkin-errors.tac
