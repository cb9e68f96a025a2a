check --format json demo-mistakes.tac
