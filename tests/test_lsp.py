"""The language server, driven over stdio by real JSON-RPC messages as an editor sends them:
initialize, didOpen, didChange, hover, definition, shutdown, exit. Needs pygls (the `[lsp]`
extra, part of the test extras)."""

import json
import queue
import re
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from incentive_dsl.cli import main

pytest.importorskip("pygls", reason="the [lsp] extra is not installed")

ROOT = Path(__file__).resolve().parents[1]
PLAN = ROOT / "plans" / "enterprise_ae.plan"


class Client:
    """A minimal LSP client: frames messages, reads the server's on a thread."""

    def __init__(self) -> None:
        self.proc = subprocess.Popen([sys.executable, "-m", "incentive_dsl.cli", "lsp"],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, cwd=ROOT)
        self.inbox: queue.Queue = queue.Queue()
        self.next_id = 0
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        out = self.proc.stdout
        while True:
            headers = {}
            while True:
                line = out.readline()
                if not line:
                    return
                line = line.decode("ascii").strip()
                if not line:
                    break
                key, _, value = line.partition(":")
                headers[key.strip().lower()] = value.strip()
            self.inbox.put(json.loads(out.read(int(headers["content-length"]))))

    def send(self, message: dict) -> None:
        body = json.dumps({"jsonrpc": "2.0", **message}).encode("utf-8")
        self.proc.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        self.proc.stdin.flush()

    def notify(self, method: str, params: dict) -> None:
        self.send({"method": method, "params": params})

    def request(self, method: str, params: dict):
        self.next_id += 1
        self.send({"id": self.next_id, "method": method, "params": params})
        reply = self.wait(lambda m: m.get("id") == self.next_id and "method" not in m)
        assert "error" not in reply, reply
        return reply["result"]

    def wait(self, wanted, timeout: float = 30):
        while True:
            message = self.inbox.get(timeout=timeout)
            if wanted(message):
                return message

    def diagnostics(self, uri: str) -> list[dict]:
        note = self.wait(lambda m: m.get("method") == "textDocument/publishDiagnostics"
                         and m["params"]["uri"] == uri)
        return note["params"]["diagnostics"]

    def close(self) -> int:
        self.request("shutdown", None)
        self.notify("exit", None)
        code = self.proc.wait(timeout=10)
        self.proc.stdin.close()
        self.proc.stdout.close()
        self.proc.stderr.close()
        return code


@pytest.fixture(scope="module")
def client():
    c = Client()
    capabilities = c.request("initialize", {"processId": None, "rootUri": ROOT.as_uri(),
                                            "capabilities": {}})["capabilities"]
    assert capabilities["hoverProvider"] and capabilities["definitionProvider"]
    c.notify("initialized", {})
    yield c
    assert c.close() == 0


def open_doc(client, name: str, text: str, tmp_path=None) -> str:
    uri = (ROOT / "tests" / name).as_uri()
    client.notify("textDocument/didOpen", {"textDocument": {
        "uri": uri, "languageId": "incentive", "version": 1, "text": text}})
    return uri


def position_of(text: str, needle: str, nth: int = 0, offset: int = 0) -> dict:
    """The LSP position (0-based) of the nth occurrence of `needle`, plus `offset` chars."""
    at = -1
    for _ in range(nth + 1):
        at = text.index(needle, at + 1)
    at += offset
    line = text.count("\n", 0, at)
    return {"line": line, "character": at - (text.rfind("\n", 0, at) + 1)}


def test_a_clean_plan_has_no_diagnostics(client):
    uri = open_doc(client, "clean.plan", PLAN.read_text("utf-8"))
    assert client.diagnostics(uri) == []


BROKEN = '''plan "Broken"
  currency USD
  effective 2027-01-01 to 2027-12-31

quota bookings
  100,000 USD per quarter

credit bookings
  on deal booked

measure attainment = bookings / quota bookngs

commission core
  on bookings
  rate 8%
'''


def test_check_errors_and_warnings_are_published_with_ranges(client):
    uri = open_doc(client, "broken.plan", BROKEN)
    found = client.diagnostics(uri)
    by_code = {d["code"]: d for d in found}
    name = by_code["E-NAME"]
    assert name["severity"] == 1 and name["source"] == "incentive"
    # Exactly the misspelt name `bookngs` (0-based line 10, after `... / quota `).
    assert name["range"] == {"start": {"line": 10, "character": 38},
                             "end": {"line": 10, "character": 45}}
    assert "did you mean 'quota bookings'?" in name["message"]
    assert by_code["W-NO-EXAMPLE"]["severity"] == 2


def test_syntax_errors_are_published_and_cleared_on_change(client):
    uri = open_doc(client, "syntax.plan", BROKEN.replace("  rate 8%", "  rate at 8%"))
    # A syntax error stops the checks, as with `incentive check`: the one error is published.
    (d,) = client.diagnostics(uri)
    assert d["code"] == "E-SYNTAX" and d["range"]["start"]["line"] == 14
    fixed = PLAN.read_text("utf-8")
    client.notify("textDocument/didChange", {
        "textDocument": {"uri": uri, "version": 2},
        "contentChanges": [{"text": fixed}]})
    assert client.diagnostics(uri) == []


