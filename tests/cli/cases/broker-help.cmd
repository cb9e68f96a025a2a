broker --help
