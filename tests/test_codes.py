"""The diagnostic code registry (incentive_dsl/codes.py) and docs/diagnostics.md.

Every code the package can emit has an entry; the document is generated from the registry and
must not go stale. (That every entry is shown by a golden file is checked in
tests/test_golden_check.py.)
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from incentive_dsl import codes

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "incentive_dsl"
DOC = ROOT / "docs" / "diagnostics.md"
CODE_LITERAL = re.compile(r"""["']([EW]-[A-Z]+(?:-[A-Z]+)*)["']""")


def emitted_codes() -> dict[str, set[str]]:
    """Code -> the package files (relative to incentive_dsl/) whose source names it."""
    found: dict[str, set[str]] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        if path.name == "codes.py" and path.parent == PACKAGE:
            continue
        for code in CODE_LITERAL.findall(path.read_text(encoding="utf-8")):
            found.setdefault(code, set()).add(path.relative_to(PACKAGE).as_posix())
    return found


def test_every_emitted_code_is_registered():
    missing = sorted(set(emitted_codes()) - set(codes.CODES))
    assert not missing, (f"add an entry to incentive_dsl/codes.py for {', '.join(missing)} "
                         "(and a golden case), then refresh docs/diagnostics.md")


def test_every_registered_code_is_emitted():
    stale = sorted(set(codes.CODES) - set(emitted_codes()))
    assert not stale, f"no code emits {', '.join(stale)} any more: remove its entry"


def test_run_time_codes_come_from_the_run():
    """Codes of the data layer are the only ones without a golden plan; they must really be
    found while running plans on data, not by parsing or checking."""
    where = emitted_codes()
    for e in codes.CODES.values():
        if e.layer == codes.DATA:
            assert all(f.startswith(("eval/", "data/")) for f in where[e.code]), e.code


@pytest.mark.parametrize("entry", codes.CODES.values(), ids=lambda e: e.code)
def test_entry_is_complete(entry: codes.Code):
    assert re.fullmatch(r"[EW]-[A-Z]+(-[A-Z]+)*", entry.code)
    assert entry.layer in codes.LAYERS
    assert entry.title and len(entry.title) <= 70 and entry.title == entry.title.strip()
    assert not entry.title.endswith("."), "titles are phrases, without a full stop"
    assert len(entry.explanation) >= 80 and entry.explanation.endswith(".")
    assert entry.bad.strip() and entry.fixed.strip() and entry.bad != entry.fixed
    assert "\t" not in entry.fixed, "the fixed example is laid out as `incentive fmt` would"
    assert (entry.severity == "warning") == entry.code.startswith("W-")


def test_lookup_and_suggest():
    assert codes.lookup(" e-tier-gap ") is codes.CODES["E-TIER-GAP"]
    assert codes.lookup("E-NOPE") is None
    assert codes.suggest("E-TIER-GAPS") == "E-TIER-GAP"
    assert codes.suggest("xyzzy") is None


def test_docs_are_generated_from_the_registry():
    text = codes.render_markdown()
    assert DOC.read_text(encoding="utf-8") == text, (
        "docs/diagnostics.md is stale; refresh it with: "
        "python -m incentive_dsl.codes > docs/diagnostics.md")


def test_docs_cover_every_code_and_the_format():
    text = codes.render_markdown()
    for code in codes.CODES:
        assert f"\n### {code}\n" in text
        assert f"](#{codes.anchor(code)})" in text
    assert "python -m incentive_dsl.codes > docs/diagnostics.md" in text
    assert "PATH:LINE:COLUMN: SEVERITY[CODE]: MESSAGE" in text
    for exit_code in ("`0`", "`1`", "`2`", "`3`"):
        assert f"| {exit_code} |" in text


# ------------------------------------------------------------------ the examples are right

CONTEXT_HEADER = """plan "Enterprise AE 2027"
  currency USD
  effective 2027-01-01 to 2027-12-31
  roles AE, SE
"""
# Declarations the fragments may use; each is added unless the fragment declares it itself.
CONTEXT_BLOCKS = {
    "fields": "fields\n  deal.product text\n",
    "quota bookings": 'quota bookings "Bookings quota"\n  250,000 USD per quarter\n',
    "credit bookings": 'credit bookings "New-business bookings"\n  on deal booked\n'
                       "  split as recorded\n",
    "measure attainment": "measure attainment = bookings / quota bookings\n",
    "commission core": 'commission core "Core commission"\n  on bookings\n'
                       "  marginal rates by attainment per quarter\n"
                       "    from 0% to 100% at 8%\n    from 100% at 12%\n",
}
# Fragments that are not plan text, or not one file (file, data and versions layers aside).
NOT_A_FRAGMENT = {"E-DEPTH"}  # its wrong example stands for 101 levels of parentheses


def in_context(fragment: str) -> str:
    """A whole plan file around a fragment: the header (unless the fragment starts with its
    own) and the declarations it does not make itself."""
    if fragment.startswith("plan "):
        header, _, rest = fragment.partition("\n\n")
        if "\n  roles " not in header:
            header += "\n  roles AE, SE"
        header += "\n"
    else:
        header, rest = CONTEXT_HEADER, fragment
    blocks = [b for key, b in CONTEXT_BLOCKS.items()
              if not re.search(rf"^{key}\b", fragment, re.M)]
    return "\n".join([header, *blocks, rest, ""])


def codes_found(text: str) -> set[str]:
    from incentive_dsl.check import check_trees
    from incentive_dsl.syntax import parse_text

    parsed = parse_text("fragment.plan", text)
    if any(d.is_error for d in parsed.diagnostics):
        return {d.code for d in parsed.diagnostics}
    _, found = check_trees([(parsed.tree, text)])
    return {d.code for d in found}


@pytest.mark.parametrize(
    "entry", [e for e in codes.CODES.values()
              if e.layer in (codes.SYNTAX, codes.CHECK) and e.code not in NOT_A_FRAGMENT],
    ids=lambda e: e.code)
def test_examples_show_their_code(entry: codes.Code):
    """In a small plan around it, the wrong fragment gets the code; the fixed one gets neither
    it nor any error."""
    bad = entry.bad + "\n" if entry.code == "E-PLAN" else in_context(entry.bad)
    assert entry.code in codes_found(bad), bad
    found = codes_found(in_context(entry.fixed))
    assert entry.code not in found and not any(c.startswith("E-") for c in found), found
