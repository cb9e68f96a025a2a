lsp extra-arg
