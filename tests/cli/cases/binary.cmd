check binary.tac
