check unclosed-paren.tac
