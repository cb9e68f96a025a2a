mcp frobnicate
