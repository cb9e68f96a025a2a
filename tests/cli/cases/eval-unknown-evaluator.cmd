eval --no-sandbox eval-unknown.tac