def test_related_places_are_published(client):
    text = BROKEN.replace("measure attainment", "credit bookings\n  on deal booked\n\nmeasure a")
    uri = open_doc(client, "related.plan", text)
    dup = next(d for d in client.diagnostics(uri) if d["code"] == "E-DUPLICATE")
    (rel,) = dup["relatedInformation"]
    assert rel["location"]["uri"] == uri and rel["location"]["range"]["start"]["line"] == 7


def test_hover_shows_kind_type_and_definition(client):
    text = PLAN.read_text("utf-8")
    uri = open_doc(client, "hover.plan", text)
    client.diagnostics(uri)
    at = position_of(text, "rates by attainment", offset=len("rates by "))
    hover = client.request("textDocument/hover", {"textDocument": {"uri": uri}, "position": at})
    value = hover["contents"]["value"]
    assert value.startswith("measure `attainment`: a percentage")
    assert "measure attainment = bookings / quota bookings" in value
    at = position_of(text, "quota bookings", nth=1, offset=len("quota b"))
    hover = client.request("textDocument/hover", {"textDocument": {"uri": uri}, "position": at})
    assert hover["contents"]["value"].startswith("quota `bookings`: money in USD")
    at = position_of(text, "deal.type is", offset=len("deal.t"))
    hover = client.request("textDocument/hover", {"textDocument": {"uri": uri}, "position": at})
    assert hover["contents"]["value"].startswith(
        "deal field `deal.type`: one of 'new_business', 'renewal', 'expansion'")
    blank = {"line": text.split("\n").index(""), "character": 0}
    assert client.request("textDocument/hover",
                          {"textDocument": {"uri": uri}, "position": blank}) is None


def test_definition_jumps_to_the_declaration(client):
    text = PLAN.read_text("utf-8")
    uri = open_doc(client, "definition.plan", text)
    client.diagnostics(uri)
    at = position_of(text, "on bookings", offset=len("on "))  # the commission's base
    loc = client.request("textDocument/definition",
                         {"textDocument": {"uri": uri}, "position": at})
    assert loc["uri"] == uri
    assert loc["range"] == {"start": position_of(text, "credit bookings", offset=7),
                            "end": position_of(text, "credit bookings", offset=15)}
    at = position_of(text, "deal.product is", offset=len("deal.p"))
    loc = client.request("textDocument/definition",
                         {"textDocument": {"uri": uri}, "position": at})
    assert loc["range"]["start"] == position_of(text, "deal.product one of", offset=5)


def test_references_and_outline(client):
    text = PLAN.read_text("utf-8")
    uri = open_doc(client, "references.plan", text)
    client.diagnostics(uri)
    at = position_of(text, "measure attainment", offset=len("measure "))
    found = client.request("textDocument/references", {
        "textDocument": {"uri": uri}, "position": at, "context": {"includeDeclaration": False}})
    lines = text.split("\n")
    used = sorted(r["range"]["start"]["line"] for r in found)
    # Every line whose code (not its comment) names `attainment`, the definition excluded.
    expected = [i for i, line in enumerate(lines) if i != at["line"]
                and re.search(r"\battainment\b", line.split("#")[0])]
    assert used == expected and len(used) >= 3
    symbols = client.request("textDocument/documentSymbol", {"textDocument": {"uri": uri}})
    names = {(s["name"], s["containerName"]) for s in symbols}
    assert {("core", "commission"), ("bookings", "quota"), ("bookings", "credit"),
            ("deal.type", "deal field"), ("AE", "role")} <= names


def test_positions_count_utf16_units(client):
    # A non-BMP character before the error takes two UTF-16 units, as editors count.
    text = BROKEN.replace("credit bookings\n", 'credit bookings "📈 Bookings"\n')
    text = text.replace("quota bookngs", "quota bookngs + bookngs")
    uri = open_doc(client, "emoji.plan", text)
    lines = text.split("\n")
    emoji_line = next(i for i, l in enumerate(lines) if "📈" in l)
    at = {"line": emoji_line, "character": lines[emoji_line].index("Bookings") + 1}
    # On the label's line nothing is named; the credit's name before the emoji is.
    found = client.diagnostics(uri)
    assert any(d["code"] == "E-NAME" for d in found)
    name_hover = client.request("textDocument/hover", {"textDocument": {"uri": uri},
                                "position": {"line": emoji_line, "character": 8}})
    assert name_hover["contents"]["value"].startswith("credit `bookings`")
    assert client.request("textDocument/hover",
                          {"textDocument": {"uri": uri}, "position": at}) is None


def test_without_pygls_the_command_says_how_to_install(monkeypatch, capsys):
    # As when the extra is missing: importing pygls fails.
    monkeypatch.setitem(sys.modules, "pygls", None)
    monkeypatch.delitem(sys.modules, "incentive_dsl.editor.lsp", raising=False)
    assert main(["lsp"]) == 2
    assert "pip install 'incentive-dsl[lsp]'" in capsys.readouterr().err
