check --format sarif demo-mistakes.tac
