check clean.tac
