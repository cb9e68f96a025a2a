check --format json clean.tac
