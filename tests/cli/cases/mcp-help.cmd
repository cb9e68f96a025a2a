mcp --help
