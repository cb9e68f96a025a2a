eval --mock --no-sandbox ../../../examples/01-hello.tac
