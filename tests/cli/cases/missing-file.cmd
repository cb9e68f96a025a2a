check does-not-exist.tac
