eval --no-sandbox eval-errors.tac
