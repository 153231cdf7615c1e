"""Editor support: the Pygments lexer, the symbol index behind hover and go-to-definition,
and the language server (`incentive lsp`, needs the `[lsp]` extra). The TextMate grammar for
VS Code lives in editors/vscode/ at the top of the repository."""
