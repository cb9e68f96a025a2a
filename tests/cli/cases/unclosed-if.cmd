check unclosed-if.tac
