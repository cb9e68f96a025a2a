eval --mock ../../../examples/01-hello.tac
