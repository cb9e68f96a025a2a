mcp serve --http 0.0.0.0:8765 clean.tac
