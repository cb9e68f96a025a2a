run --no-sandbox unterminated-string.tac
