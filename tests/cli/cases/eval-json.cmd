eval --mock --no-sandbox --format json ../../../examples/02-fields.tac
