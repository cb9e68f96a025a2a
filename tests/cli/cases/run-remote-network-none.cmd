run --input name=Ada remote-none/run.tac
