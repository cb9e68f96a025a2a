check unterminated-comment.tac
