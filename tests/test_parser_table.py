"""The compiled parser ships as JSON data (incentive_dsl/syntax/table.py): no pickle is ever
loaded, nothing is read from a cache directory, and the table is the grammar's."""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
from pathlib import Path

from lark import Lark

from incentive_dsl.syntax import table
from incentive_dsl.syntax.parser import _grammar, grammar_text

ROOT = Path(__file__).resolve().parents[1]


def test_the_shipped_table_is_the_grammars():
    shipped = table._shipped()
    assert shipped is not None and shipped["key"] == table.table_key(grammar_text()), (
        "incentive_dsl/syntax/parser_table.json is stale: regenerate it with "
        'python -c "from incentive_dsl.syntax.table import write_table; write_table()"')
    assert _grammar().lark.source_path == "<deserialized>"  # loaded, not built


def test_a_stale_table_is_not_used(monkeypatch):
    monkeypatch.setattr(table, "table_key", lambda grammar: "another grammar")
    parser = table.load_parser(grammar_text())
    assert isinstance(parser, Lark) and parser.source_path != "<deserialized>"


def test_table_and_grammar_parse_alike(monkeypatch):
    """The shipped plans and the syntax golden corpus (syntax errors included) give the same
    trees and diagnostics with a parser built from the grammar."""
    from incentive_dsl.syntax import parser

    files = sorted(ROOT.glob("plans/*.plan")) + sorted(ROOT.glob("tests/golden/syntax/*.plan"))
    assert len(files) > 10
    loaded = [parser.parse_path(str(f)) for f in files]
    built = parser._Grammar()
    monkeypatch.setattr(table, "_shipped", lambda: None)
    fresh = parser._Grammar()
    assert fresh.lark.source_path != "<deserialized>"
    assert fresh.keyword_text == built.keyword_text
    monkeypatch.setattr(parser, "_grammar", lambda: fresh)
    again = [parser.parse_path(str(f)) for f in files]
    for f, a, b in zip(files, loaded, again):
        assert (a.tree, a.diagnostics) == (b.tree, b.diagnostics), f


class Marker:
    """Unpickling this would run code: it creates the file named."""

    def __init__(self, path: str) -> None:
        self.path = path

    def __reduce__(self):
        return (os.system, (f"touch {self.path}",))


def test_a_planted_cache_runs_no_code(tmp_path):
    """Whoever can write the cache directory must not run code in `incentive check`."""
    marker = tmp_path / "pwned"
    cache = tmp_path / "cache" / "incentive-dsl"
    cache.mkdir(parents=True)
    payload = pickle.dumps(Marker(str(marker)))
    for name in ("grammar.lark-cache", "grammar.json"):
        (cache / name).write_bytes(b"0" * 64 + b"\n" + payload)
    plan = tmp_path / "t.plan"
    plan.write_text('plan "T"\n  currency USD\n  effective 2027-01-01 to 2027-12-31\n',
                    encoding="utf-8")
    env = dict(os.environ, XDG_CACHE_HOME=str(tmp_path / "cache"), HOME=str(tmp_path),
               PYTHONPATH=str(ROOT))
    done = subprocess.run([sys.executable, "-m", "incentive_dsl.cli", "check", str(plan)],
                          env=env, capture_output=True, text=True, timeout=120)
    # the plan is clean (one warning: no worked example): parsed as without the cache
    assert done.returncode == 0, done.stderr
    assert done.stdout == "1 plan file(s) checked: no errors\n", done.stdout
    assert "warning[W-NO-EXAMPLE]" in done.stderr and "error[" not in done.stderr
    assert not marker.exists()
    assert sorted(p.name for p in cache.iterdir()) == ["grammar.json", "grammar.lark-cache"]
