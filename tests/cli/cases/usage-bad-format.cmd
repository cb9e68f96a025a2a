check --format xml clean.tac
