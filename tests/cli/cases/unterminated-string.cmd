check unterminated-string.tac
