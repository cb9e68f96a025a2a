check empty.tac
