"""The language server, driven over stdio by real JSON-RPC messages as an editor sends them:
initialize, didOpen, didChange, hover, definition, completion, formatting, shutdown, exit. Needs pygls (the `[lsp]`
extra, part of the test extras)."""

import json
import queue
import re
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from incentive_dsl.api import format_text
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
    assert capabilities["documentFormattingProvider"]
    assert "." in capabilities["completionProvider"]["triggerCharacters"]
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
    # As with `incentive check`, the blocks that parsed are checked too: the misspelt quota
    # is published with the syntax error.
    found = [(d["code"], d["range"]["start"]["line"]) for d in client.diagnostics(uri)]
    assert found == [("W-NO-EXAMPLE", 0), ("E-NAME", 10), ("E-SYNTAX", 14)]
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


def apply_edits(text: str, edits: list[dict]) -> str:
    """`text` with LSP edits applied (positions in UTF-16 units, as the server was asked)."""
    lines = text.split("\n")

    def offset(p: dict) -> int:
        before = sum(len(line) + 1 for line in lines[:p["line"]])
        units = lines[p["line"]].encode("utf-16-le")[:2 * p["character"]] \
            if p["line"] < len(lines) else b""
        return before + len(units.decode("utf-16-le"))
    for e in sorted(edits, key=lambda e: (e["range"]["start"]["line"],
                                          e["range"]["start"]["character"]), reverse=True):
        text = text[:offset(e["range"]["start"])] + e["newText"] + text[offset(e["range"]["end"]):]
    return text


def format_request(client, uri: str):
    return client.request("textDocument/formatting", {
        "textDocument": {"uri": uri}, "options": {"tabSize": 2, "insertSpaces": True}})


def test_formatting_gives_fmts_text_as_one_edit(client):
    canonical = PLAN.read_text("utf-8")
    messy = canonical.replace("  on bookings\n", "  on    bookings   \n").replace(
        "measure attainment = bookings / quota bookings",
        "measure attainment=bookings/quota bookings")
    uri = open_doc(client, "fmt.plan", messy)
    client.diagnostics(uri)
    (edit,) = format_request(client, uri)
    assert edit["range"]["start"] == {"line": 0, "character": 0}
    assert edit["newText"] == canonical
    assert apply_edits(messy, [edit]) == canonical
    client.notify("textDocument/didChange", {"textDocument": {"uri": uri, "version": 2},
                                             "contentChanges": [{"text": canonical}]})
    client.diagnostics(uri)
    assert format_request(client, uri) == []


def test_formatting_keeps_crlf_and_counts_utf16_units(client):
    canonical = PLAN.read_text("utf-8").replace('"Core commission"', '"Core 📈 commission"')
    messy = canonical.replace("  cap 150,000 USD per year", "  cap   150,000 USD per year")
    messy += "# last 📈"  # the edit ends after the emoji, two UTF-16 units
    uri = open_doc(client, "crlf.plan", messy.replace("\n", "\r\n"))
    client.diagnostics(uri)
    (edit,) = format_request(client, uri)
    lf = format_text("crlf.plan", messy).formatted  # as fmt lays out the file with LF endings
    assert "cap 150,000 USD" in lf and "\r" not in lf
    assert edit["newText"] == lf.replace("\n", "\r\n")
    assert edit["range"]["end"] == {"line": messy.count("\n"), "character": len("# last ") + 2}


def test_formatting_a_file_that_does_not_parse_changes_nothing(client):
    text = BROKEN.replace("  rate 8%", "  rate at 8%")
    uri = open_doc(client, "fmt-broken.plan", text)
    assert "E-SYNTAX" in [d["code"] for d in client.diagnostics(uri)]
    assert format_request(client, uri) == []
    # The unchanged document's diagnostics are not withdrawn by the request.
    with pytest.raises(queue.Empty):
        client.wait(lambda m: m.get("method") == "textDocument/publishDiagnostics"
                    and m["params"]["uri"] == uri, timeout=0.5)


def complete(client, uri: str, position: dict) -> dict[str, dict]:
    items = client.request("textDocument/completion",
                           {"textDocument": {"uri": uri}, "position": position})
    if isinstance(items, dict):
        items = items["items"]
    labels = [i["label"] for i in items]
    assert len(labels) == len(set(labels)), labels
    return {i["label"]: i for i in items}


