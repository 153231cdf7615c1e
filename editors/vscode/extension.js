// Starts `incentive lsp` for *.plan files (diagnostics, hover, go to definition).
// The command is the setting incentive.server.command; by default `incentive` on the PATH.
const vscode = require("vscode");
const { LanguageClient } = require("vscode-languageclient/node");

let client;

function activate(context) {
  const command = vscode.workspace.getConfiguration("incentive").get("server.command");
  const [program, ...args] = command;
  client = new LanguageClient(
    "incentive",
    "Incentive plans",
    { command: program, args: [...args, "lsp"] },
    { documentSelector: [{ language: "incentive" }] }
  );
  context.subscriptions.push(client);
  return client.start();
}

function deactivate() {
  return client ? client.stop() : undefined;
}

module.exports = { activate, deactivate };
