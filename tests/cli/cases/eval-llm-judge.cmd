eval --mock --no-sandbox eval-judge.tac
