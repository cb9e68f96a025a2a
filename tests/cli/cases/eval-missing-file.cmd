eval --no-sandbox eval-missing.tac
