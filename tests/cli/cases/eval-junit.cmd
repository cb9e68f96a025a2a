eval --mock --no-sandbox --format junit ../../../examples/02-fields.tac
