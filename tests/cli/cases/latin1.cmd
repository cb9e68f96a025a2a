check latin1.tac
