test --mock --no-sandbox test-undefined.tac
