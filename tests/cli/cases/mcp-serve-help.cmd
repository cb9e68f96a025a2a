mcp serve --help
