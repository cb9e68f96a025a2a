check --color=never demo-mistakes.tac
