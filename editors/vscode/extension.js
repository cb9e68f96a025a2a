// A minimal client of `tactus lsp` (see docs/editors.md). Everything the
// editor shows comes from the server: diagnostics (pulled), hover,
// completion, definition, references, rename, symbols, folding, semantic
// tokens and code actions. Untested here: this repository's CI has no VS Code.
const vscode = require("vscode");
const { LanguageClient, TransportKind } = require("vscode-languageclient/node");

let client;

function activate(context) {
  const command = vscode.workspace.getConfiguration("tactus").get("path") || "tactus";
  const serverOptions = {
    command,
    args: ["lsp"],
    transport: TransportKind.stdio,
  };
  const clientOptions = {
    documentSelector: [{ scheme: "file", language: "tactus" }],
    synchronize: {
      fileEvents: vscode.workspace.createFileSystemWatcher("**/*.tac"),
    },
  };
  client = new LanguageClient("tactus", "Tactus", serverOptions, clientOptions);
  context.subscriptions.push({ dispose: () => client && client.stop() });
  return client.start();
}

function deactivate() {
  return client ? client.stop() : undefined;
}

module.exports = { activate, deactivate };