def test_completion_offers_what_the_grammar_accepts_at_the_cursor(client):
    text = PLAN.read_text("utf-8")
    uri = open_doc(client, "complete.plan", text)
    client.diagnostics(uri)
    keyword = 14  # CompletionItemKind.Keyword
    # At the left margin: the words that start a block, and nothing else.
    at = position_of(text, "\ncommission core", offset=1)
    found = complete(client, uri, at)
    assert {"plan", "fields", "quota", "credit", "measure", "commission", "bonus", "spiff",
            "stage", "payout", "example"} <= set(found)
    assert all(i["kind"] == keyword for i in found.values())
    assert not {"rate", "on", "bookings", "core"} & set(found)
    # At the start of a commission's line (the word typed so far does not matter): its lines.
    for offset in (2, 3):
        found = complete(client, uri, position_of(text, "  on bookings", offset=offset))
        assert {"on", "rate", "rates", "marginal", "cap", "floor", "for", "during"} <= set(found)
        assert not {"commission", "plan", "step", "pay", "split"} & set(found)
    # A bonus's lines are not a commission's.
    found = complete(client, uri, position_of(text, "  step on attainment per quarter",
                                              offset=2))
    assert {"step", "linear", "when", "cap"} <= set(found) and "rate" not in found
    # Under a tier table, indented further: its rows.
    found = complete(client, uri, position_of(text, "    from 100% to 150%", offset=4))
    assert set(found) == {"from", "each"}
    # The commission's base is a credit: not the measure, nor the commission itself.
    found = complete(client, uri, position_of(text, "  on bookings", offset=len("  on ")))
    assert set(found) == {"bookings"} and found["bookings"]["detail"] == "credit"
    # A tier key is a measure or a credit, or the deal's amount.
    found = complete(client, uri, position_of(text, "rates by attainment", offset=9))
    assert set(found) == {"attainment", "bookings", "deal"}
    # Roles after `for role`, in a list too.
    found = complete(client, uri, position_of(text, "for role AE\n", offset=9))
    assert set(found) == {"VP", "MGR", "AE", "SE", "SDR"}
    found = complete(client, uri, position_of(text, "applies to role AE, SE", offset=20))
    assert set(found) == {"VP", "MGR", "AE", "SE", "SDR"}
    # A clawback reverses components: not credits, measures or quotas.
    found = complete(client, uri, position_of(text, "reverse core", offset=8))
    assert {"core", "milestones", "club", "p3", "presale"} == set(found)
    # An expression: rules and the built-in names, and the words an expression starts with.
    # A measure's own name is not offered in its expression: that would be a cycle.
    found = complete(client, uri, position_of(text, "attainment = ", offset=13))
    assert {"bookings", "base_salary", "if", "not", "quota", "core"} <= set(found)
    assert not {"attainment", "AE", "churn", "on"} & set(found)
    # After `quota` in an expression: the quotas.
    found = complete(client, uri, position_of(text, "/ quota bookings", offset=8))
    assert set(found) == {"bookings"} and found["bookings"]["detail"] == "quota"
    # A period unit.
    found = complete(client, uri, position_of(text, "cap 150,000 USD per year", offset=20))
    assert {"month", "quarter", "half", "year"} <= set(found) and "bookings" not in found
    # In an example: the example's payees, and the plan's periods.
    found = complete(client, uri, position_of(text, "expect core for ana", offset=16))
    assert set(found) == {"ana"}
    found = complete(client, uri, position_of(text, "for ana in 2027-Q1", offset=11))
    assert {"2027-Q1", "2027-Q4", "2027-H2", "2027", "2027-01", "2027-12"} <= set(found)
    assert not {"2026-Q4", "2028-Q1", "bookings"} & set(found)
    half = text.replace("2027-01-01 to 2027-12-31", "2027-01-01 to 2027-06-30", 1)
    client.notify("textDocument/didChange", {"textDocument": {"uri": uri, "version": 2},
                                             "contentChanges": [{"text": half}]})
    client.diagnostics(uri)
    found = complete(client, uri, position_of(half, "for ana in 2027-Q1", offset=11))
    assert {"2027-Q2", "2027-H1", "2027-06"} <= set(found) and "2027-Q3" not in found
    client.notify("textDocument/didChange", {"textDocument": {"uri": uri, "version": 3},
                                             "contentChanges": [{"text": text}]})
    client.diagnostics(uri)
    # A name a header declares, a comment and a text offer nothing.
    assert complete(client, uri, position_of(text, "measure attainment", offset=8)) == {}
    assert complete(client, uri, position_of(text, "# Role", offset=3)) == {}
    assert complete(client, uri, position_of(text, '"discovery"', offset=3)) == {}


