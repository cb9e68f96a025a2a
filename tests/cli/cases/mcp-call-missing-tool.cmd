mcp call files
