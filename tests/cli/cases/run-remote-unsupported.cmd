run --no-sandbox --input name=Ada remote-udp/run.tac
