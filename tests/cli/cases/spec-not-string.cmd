check spec-not-string.tac