def test_completion_of_fields_and_while_typing(client):
    text = PLAN.read_text("utf-8")
    uri = open_doc(client, "typing.plan", text)
    client.diagnostics(uri)
    # After `deal.`: the built-in fields and the plan's, even mid-word.
    for needle in ("deal.type is", "deal.product is"):
        found = complete(client, uri, position_of(text, needle, offset=len("deal.t")))
        assert {"amount", "id", "owner", "stage", "type", "product"} <= set(found)
        assert found["type"]["kind"] == 5 and "attainment" not in found  # Field
    # As an author types: a line left unfinished, in a block that no longer parses.
    split = "  split as recorded  # CRM splits; must total 100%"
    typed = text.replace(split, "  on deal booked where deal.")
    client.notify("textDocument/didChange", {"textDocument": {"uri": uri, "version": 2},
                                             "contentChanges": [{"text": typed}]})
    assert any(d["code"] == "E-SYNTAX" for d in client.diagnostics(uri))
    found = complete(client, uri, position_of(typed, "where deal.\n", offset=11))
    assert {"amount", "type", "product"} <= set(found)
    typed = text.replace(split, "  ")
    client.notify("textDocument/didChange", {"textDocument": {"uri": uri, "version": 3},
                                             "contentChanges": [{"text": typed}]})
    client.diagnostics(uri)
    line = typed.split("\n").index("  ")
    found = complete(client, uri, {"line": line, "character": 2})
    assert {"split", "overlay", "value", "attribute", "cancelled", "for"} <= set(found)
    assert "rate" not in found


def test_completion_never_offers_a_measure_a_cycle_through_itself(client):
    # pace reads attainment: in attainment's expression neither is offered (both would be a
    # cycle, E-CYCLE); in pace's, attainment is and pace is not.
    text = PLAN.read_text("utf-8").replace(
        "measure attainment = bookings / quota bookings\n",
        "measure attainment = bookings / quota bookings\n\nmeasure pace = attainment * 2\n")
    uri = open_doc(client, "cycle.plan", text)
    client.diagnostics(uri)
    found = complete(client, uri, position_of(text, "attainment = ", offset=13))
    assert "bookings" in found and not {"attainment", "pace"} & set(found)
    found = complete(client, uri, position_of(text, "pace = ", offset=7))
    assert {"bookings", "attainment"} <= set(found) and "pace" not in found
    assert found["attainment"]["kind"] == 6  # CompletionItemKind.Variable
    # As it is typed (the block no longer parses): the same.
    typed = text.replace("measure pace = attainment * 2", "measure pace = bookings + pa")
    client.notify("textDocument/didChange", {"textDocument": {"uri": uri, "version": 2},
                                             "contentChanges": [{"text": typed}]})
    client.diagnostics(uri)
    found = complete(client, uri, position_of(typed, "+ pa", offset=4))
    assert "attainment" in found and "pace" not in found


def _edit(item: dict) -> tuple:
    edit = item["textEdit"]
    if "range" in edit:
        r = edit["range"]
        return (edit["newText"], r["start"]["line"], r["start"]["character"],
                r["end"]["character"])
    return (edit["newText"], edit["insert"]["start"]["character"],
            edit["insert"]["end"]["character"], edit["replace"]["end"]["character"])


