check unclosed-brace.tac
