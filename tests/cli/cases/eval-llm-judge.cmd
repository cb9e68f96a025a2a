eval --no-sandbox eval-judge.tac