def test_completion_items_replace_the_word_being_typed(client):
    # Each item carries a kind and an edit over the word typed so far: accepting `bookings`
    # after `on boo` gives `on bookings`, not `on boobookings`.
    text = PLAN.read_text("utf-8")
    uri = open_doc(client, "edits.plan", text)
    client.diagnostics(uri)
    at = position_of(text, "  on bookings", offset=len("  on boo"))
    found = complete(client, uri, at)
    assert _edit(found["bookings"]) == ("bookings", at["line"], 5, 8)
    assert found["bookings"]["kind"] == 6  # Variable
    # Nothing typed yet: an empty range at the cursor.
    at = position_of(text, "  on bookings", offset=len("  on "))
    assert _edit(complete(client, uri, at)["bookings"]) == ("bookings", at["line"], 5, 5)
    # A keyword at a line's start, half typed.
    at = position_of(text, "  on bookings", offset=3)
    item = complete(client, uri, at)["rate"]
    assert _edit(item) == ("rate", at["line"], 2, 3) and item["kind"] == 14  # Keyword
    # A field: the part after the dot.
    at = position_of(text, "deal.type is", offset=len("deal.ty"))
    item = complete(client, uri, at)["type"]
    assert _edit(item)[2:] == (at["character"] - 2, at["character"]) and item["kind"] == 5
    # Right after a word that is not a name (a year, a date), nothing typed: the next word is
    # written after a space, not glued to it (`2027is`).
    text = text.replace("for ana in 2027-Q1 is 21,000", "for ana in 2027 is 21,000")
    uri = open_doc(client, "glued.plan", text)
    client.diagnostics(uri)
    for line, word in (("for ana in 2027 is", "is"), ("effective 2027-01-01 to", "to")):
        at = position_of(text, line, offset=len(line) - len(word) - 1)
        assert _edit(complete(client, uri, at)[word]) == (
            f" {word}", at["line"], at["character"], at["character"])
        # After the space, the word alone.
        at = position_of(text, line, offset=len(line) - len(word))
        assert _edit(complete(client, uri, at)[word])[0] == word


def test_completion_edits_insert_or_replace_for_clients_that_choose():
    # A client that supports insert-and-replace edits gets both ranges: up to the cursor, and
    # over the whole word under it.
    c = Client()
    c.request("initialize", {"processId": None, "rootUri": ROOT.as_uri(), "capabilities": {
        "textDocument": {"completion": {"completionItem": {"insertReplaceSupport": True}}}}})
    c.notify("initialized", {})
    try:
        text = PLAN.read_text("utf-8")
        uri = open_doc(c, "replace.plan", text)
        c.diagnostics(uri)
        found = complete(c, uri, position_of(text, "  on bookings", offset=len("  on boo")))
        assert _edit(found["bookings"]) == ("bookings", 5, 8, 13)
    finally:
        assert c.close() == 0


def test_completion_and_formatting_never_fail(client):
    # Every line of a broken file, at its start, middle, end and past it, and lines past the
    # end: completion answers (maybe nothing), never with an error response.
    text = BROKEN.replace("  rate 8%", "  rate at 8%\n    \tfrom\n  \"open") + "\n  # x"
    uri = open_doc(client, "robust.plan", text)
    client.diagnostics(uri)
    lines = text.split("\n")
    for line, body in enumerate(lines + ["", ""]):
        for character in sorted({0, len(body) // 2, len(body), len(body) + 5, 10_000}):
            complete(client, uri, {"line": line, "character": character})
    assert format_request(client, uri) == []
    empty = open_doc(client, "empty.plan", "")
    client.diagnostics(empty)
    assert "plan" in complete(client, empty, {"line": 0, "character": 0})
    assert format_request(client, empty) == []
    # An open range, or one running past the years a plan may use (the checker's error):
    # a few years of periods at most, never thousands.
    for effective in ("2999-01-01 to 2999-12-31", "2027-01-01 to 3000-01-01", "from 2999-06-01"):
        text = PLAN.read_text("utf-8").replace("2027-01-01 to 2027-12-31", effective, 1)
        far = open_doc(client, "far.plan", text)
        client.diagnostics(far)
        found = complete(client, far, position_of(text, "for ana in 2027-Q1", offset=11))
        assert len(found) < 100 and ("2999-Q4" in found or "2027-Q1" in found), sorted(found)
    # A byte-order mark the editor kept counts in its positions, not in the code.
    text = "\ufeff" + PLAN.read_text("utf-8")
    bom = open_doc(client, "bom.plan", text)
    client.diagnostics(bom)
    assert set(complete(client, bom, position_of(text, "  on bookings", offset=5))) == \
        {"bookings"}


def test_without_pygls_the_command_says_how_to_install(monkeypatch, capsys):
    # As when the extra is missing: importing pygls fails.
    monkeypatch.setitem(sys.modules, "pygls", None)
    monkeypatch.delitem(sys.modules, "incentive_dsl.editor.lsp", raising=False)
    assert main(["lsp"]) == 2
    assert "pip install 'incentive-dsl[lsp]'" in capsys.readouterr().err
